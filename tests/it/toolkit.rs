//! The operator's toolkit through the real binary, on every available backend: `facedb sql`,
//! `reset --dry-run`, `init --with-demo-data`, `--json` documents and `facedb completions`.

use crate::support;

use std::collections::BTreeSet;
use std::process::Stdio;

use serde_json::{json, Value};
use support::{facedb_in, Backend, Output, TestDb};

/// The migration that creates the schema: `facedb sql` prints its statements first.
const FIRST_MIGRATION: &str = "2026-11-25-000000_create_schema";

/// Every migration this facedb embeds for `db`'s backend, oldest first.
fn all_migrations(db: &TestDb) -> Value {
    json!(facedb::migrations::all_names(db.backend.into()))
}

/// How facedb names the test database in its output.
fn display(db: &TestDb) -> String {
    match db.backend {
        Backend::Postgres => format!("127.0.0.1:5432/{}", db.name),
        Backend::Sqlite => db.url().to_owned(),
    }
}

fn backend_key(db: &TestDb) -> &'static str {
    match db.backend {
        Backend::Postgres => "postgresql",
        Backend::Sqlite => "sqlite",
    }
}

/// Stdout as the one JSON document it must be: nothing else may be printed there.
#[track_caller]
fn parse(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        )
    })
}

/// Row counts of every facedb table, in a fixed order.
fn counts(db: &TestDb) -> Vec<(String, i64)> {
    facedb::TABLES
        .iter()
        .map(|t| (t.to_string(), db.count(t)))
        .collect()
}

/// A tenant with a site, a camera, a customer and two visits, and a second user.
fn add_data(db: &TestDb) {
    db.exec(
        "INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Tenant One');
         INSERT INTO sites (tenant_id, name) VALUES ('t-1', 'Site One');
         INSERT INTO users (user_id, username, email, first_name, last_name, password_hash, role, tenant_id)
             VALUES ('u-2', 'alice', 'alice@example.com', 'Alice', 'A', 'x', 'TENANT_ADMIN', 't-1');
         INSERT INTO cameras (tenant_id, site_id, name, camera_type, rtsp_url)
             VALUES ('t-1', (SELECT site_id FROM sites), 'Door', 'RTSP', 'rtsp://cam/1');
         INSERT INTO customers (tenant_id, name) VALUES ('t-1', 'Carol');
         INSERT INTO visits (tenant_id, visit_id, person_id, person_type, site_id, camera_id, confidence_score)
             VALUES ('t-1', 'v-1', 1, 'customer', 1, 1, 0.8), ('t-1', 'v-2', 1, 'customer', 1, 1, 0.9);",
    );
}

/// The schema as the catalog describes it: tables, columns, indexes, constraints, sequences and
/// types (PostgreSQL), or every object with its SQL (SQLite). One line per fact.
fn schema(db: &TestDb) -> BTreeSet<String> {
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT 'table ' || tablename AS v FROM pg_tables WHERE schemaname = 'public'
             UNION ALL SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
             UNION ALL SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '
                 || is_nullable || ' ' || coalesce(column_default, '-')
                 FROM information_schema.columns WHERE table_schema = 'public'
             UNION ALL SELECT 'constraint ' || conname || ': ' || pg_get_constraintdef(oid)
                 FROM pg_constraint WHERE connamespace = 'public'::regnamespace
             UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
             UNION ALL SELECT 'type ' || typname FROM pg_type
                 WHERE typnamespace = 'public'::regnamespace AND typtype IN ('e', 'd')
             UNION ALL SELECT 'view ' || viewname FROM pg_views WHERE schemaname = 'public'"
        }
        Backend::Sqlite => {
            "SELECT type || ' ' || name || ': ' || coalesce(sql, '-') AS v FROM sqlite_master"
        }
    };
    db.connect().strings(sql).into_iter().collect()
}

/// The names of the tables and indexes in the schema.
fn table_and_index_names(db: &TestDb) -> BTreeSet<String> {
    let sql = match db.backend {
        Backend::Postgres => {
            "SELECT 'table ' || tablename AS v FROM pg_tables WHERE schemaname = 'public'
             UNION ALL SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public'"
        }
        Backend::Sqlite => {
            "SELECT type || ' ' || name AS v FROM sqlite_master WHERE type IN ('table', 'index')"
        }
    };
    db.connect().strings(sql).into_iter().collect()
}

