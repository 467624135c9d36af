//! `facedb user create`, `reset-password` and `list` through the real binary, on every available
//! backend. The prompts themselves are tested in a pseudo-terminal in `tests/it/prompt.rs`.

use crate::support;

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::{Backend, Output, TestDb};

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

/// Creates `username` with every value on the command line and the password on stdin.
fn create(db: &TestDb, username: &str, extra: &[&str]) -> Output {
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

/// A tenant `t-1` with site 1 and a tenant `t-2` with site 2.
fn add_tenants(db: &TestDb) {
    db.exec(
        "INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'One'), ('t-2', 'Two');
         INSERT INTO sites (site_id, tenant_id, name) VALUES (1, 't-1', 'Site One'), (2, 't-2', 'Site Two');",
    );
}

/// One user's row as `username|email|first|last|role|tenant|site|active verified|len(user_id)`.
fn user_row(db: &TestDb, username: &str) -> Vec<String> {
    db.connect().strings(&format!(
        "SELECT username || '|' || email || '|' || first_name || '|' || last_name || '|' || role || '|' || \
         coalesce(tenant_id, 'NULL') || '|' || coalesce(CAST(site_id AS TEXT), 'NULL') || '|' || \
         CAST(is_active AS INTEGER) || CAST(is_email_verified AS INTEGER) || '|' || length(user_id) AS v \
         FROM users WHERE username = '{username}'"
    ))
}

fn stored_hash(db: &TestDb, username: &str) -> String {
    db.connect()
        .strings(&format!(
            "SELECT password_hash AS v FROM users WHERE username = '{username}'"
        ))
        .pop()
        .unwrap_or_else(|| panic!("user {username} exists"))
}

fn create_with_flags_and_password_stdin_makes_an_active_verified_system_admin() {
    for db in TestDb::each() {
        db.init();
        let out = create(&db, "ada", &[]).success().hides(PASSWORD);
        assert!(
            out.stdout
                .contains("created user 'ada' <ada@example.com>, SYSTEM_ADMIN"),
            "{:?}: {}",
            db.backend,
            out.stdout
        );
        assert_eq!(
            user_row(&db, "ada"),
            ["ada|ada@example.com|Ada|Lovelace|SYSTEM_ADMIN|NULL|NULL|11|36"],
            "{:?}",
            db.backend
        );
        let hash = stored_hash(&db, "ada");
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(facedb::verify_password(PASSWORD, &hash));
        assert!(!facedb::verify_password("wrong", &hash));
        let timestamps = db.connect().strings(
            "SELECT CASE WHEN created_at = updated_at AND created_at = password_changed_at THEN 'same' ELSE 'differ' END AS v \
             FROM users WHERE username = 'ada'",
        );
        assert_eq!(timestamps, ["same"], "{:?}", db.backend);
    }
}

fn create_reports_the_user_as_json() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        let out = create(
            &db,
            "sam",
            &[
                "--role",
                "site_manager",
                "--tenant",
                "t-1",
                "--site",
                "1",
                "--json",
            ],
        )
        .success()
        .hides(PASSWORD);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(report["command"], "user create");
        assert_eq!(report["username"], "sam");
        assert_eq!(report["email"], "sam@example.com");
        assert_eq!(report["role"], "SITE_MANAGER");
        assert_eq!(report["tenant_id"], "t-1");
        assert_eq!(report["site_id"], 1);
        assert_eq!(report["password_hash"], "argon2id");
        let stored_id = db
            .connect()
            .strings("SELECT user_id AS v FROM users WHERE username = 'sam'");
        assert_eq!(report["user_id"], stored_id[0], "{:?}", db.backend);
    }
}

