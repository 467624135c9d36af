//! `facedb check` and `facedb status` through the real binary, on every available backend: each
//! test sets a database up with `facedb init`, changes it the way an operator or an old tool might,
//! and reads what the commands say (exit code, lines, JSON fields).

use crate::support;

use serde_json::Value;
use support::{Backend, Output, TestDb};

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

/// `facedb check`: its exit code and the difference lines of its human output.
fn check_lines(db: &TestDb) -> (Option<i32>, Vec<String>) {
    let out = db.run(&["check"]);
    let lines = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.trim().to_owned())
        .collect();
    (out.code, lines)
}

/// Asserts that `facedb check` exits 5 and lists exactly `expected` (and that `--json` agrees).
#[track_caller]
fn assert_differences(db: &TestDb, expected: &[&str]) {
    let (code, lines) = check_lines(db);
    assert_eq!(
        (code, lines.clone()),
        (Some(5), expected.iter().map(|s| s.to_string()).collect()),
        "{:?}: facedb check",
        db.backend
    );
    let report = json(&db.run(&["check", "--json"]).code(5));
    assert_eq!(report["matches"], false);
    let messages: Vec<&str> = report["differences"]
        .as_array()
        .expect("differences")
        .iter()
        .map(|d| d["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages, expected, "{:?}: check --json", db.backend);
}

/// Rebuilds a SQLite table from its `CREATE TABLE` with `edit` applied (SQLite cannot alter a
/// column's type, a foreign key or a CHECK in place): SQLite's documented twelve steps, short.
fn rebuild_sqlite_table(db: &TestDb, table: &str, edit: impl Fn(&str) -> String) {
    let mut conn = db.connect();
    let create = conn
        .strings(&format!(
            "SELECT sql AS v FROM sqlite_master WHERE type = 'table' AND name = '{table}'"
        ))
        .remove(0);
    let edited = edit(&create);
    assert_ne!(edited, create, "the edit changes {table}'s definition");
    let prefix = format!("CREATE TABLE {table} (");
    assert!(edited.starts_with(&prefix), "{edited}");
    let edited = edited.replacen(&prefix, &format!("CREATE TABLE {table}_new ("), 1);
    let indexes = conn.strings(&format!(
        "SELECT sql AS v FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' AND sql IS NOT NULL"
    ));
    conn.exec(&format!(
        "PRAGMA foreign_keys = OFF;
         BEGIN;
         {edited};
         INSERT INTO {table}_new SELECT * FROM {table};
         DROP TABLE {table};
         ALTER TABLE {table}_new RENAME TO {table};
         {};
         COMMIT;",
        indexes.join(";\n")
    ));
}

/// Each line of `text` with its runs of spaces squeezed to one.
fn words(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// The database as the commands name it in their output.
fn display(db: &TestDb) -> String {
    match db.backend {
        Backend::Postgres => format!("127.0.0.1:5432/{}", db.name),
        Backend::Sqlite => db.url().to_owned(),
    }
}

// -------------------------------------------------------------------------------------------------
// check
// -------------------------------------------------------------------------------------------------

fn check_passes_on_a_fresh_database_whatever_else_it_holds() {
    for db in TestDb::each() {
        db.init();
        // Tables facedb does not own, and data in its own, are no concern of `check`.
        db.exec(
            "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT);
             CREATE INDEX idx_audit_log_note ON audit_log (note);
             INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Tenant One');",
        );
        let out = db.run(&["check"]).success();
        assert_eq!(
            out.stdout.trim_end(),
            format!(
                "{}: the schema matches the contract (12 tables)",
                display(&db)
            )
        );
        let report = json(&db.run(&["check", "--json"]).success());
        assert_eq!(report["command"], "check");
        assert_eq!(report["target"], display(&db).as_str());
        assert_eq!(report["matches"], true);
        assert_eq!(report["differences"], serde_json::json!([]));
    }
}

fn check_reports_a_dropped_index() {
    for db in TestDb::each() {
        db.init();
        db.exec("DROP INDEX idx_users_role");
        assert_differences(&db, &["users: missing index idx_users_role (role)"]);
        let report = json(&db.run(&["check", "--json"]));
        let difference = &report["differences"][0];
        assert_eq!(difference["kind"], "missing_index");
        assert_eq!(difference["table"], "users");
        assert_eq!(difference["index"]["name"], "idx_users_role");
        assert_eq!(difference["index"]["columns"], serde_json::json!(["role"]));
    }
}

fn check_reports_a_changed_type() {
    for db in TestDb::each() {
        db.init();
        let expected = match db.backend {
            Backend::Postgres => {
                db.exec("ALTER TABLE users ALTER COLUMN email TYPE text");
                "users.email: expected character varying(255), found text"
            }
            Backend::Sqlite => {
                rebuild_sqlite_table(&db, "users", |sql| {
                    sql.replace(
                        "email               VARCHAR(255)",
                        "email               TEXT",
                    )
                });
                "users.email: expected VARCHAR(255), found TEXT"
            }
        };
        assert_differences(&db, &[expected]);
        let difference = &json(&db.run(&["check", "--json"]))["differences"][0];
        assert_eq!(difference["kind"], "type_mismatch");
        assert_eq!(difference["column"], "email");
    }
}

fn check_reports_a_missing_column() {
    for db in TestDb::each() {
        db.init();
        db.exec("ALTER TABLE workers DROP COLUMN last_error");
        let ty = match db.backend {
            Backend::Postgres => "text",
            Backend::Sqlite => "TEXT",
        };
        assert_differences(
            &db,
            &[&format!("workers.last_error: missing column ({ty})")],
        );
    }
}

fn check_reports_an_extra_column() {
    for db in TestDb::each() {
        db.init();
        db.exec("ALTER TABLE tenants ADD COLUMN notes TEXT");
        let ty = match db.backend {
            Backend::Postgres => "text",
            Backend::Sqlite => "TEXT",
        };
        assert_differences(
            &db,
            &[&format!("tenants.notes: column not in the contract ({ty})")],
        );
    }
}

fn check_reports_a_changed_on_delete_rule() {
    for db in TestDb::each() {
        db.init();
        match db.backend {
            Backend::Postgres => db.exec(
                "ALTER TABLE sites DROP CONSTRAINT sites_tenant_id_fkey, \
                 ADD CONSTRAINT sites_tenant_id_fkey FOREIGN KEY (tenant_id) \
                 REFERENCES tenants (tenant_id) ON DELETE RESTRICT",
            ),
            Backend::Sqlite => rebuild_sqlite_table(&db, "sites", |sql| {
                sql.replace(
                    "REFERENCES tenants (tenant_id) ON DELETE CASCADE",
                    "REFERENCES tenants (tenant_id) ON DELETE RESTRICT",
                )
            }),
        }
        assert_differences(
            &db,
            &["sites (tenant_id) -> tenants: expected ON DELETE CASCADE, found ON DELETE RESTRICT"],
        );
        let difference = &json(&db.run(&["check", "--json"]))["differences"][0];
        assert_eq!(difference["kind"], "on_delete_mismatch");
        assert_eq!(difference["expected"], "CASCADE");
        assert_eq!(difference["found"], "RESTRICT");
    }
}

fn check_reports_a_renamed_enum_label() {
    for db in TestDb::each() {
        db.init();
        let expected = match db.backend {
            Backend::Postgres => {
                db.exec("ALTER TYPE userrole RENAME VALUE 'WORKER' TO 'STAFF'");
                "enum type userrole: expected labels SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, WORKER, \
                 found SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, STAFF"
            }
            // SQLite has no enum types: the CHECK on users.role lists the labels.
            Backend::Sqlite => {
                rebuild_sqlite_table(&db, "users", |sql| sql.replace("'WORKER'", "'STAFF'"));
                "users.role: expected a CHECK allowing SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, WORKER, \
                 found one allowing SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, STAFF"
            }
        };
        assert_differences(&db, &[expected]);
    }
}

fn check_lists_every_difference_at_once() {
    for db in TestDb::each() {
        db.init();
        db.exec(
            "DROP INDEX idx_visits_site;
             DROP TABLE api_keys;
             ALTER TABLE customers ADD COLUMN loyalty INTEGER;
             CREATE INDEX ix_customers_phone ON customers (phone);",
        );
        let (code, lines) = check_lines(&db);
        assert_eq!(code, Some(5));
        let int = match db.backend {
            Backend::Postgres => "integer",
            Backend::Sqlite => "INTEGER",
        };
        assert_eq!(
            lines,
            [
                format!("customers.loyalty: column not in the contract ({int})"),
                "customers: index not in the contract: ix_customers_phone (phone)".to_owned(),
                "visits: missing index idx_visits_site (tenant_id, site_id, timestamp)".to_owned(),
                "table api_keys is missing".to_owned(),
            ],
            "{:?}",
            db.backend
        );
        let out = db.run(&["check"]);
        assert!(
            out.stdout.starts_with(&format!(
                "{}: 4 differences from the schema contract:",
                display(&db)
            )),
            "{}",
            out.stdout
        );
    }
}

fn check_on_a_missing_database_says_so_and_creates_nothing() {
    for db in TestDb::each() {
        let out = db
            .run(&["check"])
            .code(5)
            .stderr_has("does not exist")
            .stderr_has("facedb init");
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        let report = json(&db.run(&["check", "--json"]).code(5));
        assert_eq!(report["error"]["exit_code"], 5);
        match db.backend {
            Backend::Postgres => assert!(!db.pg_exists(), "check created the database"),
            Backend::Sqlite => assert!(!db.sqlite_path().exists(), "check created the file"),
        }
    }
}

// -------------------------------------------------------------------------------------------------
// status
// -------------------------------------------------------------------------------------------------

/// The URL with a password in it: the test server trusts local connections and ignores it.
fn url_with_password(db: &TestDb, password: &str) -> String {
    match db.backend {
        Backend::Postgres => {
            let mut url = url::Url::parse(db.url()).unwrap();
            url.set_password(Some(password)).unwrap();
            url.to_string()
        }
        Backend::Sqlite => db.url().to_owned(),
    }
}

fn status_of_an_up_to_date_database() {
    for db in TestDb::each() {
        db.facedb()
            .env("ENV", "staging")
            .env("FACEDB_ADMIN_PASSWORD", "Stag1ng-admin-pw")
            .arg("init")
            .assert()
            .success();
        db.exec(
            "CREATE TABLE audit_log (id INTEGER PRIMARY KEY);
             INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'One'), ('t-2', 'Two');",
        );
        let url = url_with_password(&db, "s3cret-pw");
        let out = db
            .run(&["status", "--database-url", &url])
            .success()
            .hides("s3cret-pw");
        let lines: Vec<&str> = out.stdout.lines().collect();
        let backend = match db.backend {
            Backend::Postgres => "backend       PostgreSQL 1",
            Backend::Sqlite => "backend       SQLite 3.",
        };
        assert_eq!(lines[0], format!("target        {}", display(&db)));
        assert!(lines[1].starts_with(backend), "{}", out.stdout);
        let all = facedb::migrations::all_names(db.backend.into());
        let words = words(&out.stdout);
        // One line each, the first labelled.
        let applied: Vec<String> = all
            .iter()
            .enumerate()
            .map(|(n, name)| {
                if n == 0 {
                    format!("applied {name}")
                } else {
                    name.clone()
                }
            })
            .collect();
        for expected in applied.into_iter().chain([
            "environment staging".to_owned(),
            "pending none".to_owned(),
            "system admin yes".to_owned(),
            "tables tenants 2".to_owned(),
            "users 1".to_owned(),
            "api_keys 0".to_owned(),
            "other tables audit_log".to_owned(),
            "status up to date".to_owned(),
        ]) {
            assert!(
                words.contains(&expected),
                "{:?}: no line {expected:?} in\n{}",
                db.backend,
                out.stdout
            );
        }
        // An aligned block: values start in one column, row counts end in one column.
        assert!(
            lines
                .iter()
                .all(|l| l.len() > 14 && l.as_bytes()[13] == b' ' && l.as_bytes()[14] != b' '),
            "{}",
            out.stdout
        );
        let table_lines =
            &lines[lines.iter().position(|l| l.starts_with("tables")).unwrap()..][..12];
        assert!(
            table_lines.iter().all(|l| l.len() == table_lines[0].len()),
            "{}",
            out.stdout
        );

        let report = json(
            &db.run(&["status", "--json", "--database-url", &url])
                .success()
                .hides("s3cret-pw"),
        );
        assert_eq!(report["command"], "status");
        assert_eq!(report["target"], display(&db).as_str());
        assert_eq!(report["database_exists"], true);
        assert!(
            report["server_version"]
                .as_str()
                .is_some_and(|v| v.chars().next().is_some_and(|c| c.is_ascii_digit())),
            "{}",
            report["server_version"]
        );
        assert_eq!(report["environment"], "staging");
        assert_eq!(
            report["migrations"],
            serde_json::json!({"applied": all, "pending": [], "unknown": []})
        );
        let tables = report["tables"].as_array().unwrap();
        assert_eq!(tables.len(), 12);
        assert!(tables.iter().all(|t| t["present"] == true));
        assert_eq!(
            tables[0],
            serde_json::json!({"table": "tenants", "present": true, "rows": 2, "estimated": false})
        );
        assert_eq!(report["system_admin"], true);
        assert_eq!(report["other_tables"], serde_json::json!(["audit_log"]));
        assert_eq!(report["up_to_date"], true);
    }
}

fn status_reports_what_is_pending_or_missing_and_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        db.exec(
            "DROP TABLE __diesel_schema_migrations;
             DROP TABLE api_keys;
             DELETE FROM users;",
        );
        let out = db.run(&["status"]).code(5);
        assert!(
            out.stdout.contains(&format!(
                "status        not up to date ({} pending, 1 table missing, no system admin): run `facedb init`",
                support::every_migration()
            )),
            "{}",
            out.stdout
        );
        let words = words(&out.stdout);
        assert!(
            words.contains(&"system admin none".to_owned()),
            "{}",
            out.stdout
        );
        assert!(
            words.contains(&"api_keys missing".to_owned()),
            "{}",
            out.stdout
        );
        let all = facedb::migrations::all_names(db.backend.into());
        assert!(
            words.contains(&format!("pending {}", all[0])),
            "{}",
            out.stdout
        );
        let report = json(&db.run(&["status", "--json"]).code(5));
        assert_eq!(report["migrations"]["applied"], serde_json::json!([]));
        assert_eq!(report["migrations"]["pending"], serde_json::json!(all));
        assert_eq!(
            report["tables"][11],
            serde_json::json!({"table": "api_keys", "present": false, "rows": null, "estimated": false})
        );
        assert_eq!(report["system_admin"], false);
        assert_eq!(report["up_to_date"], false);
        // Read-only: diesel's bookkeeping table was not recreated, the admin not seeded.
        let tables = db.connect().strings(
            "SELECT CAST(count(*) AS TEXT) AS v FROM users UNION ALL \
             SELECT CAST(count(*) AS TEXT) AS v FROM tenants",
        );
        assert_eq!(tables, ["0", "0"]);
        let bookkeeping = match db.backend {
            Backend::Postgres => db.connect().strings(
                "SELECT relname::text AS v FROM pg_class WHERE relname = '__diesel_schema_migrations'",
            ),
            Backend::Sqlite => db.connect().strings(
                "SELECT name AS v FROM sqlite_master WHERE name = '__diesel_schema_migrations'",
            ),
        };
        assert_eq!(bookkeeping, Vec::<String>::new(), "{:?}", db.backend);
    }
}

