//! init, reset and fresh through the real binary, on every available backend.

use crate::support;

use std::process::Stdio;

use support::data::{add_data, admin_row, counts};
use support::{Backend, TestDb};

fn init_creates_the_database_applies_the_schema_and_seeds_the_admin() {
    for db in TestDb::each() {
        let out = db.init();
        assert!(
            out.stdout.contains("created the database"),
            "{:?}: {}",
            db.backend,
            out.stdout
        );
        assert!(
            out.stdout
                .contains(&format!("applied {}", support::every_migration())),
            "{}",
            out.stdout
        );
        assert!(
            out.stderr.contains("default password"),
            "warns about the default password: {}",
            out.stderr
        );
        let mut conn = db.connect();
        let admin = conn.strings(
            "SELECT username || '|' || email || '|' || first_name || '|' || last_name || '|' || role || '|' || \
             coalesce(tenant_id, 'NULL') || '|' || coalesce(CAST(site_id AS TEXT), 'NULL') || '|' || \
             CAST(is_active AS INTEGER) || CAST(is_email_verified AS INTEGER) || '|' || length(user_id) AS v FROM users",
        );
        assert_eq!(
            admin,
            ["admin|admin@system.local|System|Administrator|SYSTEM_ADMIN|NULL|NULL|11|36"],
            "{:?}",
            db.backend
        );
        let hash = conn
            .strings("SELECT password_hash AS v FROM users")
            .remove(0);
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(facedb::verify_password("admin123", &hash));
        assert!(!facedb::verify_password("admin1234", &hash));
    }
}

fn a_second_init_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = (admin_row(&db), counts(&db));
        let out = db.init();
        assert_eq!(
            out.stdout.trim_end(),
            format!("{}: up to date", display(&db)),
            "{:?}",
            db.backend
        );
        assert!(
            !out.stderr.contains("default password"),
            "no seeding, no warning: {}",
            out.stderr
        );
        assert_eq!((admin_row(&db), counts(&db)), before, "{:?}", db.backend);
        assert_eq!(
            db.count("__diesel_schema_migrations"),
            support::migration_count()
        );
    }
}

/// How facedb names the test database in its output.
fn display(db: &TestDb) -> String {
    match db.backend {
        Backend::Postgres => format!("127.0.0.1:5432/{}", db.name),
        Backend::Sqlite => db.url().to_owned(),
    }
}

fn an_operator_who_replaced_the_admin_does_not_get_it_back() {
    for db in TestDb::each() {
        db.init();
        db.exec("UPDATE users SET username = 'root', email = 'root@example.com'");
        db.init();
        let names = db.connect().strings("SELECT username AS v FROM users");
        assert_eq!(names, ["root"], "{:?}", db.backend);
    }
}

fn reset_force_and_fresh_force_remove_data_and_restore_the_seed() {
    for db in TestDb::each() {
        for args in [
            &["reset", "--force"][..],
            &["reset", "--yes"],
            &["reset", "-y"],
            &["fresh", "--force"],
        ] {
            db.init();
            add_data(&db);
            let old_admin = admin_row(&db);
            let out = db.run(args).success();
            assert!(
                out.stdout
                    .contains(&format!("{}: dropped 12 tables", args[0])),
                "{args:?}: {}",
                out.stdout
            );
            let after = counts(&db);
            for (table, rows) in &after {
                let expected = if table == "users" { 1 } else { 0 };
                assert_eq!(*rows, expected, "{:?} {args:?}: {table}", db.backend);
            }
            assert_ne!(admin_row(&db), old_admin, "the admin is seeded anew");
            assert_eq!(
                db.connect().strings("SELECT username AS v FROM users"),
                ["admin"]
            );
        }
    }
}

fn reset_without_a_terminal_refuses_and_keeps_every_row() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        let out = db
            .std_facedb()
            .arg("reset")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let out = support::Output::from(out)
            .code(4)
            .stderr_has("stdin is not a terminal")
            .stderr_has("--force");
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn fresh_without_force_refuses_and_names_the_alternatives() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        db.run(&["fresh"])
            .code(4)
            .stderr_has("--force")
            .stderr_has("facedb reset");
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn reset_keeps_tables_facedb_does_not_own() {
    for db in TestDb::each() {
        db.init();
        db.exec("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO audit_log VALUES (1, 'keep me');");
        db.run(&["fresh", "--force"]).success();
        assert_eq!(
            db.connect().strings("SELECT note AS v FROM audit_log"),
            ["keep me"],
            "{:?}",
            db.backend
        );
    }
}

