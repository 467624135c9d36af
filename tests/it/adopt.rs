//! `facedb init` on a database the old Python tool made (`tests/it/fixtures/legacy_*.sql`: facedb's
//! tables, some missing, with rows, and none of facedb's bookkeeping), through the real binary on
//! every available backend: it adopts the database and keeps every row, or changes nothing and
//! lists what it will not reconcile.

use crate::support;

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::Value;
use support::{Backend, Output, TestDb};

const LEGACY_POSTGRES: &str = include_str!("fixtures/legacy_postgres.sql");
const LEGACY_SQLITE: &str = include_str!("fixtures/legacy_sqlite.sql");

/// The tables the legacy fixtures have (an older version: no camera_sessions, workers, api_keys).
const LEGACY_TABLES: [&str; 9] = [
    "tenants",
    "sites",
    "users",
    "cameras",
    "staff",
    "staff_face_images",
    "customers",
    "customer_face_images",
    "visits",
];

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", out.stdout))
}

/// Creates the database as the old tool left it, with `edit` applied to the fixture's SQL.
fn legacy_with(db: &TestDb, edit: impl Fn(&str) -> String) {
    let fixture = match db.backend {
        Backend::Postgres => LEGACY_POSTGRES,
        Backend::Sqlite => LEGACY_SQLITE,
    };
    let sql = edit(fixture);
    db.create_empty();
    db.exec(&sql);
}

fn legacy(db: &TestDb) {
    legacy_with(db, str::to_owned);
}

/// Replaces `from` in the fixture, which must contain it.
fn replace(sql: &str, from: &str, to: &str) -> String {
    assert!(sql.contains(from), "the fixture has {from:?}");
    sql.replacen(from, to, 1)
}

/// The columns of a table, in order.
fn columns(db: &TestDb, table: &str) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => format!(
            "SELECT column_name::text AS v FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position"
        ),
        Backend::Sqlite => format!("SELECT name AS v FROM pragma_table_info('{table}') ORDER BY cid"),
    };
    db.connect().strings(&sql)
}

/// Every row of the legacy tables as text, in the columns they had: what adoption must keep.
fn legacy_rows(
    db: &TestDb,
    columns_of: &BTreeMap<String, Vec<String>>,
) -> BTreeMap<String, Vec<String>> {
    let mut conn = db.connect();
    columns_of
        .iter()
        .map(|(table, columns)| {
            let row = columns
                .iter()
                .map(|c| format!("coalesce(CAST(\"{c}\" AS TEXT), 'NULL')"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows = conn.strings(&format!("SELECT {row} AS v FROM \"{table}\" ORDER BY 1"));
            (table.clone(), rows)
        })
        .collect()
}

fn legacy_columns(db: &TestDb) -> BTreeMap<String, Vec<String>> {
    LEGACY_TABLES
        .iter()
        .map(|t| (t.to_string(), columns(db, t)))
        .collect()
}

/// The whole schema as the catalog lists it (tables, bookkeeping included, columns with types,
/// nullability and defaults, constraints, indexes, enum types): to show that nothing changed.
fn schema_snapshot(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT 'table ' || c.relname || ' ' || c.relkind::text AS v FROM pg_class c \
               WHERE c.relnamespace = 'public'::regnamespace \
             UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' \
               || is_nullable || ' ' || coalesce(column_default, '-') \
               FROM information_schema.columns WHERE table_schema = 'public' \
             UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' \
               || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace \
             UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             UNION ALL SELECT 'type ' || t.typname || ' ' || e.enumlabel FROM pg_type t \
               JOIN pg_enum e ON e.enumtypid = t.oid WHERE t.typnamespace = 'public'::regnamespace \
             ORDER BY 1"
        }
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ' ' || coalesce(sql, '-') AS v FROM sqlite_master ORDER BY 1"
        }
    };
    db.connect().strings(sql)
}

