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
    }
}

fn yes_takes_enter_and_nothing_typed_reaches_the_shell() {
    for db in TestDb::each() {
        db.init();
        let admin = db.connect().strings("SELECT user_id AS v FROM users");
        let mut shell = Shell::run(&db, &["reset"]);
        wait_for(&mut shell.session, "[y/N]");
        shell.session.send("y").unwrap();
        shell.session.flush().unwrap();
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(
            db.connect().strings("SELECT user_id AS v FROM users"),
            admin,
            "{:?}: a single key does nothing",
            db.backend
        );
        shell.session.send_line("es").unwrap();
        let after = shell.finish();
        assert_eq!(after.code, 0, "{:?}: {}", db.backend, after.screen);
        assert_eq!(after.unread, "", "{:?}: typed keys left over", db.backend);
        assert_ne!(
            db.connect().strings("SELECT user_id AS v FROM users"),
            admin,
            "the admin was seeded anew"
        );
    }
}

fn a_mistyped_name_says_it_differs_and_changes_nothing() {
    for db in TestDb::each() {
        db.init();
        add_tenant(&db);
        let mut shell = Shell::run(&db, &["reset"]);
        wait_for(&mut shell.session, "Type the database name");
        shell.session.send_line("facedb_tset").unwrap();
        let after = shell.finish();
        assert_eq!(after.code, 4, "{:?}", db.backend);
        assert!(
            after.screen.contains(&format!(
                "'facedb_tset' is not the database name '{}'",
                db.name
            )) && after.screen.contains("was not changed"),
            "{:?}: {}",
            db.backend,
            after.screen
        );
        assert_eq!(db.count("tenants"), 1);
    }
}

fn ctrl_c_at_each_prompt_restores_the_terminal_and_exits_4() {
    for db in TestDb::each() {
        db.init();
        let yes_no = (vec!["reset"], "[y/N]");
        let typed_name = (vec!["reset"], "Type the database name");
        let hidden = (
            vec![
                "user",
                "create",
                "--username",
                "carol",
                "--email",
                "carol@example.com",
                "--first-name",
                "Carol",
                "--last-name",
                "Shaw",
            ],
            "Password",
        );
        let hidden_again = (vec!["user", "reset-password", "admin"], "New password");
        for (index, (args, prompt)) in [yes_no, typed_name, hidden, hidden_again]
            .into_iter()
            .enumerate()
        {
            if index == 1 {
                add_tenant(&db); // more than the seed: the name must be typed
            }
            let hash = db
                .connect()
                .strings("SELECT password_hash AS v FROM users WHERE username = 'admin'");
            let mut shell = Shell::run(&db, &args);
            wait_for(&mut shell.session, prompt);
            shell.session.send("half typed").unwrap();
            shell.session.send_control('c').unwrap();
            let after = shell.finish();
            let context = format!("{:?} at {prompt:?}: {}", db.backend, after.screen);
            assert_eq!(after.code, 4, "{context}");
            assert!(
                after
                    .screen
                    .contains("error: cancelled at the prompt; nothing was changed"),
                "{context}"
            );
            assert!(after.echo_on, "{context}: echo left off");
            assert!(
                !after.screen.contains("\x1b[?25l"),
                "{context}: cursor hidden"
            );
            assert_eq!(after.unread, "", "{context}");
            assert_eq!(db.count("users"), 1, "{context}");
            assert_eq!(
                db.connect()
                    .strings("SELECT password_hash AS v FROM users WHERE username = 'admin'"),
                hash,
                "{context}"
            );
        }
        assert_eq!(db.count("tenants"), 1);
    }
}

fn reset_with_stderr_in_a_file_says_it_needs_a_terminal() {
    for db in TestDb::each() {
        db.init();
        let shell = Shell::run(&db, &["reset", "2>reset.err"]);
        let after = shell.finish();
        assert_eq!(after.code, 4, "{:?}: {}", db.backend, after.screen);
        let written = std::fs::read_to_string(db.dir().join("reset.err")).unwrap();
        assert!(
            written.contains("the question needs a terminal, and stderr is not a terminal")
                && written.contains("--force"),
            "{written}"
        );
        assert!(!written.contains('\x1b'), "escape sequences: {written:?}");
        assert_eq!(db.count("users"), 1);
    }
}

/// `facedb ARGS` started by a shell in a pseudo-terminal (ARGS may end with a redirection). After
/// facedb, the shell shows its exit code and the terminal's settings, then echoes the next line
/// typed: keys facedb left unread would come first on it.
struct Shell {
    session: PtySession,
}

/// What the terminal showed once facedb had ended.
struct After {
    code: i32,
    /// Whether the terminal echoes again (`stty -a` lists `echo`, not `-echo`).
    echo_on: bool,
    /// What was left in the terminal's input for the next program.
    unread: String,
    /// Everything facedb and the shell printed.
    screen: String,
}

impl Shell {
    fn run(db: &TestDb, args: &[&str]) -> Shell {
        let facedb = db.std_facedb();
        let mut cmd = std::process::Command::new("sh");
        for (name, value) in facedb.get_envs() {
            match value {
                Some(value) => cmd.env(name, value),
                None => cmd.env_remove(name),
            };
        }
        cmd.current_dir(facedb.get_current_dir().expect("tests set a folder"));
        let script = format!(
            // The terminal echoes, as a person's does (rexpect starts it with echo off), and the
            // shell catches Ctrl-C (facedb, started from it, does not) to outlive facedb.
            "stty echo; trap : INT; '{}' {}; echo \"exit=$?\"; stty -a; echo ready; IFS= read -r rest; echo \"unread=[$rest]\"",
            facedb.get_program().to_str().unwrap(),
            args.join(" ")
        );
        cmd.args(["-c", &script]);
        Shell {
            session: spawn_command(cmd, Some(30_000)).expect("spawn a shell in a pty"),
        }
    }

    fn finish(mut self) -> After {
        let (mut screen, code) = self.session.exp_regex(r"exit=\d+").unwrap();
        let code = code.trim_start_matches("exit=").parse().unwrap();
        let settings = self.session.exp_string("ready").unwrap();
        // Only now: facedb is gone, whatever is typed goes to the shell's `read`.
        self.session.send_line("").unwrap();
        let (_, unread) = self.session.exp_regex(r"unread=\[.*\]").unwrap();
        let _ = self.session.exp_eof();
        support::secrets::assert_hidden("terminal", &screen);
        screen += &settings;
        After {
            code,
            echo_on: settings.split_whitespace().any(|flag| flag == "echo"),
            unread: unread
                .trim_start_matches("unread=[")
                .trim_end_matches(']')
                .to_owned(),
            screen,
        }
    }
}

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
        expect(&mut session, &mut screen, "the password is empty");
        answer(&mut session, &mut screen, "Password", "short");
        expect(&mut session, &mut screen, "at least 8 characters");
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
        assert!(facedb::verify_password("s3cret pass", &hash));
    }
}

tests![
    needs::SERVER => [
        a_database_with_only_the_seed_asks_yes_or_no_defaulting_to_no,
        yes_takes_enter_and_nothing_typed_reaches_the_shell,
        a_mistyped_name_says_it_differs_and_changes_nothing,
        ctrl_c_at_each_prompt_restores_the_terminal_and_exits_4,
        reset_with_stderr_in_a_file_says_it_needs_a_terminal,
        a_database_with_data_wants_its_name_typed,
        user_create_asks_for_every_value_and_the_password_twice,
    ],
];
