//! Every reset keeps what it replaced as a backup, and `facedb restore` brings it back: rows,
//! attachments and bookkeeping, on both backends, through the real binary.

use crate::support;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::Value;
use support::data::{add_data, counts};
use support::{Backend, Output, TestDb};

const PASSWORD: &str = "Pr0d-S3cret!pw";

fn parse(out: &Output) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", out.stdout))
}

fn run_with_env(db: &TestDb, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = db.facedb();
    cmd.envs(env.iter().copied()).args(args);
    Output::from(cmd.output().unwrap())
}

/// `facedb backups --json`: each backup's JSON object, oldest first.
fn backups(db: &TestDb) -> Vec<Value> {
    backups_with(db, &[])
}

fn backups_with(db: &TestDb, env: &[(&str, &str)]) -> Vec<Value> {
    let out = run_with_env(db, env, &["backups", "--json"]).success();
    parse(&out)["backups"].as_array().unwrap().clone()
}

fn ids(backups: &[Value]) -> Vec<String> {
    backups
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A backup's rows as the counts helper gives a live database's: (table, rows), in its order.
fn backup_counts(backup: &Value, like: &[(String, i64)]) -> Vec<(String, i64)> {
    like.iter()
        .map(|(table, _)| (table.clone(), backup["rows"][table].as_i64().unwrap_or(-1)))
        .collect()
}

/// What a backup leaves where people can see it: PostgreSQL's backup schemas, SQLite's files
/// next to the database (whatever their suffix).
fn backup_objects(db: &TestDb) -> Vec<String> {
    match db.backend {
        Backend::Postgres => db.connect().strings(
            "SELECT nspname::text AS v FROM pg_namespace WHERE nspname LIKE 'facedb\\_backup\\_%' ORDER BY 1",
        ),
        Backend::Sqlite => {
            let mut names: Vec<String> = std::fs::read_dir(db.dir())
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("facedb.db.backup-"))
                .collect();
            names.sort();
            names
        }
    }
}

/// The schema as the database describes it: `pg_dump --schema-only` of `public`, or SQLite's
/// stored definitions (sorted: a restore creates them in one pass, not in their first order).
fn schema_dump(db: &TestDb) -> String {
    match db.backend {
        Backend::Postgres => {
            let out = std::process::Command::new("pg_dump")
                .args(["--schema-only", "--schema", "public", "--no-owner", db.url()])
                .output()
                .expect("pg_dump runs");
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            // pg_dump's `\restrict` lines carry a random key each run.
            String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
                .collect::<Vec<_>>()
                .join("\n")
        }
        Backend::Sqlite => db
            .connect()
            .strings("SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS v FROM sqlite_master ORDER BY type, name")
            .join("\n"),
    }
}

/// Two schema dumps are equal; else the lines only one of them has.
fn assert_same_schema(now: &str, then: &str, what: &str) {
    if now != then {
        let (a, b): (Vec<&str>, Vec<&str>) = (now.lines().collect(), then.lines().collect());
        let only_now: Vec<&&str> = a.iter().filter(|l| !b.contains(l)).collect();
        let only_then: Vec<&&str> = b.iter().filter(|l| !a.contains(l)).collect();
        panic!("{what}: the schema differs; only now: {only_now:#?}\nonly before: {only_then:#?}");
    }
}

/// A PostgreSQL role of the test server, unique to this test, dropped at the end.
struct Role {
    name: String,
    database_url: String,
}

impl Role {
    fn create(db: &TestDb, purpose: &str) -> Role {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "facedb_test_{purpose}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        db.exec(&format!("CREATE ROLE {name} LOGIN"));
        Role {
            name,
            database_url: db.url().to_owned(),
        }
    }

    fn url(&self) -> String {
        let mut url = url::Url::parse(&self.database_url).unwrap();
        url.set_username(&self.name).unwrap();
        url.to_string()
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.database_url).and_then(|mut conn| {
            use diesel::connection::SimpleConnection;
            conn.batch_execute(&format!(
                "DROP OWNED BY {0} CASCADE; DROP ROLE {0}",
                self.name
            ))
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))
        });
        if let Err(e) = dropped {
            eprintln!("warning: could not drop role {}: {e}", self.name);
        }
    }
}

