//! The schema facedb may work in: PostgreSQL's own schemas are refused before anything connects,
//! a name that needs quoting works with every command, and `facedb sql --schema` prints a script
//! that builds facedb in that schema.

use crate::support;

use std::io::Write;
use std::process::Stdio;

use support::{facedb_in, Output, TestDb};

/// Runs `facedb ARGS` with `env` added, answering `stdin` (none: an empty stdin).
fn run(db: &TestDb, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    Output::from(
        db.facedb()
            .envs(env.iter().copied())
            .args(args)
            .write_stdin(stdin)
            .output()
            .expect("facedb runs"),
    )
}

/// `name` as PostgreSQL's text literal.
fn literal(name: &str) -> String {
    format!("'{}'", name.replace('\'', "''"))
}

/// Every table, view, sequence and type in schema `name`, as `kind name`, sorted.
fn objects_in(db: &TestDb, name: &str) -> Vec<String> {
    db.connect().strings(&format!(
        "SELECT v FROM (
             SELECT c.relkind::text || ' ' || c.relname::text AS v FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = {0}
             UNION ALL SELECT 'type ' || t.typname::text FROM pg_type t
             JOIN pg_namespace n ON n.oid = t.typnamespace
             WHERE n.nspname = {0} AND t.typtype IN ('e', 'd')) AS o ORDER BY v",
        literal(name)
    ))
}

/// The schemas PostgreSQL keeps for itself, as a person might name them.
const SYSTEM_SCHEMAS: [&str; 7] = [
    "pg_catalog",
    "information_schema",
    "pg_toast",
    "pg_temp",
    "pg_temp_1",
    "pg_toast_temp_1",
    "pg_faces",
];

fn system_schemas_are_refused_before_anything_connects() {
    let db = TestDb::postgres();
    let user = [
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
        "--password-stdin",
    ];
    let commands: [&[&str]; 12] = [
        &["init"],
        &["status"],
        &["check"],
        &["reset", "--force"],
        &["reset", "--dry-run"],
        &["fresh", "--force"],
        &["rollback", "--force"],
        &["rollback", "--dry-run"],
        &user,
        &["user", "list"],
        &["user", "reset-password", "admin", "--password-stdin"],
        &["sql"],
    ];
    // Each command by flag and by variable, each system schema several times.
    for (at, command) in commands.into_iter().enumerate() {
        for by_variable in [false, true] {
            let schema = SYSTEM_SCHEMAS[(2 * at + usize::from(by_variable)) % SYSTEM_SCHEMAS.len()];
            let (env, args) = if by_variable {
                (vec![("FACEDB_SCHEMA", schema)], command.to_vec())
            } else {
                (vec![], [command, &["--schema", schema]].concat())
            };
            let out = run(&db, &env, &args, "Secr3t-pw-1234\n").code(2);
            assert!(
                out.stderr.starts_with("error: --schema/FACEDB_SCHEMA is ")
                    && out.stderr.contains("pg_dump leaves it out of every backup")
                    && out.stderr.lines().count() == 1,
                "{schema} {args:?}: {}",
                out.stderr
            );
            assert!(out.stdout.is_empty(), "{schema} {args:?}: {}", out.stdout);
        }
    }
    // Nothing connected: the missing database was not created.
    assert!(!db.pg_exists());

    // facedb quotes the name: in another case it is an ordinary schema, as to PostgreSQL.
    db.run(&["init", "--schema", "PG_Faces"]).success();
    assert_eq!(db.count("\"PG_Faces\".users"), 1);

    // In a database facedb already set up, nothing lands in the system schema either.
    db.init();
    for schema in ["information_schema", "pg_catalog"] {
        db.run(&["init", "--schema", schema]).code(2);
        db.run(&["fresh", "--force", "--schema", schema]).code(2);
        let theirs = objects_in(&db, schema);
        assert!(
            !theirs.iter().any(|o| o == "r users" || o == "r tenants"),
            "{schema}: {theirs:?}"
        );
    }
    assert_eq!(db.facedb_tables(), 12);
    assert_eq!(db.count("users"), 1);
}

/// Names that need quoting: upper case, letters beyond ASCII, a double quote.
const ODD_SCHEMAS: [&str; 3] = ["Rt3Faces", "ünï", "a\"b"];