fn status_of_a_table_dropped_after_its_migration_points_to_check() {
    for db in TestDb::each() {
        db.init();
        db.exec("DROP TABLE visits");
        let out = db.run(&["status"]).code(5);
        assert!(
            out.stdout.contains(
                "status        not up to date (1 table missing): run `facedb check` to see how the schema differs"
            ),
            "{}",
            out.stdout
        );
    }
}

fn status_of_a_missing_database_creates_nothing() {
    for db in TestDb::each() {
        let out = db.run(&["status"]).code(5);
        let backend = match db.backend {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        };
        assert_eq!(
            out.stdout.trim_end(),
            format!(
                "target        {}\nbackend       {backend}\nstatus        the database does not exist: run `facedb init` to create it",
                display(&db)
            )
        );
        let report = json(&db.run(&["status", "--json"]).code(5));
        assert_eq!(report["database_exists"], false);
        assert_eq!(report["up_to_date"], false);
        assert_eq!(
            report["migrations"]["pending"],
            serde_json::json!(facedb::migrations::all_names(db.backend.into()))
        );
        assert!(report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["present"] == false));
        match db.backend {
            Backend::Postgres => assert!(!db.pg_exists(), "status created the database"),
            Backend::Sqlite => assert!(!db.sqlite_path().exists(), "status created the file"),
        }
    }
}

