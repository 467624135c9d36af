//! Disposable databases for integration tests, and the `facedb` binary pointed at them.
//!
//! Each test gets its own database: a new PostgreSQL database (dropped when the guard drops) or a
//! SQLite file in its own temporary folder. PostgreSQL comes from `FACEDB_TEST_DATABASE_URL`
//! (default: the local server). The harness runs a test that needs it only when
//! [`probe_server`] found it answering.

pub mod cluster;
pub mod data;
pub mod patroni;
pub mod secrets;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use tempfile::TempDir;

pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl From<Backend> for facedb::config::Backend {
    fn from(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => facedb::config::Backend::Postgres,
            Backend::Sqlite => facedb::config::Backend::Sqlite,
        }
    }
}

pub struct TestDb {
    pub backend: Backend,
    url: String,
    /// PostgreSQL: the database name; SQLite: the file name.
    pub name: String,
    /// The folder the test runs `facedb` in (and where the SQLite file lives).
    dir: TempDir,
    /// PostgreSQL: URL of the maintenance database, to drop ours afterwards.
    server: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn server_url() -> String {
    std::env::var("FACEDB_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_SERVER.to_owned())
}

/// Whether the test server answers; if not, why not, without its password.
pub fn probe_server() -> Result<(), String> {
    match PgConnection::establish(&server_url()) {
        Ok(_) => {
            register_server_password();
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot connect to {} ({}); set FACEDB_TEST_DATABASE_URL",
            shown_server_url(),
            e.to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        )),
    }
}

/// Whether the test server's URL leaves the password out (the server then trusts the tests).
pub fn probe_server_without_password() -> Result<(), String> {
    match url::Url::parse(&server_url()) {
        Ok(url) if url.password().is_some() => Err(format!(
            "{} has a password, and these tests give the server a wrong one",
            shown_server_url()
        )),
        _ => Ok(()),
    }
}

/// The test server's URL with its password, if any, masked.
fn shown_server_url() -> String {
    let raw = server_url();
    match url::Url::parse(&raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(_) => raw,
        Err(_) => "FACEDB_TEST_DATABASE_URL (not a URL)".to_owned(),
    }
}

/// The test server's password, if its URL has one, is a secret like the others (unless it is the
/// user name or too short to tell apart from ordinary output).
fn register_server_password() {
    let Ok(url) = url::Url::parse(&server_url()) else {
        return;
    };
    if let Some(password) = url.password() {
        let password = percent_encoding::percent_decode_str(password).decode_utf8_lossy();
        if password.len() >= 6 && password != url.username() {
            secrets::register(&password);
        }
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_dbname(url: &str, dbname: &str) -> String {
    let mut url = url::Url::parse(url).expect("test server URL parses");
    url.set_path(&format!(
        "/{}",
        percent_encoding::utf8_percent_encode(dbname, percent_encoding::NON_ALPHANUMERIC)
    ));
    url.to_string()
}

fn unique_suffix() -> String {
    format!(
        "{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

impl TestDb {
    /// A new, not yet created PostgreSQL database on the test server.
    pub fn postgres() -> TestDb {
        Self::postgres_named(&format!("facedb_test_{}", unique_suffix()))
    }

    /// Like `postgres`, with a name of the caller's choosing (made unique).
    pub fn postgres_named(prefix: &str) -> TestDb {
        let server = server_url();
        let name = if prefix.starts_with("facedb_test_") {
            prefix.to_owned()
        } else {
            format!("{prefix}{}", unique_suffix())
        };
        TestDb {
            backend: Backend::Postgres,
            url: with_dbname(&server, &name),
            name,
            dir: TempDir::new().expect("temp dir"),
            server: Some(server),
        }
    }

    /// A SQLite file (not yet created) in a new temporary folder.
    pub fn sqlite() -> TestDb {
        let dir = TempDir::new().expect("temp dir");
        let path = dir.path().join("facedb.db");
        TestDb {
            backend: Backend::Sqlite,
            url: path.display().to_string(),
            name: "facedb.db".to_owned(),
            dir,
            server: None,
        }
    }

    /// One database of each backend: SQLite, then PostgreSQL.
    pub fn each() -> Vec<TestDb> {
        vec![TestDb::sqlite(), TestDb::postgres()]
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn sqlite_path(&self) -> PathBuf {
        PathBuf::from(&self.url)
    }

    /// `facedb` with a clean environment, run in the test's own folder, pointed at this database.
    pub fn facedb(&self) -> Command {
        let mut cmd = facedb_in(self.dir());
        cmd.env("DATABASE_URL", &self.url);
        cmd
    }

    /// Like `facedb`, as a plain `std::process::Command`.
    pub fn std_facedb(&self) -> std::process::Command {
        let mut cmd = std_facedb_in(self.dir());
        cmd.env("DATABASE_URL", &self.url);
        cmd
    }

    /// Runs `facedb ARGS` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        Output::from(self.facedb().args(args).output().expect("facedb runs"))
    }

    /// `facedb init`, which must succeed.
    pub fn init(&self) -> Output {
        self.run(&["init"]).success()
    }

    pub fn connect(&self) -> Conn {
        match self.backend {
            Backend::Postgres => Conn::Postgres(
                PgConnection::establish(&self.url).expect("connect to test database"),
            ),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url).expect("open test database");
                diesel::sql_query("PRAGMA foreign_keys = ON")
                    .execute(&mut conn)
                    .unwrap();
                Conn::Sqlite(conn)
            }
        }
    }

    /// Runs SQL statements (a batch) on the test database.
    pub fn exec(&self, sql: &str) {
        self.connect().exec(sql)
    }

    /// PostgreSQL: `schema`'s `pg_dump --schema-only`, as a sorted list of statements without
    /// comments: the order of a dump follows object ids, which a reset renews.
    pub fn schema_statements(&self, schema: &str) -> Vec<String> {
        let out = std::process::Command::new("pg_dump")
            .args(["--schema-only", "--no-tablespaces"])
            .arg(format!("--schema=\"{}\"", schema.replace('"', "\"\"")))
            .arg(self.url())
            .output()
            .expect("pg_dump runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("--") && !l.starts_with('\\'))
            .collect();
        let mut statements: Vec<String> = lines
            .join("\n")
            .split(";\n")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        statements.sort();
        statements
    }

    pub fn count(&self, table: &str) -> i64 {
        self.connect()
            .i64(&format!("SELECT count(*) AS v FROM {table}"))
    }

    /// Creates the database empty, as a DBA would before running a script in it (PostgreSQL:
    /// `CREATE DATABASE`; SQLite: an empty file).
    pub fn create_empty(&self) {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(
                    self.server.as_deref().expect("a PostgreSQL test database"),
                )
                .expect("connect to the test server");
                let sql = format!("CREATE DATABASE \"{}\"", self.name.replace('"', "\"\""));
                diesel::sql_query(sql)
                    .execute(&mut conn)
                    .expect("create the test database");
            }
            Backend::Sqlite => {
                std::fs::File::create(self.sqlite_path()).expect("create the SQLite file");
            }
        }
    }

    /// How many of facedb's 12 tables exist.
    pub fn facedb_tables(&self) -> i64 {
        let names = facedb::TABLES.map(|t| format!("'{t}'")).join(", ");
        self.connect().i64(&match self.backend {
            Backend::Postgres => format!(
                "SELECT count(*) AS v FROM pg_tables WHERE schemaname = current_schema() AND tablename IN ({names})"
            ),
            Backend::Sqlite => format!(
                "SELECT count(*) AS v FROM sqlite_master WHERE type = 'table' AND name IN ({names})"
            ),
        })
    }

    /// Whether the PostgreSQL database exists on the server.
    pub fn pg_exists(&self) -> bool {
        let mut conn =
            PgConnection::establish(self.server.as_deref().expect("a PostgreSQL test database"))
                .unwrap();
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{}')",
            self.name.replace('\'', "''")
        )))
        .get_result(&mut conn)
        .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            let drop = PgConnection::establish(server).and_then(|mut conn| {
                let sql = format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name.replace('"', "\"\"")
                );
                diesel::sql_query(sql)
                    .execute(&mut conn)
                    .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
            });
            // Never panic in Drop: a test that is already failing would abort.
            if let Err(e) = drop {
                eprintln!("warning: could not drop test database {}: {e}", self.name);
            }
        }
    }
}

