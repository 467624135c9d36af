//! Reaching the server through the real binary: wrong passwords, passwords and names with special
//! characters, closed ports and stopped servers. Password checks need a private cluster with SCRAM
//! authentication (the shared test server trusts everyone).

use crate::support;

use std::time::{Duration, Instant};

use assert_cmd::Command;
use diesel::prelude::*;
use support::cluster::{encode, free_port, quote_literal, PrivateCluster};
use support::secrets::{
    CLOSED_PORT_PASSWORD, SILENT_SERVER_PASSWORD, SPECIAL_PASSWORD, WRONG_PASSWORD,
};
use support::{facedb_in, Output, TestDb};

/// Each facedb run is bounded: far above the 5 s connect timeout, far below a hung test.
const RUN_LIMIT: Duration = Duration::from_secs(60);

fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.timeout(RUN_LIMIT);
    Output::from(cmd.args(args).output().expect("facedb runs"))
}

/// `facedb` in a new temporary folder (returned too: it must outlive the run).
fn facedb() -> (tempfile::TempDir, Command) {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let cmd = facedb_in(dir.path());
    (dir, cmd)
}

/// Asserts that the output shows `secret` neither as is nor percent-encoded.
fn hides_everywhere(out: Output, secret: &str) -> Output {
    out.hides(secret).hides(&encode(secret))
}

fn a_wrong_password_exits_3_without_showing_it() {
    let cluster = PrivateCluster::start();
    let wrong = WRONG_PASSWORD;
    let at = format!("127.0.0.1:{}", cluster.port());

    let (_dir, mut cmd) = facedb();
    cmd.env("DATABASE_URL", cluster.url("postgres", wrong, "facedb"));
    let from_url = hides_everywhere(run(cmd, &["init"]).code(3), wrong).stderr_has(&at);

    let (_dir, mut cmd) = facedb();
    cmd.env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", cluster.port().to_string())
        .env("DB_USER", "postgres")
        .env("DB_PASSWORD", wrong)
        .env("DB_NAME", "facedb");
    let from_parts = hides_everywhere(run(cmd, &["init"]).code(3), wrong).stderr_has(&at);

    for out in [from_url, from_parts] {
        let stderr = out.stderr.to_lowercase();
        assert!(
            stderr.contains("check") && stderr.contains("credentials"),
            "says to check the credentials:\n{}",
            out.stderr
        );
        // Neither the superuser's real password nor a fragment of the wrong one leaks.
        let out = out
            .hides(cluster.superuser_password())
            .hides("Wr0ng")
            .hides("w/rd#x");
        assert!(
            !out.stdout.contains("created"),
            "nothing was created: {}",
            out.stdout
        );
    }
    assert!(
        !cluster.database_exists("facedb"),
        "a failed login creates no database"
    );
}

fn a_password_with_special_characters_works() {
    let cluster = PrivateCluster::start();
    let user = "app user";
    let password = SPECIAL_PASSWORD;
    let dbname = "face \"db\" x";
    cluster.create_role(user, password, "LOGIN CREATEDB");

    let (_dir, mut cmd) = facedb();
    cmd.env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", cluster.port().to_string())
        .env("DB_USER", user)
        .env("DB_PASSWORD", password)
        .env("DB_NAME", dbname);
    let out = hides_everywhere(run(cmd, &["init"]).success(), password);
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("127.0.0.1:{}/{dbname}", cluster.port())),
        "names the target: {}",
        out.stdout
    );

    assert!(
        cluster.database_exists(dbname),
        "database {dbname:?} exists"
    );
    let mut conn = cluster.connect(dbname);
    assert_eq!(conn.strings("SELECT username AS v FROM users"), ["admin"]);
    assert_eq!(
        conn.strings(&format!(
            "SELECT pg_get_userbyid(datdba) AS v FROM pg_database WHERE datname = {}",
            quote_literal(dbname)
        )),
        [user],
        "the database belongs to the user who created it"
    );
    drop(conn);

    // The same target as a percent-encoded URL.
    let url = cluster.url(user, password, dbname);
    let (_dir, mut cmd) = facedb();
    cmd.env("DATABASE_URL", &url);
    let out = hides_everywhere(run(cmd, &["init"]).success(), password);
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);

    // And through --database-url.
    let (_dir, cmd) = facedb();
    let out = hides_everywhere(
        run(cmd, &["init", "--database-url", &url]).success(),
        password,
    );
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
}

fn a_closed_port_exits_3_quickly() {
    let port = free_port();
    let url = format!("postgres://u:{CLOSED_PORT_PASSWORD}@127.0.0.1:{port}/x");
    let (_dir, cmd) = facedb();
    let started = Instant::now();
    let out = run(cmd, &["init", "--database-url", &url]);
    let took = started.elapsed();
    let out = out
        .code(3)
        .hides(CLOSED_PORT_PASSWORD)
        .stderr_has(&format!("127.0.0.1:{port}"));
    let stderr = out.stderr.to_lowercase();
    assert!(stderr.contains("connection refused"), "{}", out.stderr);
    assert!(stderr.contains("is the server running"), "{}", out.stderr);
    assert!(
        took < Duration::from_secs(10),
        "a refused connection took {took:?}"
    );
}

