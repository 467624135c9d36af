//! SQLite keeps no dependency graph and drops a table under a view or a trigger without a word:
//! `rollback`, `reset` and `fresh` read every view and trigger in the file and refuse (exit 5,
//! naming them) when one they do not own names one of facedb's tables, as on PostgreSQL.

use crate::support;

use support::data::add_data;
use support::TestDb;

/// Every object of the file with its SQL, and the rows of every table: what must survive a
/// refusal unchanged.
fn everything(db: &TestDb) -> (Vec<String>, Vec<(String, i64)>) {
    let mut conn = db.connect();
    let objects = conn.strings(
        "SELECT type || ' ' || name || ' on ' || tbl_name || ': ' || coalesce(sql, '-') AS v \
         FROM sqlite_master ORDER BY type, name",
    );
    let tables = conn.strings(
        "SELECT name AS v FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name",
    );
    let rows = tables
        .into_iter()
        .map(|t| {
            let rows = conn.i64(&format!("SELECT count(*) AS v FROM \"{t}\""));
            (t, rows)
        })
        .collect();
    (objects, rows)
}

/// Each command that drops facedb's tables, with its dry run first.
const COMMANDS: [&[&str]; 6] = [
    &["rollback", "--dry-run"],
    &["rollback", "--force"],
    &["reset", "--dry-run"],
    &["reset", "--force"],
    &["fresh", "--dry-run"],
    &["fresh", "--force"],
];

/// Each command refuses with exit 5, naming `dependent`, and leaves every object and row as it
/// was.
fn every_command_refuses(db: &TestDb, dependent: &str) {
    let before = everything(db);
    for args in COMMANDS {
        let out = db.run(args).code(5);
        assert!(
            out.stderr.contains(dependent) && out.stderr.lines().count() == 1,
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(everything(db), before, "{args:?} changed the file");
    }
}

fn a_view_on_facedbs_bookkeeping_stops_rollback_and_reset() {
    let db = TestDb::sqlite();
    db.init();
    add_data(&db);
    // Quoted and in another case, as SQLite takes it.
    db.exec(
        "CREATE VIEW deployment AS SELECT key, value FROM \"__FACEDB_Metadata\" WHERE key = 'environment';",
    );
    every_command_refuses(&db, "view deployment depends on table __facedb_metadata");
    assert_eq!(
        db.connect().strings("SELECT value AS v FROM deployment"),
        ["dev"]
    );
}

fn another_applications_trigger_writing_into_facedbs_table_stops_rollback_and_reset() {
    let db = TestDb::sqlite();
    db.init();
    add_data(&db);
    db.exec(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant TEXT NOT NULL);
         CREATE TRIGGER [Order Visit] AFTER INSERT ON orders BEGIN
             INSERT INTO `Visits` (tenant_id, visit_id, person_id, person_type, site_id, camera_id, confidence_score)
             VALUES (NEW.tenant, 'order-' || NEW.id, 1, 'customer', 1, 1, 0.5);
         END;",
    );
    every_command_refuses(
        &db,
        "trigger Order Visit on table orders depends on table visits",
    );
    // The other application still works: its insert fires the trigger into facedb's table.
    let visits = db.count("visits");
    db.exec("INSERT INTO orders (tenant) VALUES ('t-1')");
    assert_eq!(db.count("visits"), visits + 1);
}

fn a_trigger_on_facedbs_own_table_is_carried_over_not_a_dependent() {
    let db = TestDb::sqlite();
    db.init();
    add_data(&db);
    db.exec(
        "CREATE TABLE audit (what TEXT);
         CREATE TRIGGER visits_audit AFTER INSERT ON visits BEGIN
             INSERT INTO audit (what) SELECT 'visit ' || NEW.visit_id FROM tenants WHERE tenant_id = NEW.tenant_id;
         END;",
    );
    db.run(&["reset", "--dry-run"])
        .success()
        .stdout_has("trigger visits_audit on table visits");
    db.run(&["rollback", "--dry-run"]).success();
    db.run(&["fresh", "--force"]).success();
    assert_eq!(
        db.connect()
            .strings("SELECT name AS v FROM sqlite_master WHERE type = 'trigger'"),
        ["visits_audit"]
    );
    // Every migration rolled back, the newest first: the tables go, and the trigger with them.
    for _ in 0..support::migration_count() {
        db.run(&["rollback", "--force"]).success();
    }
    assert_eq!(db.facedb_tables(), 0);
    assert_eq!(db.count("audit"), 0);
}

tests![
    needs::NOTHING => [
        a_view_on_facedbs_bookkeeping_stops_rollback_and_reset,
        another_applications_trigger_writing_into_facedbs_table_stops_rollback_and_reset,
        a_trigger_on_facedbs_own_table_is_carried_over_not_a_dependent,
    ],
];
