//! The library as an API calls it: `facedb::init`, `check`, `status`, `rollback` and `reset` on a
//! database named by URL, with the outcome read from the report.

use crate::support;

use diesel::prelude::*;
use diesel::SqliteConnection;
use facedb::schema::users;
use facedb::{ExitCode, Settings};
use support::TestDb;

fn user_names(path: &std::path::Path) -> Vec<String> {
    let conn = &mut SqliteConnection::establish(&path.display().to_string()).unwrap();
    users::table
        .select(users::username)
        .order(users::username)
        .load(conn)
        .unwrap()
}

fn init_check_status_rollback_and_reset_through_the_library() {
    let db = TestDb::sqlite();
    let settings = Settings::for_url(db.url()).unwrap();

    let first = facedb::init(&settings).unwrap();
    // The outcome's fields read through the report as well as through `outcome`.
    assert!(!first.up_to_date && !first.outcome.up_to_date);
    assert_eq!(first.command, "init");
    assert_eq!(user_names(&db.sqlite_path()), ["admin"]);
    assert!(facedb::init(&settings).unwrap().up_to_date);

    let check = facedb::check(&settings).unwrap();
    assert!(check.matches, "{check}");
    assert_eq!(check.exit_code(), ExitCode::Success);
    let status = facedb::status(&settings).unwrap();
    assert!(status.migrations.pending.is_empty(), "{status}");
    assert_eq!(status.exit_code(), ExitCode::Success);

    let rolled_back = facedb::rollback(&settings, None).unwrap();
    assert_eq!(rolled_back.reverted.len(), 1, "{rolled_back}");
    let status = facedb::status(&settings).unwrap();
    assert_eq!(status.migrations.pending.len(), 1, "{status}");
    assert_ne!(status.exit_code(), ExitCode::Success);

    facedb::init(&settings).unwrap();
    let reset = facedb::reset(&settings).unwrap();
    assert_eq!(reset.command, "reset");
    assert_eq!(user_names(&db.sqlite_path()), ["admin"]);
    assert!(facedb::check(&settings).unwrap().matches);
}

tests![
    needs::NOTHING => [init_check_status_rollback_and_reset_through_the_library],
];
