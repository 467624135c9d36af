//! A private PostgreSQL cluster for tests that need password authentication.
//!
//! The shared test server trusts every local connection, so it cannot tell a right password from a
//! wrong one. `PrivateCluster::start` runs `initdb` with SCRAM authentication in a temporary folder
//! and starts a server on a free port of 127.0.0.1; dropping the guard stops the server and removes
//! the folder. As root (where `initdb` and `pg_ctl` refuse to run) both run as the `postgres` user.
//!
//! The harness runs a test that starts one only when [`probe_cluster`] found the programs (and
//! [`probe_standby`], [`probe_pgbouncer`] for the topologies below).
//!
//! Production topologies: `standby` makes a streaming standby of a cluster (`pg_basebackup -R`),
//! `promote` turns it into a primary, and `Pooler` runs PgBouncer in transaction pooling in front
//! of one.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use tempfile::TempDir;

use super::Conn;

/// The user the server runs as when the tests run as root.
const SERVER_USER: &str = "postgres";
const INITDB_TIMEOUT: Duration = Duration::from_secs(120);
const PG_CTL_TIMEOUT: Duration = Duration::from_secs(60);

static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

/// The PostgreSQL programs, and how to run them.
#[derive(Debug, Clone)]
struct Tools {
    initdb: PathBuf,
    pg_ctl: PathBuf,
    /// `Some(user)` when running as root: the programs run as that user through `runuser`.
    run_as: Option<String>,
}

pub struct PrivateCluster {
    tools: Tools,
    port: u16,
    superuser_password: String,
    /// Removed last, after the server has stopped (fields drop after `Drop::drop`).
    dir: TempDir,
    running: bool,
}

/// Percent-encodes a URL component: every byte but ASCII letters and digits.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
}

/// `'text'` as a SQL string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `"name"` as a SQL identifier.
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A TCP port of 127.0.0.1 on which nothing listens (at the moment of asking).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Whether private clusters can be started: `initdb` and `pg_ctl`, and a user to run them as.
pub fn probe_cluster() -> Result<(), String> {
    Tools::find().map(|_| ())
}

/// Whether a standby can be made: `pg_basebackup` beside `initdb`.
pub fn probe_standby() -> Result<(), String> {
    let basebackup = Tools::find()?.basebackup();
    if is_executable(&basebackup) {
        Ok(())
    } else {
        Err(format!("{} is not installed", basebackup.display()))
    }
}

/// Whether PgBouncer is installed.
pub fn probe_pgbouncer() -> Result<(), String> {
    pgbouncer_program().map(|_| ())
}

const PGBOUNCER_PATHS: [&str; 2] = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"];

/// The `pgbouncer` program (Debian puts it in /usr/sbin).
pub fn pgbouncer_program() -> Result<PathBuf, String> {
    PGBOUNCER_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| is_executable(p))
        .ok_or_else(|| {
            format!(
                "pgbouncer is not in {} (Debian: apt-get install pgbouncer)",
                PGBOUNCER_PATHS.join(" nor ")
            )
        })
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `initdb` and `pg_ctl` from one folder: the first on PATH, else the newest /usr/lib/postgresql/N/bin.
fn find_tools() -> Option<(PathBuf, PathBuf)> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort_by(|a, b| b.cmp(a));
        dirs.extend(versions);
    }
    dirs.into_iter().find_map(|dir| {
        let initdb = dir.join("initdb");
        let pg_ctl = dir.join("pg_ctl");
        (is_executable(&initdb) && is_executable(&pg_ctl)).then(|| {
            // Resolve symbolic links so that the programs find their siblings (postgres).
            let real = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
            (real(initdb), real(pg_ctl))
        })
    })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn have_runuser() -> bool {
    Command::new("runuser")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Single-quotes a word for `sh`.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Makes `root` private to the user the server programs run as.
fn own_folder(tools: &Tools, root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))
        .expect("chmod the cluster folder");
    if let Some(user) = &tools.run_as {
        let status = Command::new("chown")
            .arg("-R")
            .arg(format!("{user}:{user}"))
            .arg(root)
            .status()
            .expect("run chown");
        assert!(
            status.success(),
            "chown -R {user} {} failed",
            root.display()
        );
    }
}

