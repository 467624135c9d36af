//! facedb acts only on what it provably owns, in the one schema it is given: tables with its
//! names elsewhere on the search path, or without its bookkeeping and unlike the old tool's, are
//! never dropped or altered, and other diesel applications' migration rows stay.

use crate::support;

use support::{Backend, Output, TestDb};

/// Runs `facedb ARGS` against `url` instead of the test database's own URL.
fn run_at(db: &TestDb, url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = db.facedb();
    cmd.env("DATABASE_URL", url)
        .envs(env.iter().copied())
        .args(args);
    Output::from(cmd.output().expect("facedb runs"))
}

/// The test database's URL with the session's search_path set through libpq's `options`.
fn with_search_path(db: &TestDb, search_path: &str) -> String {
    format!(
        "{}?options=-csearch_path%3D{}",
        db.url(),
        search_path.replace(',', "%2C")
    )
}

/// One text value per row (`SELECT … AS v`).
fn strings(db: &TestDb, sql: &str) -> Vec<String> {
    db.connect().strings(sql)
}

/// The tables of PostgreSQL schema `schema`, sorted.
fn tables_in(db: &TestDb, schema: &str) -> Vec<String> {
    strings(
        db,
        &format!(
            "SELECT tablename::text AS v FROM pg_tables WHERE schemaname = '{schema}' ORDER BY 1"
        ),
    )
}

/// Another application's `users` and `visits`, with rows and columns of their own.
const OTHER_APP: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL);
INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'ann');
CREATE TABLE visits (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), at VARCHAR(32));
INSERT INTO visits (id, user_id, at) VALUES (10, 1, 'monday');";

/// The same tables as the test database's `schema`.
fn other_app_in(db: &TestDb, schema: &str) {
    db.exec(&format!(
        "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path = {schema}; {OTHER_APP}"
    ));
}

/// A copy of facedb's tables in `schema`, with one tenant: what a careless
/// `CREATE TABLE … (LIKE …)` or a second deployment leaves earlier on the search path.
fn facedb_copy_in(db: &TestDb, schema: &str) {
    let tables = facedb::TABLES
        .iter()
        .map(|t| format!("CREATE TABLE {schema}.{t} (LIKE public.{t});"))
        .collect::<String>();
    db.exec(&format!(
        "CREATE SCHEMA {schema} AUTHORIZATION CURRENT_USER; {tables}
         INSERT INTO {schema}.tenants (tenant_id, name, is_active, created_at, updated_at)
         VALUES ('t-shadow', 'Shadow tenant', true, now(), now());"
    ));
}

fn init_prod_with_a_tenant(db: &TestDb) {
    let env = [
        ("ENV", "prod"),
        ("FACEDB_ADMIN_PASSWORD", "Sh4dow-admin-pw"),
    ];
    run_at(db, db.url(), &env, &["init"]).success();
    db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Real customer')");
}

fn an_earlier_schema_in_the_urls_search_path_is_neither_read_nor_dropped() {
    let db = TestDb::postgres();
    init_prod_with_a_tenant(&db);
    facedb_copy_in(&db, "foo");
    let url = with_search_path(&db, "foo,public");

    // status reads public, where facedb's tables are, and the environment recorded there.
    let status = run_at(&db, &url, &[], &["status", "--json"]).success();
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["environment"], "prod");
    let tenants = status["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "tenants")
        .unwrap()
        .clone();
    assert_eq!(
        (tenants["present"].clone(), tenants["rows"].clone()),
        (true.into(), 1.into())
    );

    // The dry run predicts the refusal, and reset refuses with or without --allow-production.
    run_at(&db, &url, &[], &["reset", "--dry-run"])
        .code(5)
        .stderr_has("users resolves to foo.users, not \"public\".\"users\"");
    for args in [
        &["reset", "--force"][..],
        &["fresh", "--force", "--allow-production"],
    ] {
        run_at(&db, &url, &[], args)
            .code(5)
            .stderr_has("tenants resolves to foo.tenants");
    }
    assert_eq!(db.count("public.tenants"), 1);
    assert_eq!(db.count("foo.tenants"), 1);
    assert_eq!(tables_in(&db, "foo").len(), 12);

    // Without the earlier schema, the production guard reads the recorded environment.
    db.run(&["fresh", "--force"])
        .code(4)
        .stderr_has("set up with ENV=prod");
    assert_eq!(db.count("public.tenants"), 1);
}

