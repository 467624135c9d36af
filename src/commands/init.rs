//! `facedb init`: create the database if it is missing, apply pending migrations (or adopt a
//! database the old Python tool made, see [`crate::adopt`]), seed the admin. Idempotent and safe
//! on a live database.

use serde::Serialize;

use crate::adopt::{self, Adoption};
use crate::commands::{set_up, Outcome, Report, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::error::Result;
use crate::guard;
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The admin to seed, and `--with-demo-data`.
    #[command(flatten)]
    pub seed: SeedArgs,
}

pub type InitReport = Report<InitOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct InitOutcome {
    pub created_database: bool,
    #[serde(flatten)]
    pub setup: SetupOutcome,
    /// What adopting a database the old tool made did; `null` when there was nothing to adopt.
    pub adopted: Option<Adoption>,
    pub up_to_date: bool,
}

impl Outcome for InitOutcome {
    /// The one-line result printed on stdout.
    fn write_text(report: &InitReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = &report.outcome;
        let mut changes = Vec::new();
        if outcome.created_database {
            changes.push("created the database".to_owned());
        }
        changes.extend(outcome.setup.changes());
        if changes.is_empty() {
            write!(f, "{}: up to date", report.target())
        } else {
            write!(f, "{}: {}", report.target(), changes.join(", "))
        }
    }
}

/// Sets up the database at `settings` quietly: what an API calls at start-up in development.
pub fn init(settings: &Settings) -> Result<InitReport> {
    run(settings, &Args::default(), &Progress::quiet())
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<InitReport> {
    let settings = &args.seed.apply(settings)?;
    let target = settings.target.display();
    let (mut db, created_database) = super::open_or_create(settings, progress)?;
    progress.start(format!("applying the schema to {target}"));
    guard::check_shadowing(&mut db, &settings.schema, "init", &target)?;
    let setup = adopt::exclusive(
        &mut db,
        &settings.schema,
        settings.lock_timeout,
        &target,
        !created_database,
        |db| set_up(db, settings, "init", None, None, args.seed.with_demo_data),
    )?;
    setup.report(progress);
    let up_to_date = !created_database
        && setup.adopted.is_none()
        && setup.applied_migrations.is_empty()
        && setup.seeded_admin.is_none()
        && !setup.demo_data.as_ref().is_some_and(|d| d.created);
    let outcome = InitOutcome {
        created_database,
        adopted: setup.adopted.clone(),
        setup,
        up_to_date,
    };
    Ok(Report::new("init", settings, outcome))
}