/// What people attach to facedb's tables, on each backend.
fn attach(db: &TestDb, api: Option<&Role>) {
    match db.backend {
        Backend::Postgres => {
            let api = api.expect("a role on PostgreSQL").name.as_str();
            db.exec(&format!(
                "CREATE INDEX visits_confidence ON visits (confidence_score);
                 CREATE STATISTICS visits_person_site ON person_id, site_id FROM visits;
                 CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
                 CREATE TRIGGER visits_touch BEFORE UPDATE ON visits FOR EACH ROW EXECUTE FUNCTION touch();
                 ALTER TABLE visits ENABLE ROW LEVEL SECURITY;
                 CREATE POLICY tenant_rows ON visits USING (tenant_id = 't-1');
                 COMMENT ON TABLE visits IS 'one row per sighting';
                 GRANT USAGE ON SCHEMA public TO {api};
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO {api};
                 CREATE PUBLICATION visits_out FOR TABLE visits WHERE (confidence_score > 0.5), tenants (tenant_id, name);"
            ));
        }
        Backend::Sqlite => db.exec(
            "CREATE INDEX visits_confidence ON visits (confidence_score);
             CREATE TRIGGER visits_touch AFTER UPDATE ON visits BEGIN SELECT 1; END;",
        ),
    }
}

fn reset_then_restore_brings_back_every_row_and_attachment() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let api = (db.backend == Backend::Postgres).then(|| Role::create(&db, "api"));
        attach(&db, api.as_ref());
        let (schema_before, rows_before) = (schema_dump(&db), counts(&db));

        let dry = db.run(&["fresh", "--dry-run"]).success();
        assert!(
            dry.stdout
                .contains("A backup keeps what the reset replaces"),
            "{}",
            dry.stdout
        );
        let fresh = db.run(&["fresh", "--force", "--json"]).success();
        let made = parse(&fresh)["backup"].as_str().unwrap().to_owned();
        assert_eq!(db.count("tenants"), 0, "{:?}", db.backend);
        let listed = backups(&db);
        assert_eq!(
            ids(&listed),
            std::slice::from_ref(&made),
            "{:?}",
            db.backend
        );
        assert_eq!(listed[0]["made_by"], "fresh");
        assert_eq!(listed[0]["environment"], "dev");
        assert!(listed[0]["size_bytes"].as_i64().unwrap() > 0);
        assert_eq!(backup_counts(&listed[0], &rows_before), rows_before);
        let seed_schema = schema_dump(&db);
        let seed_rows = counts(&db);

        // The restore brings back every row and every attachment, and keeps what it replaced.
        let restore = db.run(&["restore", "--force", "--json"]).success();
        let kept = parse(&restore)["backup"].as_str().unwrap().to_owned();
        assert_eq!(counts(&db), rows_before, "{:?}", db.backend);
        assert_same_schema(
            &schema_dump(&db),
            &schema_before,
            &format!("{:?}", db.backend),
        );
        assert_eq!(
            ids(&backups(&db)),
            std::slice::from_ref(&kept),
            "{:?}",
            db.backend
        );
        assert_eq!(backup_objects(&db).len(), 1, "{:?}", db.backend);
        db.run(&["check"]).code(5); // only for the user-added objects, as before the reset
        db.run(&["status"])
            .success()
            .stdout_has("backups       1 (");

        // A restore is undone like a reset: the seeded database comes back, and again the data.
        db.run(&["restore", &kept, "--force"]).success();
        assert_eq!(counts(&db), seed_rows, "{:?}", db.backend);
        assert_same_schema(
            &schema_dump(&db),
            &seed_schema,
            &format!("{:?}", db.backend),
        );
        db.run(&["restore", "--force"]).success();
        assert_eq!(counts(&db), rows_before, "{:?}", db.backend);
        assert_same_schema(
            &schema_dump(&db),
            &schema_before,
            &format!("{:?}", db.backend),
        );
        db.run(&["status"]).success().stdout_has("up to date");
    }
}

