//! What a person meets in the first hour: hints that keep the target and work when pasted, the
//! ids `user create` needs, demo data kept out of production, make's refusals, completions, a
//! host name typo, and bad input at the edges (URLs, env files, passwords). Prompts run in a real
//! pseudo-terminal.

use crate::support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_command, PtySession};
use support::{facedb_in, std_facedb_in, Output, TestDb};

const PASSWORD: &str = "correct horse battery staple";

/// A folder holding `facedb` (a link to the binary under test), to put first on PATH: a hint is
/// pasted into a shell as a person would.
fn path_with_facedb(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("facedb");
    if !link.exists() {
        std::os::unix::fs::symlink(assert_cmd::cargo::cargo_bin("facedb"), &link).unwrap();
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The command between backquotes after `marker` in `text`.
fn hint_after(text: &str, marker: &str) -> String {
    let at = text
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker:?} in:\n{text}"));
    let rest = &text[at + marker.len()..];
    let start = rest.find('`').expect("a hint in backquotes") + 1;
    let end = start + rest[start..].find('`').expect("closing backquote");
    rest[start..end].to_owned()
}

/// Runs `hint` in `sh` in `dir` with facedb on PATH and none of facedb's variables set, as a
/// person pastes it into a new shell in the same folder.
fn paste(dir: &Path, hint: &str) -> std::process::Command {
    let facedb = std_facedb_in(dir);
    let mut cmd = std::process::Command::new("sh");
    for (name, value) in facedb.get_envs() {
        match value {
            Some(value) => cmd.env(name, value),
            None => cmd.env_remove(name),
        };
    }
    cmd.env("PATH", path_with_facedb(dir))
        .current_dir(dir)
        .args(["-c", hint]);
    cmd
}

fn pasted(dir: &Path, hint: &str) -> Output {
    Output::from(paste(dir, hint).stdin(Stdio::null()).output().unwrap())
}

fn in_terminal(cmd: std::process::Command) -> PtySession {
    spawn_command(cmd, Some(30_000)).expect("spawn in a pty")
}

/// Waits for `prompt`, then a moment more (the prompt's raw mode discards keys typed before it),
/// and sends `keys`.
fn answer(session: &mut PtySession, prompt: &str, keys: &str) {
    session.exp_string(prompt).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    session.send(keys).unwrap();
    session.flush().unwrap();
}

fn exit_code(session: &mut PtySession) -> (i32, String) {
    let rest = session.exp_eof().expect("the command ends");
    match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => (code, rest),
        other => panic!("did not exit normally: {other:?}"),
    }
}

fn hints_name_the_target_and_work_when_pasted() {
    // A SQLite file given with --database-url, in a folder with no .env and no DATABASE_URL.
    let dir = tempfile::TempDir::new().unwrap();
    let run = |args: &[&str]| Output::from(facedb_in(dir.path()).args(args).output().unwrap());
    let status = run(&["--database-url", "my db.db", "status"]).code(5);
    let init = hint_after(&status.stdout, "does not exist: run ");
    assert_eq!(init, "facedb --database-url 'my db.db' init");
    pasted(dir.path(), &init).success();
    assert!(dir.path().join("my db.db").exists());

    let status = run(&["status", "--database-url", "my db.db"]).success();
    let reset_password = hint_after(&status.stdout, "still has the default password: ");
    assert_eq!(
        reset_password,
        "facedb --database-url 'my db.db' user reset-password admin"
    );
    // Pasted as is, it asks on the terminal and sets the password of that file's admin.
    let mut session = in_terminal(paste(dir.path(), &reset_password));
    answer(&mut session, "New password", &format!("{PASSWORD}\r"));
    answer(
        &mut session,
        "Repeat the password",
        &format!("{PASSWORD}\r"),
    );
    assert_eq!(exit_code(&mut session).0, 0);
    let status = run(&["--database-url", "my db.db", "status"]).success();
    assert!(
        !status.stdout.contains("default password"),
        "{}",
        status.stdout
    );

    let unknown = Output::from(
        facedb_in(dir.path())
            .args([
                "--database-url",
                "my db.db",
                "user",
                "reset-password",
                "nobody",
            ])
            .arg("--password-stdin")
            .write_stdin(format!("{PASSWORD}\n"))
            .output()
            .unwrap(),
    )
    .code(4);
    let message = unknown.stderr;
    let start = message.find(": `").expect("a hint") + 3;
    let list = &message[start..start + message[start..].find('`').unwrap()];
    assert_eq!(list, "facedb --database-url 'my db.db' user list");
    pasted(dir.path(), list).success().stdout_has("admin");
}