/// `facedb sql` for the database's backend, chosen from its DATABASE_URL.
fn sql_script(db: &TestDb) -> String {
    let out = db.run(&["sql"]).success();
    assert!(
        out.stderr.is_empty(),
        "sql prints only the script: {}",
        out.stderr
    );
    out.stdout
}

/// Runs a script the way a DBA would: psql with ON_ERROR_STOP when it is installed (else diesel's
/// batch_execute), and diesel's batch_execute for SQLite.
fn run_script(db: &TestDb, script: &str) {
    let psql_works = std::process::Command::new("psql")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if db.backend == Backend::Postgres && psql_works {
        use std::io::Write;
        let mut child = std::process::Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db.url(),
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run psql");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        db.exec(script);
    }
}

fn the_printed_sql_builds_the_schema_init_builds() {
    for by_init in TestDb::each() {
        by_init.init();
        let by_script = match by_init.backend {
            Backend::Postgres => TestDb::postgres(),
            Backend::Sqlite => TestDb::sqlite(),
        };
        by_script.create_empty();
        let script = sql_script(&by_script);
        run_script(&by_script, &script);

        assert_eq!(
            table_and_index_names(&by_script),
            table_and_index_names(&by_init),
            "{:?}",
            by_init.backend
        );
        let (left, right) = (schema(&by_script), schema(&by_init));
        let differ: Vec<_> = left.symmetric_difference(&right).collect();
        assert!(differ.is_empty(), "{:?}: {differ:#?}", by_init.backend);
        assert_eq!(
            by_script
                .connect()
                .strings("SELECT version AS v FROM __diesel_schema_migrations"),
            by_init
                .connect()
                .strings("SELECT version AS v FROM __diesel_schema_migrations"),
            "the script records the migration as init does"
        );

        // init then finds the schema in place: it applies nothing and only seeds the admin.
        let out = by_script.init();
        assert_eq!(
            out.stdout.trim_end(),
            format!("{}: seeded admin 'admin'", display(&by_script)),
            "{:?}",
            by_script.backend
        );
        assert_eq!(by_script.count("users"), 1);
    }
}

fn sql_names_each_migration_and_wraps_it_in_one_transaction() {
    let dir = tempfile::TempDir::new().unwrap();
    for (backend, begin, first) in [
        ("postgres", "BEGIN;", "CREATE TYPE userrole AS ENUM"),
        ("sqlite", "BEGIN IMMEDIATE;", "CREATE TABLE tenants ("),
    ] {
        let out = Output::from(
            facedb_in(dir.path())
                .args(["sql", "--backend", backend])
                .output()
                .unwrap(),
        )
        .success();
        let script = out.stdout;
        let lines: Vec<&str> = script.lines().map(str::trim).collect();
        let at = |needle: &str| {
            lines
                .iter()
                .position(|l| l.starts_with(needle))
                .unwrap_or_else(|| panic!("{backend}: no line starting {needle:?}:\n{script}"))
        };
        assert!(
            at(begin) < at(&format!("-- migration {FIRST_MIGRATION}")),
            "{backend}"
        );
        assert!(at(&format!("-- migration {FIRST_MIGRATION}")) < at(first));
        // Every migration, in the order init applies them.
        let backend_of = match backend {
            "postgres" => facedb::config::Backend::Postgres,
            _ => facedb::config::Backend::Sqlite,
        };
        let named: Vec<usize> = facedb::migrations::all_names(backend_of)
            .iter()
            .map(|name| at(&format!("-- migration {name}")))
            .collect();
        assert!(named.is_sorted(), "{backend}: {named:?}");
        assert!(at(first) < at("INSERT INTO __diesel_schema_migrations"));
        assert_eq!(lines.iter().rev().find(|l| !l.is_empty()), Some(&"COMMIT;"));
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("COMMIT")).count(),
            1,
            "{backend}"
        );
    }
}