/// A server that accepts connections and never answers: facedb gives up after `--connect-timeout`.
fn a_silent_server_exits_3_after_the_connect_timeout() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    // Holds the accepted connections open, silent, until the test ends.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.extend(stream.ok());
        }
    });
    let url = format!("postgres://u:{SILENT_SERVER_PASSWORD}@127.0.0.1:{port}/x");
    let (_dir, cmd) = facedb();
    let started = Instant::now();
    let out = run(
        cmd,
        &["init", "--connect-timeout", "2s", "--database-url", &url],
    );
    let took = started.elapsed();
    let out = out
        .code(3)
        .hides(SILENT_SERVER_PASSWORD)
        .stderr_has(&format!("127.0.0.1:{port}"));
    assert!(out.stderr.contains("no answer within 2s"), "{}", out.stderr);
    assert!(
        took >= Duration::from_millis(1500),
        "gave up before the timeout: {took:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "the 2 s connect timeout took {took:?}"
    );
}

fn a_stopped_server_exits_3() {
    let mut cluster = PrivateCluster::start();
    let url = cluster.url("postgres", cluster.superuser_password(), "facedb");
    let password = cluster.superuser_password().to_owned();

    let (_dir, cmd) = facedb();
    let out = run(cmd, &["init", "--database-url", &url]).success();
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );

    cluster.stop();
    let (_dir, cmd) = facedb();
    let started = Instant::now();
    let out = run(
        cmd,
        &["init", "--connect-timeout", "2s", "--database-url", &url],
    );
    let took = started.elapsed();
    let out = hides_everywhere(out.code(3), &password)
        .stderr_has(&format!("127.0.0.1:{}", cluster.port()));
    assert!(
        out.stderr.to_lowercase().contains("is the server running"),
        "{}",
        out.stderr
    );
    assert!(
        took < Duration::from_secs(10),
        "a stopped server took {took:?}"
    );

    // Back up, the database is as init left it.
    cluster.start_again();
    let (_dir, cmd) = facedb();
    let out = run(cmd, &["init", "--database-url", &url]).success();
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
}

/// The shared server's host, port, user and password (`FACEDB_TEST_DATABASE_URL` or the default).
fn shared_server_parts() -> (String, u16, String, Option<String>) {
    let raw = std::env::var("FACEDB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| support::DEFAULT_SERVER.to_owned());
    let url = url::Url::parse(&raw).expect("the test server URL parses");
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let user = match url.username() {
        "" => "postgres".to_owned(),
        user => decode(user),
    };
    (
        url.host_str().unwrap_or("localhost").to_owned(),
        url.port().unwrap_or(5432),
        user,
        url.password().map(decode),
    )
}

/// `facedb init` on the shared server, with the database named through DB_NAME.
fn init_by_parts(db: &TestDb) -> Output {
    let (host, port, user, password) = shared_server_parts();
    let mut cmd = facedb_in(db.dir());
    cmd.env("DB_HOST", host)
        .env("DB_PORT", port.to_string())
        .env("DB_USER", user)
        .env("DB_NAME", &db.name);
    if let Some(password) = password {
        cmd.env("DB_PASSWORD", password);
    }
    run(cmd, &["init"])
}

fn a_database_name_with_a_quote_and_a_space_on_the_shared_server() {
    // Unique per process (the name is taken as is), and ending in a space.
    let pid = std::process::id();
    let db = TestDb::postgres_named(&format!("facedb_test_q'uo \"te {pid} "));
    let out = init_by_parts(&db).success();
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );
    assert!(db.pg_exists(), "database {:?} exists", db.name);
    assert_eq!(db.count("users"), 1);
    let out = init_by_parts(&db).success();
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);

    // Names that would end the identifier or the literal early inject nothing.
    for name in [
        format!("facedb_test_i\"; DROP DATABASE postgres; --{pid}"),
        format!("facedb_test_i'; DROP DATABASE postgres; --{pid}"),
    ] {
        assert!(
            name.len() < 64,
            "PostgreSQL names are at most 63 bytes: {name}"
        );
        let odd = TestDb::postgres_named(&name);
        init_by_parts(&odd).success();
        assert!(odd.pg_exists(), "database {:?} exists", odd.name);
        assert_eq!(odd.count("users"), 1);
        assert!(
            postgres_database_exists(),
            "the `postgres` database survived {name:?}"
        );
    }
}