fn status_and_check_fail_clearly_when_the_server_is_down() {
    let dir = tempfile::TempDir::new().unwrap();
    for command in ["status", "check"] {
        let out = Output::from(
            support::facedb_in(dir.path())
                .args([
                    command,
                    "--database-url",
                    "postgres://postgres:s3cret-pw@127.0.0.1:1/facedb",
                ])
                .output()
                .unwrap(),
        );
        out.code(3)
            .stderr_has("cannot connect to PostgreSQL at 127.0.0.1:1")
            .hides("s3cret-pw");
    }
}

tests![
    needs::NOTHING => [
        status_and_check_fail_clearly_when_the_server_is_down,
    ],
    needs::SERVER => [
        check_passes_on_a_fresh_database_whatever_else_it_holds,
        check_reports_a_dropped_index,
        check_reports_a_changed_type,
        check_reports_a_missing_column,
        check_reports_an_extra_column,
        check_reports_a_changed_on_delete_rule,
        check_reports_a_renamed_enum_label,
        check_lists_every_difference_at_once,
        check_on_a_missing_database_says_so_and_creates_nothing,
        status_of_an_up_to_date_database,
        status_reports_what_is_pending_or_missing_and_changes_nothing,
        status_of_a_table_dropped_after_its_migration_points_to_check,
        status_of_a_missing_database_creates_nothing,
    ],
];