fn a_schema_given_is_kept_in_the_hint() {
    let db = TestDb::postgres();
    let out = Output::from(
        facedb_in(db.dir())
            .args(["--database-url", db.url(), "--schema", "app one", "status"])
            .output()
            .unwrap(),
    )
    .code(5);
    let init = hint_after(&out.stdout, "does not exist: run ");
    assert!(init.ends_with(" --schema 'app one' init"), "{init}");
    pasted(db.dir(), &init).success();
    assert_eq!(
        db.connect().i64(
            "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = 'app one' AND table_name = 'users'"
        ),
        1
    );
}

fn user_create_offers_the_tenants_sites_and_lists_their_ids_without_a_terminal() {
    for db in TestDb::each() {
        db.run(&["init", "--with-demo-data"]).success();
        db.exec("INSERT INTO sites (tenant_id, name) VALUES ('t-dev', 'Annex')");
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-2', 'Other')");
        db.exec("INSERT INTO sites (tenant_id, name) VALUES ('t-2', 'Elsewhere')");
        let ids = |tenant: &str| {
            db.connect().strings(&format!(
                "SELECT CAST(site_id AS TEXT) AS v FROM sites WHERE tenant_id = '{tenant}' ORDER BY site_id"
            ))
        };
        let (dev, other) = (ids("t-dev"), ids("t-2"));
        let args = [
            "user",
            "create",
            "--role",
            "site_manager",
            "--tenant",
            "t-dev",
            "--username",
            "sam",
            "--email",
            "sam@example.com",
            "--first-name",
            "Sam",
            "--last-name",
            "Lee",
        ];
        let out = Output::from(
            db.facedb()
                .args(args)
                .arg("--password-stdin")
                .write_stdin(format!("{PASSWORD}\n"))
                .output()
                .unwrap(),
        )
        .code(2)
        .stderr_has(&format!(
            "the sites of tenant 't-dev' are {} (Development Site), {} (Annex)",
            dev[0], dev[1]
        ));
        assert!(!out.stderr.contains(&other[0]), "{}", out.stderr);
        assert_eq!(db.count("users"), 1);

        let mut cmd = db.std_facedb();
        cmd.args(args);
        let mut session = in_terminal(cmd);
        // The second site: one arrow down, then Enter.
        answer(&mut session, "Site of tenant 't-dev'", "\x1b[B");
        std::thread::sleep(Duration::from_millis(200));
        session.send("\r").unwrap();
        session.flush().unwrap();
        answer(&mut session, "Password", &format!("{PASSWORD}\r"));
        answer(
            &mut session,
            "Repeat the password",
            &format!("{PASSWORD}\r"),
        );
        let (code, screen) = exit_code(&mut session);
        assert_eq!(code, 0, "{:?}: {screen}", db.backend);
        assert_eq!(
            db.connect()
                .strings("SELECT CAST(site_id AS TEXT) AS v FROM users WHERE username = 'sam'"),
            [dev[1].clone()],
            "{:?}",
            db.backend
        );
    }
}

