//! `facedb rollback`: reverts the newest migration with its down.sql, guarded like reset.

use crate::support;

use std::time::Duration;

use rexpect::process::WaitStatus;
use rexpect::session::spawn_command;
use serde_json::Value;
use support::data::{add_data, counts};
use support::{Output, TestDb};

const PASSWORD: &str = "R0llback-S3cret!pw";

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// Every migration of this facedb, oldest first.
fn all_migrations(db: &TestDb) -> Vec<String> {
    facedb::migrations::all_names(db.backend.into())
}

/// The newest migration of this facedb: what a rollback of an up-to-date database reverts.
fn latest_migration(db: &TestDb) -> String {
    facedb::migrations::latest(db.backend.into())
}

/// The first statement line of the newest migration's down.sql, as the dry run and the prompt
/// print it.
fn latest_down_sql(db: &TestDb) -> String {
    let down = facedb::migrations::down_sql(db.backend.into(), &latest_migration(db))
        .expect("the newest migration has a down.sql");
    down.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .expect("a statement in down.sql")
        .trim_end_matches(';')
        .to_owned()
}

/// The migrations `status` lists as pending.
fn pending(db: &TestDb) -> Value {
    json(&db.run(&["status", "--json"]))["migrations"]["pending"].clone()
}

fn run_with_env(db: &TestDb, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = db.facedb();
    cmd.envs(env.iter().copied()).args(args);
    Output::from(cmd.output().unwrap())
}

fn rolling_back_the_first_migration_leaves_no_table_and_init_brings_them_back() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let all = all_migrations(&db);

        // One migration per rollback, newest first; the first one's down.sql drops every table.
        let mut dropped = 0;
        for migration in all.iter().rev() {
            let out = db.run(&["rollback", "--force", "--json"]).success();
            let report = json(&out);
            assert_eq!(report["reverted"], serde_json::json!([migration]));
            dropped += report["dropped"].as_array().unwrap().len();
        }
        assert_eq!(dropped, 12);
        assert_eq!(db.facedb_tables(), 0, "{:?}", db.backend);
        // Only diesel's (now empty) record of migrations is left: no table, type or bookkeeping.
        let left = db.connect().strings(match db.backend {
            support::Backend::Postgres => {
                "SELECT relname::text AS v FROM pg_class WHERE relnamespace = current_schema()::regnamespace \
                 AND relkind IN ('r', 'S', 'v') UNION ALL SELECT typname::text FROM pg_type \
                 WHERE typnamespace = current_schema()::regnamespace AND typtype = 'e' ORDER BY 1"
            }
            support::Backend::Sqlite => {
                "SELECT name AS v FROM sqlite_master WHERE name NOT LIKE 'sqlite%' ORDER BY 1"
            }
        });
        assert_eq!(left, ["__diesel_schema_migrations"], "{:?}", db.backend);

        let status = json(&db.run(&["status", "--json"]).code(5));
        assert_eq!(status["migrations"]["applied"], serde_json::json!([]));
        assert_eq!(status["migrations"]["pending"], serde_json::json!(all));

        // Nothing left to revert: says so and succeeds.
        db.run(&["rollback", "--force"])
            .success()
            .stdout_has("nothing to roll back");

        let out = db.init();
        for migration in &all {
            assert!(
                out.stderr
                    .contains(&format!("applied migration {migration}")),
                "{}",
                out.stderr
            );
        }
        assert_eq!(db.facedb_tables(), 12);
        db.run(&["check"]).success();
        db.run(&["status"]).success();
    }
}

fn dry_run_prints_the_sql_and_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);

        let down = latest_down_sql(&db);
        let out = db.run(&["rollback", "--dry-run"]).success();
        assert!(out.stdout.contains(&down), "{}", out.stdout);
        assert!(
            out.stdout
                .contains("__diesel_schema_migrations\" WHERE version = '"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("nothing was changed"), "{}", out.stdout);
        let report = json(&db.run(&["rollback", "--dry-run", "--json"]).success());
        assert_eq!(report["dry_run"], true);
        assert_eq!(
            report["reverted"],
            serde_json::json!([latest_migration(&db)])
        );
        assert!(report["sql"].as_str().unwrap().contains(&down));

        assert_eq!(counts(&db), before, "{:?}", db.backend);
        db.run(&["status"]).success();
    }
}

fn without_a_terminal_and_without_force_it_refuses_with_exit_4() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        // A piped "y" is not a person answering.
        let out = Output::from(
            db.facedb()
                .arg("rollback")
                .write_stdin("y\n")
                .output()
                .unwrap(),
        )
        .code(4)
        .stderr_has("--force");
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn a_protected_database_is_rolled_back_only_with_allow_production() {
    for db in TestDb::each() {
        run_with_env(
            &db,
            &[("ENV", "production"), ("FACEDB_ADMIN_PASSWORD", PASSWORD)],
            &["init"],
        )
        .success()
        .hides(PASSWORD);
        add_data(&db);
        let before = counts(&db);

        run_with_env(&db, &[("ENV", "prod")], &["rollback", "--force"])
            .code(4)
            .stderr_has("ENV is 'prod'")
            .stderr_has("--allow-production");
        // Looking is allowed: the dry run changes nothing.
        run_with_env(&db, &[("ENV", "prod")], &["rollback", "--dry-run"])
            .success()
            .stdout_has(&latest_down_sql(&db));
        // The recorded environment guards it whatever ENV says.
        db.run(&["rollback", "--force"])
            .code(4)
            .stderr_has("set up with ENV=production");
        assert_eq!(counts(&db), before, "{:?}", db.backend);

        db.run(&["rollback", "--force", "--allow-production"])
            .success();
        assert_eq!(pending(&db), serde_json::json!([latest_migration(&db)]));
    }
}