/// `facedb` with none of the variables it reads, run in `dir` (so no stray `.env` is read),
/// stopped if it runs for more than two minutes.
pub fn facedb_in(dir: &Path) -> Command {
    let mut cmd = Command::from_std(std_facedb_in(dir));
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Like `facedb_in`, as a plain `std::process::Command` (to spawn processes side by side).
pub fn std_facedb_in(dir: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("facedb"));
    for var in [
        "DATABASE_URL",
        "DB_HOST",
        "DB_PORT",
        "DB_USER",
        "DB_PASSWORD",
        "DB_NAME",
        "DATABASE_ECHO",
        "ENV",
        "PGPASSWORD",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "FACEDB_ADMIN_PASSWORD",
        "FACEDB_ADMIN_USERNAME",
        "FACEDB_ADMIN_EMAIL",
        "FACEDB_PASSWORD_HASH",
    ] {
        cmd.env_remove(var);
    }
    cmd.current_dir(dir);
    cmd
}

/// A connection for assertions, on either backend.
pub enum Conn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(QueryableByName)]
struct I64Row {
    #[diesel(sql_type = BigInt)]
    v: i64,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    v: String,
}

/// A row of one text column named `v`, for `diesel::sql_query` in tests.
#[derive(QueryableByName)]
pub struct TextValue {
    #[diesel(sql_type = Text)]
    pub v: String,
}