fn a_view_on_visits_blocks_reset_and_nothing_changes() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        db.exec("CREATE VIEW visit_report AS SELECT tenant_id, count(*) AS n FROM visits GROUP BY tenant_id");
        let before = counts(&db);
        let out = db
            .run(&["fresh", "--force"])
            .code(5)
            .stderr_has("visit_report")
            .stderr_has("visits");
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
        assert_eq!(db.count("visit_report"), 1, "the view is still there");
    }
}

/// A view another application makes while a reset waits for one of facedb's tables stops the
/// reset: it looks for what depends on the tables once it holds every one of them, so nothing made
/// before that look escapes it, and nothing can be made after it.
fn a_view_made_while_a_reset_waits_for_a_table_stops_it() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    let before = counts(&db);
    // The API reads api_keys in a transaction that stays open: the reset waits for it.
    let mut api = db.connect();
    api.exec("BEGIN; SELECT count(*) FROM api_keys;");
    let reset = db
        .std_facedb()
        .args(["fresh", "--force"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn facedb");
    let mut other = db.connect();
    support::wait_for_facedb_waiting_for_table(&mut other, "api_keys");
    other.exec("CREATE VIEW tenant_names AS SELECT name FROM tenants");
    api.exec("COMMIT");
    let out = support::Output::from(reset.wait_with_output().expect("facedb ends"))
        .code(5)
        .stderr_has("tenant_names")
        .stderr_has("tenants");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
    assert_eq!(counts(&db), before);
    // The view still reads facedb's live table, not a backup.
    assert_eq!(
        other.strings(
            "SELECT n.nspname::text AS v FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE d.objid = (SELECT oid FROM pg_rewrite WHERE ev_class = 'tenant_names'::regclass) \
               AND d.refobjid <> 'tenant_names'::regclass GROUP BY 1"
        ),
        ["public"]
    );
}

fn a_foreign_key_from_another_table_blocks_reset() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        db.exec("CREATE TABLE billing (tenant_id VARCHAR(64) REFERENCES tenants (tenant_id), amount INTEGER)");
        let before = counts(&db);
        db.run(&["reset", "--force"])
            .code(5)
            .stderr_has("billing")
            .stderr_has("tenants");
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn a_failure_after_the_drop_leaves_the_old_rows_intact() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = (admin_row(&db), counts(&db));
        // Give one of facedb's index names to another table's index: reset drops facedb's tables,
        // then recreating that index fails near the end of the migration.
        db.exec(match db.backend {
            Backend::Postgres => {
                "ALTER INDEX idx_visits_timestamp RENAME TO idx_visits_timestamp_moved;
                 CREATE TABLE squatter (x INTEGER); CREATE INDEX idx_visits_timestamp ON squatter (x);"
            }
            Backend::Sqlite => {
                "DROP INDEX idx_visits_timestamp;
                 CREATE TABLE squatter (x INTEGER); CREATE INDEX idx_visits_timestamp ON squatter (x);"
            }
        });
        let out = db.run(&["fresh", "--force"]);
        assert_ne!(out.code, Some(0), "{:?}: {}", db.backend, out.stderr);
        assert!(
            out.stderr.contains("idx_visits_timestamp"),
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert_eq!((admin_row(&db), counts(&db)), before, "{:?}", db.backend);
    }
}

fn eight_concurrent_inits_on_a_new_database_all_succeed_with_one_admin() {
    for db in TestDb::each() {
        let children: Vec<_> = (0..8)
            .map(|_| {
                db.std_facedb()
                    .arg("init")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn facedb")
            })
            .collect();
        let outputs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        for out in &outputs {
            let out = support::Output::from(out.clone());
            assert_eq!(out.code, Some(0), "{:?}: {}", db.backend, out.stderr);
        }
        let applied = format!("applied {}", support::every_migration());
        let created = outputs
            .iter()
            .filter(|o| String::from_utf8_lossy(&o.stdout).contains(&applied))
            .count();
        assert_eq!(
            created, 1,
            "{:?}: exactly one process applies the migrations",
            db.backend
        );
        assert_eq!(db.count("users"), 1);
        assert_eq!(
            db.count("__diesel_schema_migrations"),
            support::migration_count()
        );
    }
}