/// The API's role reads facedb's live tables, but not a backup's: nobody but the role running
/// facedb gets USAGE on a backup schema, even where default privileges grant it on new schemas.
fn the_api_role_cannot_read_a_backup() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    let api = Role::create(&db, "api");
    db.exec(&format!(
        "GRANT USAGE ON SCHEMA public TO {0}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {0};
         ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO {0}, PUBLIC;",
        api.name
    ));
    db.run(&["fresh", "--force"]).success();
    let schema = backup_objects(&db).pop().expect("a backup schema");
    let mut conn = PgConnection::establish(&api.url()).unwrap();
    let live: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT count(*) FROM public.users)",
    ))
    .get_result(&mut conn)
    .expect("the API reads the live tables");
    assert_eq!(live, 1);
    let backup =
        diesel::sql_query(format!("SELECT * FROM \"{schema}\".tenants")).execute(&mut conn);
    let error = backup
        .expect_err("the API cannot read the backup")
        .to_string();
    assert!(error.contains("permission denied for schema"), "{error}");
    let usage = db.connect().i64(&format!(
        "SELECT count(*) AS v FROM pg_namespace n, aclexplode(n.nspacl) a \
         WHERE n.nspname = '{schema}' AND a.grantee <> n.nspowner"
    ));
    assert_eq!(usage, 0, "no grant on the backup schema but its owner's");
    // Nothing of the backup is on the search path's tables: status and check see the new ones.
    db.run(&["check"]).success();
}

fn publication_tables(db: &TestDb) -> Vec<String> {
    db.connect().strings(
        "SELECT schemaname || '.' || tablename || ' ' || coalesce(rowfilter, '') AS v \
         FROM pg_publication_tables WHERE pubname = 'visits_out' ORDER BY 1",
    )
}

fn a_publication_leaves_the_backup_and_carries_the_restored_tables_again() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    db.exec(
        "CREATE PUBLICATION visits_out FOR TABLE visits WHERE (confidence_score > 0.5), tenants",
    );
    let before = publication_tables(&db);
    assert_eq!(before.len(), 2, "{before:?}");
    db.run(&["fresh", "--force"]).success();
    // The new tables are carried over into it; the backup's are not in it.
    assert_eq!(publication_tables(&db), before);
    let in_backup = db.connect().i64(
        "SELECT count(*) AS v FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'facedb\\_backup\\_%'",
    );
    assert_eq!(in_backup, 0);
    db.run(&["restore", "--force"]).success();
    assert_eq!(publication_tables(&db), before);
    assert_eq!(
        db.count("tenants"),
        1,
        "the restored rows are the published ones"
    );
    let restored_visits = db.connect().i64(
        "SELECT count(*) AS v FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid \
         WHERE c.oid = 'public.visits'::regclass",
    );
    assert_eq!(restored_visits, 1);
}