fn every_command_works_in_a_schema_whose_name_needs_quoting() {
    let db = TestDb::postgres();
    db.create_empty();
    let password = "Qu0ted-schema-pw\n";
    for schema in ODD_SCHEMAS {
        let at = |args: &[&'static str]| [args, &["--schema", schema]].concat();
        let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
        let table = |name: &str| format!("{quoted}.{name}");
        if schema != "a\"b" {
            // Set up, reset and checked; every command runs in the last one.
            run(&db, &[], &at(&["init"]), "").success();
            db.exec(&format!(
                "INSERT INTO {} (tenant_id, name) VALUES ('t-1', 'One')",
                table("tenants")
            ));
            run(&db, &[], &at(&["fresh", "--force"]), "").success();
            assert_eq!(db.count(&table("tenants")), 0);
            run(&db, &[], &at(&["check"]), "").success();
            continue;
        }

        run(&db, &[], &at(&["init"]), "")
            .success()
            .stdout_has(&format!("applied {}", support::every_migration()));
        run(&db, &[], &at(&["init"]), "")
            .success()
            .stdout_has("up to date");
        let status = run(&db, &[], &at(&["status", "--json"]), "").success();
        let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(status["schema"], schema);
        run(&db, &[], &at(&["check"]), "").success();
        run(
            &db,
            &[],
            &at(&[
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
                "--password-stdin",
            ]),
            password,
        )
        .success();
        run(&db, &[], &at(&["user", "list"]), "")
            .success()
            .stdout_has("ada@example.com");
        assert_eq!(db.count(&table("users")), 2);

        // A reset drops the rows and seeds the admin again, in the same schema, carrying over
        // an index and a comment whose names need quoting too.
        db.exec(&format!(
            "SET search_path = {quoted}; {}
             CREATE INDEX \"visits \"\"by\"\" tenant\" ON {} (tenant_id);
             COMMENT ON TABLE {} IS 'kept';",
            support::data::ADD_DATA,
            table("visits"),
            table("visits"),
        ));
        run(&db, &[], &at(&["reset", "--dry-run"]), "")
            .success()
            .stdout_has("tenants");
        run(&db, &[], &at(&["fresh", "--force"]), "")
            .success()
            .stdout_has("dropped 12 tables");
        assert_eq!(db.count(&table("tenants")), 0);
        assert_eq!(db.count(&table("users")), 1);
        let mut conn = db.connect();
        let visits = format!("'{}'::regclass", table("visits").replace('\'', "''"));
        assert_eq!(
            conn.strings(&format!(
                "SELECT indexrelid::regclass::text AS v FROM pg_index WHERE indrelid = {visits} \
                 AND indexrelid::regclass::text LIKE '%by%'"
            )),
            [format!("{quoted}.\"visits \"\"by\"\" tenant\"")]
        );
        assert_eq!(
            conn.strings(&format!(
                "SELECT obj_description({visits}, 'pg_class') AS v"
            )),
            ["kept"]
        );

        // Rolling back every migration, the newest first, leaves diesel's table only; the
        // first migration's down.sql is the one that drops the tables.
        let mut dry_run = String::new();
        for _ in 0..support::migration_count() {
            dry_run = run(&db, &[], &at(&["rollback", "--dry-run"]), "")
                .success()
                .stdout;
            run(&db, &[], &at(&["rollback", "--force"]), "").success();
        }
        assert!(dry_run.contains("DROP TABLE"), "{dry_run}");
        assert_eq!(
            objects_in(&db, schema)
                .into_iter()
                .filter(|o| o.starts_with("r "))
                .collect::<Vec<_>>(),
            ["r __diesel_schema_migrations"]
        );
        run(&db, &[], &at(&["init"]), "").success();
        run(&db, &[], &at(&["check"]), "").success();
    }
    assert_eq!(objects_in(&db, "public"), Vec::<String>::new());
}

/// Runs `script` as a DBA would, through psql with ON_ERROR_STOP.
fn psql(db: &TestDb, script: &str) {
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
        .expect("psql runs");
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
}

fn the_printed_sql_builds_facedb_in_the_named_schema() {
    // A name that needs quoting and holds the script's own dollar quote.
    let schema = "Rt3 $facedb$ \"Faces\"";
    let by_script = TestDb::postgres();
    by_script.create_empty();
    let script = by_script.run(&["sql", "--schema", schema]).success().stdout;
    psql(&by_script, &script);
    assert_eq!(objects_in(&by_script, "public"), Vec::<String>::new());
    let built = objects_in(&by_script, schema);

    // init finds the schema set up: it applies nothing and only seeds the admin.
    let out = by_script.run(&["init", "--schema", schema]).success();
    assert_eq!(
        out.stdout.trim_end(),
        format!("127.0.0.1:5432/{}: seeded admin 'admin'", by_script.name)
    );
    by_script.run(&["check", "--schema", schema]).success();
    assert_eq!(objects_in(&by_script, schema), built);
    assert_eq!(objects_in(&by_script, "public"), Vec::<String>::new());

    // The same objects as init makes in a schema of its own.
    let by_init = TestDb::postgres();
    by_init.run(&["init", "--schema", schema]).success();
    assert_eq!(objects_in(&by_init, schema), built);

    // FACEDB_SCHEMA names it too; SQLite has no schema to name.
    let dir = tempfile::TempDir::new().unwrap();
    let out = Output::from(
        facedb_in(dir.path())
            .env("FACEDB_SCHEMA", "faces")
            .args(["sql", "--backend", "postgres"])
            .output()
            .unwrap(),
    )
    .success();
    assert!(
        out.stdout
            .contains("SET LOCAL search_path = \"faces\", pg_temp;"),
        "{}",
        out.stdout
    );
    Output::from(
        facedb_in(dir.path())
            .args(["sql", "--backend", "sqlite", "--schema", "faces"])
            .output()
            .unwrap(),
    )
    .code(2)
    .stderr_has("a SQLite database has no schemas");
}

tests![
    needs::SERVER => [
        system_schemas_are_refused_before_anything_connects,
        every_command_works_in_a_schema_whose_name_needs_quoting,
        the_printed_sql_builds_facedb_in_the_named_schema,
    ],
];