fn roles_with_a_tenant_and_a_site_are_stored_with_them() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        create(&db, "tina", &["--role", "tenant_admin", "--tenant", "t-1"]).success();
        create(
            &db,
            "sam",
            &["--role", "site_manager", "--tenant", "t-2", "--site", "2"],
        )
        .success();
        create(&db, "walt", &["--role", "WORKER", "--tenant", "t-1"]).success();
        assert_eq!(
            user_row(&db, "tina"),
            ["tina|tina@example.com|Ada|Lovelace|TENANT_ADMIN|t-1|NULL|11|36"]
        );
        assert_eq!(
            user_row(&db, "sam"),
            ["sam|sam@example.com|Ada|Lovelace|SITE_MANAGER|t-2|2|11|36"]
        );
        assert_eq!(
            user_row(&db, "walt"),
            ["walt|walt@example.com|Ada|Lovelace|WORKER|t-1|NULL|11|36"],
            "{:?}",
            db.backend
        );
    }
}

fn password_hash_bcrypt_writes_what_passlib_verifies() {
    for db in TestDb::each() {
        db.init();
        create(&db, "bea", &["--password-hash", "bcrypt"])
            .success()
            .hides(PASSWORD);
        let hash = stored_hash(&db, "bea");
        assert!(hash.starts_with("$2b$12$") && hash.len() == 60, "{hash}");
        assert!(facedb::verify_password(PASSWORD, &hash));

        let out = Output::from(
            db.facedb()
                .env("FACEDB_PASSWORD_HASH", "bcrypt")
                .args([
                    "user",
                    "create",
                    "--username",
                    "ben",
                    "--email",
                    "ben@example.com",
                    "--first-name",
                    "Ben",
                    "--last-name",
                    "B",
                    "--password-stdin",
                    "--json",
                ])
                .write_stdin(format!("{PASSWORD}\n"))
                .output()
                .unwrap(),
        )
        .success();
        assert!(
            out.stdout.contains(r#""password_hash": "bcrypt""#),
            "{}",
            out.stdout
        );
        assert!(
            stored_hash(&db, "ben").starts_with("$2b$12$"),
            "{:?}",
            db.backend
        );
    }
}

fn a_taken_username_or_email_is_refused_with_exit_4() {
    for db in TestDb::each() {
        db.init();
        create(&db, "ada", &[]).success();
        let before = stored_hash(&db, "ada");

        create(&db, "ada", &[])
            .code(4)
            .stderr_has("user 'ada' already exists")
            .stderr_has("facedb user reset-password ada")
            .hides(PASSWORD);

        let out = run_with_stdin(
            &db,
            &[
                "user",
                "create",
                "--username",
                "ada2",
                "--email",
                "admin@system.local",
                "--first-name",
                "A",
                "--last-name",
                "B",
                "--password-stdin",
            ],
            "long-enough-pw\n",
        );
        out.code(4)
            .stderr_has("email 'admin@system.local' already belongs to user 'admin'");

        assert_eq!(db.count("users"), 2, "{:?}", db.backend);
        assert_eq!(
            stored_hash(&db, "ada"),
            before,
            "the first ada is untouched"
        );
    }
}

fn tenants_and_sites_are_checked_against_the_database() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        create(&db, "w", &["--role", "worker", "--tenant", "nope"])
            .code(4)
            .stderr_has("no tenant 'nope'");
        create(
            &db,
            "s",
            &["--role", "site_manager", "--tenant", "t-1", "--site", "2"],
        )
        .code(4)
        .stderr_has("site 2 belongs to tenant 't-2', not 't-1'");
        create(
            &db,
            "s",
            &["--role", "site_manager", "--tenant", "t-1", "--site", "99"],
        )
        .code(4)
        .stderr_has("no site 99");
        assert_eq!(db.count("users"), 1, "{:?}: only the admin", db.backend);
    }
}

fn role_tenant_and_site_must_fit_together() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        for role in ["tenant_admin", "site_manager", "worker"] {
            create(&db, "x", &["--role", role])
                .code(2)
                .stderr_has(&format!("--role {role} needs --tenant TENANT_ID"));
        }
        create(&db, "x", &["--role", "site_manager", "--tenant", "t-1"])
            .code(2)
            .stderr_has("needs --site SITE_ID");
        create(&db, "x", &["--tenant", "t-1"])
            .code(2)
            .stderr_has("a system admin belongs to no tenant");
        create(&db, "x", &["--role", "janitor"])
            .code(2)
            .stderr_has("system_admin");
        assert_eq!(db.count("users"), 1, "{:?}", db.backend);
    }
}