fn sql_never_connects() {
    let dir = tempfile::TempDir::new().unwrap();
    let port = support::cluster::free_port();

    // The backend of a URL nobody answers at, with a password that must not show.
    let url = format!("postgres://app:S3cretSql@127.0.0.1:{port}/facedb");
    let out = Output::from(
        facedb_in(dir.path())
            .args(["sql", "--database-url", &url])
            .output()
            .unwrap(),
    )
    .success()
    .hides("S3cretSql");
    assert!(
        out.stdout.contains("CREATE TYPE cameratype"),
        "{}",
        out.stdout
    );

    // A SQLite URL gives SQLite's script and creates no file.
    let out = Output::from(
        facedb_in(dir.path())
            .env("DATABASE_URL", "sqlite:///never.db")
            .arg("sql")
            .output()
            .unwrap(),
    )
    .success();
    assert!(out.stdout.contains("BEGIN IMMEDIATE;"), "{}", out.stdout);
    assert!(!out.stdout.contains("CREATE TYPE"), "{}", out.stdout);
    assert!(
        !dir.path().join("never.db").exists(),
        "sql created the file"
    );

    // --backend needs no configuration at all, not even a valid one.
    let out = Output::from(
        facedb_in(dir.path())
            .env("DB_PORT", "not-a-port")
            .args(["sql", "--backend", "sqlite", "--json"])
            .output()
            .unwrap(),
    )
    .success();
    let doc = parse(&out);
    assert_eq!(doc["command"], "sql");
    assert_eq!(doc["backend"], "sqlite");
    let listed: Vec<(&str, &str)> = doc["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["version"].as_str().unwrap()))
        .collect();
    let names = facedb::migrations::all_names(facedb::config::Backend::Sqlite);
    assert_eq!(
        listed.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        names
    );
    // The version diesel records is the name's date and time, digits only.
    for (name, version) in listed {
        assert_eq!(
            version,
            name.split('_').next().unwrap().replace('-', ""),
            "{name}"
        );
    }
    assert!(doc["script"].as_str().unwrap().ends_with("COMMIT;\n"));

    // Without --backend, a broken configuration is still an error (exit 2).
    Output::from(
        facedb_in(dir.path())
            .env("DB_PORT", "not-a-port")
            .arg("sql")
            .output()
            .unwrap(),
    )
    .code(2)
    .stderr_has("DB_PORT");
}

/// `reset --dry-run` without a terminal and without `--force`: no prompt, no refusal.
fn dry_run(db: &TestDb, args: &[&str]) -> Output {
    Output::from(
        db.std_facedb()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap(),
    )
}

fn a_dry_run_reports_what_reset_would_drop_and_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let (rows, tables) = (counts(&db), schema(&db));
        for command in ["reset", "fresh"] {
            let out = dry_run(&db, &[command, "--dry-run", "--json"]).success();
            let doc = parse(&out);
            assert_eq!(doc["command"], command);
            assert_eq!(doc["dry_run"], true);
            assert_eq!(doc["target"], display(&db).as_str());
            assert_eq!(doc["backend"], backend_key(&db));
            assert_eq!(doc["database_exists"], true);
            let reported: Vec<(String, i64)> = doc["would_drop"]["tables"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    assert_eq!(t["estimated"], false);
                    (
                        t["table"].as_str().unwrap().to_owned(),
                        t["rows"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(reported, rows, "{:?}", db.backend);
            assert_eq!(
                doc["would_drop"]["bookkeeping_tables"],
                json!(["__facedb_metadata", "__diesel_schema_migrations"])
            );
            let types = match db.backend {
                Backend::Postgres => json!(["userrole", "cameratype"]),
                Backend::Sqlite => json!([]),
            };
            assert_eq!(doc["would_drop"]["types"], types);
            assert_eq!(doc["blockers"], json!([]));
            assert_eq!(doc["would_apply_migrations"], all_migrations(&db));
            assert_eq!(doc["would_seed_admin"], "admin");
            assert!(
                !out.stderr.contains("visits"),
                "results stay off stderr: {}",
                out.stderr
            );
        }
        let out = dry_run(&db, &["reset", "--dry-run"]).success();
        assert!(
            out.stdout.contains("\n  visits ") && out.stdout.contains("2 rows"),
            "lists the tables on stdout: {}",
            out.stdout
        );
        assert_eq!(
            out.stdout.trim_end().lines().last().unwrap_or_default(),
            match db.backend {
                Backend::Postgres => format!(
                    "{}: dry run: reset would drop 12 tables (8 rows), 2 bookkeeping tables and 2 types, \
                     then apply {} and seed admin 'admin'; nothing was changed",
                    display(&db),
                    support::every_migration()
                ),
                Backend::Sqlite => format!(
                    "{}: dry run: reset would drop 12 tables (8 rows) and 2 bookkeeping tables, \
                     then apply {} and seed admin 'admin'; nothing was changed",
                    display(&db),
                    support::every_migration()
                ),
            }
        );
        assert_eq!(counts(&db), rows, "{:?}: rows unchanged", db.backend);
        assert_eq!(schema(&db), tables, "{:?}: schema unchanged", db.backend);
    }
}

fn a_view_on_visits_is_reported_and_the_dry_run_exits_5() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        db.exec("CREATE VIEW visit_report AS SELECT tenant_id, count(*) AS n FROM visits GROUP BY tenant_id");
        let (rows, tables) = (counts(&db), schema(&db));
        let out = dry_run(&db, &["fresh", "--dry-run", "--json"])
            .code(5)
            .stderr_has("visit_report");
        let doc = parse(&out);
        assert_eq!(
            doc["blockers"],
            json!([{"object": "view visit_report", "depends_on": "table visits"}]),
            "{:?}",
            db.backend
        );
        let out = dry_run(&db, &["reset", "--dry-run"]).code(5);
        assert!(
            out.stdout.contains("would be refused (exit 5)"),
            "{}",
            out.stdout
        );
        let error: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(error.len(), 1, "{}", out.stderr);
        assert!(
            error[0].contains("view visit_report depends on table visits"),
            "{}",
            error[0]
        );
        assert_eq!(counts(&db), rows, "{:?}", db.backend);
        assert_eq!(schema(&db), tables, "{:?}", db.backend);
        // The real reset agrees.
        db.run(&["fresh", "--force"])
            .code(5)
            .stderr_has("visit_report");
    }
}

