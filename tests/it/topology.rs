//! facedb where the API runs: behind PgBouncer in transaction pooling, against a hot standby,
//! with URLs that list several servers, and across a failover. Each test starts its own private
//! clusters (a primary, a standby made by `pg_basebackup -R`) and PgBouncer, through the real binary.

use crate::support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cluster::{encode, Pooler, PrivateCluster};
use support::{std_facedb_in, Conn, Output};

/// Each facedb run is bounded: far above what any of these commands takes.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// A probe table of the API's: not facedb's, so every reset keeps it.
const PROBE: &str = "CREATE TABLE api_probe (n integer)";

/// `facedb` with `url` in its environment, in `dir`, its output captured.
pub(crate) fn facedb(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut cmd = std_facedb_in(dir);
    cmd.env("DATABASE_URL", url)
        .env_remove("DB_HOST")
        .env_remove("DB_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Waits for `child` for at most `limit`; kills it (and fails the test) if it takes longer.
pub(crate) fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("poll facedb").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: facedb still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Output::from(child.wait_with_output().expect("collect facedb's output"))
}

/// Runs `facedb ARGS` against `url`, with `stdin` as its input.
pub(crate) fn run(dir: &std::path::Path, url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = facedb(dir, url);
    cmd.args(args);
    if stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child = cmd.spawn().expect("spawn facedb");
    if let Some(input) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    }
    finish(child, RUN_LIMIT, &format!("{args:?}"))
}

pub(crate) fn admins(conn: &mut Conn) -> i64 {
    conn.i64("SELECT count(*) AS v FROM users WHERE role = 'SYSTEM_ADMIN'")
}

/// Asserts that a client of the pool, on the server connection facedb used last (the pool has
/// one), can write, finds no prepared statement and no lock of facedb's left there, and sees
/// the server's own settings.
fn assert_pool_clean(pooler: &Pooler, after: &str) {
    let mut api = pooler.connect("facedb");
    let leftovers = api.strings(
        "SELECT current_setting('default_transaction_read_only') || ' ' || current_setting('lock_timeout') \
         || ' ' || (SELECT count(*) FROM pg_prepared_statements) \
         || ' ' || (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()) AS v",
    );
    assert_eq!(
        leftovers,
        vec!["off 0 0 0".to_owned()],
        "after {after}: read-only, lock_timeout, prepared statements, advisory locks left in the pooled session"
    );
    let before = api.i64("SELECT count(*) AS v FROM api_probe");
    api.exec("INSERT INTO api_probe VALUES (1)");
    assert_eq!(
        api.i64("SELECT count(*) AS v FROM api_probe"),
        before + 1,
        "after {after}: the API's write went through"
    );
}