fn a_held_lock_times_out_with_exit_6_naming_the_holder() {
    for db in TestDb::each() {
        db.init();
        let mut holder = db.connect();
        match db.backend {
            Backend::Postgres => holder.exec(&format!(
                "SET application_name = 'lock-holder-test'; SELECT pg_advisory_lock({});",
                facedb::ADVISORY_LOCK_KEY
            )),
            Backend::Sqlite => holder.exec("BEGIN IMMEDIATE"),
        }
        let started = std::time::Instant::now();
        let out = db
            .run(&["init", "--lock-timeout", "1s"])
            .code(6)
            .stderr_has("--lock-timeout");
        assert!(started.elapsed() < std::time::Duration::from_secs(30));
        if db.backend == Backend::Postgres {
            assert!(
                out.stderr.contains("lock-holder-test") && out.stderr.contains("pid "),
                "{}",
                out.stderr
            );
        }
        drop(holder);
        db.init();
    }
}

fn echo_prints_the_statements_without_bound_values() {
    for db in TestDb::each() {
        let out = db.run(&["init", "--echo"]).success();
        assert!(
            out.stderr.contains("[sql] ") && out.stderr.contains("CREATE TABLE"),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("$argon2id$"),
            "no password hash in the echo"
        );
        let out = support::Output::from(
            db.facedb()
                .arg("init")
                .env("DATABASE_ECHO", "true")
                .output()
                .unwrap(),
        );
        assert!(
            out.stderr.contains("[sql] "),
            "DATABASE_ECHO=true echoes too"
        );
    }
}

fn quiet_prints_nothing_on_success() {
    for db in TestDb::each() {
        let out = db.run(&["--quiet", "init"]).success();
        assert_eq!(
            (out.stdout.as_str(), out.stderr.as_str()),
            ("", ""),
            "{:?}",
            db.backend
        );
        let out = db.run(&["fresh", "--force", "-q"]).success();
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    }
}

fn a_sqlite_file_in_a_missing_folder_is_a_clear_error() {
    let db = TestDb::sqlite();
    let out = db
        .run(&["init", "--database-url", "no/such/folder/app.db"])
        .code(2)
        .stderr_has("folder no/such/folder does not exist");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

fn unknown_schemes_list_the_accepted_forms() {
    let db = TestDb::sqlite();
    let out = db
        .run(&["init", "--database-url", "mysql://root:Hunter2pw@db/app"])
        .code(2)
        .stderr_has("sqlite:///")
        .stderr_has("postgres://")
        .hides("Hunter2pw");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

tests![
    needs::NOTHING => [
        a_sqlite_file_in_a_missing_folder_is_a_clear_error,
        unknown_schemes_list_the_accepted_forms,
    ],
    needs::SERVER => [
        init_creates_the_database_applies_the_schema_and_seeds_the_admin,
        a_second_init_changes_nothing,
        an_operator_who_replaced_the_admin_does_not_get_it_back,
        reset_force_and_fresh_force_remove_data_and_restore_the_seed,
        reset_without_a_terminal_refuses_and_keeps_every_row,
        fresh_without_force_refuses_and_names_the_alternatives,
        reset_keeps_tables_facedb_does_not_own,
        a_view_on_visits_blocks_reset_and_nothing_changes,
        a_view_made_while_a_reset_waits_for_a_table_stops_it,
        a_foreign_key_from_another_table_blocks_reset,
        a_failure_after_the_drop_leaves_the_old_rows_intact,
        eight_concurrent_inits_on_a_new_database_all_succeed_with_one_admin,
        a_held_lock_times_out_with_exit_6_naming_the_holder,
        echo_prints_the_statements_without_bound_values,
        quiet_prints_nothing_on_success,
    ],
];