fn a_schema_named_after_the_role_that_shadows_public_is_refused() {
    let db = TestDb::postgres();
    db.init();
    db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Real customer')");
    // The manual's pattern: a schema per role, which "$user" puts before public.
    let role = strings(&db, "SELECT current_user::text AS v").remove(0);
    facedb_copy_in(&db, &format!("\"{role}\""));

    for args in [
        &["init"][..],
        &["fresh", "--force"],
        &["rollback", "--force"],
        &["rollback", "--dry-run"],
    ] {
        db.run(args)
            .code(5)
            .stderr_has(&format!("tenants resolves to {role}.tenants"));
    }
    // Reading is no harm: `user list` reads the users of facedb's schema.
    db.run(&["user", "list"]).success().stdout_has("admin");
    assert_eq!(db.count("public.tenants"), 1);
    assert_eq!(db.count(&format!("\"{role}\".tenants")), 1);
}

fn an_unrelated_public_workers_survives_a_reset_of_facedb_in_another_schema() {
    let db = TestDb::postgres();
    let url = with_search_path(&db, "app,public");
    run_at(&db, &url, &[], &["init", "--schema", "app"]).success();
    db.exec(
        "CREATE TABLE public.workers (id INTEGER PRIMARY KEY, shift TEXT);
         INSERT INTO public.workers VALUES (1, 'night');
         INSERT INTO app.tenants (tenant_id, name) VALUES ('t-1', 'Real customer');",
    );

    run_at(&db, &url, &[], &["fresh", "--force", "--schema", "app"])
        .success()
        .stdout_has("dropped 12 tables (2 rows)");
    assert_eq!(db.count("public.workers"), 1);
    assert_eq!(db.count("app.tenants"), 0);
    assert_eq!(tables_in(&db, "public"), ["workers"]);

    // Connecting as the API does without the schema on its search path, `workers` is public's.
    db.run(&["fresh", "--force", "--schema", "app"])
        .code(5)
        .stderr_has("workers resolves to public.workers, not \"app\".\"workers\"");
    assert_eq!(db.count("public.workers"), 1);
}

fn another_applications_users_and_visits_are_never_dropped_or_altered() {
    for db in TestDb::each() {
        db.create_empty();
        db.exec(OTHER_APP);
        for args in [
            &["fresh", "--force"][..],
            &["reset", "--force"],
            &["reset", "--dry-run"],
            &["init"],
        ] {
            let out = db.run(args).code(5);
            assert!(
                out.stderr.contains("2 tables in schema")
                    && out.stderr.contains("users (no column user_id")
                    && out.stderr.contains("visits (no column tenant_id"),
                "{:?} {args:?}: {}",
                db.backend,
                out.stderr
            );
            assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        }
        assert_eq!(db.count("users"), 2);
        assert_eq!(db.count("visits"), 1);
        assert_eq!(
            db.facedb_tables(),
            2,
            "{:?}: nothing was created",
            db.backend
        );
    }
}

fn unrelated_tenants_and_users_tables_are_not_taken_for_the_old_tools() {
    for (table, sql) in [
        (
            "tenants (no column is_active, no column created_at, no column updated_at)",
            "CREATE TABLE tenants (tenant_id VARCHAR(64) PRIMARY KEY, name VARCHAR(255) NOT NULL);
                 INSERT INTO tenants VALUES ('acme', 'Acme');",
        ),
        (
            "users (no column user_id, no column username",
            // Two rows with one name: once reported as a duplicate username on SQLite.
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100));
                 INSERT INTO users VALUES (1, 'ann'), (2, 'ann');",
        ),
    ] {
        for db in TestDb::each() {
            db.create_empty();
            db.exec(sql);
            let name = table.split(' ').next().unwrap();
            let columns = |db: &TestDb| {
                strings(db, &match db.backend {
                    Backend::Sqlite => format!("SELECT name AS v FROM pragma_table_info('{name}')"),
                    Backend::Postgres => format!(
                        "SELECT column_name::text AS v FROM information_schema.columns \
                         WHERE table_schema = 'public' AND table_name = '{name}' ORDER BY ordinal_position"
                    ),
                })
            };
            let before = columns(&db);
            let out = db.run(&["init"]).code(5).stderr_has(table);
            assert!(!out.stderr.contains("more than one row"), "{}", out.stderr);
            assert_eq!(columns(&db), before, "{:?}: {name} was altered", db.backend);
            assert_eq!(db.count(name), if name == "users" { 2 } else { 1 });
            assert_eq!(db.facedb_tables(), 1, "{:?}", db.backend);
        }
    }
}

