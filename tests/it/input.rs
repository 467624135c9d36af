//! Bad input, case by case: malformed URLs, unknown schemes, bad ports, odd names, unreadable or
//! malformed env files, unknown flags and commands, bad durations. Each must end with its
//! documented exit code and one clear `error: …` line on stderr (clap's errors may add their usage
//! lines), never a panic (`Output` checks that, and that no test password shows).
//!
//! Every case runs `fresh --force`, the most destructive command, with DB_HOST/DB_PORT pointing at
//! a closed port: input that facedb wrongly ignored, falling back to the DB_* variables, would show
//! up as exit 3 instead of the expected code, and could never reset a real database.

use crate::harness::expect_panic;
use crate::support;

use support::cluster::free_port;
use support::secrets::{ADMIN_PASSWORD, CLOSED_PORT_PASSWORD, ENV_FILE_PASSWORD};
use support::{facedb_in, std_facedb_in, Output};

struct Case {
    /// What is wrong, for failure messages.
    what: &'static str,
    /// The command line (by default `fresh --force`).
    args: &'static [&'static str],
    /// `--database-url`, if any.
    url: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    /// Files to create in the folder facedb runs in; a name ending in '/' is a folder.
    files: &'static [(&'static str, &'static [u8])],
    code: i32,
    /// What stderr's first line must say (each, case-insensitively).
    says: &'static [&'static str],
    /// A clap error: the `error:` line may be followed by clap's tip and usage lines.
    clap: bool,
}

const FRESH_FORCE: &[&str] = &["fresh", "--force"];

/// `facedb ARGS`, a usage error.
const fn args(what: &'static str, args: &'static [&'static str]) -> Case {
    Case {
        what,
        args,
        url: None,
        env: &[],
        files: &[],
        code: 2,
        says: &[],
        clap: false,
    }
}

/// `facedb fresh --force --database-url URL`, a usage error.
const fn url(what: &'static str, url: &'static str) -> Case {
    let mut case = args(what, FRESH_FORCE);
    case.url = Some(url);
    case
}

/// `facedb fresh --force` with environment variables, a usage error.
const fn env(what: &'static str, env: &'static [(&'static str, &'static str)]) -> Case {
    let mut case = args(what, FRESH_FORCE);
    case.env = env;
    case
}

impl Case {
    const fn files(mut self, files: &'static [(&'static str, &'static [u8])]) -> Case {
        self.files = files;
        self
    }

    const fn says(mut self, says: &'static [&'static str]) -> Case {
        self.says = says;
        self
    }

    const fn clap(mut self) -> Case {
        self.clap = true;
        self
    }
}

/// Lines clap prints after its `error:` line.
fn is_clap_usage_line(line: &str) -> bool {
    line.is_empty()
        || line.starts_with("Usage: facedb")
        || line.starts_with("For more information, try '--help'.")
        || line.starts_with("  tip: ")
        || line.starts_with("  [possible values: ")
}

fn run_case(case: &Case) -> Output {
    let dir = tempfile::TempDir::new().expect("temp dir");
    for (name, content) in case.files {
        let path = dir.path().join(name);
        if name.ends_with('/') {
            std::fs::create_dir_all(&path).expect("create a fixture folder");
        } else {
            std::fs::write(&path, content).expect("write a fixture file");
        }
    }
    let mut cmd = facedb_in(dir.path());
    cmd.timeout(std::time::Duration::from_secs(30))
        .env("DB_HOST", "127.0.0.1")
        .env("DB_PORT", free_port().to_string())
        .env("DB_PASSWORD", CLOSED_PORT_PASSWORD);
    for (key, value) in case.env {
        cmd.env(key, value);
    }
    if let Some(url) = case.url {
        cmd.args(["--database-url", url]);
    }
    let out = cmd
        .args(case.args)
        .args(["--connect-timeout", "2s"])
        .output()
        .expect("facedb runs");
    check(
        case.what,
        Output::from(out),
        case.code,
        case.says,
        case.clap,
    )
}

fn check(what: &str, out: Output, code: i32, says: &[&str], clap: bool) -> Output {
    assert_eq!(
        out.code,
        Some(code),
        "{what}: expected exit {code}\nstdout: {}\nstderr: {}",
        out.stdout,
        out.stderr
    );
    let mut lines = out.stderr.lines();
    let first = lines.next().unwrap_or_default();
    assert!(
        first.starts_with("error: "),
        "{what}: stderr starts with `error: `:\n{}",
        out.stderr
    );
    for needle in says {
        assert!(
            first.to_lowercase().contains(&needle.to_lowercase()),
            "{what}: the error says {needle:?}:\n{}",
            out.stderr
        );
    }
    let rest: Vec<&str> = lines.collect();
    if clap {
        assert!(
            rest.iter().all(|l| is_clap_usage_line(l)),
            "{what}: only clap's usage lines follow the error:\n{}",
            out.stderr
        );
    } else {
        assert!(rest.is_empty(), "{what}: one line:\n{}", out.stderr);
    }
    assert_eq!(out.stdout, "", "{what}: nothing on stdout");
    out
}

