//! Protected environments: ENV or the database's recorded environment saying production.

use crate::support;

use std::io::Write;
use std::process::Stdio;

use support::{Output, TestDb};

const PASSWORD: &str = "Pr0d-S3cret!pw";

fn run_with_env(db: &TestDb, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = db.facedb();
    cmd.envs(env.iter().copied()).args(args);
    Output::from(cmd.output().unwrap())
}

fn init_production(db: &TestDb, env: &str) {
    run_with_env(
        db,
        &[("ENV", env), ("FACEDB_ADMIN_PASSWORD", PASSWORD)],
        &["init"],
    )
    .success()
    .hides(PASSWORD);
}

fn env_prod_refuses_reset_and_fresh_even_with_force() {
    for db in TestDb::each() {
        init_production(&db, "prod");
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Real customer')");
        for args in [&["fresh", "--force"][..], &["reset", "--force"], &["reset"]] {
            let out = run_with_env(&db, &[("ENV", "prod")], args).code(4);
            assert!(
                out.stderr.contains("ENV is 'prod'"),
                "{args:?}: {}",
                out.stderr
            );
            assert!(out.stderr.contains("--allow-production"), "{}", out.stderr);
            assert_eq!(db.count("tenants"), 1, "{:?} {args:?}", db.backend);
        }
    }
}

fn a_database_recorded_as_production_refuses_reset_whatever_env_says() {
    for db in TestDb::each() {
        init_production(&db, "Production");
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Real customer')");
        let out = db.run(&["fresh", "--force"]).code(4);
        assert!(
            out.stderr.contains("set up with ENV=Production"),
            "{}",
            out.stderr
        );
        assert_eq!(db.count("tenants"), 1);

        // Explicitly allowed: the reset happens, and the database stays recorded as production.
        let out = run_with_env(
            &db,
            &[("FACEDB_ADMIN_PASSWORD", PASSWORD)],
            &["fresh", "--force", "--allow-production"],
        )
        .success();
        assert_eq!(db.count("tenants"), 0, "{}", out.stdout);
        let recorded = db
            .connect()
            .strings("SELECT value AS v FROM __facedb_metadata WHERE key = 'environment'");
        assert_eq!(recorded, ["Production"]);
        db.run(&["fresh", "--force"]).code(4);
    }
}

fn staging_is_protected_too_in_any_case() {
    for db in TestDb::each() {
        init_production(&db, "STAGING");
        run_with_env(&db, &[("ENV", "dev")], &["fresh", "--force"])
            .code(4)
            .stderr_has("ENV=STAGING");
    }
}

fn production_init_refuses_the_default_password_and_changes_nothing() {
    for db in TestDb::each() {
        // An existing, empty database (a missing one is not even created: target.rs).
        db.create_empty();
        let out = run_with_env(&db, &[("ENV", "production")], &["init"]).code(4);
        assert!(out.stderr.contains("default password"), "{}", out.stderr);
        assert!(
            out.stderr.contains("--admin-password-stdin")
                && out.stderr.contains("FACEDB_ADMIN_PASSWORD"),
            "{}",
            out.stderr
        );
        // The transaction rolled back: no schema was left half set up.
        let tables = db.connect().strings(match db.backend {
            support::Backend::Postgres => {
                "SELECT table_name::text AS v FROM information_schema.tables WHERE table_schema = 'public'"
            }
            support::Backend::Sqlite => "SELECT name AS v FROM sqlite_master WHERE type = 'table'",
        });
        assert!(tables.is_empty(), "{:?}: {tables:?}", db.backend);
    }
}

fn production_init_takes_the_admin_password_from_stdin() {
    for db in TestDb::each() {
        let mut child = db
            .std_facedb()
            .env("ENV", "prod")
            .env("FACEDB_ADMIN_USERNAME", "ops")
            .env("FACEDB_ADMIN_EMAIL", "ops@example.com")
            .args(["init", "--admin-password-stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        let out = Output::from(child.wait_with_output().unwrap())
            .success()
            .hides(PASSWORD);
        assert!(!out.stderr.contains("default password"), "{}", out.stderr);
        let admin = db
            .connect()
            .strings("SELECT username || ' ' || email || ' ' || password_hash AS v FROM users");
        assert_eq!(admin.len(), 1);
        let (who, hash) = admin[0].rsplit_once(' ').unwrap();
        assert_eq!(who, "ops ops@example.com");
        assert!(facedb::verify_password(PASSWORD, hash), "{:?}", db.backend);

        // With an admin in place, a production init needs no password.
        run_with_env(&db, &[("ENV", "prod")], &["init"])
            .success()
            .stdout_has("up to date");
    }
}

fn an_empty_password_on_stdin_is_a_usage_error() {
    let db = TestDb::sqlite();
    let out = db
        .std_facedb()
        .args(["init", "--admin-password-stdin"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Output::from(out).code(2).stderr_has("empty password");
    assert!(!db.sqlite_path().exists() || db.count("users") == 0);
}

fn admin_name_and_email_can_be_overridden_in_any_environment() {
    for db in TestDb::each() {
        run_with_env(
            &db,
            &[
                ("FACEDB_ADMIN_USERNAME", "root"),
                ("FACEDB_ADMIN_EMAIL", "root@example.com"),
            ],
            &["init"],
        )
        .success()
        .stderr_has("'root'");
        let admin = db
            .connect()
            .strings("SELECT username || ' ' || email AS v FROM users");
        assert_eq!(admin, ["root root@example.com"]);
    }
}

tests![
    needs::NOTHING => [
        an_empty_password_on_stdin_is_a_usage_error,
    ],
    needs::SERVER => [
        env_prod_refuses_reset_and_fresh_even_with_force,
        a_database_recorded_as_production_refuses_reset_whatever_env_says,
        staging_is_protected_too_in_any_case,
        production_init_refuses_the_default_password_and_changes_nothing,
        production_init_takes_the_admin_password_from_stdin,
        admin_name_and_email_can_be_overridden_in_any_environment,
    ],
];
