//! Big tables: what `reset` shows before dropping must not read them. Beyond 100,000 rows (by the
//! planner's estimate) facedb shows the estimate instead of counting. Timing belongs to
//! `scripts/bench`; this checks the behaviour, on PostgreSQL, with 200,000 visits.

use crate::support;

use std::time::{Duration, Instant};

use support::data::{add_data, add_visits};
use support::TestDb;

const VISITS: u64 = 200_000;

/// How many times `visits` was scanned, sequentially or by an index.
fn scans_of_visits(db: &TestDb) -> i64 {
    db.connect().i64(
        "SELECT seq_scan + coalesce(idx_scan, 0) AS v FROM pg_stat_user_tables WHERE relname = 'visits'",
    )
}

/// Waits until facedb's server session is gone: its statistics are flushed when it ends.
fn wait_for_facedb_to_leave(db: &TestDb) {
    let sql = format!(
        "SELECT count(*) AS v FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'facedb'",
        db.name
    );
    let mut conn = db.connect();
    let started = Instant::now();
    while conn.i64(&sql) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "facedb's session lingers"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The scans of `visits` once the statistics of a run have arrived, or `before` if none came
/// within `patience`.
fn scans_after(db: &TestDb, before: i64, patience: Duration) -> i64 {
    wait_for_facedb_to_leave(db);
    let started = Instant::now();
    loop {
        let now = scans_of_visits(db);
        if now != before || started.elapsed() > patience {
            return now;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn reset_estimates_a_big_table_instead_of_reading_it() {
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    add_visits(&db, VISITS);
    // No autovacuum: the test decides when the planner learns the table's size.
    // The view makes each reset stop (exit 5) after counting, before dropping anything.
    db.exec(
        "ALTER TABLE visits SET (autovacuum_enabled = false);
         CREATE VIEW tenant_names AS SELECT name FROM tenants;",
    );

    // Never analysed, the table's size is unknown: facedb counts it, and the statistics show
    // that scan. This proves the measurement can see a count.
    let before = scans_of_visits(&db);
    db.run(&["fresh", "--force"]).code(5);
    let after = scans_after(&db, before, Duration::from_secs(10));
    assert!(
        after > before,
        "an unanalysed table is counted ({before} -> {after})"
    );

    // Analysed, it is big: facedb takes the estimate and does not read it.
    db.exec("ANALYZE visits");
    let before = scans_of_visits(&db);
    db.run(&["fresh", "--force"]).code(5);
    let after = scans_after(&db, before, Duration::from_secs(2));
    assert_eq!(
        after, before,
        "a big analysed table is not read before the drop"
    );

    db.exec("DROP VIEW tenant_names");
    let out = db.run(&["fresh", "--force", "--json"]).success();
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let dropped = report["dropped"].as_array().expect("dropped is a list");
    let table = |name: &str| {
        dropped
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} in {report}"))
    };
    let visits = table("visits");
    assert_eq!(visits["estimated"], true, "{visits}");
    let rows = visits["rows"].as_i64().expect("rows is a number");
    assert!(
        (150_000..=250_000).contains(&rows),
        "the estimate is near {VISITS}: {rows}"
    );
    assert_eq!(table("tenants")["estimated"], false);
    assert_eq!(table("tenants")["rows"], 1);
    assert_eq!(db.count("visits"), 0);
}

tests![
    needs::SERVER => [
        reset_estimates_a_big_table_instead_of_reading_it,
    ],
];
