//! A two-member Patroni cluster on loopback ports, in a temporary folder: one etcd, two Patroni
//! processes, each managing a PostgreSQL of its own (as the `postgres` user when the tests run as
//! root). Dropping it stops everything it started, by process id, and removes the folder.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::cluster::{encode, free_port};

const PATRONI: &str = "/usr/bin/patroni";
const ETCD: &str = "/usr/bin/etcd";
const SERVER_USER: &str = "postgres";
/// How long the cluster may take to bootstrap, or to elect a leader after a failover.
const SETTLE: Duration = Duration::from_secs(60);

/// Whether Patroni and etcd are installed, and a PostgreSQL server for Patroni to run.
pub fn probe() -> Result<(), String> {
    for program in [PATRONI, ETCD] {
        if !Path::new(program).exists() {
            return Err(format!(
                "{program} is not installed (Debian: apt-get install patroni etcd-server)"
            ));
        }
    }
    postgres_bin_dir().map(|_| ())
}

/// The newest /usr/lib/postgresql/N/bin with `pg_ctl`.
fn postgres_bin_dir() -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("no /usr/lib/postgresql: {e}"))?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop()
        .ok_or_else(|| "no PostgreSQL server in /usr/lib/postgresql/*/bin".to_owned())
}

/// `(uid, gid)` of the server user when running as root: Patroni and PostgreSQL refuse root.
fn server_ids() -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    if id("-u")? != 0 {
        return None;
    }
    let ids = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, SERVER_USER]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((ids("-u")?, ids("-g")?))
}

struct Member {
    name: String,
    port: u16,
    rest_port: u16,
    config: PathBuf,
    process: Option<Child>,
}

pub struct PatroniCluster {
    members: Vec<Member>,
    etcd: Option<Child>,
    ids: Option<(u32, u32)>,
    password: String,
    dir: TempDir,
}

impl PatroniCluster {
    /// Starts etcd and two members, and waits until one leads and the other streams from it.
    pub fn start() -> PatroniCluster {
        let bin_dir = postgres_bin_dir().unwrap_or_else(|why| panic!("{why}"));
        let dir = tempfile::Builder::new()
            .prefix("facedb-patroni-")
            .tempdir()
            .expect("temp dir for Patroni");
        let root = dir.path().to_path_buf();
        let password = format!("patroni-{}-Pw!", std::process::id());
        super::secrets::register(&password);
        let (etcd_port, peer_port) = (free_port(), free_port());
        let members: Vec<Member> = (1..=2)
            .map(|n| {
                let (port, rest_port) = (free_port(), free_port());
                let name = format!("member{n}");
                let config = root.join(format!("{name}.yml"));
                let yaml = format!(
                    "scope: facedb-test\nname: {name}\n\
                     restapi: {{listen: '127.0.0.1:{rest_port}', connect_address: '127.0.0.1:{rest_port}'}}\n\
                     etcd3: {{host: '127.0.0.1:{etcd_port}'}}\n\
                     bootstrap:\n  dcs: {{ttl: 10, loop_wait: 1, retry_timeout: 4, maximum_lag_on_failover: 104857600}}\n  \
                     initdb: [{{encoding: UTF8}}, {{locale: C}}]\n  \
                     pg_hba: ['local all all trust', 'host replication replicator 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 scram-sha-256']\n\
                     postgresql:\n  listen: '127.0.0.1:{port}'\n  connect_address: '127.0.0.1:{port}'\n  \
                     data_dir: '{data}'\n  bin_dir: '{bin}'\n  pgpass: '{pgpass}'\n  \
                     authentication:\n    superuser: {{username: postgres, password: '{password}'}}\n    \
                     replication: {{username: replicator, password: '{password}'}}\n  \
                     parameters: {{unix_socket_directories: '{root}', fsync: 'off', shared_buffers: 16MB, max_connections: 30}}\n",
                    data = root.join(format!("{name}-data")).display(),
                    bin = bin_dir.display(),
                    pgpass = root.join(format!("{name}.pgpass")).display(),
                    root = root.display(),
                );
                std::fs::write(&config, yaml).expect("write the Patroni configuration");
                Member {
                    name,
                    port,
                    rest_port,
                    config,
                    process: None,
                }
            })
            .collect();
        let ids = server_ids();
        if let Some((uid, gid)) = ids {
            let status = Command::new("chown")
                .arg("-R")
                .arg(format!("{uid}:{gid}"))
                .arg(&root)
                .status()
                .expect("run chown");
            assert!(status.success(), "chown the Patroni folder");
        }
        let mut cluster = PatroniCluster {
            members,
            etcd: None,
            ids,
            password,
            dir,
        };
        let etcd_log = root.join("etcd.log");
        let mut etcd = cluster.command(ETCD, &etcd_log);
        etcd.args([
            "--name",
            "etcd",
            "--data-dir",
            &root.join("etcd").display().to_string(),
            "--listen-client-urls",
            &format!("http://127.0.0.1:{etcd_port}"),
            "--advertise-client-urls",
            &format!("http://127.0.0.1:{etcd_port}"),
            "--listen-peer-urls",
            &format!("http://127.0.0.1:{peer_port}"),
            "--initial-advertise-peer-urls",
            &format!("http://127.0.0.1:{peer_port}"),
            "--initial-cluster",
            &format!("etcd=http://127.0.0.1:{peer_port}"),
        ]);
        cluster.etcd = Some(etcd.spawn().expect("start etcd"));
        for i in 0..cluster.members.len() {
            cluster.start_member(i);
        }
        cluster.wait_until_settled("the cluster never bootstrapped");
        cluster
    }