const CASES: &[Case] = &[
    // Database URLs.
    url("a MySQL URL", "mysql://root:S3cretPW@db/app").says(&[
        "--database-url",
        "scheme 'mysql'",
        "postgres://",
        "sqlite://",
    ]),
    url("an HTTP URL", "http://example.com/app").says(&["scheme 'http'"]),
    url("a word", "foo").says(&["not a database URL", ".db"]),
    url("an empty --database-url", "").says(&["--database-url", "not a database URL"]),
    env(
        "an unknown scheme in DATABASE_URL",
        &[("DATABASE_URL", "mysql://db/app")],
    )
    .says(&["DATABASE_URL", "scheme 'mysql'"]),
    url("port 0", "postgres://u:S3cretPW@db:0/app").says(&["--database-url", "port 0"]),
    url("port 65536", "postgres://u:S3cretPW@db:65536/app").says(&["invalid port number"]),
    url("port -1", "postgres://u:S3cretPW@db:-1/app").says(&["invalid port number"]),
    url("a port not a number", "postgres://u:S3cretPW@db:abc/app").says(&["invalid port number"]),
    url(
        "a bad port parameter",
        "postgres://u:S3cretPW@/app?host=/tmp&port=abc",
    )
    .says(&["port", "1 to 65535", "'abc'"]),
    url("an unclosed IPv6 host", "postgres://u:S3cretPW@[::1/app").says(&["invalid IPv6 address"]),
    url("a host with a space", "postgres://u:S3cretPW@db host/app")
        .says(&["not a valid PostgreSQL URL"]),
    url(
        "a SQLite file in a missing folder",
        "sqlite:///missing/app.db",
    )
    .says(&["folder missing does not exist"]),
    url(
        "an unknown sslmode",
        "postgres://u:S3cretPW@127.0.0.1:1/app?sslmode=bogus",
    )
    .says(&["bad connection parameter", "invalid sslmode value"]),
    url(
        "an unknown URL parameter",
        "postgres://u:S3cretPW@127.0.0.1:1/app?colour=blue",
    )
    .says(&["bad connection parameter", "colour"]),
    url(
        "an unknown session kind",
        "postgres://u:S3cretPW@127.0.0.1:1/app?target_session_attrs=any-old",
    )
    .says(&["bad connection parameter", "target_session_attrs"]),
    url("a SQLite URL without a file", "sqlite://")
        .says(&["--database-url", "names no SQLite file"]),
    url("a SQLite URL with only a slash", "sqlite:///").says(&["names no SQLite file"]),
    url("a SQLite URL ending in a slash", "sqlite:///data/")
        .files(&[("data/", b"")])
        .says(&["names no SQLite file", "folder data/"]),
    url("a SQLite URL naming a folder", "sqlite:///data")
        .files(&[("data/", b"")])
        .says(&["data is a folder", "data/facedb.db"]),
    url("a .db path that is a folder", "data.db")
        .files(&[("data.db/", b"")])
        .says(&["data.db is a folder"]),
    // The DB_* variables.
    env("DB_PORT 0", &[("DB_PORT", "0")]).says(&["DB_PORT", "1 to 65535", "'0'"]),
    env("DB_PORT 65536", &[("DB_PORT", "65536")]).says(&["DB_PORT", "'65536'"]),
    env("DB_PORT -1", &[("DB_PORT", "-1")]).says(&["DB_PORT", "'-1'"]),
    env("DB_PORT abc", &[("DB_PORT", "abc")]).says(&["DB_PORT", "'abc'"]),
    env("DB_PORT a space", &[("DB_PORT", " ")]).says(&["DB_PORT"]),
    env("DB_PORT with a unit", &[("DB_PORT", "5432x")]).says(&["DB_PORT"]),
    env(
        "a DB_NAME over 63 bytes",
        &[(
            "DB_NAME",
            "facedb_with_a_name_far_too_long_for_postgresql_to_keep_whole_64b",
        )],
    )
    .says(&["DB_NAME is 64 bytes long", "at most 63 bytes"]),
    url(
        "a database name over 63 bytes",
        "postgres://u:S3cretPW@db/facedb_with_a_name_far_too_long_for_postgresql_to_keep_whole_64b",
    )
    .says(&["the database name in --database-url is 64 bytes long"]),
    env("DB_HOST with a space", &[("DB_HOST", "db host")]).says(&["DB_HOST", "db host"]),
    env("an unknown hash", &[("FACEDB_PASSWORD_HASH", "md5")])
        .says(&["FACEDB_PASSWORD_HASH", "argon2id or bcrypt"]),
    // Env files.
    args(
        "a missing --env-file",
        &["init", "--env-file", "missing.env"],
    )
    .says(&["env file missing.env", "no such file"]),
    args("a folder as --env-file", &["init", "--env-file", "conf"])
        .files(&[("conf/", b"")])
        .says(&["env file conf", "is a directory"]),
    args(
        "an env file not in UTF-8",
        &["init", "--env-file", "latin1.env"],
    )
    .files(&[("latin1.env", b"DB_NAME=caf\xe9\n")])
    .says(&["env file latin1.env", "UTF-8"]),
    args("a malformed line in .env", &["init"])
        .files(&[(".env", b"DB_PORT=5432\nNOT A VARIABLE\n")])
        .says(&["env file .env", "line 2 is malformed", "KEY=value"]),
    args(
        "an unquoted value with a space",
        &["init", "--env-file", "prod.env"],
    )
    .files(&[(
        "prod.env",
        b"DB_USER=app\nDB_PASSWORD=Env-F1le-Secr3t and more\n",
    )])
    .says(&[
        "env file prod.env",
        "line 2 (DB_PASSWORD) is malformed",
        "quote",
    ]),
    args("an unclosed quote", &["init", "--env-file", "prod.env"])
        .files(&[(
            "prod.env",
            b"# production\nexport DB_PASSWORD=\"Env-F1le-Secr3t\nDB_NAME=app\n",
        )])
        .says(&[
            "env file prod.env",
            "line 2 (DB_PASSWORD) is malformed",
            "close every quote",
        ]),
    // Flags and commands: clap's errors.
    args("an unknown flag", &["--frobnicate", "init"])
        .says(&["unexpected argument '--frobnicate'"])
        .clap(),
    args("a misspelt flag", &["fresh", "--forc"])
        .says(&["'--forc'"])
        .clap(),
    args("an unknown command", &["frsh"])
        .says(&["unrecognized subcommand 'frsh'"])
        .clap(),
    args("an extra argument", &["init", "extra"])
        .says(&["unexpected argument 'extra'"])
        .clap(),
    args("a repeated flag", &["fresh", "--force", "--force"])
        .says(&["--force"])
        .clap(),
    args("a word as a duration", &["init", "--lock-timeout", "soon"])
        .says(&["--lock-timeout", "'soon' is not a duration"])
        .clap(),
    args("an empty duration", &["init", "--lock-timeout", ""])
        .says(&["not a duration"])
        .clap(),
    args("an unknown unit", &["init", "--wait", "5parsecs"])
        .says(&["--wait", "unknown unit 'parsecs'"])
        .clap(),
    args("a negative duration", &["init", "--connect-timeout=-1s"])
        .says(&["--connect-timeout", "not a duration"])
        .clap(),
    args(
        "a duration too big for the clock",
        &["init", "--lock-timeout", "99999999999999999999"],
    )
    .says(&["--lock-timeout", "too long", "at most 24h"])
    .clap(),
    args(
        "a wait past the end of time",
        &["init", "--wait", "10000000000000000000s"],
    )
    .says(&["--wait", "too long"])
    .clap(),
    args(
        "a lock timeout PostgreSQL refuses",
        &["init", "--lock-timeout", "1000000h"],
    )
    .says(&["--lock-timeout", "too long"])
    .clap(),
    args(
        "a connect timeout libpq refuses",
        &["init", "--connect-timeout", "100000000000"],
    )
    .says(&["--connect-timeout", "too long"])
    .clap(),
    args("an unknown hash flag", &["init", "--password-hash", "md5"])
        .says(&["'md5'", "--password-hash"])
        .clap(),
    args(
        "an option the command does not read",
        &["status", "--password-hash", "bcrypt"],
    )
    .says(&["unexpected argument '--password-hash'"])
    .clap(),
    args(
        "an option before a command that does not read it",
        &["--password-hash", "bcrypt", "check"],
    )
    .says(&["unexpected argument '--password-hash'"])
    .clap(),
    args(
        "--force on a command that never asks",
        &["status", "--force"],
    )
    .says(&["'--force'"])
    .clap(),
    url(
        "a percent sign that encodes nothing",
        "postgres://u:S3cretPW@db/app?sslmode=%",
    )
    .says(&["'%'", "query string"]),
    args(
        "an escape sequence in a username",
        &[
            "user",
            "create",
            "--username",
            "eve\u{1b}[2J",
            "--password-stdin",
        ],
    )
    .says(&["--username", "control characters"]),
    args(
        "a line break in a name",
        &["user", "create", "--first-name", "Ada\nLovelace"],
    )
    .says(&["--first-name", "control characters"]),
];

