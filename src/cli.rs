//! The command line: clap definitions, dispatch, and how results and errors are printed.
//! Progress and prompts go to stderr; the result (one line, or one JSON document with `--json`)
//! to stdout.

use std::ffi::OsString;
use std::io::IsTerminal;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use serde::Serialize;

use crate::commands::user;
/// The roles `--role` takes.
pub use crate::commands::user::Role;
use crate::commands::{backups, restore};
use crate::commands::{check, completions, fresh, init, reset, rollback, sql, status};
use crate::commands::{Outcome, Report};
use crate::config::options::{ConnectOptions, DatabaseOptions, TargetOptions, WriteOptions};
use crate::config::Settings;
use crate::error::{Error, ExitCode, Result};
use crate::progress::{printable_lines, say, Progress};

/// Creates, migrates, seeds and resets the face-recognition system's database.
#[derive(Debug, Parser)]
#[command(
    name = "facedb",
    version,
    about,
    propagate_version = true,
    after_help = "Each command lists the options it takes: `facedb COMMAND --help`. \
                  They may also come before the command (`facedb --database-url URL init`)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// One command's options: its own, the database options it reads (see `config::options`), and
/// what it prints. Each group is flattened, so that a command's `--help` lists only what it reads
/// and anything else is a usage error.
#[derive(Debug, Args)]
pub struct Invocation<A: Args, D: Args, O: Args = OutputArgs> {
    #[command(flatten)]
    pub args: A,
    #[command(flatten)]
    pub database: D,
    #[command(flatten)]
    pub output: O,
}

/// `--json`: every command that prints a result.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output options")]
pub struct JsonArgs {
    /// Print the result as one JSON document on stdout.
    #[arg(long)]
    pub json: bool,
}

/// What a command that reports progress prints.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Output options")]
pub struct OutputArgs {
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,

    #[command(flatten)]
    pub json: JsonArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if missing, apply the schema, seed the system admin. Safe to repeat.
    Init(Invocation<init::Args, WriteOptions>),
    /// Drop everything facedb owns and set it up again, after showing what will be lost and asking.
    Reset(Invocation<reset::Args, WriteOptions>),
    /// Reset without asking (requires --force): for CI scripts and Makefiles.
    Fresh(Invocation<fresh::Args, WriteOptions>),
    /// List the backups that resets and restores kept (`backups prune` drops old ones).
    Backups(BackupsCommand),
    /// Put a backup back (the newest unless ID names one); what it replaces becomes a backup.
    Restore(Invocation<restore::Args, ConnectOptions>),
    /// Revert the newest applied migration (or down to --to) with its down.sql, after showing it and asking.
    Rollback(Invocation<rollback::Args, ConnectOptions>),
    /// Compare the live schema with the contract and list every difference (exit 5 if any).
    Check(Invocation<check::Args, ConnectOptions>),
    /// Show the target, server, migrations, tables with row counts and the admin (exit 5 if not up to date).
    Status(Invocation<status::Args, ConnectOptions>),
    /// Create users, set passwords, list users (never creates the database).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Print the SQL that init applies, for running by hand (never connects).
    Sql(Invocation<sql::Args, TargetOptions, JsonArgs>),
    /// Print a shell completion script (e.g. `facedb completions bash > /etc/bash_completion.d/facedb`).
    Completions(completions::Args),
}

/// `facedb backups`, or with `prune`, dropping old ones.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupsCommand {
    #[command(subcommand)]
    pub prune: Option<BackupsAction>,
    #[command(flatten)]
    pub list: Invocation<backups::Args, ConnectOptions>,
}

#[derive(Debug, Subcommand)]
pub enum BackupsAction {
    /// Drop all but the newest N backups (--keep), after showing which and asking.
    Prune(Invocation<backups::PruneArgs, ConnectOptions>),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (a system admin unless --role says otherwise); asks for what the flags leave out.
    Create(Invocation<user::create::Args, WriteOptions>),
    /// Set a new password for a user.
    ResetPassword(Invocation<user::reset_password::Args, WriteOptions>),
    /// List the users: username, email, name, role, tenant, active, last login.
    List(Invocation<user::list::Args, ConnectOptions>),
}

