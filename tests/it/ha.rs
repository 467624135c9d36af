//! facedb under a high-availability setup, through the real binary: exit codes a retry loop can
//! trust when the server goes away at any step, read-only servers named for what they are, a
//! standby that lags behind listed first, locks held by a standby's recovery, synchronous
//! replication with its standby down, and Ctrl-C, which cancels the server's work before facedb
//! exits. Each test starts its own private clusters, as `topology` does.

use crate::support;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cluster::{encode, PrivateCluster};
use support::{Conn, Output, TestDb};

use crate::topology::{admins, facedb, finish, multi_host_url, primary_and_standby, run};

const USER_PASSWORD: &str = "Ha-Pw-12345\n";

/// `user create NAME --password-stdin` and `extra`.
fn user_create<'a>(name: &'a str, email: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "user",
        "create",
        "--username",
        name,
        "--email",
        email,
        "--first-name",
        "Ha",
        "--last-name",
        "Test",
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    args
}

/// Starts `facedb ARGS` against `url` with `stdin` written to it.
fn spawn(dir: &std::path::Path, url: &str, args: &[&str], stdin: &str) -> Child {
    use std::io::Write;
    let mut child = facedb(dir, url)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .expect("spawn facedb");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.as_bytes()).expect("write stdin");
    child
}

/// Waits (at most 30 s) until `sql` (a count) is positive.
fn wait_until(conn: &mut Conn, sql: &str, what: &str) {
    let started = Instant::now();
    while conn.i64(sql) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// facedb's sessions on the server, but the one asking.
const FACEDB_SESSIONS: &str = "SELECT count(*) AS v FROM pg_stat_activity \
     WHERE application_name = 'facedb' AND pid <> pg_backend_pid()";

fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -INT facedb");
}

fn users_named(conn: &mut Conn, name: &str) -> i64 {
    conn.i64(&format!(
        "SELECT count(*) AS v FROM users WHERE username = '{name}'"
    ))
}

/// A one-line error, without a driver's tab-indented continuation lines or a library's wrapping.
fn assert_one_clean_line(out: &Output) {
    let lines: Vec<&str> = out.stderr.lines().filter(|l| !l.is_empty()).collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {}", out.stderr);
    for forbidden in [
        "\t",
        "\\t",
        "Failed to run",
        "This probably means",
        "migration failed",
    ] {
        assert!(
            !out.stderr.contains(forbidden),
            "{forbidden:?} shown: {}",
            out.stderr
        );
    }
}