fn a_role_level_search_path_reaching_crm_users_is_refused() {
    let db = TestDb::postgres();
    db.init();
    support::data::add_data(&db);
    let before = support::data::counts(&db);
    other_app_in(&db, "crm");
    // Set for this role in this database only: it goes with the test database.
    db.exec(&format!(
        "ALTER ROLE CURRENT_USER IN DATABASE \"{}\" SET search_path = crm, public",
        db.name
    ));
    db.run(&["fresh", "--force"])
        .code(5)
        .stderr_has("users resolves to crm.users, not \"public\".\"users\"");
    db.run(&["reset", "--dry-run"])
        .code(5)
        .stderr_has("visits resolves to crm.visits");
    assert_eq!(db.count("crm.users"), 2);
    assert_eq!(db.count("crm.visits"), 1);
    let mut conn = db.connect();
    conn.exec("SET search_path = public");
    assert_eq!(support::data::counts_on(&mut conn), before);
}

/// diesel's own table, as its harness creates it, holding another application's migrations.
const SHARED_MIGRATIONS: &str = "CREATE TABLE __diesel_schema_migrations (
    version VARCHAR(50) PRIMARY KEY NOT NULL,
    run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO __diesel_schema_migrations (version) VALUES ('20190101000000'), ('20990101000000');";

fn other_versions(db: &TestDb) -> Vec<String> {
    strings(
        db,
        "SELECT version AS v FROM __diesel_schema_migrations \
         WHERE version IN ('20190101000000', '20990101000000') ORDER BY 1",
    )
}

fn shared_diesel_bookkeeping_keeps_other_applications_rows() {
    for db in TestDb::each() {
        db.create_empty();
        db.exec(SHARED_MIGRATIONS);
        db.init();
        let status = db.run(&["status"]).success();
        assert!(!status.stdout.contains("unknown"), "{}", status.stdout);
        assert!(!status.stdout.contains("newer facedb"), "{}", status.stdout);
        let mine = db.count("__diesel_schema_migrations") - 2;
        assert!(mine > 0);

        // The dry run shows the table kept, with the other application's versions.
        let plan = db.run(&["fresh", "--dry-run", "--json"]).success();
        let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
        let drop = &plan["would_drop"];
        assert_eq!(
            drop["bookkeeping_tables"],
            serde_json::json!(["__facedb_metadata"])
        );
        assert_eq!(
            drop["kept_migrations"],
            serde_json::json!(["20190101000000", "20990101000000"])
        );

        db.run(&["fresh", "--force"]).success();
        assert_eq!(other_versions(&db), ["20190101000000", "20990101000000"]);
        assert_eq!(db.count("__diesel_schema_migrations"), mine + 2);
        db.run(&["status"]).success();
        db.run(&["check"]).success();

        // Only facedb's rows left: the table goes with the reset and comes back with init.
        db.exec("DELETE FROM __diesel_schema_migrations WHERE version IN ('20190101000000', '20990101000000')");
        db.run(&["fresh", "--force"]).success();
        assert_eq!(db.count("__diesel_schema_migrations"), mine);
    }
}

fn the_schema_setting_keeps_facedb_in_its_own_schema() {
    let db = TestDb::postgres();
    db.create_empty();
    db.exec(OTHER_APP);
    let url = with_search_path(&db, "app");
    let env = [("FACEDB_SCHEMA", "app")];
    run_at(&db, &url, &env, &["init"])
        .success()
        .stdout_has("applied");
    assert_eq!(tables_in(&db, "app").len(), 14);
    assert_eq!(tables_in(&db, "public"), ["users", "visits"]);
    db.exec("INSERT INTO app.tenants (tenant_id, name) VALUES ('t-1', 'Real customer')");

    run_at(&db, &url, &env, &["status"])
        .success()
        .stdout_has("\nschema        app\n");
    run_at(&db, &url, &[], &["check", "--schema", "app"]).success();
    run_at(&db, &url, &env, &["fresh", "--force"])
        .success()
        .stdout_has("dropped 12 tables");
    assert_eq!(db.count("app.tenants"), 0);
    assert_eq!(db.count("public.users"), 2);
    assert_eq!(db.count("public.visits"), 1);

    // The default schema holds another application's tables: facedb will not touch them.
    db.run(&["init"])
        .code(5)
        .stderr_has("users (no column user_id");
    // A schema that does not exist: read-only commands see the tables missing.
    let out = run_at(&db, db.url(), &[], &["status", "--schema", "nowhere"]).code(5);
    assert!(out.stdout.contains("12 tables missing"), "{}", out.stdout);
    assert!(tables_in(&db, "nowhere").is_empty());
}