fn status_shows_tenants_and_sites_with_their_ids_or_their_counts() {
    for db in TestDb::each() {
        db.run(&["init", "--with-demo-data"])
            .success()
            .stderr_has("site 1 'Development Site'");
        let site = db
            .connect()
            .strings("SELECT CAST(site_id AS TEXT) AS v FROM sites");
        db.run(&["status"]).success().stdout_has(&format!(
            "t-dev (Development Tenant): site {} (Development Site)",
            site[0]
        ));
        let json: serde_json::Value =
            serde_json::from_str(&db.run(&["status", "--json"]).success().stdout).unwrap();
        assert_eq!(json["tenants"]["tenant_count"], 1);
        assert_eq!(
            json["tenants"]["listed"][0]["sites"][0]["site_id"].to_string(),
            site[0]
        );
        for n in 0..20 {
            db.exec(&format!(
                "INSERT INTO tenants (tenant_id, name) VALUES ('t-{n}', 'Tenant {n}')"
            ));
        }
        let out = db
            .run(&["status"])
            .success()
            .stdout_has("21 tenants, 1 site");
        assert!(!out.stdout.contains("Tenant 7"), "{}", out.stdout);
        let json: serde_json::Value =
            serde_json::from_str(&db.run(&["status", "--json"]).success().stdout).unwrap();
        assert_eq!(json["tenants"]["listed"], serde_json::Value::Null);
        assert_eq!(json["tenants"]["tenant_count"], 21);
    }
}

fn demo_data_stays_out_of_production_and_comes_with_reset_and_fresh() {
    for db in TestDb::each() {
        let production = |args: &[&str]| {
            Output::from(
                db.facedb()
                    .args(args)
                    .env("ENV", "production")
                    .env("FACEDB_ADMIN_PASSWORD", PASSWORD)
                    .output()
                    .unwrap(),
            )
        };
        production(&["init", "--with-demo-data"])
            .code(4)
            .stderr_has("refusing to add demo data")
            .stderr_has("ENV is 'production'");
        match db.backend {
            support::Backend::Sqlite => assert!(!db.sqlite_path().exists()),
            support::Backend::Postgres => assert!(!db.pg_exists()),
        }
        // Recorded as production: refused even when ENV says nothing.
        production(&["init"]).success();
        Output::from(
            db.facedb()
                .args(["fresh", "--force", "--allow-production", "--with-demo-data"])
                .output()
                .unwrap(),
        )
        .code(4)
        .stderr_has("the database was set up with ENV=production");
        assert_eq!(db.count("tenants"), 0);
        assert_eq!(db.count("users"), 1);
    }
    for db in TestDb::each() {
        db.init();
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-old', 'Old')");
        for command in ["reset", "fresh"] {
            db.run(&[command, "--force", "--with-demo-data"])
                .success()
                .stdout_has("added demo data (tenant 't-dev')");
            assert_eq!(
                db.connect()
                    .strings("SELECT tenant_id AS v FROM tenants ORDER BY tenant_id"),
                ["t-dev"],
                "{:?} {command}",
                db.backend
            );
            assert_eq!(db.count("cameras"), 3);
        }
    }
}

fn the_production_reset_prompt_says_production() {
    let db = TestDb::sqlite();
    let env = [("ENV", "production"), ("FACEDB_ADMIN_PASSWORD", PASSWORD)];
    let mut init = db.facedb();
    init.arg("init").envs(env);
    Output::from(init.output().unwrap()).success();
    let mut cmd = db.std_facedb();
    cmd.args(["reset", "--allow-production"]).envs(env);
    let mut session = in_terminal(cmd);
    // Only the seed: anywhere else a y/N, here the name must be typed.
    session
        .exp_string("a PRODUCTION database (ENV is 'production')")
        .unwrap();
    answer(
        &mut session,
        "This deletes data in a production database (ENV is 'production'). Type the database name (facedb.db)",
        "y\r",
    );
    let (code, _) = exit_code(&mut session);
    assert_eq!(code, 4);
    assert_eq!(db.count("users"), 1);
}