/// `status` checks the default password of the admin facedb seeded and of no one else, in a
/// number of statements that does not grow with the users: 500 more system admins that share
/// the default password's hash add no statement and no warning. A database seeded before facedb
/// recorded its admin falls back to the admin of the configured name.
fn status_checks_only_the_seeded_admin() {
    let db = TestDb::postgres();
    db.init().success();
    let statements = |db: &TestDb| {
        let out = db.run(&["status", "--echo"]).success();
        let warned = out.stdout.matches("still has the default password").count();
        (
            out.stderr
                .lines()
                .filter(|l| l.starts_with("[sql]"))
                .count(),
            warned,
            out.stdout,
        )
    };
    let (before, warned, stdout) = statements(&db);
    assert_eq!(warned, 1, "{stdout}");
    db.exec(
        "INSERT INTO users (user_id, username, email, first_name, last_name, password_hash, role, is_active) \
         SELECT 'more-' || g, 'admin' || g, 'admin' || g || '@example.com', 'A', 'B', \
                (SELECT password_hash FROM users WHERE username = 'admin'), 'SYSTEM_ADMIN', true \
         FROM generate_series(1, 500) g",
    );
    let (after, warned, stdout) = statements(&db);
    assert_eq!(after, before, "statements with 1 and with 501 admins");
    assert_eq!(warned, 1, "only the seeded admin: {stdout}");
    assert!(stdout.contains("'admin' still has"), "{stdout}");
    note!("status ran {after} statements with 501 admins");

    // Seeded before facedb recorded which admin it seeded: the admin of the configured name.
    db.exec("DELETE FROM __facedb_metadata WHERE key = 'seeded admin'");
    let (fallback, warned, stdout) = statements(&db);
    assert_eq!(fallback, after);
    assert_eq!(warned, 1, "{stdout}");
    assert!(stdout.contains("'admin' still has"), "{stdout}");

    // Its password changed: no warning, though 500 others still have that hash.
    let mut cmd = db.std_facedb();
    cmd.args(["user", "reset-password", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn facedb");
    {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(USER_PASSWORD.as_bytes()).expect("write");
    }
    Output::from(child.wait_with_output().expect("facedb runs")).success();
    let (_, warned, stdout) = statements(&db);
    assert_eq!(warned, 0, "{stdout}");
    assert_eq!(db.count("users"), 501, "status changed no user");
}

/// A primary with `default_transaction_read_only` is refused by every writing command with
/// exit 3, named as a read-only primary (not a standby), with or without
/// `target_session_attrs=read-write`, before anything is changed or created; reads work; once
/// the setting is off the same command succeeds (exit 3 was worth retrying).
fn a_read_only_primary_is_named_and_refused_with_exit_3() {
    let cluster = PrivateCluster::start();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let secret = cluster.superuser_password().to_owned();
    let url = cluster.superuser_url("facedb");
    run(dir.path(), &url, &["init"], None).success();
    cluster.exec("ALTER SYSTEM SET default_transaction_read_only = on");
    cluster.exec("SELECT pg_reload_conf()");
    let at = format!("127.0.0.1:{}", cluster.port());
    let with_attrs = format!("{url}?target_session_attrs=read-write");
    for (url, args, stdin) in [
        (
            &url,
            user_create("ro", "ro@example.com", &[]),
            Some(USER_PASSWORD),
        ),
        (&url, vec!["fresh", "--force"], None),
        (&with_attrs, vec!["init"], None),
        (
            &with_attrs,
            user_create("ro", "ro@example.com", &[]),
            Some(USER_PASSWORD),
        ),
    ] {
        let out = run(dir.path(), url, &args, stdin)
            .code(3)
            .hides(&secret)
            .stderr_has("read-only primary (default_transaction_read_only is on)")
            .stderr_has(&at);
        assert!(
            !out.stderr.contains("in recovery"),
            "{args:?}: {}",
            out.stderr
        );
        assert_one_clean_line(&out);
    }
    run(
        dir.path(),
        &cluster.superuser_url("facedb_new"),
        &["init"],
        None,
    )
    .code(3)
    .stderr_has("read-only primary");
    assert!(!cluster.database_exists("facedb_new"), "nothing created");
    run(dir.path(), &url, &["status"], None).success();
    let mut conn = cluster.connect("facedb");
    assert_eq!(users_named(&mut conn, "ro"), 0);
    assert_eq!(admins(&mut conn), 1);

    cluster.exec("ALTER SYSTEM RESET default_transaction_read_only");
    cluster.exec("SELECT pg_reload_conf()");
    run(
        dir.path(),
        &url,
        &user_create("ro", "ro@example.com", &[]),
        Some(USER_PASSWORD),
    )
    .success();
    assert_eq!(users_named(&mut cluster.connect("facedb"), "ro"), 1);
}

/// The connection lost while `rollback`'s `down.sql` waits on a lock another session holds:
/// ended by an administrator (`pg_terminate_backend`), then by the server stopping as in a crash
/// (`pg_ctl stop -m immediate`). Each time exit 3 with one clean line saying nothing was
/// committed (not diesel_migrations' wrapped text, exit 1), and the database as it was.
fn a_connection_lost_in_a_migration_is_exit_3() {
    let mut cluster = PrivateCluster::start();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = cluster.superuser_url("facedb");
    run(dir.path(), &url, &["init"], None).success();
    let mut conn = cluster.connect("facedb");
    conn.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Tenant One')");
    let migrations = conn.i64("SELECT count(*) AS v FROM __diesel_schema_migrations");

    for crash in [false, true] {
        let mut blocker = cluster.connect("facedb");
        support::stop_facedbs_rollback_midway(&mut blocker);
        let rollback = facedb(dir.path(), &url)
            .args(["rollback", "--force"])
            .spawn()
            .expect("spawn facedb");
        support::wait_for_facedb_in_the_rollback(&mut conn);
        if crash {
            cluster.stop_immediately();
        } else {
            conn.exec(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = 'facedb' AND pid <> pg_backend_pid()",
            );
        }
        let out = finish(rollback, Duration::from_secs(30), "the cut-off rollback")
            .code(3)
            .stderr_has("error: lost the connection to the database")
            .stderr_has("nothing facedb was doing was committed");
        assert_one_clean_line(&out);
        note!("crash {crash}: {}", out.stderr.trim());
        drop(blocker);
        if crash {
            cluster.start_again();
            conn = cluster.connect("facedb");
        }
        assert_eq!(
            conn.i64("SELECT count(*) AS v FROM tenants"),
            1,
            "rows kept"
        );
        assert_eq!(admins(&mut conn), 1);
        assert_eq!(
            conn.i64("SELECT count(*) AS v FROM __diesel_schema_migrations"),
            migrations,
            "no migration reverted"
        );
    }
    run(dir.path(), &url, &["init"], None)
        .success()
        .stdout_has("up to date");
}

/// `postgres://postgres:PW@/facedb?host=S1,S2&port=P1,P2`: the servers by their Unix sockets.
fn socket_url(clusters: &[&PrivateCluster]) -> String {
    let hosts: Vec<String> = clusters
        .iter()
        .map(|c| encode(&c.socket_dir().display().to_string()))
        .collect();
    let ports: Vec<String> = clusters.iter().map(|c| c.port().to_string()).collect();
    format!(
        "postgres://postgres:{}@/facedb?host={}&port={}",
        encode(clusters[0].superuser_password()),
        hosts.join(","),
        ports.join(",")
    )
}

/// A standby whose replay is paused (it has not replayed the database's creation) listed first
/// with `target_session_attrs=read-write`: libpq stops at its "does not exist", facedb tries the
/// primary, proves it lacks the database before creating it there, says nothing of a pooler and
/// does not wait; `status` reads the primary, by TCP or by Unix socket (naming the one socket
/// reached). When every server fails, the error says which said what, and `--wait` bounds the
/// wait. A lock held on the standby by the replay of a primary transaction is named as such.
fn a_lagging_standby_listed_first_does_not_send_facedb_the_wrong_way() {
    let (mut primary, standby) = primary_and_standby();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let secret = primary.superuser_password().to_owned();
    standby
        .connect("postgres")
        .exec("SELECT pg_wal_replay_pause()");
    let url = multi_host_url(&[&standby, &primary], "?target_session_attrs=read-write");
    let primary_at = format!("127.0.0.1:{}", primary.port());
    let standby_at = format!("127.0.0.1:{}", standby.port());

    let started = Instant::now();
    let out = run(dir.path(), &url, &["init", "--wait", "10s"], None)
        .success()
        .hides(&secret)
        .stdout_has("created the database")
        .stderr_has(&format!("connected to {primary_at}, the primary"));
    assert!(!out.stderr.contains("pooler"), "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "no wait: {:?}",
        started.elapsed()
    );
    assert_eq!(admins(&mut primary.connect("facedb")), 1);
    assert!(!standby.database_exists("facedb"), "the standby still lags");

    for url in [
        url.clone(),
        multi_host_url(&[&standby, &primary], ""),
        socket_url(&[&standby, &primary]),
    ] {
        let out = run(dir.path(), &url, &["status"], None)
            .success()
            .hides(&secret)
            .stdout_has("up to date");
        let reached: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("connected to"))
            .collect();
        assert_eq!(reached.len(), 1, "{}", out.stderr);
        assert!(reached[0].ends_with(", the primary"), "{}", reached[0]);
        assert!(
            reached[0].contains(&primary.port().to_string())
                && !reached[0].contains(&standby.port().to_string()),
            "names the one server reached: {}",
            reached[0]
        );
    }
    run(dir.path(), &url, &["init"], None)
        .success()
        .stdout_has("up to date");

    // A pg_hba.conf rejection on the standby alone: libpq stops there, facedb tries the primary.
    let reject = "host facedb all 127.0.0.1/32 reject";
    standby.hba_first(reject, true);
    let out = run(
        dir.path(),
        &multi_host_url(&[&standby, &primary], ""),
        &["status"],
        None,
    )
    .success()
    .stdout_has("up to date");
    out.stderr_has(&format!("connected to {primary_at}, the primary"));
    standby.hba_first(reject, false);

    // A lock the standby's recovery holds: the replay of a transaction still open on the primary.
    standby
        .connect("postgres")
        .exec("SELECT pg_wal_replay_resume()");
    standby.catch_up_with(&primary);
    let mut holder = primary.connect("facedb");
    holder.exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;");
    // A commit after it flushes the WAL holding the lock, which the standby then replays.
    primary.exec("SELECT txid_current()");
    wait_until(
        &mut standby.connect("facedb"),
        "SELECT count(*) AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE a.backend_type = 'startup' AND l.mode = 'AccessExclusiveLock' AND l.relation IS NOT NULL",
        "the standby never replayed the lock",
    );
    let out = run(
        dir.path(),
        &standby.superuser_url("facedb"),
        &["status", "--lock-timeout", "1s"],
        None,
    )
    .code(6)
    .stderr_has("held by the replay of a transaction on the primary")
    .stderr_has("it ends when that transaction ends there");
    assert!(
        !out.stderr.contains("Wait for that session"),
        "{}",
        out.stderr
    );
    holder.exec("ROLLBACK");
    drop(holder);
    standby
        .connect("postgres")
        .exec("SELECT pg_wal_replay_pause()");
    primary.exec("CREATE DATABASE facedb_later");

    // Every server fails: which said what, and --wait bounds the wait.
    primary.stop();
    let later = url.replace("/facedb?", "/facedb_later?");
    let out = run(dir.path(), &later, &["status"], None)
        .code(3)
        .stderr_has(&format!(
            "{standby_at}: database 'facedb_later' does not exist there"
        ))
        .stderr_has(&format!("{primary_at}: connection refused"));
    assert_one_clean_line(&out);
    let started = Instant::now();
    run(dir.path(), &later, &["init", "--wait", "2s"], None)
        .code(3)
        .stderr_has("gave up after waiting 2s");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by --wait: {:?}",
        started.elapsed()
    );
}

