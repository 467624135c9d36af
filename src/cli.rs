//! The command line: clap definitions, dispatch, and how results and errors are printed.
//! Progress and prompts go to stderr; the result (one line, or one JSON document with `--json`)
//! to stdout.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;

use crate::commands::user::{self, UserCommand};
use crate::commands::{check, completions, fresh, init, reset, rollback, sql, status};
use crate::config::{parse_duration, Overrides, Settings};
use crate::error::{Error, ExitCode, Result};
use crate::password::PasswordScheme;
use crate::progress::Progress;

/// Creates, migrates, seeds and resets the face-recognition system's database.
#[derive(Debug, Parser)]
#[command(name = "facedb", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command reads the same way (listed apart from a command's own in `--help`).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Database URL (postgres://user:password@host:5432/dbname, sqlite:///file.db, file.db).
    /// Overrides DATABASE_URL and the DB_* variables.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,

    /// Read variables from this file instead of ./.env (the process environment still wins).
    #[arg(long, global = true, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// Give up connecting after this long (e.g. 5s) [default: 5s].
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Give up waiting for another facedb working on the same database after this long [default: 60s].
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,

    /// Keep retrying while the server refuses connections, up to this long (e.g. 30s).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,

    /// How to hash the passwords facedb writes [default: argon2id; env: FACEDB_PASSWORD_HASH].
    #[arg(long, global = true, value_name = "SCHEME")]
    pub password_hash: Option<PasswordScheme>,

    /// Print every SQL statement facedb runs (also DATABASE_ECHO=true).
    #[arg(long, global = true)]
    pub echo: bool,

    /// The PostgreSQL schema facedb works in, and the only one it touches [default: public;
    /// env: FACEDB_SCHEMA]. SQLite accepts only the default.
    #[arg(long, global = true, value_name = "NAME")]
    pub schema: Option<String>,

    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Print the result as one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if missing, apply the schema, seed the system admin. Safe to repeat.
    Init(init::Args),
    /// Drop everything facedb owns and set it up again, after showing what will be lost and asking.
    Reset(reset::Args),
    /// Reset without asking (requires --force): for CI scripts and Makefiles.
    Fresh(reset::Args),
    /// Revert the newest applied migration (or down to --to) with its down.sql, after showing it and asking.
    Rollback(rollback::Args),
    /// Compare the live schema with the contract and list every difference (exit 5 if any).
    Check(check::Args),
    /// Show the target, server, migrations, tables with row counts and the admin (exit 5 if not up to date).
    Status(status::Args),
    /// Create users, set passwords, list users (never creates the database).
    User(user::Args),
    /// Print the SQL that init applies, for running by hand (never connects).
    Sql(sql::Args),
    /// Print a shell completion script (e.g. `facedb completions bash > /etc/bash_completion.d/facedb`).
    Completions(completions::Args),
}

impl GlobalArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.database_url.clone(),
            env_file: self.env_file.clone(),
            connect_timeout: self.connect_timeout,
            lock_timeout: self.lock_timeout,
            wait: self.wait,
            password_scheme: self.password_hash,
            echo: self.echo,
            schema: self.schema.clone(),
        }
    }
}

/// Parses the process's command line. A usage error exits 2 with clap's message on stderr and,
/// when `--json` was given, the `{"error": …}` document on stdout too; `--help` and `--version`
/// print and exit 0.
pub fn parse() -> Cli {
    Cli::try_parse().unwrap_or_else(|error| {
        if error.use_stderr() && std::env::args_os().any(|arg| arg == "--json") {
            let rendered = error.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            let message = first.strip_prefix("error: ").unwrap_or(first);
            print_json_error(ExitCode::Usage, message);
        }
        error.exit()
    })
}

/// Runs a parsed command line and returns the exit code of a run that did not fail.
pub fn run(cli: Cli) -> Result<ExitCode> {
    let global = &cli.global;
    // Resolved only by the commands that use a database: `completions` and `sql` work without
    // (valid) database settings.
    let settings = || Settings::resolve(&global.overrides());
    let progress = Progress::new(global.quiet);
    match &cli.command {
        Command::Init(args) => {
            let report = init::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
        }
        Command::Reset(args) | Command::Fresh(args) if args.dry_run => {
            let command = match cli.command {
                Command::Fresh(_) => "fresh",
                _ => "reset",
            };
            let report = reset::dry_run(&settings()?, command, args, &progress)?;
            emit(global, &progress, &report)?;
            if let Some(refusal) = report.refusal() {
                eprintln!("error: {refusal}");
                return Ok(ExitCode::Schema);
            }
        }
        Command::Reset(args) => {
            let report = reset::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
        }
        Command::Fresh(args) => {
            let report = fresh::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
        }
        Command::Rollback(args) => {
            let report = rollback::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
        }
        Command::User(user::Args { command }) => {
            let settings = settings()?;
            match command {
                UserCommand::Create(args) => emit(
                    global,
                    &progress,
                    &user::create::run(&settings, args, &progress)?,
                )?,
                UserCommand::ResetPassword(args) => emit(
                    global,
                    &progress,
                    &user::reset_password::run(&settings, args, &progress)?,
                )?,
                UserCommand::List(args) => emit(
                    global,
                    &progress,
                    &user::list::run(&settings, args, &progress)?,
                )?,
            }
        }
        // The script is the product: --quiet does not hide it.
        Command::Sql(args) => print_result(global.json, &sql::run(&global.overrides(), args)?)?,
        Command::Completions(args) => write_stdout(&completions::run(args))?,
        // These print their report whatever it says; its exit code says whether all is well.
        Command::Check(args) => {
            let report = check::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
            return Ok(report.exit_code());
        }
        Command::Status(args) => {
            let report = status::run(&settings()?, args, &progress)?;
            emit(global, &progress, &report)?;
            return Ok(report.exit_code());
        }
    }
    Ok(ExitCode::Success)
}

/// Prints a command's result: its line, or its JSON document with `--json`.
fn emit(
    global: &GlobalArgs,
    progress: &Progress,
    report: &(impl Serialize + std::fmt::Display),
) -> Result<()> {
    progress.finish();
    if global.quiet && !global.json {
        return Ok(());
    }
    print_result(global.json, report)
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
    eprintln!("error: {error}");
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
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn reset_force_has_its_aliases() {
        for flag in ["--force", "--yes", "-y"] {
            let cli = Cli::try_parse_from(["facedb", "reset", flag]).unwrap();
            assert!(
                matches!(cli.command, Command::Reset(reset::Args { force: true, .. })),
                "{flag}"
            );
        }
    }

    #[test]
    fn global_flags_go_before_or_after_the_command() {
        for args in [
            &["facedb", "--database-url", "x.db", "init"][..],
            &["facedb", "init", "--database-url", "x.db"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.global.database_url.as_deref(), Some("x.db"));
        }
    }
}