impl Tools {
    /// `pg_basebackup`, from the same installation as `initdb`.
    fn basebackup(&self) -> PathBuf {
        self.initdb.with_file_name("pg_basebackup")
    }

    fn find() -> Result<Tools, String> {
        let (initdb, pg_ctl) = find_tools().ok_or_else(|| {
            "initdb and pg_ctl are not on PATH nor in /usr/lib/postgresql/*/bin".to_owned()
        })?;
        let run_as = if running_as_root() {
            if !user_exists(SERVER_USER) {
                return Err(format!(
                    "running as root, and there is no '{SERVER_USER}' user to run initdb and pg_ctl as"
                ));
            }
            Some(SERVER_USER.to_owned())
        } else {
            None
        };
        Ok(Tools {
            initdb,
            pg_ctl,
            run_as,
        })
    }

    /// `program ARGS`, as the server user when running as root.
    fn command(&self, program: &Path, args: &[String]) -> Command {
        let mut cmd = match &self.run_as {
            None => {
                let mut cmd = Command::new(program);
                cmd.args(args);
                cmd
            }
            Some(user) if have_runuser() => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--"]).arg(program).args(args);
                cmd
            }
            Some(user) => {
                let line = std::iter::once(program.display().to_string())
                    .chain(args.iter().cloned())
                    .map(|w| shell_quote(&w))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut cmd = Command::new("su");
                cmd.args([user.as_str(), "-s", "/bin/sh", "-c", &line]);
                cmd
            }
        };
        for var in [
            "PGDATA",
            "PGHOST",
            "PGPORT",
            "PGUSER",
            "PGPASSWORD",
            "PGDATABASE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        cmd
    }
}

/// Runs `cmd` with its output in `log` (a file, not a pipe: `pg_ctl start` leaves a server behind
/// that would hold a pipe open), killing it after `timeout`. `Err` holds what it printed.
fn run_logged(mut cmd: Command, log: &Path, timeout: Duration) -> Result<String, String> {
    let describe = format!("{cmd:?}");
    let out = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot run {describe}: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => break Err(e.to_string()),
        }
    };
    let printed = std::fs::read_to_string(log).unwrap_or_default();
    match status {
        Ok(status) if status.success() => Ok(printed),
        Ok(status) => Err(format!("{describe} failed ({status}):\n{printed}")),
        Err(why) => Err(format!("{describe}: {why}\n{printed}")),
    }
}