impl<A: Args, D: Args + DatabaseOptions> Invocation<A, D> {
    /// Runs a command on the configured database: prints its report (text, or JSON with
    /// `--json`), and a dry run's predicted refusal as an error line. The exit code is the
    /// report's: `check` and `status` print whatever they find, and it says whether all is well.
    fn run<T: Outcome>(
        &self,
        command: impl FnOnce(&Settings, &A, &Progress) -> Result<Report<T>>,
    ) -> Result<ExitCode> {
        let progress = self.output.progress();
        let report = command(&Settings::resolve(&self.database)?, &self.args, &progress)?;
        // A Ctrl-C that cancelled the command's last wait (a commit waiting for a synchronous
        // standby returns once cancelled) is stopping facedb with what became of the work: that
        // is the outcome to print, not this report.
        crate::prompt::unless_interrupted();
        self.output.emit(&progress, &report)?;
        if let Some(refusal) = report.refusal() {
            say(format_args!("error: {}", printable_lines(&refusal)));
        }
        Ok(report.exit_code())
    }
}

impl<A: Args> Invocation<A, TargetOptions, JsonArgs> {
    /// Runs a command that never connects (`sql`). Its output is the product: there is no
    /// --quiet to hide it.
    fn run<T: Outcome>(
        &self,
        command: impl FnOnce(&TargetOptions, &A) -> Result<Report<T>>,
    ) -> Result<ExitCode> {
        print_result(self.output.json, &command(&self.database, &self.args)?)?;
        Ok(ExitCode::Success)
    }
}

impl OutputArgs {
    fn progress(&self) -> Progress {
        Progress::new(self.quiet)
    }

    /// Prints a command's result: its text, or its JSON document with `--json`.
    fn emit(
        &self,
        progress: &Progress,
        report: &(impl Serialize + std::fmt::Display),
    ) -> Result<()> {
        progress.finish();
        if self.quiet && !self.json.json {
            return Ok(());
        }
        if self.json.json {
            print_result(true, report)
        } else {
            // Names and values from the database or a user are shown, never obeyed.
            write_stdout(&format!("{}\n", printable_lines(&report.to_string())))
        }
    }
}

impl Cli {
    /// Whether the command line asked for JSON (errors are then printed as JSON too).
    pub fn json(&self) -> bool {
        match &self.command {
            Command::Init(command) => command.output.json.json,
            Command::Reset(command) => command.output.json.json,
            Command::Fresh(command) => command.output.json.json,
            Command::Backups(command) => match &command.prune {
                Some(BackupsAction::Prune(command)) => command.output.json.json,
                None => command.list.output.json.json,
            },
            Command::Restore(command) => command.output.json.json,
            Command::Rollback(command) => command.output.json.json,
            Command::Check(command) => command.output.json.json,
            Command::Status(command) => command.output.json.json,
            Command::User { command } => match command {
                UserCommand::Create(command) => command.output.json.json,
                UserCommand::ResetPassword(command) => command.output.json.json,
                UserCommand::List(command) => command.output.json.json,
            },
            Command::Sql(command) => command.output.json,
            Command::Completions(_) => false,
        }
    }
}

/// Parses the process's command line. A usage error exits 2 with clap's message on stderr and,
/// when `--json` was given, the `{"error": …}` document on stdout too; `--help` and `--version`
/// print and exit 0, or 1 when stdout cannot take them (a full disk).
pub fn parse() -> Cli {
    try_parse_from(std::env::args_os().collect()).unwrap_or_else(|error| {
        if !error.use_stderr() {
            let rendered = error.render();
            let text = if std::io::stdout().is_terminal() {
                rendered.ansi().to_string()
            } else {
                rendered.to_string()
            };
            let code = match write_stdout(&text) {
                Ok(()) => ExitCode::Success,
                Err(error) => {
                    print_error(&error, false);
                    error.exit_code()
                }
            };
            std::process::exit(code.into());
        }
        if std::env::args_os().any(|arg| arg == "--json") {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let message = first.strip_prefix("error: ").unwrap_or(first);
            print_json_error(ExitCode::Usage, message);
        }
        error.exit()
    })
}