fn a_dry_run_takes_no_lock_and_creates_no_database() {
    for db in TestDb::each() {
        let out = dry_run(&db, &["reset", "--dry-run", "--json"]).success();
        let doc = parse(&out);
        assert_eq!(doc["database_exists"], false, "{:?}", db.backend);
        assert_eq!(doc["would_drop"]["tables"], json!([]));
        assert!(
            out.stderr.is_empty() || !out.stderr.contains("created"),
            "{}",
            out.stderr
        );
        match db.backend {
            Backend::Postgres => assert!(!db.pg_exists(), "the dry run created the database"),
            Backend::Sqlite => assert!(!db.sqlite_path().exists(), "the dry run created the file"),
        }
        let out = dry_run(&db, &["reset", "--dry-run"]).success();
        assert!(
            out.stdout
                .contains("the database does not exist; reset would create it"),
            "{}",
            out.stdout
        );

        // While another facedb holds the lock, a dry run still answers at once.
        db.init();
        let mut holder = db.connect();
        match db.backend {
            Backend::Postgres => holder.exec(&format!(
                "SELECT pg_advisory_lock({});",
                facedb::ADVISORY_LOCK_KEY
            )),
            Backend::Sqlite => holder.exec("BEGIN IMMEDIATE"),
        }
        dry_run(&db, &["reset", "--dry-run", "--lock-timeout", "1s"]).success();
        db.run(&["init", "--lock-timeout", "1s"]).code(6);
    }
}