impl PrivateCluster {
    /// Creates and starts a new cluster.
    pub fn start() -> PrivateCluster {
        let tools = Tools::find()
            .unwrap_or_else(|why| panic!("cannot start a private PostgreSQL cluster: {why}"));
        let dir = tempfile::Builder::new()
            .prefix("facedb-pg-")
            .tempdir()
            .expect("temp dir for a private cluster");
        let superuser_password = format!(
            "su-{}-{}-Pw!",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::SeqCst)
        );
        super::secrets::register(&superuser_password);
        let mut cluster = PrivateCluster {
            tools,
            port: 0,
            superuser_password,
            dir,
            running: false,
        };
        cluster.init_data_dir();
        // The port may be taken between choosing it and the server binding it: try a few.
        let mut last_error = String::new();
        for _ in 0..3 {
            cluster.port = free_port();
            match cluster.pg_ctl_start() {
                Ok(()) => return cluster,
                Err(e) => last_error = e,
            }
        }
        panic!(
            "cannot start a private PostgreSQL cluster in {}:\n{last_error}\nserver log:\n{}",
            cluster.dir.path().display(),
            cluster.server_log()
        );
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn server_log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.server_log_path()).unwrap_or_default()
    }

    fn init_data_dir(&self) {
        let root = self.dir.path();
        let pwfile = root.join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", self.superuser_password))
            .expect("write the password file");
        own_folder(&self.tools, root);
        let args = vec![
            "-D".to_owned(),
            self.data_dir().display().to_string(),
            "--auth=scram-sha-256".to_owned(),
            "--username=postgres".to_owned(),
            format!("--pwfile={}", pwfile.display()),
            "-E".to_owned(),
            "UTF8".to_owned(),
            "--locale=C".to_owned(),
            // No fsync: the cluster is thrown away, and initdb is much faster without it.
            "--no-sync".to_owned(),
        ];
        let mut cmd = self.tools.command(&self.tools.initdb, &args);
        cmd.current_dir(root);
        if let Err(e) = run_logged(cmd, &root.join("initdb.log"), INITDB_TIMEOUT) {
            panic!("initdb failed for a private PostgreSQL cluster:\n{e}");
        }
        let _ = std::fs::remove_file(pwfile);
    }

    fn pg_ctl(&self, args: &[&str], timeout: Duration) -> Result<String, String> {
        let mut all = vec!["-D".to_owned(), self.data_dir().display().to_string()];
        all.extend(args.iter().map(|a| a.to_string()));
        let mut cmd = self.tools.command(&self.tools.pg_ctl, &all);
        cmd.current_dir(self.dir.path());
        run_logged(cmd, &self.dir.path().join("pg_ctl.log"), timeout)
    }

    fn pg_ctl_start(&mut self) -> Result<(), String> {
        // pg_ctl hands -o to a shell: quote the socket folder.
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c max_connections=30",
            self.port,
            shell_quote(&self.dir.path().display().to_string())
        );
        let log = self.server_log_path().display().to_string();
        self.pg_ctl(
            &["-o", &options, "-l", &log, "-w", "-t", "30", "start"],
            PG_CTL_TIMEOUT,
        )?;
        self.running = true;
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn superuser_password(&self) -> &str {
        &self.superuser_password
    }

    /// Puts `line` first in `pg_hba.conf` (or takes it out again) and reloads the server.
    pub fn hba_first(&self, line: &str, present: bool) {
        let path = self.data_dir().join("pg_hba.conf");
        let hba = std::fs::read_to_string(&path).expect("read pg_hba.conf");
        let rest: String = hba
            .lines()
            .filter(|l| *l != line)
            .map(|l| format!("{l}\n"))
            .collect();
        let hba = if present {
            format!("{line}\n{rest}")
        } else {
            rest
        };
        std::fs::write(&path, hba).expect("write pg_hba.conf");
        self.exec("SELECT pg_reload_conf()");
    }

    /// The folder of the server's Unix socket.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// `postgres://user:password@127.0.0.1:PORT/dbname`, each part percent-encoded.
    pub fn url(&self, user: &str, password: &str, dbname: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{}",
            encode(user),
            encode(password),
            self.port,
            encode(dbname)
        )
    }

    /// The superuser's URL for `dbname`.
    pub fn superuser_url(&self, dbname: &str) -> String {
        self.url("postgres", &self.superuser_password, dbname)
    }

    /// A superuser connection to `dbname`.
    pub fn connect(&self, dbname: &str) -> Conn {
        let url = self.superuser_url(dbname);
        match PgConnection::establish(&url) {
            Ok(conn) => Conn::Postgres(conn),
            Err(e) => panic!(
                "cannot connect to the private cluster's database {dbname:?} as the superuser: {e}"
            ),
        }
    }

    /// Runs SQL statements as the superuser in the `postgres` database.
    pub fn exec(&self, sql: &str) {
        self.connect("postgres").exec(sql)
    }

    /// Creates a role with `password` and `options` (e.g. `LOGIN CREATEDB`).
    pub fn create_role(&self, name: &str, password: &str, options: &str) {
        let sql = format!(
            "CREATE ROLE {} WITH {options} PASSWORD {}",
            quote_ident(name),
            quote_literal(password)
        );
        let mut conn =
            PgConnection::establish(&self.superuser_url("postgres")).unwrap_or_else(|e| {
                panic!("cannot connect to the private cluster as the superuser: {e}")
            });
        if let Err(e) = diesel::sql_query(sql).execute(&mut conn) {
            panic!("cannot create role {name:?}: {e}");
        }
    }

    /// Whether the cluster has a database named `name`.
    pub fn database_exists(&self, name: &str) -> bool {
        let sql = format!(
            "SELECT count(*) AS v FROM pg_database WHERE datname = {}",
            quote_literal(name)
        );
        self.connect("postgres").i64(&sql) == 1
    }

    /// Stops the server (fast shutdown); `start_again` restarts it on the same port.
    pub fn stop(&mut self) {
        if let Err(e) = self.pg_ctl(&["-m", "fast", "-w", "-t", "30", "stop"], PG_CTL_TIMEOUT) {
            panic!("cannot stop the private cluster:\n{e}");
        }
        self.running = false;
    }

    /// Stops the server the way a crash or a power cut would (`pg_ctl stop -m immediate`): no
    /// checkpoint, every connection cut; the next start recovers from the WAL.
    pub fn stop_immediately(&mut self) {
        if let Err(e) = self.pg_ctl(
            &["-m", "immediate", "-w", "-t", "30", "stop"],
            PG_CTL_TIMEOUT,
        ) {
            panic!("cannot stop the private cluster:\n{e}");
        }
        self.running = false;
    }

    /// A hot standby of this cluster, streaming from it (`pg_basebackup -R`), on its own port.
    pub fn standby(&self) -> PrivateCluster {
        let basebackup = self.tools.basebackup();
        let dir = tempfile::Builder::new()
            .prefix("facedb-pg-standby-")
            .tempdir()
            .expect("temp dir for a standby");
        let mut standby = PrivateCluster {
            tools: self.tools.clone(),
            port: 0,
            superuser_password: self.superuser_password.clone(),
            dir,
            running: false,
        };
        own_folder(&standby.tools, standby.dir.path());
        let conninfo = format!(
            "host=127.0.0.1 port={} user=postgres password={}",
            self.port, self.superuser_password
        );
        let args = vec![
            "-D".to_owned(),
            standby.data_dir().display().to_string(),
            "-R".to_owned(),
            "-X".to_owned(),
            "stream".to_owned(),
            "-c".to_owned(),
            "fast".to_owned(),
            "-d".to_owned(),
            conninfo,
        ];
        let cmd = self.tools.command(&basebackup, &args);
        let log = standby.dir.path().join("basebackup.log");
        if let Err(e) = run_logged(cmd, &log, INITDB_TIMEOUT) {
            panic!("pg_basebackup failed for a standby:\n{e}");
        }
        let mut last_error = String::new();
        for _ in 0..3 {
            standby.port = free_port();
            match standby.pg_ctl_start() {
                Ok(()) => return standby,
                Err(e) => last_error = e,
            }
        }
        panic!(
            "cannot start a standby:\n{last_error}\nserver log:\n{}",
            standby.server_log()
        );
    }

    /// Promotes a standby to a primary (`pg_ctl promote`), waiting until it takes writes.
    pub fn promote(&self) {
        if let Err(e) = self.pg_ctl(&["-w", "-t", "30", "promote"], PG_CTL_TIMEOUT) {
            panic!("cannot promote the standby:\n{e}");
        }
    }

    /// Waits until a standby has replayed everything its primary wrote so far.
    pub fn catch_up_with(&self, primary: &PrivateCluster) {
        let lsn = primary
            .connect("postgres")
            .strings("SELECT pg_current_wal_lsn()::text AS v");
        let caught_up = format!(
            "SELECT (pg_last_wal_replay_lsn() >= {}::pg_lsn)::int::bigint AS v",
            quote_literal(&lsn[0])
        );
        let started = Instant::now();
        while self.connect("postgres").i64(&caught_up) == 0 {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the standby did not catch up with its primary"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn start_again(&mut self) {
        if let Err(e) = self.pg_ctl_start() {
            panic!(
                "cannot restart the private cluster on port {}:\n{e}\nserver log:\n{}",
                self.port,
                self.server_log()
            );
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        // Never panic here: a test that is already failing would abort.
        if self.running || self.data_dir().join("postmaster.pid").exists() {
            if let Err(e) = self.pg_ctl(
                &["-m", "immediate", "-w", "-t", "30", "stop"],
                PG_CTL_TIMEOUT,
            ) {
                eprintln!(
                    "warning: could not stop the private PostgreSQL cluster in {}: {e}",
                    self.dir.path().display()
                );
            }
        }
        // The TempDir field then removes the folder (root may remove the postgres-owned files).
    }
}

/// PgBouncer in transaction pooling in front of a cluster, on its own port of 127.0.0.1, as the
/// server user. Every database of the cluster is reachable through it (`* =`), logging in as the
/// superuser; clients are not authenticated (`auth_type = any`). Dropping it stops it.
pub struct Pooler {
    tools: Tools,
    port: u16,
    dir: TempDir,
}

impl Pooler {
    /// Starts PgBouncer with `pool_size` server connections per database: with 1, every client
    /// gets the server connection the previous one used, so anything left in it shows.
    pub fn start(cluster: &PrivateCluster, pool_size: u32) -> Pooler {
        let program =
            pgbouncer_program().unwrap_or_else(|why| panic!("cannot start PgBouncer: {why}"));
        let dir = tempfile::Builder::new()
            .prefix("facedb-pgbouncer-")
            .tempdir()
            .expect("temp dir for PgBouncer");
        let root = dir.path().display().to_string();
        let port = free_port();
        let ini = format!(
            "[databases]\n* = host=127.0.0.1 port={} user=postgres password={}\n\
             [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n\
             auth_type = any\npool_mode = transaction\ndefault_pool_size = {pool_size}\n\
             logfile = {root}/pgbouncer.log\npidfile = {root}/pgbouncer.pid\n",
            cluster.port, cluster.superuser_password
        );
        std::fs::write(dir.path().join("pgbouncer.ini"), ini).expect("write pgbouncer.ini");
        own_folder(&cluster.tools, dir.path());
        let args = vec!["-d".to_owned(), format!("{root}/pgbouncer.ini")];
        let cmd = cluster.tools.command(&program, &args);
        let pooler = Pooler {
            tools: cluster.tools.clone(),
            port,
            dir,
        };
        let started = run_logged(cmd, &pooler.dir.path().join("start.log"), PG_CTL_TIMEOUT)
            .and_then(|_| pooler.wait_listening());
        if let Err(e) = started {
            panic!(
                "cannot start PgBouncer: {e}\n{}",
                std::fs::read_to_string(pooler.dir.path().join("pgbouncer.log"))
                    .unwrap_or_default()
            );
        }
        pooler
    }

    fn wait_listening(&self) -> Result<(), String> {
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err(format!("PgBouncer does not listen on port {}", self.port));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:PORT/dbname` through the pooler.
    pub fn url(&self, dbname: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            self.port,
            encode(dbname)
        )
    }

    /// A client of the pool, as the API would be.
    pub fn connect(&self, dbname: &str) -> Conn {
        match PgConnection::establish(&self.url(dbname)) {
            Ok(conn) => Conn::Postgres(conn),
            Err(e) => panic!("cannot connect through PgBouncer to {dbname:?}: {e}"),
        }
    }

    fn pid(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.pid"))
            .ok()
            .map(|pid| pid.trim().to_owned())
            .filter(|pid| !pid.is_empty())
    }

    fn stop(&self) {
        let Some(pid) = self.pid() else { return };
        let _ = self
            .tools
            .command(Path::new("/bin/kill"), &["-INT".to_owned(), pid.clone()])
            .status();
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        self.stop();
    }
}