/// Kills `fresh` at 10 moments per backend, spread over its run and beyond: each kill leaves the old
/// database and no new backup, or the new database and a whole backup of the old one.
fn a_killed_reset_leaves_the_old_state_or_the_new_one_with_a_whole_backup() {
    for db in TestDb::each() {
        let env = [("FACEDB_KEEP_BACKUPS", "50")];
        db.init();
        add_data(&db);
        // How long a whole fresh takes here, to spread the kills over it.
        let started = Instant::now();
        run_with_env(&db, &env, &["fresh", "--force", "-q"]).success();
        let whole = started.elapsed();
        add_data(&db);
        let (mut old_state, mut new_state) = (0, 0);
        for n in 0..10u32 {
            let before = counts(&db);
            let backups_before = backups_with(&db, &env).len();
            // From before anything happens to after the commit.
            let moment = if n == 9 {
                whole * 3
            } else {
                whole * n / 5 + Duration::from_millis(u64::from(n))
            };
            let mut child = db
                .std_facedb()
                .envs(env)
                .args(["fresh", "--force", "-q"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(moment);
            child.kill().unwrap();
            let status = child.wait().unwrap();
            assert!(status.signal() == Some(9) || status.success(), "{status}");
            let after = backups_with(&db, &env);
            if counts(&db) == before {
                old_state += 1;
                assert_eq!(
                    after.len(),
                    backups_before,
                    "{:?} kill {n}: no new backup",
                    db.backend
                );
            } else {
                new_state += 1;
                assert!(
                    support::data::is_seed_only(&counts(&db)),
                    "{:?} kill {n}",
                    db.backend
                );
                assert_eq!(after.len(), backups_before + 1, "{:?} kill {n}", db.backend);
                let newest = after.last().unwrap();
                assert_eq!(
                    backup_counts(newest, &before),
                    before,
                    "{:?} kill {n}: a whole backup",
                    db.backend
                );
                add_data(&db);
            }
        }
        assert!(
            old_state > 0 && new_state > 0,
            "{:?}: old {old_state}, new {new_state}",
            db.backend
        );
        // The next command that holds the lock settles what a kill left: one object per record.
        run_with_env(&db, &env, &["fresh", "--force", "-q"]).success();
        assert_eq!(
            backup_objects(&db).len(),
            backups_with(&db, &env).len(),
            "{:?}: {:?}",
            db.backend,
            backup_objects(&db)
        );
    }
}

fn retention_keeps_exactly_n_and_no_backup_keeps_none() {
    for db in TestDb::each() {
        db.init();
        let mut made = Vec::new();
        for _ in 0..4 {
            add_data(&db);
            let out = db
                .run(&["fresh", "--force", "--keep-backups", "2", "--json"])
                .success();
            made.push(parse(&out)["backup"].as_str().unwrap().to_owned());
        }
        assert_eq!(ids(&backups(&db)), made[2..], "{:?}", db.backend);
        assert_eq!(backup_objects(&db).len(), 2, "{:?}", db.backend);

        let out = run_with_env(
            &db,
            &[("FACEDB_KEEP_BACKUPS", "1")],
            &["fresh", "--force", "--json"],
        )
        .success();
        let newest = parse(&out)["backup"].as_str().unwrap().to_owned();
        assert_eq!(
            ids(&backups(&db)),
            std::slice::from_ref(&newest),
            "{:?}",
            db.backend
        );
        assert_eq!(backup_objects(&db).len(), 1);

        // --no-backup: no new backup, the data is gone, the earlier backup stays.
        add_data(&db);
        let out = db
            .run(&["fresh", "--force", "--no-backup", "--json"])
            .success();
        assert_eq!(parse(&out)["backup"], Value::Null);
        assert_eq!(db.count("tenants"), 0);
        assert_eq!(
            ids(&backups(&db)),
            std::slice::from_ref(&newest),
            "{:?}",
            db.backend
        );
        assert_eq!(backup_objects(&db).len(), 1);

        // Prune: the dry run shows, without a terminal it refuses, --force drops.
        let dry = db
            .run(&["backups", "prune", "--keep", "0", "--dry-run"])
            .success();
        assert!(
            dry.stdout.contains(&format!("would drop backup {newest}")),
            "{}",
            dry.stdout
        );
        db.run(&["backups", "prune", "--keep", "0"]).code(4);
        assert_eq!(backup_objects(&db).len(), 1);
        db.run(&["backups", "prune", "--keep", "0", "--force"])
            .success();
        assert!(backups(&db).is_empty());
        assert!(backup_objects(&db).is_empty(), "{:?}", backup_objects(&db));
        db.run(&["restore", "--force"]).code(5);

        // Keeping none: a reset with --keep-backups 0 leaves nothing behind.
        add_data(&db);
        db.run(&["fresh", "--force", "--keep-backups", "0"])
            .success();
        assert!(backup_objects(&db).is_empty());
        db.run(&["status"])
            .success()
            .stdout_has("backups       0 (0 B)");
    }
}

/// A backup facedb did not record, or one whose record no longer matches what is there, is never
/// listed, restored or dropped (exit 5), and is left as it is.
fn a_schema_or_file_facedb_did_not_record_is_refused() {
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let stranger = match db.backend {
            Backend::Postgres => {
                db.exec(
                    r#"CREATE SCHEMA "facedb_backup_20200101T000000Z";
                     CREATE TABLE "facedb_backup_20200101T000000Z".tenants (tenant_id text);
                     CREATE TABLE "facedb_backup_20200101T000000Z".__facedb_backup (key text, value text);
                     INSERT INTO "facedb_backup_20200101T000000Z".__facedb_backup VALUES ('token', 'forged'), ('schema', 'public');"#,
                );
                "facedb_backup_20200101T000000Z".to_owned()
            }
            Backend::Sqlite => {
                let path = db.dir().join("facedb.db.backup-20200101T000000Z");
                std::fs::copy(db.sqlite_path(), &path).unwrap();
                "facedb.db.backup-20200101T000000Z".to_owned()
            }
        };
        for id in ["20200101T000000Z", stranger.as_str()] {
            db.run(&["restore", id, "--force"])
                .code(5)
                .stderr_has("that facedb recorded");
        }
        assert_eq!(db.count("tenants"), 1);
        assert!(backups(&db).is_empty());
        // A record pointing at it (someone copied it in) is not enough: the marker must match.
        db.exec(&format!(
            "INSERT INTO __facedb_metadata (key, value, updated_at) VALUES ('backup 20200101T000000Z', \
             '{{\"id\":\"20200101T000000Z\",\"created_at\":\"2020-01-01T00:00:00.000Z\",\"made_by\":\"reset\",\"environment\":\"dev\",\"location\":\"{stranger}\",\"token\":\"guessed\"}}', CURRENT_TIMESTAMP)"
        ));
        db.run(&["backups"]).code(5).stderr_has("does not touch it");
        db.run(&["restore", "--force"])
            .code(5)
            .stderr_has("does not touch it");
        db.run(&["backups", "prune", "--keep", "0", "--force"])
            .code(5);
        assert_eq!(db.count("tenants"), 1);
        assert_eq!(
            backup_objects(&db),
            std::slice::from_ref(&stranger),
            "{:?}",
            db.backend
        );
    }
}

fn restore_into_a_protected_database_needs_allow_production() {
    for db in TestDb::each() {
        let prod = [("ENV", "production"), ("FACEDB_ADMIN_PASSWORD", PASSWORD)];
        run_with_env(&db, &prod, &["init"]).success();
        add_data(&db);
        run_with_env(&db, &prod, &["fresh", "--force", "--allow-production"]).success();
        db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-9', 'Since the reset')");
        let before = (counts(&db), backups(&db), schema_dump(&db));
        for args in [&["restore", "--force"][..], &["restore", "--dry-run"]] {
            db.run(args)
                .code(4)
                .stderr_has("set up with ENV=production")
                .stderr_has("--allow-production");
        }
        assert_eq!(
            (counts(&db), backups(&db), schema_dump(&db)),
            before,
            "{:?}",
            db.backend
        );
        db.run(&["restore", "--force", "--allow-production"])
            .success();
        assert_eq!(db.count("tenants"), 1);
        let names = db.connect().strings("SELECT name AS v FROM tenants");
        assert_eq!(names, ["Tenant One"]);
    }
}

fn two_schemas_keep_separate_backups() {
    let db = TestDb::postgres();
    let (a, b) = ([("FACEDB_SCHEMA", "app_a")], [("FACEDB_SCHEMA", "app_b")]);
    run_with_env(&db, &a, &["init"]).success();
    run_with_env(&db, &b, &["init"]).success();
    db.exec("INSERT INTO app_a.tenants (tenant_id, name) VALUES ('a', 'A'); INSERT INTO app_b.tenants (tenant_id, name) VALUES ('b', 'B');");
    run_with_env(&db, &a, &["fresh", "--force"]).success();
    run_with_env(&db, &b, &["fresh", "--force"]).success();
    let (in_a, in_b) = (backups_with(&db, &a), backups_with(&db, &b));
    assert_eq!((in_a.len(), in_b.len()), (1, 1));
    assert_ne!(in_a[0]["location"], in_b[0]["location"]);
    assert_eq!(in_a[0]["rows"]["tenants"], 1);
    // Restoring a's leaves b's backup, and b's database, alone.
    run_with_env(&db, &a, &["restore", "--force"]).success();
    assert_eq!(db.count("app_a.tenants"), 1);
    assert_eq!(db.count("app_b.tenants"), 0);
    assert_eq!(backups_with(&db, &b), in_b);
    let b_location = in_b[0]["location"].as_str().unwrap();
    run_with_env(&db, &a, &["restore", b_location, "--force"]).code(5);
    run_with_env(&db, &b, &["restore", "--force"]).success();
    assert_eq!(db.count("app_b.tenants"), 1);
}

tests![
    needs::SERVER => [
        reset_then_restore_brings_back_every_row_and_attachment,
        the_api_role_cannot_read_a_backup,
        a_publication_leaves_the_backup_and_carries_the_restored_tables_again,
        a_killed_reset_leaves_the_old_state_or_the_new_one_with_a_whole_backup,
        retention_keeps_exactly_n_and_no_backup_keeps_none,
        a_schema_or_file_facedb_did_not_record_is_refused,
        restore_into_a_protected_database_needs_allow_production,
        two_schemas_keep_separate_backups,
    ],
];
