//! What facedb confirms is what it acts on: URL parameters that would send libpq elsewhere, SQLite
//! names that would open another file, the database a pooler really reaches, where the target
//! came from, empty variables, and passwords that must never come back out.

use std::path::Path;
use std::process::Command as StdCommand;

use crate::support::cluster::{encode, free_port, pgbouncer_program};
use crate::support::data::{add_data, counts};
use crate::support::{facedb_in, Output, TestDb};

fn run_in(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = facedb_in(dir);
    for (key, value) in envs {
        cmd.env(key, value);
    }
    Output::from(cmd.args(args).output().expect("facedb runs"))
}

/// The names in a folder, sorted: to prove that nothing was created there.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn one_error_line(out: &Output) {
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

fn a_dbname_parameter_naming_another_database_is_refused_and_both_keep_their_rows() {
    let (db_a, db_b) = (TestDb::postgres(), TestDb::postgres());
    for db in [&db_a, &db_b] {
        db.init();
        add_data(db);
    }
    let (before_a, before_b) = (counts(&db_a), counts(&db_b));
    let redirected = format!("{}?dbname={}", db_a.url(), db_b.name);
    for args in [
        &["fresh", "--force"][..],
        &["reset", "--dry-run"],
        &["status"],
    ] {
        let out = db_a
            .run(&[args, &["--database-url", &redirected]].concat())
            .code(2)
            .stderr_has("database twice")
            .stderr_has("?dbname=");
        one_error_line(&out);
    }
    assert_eq!(counts(&db_a), before_a);
    assert_eq!(counts(&db_b), before_b);
}

fn a_dbname_parameter_alone_is_the_database_everywhere_and_its_length_is_checked() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    let before = counts(&db);
    let server = db.url().rsplit_once('/').expect("a path").0;
    let url = format!("{server}/?dbname={}", db.name);
    let out = db
        .run(&["reset", "--dry-run", "--json", "--database-url", &url])
        .success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let target = report["target"].as_str().expect("a target");
    assert!(target.ends_with(&format!("/{}", db.name)), "{target}");
    assert_eq!(counts(&db), before);

    let long = "d".repeat(70);
    db.run(&[
        "status",
        "--database-url",
        &format!("{server}/?dbname={long}"),
    ])
    .code(2)
    .stderr_has("70 bytes");
}

fn parameters_that_redirect_libpq_are_refused_before_connecting() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("postgres://app:S3cretPW@127.0.0.1:{}/appdb", free_port());
    for (query, says) in [
        ("service=prod", "?service="),
        ("servicefile=/tmp/x.conf", "?servicefile="),
        ("hostaddr=10.0.0.1", "?hostaddr="),
        ("host=other.example", "host twice"),
        ("port=6543", "port twice"),
        ("user=other", "user twice"),
        ("sslmode=disable&sslmode=require", "?sslmode= twice"),
    ] {
        let url = format!("{base}?{query}");
        let out = run_in(dir.path(), &[], &["init", "--database-url", &url])
            .code(2)
            .stderr_has(says)
            .stderr_has("--database-url");
        one_error_line(&out);
    }
    // The same through libpq's own variables, which apply whatever the URL says.
    for (key, value) in [("PGHOSTADDR", "10.0.0.1"), ("PGSERVICE", "prod")] {
        let out = run_in(
            dir.path(),
            &[(key, value), ("DATABASE_URL", &base)],
            &["init"],
        )
        .code(2)
        .stderr_has(&format!("{key} is set in the environment"));
        one_error_line(&out);
    }
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

/// `file:` names are SQLite URIs: `file:facedb.db?x=.db` would open facedb.db while facedb looked
/// at (and created) a file literally named so. They and `:memory:` are refused; nothing is made.
fn sqlite_uri_filenames_and_memory_are_refused_and_the_victim_keeps_its_rows() {
    let victim = TestDb::sqlite();
    victim.init();
    add_data(&victim);
    let before = counts(&victim);
    let files = listing(victim.dir());
    for (url, says) in [
        ("sqlite:///file:facedb.db", "URI filename"),
        ("file:facedb.db?x=.db", "URI filename"),
        ("FILE:facedb.db?mode=rwc&x=.db", "URI filename"),
        ("sqlite:///file:facedb.db?mode=memory", "URI filename"),
        ("sqlite://:memory:", "keeps nothing"),
        ("sqlite:///:memory:", "keeps nothing"),
    ] {
        for args in [&["fresh", "--force"][..], &["init"], &["status"]] {
            let out = run_in(
                victim.dir(),
                &[("ENV", "dev")],
                &[args, &["--database-url", url]].concat(),
            )
            .code(2)
            .stderr_has(says);
            one_error_line(&out);
        }
    }
    assert_eq!(counts(&victim), before);
    assert_eq!(listing(victim.dir()), files, "no stray file");
}

