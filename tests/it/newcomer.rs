//! What a newcomer and an operator meet first: results on stdout and nothing else there, one JSON
//! object per command, help that lists only what a command reads, options before or after the
//! command, passwords hashed the way the database's API can check, and output that survives
//! hostile text and a full disk.

use crate::support;

use std::process::Stdio;

use support::{facedb_in, Output, TestDb};

const PASSWORD: &str = "correct horse battery staple";

/// `facedb ARGS` with `input` on stdin (then closed).
fn run_with_stdin(db: &TestDb, args: &[&str], input: &str) -> Output {
    Output::from(
        db.facedb()
            .args(args)
            .write_stdin(input)
            .output()
            .expect("facedb runs"),
    )
}

fn create_user(db: &TestDb, username: &str, extra: &[&str]) -> Output {
    let email = format!("{username}@example.com");
    let mut args = vec![
        "user",
        "create",
        "--username",
        username,
        "--email",
        &email,
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--password-stdin",
    ];
    args.extend_from_slice(extra);
    run_with_stdin(db, &args, &format!("{PASSWORD}\n"))
}

fn stored_hash(db: &TestDb, username: &str) -> String {
    db.connect()
        .strings(&format!(
            "SELECT password_hash AS v FROM users WHERE username = '{username}'"
        ))
        .pop()
        .unwrap_or_else(|| panic!("user {username} exists"))
}

fn is_bcrypt(hash: &str) -> bool {
    hash.starts_with("$2b$12$")
}

fn the_dry_run_plan_goes_to_stdout_whole() {
    for db in TestDb::each() {
        db.init();
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'One')");
        let plan = db.dir().join("plan.txt");
        let status = db
            .std_facedb()
            .args(["reset", "--dry-run"])
            .stdout(std::fs::File::create(&plan).unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(status.status.code(), Some(0), "{:?}", db.backend);
        let written = std::fs::read_to_string(&plan).unwrap();
        assert!(
            written.contains("reset would drop from")
                && written.contains("  tenants ")
                && written.contains("1 row")
                && written.contains("users")
                && written
                    .lines()
                    .last()
                    .unwrap()
                    .contains("nothing was changed"),
            "{:?}: the plan file holds the table and the summary:\n{written}",
            db.backend
        );
        let stderr = String::from_utf8_lossy(&status.stderr);
        assert!(
            !stderr.contains("tenants") && !stderr.contains("would drop"),
            "{:?}: results on stderr:\n{stderr}",
            db.backend
        );
        assert_eq!(db.count("tenants"), 1);
    }
}

fn results_go_to_stdout_and_only_progress_to_stderr() {
    for db in TestDb::each() {
        let out = db.init();
        assert!(
            out.stdout.contains("seeded admin 'admin'"),
            "{}",
            out.stdout
        );
        assert!(!out.stderr.contains("error"), "{}", out.stderr);
        let out = db.run(&["status"]).success();
        assert!(
            out.stdout.contains("status        up to date"),
            "{}",
            out.stdout
        );
        assert_eq!(out.stderr, "", "{:?}", db.backend);
        let out = db.run(&["user", "list"]).success();
        assert!(out.stdout.starts_with("USERNAME"), "{}", out.stdout);
        assert_eq!(out.stderr, "", "{:?}", db.backend);
        let out = db.run(&["fresh", "--force"]).success();
        assert!(
            out.stdout.contains(": fresh: dropped 12 tables"),
            "fresh names itself: {}",
            out.stdout
        );
    }
}

fn every_command_prints_one_json_object_naming_it() {
    for db in TestDb::each() {
        let runs: Vec<(&str, Output)> = vec![
            ("init", db.run(&["init", "--json"])),
            ("status", db.run(&["--json", "status"])),
            ("check", db.run(&["check", "--json"])),
            ("reset", db.run(&["reset", "--dry-run", "--json"])),
            ("fresh", db.run(&["fresh", "--dry-run", "--json"])),
            ("user create", create_user(&db, "ada", &["--json"])),
            (
                "user reset-password",
                run_with_stdin(
                    &db,
                    &[
                        "user",
                        "reset-password",
                        "ada",
                        "--password-stdin",
                        "--json",
                    ],
                    &format!("{PASSWORD}2\n"),
                ),
            ),
            ("user list", db.run(&["user", "list", "--json"])),
            ("sql", db.run(&["sql", "--json"])),
            ("fresh", db.run(&["fresh", "--force", "--json"])),
        ];
        for (command, out) in runs {
            let out = out.success();
            let document: serde_json::Value =
                serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
                    panic!("{command}: not one JSON document ({e}):\n{}", out.stdout)
                });
            assert!(document.is_object(), "{command}: {}", out.stdout);
            assert_eq!(document["command"], command, "{:?}", db.backend);
        }
    }
}