/// PostgreSQL: the catalog's answer matches what DROP … RESTRICT would say, for objects that
/// block the reset and for objects that go with facedb's tables.
fn postgres_dry_run_blockers_match_what_the_drop_refuses() {
    let db = TestDb::postgres();
    db.init();
    // These go with facedb's tables: no blocker.
    db.exec(
        "CREATE FUNCTION keep_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER visits_touch BEFORE INSERT ON visits FOR EACH ROW EXECUTE FUNCTION keep_row();
         CREATE INDEX visits_extra ON visits ((confidence_score * 2));
         CREATE POLICY visits_tenant ON visits USING (tenant_id = 't-1');
         CREATE TABLE audit_log (id INTEGER PRIMARY KEY, note TEXT);",
    );
    let out = dry_run(&db, &["reset", "--dry-run", "--json"]).success();
    assert_eq!(parse(&out)["blockers"], json!([]));

    // These depend on facedb's tables, sequences or types from outside: each one blocks.
    db.exec(
        "CREATE TABLE billing (tenant_id VARCHAR(64) REFERENCES tenants (tenant_id),
                               kind cameratype, site BIGINT DEFAULT nextval('sites_site_id_seq'));
         CREATE FUNCTION camera_label(c cameratype) RETURNS text LANGUAGE sql AS $$ SELECT c::text $$;
         CREATE MATERIALIZED VIEW user_count AS SELECT count(*) AS n FROM users;",
    );
    let out = dry_run(&db, &["reset", "--dry-run", "--json"]).code(5);
    let blockers: BTreeSet<String> = parse(&out)["blockers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{} -> {}",
                b["object"].as_str().unwrap(),
                b["depends_on"].as_str().unwrap()
            )
        })
        .collect();
    let expected: BTreeSet<String> = [
        "constraint billing_tenant_id_fkey on table billing -> table tenants",
        "default value for column site of table billing -> sequence sites_site_id_seq",
        "function camera_label(cameratype) -> type cameratype",
        "materialized view user_count -> table users",
        "table billing -> type cameratype",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(blockers, expected);
    db.run(&["fresh", "--force"]).code(5);

    // Without them, the dry run and the reset both go through; the other objects stay or go
    // with the tables as PostgreSQL decides.
    db.exec(
        "DROP TABLE billing; DROP FUNCTION camera_label(cameratype); DROP MATERIALIZED VIEW user_count;",
    );
    dry_run(&db, &["reset", "--dry-run"]).success();
    db.run(&["fresh", "--force"]).success();
    assert_eq!(
        db.count("audit_log"),
        0,
        "a table facedb does not own stays"
    );
}

fn init_with_demo_data_adds_the_development_tenant_site_and_webcams_once() {
    for db in TestDb::each() {
        let out = db.run(&["init", "--with-demo-data", "--json"]).success();
        let doc = parse(&out);
        let site_id = db.connect().i64("SELECT MIN(site_id) AS v FROM sites");
        assert_eq!(
            doc["demo_data"],
            json!({
                "tenant": "t-dev",
                "site": "Development Site",
                "site_id": site_id,
                "created": true,
                "added": {"tenants": 1, "sites": 1, "cameras": 3}
            }),
            "{:?}",
            db.backend
        );
        assert_eq!(doc["up_to_date"], false);
        assert!(out.stderr.contains("added demo data"), "{}", out.stderr);

        let mut conn = db.connect();
        assert_eq!(
            conn.strings("SELECT tenant_id || '|' || name || '|' || CAST(is_active AS INTEGER) AS v FROM tenants"),
            ["t-dev|Development Tenant|1"]
        );
        assert_eq!(
            conn.strings("SELECT tenant_id || '|' || name || '|' || location AS v FROM sites"),
            ["t-dev|Development Site|Local Development Environment"]
        );
        assert_eq!(
            conn.strings(
                "SELECT c.name || '|' || CAST(c.camera_type AS TEXT) || '|' || c.device_index || '|' || c.tenant_id
                     || '|' || s.name || '|' || CAST(c.is_active AS INTEGER) || '|' || coalesce(c.rtsp_url, 'NULL') AS v
                 FROM cameras c JOIN sites s ON s.site_id = c.site_id ORDER BY c.device_index"
            ),
            [
                "USB Webcam|WEBCAM|0|t-dev|Development Site|1|NULL",
                "Built-in Webcam|WEBCAM|1|t-dev|Development Site|1|NULL",
                "External Webcam|WEBCAM|2|t-dev|Development Site|1|NULL",
            ],
            "{:?}",
            db.backend
        );
        drop(conn);

        // A second run adds nothing.
        let before = counts(&db);
        let out = db.run(&["init", "--with-demo-data", "--json"]).success();
        let doc = parse(&out);
        assert_eq!(doc["demo_data"]["created"], false);
        assert_eq!(
            doc["demo_data"]["added"],
            json!({"tenants": 0, "sites": 0, "cameras": 0})
        );
        assert_eq!(doc["up_to_date"], true);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
        let out = db.run(&["init", "--with-demo-data"]).success();
        assert_eq!(
            out.stdout.trim_end(),
            format!("{}: up to date", display(&db))
        );

        // Only what is missing comes back, found by its natural key.
        db.exec("DELETE FROM cameras WHERE name = 'Built-in Webcam'");
        let out = db.run(&["init", "--with-demo-data"]).success();
        assert_eq!(
            out.stdout.trim_end(),
            format!("{}: added demo data (tenant 't-dev')", display(&db))
        );
        assert_eq!(counts(&db), before, "{:?}", db.backend);

        // Without the flag: no demo data, and `null` in the report.
        let plain = match db.backend {
            Backend::Postgres => TestDb::postgres(),
            Backend::Sqlite => TestDb::sqlite(),
        };
        let doc = parse(&plain.run(&["init", "--json"]).success());
        assert_eq!(doc["demo_data"], Value::Null);
        assert_eq!(plain.count("tenants"), 0);
    }
}