    /// `program`, as the server user when running as root, its output appended to `log`.
    fn command(&self, program: &str, log: &Path) -> Command {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open a log");
        let err = out.try_clone().expect("clone the log");
        let mut cmd = Command::new(program);
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        for var in ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"] {
            cmd.env_remove(var);
        }
        if let Some((uid, gid)) = self.ids {
            cmd.uid(uid).gid(gid).env("HOME", self.dir.path());
        }
        cmd
    }

    fn start_member(&mut self, i: usize) {
        let log = self
            .dir
            .path()
            .join(format!("{}.log", self.members[i].name));
        let mut cmd = self.command(PATRONI, &log);
        cmd.arg(&self.members[i].config);
        self.members[i].process = Some(cmd.spawn().expect("start Patroni"));
    }

    /// What Patroni's REST API says of the cluster: `(name, role, state, lag)` per member.
    fn members_state(&self) -> Vec<(String, String, String, Option<i64>)> {
        for member in &self.members {
            let Ok(body) = http(member.rest_port, "GET", "/cluster", "") else {
                continue;
            };
            let Ok(doc) = serde_json::from_str::<serde_json::Value>(&body) else {
                continue;
            };
            return doc["members"]
                .as_array()
                .map(|members| {
                    members
                        .iter()
                        .map(|m| {
                            let text = |key: &str| m[key].as_str().unwrap_or_default().to_owned();
                            (text("name"), text("role"), text("state"), m["lag"].as_i64())
                        })
                        .collect()
                })
                .unwrap_or_default();
        }
        Vec::new()
    }

    /// Waits until one member leads and every other running member streams with no lag.
    fn wait_until_settled(&self, what: &str) {
        let started = Instant::now();
        loop {
            let state = self.members_state();
            let leaders = state
                .iter()
                .filter(|(_, role, s, _)| role == "leader" && s == "running")
                .count();
            let replicas_ok = state
                .iter()
                .filter(|(_, role, _, _)| role != "leader")
                .all(|(_, _, s, lag)| s == "running" && *lag == Some(0));
            if leaders == 1 && replicas_ok && state.len() == self.running() {
                return;
            }
            assert!(
                started.elapsed() < SETTLE,
                "{what}: {state:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn running(&self) -> usize {
        self.members.iter().filter(|m| m.process.is_some()).count()
    }

    fn logs(&self) -> String {
        self.members
            .iter()
            .map(|m| {
                let log = std::fs::read_to_string(self.dir.path().join(format!("{}.log", m.name)))
                    .unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                format!(
                    "--- {}\n{}",
                    m.name,
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The member that leads now, by index.
    pub fn leader(&self) -> usize {
        let state = self.members_state();
        let name = state
            .iter()
            .find(|(_, role, _, _)| role == "leader")
            .map(|(name, ..)| name.clone())
            .expect("a leader");
        self.members
            .iter()
            .position(|m| m.name == name)
            .expect("a known member")
    }

    /// `postgres://postgres:PW@127.0.0.1:P1,127.0.0.1:P2/dbname?QUERY`: every member.
    pub fn url(&self, dbname: &str, query: &str) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect();
        format!(
            "postgres://postgres:{}@{}/{dbname}{query}",
            encode(&self.password),
            hosts.join(",")
        )
    }

    /// A superuser connection to `dbname` on member `i`.
    pub fn connect(&self, i: usize, dbname: &str) -> super::Conn {
        use diesel::Connection;
        let url = format!(
            "postgres://postgres:{}@127.0.0.1:{}/{dbname}",
            encode(&self.password),
            self.members[i].port
        );
        match diesel::PgConnection::establish(&url) {
            Ok(conn) => super::Conn::Postgres(conn),
            Err(e) => panic!("cannot connect to Patroni member {i}: {e}"),
        }
    }

    /// A planned switchover to the other member, through the leader's REST API; returns at once.
    pub fn switchover(&self) {
        let leader = self.leader();
        let candidate = 1 - leader;
        let body = format!(
            "{{\"leader\": \"{}\", \"candidate\": \"{}\"}}",
            self.members[leader].name, self.members[candidate].name
        );
        let rest_port = self.members[leader].rest_port;
        std::thread::spawn(move || {
            let _ = http(rest_port, "POST", "/switchover", &body);
        });
    }

    /// A failover: the leader's Patroni is killed and its PostgreSQL stopped as in a crash; the
    /// other member takes over once the leader key expires (`ttl`).
    pub fn kill_leader(&mut self) {
        let leader = self.leader();
        if let Some(mut process) = self.members[leader].process.take() {
            let _ = process.kill();
            let _ = process.wait();
        }
        let pidfile = self
            .dir
            .path()
            .join(format!("{}-data", self.members[leader].name))
            .join("postmaster.pid");
        quit_postmaster(&pidfile);
    }

    /// Waits until one member leads and the others stream from it with no lag: a failover then
    /// has a member to promote.
    pub fn wait_settled(&self) {
        self.wait_until_settled("the cluster did not settle");
    }

    /// Waits until a member leads and runs.
    pub fn wait_for_leader(&self) {
        let started = Instant::now();
        while !self
            .members_state()
            .iter()
            .any(|(_, role, state, _)| role == "leader" && state == "running")
        {
            assert!(
                started.elapsed() < SETTLE,
                "no leader was elected\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for PatroniCluster {
    fn drop(&mut self) {
        // Patroni stops its PostgreSQL on SIGTERM (fast shutdown); then etcd goes.
        for member in &mut self.members {
            if let Some(process) = &member.process {
                let _ = Command::new("kill")
                    .args(["-TERM", &process.id().to_string()])
                    .status();
            }
        }
        for member in &mut self.members {
            if let Some(mut process) = member.process.take() {
                let started = Instant::now();
                while matches!(process.try_wait(), Ok(None)) {
                    if started.elapsed() > Duration::from_secs(20) {
                        let _ = process.kill();
                        let _ = process.wait();
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
        // A member killed without Patroni leaves its server behind: stop it as in a crash.
        for member in &self.members {
            let pidfile = self
                .dir
                .path()
                .join(format!("{}-data", member.name))
                .join("postmaster.pid");
            quit_postmaster(&pidfile);
        }
        if let Some(mut etcd) = self.etcd.take() {
            let _ = etcd.kill();
            let _ = etcd.wait();
        }
    }
}

/// Stops the PostgreSQL whose `postmaster.pid` is `pidfile` as in a crash (SIGQUIT, its
/// immediate shutdown), if that process is still a postgres.
fn quit_postmaster(pidfile: &Path) {
    let Some(pid) = std::fs::read_to_string(pidfile)
        .ok()
        .and_then(|text| text.lines().next().map(|l| l.trim().to_owned()))
    else {
        return;
    };
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if comm.trim() == "postgres" {
        let _ = Command::new("kill").args(["-QUIT", &pid]).status();
    }
}

/// One HTTP/1.0 request to 127.0.0.1:`port`; the response's body.
fn http(port: u16, method: &str, path: &str, body: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    Ok(response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default())
}
