//! The reset prompt, answered in a real pseudo-terminal.

use crate::support;

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
        session.exp_string("tenant t-1 (One): no rows").unwrap();
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

/// Waits for `text`, keeping what the terminal showed up to it in `screen`.
fn expect(session: &mut PtySession, screen: &mut String, text: &str) {
    *screen += &session.exp_string(text).unwrap();
    *screen += text;
}

/// Waits for `prompt` (see `wait_for`), then types `text` and Enter.
fn answer(session: &mut PtySession, screen: &mut String, prompt: &str, text: &str) {
    expect(session, screen, prompt);
    std::thread::sleep(Duration::from_millis(500));
    session.send_line(text).unwrap();
    session.flush().unwrap();
}

#[test]
fn user_create_asks_for_every_value_and_the_password_twice() {
    for db in TestDb::each() {
        db.init();
        let mut cmd = db.std_facedb();
        cmd.args(["user", "create"]);
        let mut session = spawn_command(cmd, Some(30_000)).expect("spawn facedb in a pty");
        // Everything the terminal showed, to check that no password was echoed.
        let mut screen = String::new();
        answer(&mut session, &mut screen, "Username", "carol");
        answer(&mut session, &mut screen, "Email", "carol@example.com");
        answer(&mut session, &mut screen, "First name", "Carol");
        answer(&mut session, &mut screen, "Last name", "Shaw");
        answer(&mut session, &mut screen, "Password", "first try");
        answer(
            &mut session,
            &mut screen,
            "Repeat the password",
            "second try",
        );
        expect(&mut session, &mut screen, "the passwords differ");
        answer(&mut session, &mut screen, "Password", "");
        expect(&mut session, &mut screen, "the password must not be empty");
        answer(&mut session, &mut screen, "Password", "s3cret pass");
        answer(
            &mut session,
            &mut screen,
            "Repeat the password",
            "s3cret pass",
        );
        expect(&mut session, &mut screen, "created user 'carol'");
        screen += &session.exp_eof().unwrap();
        assert!(
            screen.contains("carol@example.com"),
            "answers are shown:\n{screen}"
        );
        for secret in ["first try", "second try", "s3cret"] {
            assert!(!screen.contains(secret), "{secret:?} echoed:\n{screen}");
        }
        let status = session.process().wait().unwrap();
        assert!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "{:?}: {status:?}",
            db.backend
        );

        let row = db.connect().strings(
            "SELECT email || '|' || first_name || '|' || last_name || '|' || role AS v FROM users WHERE username = 'carol'",
        );
        assert_eq!(
            row,
            ["carol@example.com|Carol|Shaw|SYSTEM_ADMIN"],
            "{:?}",
            db.backend
        );
        let hash = db
            .connect()
            .strings("SELECT password_hash AS v FROM users WHERE username = 'carol'")
            .remove(0);
        assert!(facedb::password::verify("s3cret pass", &hash));
    }
}