/// Synchronous replication with its only standby stopped: a commit waits for it. facedb bounds
/// that wait by `--wait` (else the lock timeout), cancels it, and says the truth with exit 7:
/// committed on the primary, not confirmed, do not retry. Another facedb waiting for the lock
/// names the commit waiting for the standby. Ctrl-C during that commit, and during a lock wait,
/// cancels the server's work before facedb exits 130 and says what state it left.
fn synchronous_replication_is_bounded_and_reported() {
    let (primary, mut standby) = primary_and_standby();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = primary.superuser_url("facedb");
    run(dir.path(), &url, &["init"], None).success();
    primary.exec("ALTER SYSTEM SET synchronous_standby_names = '*'");
    primary.exec("SELECT pg_reload_conf()");
    standby.stop();
    let mut conn = primary.connect("facedb");

    for (name, bound, seconds) in [
        ("sync1", ["--wait", "3s"], 3),
        ("sync2", ["--lock-timeout", "2s"], 2),
    ] {
        let email = format!("{name}@example.com");
        let started = Instant::now();
        let out = run(
            dir.path(),
            &url,
            &user_create(name, &email, &bound),
            Some(USER_PASSWORD),
        )
        .code(7)
        .stderr_has("committed on the primary")
        .stderr_has("has not confirmed it")
        .stderr_has("Do not run the command again");
        assert_one_clean_line(&out);
        let took = started.elapsed();
        assert!(
            took >= Duration::from_secs(seconds) && took < Duration::from_secs(seconds + 10),
            "{name}: {took:?}"
        );
        assert_eq!(users_named(&mut conn, name), 1, "the change stands");
    }

    // Ctrl-C while the commit waits for the standby.
    let waiting = spawn(
        dir.path(),
        &url,
        &user_create("sync3", "sync3@example.com", &["--wait", "60s"]),
        USER_PASSWORD,
    );
    wait_until(
        &mut conn,
        "SELECT count(*) AS v FROM pg_stat_activity WHERE application_name = 'facedb' AND wait_event = 'SyncRep'",
        "facedb's commit never waited for the standby",
    );
    run(
        dir.path(),
        &url,
        &["fresh", "--force", "--lock-timeout", "1s"],
        None,
    )
    .code(6)
    .stderr_has("its commit is waiting for a synchronous standby");
    interrupt(&waiting);
    let out = finish(waiting, Duration::from_secs(15), "the interrupted commit")
        .code(130)
        .stderr_has("interrupted:")
        .stderr_has("committed on the primary, not yet confirmed");
    note!("{}", out.stderr.trim());
    wait_until(
        &mut conn,
        &format!("SELECT (({FACEDB_SESSIONS}) = 0)::int::bigint AS v"),
        "the commit kept waiting after Ctrl-C",
    );
    assert_eq!(users_named(&mut conn, "sync3"), 1);

    // Ctrl-C while waiting for a lock: cancelled on the server, nothing committed.
    let mut blocker = primary.connect("facedb");
    blocker.exec("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;");
    let waiting = spawn(
        dir.path(),
        &url,
        &user_create("sync4", "sync4@example.com", &["--lock-timeout", "60s"]),
        USER_PASSWORD,
    );
    wait_until(
        &mut conn,
        "SELECT count(*) AS v FROM pg_stat_activity WHERE application_name = 'facedb' AND wait_event_type = 'Lock'",
        "facedb never waited for the lock",
    );
    interrupt(&waiting);
    finish(
        waiting,
        Duration::from_secs(15),
        "the interrupted lock wait",
    )
    .code(130)
    .stderr_has("nothing was committed");
    // The backend left the lock queue while the blocker still holds the lock: it was cancelled.
    wait_until(
        &mut conn,
        &format!("SELECT (({FACEDB_SESSIONS}) = 0)::int::bigint AS v"),
        "facedb's backend kept waiting after Ctrl-C",
    );
    blocker.exec("ROLLBACK");
    assert_eq!(users_named(&mut conn, "sync4"), 0);
}