impl Conn {
    pub fn exec(&mut self, sql: &str) {
        use diesel::connection::SimpleConnection;
        let result = match self {
            Conn::Postgres(c) => c.batch_execute(sql),
            Conn::Sqlite(c) => c.batch_execute(sql),
        };
        result.unwrap_or_else(|e| panic!("SQL failed: {e}\n{sql}"));
    }

    /// A query whose one column, named `v`, is a bigint.
    pub fn i64(&mut self, sql: &str) -> i64 {
        let rows: Vec<I64Row> = match self {
            Conn::Postgres(c) => diesel::sql_query(sql).load(c),
            Conn::Sqlite(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"));
        rows.first().map(|r| r.v).expect("one row")
    }

    /// A query whose one column, named `v`, is text: one string per row.
    pub fn strings(&mut self, sql: &str) -> Vec<String> {
        let rows: Vec<TextRow> = match self {
            Conn::Postgres(c) => diesel::sql_query(sql).load(c),
            Conn::Sqlite(c) => diesel::sql_query(sql).load(c),
        }
        .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"));
        rows.into_iter().map(|r| r.v).collect()
    }
}

/// What a `facedb` run printed and how it ended. Making one checks that facedb did not panic
/// and that neither stream shows a test password (`secrets`).
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(output: std::process::Output) -> Output {
        let out = Output {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            !out.stderr.contains("panicked") && !out.stderr.contains("RUST_BACKTRACE"),
            "facedb panicked:\n{}",
            out.stderr
        );
        secrets::assert_hidden("stdout", &out.stdout);
        secrets::assert_hidden("stderr", &out.stderr);
        out
    }
}

impl Output {
    pub fn success(self) -> Output {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn code(self, expected: i32) -> Output {
        assert_eq!(
            self.code,
            Some(expected),
            "expected exit code {expected}\nstdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts that neither stream contains `secret`.
    pub fn hides(self, secret: &str) -> Output {
        assert!(
            !self.stdout.contains(secret),
            "stdout shows a secret: {}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(secret),
            "stderr shows a secret: {}",
            self.stderr
        );
        self
    }

    pub fn stderr_has(self, needle: &str) -> Output {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }

    pub fn stdout_has(self, needle: &str) -> Output {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
}

/// Holding `pg_type` stops facedb's `DROP TABLE` midway: it has locked every table and started
/// deleting their catalog entries, and waits to delete their row types. The lock lasts until
/// `blocker` goes.
pub fn stop_facedbs_drop_midway(blocker: &mut Conn) {
    blocker.exec("BEGIN; LOCK TABLE pg_catalog.pg_type IN SHARE MODE;");
}

/// Holds, in `blocker`'s open transaction, what the newest migration's `down.sql` waits for,
/// whatever it does: `pg_type` (a table or type it drops) and facedb's tables (one it alters).
pub fn stop_facedbs_rollback_midway(blocker: &mut Conn) {
    let tables: Vec<String> = facedb::TABLES.iter().map(|t| format!("\"{t}\"")).collect();
    blocker.exec(&format!(
        "BEGIN; LOCK TABLE pg_catalog.pg_type, {} IN SHARE MODE;",
        tables.join(", ")
    ));
}

/// Waits (at most 30 s) until a facedb waits at the lock of [`stop_facedbs_drop_midway`].
pub fn wait_for_facedb_at_the_drop(conn: &mut Conn) {
    wait_for_facedb_at(
        conn,
        "l.relation = 'pg_catalog.pg_type'::regclass",
        "the drop",
    );
}

/// Waits (at most 30 s) until a facedb waits at a lock of [`stop_facedbs_rollback_midway`].
pub fn wait_for_facedb_in_the_rollback(conn: &mut Conn) {
    wait_for_facedb_at(conn, "l.relation IS NOT NULL", "the rollback's down.sql");
}

/// Waits (at most 30 s) until a facedb waits for a lock on `table`.
pub fn wait_for_facedb_waiting_for_table(conn: &mut Conn, table: &str) {
    wait_for_facedb_at(
        conn,
        &format!("l.relation = '{table}'::regclass"),
        &format!("a wait for table {table}"),
    );
}

fn wait_for_facedb_at(conn: &mut Conn, which: &str, what: &str) {
    let waiting = format!(
        "SELECT count(*) AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE a.application_name = 'facedb' AND {which} AND NOT l.granted"
    );
    let started = std::time::Instant::now();
    while conn.i64(&waiting) == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "facedb never reached {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// How facedb's messages count every migration it embeds: `1 migration`, `2 migrations`. Both
/// backends have the same migrations.
pub fn every_migration() -> String {
    let count = facedb::migrations::all_names(facedb::config::Backend::Postgres).len();
    format!("{count} migration{}", if count == 1 { "" } else { "s" })
}

/// How many migrations this facedb embeds: the rows `init` leaves in `__diesel_schema_migrations`.
pub fn migration_count() -> i64 {
    facedb::migrations::all_names(facedb::config::Backend::Postgres).len() as i64
}