/// Every command through PgBouncer in transaction pooling (one server connection, so each client
/// gets the one facedb used): each succeeds, twice in a row, and after each the API writes on the
/// same pool. An up-to-date init sends one statement, its first look, and no more.
fn every_command_through_pgbouncer_leaves_the_pool_clean() {
    let cluster = PrivateCluster::start();
    let pooler = Pooler::start(&cluster, 1);
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = pooler.url("facedb");
    let secret = cluster.superuser_password().to_owned();

    // The database does not exist yet: init creates it through the pooler.
    let out = run(dir.path(), &url, &["init"], None).success();
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );
    cluster.connect("facedb").exec(PROBE);
    assert_pool_clean(&pooler, "init");

    // Up to date: init's first look, one statement, decides there is nothing to do; found
    // work (a missing admin) takes the locked path, as directly.
    let out = run(dir.path(), &url, &["init", "--echo"], None).success();
    let sent: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("[sql]"))
        .collect();
    assert!(
        sent.len() == 1 && sent[0].contains("pg_try_advisory_xact_lock_shared"),
        "{sent:#?}"
    );
    assert!(out.stdout.ends_with("up to date\n"), "{}", out.stdout);
    assert_pool_clean(&pooler, "an up-to-date init");
    cluster.connect("facedb").exec("DELETE FROM users");
    let out = run(dir.path(), &url, &["init", "--echo"], None).success();
    assert!(
        out.stdout.contains("seeded admin 'admin'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("pg_advisory_xact_lock("),
        "{}",
        out.stderr
    );
    assert_pool_clean(&pooler, "an init that seeded the admin");

    let steps: Vec<(Vec<&str>, Option<&str>)> = vec![
        (vec!["init"], None),
        (vec!["status"], None),
        (vec!["check"], None),
        (
            vec![
                "user",
                "create",
                "--username",
                "ops",
                "--email",
                "ops@example.com",
                "--first-name",
                "Op",
                "--last-name",
                "Erator",
                "--password-stdin",
            ],
            Some("Ops-Pw-123\n"),
        ),
        (
            vec!["user", "reset-password", "ops", "--password-stdin"],
            Some("Ops-Pw-456\n"),
        ),
        (vec!["user", "list"], None),
        (vec!["reset", "--dry-run"], None),
        (vec!["fresh", "--force"], None),
        (vec!["reset", "--force"], None),
        (vec!["backups"], None),
        (vec!["restore", "--dry-run"], None),
        (vec!["restore", "--force"], None),
        (vec!["backups", "prune", "--keep", "1", "--force"], None),
        (vec!["rollback", "--dry-run"], None),
        // Reverts the only migration: none of facedb's tables is left; init brings them back.
        (vec!["rollback", "--force"], None),
        (vec!["init"], None),
    ];
    for round in 1..=2 {
        for (args, stdin) in &steps {
            let what = format!("{} (round {round})", args.join(" "));
            let out = run(dir.path(), &url, args, *stdin).success().hides(&secret);
            assert!(
                !out.stderr.contains("prepared statement"),
                "{what}: {}",
                out.stderr
            );
            assert_pool_clean(&pooler, &what);
        }
        // The resets recreated the tables: the user is gone again for the next round.
        let out = run(dir.path(), &url, &["status"], None).success();
        assert!(out.stdout.contains("up to date"), "{}", out.stdout);
    }
    let mut direct = cluster.connect("facedb");
    assert_eq!(admins(&mut direct), 1, "one admin after all that");
    assert_eq!(
        direct.i64("SELECT count(*) AS v FROM api_probe"),
        3 + 2 * steps.len() as i64
    );
}

/// Eight inits at once through the pooler (several server connections, so they do meet at
/// facedb's lock): all succeed, the migrations run once, there is one admin.
fn concurrent_inits_through_pgbouncer_seed_one_admin() {
    let cluster = PrivateCluster::start();
    let pooler = Pooler::start(&cluster, 4);
    cluster.exec("CREATE DATABASE facedb");
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = pooler.url("facedb");
    let children: Vec<Child> = (0..8)
        .map(|_| {
            facedb(dir.path(), &url)
                .arg("init")
                .spawn()
                .expect("spawn facedb")
        })
        .collect();
    let outs: Vec<Output> = children
        .into_iter()
        .map(|child| finish(child, RUN_LIMIT, "a concurrent init"))
        .collect();
    let seeded = outs
        .into_iter()
        .map(|out| out.success())
        .filter(|out| out.stdout.contains("seeded admin"))
        .count();
    assert_eq!(seeded, 1, "exactly one init seeded the admin");
    let mut conn = cluster.connect("facedb");
    assert_eq!(admins(&mut conn), 1);
    assert_eq!(
        conn.i64("SELECT count(*) AS v FROM __diesel_schema_migrations"),
        facedb::migrations::all_names(facedb::config::Backend::Postgres).len() as i64
    );
}

/// A primary and its streaming standby.
pub(crate) fn primary_and_standby() -> (PrivateCluster, PrivateCluster) {
    let primary = PrivateCluster::start();
    let standby = primary.standby();
    (primary, standby)
}

/// `postgres://postgres:PW@127.0.0.1:P1,127.0.0.1:P2/facedb?QUERY`.
pub(crate) fn multi_host_url(clusters: &[&PrivateCluster], query: &str) -> String {
    let hosts: Vec<String> = clusters
        .iter()
        .map(|c| format!("127.0.0.1:{}", c.port()))
        .collect();
    format!(
        "postgres://postgres:{}@{}/facedb{query}",
        encode(clusters[0].superuser_password()),
        hosts.join(",")
    )
}

/// On a hot standby, the commands that only look work; those that write refuse before doing
/// anything (exit 3), naming the standby and what to do, and `init` does not try to create a
/// missing database there. A URL listing the standby first reaches the primary with
/// `target_session_attrs=read-write`, and says which server it reached; so does a DB_HOST list.
fn a_standby_serves_reads_and_refuses_writes() {
    let (primary, standby) = primary_and_standby();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let secret = primary.superuser_password().to_owned();
    run(
        dir.path(),
        &primary.superuser_url("facedb"),
        &["init"],
        None,
    )
    .success();
    standby.catch_up_with(&primary);

    let on_standby = standby.superuser_url("facedb");
    for args in [
        vec!["status"],
        vec!["check"],
        vec!["user", "list"],
        vec!["reset", "--dry-run"],
        vec!["fresh", "--dry-run"],
        vec!["backups"],
    ] {
        let out = run(dir.path(), &on_standby, &args, None)
            .success()
            .hides(&secret);
        assert!(!out.stdout.is_empty(), "{args:?} answered");
        if args.contains(&"--dry-run") {
            // A standby takes no writes: the reset cannot be rehearsed there, and it says so.
            assert!(out.stdout.contains("was not rehearsed"), "{}", out.stdout);
        }
    }
    let standby_at = format!("127.0.0.1:{}", standby.port());
    for (args, stdin) in [
        (vec!["init"], None),
        (vec!["fresh", "--force"], None),
        (vec!["reset", "--force"], None),
        (vec!["restore", "--force"], None),
        (vec!["backups", "prune", "--keep", "0", "--force"], None),
        (
            vec![
                "user",
                "create",
                "--username",
                "x",
                "--email",
                "x@example.com",
                "--first-name",
                "X",
                "--last-name",
                "Y",
                "--password-stdin",
            ],
            Some("Xx-Pw-123\n"),
        ),
        (
            vec!["user", "reset-password", "admin", "--password-stdin"],
            Some("Xx-Pw-123\n"),
        ),
    ] {
        let out = run(dir.path(), &on_standby, &args, stdin)
            .code(3)
            .hides(&secret)
            .stderr_has("read-only standby (in recovery)")
            .stderr_has(&standby_at)
            .stderr_has("target_session_attrs=read-write");
        assert_eq!(
            out.stderr.lines().count(),
            1,
            "{args:?}: one line: {}",
            out.stderr
        );
    }
    // What stops a reset is still found on a standby, where facedb takes no table locks.
    primary
        .connect("facedb")
        .exec("CREATE VIEW tenant_names AS SELECT name FROM tenants");
    standby.catch_up_with(&primary);
    let out = run(dir.path(), &on_standby, &["fresh", "--dry-run"], None)
        .code(5)
        .stderr_has("view tenant_names depends on table tenants");
    assert!(
        out.stdout.contains("fresh would be refused (exit 5)"),
        "{}",
        out.stdout
    );
    primary.connect("facedb").exec("DROP VIEW tenant_names");

    // A missing database: refused before CREATE DATABASE (which the standby would reject raw).
    let missing = standby.superuser_url("facedb_missing");
    run(dir.path(), &missing, &["init"], None)
        .code(3)
        .stderr_has("read-only standby");
    assert!(!primary.database_exists("facedb_missing"));

    // The standby listed first: libpq moves on to the primary, and facedb says it did.
    let url = multi_host_url(&[&standby, &primary], "?target_session_attrs=read-write");
    let primary_at = format!("127.0.0.1:{}", primary.port());
    let out = run(dir.path(), &url, &["init"], None)
        .success()
        .hides(&secret);
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
    let out = out.stderr_has(&format!("connected to {primary_at}, the primary"));
    assert!(
        out.stdout
            .contains(&format!("{standby_at},{primary_at}/facedb")),
        "names both servers: {}",
        out.stdout
    );
    // Without target_session_attrs libpq takes the first server that answers: the standby.
    let url = multi_host_url(&[&standby, &primary], "");
    run(dir.path(), &url, &["fresh", "--force"], None)
        .code(3)
        .stderr_has("read-only standby");
    let out = run(dir.path(), &url, &["status"], None).success();
    out.stderr_has(&format!("connected to {standby_at}, a standby"));
    // DB_HOST and DB_PORT lists.
    let mut cmd = std_facedb_in(dir.path());
    cmd.env_remove("DATABASE_URL")
        .env("DB_HOST", "127.0.0.1,127.0.0.1")
        .env("DB_PORT", format!("{},{}", standby.port(), primary.port()))
        .env("DB_USER", "postgres")
        .env("DB_PASSWORD", &secret)
        .env("DB_NAME", "facedb")
        .args(["status"]);
    let out = Output::from(cmd.output().expect("facedb runs"))
        .success()
        .hides(&secret);
    out.stderr_has(&format!("connected to {standby_at}, a standby"));
    assert_eq!(admins(&mut primary.connect("facedb")), 1, "nothing changed");
}

/// Failover: a reset through a URL listing both servers is cut off by the primary's death in the
/// middle of its drop (exit 3, nothing committed). The same command with `--wait` waits while no
/// server takes writes, saying so, and succeeds on the standby once it is promoted.
fn a_reset_cut_off_by_failover_succeeds_on_the_promoted_standby() {
    let (mut primary, standby) = primary_and_standby();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = multi_host_url(&[&primary, &standby], "?target_session_attrs=read-write");
    run(dir.path(), &url, &["init"], None).success();
    let mut conn = primary.connect("facedb");
    conn.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Tenant One')");
    standby.catch_up_with(&primary);

    let mut blocker = primary.connect("facedb");
    support::stop_facedbs_drop_midway(&mut blocker);
    let reset = facedb(dir.path(), &url)
        .args(["fresh", "--force"])
        .spawn()
        .expect("spawn facedb");
    support::wait_for_facedb_at_the_drop(&mut conn);
    primary.stop_immediately();
    drop((blocker, conn));
    let primary_at = format!("127.0.0.1:{}", primary.port());
    let out = finish(reset, Duration::from_secs(30), "the interrupted reset")
        .code(3)
        .stderr_has(&format!("connected to {primary_at}, the primary"))
        .stderr_has("error: lost the connection to the database")
        .stderr_has("nothing facedb was doing was committed");
    assert_eq!(
        out.stderr.lines().count(),
        2,
        "where, then one error line: {}",
        out.stderr
    );
    // (The standby's tables stay locked by the replayed, never-ended reset until the promotion:
    // nothing reads them before.)

    // No server takes writes now: with --wait facedb waits, and says why.
    let waiting_reset = facedb(dir.path(), &url)
        .args(["fresh", "--force", "--wait", "60s"])
        .spawn()
        .expect("spawn facedb");
    std::thread::sleep(Duration::from_secs(2));
    standby.promote();
    let standby_at = format!("127.0.0.1:{}", standby.port());
    let out = finish(waiting_reset, RUN_LIMIT, "the reset after the failover")
        .success()
        .stderr_has("waiting up to 60s")
        .stderr_has("read-only standby")
        .stderr_has(&format!("connected to {standby_at}, the primary"));
    assert!(out.stdout.contains("fresh: dropped"), "{}", out.stdout);
    let mut promoted = standby.connect("facedb");
    assert_eq!(
        promoted.i64("SELECT count(*) AS v FROM tenants"),
        0,
        "the reset ran there"
    );
    assert_eq!(admins(&mut promoted), 1);
}

/// A writing command with `--wait` on a standby that is never promoted gives up with the
/// standby's error after the wait (exit 3); a reading command does not wait at all.
fn waiting_for_a_standby_that_stays_one_gives_up_with_exit_3() {
    let (primary, standby) = primary_and_standby();
    let dir = tempfile::TempDir::new().expect("temp dir");
    run(
        dir.path(),
        &primary.superuser_url("facedb"),
        &["init"],
        None,
    )
    .success();
    standby.catch_up_with(&primary);
    let url = standby.superuser_url("facedb");
    let started = Instant::now();
    let out = run(dir.path(), &url, &["init", "--wait", "2s"], None)
        .code(3)
        .stderr_has("read-only standby")
        .stderr_has("gave up after waiting 2s");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(15),
        "{took:?}: {}",
        out.stderr
    );
    let started = Instant::now();
    run(dir.path(), &url, &["status", "--wait", "30s"], None).success();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "status did not wait"
    );
}

tests![
    needs::CLUSTER_AND_STANDBY => [
        a_standby_serves_reads_and_refuses_writes,
        a_reset_cut_off_by_failover_succeeds_on_the_promoted_standby,
        waiting_for_a_standby_that_stays_one_gives_up_with_exit_3,
    ],
    needs::CLUSTER_AND_PGBOUNCER => [
        every_command_through_pgbouncer_leaves_the_pool_clean,
        concurrent_inits_through_pgbouncer_seed_one_admin,
    ],
];