fn a_folder_is_no_sqlite_database_for_any_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data.db")).unwrap();
    for args in [
        &["status"][..],
        &["check"],
        &["reset", "--dry-run"],
        &["fresh", "--force", "--dry-run"],
        &["init"],
        &["fresh", "--force"],
        &["user", "list"],
    ] {
        let out = run_in(dir.path(), &[("DATABASE_URL", "sqlite:///data.db")], args)
            .code(2)
            .stderr_has("data.db is a folder");
        one_error_line(&out);
    }
    assert_eq!(listing(&dir.path().join("data.db")), Vec::<String>::new());
}

fn an_empty_env_in_the_process_does_not_hide_production_in_the_env_file() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        std::fs::write(db.dir().join(".env"), "ENV=production\n").unwrap();
        db.facedb()
            .env("ENV", "")
            .args(["fresh", "--force"])
            .output()
            .map(Output::from)
            .unwrap()
            .code(4)
            .stderr_has("ENV is 'production'");
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn an_empty_database_url_in_the_process_falls_through_to_the_env_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL=sqlite:///from-env.db\n",
    )
    .unwrap();
    run_in(dir.path(), &[("DATABASE_URL", "")], &["init"])
        .success()
        .stderr_has("target from-env.db (from DATABASE_URL in ./.env)");
    assert!(dir.path().join("from-env.db").is_file());
}

/// Every form a password can take on its way to libpq: as given, percent-encoded, as the `url`
/// crate re-encodes it, form-encoded.
fn forms(password: &str) -> Vec<String> {
    let reencoded = url::Url::parse(&format!("postgres://u:{password}@h/d"))
        .ok()
        .and_then(|u| u.password().map(str::to_owned));
    let form: String = url::form_urlencoded::byte_serialize(password.as_bytes()).collect();
    [
        Some(password.to_owned()),
        Some(encode(password)),
        reencoded,
        Some(form),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn a_password_is_never_printed_however_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let closed = free_port();
    for (password, code) in [
        // Not validly percent-encoded: refused before libpq quotes it back.
        ("my secret%zz", 2),
        ("%zzTopSecret", 2),
        // Valid, sent to a port where nothing listens.
        ("p@ss word", 3),
        ("pässwörd-ünï", 3),
    ] {
        let url = format!("postgres://app:{password}@127.0.0.1:{closed}/appdb");
        for json in [false, true] {
            let mut args = vec!["status", "--database-url", &url];
            if json {
                args.push("--json");
            }
            let mut out = run_in(dir.path(), &[], &args).code(code);
            for form in forms(password) {
                out = out.hides(&form);
            }
            if json {
                let error: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
                assert_eq!(error["error"]["exit_code"], code, "{}", out.stdout);
            }
        }
    }
}

fn the_target_line_names_where_the_target_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    // No configuration at all: the built-in defaults, said so (whatever the server answers).
    let out = run_in(path, &[], &["status", "--connect-timeout", "1s"]);
    assert!(
        out.stderr.starts_with(
            "target localhost:5432/facedb (built-in defaults: no DATABASE_URL or DB_* set)\n"
        ),
        "{}",
        out.stderr
    );

    std::fs::write(path.join(".env"), "DATABASE_URL=sqlite:///dotenv.db\n").unwrap();
    run_in(path, &[], &["init"])
        .success()
        .stderr_has("target dotenv.db (from DATABASE_URL in ./.env)");
    let status = run_in(path, &[], &["status", "--json"]).success();
    let report: serde_json::Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(report["target_source"], "from DATABASE_URL in ./.env");
    let quiet = run_in(path, &[], &["init", "--quiet"]).success();
    assert_eq!(quiet.stderr, "", "--quiet prints no target line");

    std::fs::create_dir(path.join("conf")).unwrap();
    std::fs::write(
        path.join("conf/app.env"),
        "DATABASE_URL=sqlite:///other.db\n",
    )
    .unwrap();
    run_in(path, &[], &["init", "--env-file", "conf/app.env"])
        .success()
        .stderr_has("target other.db (from DATABASE_URL in conf/app.env)");

    // Given on purpose, in the process or as a flag: no line, but the result names the target.
    let out = run_in(path, &[("DATABASE_URL", "sqlite:///process.db")], &["init"]).success();
    assert!(!out.stderr.contains("target "), "{}", out.stderr);
    out.stdout_has("process.db");
}

fn connection_errors_name_the_setting_that_was_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path();
    let port = free_port().to_string();
    let url = format!("postgres://app:S3cretPW@127.0.0.1:{port}/appdb");

    let out = run_in(path, &[], &["init", "--database-url", &url])
        .code(3)
        .stderr_has("Check --database-url");
    one_error_line(&out);

    run_in(path, &[("DATABASE_URL", &url)], &["init"])
        .code(3)
        .stderr_has("Check DATABASE_URL");

    std::fs::write(
        path.join(".env"),
        format!("DB_HOST=127.0.0.1\nDB_PORT={port}\n"),
    )
    .unwrap();
    run_in(path, &[("DB_NAME", "appdb")], &["init"])
        .code(3)
        .stderr_has("target 127.0.0.1:")
        .stderr_has("(from DB_HOST, DB_PORT in ./.env and DB_NAME in the environment; built-in defaults for the other DB_* parts)")
        .stderr_has("Check DB_HOST/DB_PORT");

    std::fs::write(path.join(".env"), format!("DATABASE_URL={url}\n")).unwrap();
    run_in(path, &[], &["init"])
        .code(3)
        .stderr_has("Check DATABASE_URL in ./.env");
}