/// Parses `args` with the options that came before the command moved after it. clap's definition
/// is built once: building it is most of what a quick command spends before it connects.
fn try_parse_from(args: Vec<OsString>) -> std::result::Result<Cli, clap::Error> {
    let mut command = Cli::command();
    let args = options_after_command(&command, args);
    let mut matches = command.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches_mut(&mut matches).map_err(|error| error.format(&mut command))
}

/// Moves the options written before the command to just after it, where the command's own
/// definition reads them: `facedb --database-url X user list` is `facedb user list --database-url X`.
/// An option the command does not take is then clap's usage error, as anywhere else.
fn options_after_command(cli: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let shared = with_shared_options(clap::Command::new("shared"));
    // The option a word names, and whether it takes the next word as its value.
    let option = |word: &str| -> Option<bool> {
        let (name, inline_value) = match word.split_once('=') {
            Some((name, _)) => (name, true),
            None => (word, false),
        };
        shared
            .get_arguments()
            .find(|arg| {
                arg.get_long()
                    .is_some_and(|long| name.strip_prefix("--") == Some(long))
                    || arg
                        .get_short()
                        .is_some_and(|short| name == format!("-{short}"))
            })
            .map(|arg| arg.get_action().takes_values() && !inline_value)
    };
    let mut args = args.into_iter().peekable();
    let mut reordered: Vec<OsString> = args.next().into_iter().collect();
    let mut moved = Vec::new();
    let mut command = cli;
    while let Some(word) = args.peek().and_then(|arg| arg.to_str()).map(str::to_owned) {
        if let Some(takes_value) = option(&word) {
            moved.extend(args.next());
            if takes_value {
                moved.extend(args.next());
            }
        } else if let Some(sub) = command.find_subcommand(&word) {
            reordered.extend(args.next());
            command = sub;
        } else {
            break;
        }
    }
    reordered.extend(moved);
    reordered.extend(args);
    reordered
}

/// `command` with the options that may come before a command (the database and output options).
fn with_shared_options(command: clap::Command) -> clap::Command {
    WriteOptions::augment_args(OutputArgs::augment_args(command))
}

/// Runs a parsed command line and returns the exit code of a run that did not fail.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match &cli.command {
        Command::Init(command) => command.run(init::run),
        Command::Reset(command) if command.args.options.dry_run => command.run(reset::dry_run),
        Command::Reset(command) => command.run(reset::run),
        Command::Fresh(command) if command.args.options.dry_run => command.run(fresh::dry_run),
        Command::Fresh(command) => command.run(fresh::run),
        Command::Backups(command) => match &command.prune {
            Some(BackupsAction::Prune(command)) => command.run(backups::prune),
            None => command.list.run(backups::run),
        },
        Command::Restore(command) => command.run(restore::run),
        Command::Rollback(command) => command.run(rollback::run),
        Command::Check(command) => command.run(check::run),
        Command::Status(command) => command.run(status::run),
        Command::User { command } => match command {
            UserCommand::Create(command) => command.run(user::create::run),
            UserCommand::ResetPassword(command) => command.run(user::reset_password::run),
            UserCommand::List(command) => command.run(user::list::run),
        },
        Command::Sql(command) => command.run(sql::run),
        // `facedb <TAB>` offers the options that may come before the command too.
        Command::Completions(args) => {
            print_script(&completions::run(args, with_shared_options(Cli::command())))
        }
    }
}

/// Prints a completion script as it is: it has no JSON form, and nothing to be quiet about.
fn print_script(script: &str) -> Result<ExitCode> {
    write_stdout(script)?;
    Ok(ExitCode::Success)
}

