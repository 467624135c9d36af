//! The command line: clap definitions and dispatch. `main.rs` only parses and maps errors to
//! exit codes.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::commands::{fresh, init, reset};
use crate::config::{parse_duration, Overrides, Settings};
use crate::error::Result;
use crate::progress::Progress;

/// Creates, migrates, seeds and resets the face-recognition system's database.
#[derive(Debug, Parser)]
#[command(name = "facedb", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// How to reach the database; every command reads these the same way.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
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

    /// Print every SQL statement facedb runs (also DATABASE_ECHO=true).
    #[arg(long, global = true)]
    pub echo: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if missing, apply the schema, seed the system admin. Safe to repeat.
    Init,
    /// Drop everything facedb owns and set it up again, after showing what will be lost and asking.
    Reset(ResetArgs),
    /// Reset without asking (requires --force): for CI scripts and Makefiles.
    Fresh(ResetArgs),
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y', visible_alias = "yes")]
    pub force: bool,
}

impl DatabaseArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            database_url: self.database_url.clone(),
            env_file: self.env_file.clone(),
            connect_timeout: self.connect_timeout,
            lock_timeout: self.lock_timeout,
            echo: self.echo,
        }
    }
}

/// Runs a parsed command line. Progress goes to stderr, the one-line result to stdout.
pub fn run(cli: Cli) -> Result<()> {
    let settings = Settings::resolve(&cli.database.overrides())?;
    let progress = Progress::new(cli.quiet);
    let summary = match &cli.command {
        Command::Init => init::run(&settings, &init::InitOptions::default(), &progress)?.summary(),
        Command::Reset(args) => reset::run(&settings, &reset_options(args), &progress)?.summary(),
        Command::Fresh(args) => fresh::run(&settings, &reset_options(args), &progress)?.summary(),
    };
    drop(progress);
    if !cli.quiet {
        println!("{summary}");
    }
    Ok(())
}

fn reset_options(args: &ResetArgs) -> reset::ResetOptions {
    reset::ResetOptions {
        force: args.force,
        ..reset::ResetOptions::default()
    }
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
                matches!(cli.command, Command::Reset(ResetArgs { force: true })),
                "{flag}"
            );
        }
    }
}
