//! The reset prompt, answered in a real pseudo-terminal.

mod support;

use std::time::Duration;

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_command, PtySession};
use support::TestDb;

fn reset_in_a_terminal(db: &TestDb) -> PtySession {
    let mut cmd = db.std_facedb();
    cmd.arg("reset");
    spawn_command(cmd, Some(30_000)).expect("spawn facedb in a pty")
}

fn exit_code(session: &mut PtySession) -> i32 {
    let rest = session.exp_eof().expect("facedb ends");
    support::secrets::assert_hidden("terminal", &rest);
    match session.process().wait().expect("wait") {
        WaitStatus::Exited(_, code) => code,
        other => panic!("facedb did not exit normally: {other:?}"),
    }
}

/// Waits for `prompt`, then a moment more: the prompt switches the terminal to raw mode after
/// printing, and that switch discards keys typed before it.
fn wait_for(session: &mut PtySession, prompt: &str) {
    let before = session.exp_string(prompt).unwrap();
    support::secrets::assert_hidden("terminal", &before);
    std::thread::sleep(Duration::from_millis(500));
}

fn add_tenant(db: &TestDb) {
    db.exec("INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'One')");
}

#[test]
fn a_database_with_only_the_seed_asks_yes_or_no_defaulting_to_no() {
    for db in TestDb::each() {
        db.init();
        let admin = db.connect().strings("SELECT user_id AS v FROM users");

        let mut session = reset_in_a_terminal(&db);
        session.exp_string("users").unwrap();
        wait_for(&mut session, "[y/N]");
        session.send("\r").unwrap(); // Enter takes the default: No
        session.flush().unwrap();
        assert_eq!(exit_code(&mut session), 4, "{:?}", db.backend);
        assert_eq!(
            db.connect().strings("SELECT user_id AS v FROM users"),
            admin
        );

        let mut session = reset_in_a_terminal(&db);
        wait_for(&mut session, "[y/N]");
        session.send("y").unwrap();
        session.flush().unwrap();
        assert_eq!(exit_code(&mut session), 0, "{:?}", db.backend);
        assert_ne!(
            db.connect().strings("SELECT user_id AS v FROM users"),
            admin,
            "the admin was seeded anew"
        );
    }
}

#[test]
fn a_database_with_data_wants_its_name_typed() {
    for db in TestDb::each() {
        db.init();
        add_tenant(&db);

        let mut session = reset_in_a_terminal(&db);
        session.exp_string("tenants").unwrap();
        wait_for(&mut session, "Type the database name");
        session.send_line("y").unwrap();
        assert_eq!(
            exit_code(&mut session),
            4,
            "{:?}: a plain yes is not enough",
            db.backend
        );
        assert_eq!(db.count("tenants"), 1);

        let mut session = reset_in_a_terminal(&db);
        wait_for(&mut session, "Type the database name");
        session.send_line(&db.name).unwrap();
        assert_eq!(exit_code(&mut session), 0, "{:?}", db.backend);
        assert_eq!(db.count("tenants"), 0);
    }
}

#[test]
fn ctrl_c_at_the_prompt_cancels_and_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        add_tenant(&db);
        let mut session = reset_in_a_terminal(&db);
        wait_for(&mut session, "Type the database name");
        session.send_control('c').unwrap();
        let rest = session.exp_eof().unwrap();
        support::secrets::assert_hidden("terminal", &rest);
        let status = session.process().wait().unwrap();
        assert!(
            !matches!(status, WaitStatus::Exited(_, 0)),
            "{:?}: Ctrl-C must not reset ({status:?})",
            db.backend
        );
        assert_eq!(db.count("tenants"), 1);
    }
}