fn a_bad_schema_setting_is_a_usage_error() {
    for db in TestDb::each() {
        let long = "s".repeat(64);
        for (env, args) in [
            (vec![], vec!["status", "--schema", ""]),
            (vec![("FACEDB_SCHEMA", long.as_str())], vec!["status"]),
        ] {
            let out = run_at(&db, db.url(), &env, &args).code(2);
            assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
        }
    }
    let db = TestDb::sqlite();
    db.run(&["init", "--schema", "app"])
        .code(2)
        .stderr_has("a SQLite database has no schemas");
    assert!(!db.sqlite_path().exists());
    db.run(&["init", "--schema", "public"]).success();
}

fn sqlite_sees_an_upper_case_reference_to_its_tables() {
    let db = TestDb::sqlite();
    db.init();
    support::data::add_data(&db);
    let before = support::data::counts(&db);
    db.exec(
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, author VARCHAR(64) REFERENCES USERS(user_id) ON DELETE CASCADE);
         INSERT INTO notes (author) SELECT user_id FROM users;",
    );
    let notes = db.count("notes");
    assert!(notes > 0);
    for args in [&["fresh", "--force"][..], &["reset", "--dry-run"]] {
        db.run(args)
            .code(5)
            .stderr_has("a foreign key of table notes depends on table USERS");
    }
    assert_eq!(db.count("notes"), notes);
    assert_eq!(support::data::counts(&db), before);
}

fn sqlite_tables_named_in_upper_case_are_still_facedbs_names() {
    let db = TestDb::sqlite();
    db.create_empty();
    db.exec("CREATE TABLE USERS (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO USERS VALUES (1, 'ann');");
    db.run(&["fresh", "--force"])
        .code(5)
        .stderr_has("users (no column user_id");
    db.run(&["init"]).code(5);
    assert_eq!(db.count("USERS"), 1);
    assert_eq!(
        strings(
            &db,
            "SELECT name AS v FROM sqlite_master WHERE type = 'table'"
        ),
        ["USERS"]
    );
}

fn a_database_the_old_tool_made_in_another_schema_is_adopted_there() {
    let db = TestDb::postgres();
    db.create_empty();
    db.exec(&format!(
        "CREATE SCHEMA app; SET search_path = app; {}",
        include_str!("fixtures/legacy_postgres.sql")
    ));
    let tenants = db.count("app.tenants");
    let url = with_search_path(&db, "app");
    run_at(&db, &url, &[], &["init", "--schema", "app"])
        .success()
        .stdout_has("adopted");
    assert_eq!(db.count("app.tenants"), tenants);
    assert_eq!(tables_in(&db, "public"), Vec::<String>::new());
    run_at(&db, &url, &[], &["check", "--schema", "app"]).success();
    run_at(&db, &url, &[], &["status", "--schema", "app"]).success();
}

tests![
    needs::NOTHING => [
        sqlite_sees_an_upper_case_reference_to_its_tables,
        sqlite_tables_named_in_upper_case_are_still_facedbs_names,
    ],
    needs::SERVER => [
        an_earlier_schema_in_the_urls_search_path_is_neither_read_nor_dropped,
        a_schema_named_after_the_role_that_shadows_public_is_refused,
        an_unrelated_public_workers_survives_a_reset_of_facedb_in_another_schema,
        another_applications_users_and_visits_are_never_dropped_or_altered,
        unrelated_tenants_and_users_tables_are_not_taken_for_the_old_tools,
        a_role_level_search_path_reaching_crm_users_is_refused,
        shared_diesel_bookkeeping_keeps_other_applications_rows,
        the_schema_setting_keeps_facedb_in_its_own_schema,
        a_bad_schema_setting_is_a_usage_error,
        a_database_the_old_tool_made_in_another_schema_is_adopted_there,
    ],
];