/// A password that is also a letter of the server's message (the `x` of "does not exist") must
/// not hide what the message says: here, that the database is missing and init must create it.
fn a_one_letter_password_still_creates_a_missing_database() {
    let db = TestDb::postgres();
    let (host, port, user, _) = shared_server_parts();
    let mut cmd = facedb_in(db.dir());
    cmd.env("DB_HOST", host)
        .env("DB_PORT", port.to_string())
        .env("DB_USER", user)
        .env("DB_NAME", &db.name)
        .env("DB_PASSWORD", "x");
    let out = run(cmd, &["init"]).success();
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );
    assert_eq!(db.count("users"), 1);
}

fn postgres_database_exists() -> bool {
    let raw = std::env::var("FACEDB_TEST_DATABASE_URL")
        .unwrap_or_else(|_| support::DEFAULT_SERVER.to_owned());
    let mut conn = PgConnection::establish(&support::with_dbname(&raw, "template1"))
        .expect("connect to template1");
    diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = 'postgres')",
    ))
    .get_result(&mut conn)
    .expect("query pg_database")
}

/// Runs `cmd` to the end, killing it after `limit`; the output and how long it took.
fn run_bounded(mut cmd: std::process::Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn facedb");
    while child.try_wait().expect("poll facedb").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("facedb output");
    (Output::from(out), started.elapsed())
}

fn wait_rides_out_a_server_that_comes_up_late() {
    let mut cluster = PrivateCluster::start();
    let password = cluster.superuser_password().to_owned();
    let url = cluster.url("postgres", &password, "facedb");
    cluster.stop();

    let dir = tempfile::TempDir::new().expect("temp dir");
    let mut cmd = support::std_facedb_in(dir.path());
    cmd.args([
        "init",
        "--wait",
        "20s",
        "--connect-timeout",
        "2s",
        "--database-url",
        &url,
    ])
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn facedb");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        child.try_wait().expect("poll facedb").is_none(),
        "facedb gave up instead of waiting for the stopped server"
    );
    cluster.start_again();
    while child.try_wait().expect("poll facedb").is_none() && started.elapsed() < RUN_LIMIT {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = Output::from(child.wait_with_output().expect("facedb output"));
    let out = hides_everywhere(out.success(), &password)
        .stderr_has(&format!(
            "waiting up to 20s for PostgreSQL at 127.0.0.1:{}",
            cluster.port()
        ))
        .stderr_has("answered after");
    assert!(
        out.stdout.contains("created the database"),
        "{}",
        out.stdout
    );
    assert!(cluster.database_exists("facedb"));
}

fn wait_gives_up_on_a_closed_port_when_the_time_is_up() {
    let port = free_port();
    let url = format!("postgres://u:W4itPW@127.0.0.1:{port}/x");
    let dir = tempfile::TempDir::new().expect("temp dir");
    let mut cmd = support::std_facedb_in(dir.path());
    cmd.args(["init", "--wait", "2s", "--database-url", &url]);
    let (out, took) = run_bounded(cmd, RUN_LIMIT);
    let out = out
        .code(3)
        .hides("W4itPW")
        .stderr_has("connection refused")
        .stderr_has("gave up after waiting 2s");
    assert!(
        out.stderr.contains(&format!(
            "waiting up to 2s for PostgreSQL at 127.0.0.1:{port}"
        )),
        "says what it waits for: {}",
        out.stderr
    );
    assert!(
        took >= Duration::from_millis(1500),
        "did not wait: {took:?}"
    );
    assert!(took < Duration::from_secs(15), "a 2 s wait took {took:?}");
}

fn wait_does_not_retry_a_wrong_password() {
    let cluster = PrivateCluster::start();
    let url = cluster.url("postgres", "N0t-the-password", "facedb");
    let dir = tempfile::TempDir::new().expect("temp dir");
    let mut cmd = support::std_facedb_in(dir.path());
    cmd.args(["init", "--wait", "30s", "--database-url", &url]);
    let (out, took) = run_bounded(cmd, RUN_LIMIT);
    let out = hides_everywhere(out.code(3), "N0t-the-password")
        .stderr_has("password authentication failed");
    assert!(!out.stderr.contains("waiting"), "{}", out.stderr);
    assert!(
        took < Duration::from_secs(10),
        "a wrong password was retried: {took:?}"
    );
}

tests![
    needs::NOTHING => [
        a_closed_port_exits_3_quickly,
        a_silent_server_exits_3_after_the_connect_timeout,
        wait_gives_up_on_a_closed_port_when_the_time_is_up,
    ],
    needs::SERVER => [
        a_database_name_with_a_quote_and_a_space_on_the_shared_server,
    ],
    needs::SERVER_WITHOUT_PASSWORD => [
        a_one_letter_password_still_creates_a_missing_database,
    ],
    needs::CLUSTER => [
        a_wrong_password_exits_3_without_showing_it,
        a_password_with_special_characters_works,
        a_stopped_server_exits_3,
        wait_rides_out_a_server_that_comes_up_late,
        wait_does_not_retry_a_wrong_password,
    ],
];