fn it_waits_for_facedbs_lock_and_gives_up_with_exit_6() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        let mut holder = db.connect();
        match db.backend {
            support::Backend::Postgres => holder.exec(&format!(
                "SELECT pg_advisory_lock({})",
                facedb::ADVISORY_LOCK_KEY
            )),
            support::Backend::Sqlite => holder.exec("BEGIN IMMEDIATE"),
        }
        db.run(&["rollback", "--force", "--lock-timeout", "1s"])
            .code(6)
            .stderr_has("--lock-timeout");
        drop(holder);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn a_migration_this_facedb_does_not_know_is_not_reverted() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        // A newer facedb applied it: facedb's metadata records it as its own.
        db.exec(
            "INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000');
             INSERT INTO __facedb_metadata (key, value, updated_at)
                 VALUES ('migration 29990101000000', '29990101000000', CURRENT_TIMESTAMP)",
        );
        let before = counts(&db);
        db.run(&["rollback", "--force"])
            .code(5)
            .stderr_has("29990101000000");
        db.run(&["rollback", "--dry-run"]).code(5);
        assert_eq!(counts(&db), before, "{:?}", db.backend);
    }
}

fn an_object_facedb_does_not_own_on_its_tables_stops_the_rollback() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        db.exec("CREATE VIEW tenant_names AS SELECT name FROM tenants");
        let before = counts(&db);
        for args in [&["rollback", "--force"][..], &["rollback", "--dry-run"]] {
            db.run(args).code(5).stderr_has("view tenant_names");
        }
        assert_eq!(counts(&db), before, "{:?}", db.backend);
        assert_eq!(
            db.connect().strings("SELECT name AS v FROM tenant_names"),
            ["Tenant One"]
        );
    }
}

fn to_names_the_migration_to_keep() {
    for db in TestDb::each() {
        db.init();
        let migration = latest_migration(&db);
        let version = migration.split('_').next().unwrap().replace('-', "");
        for to in [migration.as_str(), version.as_str()] {
            db.run(&["rollback", "--force", "--to", to])
                .success()
                .stdout_has("nothing to roll back");
            assert_eq!(db.facedb_tables(), 12);
            assert_eq!(pending(&db), serde_json::json!([]));
        }
        db.run(&["rollback", "--force", "--to", "20200101000000"])
            .code(2)
            .stderr_has(&migration);
        assert_eq!(db.facedb_tables(), 12);
    }
}

/// Runs `facedb rollback` in a pseudo-terminal, waits for each of `shown`, types `typed` and
/// Enter, and returns the exit code.
fn answer_prompt(db: &TestDb, shown: &[&str], typed: &str) -> i32 {
    let mut cmd = db.std_facedb();
    cmd.arg("rollback");
    let mut session = spawn_command(cmd, Some(30_000)).expect("spawn facedb in a pty");
    for text in shown {
        session.exp_string(text).unwrap();
    }
    // The prompt is printed before stdin is read: give the read a moment to start.
    std::thread::sleep(Duration::from_millis(200));
    session.send_line(typed).unwrap();
    let rest = session.exp_eof().expect("facedb ends");
    support::secrets::assert_hidden("terminal", &rest);
    match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("facedb did not exit normally: {other:?}"),
    }
}

fn the_prompt_shows_the_down_sql_and_enter_keeps_everything() {
    for db in TestDb::each() {
        db.init();
        let down = latest_down_sql(&db);
        let shown = [down.as_str(), "[y/N]"];
        // Enter alone is No.
        assert_eq!(answer_prompt(&db, &shown, ""), 4, "{:?}", db.backend);
        assert_eq!(pending(&db), serde_json::json!([]));
        assert_eq!(answer_prompt(&db, &shown, "y"), 0, "{:?}", db.backend);
        assert_eq!(pending(&db), serde_json::json!([latest_migration(&db)]));
    }
}

fn a_database_with_data_wants_its_name_typed() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        let shown = ["tenants", "Type the database name"];
        assert_eq!(answer_prompt(&db, &shown, "y"), 4, "{:?}", db.backend);
        assert_eq!(counts(&db), before);
        assert_eq!(answer_prompt(&db, &shown, &db.name), 0, "{:?}", db.backend);
        assert_eq!(pending(&db), serde_json::json!([latest_migration(&db)]));
    }
}

tests![
    needs::SERVER => [
        rolling_back_the_first_migration_leaves_no_table_and_init_brings_them_back,
        dry_run_prints_the_sql_and_changes_nothing,
        without_a_terminal_and_without_force_it_refuses_with_exit_4,
        a_protected_database_is_rolled_back_only_with_allow_production,
        it_waits_for_facedbs_lock_and_gives_up_with_exit_6,
        a_migration_this_facedb_does_not_know_is_not_reverted,
        an_object_facedb_does_not_own_on_its_tables_stops_the_rollback,
        to_names_the_migration_to_keep,
        the_prompt_shows_the_down_sql_and_enter_keeps_everything,
        a_database_with_data_wants_its_name_typed,
    ],
];