/// A two-member Patroni cluster (etcd, loopback ports): a planned switchover, then a failover
/// (the leader's Patroni killed and its server crashed), each while `fresh --force --wait 60s`
/// through a URL listing both members is midway through its drop. Each cut-off run exits 3 with
/// nothing committed; run again at once, as a retry loop would, it waits for the new leader and
/// succeeds there: exactly one admin, the old rows gone, every migration recorded once.
fn fresh_rides_a_patroni_switchover_and_failover() {
    let mut cluster = support::patroni::PatroniCluster::start();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = cluster.url("facedb", "?target_session_attrs=read-write");
    run(dir.path(), &url, &["init", "--wait", "60s"], None).success();
    let migrations = facedb::migrations::all_names(facedb::config::Backend::Postgres).len() as i64;

    for planned in [true, false] {
        cluster.wait_settled();
        let leader = cluster.leader();
        let mut conn = cluster.connect(leader, "facedb");
        conn.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-ha', 'Before')");
        let mut blocker = cluster.connect(leader, "facedb");
        support::stop_facedbs_drop_midway(&mut blocker);
        let fresh = facedb(dir.path(), &url)
            .args(["fresh", "--force", "--wait", "60s"])
            .spawn()
            .expect("spawn facedb");
        support::wait_for_facedb_at_the_drop(&mut conn);
        if planned {
            cluster.switchover();
        } else {
            cluster.kill_leader();
        }
        let out = finish(fresh, Duration::from_secs(60), "the cut-off fresh")
            .code(3)
            .stderr_has("nothing facedb was doing was committed");
        assert_one_clean_line(&out);
        drop((blocker, conn));
        let started = Instant::now();
        let out = run(
            dir.path(),
            &url,
            &["fresh", "--force", "--wait", "60s"],
            None,
        )
        .success();
        note!(
            "{} : fresh again took {:?}: {}",
            if planned { "switchover" } else { "failover" },
            started.elapsed(),
            out.stderr.trim()
        );
        cluster.wait_for_leader();
        let new_leader = cluster.leader();
        assert_ne!(new_leader, leader, "the other member leads now");
        let mut conn = cluster.connect(new_leader, "facedb");
        assert_eq!(admins(&mut conn), 1, "exactly one admin on the new leader");
        assert_eq!(
            conn.i64("SELECT count(*) AS v FROM tenants"),
            0,
            "fresh ran there"
        );
        assert_eq!(
            conn.i64("SELECT count(*) AS v FROM __diesel_schema_migrations"),
            migrations
        );
    }
}

tests![
    needs::SERVER => [status_checks_only_the_seeded_admin],
    needs::CLUSTER => [
        a_read_only_primary_is_named_and_refused_with_exit_3,
        a_connection_lost_in_a_migration_is_exit_3,
    ],
    needs::CLUSTER_AND_STANDBY => [
        a_lagging_standby_listed_first_does_not_send_facedb_the_wrong_way,
        synchronous_replication_is_bounded_and_reported,
    ],
    needs::CLUSTER_AND_PATRONI => [fresh_rides_a_patroni_switchover_and_failover],
];