fn print_result(json: bool, report: &(impl Serialize + std::fmt::Display)) -> Result<()> {
    let text = if json {
        serde_json::to_string_pretty(report).expect("reports serialize")
    } else {
        report.to_string()
    };
    write_stdout(&format!("{text}\n"))
}

/// Writes to stdout. A reader that went away (`facedb sql | head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Io {
            context: "cannot write to stdout".to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Prints a failure: `error: …` on stderr and, with `--json`, `{"error": …}` on stdout.
pub fn print_error(error: &Error, json: bool) {
    crate::prompt::unless_interrupted();
    say(format_args!(
        "error: {}",
        printable_lines(&error.to_string())
    ));
    if json {
        print_json_error(error.exit_code(), &error.to_string());
    }
}

fn print_json_error(code: ExitCode, message: &str) {
    let document = serde_json::json!({
        "error": { "exit_code": i32::from(code), "message": message }
    });
    let _ = write_stdout(&format!(
        "{}\n",
        serde_json::to_string_pretty(&document).expect("errors serialize")
    ));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn parse(args: &[&str]) -> std::result::Result<Cli, clap::Error> {
        try_parse_from(args.iter().map(OsString::from).collect())
    }

    /// The flag a reset's refusal names (see `carry`) is the one reset and fresh take.
    #[test]
    fn the_flag_the_messages_name_is_the_one_reset_takes() {
        use crate::carry::ACCEPT_LOSS_FLAG;
        for command in ["reset", "fresh"] {
            let cli = Cli::try_parse_from(["facedb", command, "--force", ACCEPT_LOSS_FLAG]);
            assert!(cli.is_ok(), "{command} {ACCEPT_LOSS_FLAG}");
        }
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn reset_force_has_its_aliases() {
        for flag in ["--force", "--yes", "-y"] {
            let cli = parse(&["facedb", "reset", flag]).unwrap();
            assert!(
                matches!(
                    cli.command,
                    Command::Reset(Invocation {
                        args: reset::Args { force: true, .. },
                        ..
                    })
                ),
                "{flag}"
            );
        }
    }

    #[test]
    fn options_go_before_or_after_the_command() {
        for args in [
            &["facedb", "--database-url", "x.db", "--json", "user", "list"][..],
            &["facedb", "--database-url=x.db", "user", "--json", "list"],
            &["facedb", "user", "list", "--json", "--database-url", "x.db"],
        ] {
            let cli = parse(args).unwrap();
            let Command::User {
                command:
                    UserCommand::List(Invocation {
                        database, output, ..
                    }),
            } = &cli.command
            else {
                panic!("{args:?}: {cli:?}");
            };
            assert_eq!(database.target.database_url.as_deref(), Some("x.db"));
            assert!(output.json.json && cli.json(), "{args:?}");
        }
        let cli = parse(&[
            "facedb",
            "-q",
            "--lock-timeout",
            "5s",
            "init",
            "--wait",
            "1s",
        ])
        .unwrap();
        let Command::Init(Invocation {
            database, output, ..
        }) = &cli.command
        else {
            panic!("{cli:?}");
        };
        assert!(output.quiet);
        assert_eq!(database.connect.lock_timeout, Some(Duration::from_secs(5)));
        assert_eq!(database.connect.wait, Some(Duration::from_secs(1)));
    }

    #[test]
    fn an_option_a_command_does_not_read_is_a_usage_error() {
        for args in [
            &["facedb", "--password-hash", "bcrypt", "status"][..],
            &["facedb", "status", "--password-hash", "bcrypt"],
            &["facedb", "sql", "--wait", "1s"],
            &["facedb", "sql", "--quiet"],
            &["facedb", "--json", "completions", "bash"],
            &["facedb", "user", "list", "--password-hash", "bcrypt"],
            &["facedb", "sql", "--lock-timeout", "1s"],
            &["facedb", "rollback", "--password-hash", "bcrypt"],
        ] {
            let error = parse(args).unwrap_err();
            assert_eq!(
                error.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
        }
    }
}