fn a_refused_production_init_leaves_no_database_behind() {
    for db in TestDb::each() {
        let out = db
            .facedb()
            .env("ENV", "production")
            .arg("init")
            .output()
            .map(Output::from)
            .unwrap()
            .code(4)
            .stderr_has("default password")
            .stderr_has("nothing was changed");
        one_error_line(&out);
        match db.backend {
            crate::support::Backend::Postgres => assert!(!db.pg_exists(), "database created"),
            crate::support::Backend::Sqlite => assert!(!db.sqlite_path().exists(), "file created"),
        }
        // With a password of its own, the same init creates and seeds.
        db.facedb()
            .env("ENV", "production")
            .env("FACEDB_ADMIN_PASSWORD", "Pr0d-Adm1n-Pw")
            .arg("init")
            .output()
            .map(Output::from)
            .unwrap()
            .success();
        assert_eq!(db.count("users"), 1, "{:?}", db.backend);
    }
}

/// A pooler that maps the configured name onto another database: facedb would reset that other
/// database while naming, guarding and confirming the alias. It reads back what it reached and
/// refuses.
fn a_pooler_alias_for_another_database_is_refused_and_that_database_keeps_its_rows() {
    let real = TestDb::postgres();
    real.init();
    add_data(&real);
    let before = counts(&real);
    let pooler = Pooler::start(&[("facedb_alias", &real.name)]);
    let url = format!("postgres://postgres@127.0.0.1:{}/facedb_alias", pooler.port);
    for args in [
        &["fresh", "--force"][..],
        &["status"],
        &["reset", "--dry-run"],
    ] {
        let out = real
            .run(&[args, &["--database-url", &url]].concat())
            .code(2)
            .stderr_has(&format!("connected to database '{}'", real.name))
            .stderr_has("not to 'facedb_alias'");
        one_error_line(&out);
    }
    assert_eq!(counts(&real), before);
}

/// A PgBouncer of the test's own, on a free port, in front of the test server (trust, session
/// pooling). It refuses to run as root, so it runs as `postgres` then.
struct Pooler {
    dir: tempfile::TempDir,
    port: u16,
}

impl Pooler {
    fn start(aliases: &[(&str, &str)]) -> Pooler {
        let pgbouncer =
            pgbouncer_program().unwrap_or_else(|why| panic!("cannot start PgBouncer: {why}"));
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let root = dir.path();
        let databases: String = aliases
            .iter()
            .map(|(alias, real)| format!("{alias} = host=127.0.0.1 port=5432 dbname={real}\n"))
            .collect();
        std::fs::write(
            root.join("pgbouncer.ini"),
            format!(
                "[databases]\n{databases}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {root}/users.txt\npool_mode = session\n\
                 logfile = {root}/pgbouncer.log\npidfile = {root}/pgbouncer.pid\n",
                root = root.display()
            ),
        )
        .unwrap();
        std::fs::write(root.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        let mut command = StdCommand::new(&pgbouncer);
        if is_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
            command = StdCommand::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&pgbouncer);
        }
        let status = command
            .args(["-d", &root.join("pgbouncer.ini").display().to_string()])
            .status()
            .expect("start pgbouncer");
        assert!(status.success(), "pgbouncer did not start");
        let pooler = Pooler { dir, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "pgbouncer does not listen: {}",
                std::fs::read_to_string(pooler.dir.path().join("pgbouncer.log"))
                    .unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        pooler
    }
}

impl Drop for Pooler {
    fn drop(&mut self) {
        let pid =
            std::fs::read_to_string(self.dir.path().join("pgbouncer.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<u32>() {
            let _ = StdCommand::new("kill").arg(pid.to_string()).status();
        }
    }
}

fn is_root() -> bool {
    StdCommand::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

tests![
    needs::NOTHING => [
        parameters_that_redirect_libpq_are_refused_before_connecting,
        sqlite_uri_filenames_and_memory_are_refused_and_the_victim_keeps_its_rows,
        a_folder_is_no_sqlite_database_for_any_command,
        an_empty_database_url_in_the_process_falls_through_to_the_env_file,
        a_password_is_never_printed_however_it_is_written,
        the_target_line_names_where_the_target_came_from,
        connection_errors_name_the_setting_that_was_used,
    ],
    needs::SERVER => [
        a_dbname_parameter_naming_another_database_is_refused_and_both_keep_their_rows,
        a_dbname_parameter_alone_is_the_database_everywhere_and_its_length_is_checked,
        an_empty_env_in_the_process_does_not_hide_production_in_the_env_file,
        a_refused_production_init_leaves_no_database_behind,
    ],
    needs::SERVER_AND_PGBOUNCER => [
        a_pooler_alias_for_another_database_is_refused_and_that_database_keeps_its_rows,
    ],
];