fn completions_takes_no_json() {
    let dir = tempfile::TempDir::new().unwrap();
    let out = Output::from(
        facedb_in(dir.path())
            .args(["completions", "bash", "--json"])
            .output()
            .unwrap(),
    )
    .code(2);
    let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(document["error"]["exit_code"], 2);
    assert!(out
        .stderr
        .starts_with("error: unexpected argument '--json'"));
}

/// `facedb ARGS --help`.
fn help(args: &[&str]) -> String {
    let dir = tempfile::TempDir::new().unwrap();
    Output::from(
        facedb_in(dir.path())
            .args(args)
            .arg("--help")
            .output()
            .unwrap(),
    )
    .success()
    .stdout
}

fn help_lists_only_the_options_a_command_reads() {
    const WRITE: &[&str] = &[
        "--database-url",
        "--env-file",
        "--schema",
        "--connect-timeout",
        "--wait",
        "--echo",
        "--lock-timeout",
        "--password-hash",
        "--quiet",
        "--json",
    ];
    // Reading commands wait for locks too, and give up after --lock-timeout.
    const CONNECT: &[&str] = &[
        "--database-url",
        "--env-file",
        "--schema",
        "--connect-timeout",
        "--wait",
        "--echo",
        "--lock-timeout",
        "--quiet",
        "--json",
    ];
    const ALL: &[&str] = WRITE;
    let cases: &[(&[&str], &[&str])] = &[
        (&["init"], WRITE),
        (&["reset"], WRITE),
        (&["fresh"], WRITE),
        (&["user", "create"], WRITE),
        (&["user", "reset-password"], WRITE),
        (&["check"], CONNECT),
        (&["status"], CONNECT),
        (&["user", "list"], CONNECT),
        (&["rollback"], CONNECT),
        (
            &["sql"],
            &["--database-url", "--env-file", "--schema", "--json"],
        ),
        (&["completions"], &[]),
    ];
    for (command, reads) in cases {
        let text = help(command);
        for option in ALL {
            let listed =
                text.contains(&format!("{option} ")) || text.contains(&format!("{option}\n"));
            assert_eq!(
                listed,
                reads.contains(option),
                "facedb {} --help and {option}:\n{text}",
                command.join(" ")
            );
        }
    }
    let fresh = help(&["fresh"]);
    assert!(!fresh.contains("Do not ask"), "{fresh}");
    assert!(help(&["reset"]).contains("Do not ask for confirmation"));
}