fn an_empty_password_or_bad_values_are_refused_with_exit_2() {
    for db in TestDb::each() {
        db.init();
        let args = [
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
        for input in ["\n", "", "\r\n"] {
            run_with_stdin(&db, &args, input)
                .code(2)
                .stderr_has("the password is empty");
        }
        let mut bad_email = args;
        bad_email[5] = "not-an-address";
        run_with_stdin(&db, &bad_email, "long-enough-pw\n")
            .code(2)
            .stderr_has("--email 'not-an-address' is not an email address");
        let mut blank_name = args;
        blank_name[7] = "  ";
        run_with_stdin(&db, &blank_name, "long-enough-pw\n")
            .code(2)
            .stderr_has("--first-name must not be empty");
        assert_eq!(db.count("users"), 1, "{:?}", db.backend);
    }
}

fn password_stdin_takes_the_first_line_without_its_line_ending() {
    for db in TestDb::each() {
        db.init();
        let out = run_with_stdin(
            &db,
            &[
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
            ],
            " spaced pw \r\nsecond line\n",
        );
        out.success();
        let hash = stored_hash(&db, "ada");
        assert!(
            facedb::verify_password(" spaced pw ", &hash),
            "{:?}",
            db.backend
        );
    }
}

/// Runs facedb with a stdin that stays open (a pipe nobody writes to): it must not wait for it.
fn run_with_open_stdin(db: &TestDb, args: &[&str]) -> Output {
    let mut child = db
        .std_facedb()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn facedb");
    let _stdin = child.stdin.take();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("facedb {args:?} waited for input that never comes");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    Output::from(std::process::Output {
        status,
        stdout,
        stderr,
    })
}

fn a_missing_value_without_a_terminal_names_the_flag_and_never_waits() {
    for db in TestDb::each() {
        db.init();
        run_with_open_stdin(
            &db,
            &["user", "create", "--username", "ada", "--first-name", "Ada"],
        )
        .code(2)
        .stderr_has("missing --email, --last-name and --password-stdin")
        .stderr_has("only on a terminal");
        run_with_open_stdin(
            &db,
            &[
                "user",
                "create",
                "--username",
                "ada",
                "--email",
                "ada@example.com",
                "--first-name",
                "Ada",
                "--last-name",
                "L",
            ],
        )
        .code(2)
        .stderr_has("missing --password-stdin:");
        run_with_open_stdin(&db, &["user", "reset-password", "admin"])
            .code(2)
            .stderr_has("missing --password-stdin");
        assert_eq!(db.count("users"), 1, "{:?}", db.backend);
    }
}

fn reset_password_sets_the_hash_and_password_changed_at() {
    for db in TestDb::each() {
        db.init();
        create(&db, "ada", &[]).success();
        db.exec(
            "UPDATE users SET password_changed_at = '2020-01-01 00:00:00', updated_at = '2020-01-01 00:00:00' \
             WHERE username = 'ada'",
        );
        let old_hash = stored_hash(&db, "ada");
        let new_password = "a brand new secret";

        let out = run_with_stdin(
            &db,
            &["user", "reset-password", "ada", "--password-stdin"],
            &format!("{new_password}\n"),
        )
        .success()
        .hides(new_password);
        assert!(
            out.stdout.contains("set a new password for user 'ada'"),
            "{}",
            out.stdout
        );
        let hash = stored_hash(&db, "ada");
        assert_ne!(hash, old_hash);
        assert!(facedb::verify_password(new_password, &hash));
        assert!(!facedb::verify_password(PASSWORD, &hash));
        let changed = db.connect().strings(
            "SELECT CAST(password_changed_at AS TEXT) || '|' || CAST(updated_at AS TEXT) AS v FROM users WHERE username = 'ada'",
        );
        assert!(
            !changed[0].contains("2020-01-01"),
            "{:?}: both timestamps move: {changed:?}",
            db.backend
        );
        let admin_hash = stored_hash(&db, "admin");
        assert!(
            facedb::verify_password("admin123", &admin_hash),
            "other users keep theirs"
        );

        let out = run_with_stdin(
            &db,
            &[
                "user",
                "reset-password",
                "admin",
                "--password-stdin",
                "--password-hash",
                "bcrypt",
                "--json",
            ],
            &format!("{new_password}\n"),
        )
        .success()
        .hides(new_password);
        let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(report["command"], "user reset-password");
        assert_eq!(report["username"], "admin");
        assert_eq!(report["password_hash"], "bcrypt");
        assert!(stored_hash(&db, "admin").starts_with("$2b$12$"));
    }
}

fn reset_password_of_an_unknown_user_is_refused() {
    for db in TestDb::each() {
        db.init();
        let before = stored_hash(&db, "admin");
        run_with_stdin(
            &db,
            &["user", "reset-password", "nobody", "--password-stdin"],
            "long-enough-pw\n",
        )
        .code(4)
        .stderr_has("no user 'nobody'")
        .stderr_has("facedb user list");
        run_with_stdin(
            &db,
            &["user", "reset-password", "admin", "--password-stdin"],
            "\n",
        )
        .code(2)
        .stderr_has("the password is empty");
        assert_eq!(stored_hash(&db, "admin"), before, "{:?}", db.backend);
    }
}

fn list_shows_an_aligned_table_ordered_by_username() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        create(&db, "zed", &["--role", "worker", "--tenant", "t-2"]).success();
        create(&db, "Bob", &[]).success();
        db.exec(
            "UPDATE users SET is_active = false, last_login = '2026-03-04 05:06:07' WHERE username = 'zed'",
        );

        let out = db.run(&["user", "list"]).success();
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{:?}: {}", db.backend, out.stdout);
        let words = |line: &str| {
            line.split("  ")
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            words(lines[0]),
            [
                "USERNAME",
                "EMAIL",
                "NAME",
                "ROLE",
                "TENANT",
                "ACTIVE",
                "LAST LOGIN"
            ]
        );
        assert_eq!(
            words(lines[1]),
            [
                "admin",
                "admin@system.local",
                "System Administrator",
                "SYSTEM_ADMIN",
                "-",
                "yes",
                "never"
            ]
        );
        assert_eq!(
            words(lines[2]),
            [
                "Bob",
                "Bob@example.com",
                "Ada Lovelace",
                "SYSTEM_ADMIN",
                "-",
                "yes",
                "never"
            ]
        );
        assert_eq!(
            words(lines[3]),
            [
                "zed",
                "zed@example.com",
                "Ada Lovelace",
                "WORKER",
                "t-2",
                "no",
                "2026-03-04 05:06 UTC"
            ]
        );
        // Every column starts at the same place on every line.
        for column in ["EMAIL", "NAME", "ROLE", "TENANT", "ACTIVE", "LAST LOGIN"] {
            let start = lines[0].find(&format!("  {column}")).unwrap() + 2;
            for line in &lines[1..] {
                assert_eq!(&line[start - 2..start], "  ", "{column} in {line:?}");
                assert_ne!(&line[start..start + 1], " ", "{column} in {line:?}");
            }
        }
        assert!(!out.stdout.contains("$argon2id$"));
    }
}