fn bad_input_gets_one_clear_line_and_its_exit_code() {
    for case in CASES {
        run_case(case);
    }
}

fn no_command_shows_the_help_and_exits_2() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let out = Output::from(facedb_in(dir.path()).output().expect("facedb runs"));
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains("Usage: facedb"), "{}", out.stderr);
    assert!(
        out.stderr.contains("fresh"),
        "lists the commands: {}",
        out.stderr
    );
}

fn a_usage_error_with_json_prints_the_error_document() {
    let dir = tempfile::TempDir::new().expect("temp dir");
    let out = Output::from(
        facedb_in(dir.path())
            .args(["--json", "init", "--database-url", "mysql://db/app"])
            .output()
            .expect("facedb runs"),
    );
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["error"]["exit_code"], 2);
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("scheme 'mysql'")),
        "{doc}"
    );
}

/// An empty variable counts as unset, for every variable: `DB_PORT=` is port 5432, `DB_NAME=` is
/// `facedb`. `reset` without a terminal names its target and refuses before connecting.
fn an_empty_variable_counts_as_unset() {
    for (key, target) in [
        ("DB_HOST", "localhost:5432/facedb"),
        ("DB_PORT", "db:5432/facedb"),
        ("DB_NAME", "db:5432/facedb"),
        ("DATABASE_URL", "db:5432/facedb"),
    ] {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let mut cmd = std_facedb_in(dir.path());
        if key != "DB_HOST" {
            cmd.env("DB_HOST", "db");
        }
        let out = Output::from(
            cmd.env(key, "")
                .arg("reset")
                .stdin(std::process::Stdio::null())
                .output()
                .expect("facedb runs"),
        );
        check(key, out, 4, &[&format!("reset {target} without")], false);
    }
}