fn options_work_before_and_after_the_command() {
    for db in TestDb::each() {
        let dir = tempfile::TempDir::new().unwrap();
        let before = Output::from(
            facedb_in(dir.path())
                .args(["--database-url", db.url(), "--json", "init"])
                .output()
                .unwrap(),
        )
        .success();
        assert!(before.stdout.contains(r#""command": "init""#));
        let after = Output::from(
            facedb_in(dir.path())
                .args(["status", "--database-url", db.url(), "-q"])
                .output()
                .unwrap(),
        )
        .success();
        assert_eq!(after.stdout, "", "--quiet after the command");
        let misplaced = Output::from(
            facedb_in(dir.path())
                .args([
                    "--password-hash",
                    "bcrypt",
                    "status",
                    "--database-url",
                    db.url(),
                ])
                .output()
                .unwrap(),
        )
        .code(2);
        assert!(
            misplaced
                .stderr
                .starts_with("error: unexpected argument '--password-hash'"),
            "{}",
            misplaced.stderr
        );
    }
}

fn user_commands_write_bcrypt_into_a_database_of_bcrypt_hashes() {
    for db in TestDb::each() {
        db.run(&["init", "--password-hash", "bcrypt"]).success();
        assert!(is_bcrypt(&stored_hash(&db, "admin")));

        let out = create_user(&db, "ada", &["--json"]).success();
        assert!(is_bcrypt(&stored_hash(&db, "ada")), "{:?}", db.backend);
        assert!(out.stdout.contains(r#""password_hash": "bcrypt""#));
        assert!(
            out.stderr
                .contains("hashing with bcrypt: every password already in the database is bcrypt"),
            "says why: {}",
            out.stderr
        );
        run_with_stdin(
            &db,
            &["user", "reset-password", "admin", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .success()
        .stderr_has("hashing with bcrypt");
        let hash = stored_hash(&db, "admin");
        assert!(is_bcrypt(&hash) && facedb::verify_password(PASSWORD, &hash));

        // Asked for, argon2id wins; after that the hashes are mixed and argon2id is the default.
        create_user(&db, "bob", &["--password-hash", "argon2id"]).success();
        assert!(stored_hash(&db, "bob").starts_with("$argon2id$"));
        let out = create_user(&db, "cy", &[]).success();
        assert!(
            stored_hash(&db, "cy").starts_with("$argon2id$"),
            "{:?}",
            db.backend
        );
        assert!(!out.stderr.contains("bcrypt"), "{}", out.stderr);
    }
}

fn reset_and_fresh_seed_the_admin_with_the_hash_the_database_had() {
    for db in TestDb::each() {
        db.run(&["init", "--password-hash", "bcrypt"]).success();
        db.run(&["fresh", "--force"])
            .success()
            .stderr_has("hashing with bcrypt");
        assert!(is_bcrypt(&stored_hash(&db, "admin")), "{:?}", db.backend);
        let out = db.run(&["reset", "--force", "--json"]).success();
        assert!(is_bcrypt(&stored_hash(&db, "admin")), "{:?}", db.backend);
        assert!(
            out.stdout.contains(r#""password_hash": "bcrypt""#),
            "{}",
            out.stdout
        );

        // A database of argon2id hashes stays argon2id.
        db.run(&["fresh", "--force", "--password-hash", "argon2id"])
            .success();
        db.run(&["fresh", "--force"]).success();
        assert!(stored_hash(&db, "admin").starts_with("$argon2id$"));
    }
}

fn status_says_when_the_admin_still_has_the_default_password() {
    for db in TestDb::each() {
        db.init();
        let out = db.run(&["status"]).success();
        assert!(
            out.stdout
                .contains("warning: 'admin' still has the default password"),
            "{}",
            out.stdout
        );
        let out = db.run(&["status", "--json"]).success();
        let document: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            document["default_password_admins"],
            serde_json::json!(["admin"])
        );

        run_with_stdin(
            &db,
            &["user", "reset-password", "admin", "--password-stdin"],
            &format!("{PASSWORD}\n"),
        )
        .success();
        let out = db.run(&["status"]).success();
        assert!(!out.stdout.contains("default password"), "{}", out.stdout);
    }
}

fn text_from_users_and_the_database_is_shown_not_obeyed() {
    for db in TestDb::each() {
        db.init();
        // From a user: refused with one line that shows the character as an escape.
        let out = create_user(&db, "eve\u{1b}[2J", &[]).code(2);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("control characters"), "{}", out.stderr);
        assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
        let out = run_with_stdin(
            &db,
            &[
                "user",
                "reset-password",
                "m\u{1b}]0;owned\u{7}",
                "--password-stdin",
            ],
            "long-enough-pw\n",
        )
        .code(4);
        assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
        assert!(
            out.stderr.contains(r"\u{1b}]0;owned\u{7}"),
            "{}",
            out.stderr
        );

        // From the database: written as escapes in the table.
        let chr = match db.backend {
            support::Backend::Postgres => "chr",
            support::Backend::Sqlite => "char",
        };
        db.exec(&format!(
            "UPDATE users SET first_name = 'Sys' || {chr}(27) || '[31m', \
             last_name = 'Admin' || {chr}(10) || 'x' WHERE username = 'admin'"
        ));
        let out = db.run(&["user", "list"]).success();
        assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
        assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
        assert!(
            out.stdout.contains(r"Sys\u{1b}[31m Admin\nx"),
            "{}",
            out.stdout
        );
    }
}

fn a_full_disk_or_a_closed_reader_is_an_error_line_not_a_panic() {
    let db = TestDb::sqlite();
    db.init();
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    for args in [
        &["sql"][..],
        &["status"],
        &["user", "list", "--json"],
        &["--help"],
        &["init", "--help"],
        &["--version"],
    ] {
        let out = Output::from(
            db.std_facedb()
                .args(args)
                .stdout(full())
                .stderr(Stdio::piped())
                .output()
                .unwrap(),
        )
        .code(1);
        assert_eq!(
            out.stderr.trim_end(),
            "error: cannot write to stdout: No space left on device (os error 28)",
            "{args:?}"
        );
    }
    // Progress and errors on a full stderr are lost, and facedb still ends with its code.
    for (args, code) in [
        (&["init"][..], 0),
        (&["reset"][..], 4),
        (&["user", "list", "--frob"], 2),
    ] {
        let status = db
            .std_facedb()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(full())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
    // A reader that stops early (`facedb sql | head -1`) is no error.
    let mut child = db
        .std_facedb()
        .arg("sql")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = Output::from(child.wait_with_output().unwrap()).success();
    assert_eq!(out.stderr, "");
}

fn stdin_of_any_size_or_encoding_gets_one_line_and_exit_2() {
    let db = TestDb::sqlite();
    db.init();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "a megabyte without a line break",
            vec![b'x'; 1 << 20],
            "longer than 4096 bytes",
        ),
        (
            "a line that is not UTF-8",
            b"\xff\xfe secret\n".to_vec(),
            "not valid UTF-8",
        ),
        ("nothing", Vec::new(), "the password is empty"),
        ("an empty line", b"\n".to_vec(), "the password is empty"),
    ];
    for (what, input, says) in cases {
        let out = Output::from(
            db.facedb()
                .args(["user", "reset-password", "admin", "--password-stdin"])
                .write_stdin(input)
                .output()
                .unwrap(),
        )
        .code(2);
        assert_eq!(out.stderr.lines().count(), 1, "{what}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains(says),
            "{what}: {}",
            out.stderr
        );
    }
    let out = Output::from(
        db.facedb()
            .args(["fresh", "--force", "--admin-password-stdin"])
            .write_stdin(vec![b'y'; 100_000])
            .output()
            .unwrap(),
    )
    .code(2);
    assert!(out.stderr.contains("the admin password"), "{}", out.stderr);
    // Nothing was lost: the admin still logs in with the password it had.
    assert!(facedb::verify_password(
        support::secrets::ADMIN_PASSWORD,
        &stored_hash(&db, "admin")
    ));
}

/// A file of the repository.
fn repository_file(name: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn env_example_lists_every_variable_the_docs_name_and_reads_as_an_env_file() {
    let example = repository_file(".env.example");
    let listed: std::collections::BTreeSet<&str> = example
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once('=').map(|(key, _)| key.trim()))
        .collect();
    let mut documented = std::collections::BTreeSet::new();
    for page in ["README.md", "docs/configuration.md", "docs/commands.md"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(page);
        let Ok(text) = std::fs::read_to_string(path) else {
            continue; // a page another change adds
        };
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            let facedb_reads = ["DATABASE_", "DB_", "FACEDB_"]
                .iter()
                .any(|prefix| word.starts_with(prefix))
                || word == "ENV";
            // The test suite's and the benchmarks' own variables are not facedb's.
            let harness = word.starts_with("FACEDB_TEST_") || word.starts_with("FACEDB_BENCH_");
            if facedb_reads && !harness && word.len() > 3 && !word.ends_with('_') {
                documented.insert(word.to_owned());
            }
        }
    }
    for variable in &documented {
        assert!(
            listed.contains(variable.as_str()),
            ".env.example lacks {variable}"
        );
    }

    // Copied as it is, it configures the PostgreSQL target the comments describe.
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::write(dir.path().join(".env"), &example).unwrap();
    let out = Output::from(
        facedb_in(dir.path())
            .args(["sql", "--json"])
            .output()
            .unwrap(),
    )
    .success();
    assert!(
        out.stdout.contains(r#""backend": "postgresql""#),
        "{}",
        out.stdout
    );
}

fn make_init_admin_without_a_terminal_says_how_to_pass_the_values() {
    let db = TestDb::sqlite();
    db.init();
    let facedb = db.std_facedb();
    let make = |values: &[&str]| {
        let mut cmd = std::process::Command::new("make");
        cmd.args(["-s", "-f"])
            .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile"))
            .arg("init-admin")
            .arg(format!("FACEDB={}", facedb.get_program().to_str().unwrap()))
            .args(values)
            .env("DATABASE_URL", db.url())
            .current_dir(db.dir())
            .stdin(Stdio::null());
        Output::from(cmd.output().expect("make runs"))
    };
    let out = make(&[]);
    assert_ne!(out.code, Some(0));
    assert!(
        out.stderr.contains(
            "make init-admin username=NAME email=ADDRESS first_name=NAME last_name=NAME password=SECRET"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(db.count("users"), 1);

    make(&[
        "username=bo",
        "email=bo@example.com",
        "first_name=Bo",
        "last_name=Li",
        &format!("password={PASSWORD}"),
    ])
    .success()
    .hides(PASSWORD);
    assert!(facedb::verify_password(PASSWORD, &stored_hash(&db, "bo")));
}

tests![
    needs::NOTHING => [
        completions_takes_no_json,
        help_lists_only_the_options_a_command_reads,
        a_full_disk_or_a_closed_reader_is_an_error_line_not_a_panic,
        stdin_of_any_size_or_encoding_gets_one_line_and_exit_2,
        env_example_lists_every_variable_the_docs_name_and_reads_as_an_env_file,
        make_init_admin_without_a_terminal_says_how_to_pass_the_values,
    ],
    needs::SERVER => [
        the_dry_run_plan_goes_to_stdout_whole,
        results_go_to_stdout_and_only_progress_to_stderr,
        every_command_prints_one_json_object_naming_it,
        options_work_before_and_after_the_command,
        user_commands_write_bcrypt_into_a_database_of_bcrypt_hashes,
        reset_and_fresh_seed_the_admin_with_the_hash_the_database_had,
        status_says_when_the_admin_still_has_the_default_password,
        text_from_users_and_the_database_is_shown_not_obeyed,
    ],
];
