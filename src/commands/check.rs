//! `facedb check`: compares the live schema with the one the migrations make
//! ([`crate::contract`]) and lists every difference. Reads only; exit 0 when the schema matches,
//! 5 when it differs.

use serde::Serialize;

use crate::catalog;
use crate::commands::{Outcome, Report};
use crate::compare::{self, Difference};
use crate::config::Settings;
use crate::contract;
use crate::db;
use crate::error::{Error, ExitCode, Result};
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {}

pub type CheckReport = Report<CheckOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    /// Whether the live schema is the contract's: no differences.
    pub matches: bool,
    pub differences: Vec<Reported>,
}

/// A difference, its facts and its sentence.
#[derive(Debug, Clone, Serialize)]
pub struct Reported {
    #[serde(flatten)]
    pub difference: Difference,
    pub message: String,
}

impl Outcome for CheckOutcome {
    fn write_text(report: &CheckReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        if outcome.matches {
            return write!(
                f,
                "{}: the schema matches the contract ({} tables)",
                report.target(),
                contract::table_names().len()
            );
        }
        write!(
            f,
            "{}: {} from the schema contract:",
            report.target(),
            crate::text::plural(outcome.differences.len(), "difference")
        )?;
        for reported in &outcome.differences {
            write!(f, "\n  {}", reported.message)?;
        }
        Ok(())
    }

    /// 0 when the schema matches, 5 (schema problem) when it differs.
    fn exit_code(report: &CheckReport) -> ExitCode {
        if report.outcome.matches {
            ExitCode::Success
        } else {
            ExitCode::Schema
        }
    }
}

/// Compares the schema at `settings` with the contract, without changing anything.
pub fn check(settings: &Settings) -> Result<CheckReport> {
    run(settings, &Args::default(), &Progress::quiet())
}

pub fn run(settings: &Settings, _args: &Args, progress: &Progress) -> Result<CheckReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let Some(mut db) = db::open_existing(settings, progress)? else {
        return Err(Error::Schema(format!(
            "database {target} does not exist, so it has none of the schema; run `{}` to create it",
            settings.command("init")
        )));
    };
    progress.start(format!("reading the schema of {target}"));
    let expected = contract::expected(db.backend());
    let found = db.read_only(&settings.schema, settings.lock_timeout, |db| {
        catalog::read(db, &settings.schema, &contract::table_names())
    })?;
    let differences: Vec<Reported> = compare::compare(&expected, &found)
        .into_iter()
        .map(|difference| Reported {
            message: difference.to_string(),
            difference,
        })
        .collect();
    let outcome = CheckOutcome {
        matches: differences.is_empty(),
        differences,
    };
    Ok(Report::new("check", settings, outcome))
}