fn make_db_reset_without_a_terminal_names_make_db_fresh() {
    let db = TestDb::sqlite();
    db.init();
    let facedb = db.std_facedb();
    let out = Output::from(
        std::process::Command::new("make")
            .args(["-s", "-f"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile"))
            .arg("db-reset")
            .arg(format!("FACEDB={}", facedb.get_program().to_str().unwrap()))
            .env("DATABASE_URL", db.url())
            .current_dir(db.dir())
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    );
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr
            .contains("Run `make db-fresh` to reset without a question")
            && !out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    // Outside make, the flag.
    db.run(&["reset"])
        .code(4)
        .stderr_has("Pass --force to reset anyway");
    assert_eq!(db.count("users"), 1);
}

fn completions_offer_the_global_options_and_the_docs_a_per_user_form() {
    let dir = tempfile::TempDir::new().unwrap();
    let script = |shell: &str| {
        Output::from(
            facedb_in(dir.path())
                .args(["completions", shell])
                .output()
                .unwrap(),
        )
        .success()
        .stdout
    };
    let bash = script("bash");
    let root = bash
        .lines()
        .find(|line| line.contains("opts=\"") && line.contains(" init "))
        .expect("the root's options");
    for option in [
        "--database-url",
        "--env-file",
        "--schema",
        "--json",
        "--quiet",
    ] {
        assert!(root.contains(option), "{option}: {root}");
    }
    assert!(
        script("fish").contains("__fish_facedb_needs_command\" -l database-url"),
        "fish"
    );
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/commands.md"))
            .unwrap();
    for form in [
        "source <(facedb completions bash)",
        "~/.local/share/bash-completion/completions/facedb",
        "~/.zfunc/_facedb",
        "~/.config/fish/completions/facedb.fish",
    ] {
        assert!(docs.contains(form), "docs/commands.md lacks {form}");
    }
}

fn an_unresolvable_host_says_no_such_host() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = Output::from(
        facedb_in(dir.path())
            .args([
                "status",
                "--database-url",
                "postgres://app:S3cret-pw@localhots.invalid/facedb",
            ])
            .output()
            .unwrap(),
    )
    .code(3)
    .hides("S3cret-pw")
    .stderr_has("no such host `localhots.invalid`")
    .stderr_has("check the host in --database-url");
    assert!(!out.stderr.contains("server running"), "{}", out.stderr);
}

fn control_bytes_in_a_url_are_a_bad_url() {
    let dir = tempfile::TempDir::new().unwrap();
    for url in [
        "sqlite:///facedb%00.db",
        "facedb\t.db",
        "postgres://app:pa%00ss@127.0.0.1:1/facedb",
        "postgres://app@127.0.0.1:1/face%0Adb",
        "postgresql://app@127.0.0.1:1/facedb?application_name=%7F",
        "postgres://app@127.0.0.1:1/facedb%C2%85",
    ] {
        let out = Output::from(
            facedb_in(dir.path())
                .args(["init", "--database-url", url])
                .output()
                .unwrap(),
        );
        assert_eq!(out.code, Some(2), "{url:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("control character"),
            "{url:?}: {}",
            out.stderr
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing created"
    );
}

fn env_files_that_are_not_small_regular_files_are_refused_at_once() {
    let dir = tempfile::TempDir::new().unwrap();
    let status = |args: &[&str]| {
        let started = Instant::now();
        let out = Output::from(
            facedb_in(dir.path())
                .args(["status", "--database-url", "x.db"])
                .args(args)
                .output()
                .unwrap(),
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{args:?} blocked"
        );
        out
    };
    let fifo = dir.path().join("fifo.env");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    status(&["--env-file", "fifo.env"])
        .code(2)
        .stderr_has("fifo.env")
        .stderr_has("not a regular file");
    std::fs::create_dir(dir.path().join("folder.env")).unwrap();
    status(&["--env-file", "folder.env"])
        .code(2)
        .stderr_has("is a directory");
    // 300 MB (sparse: its size is what counts), refused without reading it.
    let large = std::fs::File::create(dir.path().join("large.env")).unwrap();
    large.set_len(300_000_000).unwrap();
    status(&["--env-file", "large.env"])
        .code(2)
        .stderr_has("300000000 bytes")
        .stderr_has("1 MiB");
    // The default ./.env too.
    std::os::unix::fs::symlink(&fifo, dir.path().join(".env")).unwrap();
    status(&[])
        .code(2)
        .stderr_has(".env")
        .stderr_has("not a regular file");
}

fn every_password_facedb_writes_has_8_characters_and_no_control_character() {
    let db = TestDb::sqlite();
    let with_stdin = |args: &[&str], input: &str| {
        Output::from(db.facedb().args(args).write_stdin(input).output().unwrap())
    };
    // The seeded admin's, from the environment or stdin: refused before the file is created.
    for (name, value) in [
        ("FACEDB_ADMIN_PASSWORD", "short"),
        ("FACEDB_ADMIN_PASSWORD", "tab\there-too"),
    ] {
        Output::from(db.facedb().arg("init").env(name, value).output().unwrap())
            .code(2)
            .hides(value)
            .stderr_has("a password needs at least 8 characters and no control characters");
    }
    with_stdin(&["init", "--admin-password-stdin"], "abc\n")
        .code(2)
        .stderr_has("the password has 3 characters");
    assert!(!db.sqlite_path().exists());
    db.init();
    let hash = db
        .connect()
        .strings("SELECT password_hash AS v FROM users WHERE username = 'admin'");
    let create = [
        "user",
        "create",
        "--username",
        "ada",
        "--email",
        "ada@example.com",
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--password-stdin",
    ];
    for (args, input, rule) in [
        (
            &create[..],
            "long enough\0but NUL\n",
            "contains a control character",
        ),
        (&create[..], "abc\n", "the password has 3 characters"),
        (
            &["user", "reset-password", "admin", "--password-stdin"][..],
            "seven!!\n",
            "the password has 7 characters",
        ),
        (
            &["user", "reset-password", "admin", "--password-stdin"],
            "escape \u{1b}[31m red\n",
            "contains a control character",
        ),
    ] {
        with_stdin(args, input)
            .code(2)
            .stderr_has(rule)
            .stderr_has("at least 8 characters");
    }
    assert_eq!(db.count("users"), 1);
    assert_eq!(
        db.connect()
            .strings("SELECT password_hash AS v FROM users WHERE username = 'admin'"),
        hash
    );
    with_stdin(&create, "eight ch\n").success();
}

/// README installs with `cargo install --locked`: every locked package this machine builds
/// compiles with the declared `rust-version`, and the lock file needs no change (`--locked` would
/// refuse it). Offline, and for this machine's platform only: the packages of other platforms
/// (Android's, Windows') are not downloaded on a machine that builds facedb for itself.
fn the_locked_packages_build_with_the_declared_rust_version() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let about = std::process::Command::new(rustc)
        .arg("-vV")
        .output()
        .unwrap();
    let about = String::from_utf8(about.stdout).unwrap();
    let host = about
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("rustc -vV names the host");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--locked", "--offline", "--format-version", "1"])
        .args(["--filter-platform", host])
        .current_dir(manifest)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "Cargo.lock is not what `cargo install --locked` builds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // `1.89` is `1.89.0`.
    let version = |v: &str| -> Vec<u64> {
        let mut parts: Vec<u64> = v.split('.').map(|n| n.parse().unwrap()).collect();
        parts.resize(3, 0);
        parts
    };
    let ours = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "facedb")
        .and_then(|p| p["rust_version"].as_str())
        .map(version)
        .expect("facedb declares a rust-version");
    let newer: Vec<String> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > ours).then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(newer.is_empty(), "rust-version is {ours:?}, but {newer:?}");
    let readme = std::fs::read_to_string(manifest.join("README.md")).unwrap();
    assert!(readme.contains("cargo install --locked --path ."));
    let declared = format!("{}.{}", ours[0], ours[1]);
    assert!(
        readme.contains(&format!("Rust {declared}")),
        "README names Rust {declared}"
    );
}

tests![
    needs::NOTHING => [
        hints_name_the_target_and_work_when_pasted,
        the_production_reset_prompt_says_production,
        make_db_reset_without_a_terminal_names_make_db_fresh,
        completions_offer_the_global_options_and_the_docs_a_per_user_form,
        an_unresolvable_host_says_no_such_host,
        control_bytes_in_a_url_are_a_bad_url,
        env_files_that_are_not_small_regular_files_are_refused_at_once,
        every_password_facedb_writes_has_8_characters_and_no_control_character,
        the_locked_packages_build_with_the_declared_rust_version,
    ],
    needs::SERVER => [
        a_schema_given_is_kept_in_the_hint,
        user_create_offers_the_tenants_sites_and_lists_their_ids_without_a_terminal,
        status_shows_tenants_and_sites_with_their_ids_or_their_counts,
        demo_data_stays_out_of_production_and_comes_with_reset_and_fresh,
    ],
];