fn bookkeeping_tables(db: &TestDb) -> Vec<String> {
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT relname::text AS v FROM pg_class WHERE relnamespace = 'public'::regnamespace \
             AND relname LIKE '\\_\\_%' ORDER BY 1"
        }
        Backend::Sqlite => {
            "SELECT name AS v FROM sqlite_master WHERE name LIKE '\\_\\_%' ESCAPE '\\' ORDER BY 1"
        }
    };
    db.connect().strings(sql)
}

fn system_admins(db: &TestDb) -> Vec<String> {
    db.connect().strings(
        "SELECT username AS v FROM users WHERE CAST(role AS TEXT) = 'SYSTEM_ADMIN' ORDER BY 1",
    )
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

// -------------------------------------------------------------------------------------------------
// Adoption
// -------------------------------------------------------------------------------------------------

fn init_adopts_an_old_database_keeping_every_row() {
    for db in TestDb::each() {
        let backend = db.backend;
        legacy(&db);
        let columns_before = legacy_columns(&db);
        let rows_before = legacy_rows(&db, &columns_before);

        let out = db.run(&["init", "--json"]).success();
        let report = json(&out);
        let adopted = &report["adopted"];
        assert_eq!(
            strings(&adopted["found_tables"]),
            LEGACY_TABLES,
            "{backend:?}"
        );
        assert_eq!(
            strings(&adopted["created_tables"]),
            ["camera_sessions", "workers", "api_keys"],
            "{backend:?}"
        );
        // Every column of the contract the old tables lack, in the contract's order: the
        // migrations' own, and any a later migration adds.
        let contract = facedb::contract::expected(backend.into());
        let lacking: Vec<String> = contract
            .tables
            .iter()
            .filter_map(|t| Some((t, columns_before.get(&t.name)?)))
            .flat_map(|(t, had)| {
                t.columns
                    .iter()
                    .filter(|c| !had.contains(&c.name))
                    .map(|c| format!("{}.{}", t.name, c.name))
            })
            .collect();
        assert_eq!(strings(&adopted["added_columns"]), lacking, "{backend:?}");
        for column in [
            "cameras.caps",
            "cameras.last_probe_at",
            "cameras.last_state_change_at",
            "customer_face_images.visit_id",
            "customer_face_images.detection_metadata",
            "visits.visit_session_id",
        ] {
            assert!(lacking.iter().any(|c| c == column), "{backend:?}: {column}");
        }
        assert_eq!(
            strings(&adopted["created_indexes"]),
            [
                "idx_users_site_id",
                "idx_staff_face_images_primary",
                "idx_customer_face_images_confidence",
                "idx_customer_face_images_hash",
                "idx_customer_face_images_created",
                "idx_visits_site",
                "idx_visits_session",
                "idx_visits_person_time"
            ],
            "{backend:?}"
        );
        let defaults = strings(&adopted["added_defaults"]);
        assert_eq!(defaults.len(), 31, "{backend:?}: {defaults:?}");
        for column in [
            "tenants.created_at",
            "users.user_id",
            "visits.detection_count",
        ] {
            assert!(
                defaults.iter().any(|d| d == column),
                "{backend:?}: {column}"
            );
        }
        let normalised = strings(&adopted["normalised"]);
        match backend {
            Backend::Postgres => {
                assert_eq!(normalised.len(), 2, "{normalised:?}");
                assert!(
                    normalised[0].contains("fk_users_site_id")
                        && normalised[0].contains("users_site_id_fkey")
                );
                assert!(normalised[1].contains("staff_face_images_tenant_id_fkey1"));
                assert_eq!(strings(&adopted["rebuilt_tables"]), Vec::<String>::new());
            }
            Backend::Sqlite => {
                // SQLite does not name constraints: only the second foreign key is a variant.
                assert_eq!(normalised.len(), 1, "{normalised:?}");
                assert!(normalised[0].contains("staff_face_images (tenant_id) -> tenants"));
                assert_eq!(strings(&adopted["rebuilt_tables"]), LEGACY_TABLES);
                assert_eq!(
                    strings(&adopted["added_constraints"]),
                    [
                        "CHECK (role IN ('SYSTEM_ADMIN', 'TENANT_ADMIN', 'SITE_MANAGER', 'WORKER')) on users",
                        "CHECK (camera_type IN ('RTSP', 'WEBCAM')) on cameras"
                    ]
                );
            }
        }
        assert_eq!(
            strings(&adopted["recorded_migrations"]),
            facedb::migrations::all_names(backend.into())
        );
        assert_eq!(strings(&adopted["kept"]), Vec::<String>::new());
        assert_eq!(strings(&report["applied_migrations"]), Vec::<String>::new());
        assert_eq!(
            report["seeded_admin"],
            Value::Null,
            "{backend:?}: root is an admin"
        );
        assert_eq!(report["up_to_date"], false);
        for line in [
            "found 9 of facedb's 12 tables without facedb's bookkeeping",
            "created table camera_sessions",
            "added column visits.visit_session_id",
            "added defaults to tenants: is_active, created_at, updated_at",
            "created index idx_users_site_id",
        ] {
            assert!(
                out.stderr.contains(line),
                "{backend:?}: {line}\n{}",
                out.stderr
            );
        }
        for migration in facedb::migrations::all_names(backend.into()) {
            let line = format!("recorded migration {migration} as applied");
            assert!(
                out.stderr.contains(&line),
                "{backend:?}: {line}\n{}",
                out.stderr
            );
        }

        // Every row is there, with the values it had.
        assert_eq!(
            legacy_rows(&db, &columns_before),
            rows_before,
            "{backend:?}"
        );
        assert_eq!(system_admins(&db), ["root"], "{backend:?}");
        let mut conn = db.connect();
        let sessions = conn.strings("SELECT visit_session_id AS v FROM visits ORDER BY visit_id");
        assert_eq!(sessions.len(), 2);
        assert!(
            sessions.iter().all(|s| s.len() == 36),
            "{backend:?}: {sessions:?}"
        );
        assert_ne!(
            sessions[0], sessions[1],
            "each existing visit gets its own session id"
        );

        // The schema is the contract's, the migration is recorded, and nothing is left to do.
        db.run(&["check"])
            .success()
            .stdout_has("the schema matches the contract");
        db.run(&["status"]).success().stdout_has("up to date");
        db.run(&["init"]).success().stdout_has(": up to date");
        assert_eq!(
            db.count("__diesel_schema_migrations"),
            support::migration_count()
        );
        assert_eq!(
            conn.strings("SELECT value AS v FROM __facedb_metadata WHERE key = 'environment'"),
            ["dev"]
        );

        // Defaults work: rows inserted without the columns the ORM used to fill in get them.
        conn.exec(
            "INSERT INTO tenants (tenant_id, name) VALUES ('t-2', 'Second');
             INSERT INTO visits (tenant_id, person_id, person_type, site_id, camera_id, confidence_score)
                 VALUES ('t-2', 7, 'customer', 1, 1, 0.5);
             INSERT INTO sites (tenant_id, name) VALUES ('t-2', 'Annex');",
        );
        assert_eq!(
            conn.strings(
                "SELECT CAST(count(*) AS TEXT) AS v FROM tenants \
                 WHERE tenant_id = 't-2' AND created_at IS NOT NULL AND is_active"
            ),
            ["1"],
            "{backend:?}"
        );
        assert_eq!(
            conn.strings(
                "SELECT visit_id || ' ' || visit_session_id || ' ' || CAST(detection_count AS TEXT) AS v \
                 FROM visits WHERE tenant_id = 't-2'"
            )[0]
            .len(),
            36 + 1 + 36 + 2,
            "{backend:?}"
        );
        assert_eq!(
            conn.strings("SELECT CAST(site_id AS TEXT) AS v FROM sites WHERE name = 'Annex'"),
            ["2"],
            "{backend:?}: the serial continues after the existing rows"
        );
    }
}

fn the_variants_are_normalised_on_postgres() {
    let db = TestDb::postgres();
    legacy(&db);
    db.init();
    let foreign_keys = db.connect().strings(
        "SELECT conrelid::regclass::text || ' ' || conname AS v FROM pg_constraint \
         WHERE contype = 'f' AND conrelid IN ('users'::regclass, 'staff_face_images'::regclass) \
         ORDER BY 1",
    );
    assert_eq!(
        foreign_keys,
        [
            "staff_face_images staff_face_images_staff_id_fkey",
            "staff_face_images staff_face_images_tenant_id_fkey",
            "users users_created_by_fkey",
            "users users_site_id_fkey",
            "users users_tenant_id_fkey",
        ]
    );
}

fn a_database_with_all_twelve_tables_and_no_bookkeeping_is_adopted() {
    for db in TestDb::each() {
        db.init();
        db.exec(
            "INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Acme');
             INSERT INTO workers (tenant_id, hostname, worker_name) VALUES ('t-1', 'gpu-1', 'w1');
             DROP TABLE __diesel_schema_migrations;
             DROP TABLE __facedb_metadata;",
        );
        let report = json(&db.run(&["init", "--json"]).success());
        let adopted = &report["adopted"];
        assert_eq!(
            strings(&adopted["found_tables"]).len(),
            12,
            "{:?}",
            db.backend
        );
        for field in [
            "created_types",
            "created_tables",
            "added_columns",
            "added_defaults",
            "added_constraints",
            "created_indexes",
            "normalised",
            "rebuilt_tables",
            "kept",
        ] {
            assert_eq!(
                strings(&adopted[field]),
                Vec::<String>::new(),
                "{:?}: {field}",
                db.backend
            );
        }
        assert_eq!(
            strings(&adopted["recorded_migrations"]),
            facedb::migrations::all_names(db.backend.into())
        );
        assert_eq!(report["seeded_admin"], Value::Null);
        assert_eq!(db.count("workers"), 1);
        assert_eq!(
            db.count("__diesel_schema_migrations"),
            support::migration_count()
        );
        assert_eq!(system_admins(&db), ["admin"]);
        db.run(&["check"]).success();
        db.run(&["init"]).success().stdout_has("up to date");
    }
}

fn a_legacy_database_without_an_admin_gets_one_seeded() {
    for db in TestDb::each() {
        legacy_with(&db, |sql| {
            format!("{sql}\nUPDATE users SET created_by = NULL; DELETE FROM users WHERE username = 'root';")
        });
        assert_eq!(system_admins(&db), Vec::<String>::new());

        // In production, not with the default password: and then the adoption is undone too.
        let schema = schema_snapshot(&db);
        let out = db.facedb().env("ENV", "prod").arg("init").output().unwrap();
        let out = Output::from(out)
            .code(4)
            .stderr_has("refusing to seed system admin 'admin' with the default password");
        assert!(out.stderr.contains("nothing was changed"), "{}", out.stderr);
        assert_eq!(schema_snapshot(&db), schema, "{:?}", db.backend);

        let report = json(&db.run(&["init", "--json"]).success());
        assert_ne!(report["adopted"], Value::Null);
        assert_eq!(report["seeded_admin"]["username"], "admin");
        assert_eq!(system_admins(&db), ["admin"]);
        assert_eq!(db.count("users"), 2, "{:?}: the manager stays", db.backend);
    }
}

// -------------------------------------------------------------------------------------------------
// What adoption will not reconcile
// -------------------------------------------------------------------------------------------------

/// Runs `init` on a legacy database changed by `edit`, expects exit 5 naming each of `expected`
/// (per backend), and checks that nothing changed: catalog, rows, no bookkeeping tables.
#[track_caller]
fn refused(db: &TestDb, edit: impl Fn(&str) -> String, expected: &[&str]) -> Output {
    legacy_with(db, edit);
    let schema = schema_snapshot(db);
    let columns = legacy_columns(db);
    let rows = legacy_rows(db, &columns);
    let out = db.run(&["init"]).code(5);
    assert!(
        out.stderr.starts_with("error: cannot adopt ")
            && out.stderr.trim_end().lines().count() == 1,
        "{:?}: one line: {}",
        db.backend,
        out.stderr
    );
    for difference in expected {
        assert!(
            out.stderr.contains(difference),
            "{:?}: the error names {difference:?}:\n{}",
            db.backend,
            out.stderr
        );
    }
    assert!(out.stderr.contains("Nothing was changed"), "{}", out.stderr);
    assert_eq!(
        schema_snapshot(db),
        schema,
        "{:?}: the catalog is untouched",
        db.backend
    );
    assert_eq!(
        legacy_rows(db, &columns),
        rows,
        "{:?}: the rows are untouched",
        db.backend
    );
    assert_eq!(
        bookkeeping_tables(db),
        Vec::<String>::new(),
        "{:?}",
        db.backend
    );

    let report = json(&db.run(&["init", "--json"]).code(5));
    assert_eq!(report["error"]["exit_code"], 5);
    out
}

fn email_as_text(sql: &str) -> String {
    replace(
        sql,
        "    email VARCHAR(255) NOT NULL,\n    first_name",
        "    email TEXT NOT NULL,\n    first_name",
    )
}

fn unknown_not_null_column(sql: &str) -> String {
    let sql = replace(
        sql,
        "    name VARCHAR(255) NOT NULL,\n    camera_type",
        "    name VARCHAR(255) NOT NULL,\n    mount VARCHAR(8) NOT NULL,\n    camera_type",
    );
    let sql = replace(
        &sql,
        "INSERT INTO cameras (tenant_id, ",
        "INSERT INTO cameras (mount, tenant_id, ",
    );
    replace(
        &sql,
        "VALUES ('t-1', 1, 'Door'",
        "VALUES ('wall', 't-1', 1, 'Door'",
    )
}

fn sites_on_delete_restrict(sql: &str) -> String {
    replace(
        sql,
        "ON DELETE CASCADE\n);\n\nCREATE TABLE users",
        "ON DELETE RESTRICT\n);\n\nCREATE TABLE users",
    )
}

fn words(db: &TestDb) -> (&'static str, &'static str) {
    match db.backend {
        Backend::Postgres => ("character varying(255), found text", "character varying(8)"),
        Backend::Sqlite => ("VARCHAR(255), found TEXT", "VARCHAR(8)"),
    }
}

fn a_column_of_another_type_stops_adoption_before_any_change() {
    for db in TestDb::each() {
        let (email, _) = words(&db);
        refused(
            &db,
            email_as_text,
            &[&format!("users.email: expected {email}")],
        );
    }
}

fn an_unknown_not_null_column_without_default_stops_adoption() {
    for db in TestDb::each() {
        let (_, mount) = words(&db);
        refused(
            &db,
            unknown_not_null_column,
            &[&format!(
                "cameras.mount: column not in the contract ({mount}) (NOT NULL without a default: \
                 the API's inserts, which do not name it, would fail)"
            )],
        );
    }
}

fn a_changed_on_delete_rule_stops_adoption() {
    for db in TestDb::each() {
        refused(
            &db,
            sites_on_delete_restrict,
            &["sites (tenant_id) -> tenants: expected ON DELETE CASCADE, found ON DELETE RESTRICT"],
        );
    }
}

fn every_difference_it_will_not_reconcile_is_listed_at_once() {
    for db in TestDb::each() {
        let (email, mount) = words(&db);
        let out = refused(
            &db,
            |sql| sites_on_delete_restrict(&unknown_not_null_column(&email_as_text(sql))),
            &[
                &format!("users.email: expected {email}"),
                &format!("cameras.mount: column not in the contract ({mount})"),
                "sites (tenant_id) -> tenants: expected ON DELETE CASCADE",
            ],
        );
        assert!(out.stderr.contains("in 3 ways"), "{}", out.stderr);
    }
}

fn rows_that_a_new_constraint_would_reject_stop_adoption() {
    for db in TestDb::each() {
        refused(
            &db,
            |sql| {
                let sql = replace(sql, "    UNIQUE (email),\n", "");
                replace(&sql, "'mgr@acme.test'", "'root@acme.test'")
            },
            &["users: 1 value of (email) is on more than one row, so the contract's UNIQUE constraint cannot be added"],
        );
    }
}

fn rows_that_a_new_foreign_key_would_reject_stop_adoption() {
    for db in TestDb::each() {
        refused(
            &db,
            |sql| {
                let sql = replace(
                    sql,
                    ",\n    FOREIGN KEY(created_by) REFERENCES users (user_id)\n",
                    "\n",
                );
                replace(&sql, "'u-admin', '2025-01-01 10:00:00'", "'u-ghost', '2025-01-01 10:00:00'")
            },
            &["users (created_by) -> users: 1 row refers to a row that does not exist, so the contract's foreign key cannot be added"],
        );
    }
}

fn a_name_another_object_holds_stops_adoption() {
    for db in TestDb::each() {
        refused(
            &db,
            |sql| {
                format!("{sql}\nCREATE TABLE squatter (x INTEGER); CREATE INDEX idx_visits_site ON squatter (x);")
            },
            &["idx_visits_site: facedb must create this index, but the name is taken by an index"],
        );
    }
}

fn sqlite_rows_that_break_a_foreign_key_stop_adoption() {
    let db = TestDb::sqlite();
    refused(
        &db,
        |sql| {
            format!("{sql}\nPRAGMA foreign_keys = OFF;\nUPDATE staff_face_images SET staff_id = 9;")
        },
        &["staff_face_images: 1 row refers to a row of staff that does not exist"],
    );
}

// -------------------------------------------------------------------------------------------------
// What it leaves alone
// -------------------------------------------------------------------------------------------------

fn a_nullable_column_outside_the_contract_is_kept_on_postgres_and_refused_by_a_sqlite_rebuild() {
    for db in TestDb::each() {
        let edit = |sql: &str| {
            replace(
                sql,
                "    description TEXT,\n",
                "    description TEXT,\n    notes TEXT,\n",
            )
        };
        match db.backend {
            Backend::Postgres => {
                legacy_with(&db, |sql| {
                    // The tenants row is inserted positionally: give it its notes.
                    replace(
                        &edit(sql),
                        "'first tenant', true",
                        "'first tenant', 'vip', true",
                    )
                });
                let out = db.run(&["init", "--json"]).success();
                assert_eq!(
                    strings(&json(&out)["adopted"]["kept"]),
                    ["tenants.notes (text), a column not in the contract"]
                );
                assert!(
                    out.stderr.contains("warning: kept tenants.notes"),
                    "{}",
                    out.stderr
                );
                assert_eq!(
                    db.connect().strings("SELECT notes AS v FROM tenants"),
                    ["vip"]
                );
                // check reports it, as it reports anything outside the contract.
                db.run(&["check"])
                    .code(5)
                    .stdout_has("tenants.notes: column not in the contract (text)");
            }
            Backend::Sqlite => {
                refused(
                    &db,
                    |sql| replace(&edit(sql), "'first tenant', 1", "'first tenant', 'vip', 1"),
                    &["tenants.notes: a column not in the contract, on a table SQLite must rebuild"],
                );
            }
        }
    }
}

fn sqlite_rebuilds_keep_views_triggers_and_other_indexes() {
    let db = TestDb::sqlite();
    legacy_with(&db, |sql| {
        format!(
            "{sql}
             CREATE VIEW visit_report AS SELECT v.visit_id, s.name AS site FROM visits v JOIN sites s ON s.site_id = v.site_id;
             CREATE TABLE audit_log (what TEXT);
             CREATE TRIGGER tenants_audit AFTER INSERT ON tenants BEGIN INSERT INTO audit_log VALUES (NEW.tenant_id); END;
             CREATE INDEX ix_staff_name ON staff (name);"
        )
    });
    let out = db.run(&["init", "--json"]).success();
    assert_eq!(
        strings(&json(&out)["adopted"]["kept"]),
        ["index ix_staff_name on staff (name), not in the contract"]
    );
    let mut conn = db.connect();
    assert_eq!(
        conn.strings("SELECT visit_id || ' ' || site AS v FROM visit_report ORDER BY 1"),
        ["v-1 HQ", "v-2 HQ"]
    );
    conn.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-9', 'Nine')");
    assert_eq!(conn.strings("SELECT what AS v FROM audit_log"), ["t-9"]);
    assert_eq!(
        conn.strings(
            "SELECT name AS v FROM sqlite_master WHERE type = 'index' AND name = 'ix_staff_name'"
        ),
        ["ix_staff_name"]
    );
    // Foreign keys hold after the rebuild, and cascade as before.
    conn.exec("DELETE FROM tenants WHERE tenant_id = 't-1'");
    for table in LEGACY_TABLES
        .iter()
        .filter(|t| **t != "users" && **t != "visits")
    {
        assert_eq!(db.count(table), i64::from(*table == "tenants"), "{table}");
    }
}

// -------------------------------------------------------------------------------------------------
// Concurrency
// -------------------------------------------------------------------------------------------------

fn eight_concurrent_inits_on_a_legacy_database_adopt_it_once() {
    for db in TestDb::each() {
        legacy(&db);
        let children: Vec<_> = (0..8)
            .map(|_| {
                db.std_facedb()
                    .args(["init", "--json"])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn facedb")
            })
            .collect();
        let reports: Vec<Value> = children
            .into_iter()
            .map(|c| json(&Output::from(c.wait_with_output().unwrap()).success()))
            .collect();
        let adopted = reports
            .iter()
            .filter(|r| r["adopted"] != Value::Null)
            .count();
        assert_eq!(adopted, 1, "{:?}: exactly one process adopts", db.backend);
        assert!(reports
            .iter()
            .filter(|r| r["adopted"] == Value::Null)
            .all(|r| r["up_to_date"] == true && r["applied_migrations"] == serde_json::json!([])));
        assert_eq!(
            db.count("__diesel_schema_migrations"),
            support::migration_count()
        );
        assert_eq!(db.count("users"), 2);
        assert_eq!(system_admins(&db), ["root"]);
        db.run(&["check"]).success();
    }
}

tests![
    needs::NOTHING => [
        sqlite_rows_that_break_a_foreign_key_stop_adoption,
        sqlite_rebuilds_keep_views_triggers_and_other_indexes,
    ],
    needs::SERVER => [
        init_adopts_an_old_database_keeping_every_row,
        the_variants_are_normalised_on_postgres,
        a_database_with_all_twelve_tables_and_no_bookkeeping_is_adopted,
        a_legacy_database_without_an_admin_gets_one_seeded,
        a_column_of_another_type_stops_adoption_before_any_change,
        an_unknown_not_null_column_without_default_stops_adoption,
        a_changed_on_delete_rule_stops_adoption,
        every_difference_it_will_not_reconcile_is_listed_at_once,
        rows_that_a_new_constraint_would_reject_stop_adoption,
        rows_that_a_new_foreign_key_would_reject_stop_adoption,
        a_name_another_object_holds_stops_adoption,
        a_nullable_column_outside_the_contract_is_kept_on_postgres_and_refused_by_a_sqlite_rebuild,
        eight_concurrent_inits_on_a_legacy_database_adopt_it_once,
    ],
];