fn list_json_is_an_array_of_users_without_password_hashes() {
    for db in TestDb::each() {
        db.init();
        add_tenants(&db);
        create(
            &db,
            "sam",
            &["--role", "site_manager", "--tenant", "t-1", "--site", "1"],
        )
        .success();
        db.exec("UPDATE users SET last_login = '2026-03-04 05:06:07' WHERE username = 'sam'");

        let out = db.run(&["user", "list", "--json"]).success();
        let list: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(list["command"], "user list");
        let users = list["users"].as_array().unwrap();
        let names: Vec<&str> = users
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["admin", "sam"], "{:?}", db.backend);
        let sam = &users[1];
        assert_eq!(sam["email"], "sam@example.com");
        assert_eq!(sam["first_name"], "Ada");
        assert_eq!(sam["last_name"], "Lovelace");
        assert_eq!(sam["role"], "SITE_MANAGER");
        assert_eq!(sam["tenant_id"], "t-1");
        assert_eq!(sam["site_id"], 1);
        assert_eq!(sam["is_active"], true);
        assert_eq!(sam["is_email_verified"], true);
        assert_eq!(sam["last_login"], "2026-03-04T05:06:07Z");
        assert_eq!(sam["user_id"].as_str().unwrap().len(), 36);
        assert!(sam["created_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(users[0]["last_login"], serde_json::Value::Null);
        assert_eq!(users[0]["tenant_id"], serde_json::Value::Null);
        assert!(sam.get("password_hash").is_none());
        assert!(!out.stdout.contains("$argon2id$"));
    }
}

fn echo_shows_the_statements_but_neither_password_nor_hash() {
    for db in TestDb::each() {
        db.init();
        let out = create(&db, "ada", &["--echo"]).success().hides(PASSWORD);
        assert!(out.stderr.contains("[sql] INSERT INTO"), "{}", out.stderr);
        out.hides(&stored_hash(&db, "ada")).hides("$argon2id$");
        run_with_stdin(
            &db,
            &[
                "user",
                "reset-password",
                "ada",
                "--password-stdin",
                "--echo",
            ],
            &format!("{PASSWORD}2\n"),
        )
        .success()
        .stderr_has("[sql] UPDATE")
        .hides(PASSWORD)
        .hides("$argon2id$");
    }
}

fn user_commands_never_create_a_missing_database() {
    for db in TestDb::each() {
        for args in [
            &["user", "list"][..],
            &["user", "reset-password", "admin", "--password-stdin"],
        ] {
            run_with_stdin(&db, args, "long-enough-pw\n")
                .code(2)
                .stderr_has("run `facedb init`");
        }
        create(&db, "ada", &[])
            .code(2)
            .stderr_has("run `facedb init`");
        match db.backend {
            Backend::Sqlite => assert!(!db.sqlite_path().exists()),
            Backend::Postgres => assert!(!db.pg_exists()),
        }
    }
}

fn a_database_without_the_schema_is_refused() {
    for db in TestDb::each() {
        match db.backend {
            Backend::Sqlite => {
                std::fs::File::create(db.sqlite_path()).unwrap();
            }
            Backend::Postgres => {
                db.init();
                db.exec(
                    "DROP TABLE api_keys, workers, visits, customer_face_images, customers, \
                         staff_face_images, staff, camera_sessions, cameras, users, sites, tenants",
                );
            }
        }
        db.run(&["user", "list"])
            .code(2)
            .stderr_has("has no facedb schema")
            .stderr_has("run `facedb init`");
    }
}

tests![
    needs::SERVER => [
        create_with_flags_and_password_stdin_makes_an_active_verified_system_admin,
        create_reports_the_user_as_json,
        roles_with_a_tenant_and_a_site_are_stored_with_them,
        password_hash_bcrypt_writes_what_passlib_verifies,
        a_taken_username_or_email_is_refused_with_exit_4,
        tenants_and_sites_are_checked_against_the_database,
        role_tenant_and_site_must_fit_together,
        an_empty_password_or_bad_values_are_refused_with_exit_2,
        password_stdin_takes_the_first_line_without_its_line_ending,
        a_missing_value_without_a_terminal_names_the_flag_and_never_waits,
        reset_password_sets_the_hash_and_password_changed_at,
        reset_password_of_an_unknown_user_is_refused,
        list_shows_an_aligned_table_ordered_by_username,
        list_json_is_an_array_of_users_without_password_hashes,
        echo_shows_the_statements_but_neither_password_nor_hash,
        user_commands_never_create_a_missing_database,
        a_database_without_the_schema_is_refused,
    ],
];