/// A variable that is not UTF-8 is an error, not unset: a garbled DATABASE_URL must not send
/// `fresh --force` to the database the DB_* variables name.
fn a_variable_that_is_not_utf8_is_a_usage_error() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    for key in ["DATABASE_URL", "DB_PASSWORD", "DB_NAME"] {
        let dir = tempfile::TempDir::new().expect("temp dir");
        let out = facedb_in(dir.path())
            .env("DB_HOST", "127.0.0.1")
            .env("DB_PORT", free_port().to_string())
            .env(key, OsStr::from_bytes(b"caf\xe9.db"))
            .args(["fresh", "--force", "--connect-timeout", "2s"])
            .output()
            .expect("facedb runs");
        check(key, Output::from(out), 2, &[key, "not valid UTF-8"], false);
    }
}

/// The check that every test relies on: an output that shows a test password fails.
fn an_output_showing_a_password_fails_the_test() {
    use std::os::unix::process::ExitStatusExt;
    expect_panic("shows the secret", || {
        let _ = Output::from(std::process::Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: Vec::new(),
            stderr: format!("error: cannot log in with {ADMIN_PASSWORD}").into_bytes(),
        });
    });
}

/// Also percent-encoded, as it would be in a URL.
fn an_output_showing_an_encoded_password_fails_the_test() {
    use std::os::unix::process::ExitStatusExt;
    let encoded = support::cluster::encode(ENV_FILE_PASSWORD);
    assert_ne!(encoded, ENV_FILE_PASSWORD);
    expect_panic("shows the secret", || {
        let _ = Output::from(std::process::Output {
            status: std::process::ExitStatus::from_raw(0),
            stdout: format!("postgres://u:{encoded}@db/app").into_bytes(),
            stderr: Vec::new(),
        });
    });
}

tests![
    needs::NOTHING => [
        bad_input_gets_one_clear_line_and_its_exit_code,
        no_command_shows_the_help_and_exits_2,
        a_usage_error_with_json_prints_the_error_document,
        an_empty_variable_counts_as_unset,
        a_variable_that_is_not_utf8_is_a_usage_error,
        an_output_showing_a_password_fails_the_test,
        an_output_showing_an_encoded_password_fails_the_test,
    ],
];