fn demo_data_commits_with_init_or_not_at_all() {
    for db in TestDb::each() {
        db.init();
        // A trigger that rejects cameras makes the demo data fail after its tenant and site.
        db.exec(match db.backend {
            Backend::Postgres => {
                "CREATE FUNCTION no_cameras() RETURNS trigger LANGUAGE plpgsql AS
                     $$ BEGIN RAISE EXCEPTION 'cameras are closed'; END $$;
                 CREATE TRIGGER no_cameras BEFORE INSERT ON cameras FOR EACH ROW EXECUTE FUNCTION no_cameras();"
            }
            Backend::Sqlite => {
                "CREATE TRIGGER no_cameras BEFORE INSERT ON cameras BEGIN SELECT RAISE(ABORT, 'cameras are closed'); END;"
            }
        });
        let out = db.run(&["init", "--with-demo-data"]);
        assert_eq!(out.code, Some(1), "{:?}: {}", db.backend, out.stderr);
        assert!(out.stderr.contains("cameras are closed"), "{}", out.stderr);
        assert_eq!(db.count("tenants"), 0, "{:?}: rolled back", db.backend);
        assert_eq!(db.count("sites"), 0, "{:?}: rolled back", db.backend);
    }
}

fn init_reset_and_fresh_print_one_json_document() {
    for db in TestDb::each() {
        let out = db.run(&["init", "--json"]).success();
        let doc = parse(&out);
        assert_eq!(doc["command"], "init");
        assert_eq!(doc["target"], display(&db).as_str());
        assert_eq!(doc["backend"], backend_key(&db));
        assert_eq!(doc["created_database"], true);
        assert_eq!(doc["applied_migrations"], all_migrations(&db));
        assert_eq!(doc["seeded_admin"]["username"], "admin");
        assert_eq!(doc["seeded_admin"]["email"], "admin@system.local");
        assert_eq!(doc["seeded_admin"]["default_password"], true);
        assert_eq!(doc["seeded_admin"]["password_hash"], "argon2id");
        assert_eq!(doc["environment"], "dev");
        assert_eq!(doc["up_to_date"], false);
        // Progress still goes to stderr, never into the document.
        assert!(
            out.stderr.contains("applied migration") && out.stderr.contains("default password"),
            "{}",
            out.stderr
        );
        assert!(!out.stdout.contains('✓'), "{}", out.stdout);

        let doc = parse(&db.run(&["init", "--json"]).success());
        assert_eq!(doc["created_database"], false);
        assert_eq!(doc["applied_migrations"], json!([]));
        assert_eq!(doc["seeded_admin"], Value::Null);
        assert_eq!(doc["up_to_date"], true);

        add_data(&db);
        let rows = counts(&db);
        for (args, command) in [
            (&["reset", "--force", "--json"][..], "reset"),
            (&["fresh", "--force", "--json"], "fresh"),
        ] {
            let out = db.run(args).success();
            let doc = parse(&out);
            assert_eq!(doc["command"], command);
            assert_eq!(doc["target"], display(&db).as_str());
            assert_eq!(doc["backend"], backend_key(&db));
            assert_eq!(doc["created_database"], false);
            assert_eq!(doc["applied_migrations"], all_migrations(&db));
            assert_eq!(doc["seeded_admin"]["username"], "admin");
            let dropped: Vec<(String, i64)> = doc["dropped"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| {
                    (
                        t["table"].as_str().unwrap().to_owned(),
                        t["rows"].as_i64().unwrap(),
                    )
                })
                .collect();
            if command == "reset" {
                assert_eq!(dropped, rows, "{:?}", db.backend);
            } else {
                assert_eq!(dropped.len(), 12);
                assert_eq!(
                    dropped.iter().map(|(_, n)| n).sum::<i64>(),
                    1,
                    "only the admin"
                );
            }
            assert!(
                out.stderr.contains("dropped facedb's tables"),
                "{}",
                out.stderr
            );
        }
    }
}

fn a_failure_with_json_prints_an_error_document() {
    for db in TestDb::each() {
        db.init();
        let cases: [(&[&str], i32, &str); 3] = [
            (&["fresh", "--json"], 4, "--force"),
            (&["init", "--json", "--bogus"], 2, "--bogus"),
            (
                &[
                    "--json",
                    "init",
                    "--database-url",
                    "mysql://root:Hunter2x@db/x",
                ],
                2,
                "postgres://",
            ),
        ];
        for (args, code, mentions) in cases {
            let out = db.run(args).code(code).hides("Hunter2x");
            let doc = parse(&out);
            assert_eq!(doc["error"]["exit_code"], code, "{args:?}");
            let message = doc["error"]["message"].as_str().unwrap();
            assert!(message.contains(mentions), "{args:?}: {message}");
            assert!(
                out.stderr.contains(&format!("error: {message}")),
                "{args:?}: the same message on stderr: {}",
                out.stderr
            );
        }
        // A reset blocked by a view.
        db.exec("CREATE VIEW visit_report AS SELECT count(*) AS n FROM visits");
        let doc = parse(&db.run(&["reset", "--force", "--json"]).code(5));
        assert_eq!(doc["error"]["exit_code"], 5);
        assert!(doc["error"]["message"]
            .as_str()
            .unwrap()
            .contains("visit_report"));
    }
}

fn completions_need_no_database_configuration() {
    let dir = tempfile::TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let out = Output::from(
            facedb_in(dir.path())
                .env("DB_PORT", "not-a-port")
                .env("DATABASE_URL", "mysql://nope")
                .args(["completions", shell])
                .output()
                .unwrap(),
        )
        .success();
        assert!(out.stderr.is_empty(), "{shell}: {}", out.stderr);
        for word in [
            "init",
            "reset",
            "fresh",
            "sql",
            "--database-url",
            "--dry-run",
        ] {
            // fish names long options without their dashes (`-l database-url`).
            let word = if shell == "fish" {
                word.trim_start_matches('-')
            } else {
                word
            };
            assert!(
                out.stdout.contains(word),
                "{shell}: no {word:?} in the script"
            );
        }
        if shell == "bash" {
            let path = dir.path().join("facedb.bash");
            std::fs::write(&path, &out.stdout).unwrap();
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&path)
                .output()
                .expect("run bash -n");
            assert!(
                check.status.success(),
                "bash -n rejects the script: {}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    Output::from(
        facedb_in(dir.path())
            .args(["completions", "tcsh"])
            .output()
            .unwrap(),
    )
    .code(2)
    .stderr_has("tcsh");
}

tests![
    needs::NOTHING => [
        sql_names_each_migration_and_wraps_it_in_one_transaction,
        sql_never_connects,
        completions_need_no_database_configuration,
    ],
    needs::SERVER => [
        the_printed_sql_builds_the_schema_init_builds,
        a_dry_run_reports_what_reset_would_drop_and_changes_nothing,
        a_view_on_visits_is_reported_and_the_dry_run_exits_5,
        a_dry_run_takes_no_lock_and_creates_no_database,
        postgres_dry_run_blockers_match_what_the_drop_refuses,
        init_with_demo_data_adds_the_development_tenant_site_and_webcams_once,
        demo_data_commits_with_init_or_not_at_all,
        init_reset_and_fresh_print_one_json_document,
        a_failure_with_json_prints_an_error_document,
    ],
];
