//! `facedb init`: create the database if it is missing, apply pending migrations, seed the admin.
//! Idempotent and safe on a live database.

use serde::Serialize;

use crate::commands::{set_up, SeedArgs, SetupOutcome};
use crate::config::Settings;
use crate::connection;
use crate::error::Result;
use crate::progress::Progress;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub seed: SeedArgs,
}

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub command: &'static str,
    /// `host:port/dbname` or the SQLite file.
    pub target: String,
    pub backend: &'static str,
    pub created_database: bool,
    #[serde(flatten)]
    pub setup: SetupOutcome,
    pub up_to_date: bool,
}

impl std::fmt::Display for InitReport {
    /// The one-line result printed on stdout.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut changes = Vec::new();
        if self.created_database {
            changes.push("created the database".to_owned());
        }
        changes.extend(self.setup.changes());
        if changes.is_empty() {
            write!(f, "{}: up to date", self.target)
        } else {
            write!(f, "{}: {}", self.target, changes.join(", "))
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
    progress.start(format!("connecting to {target}"));
    let (mut db, created_database) = connection::open(settings, true, progress)?;
    if created_database {
        progress.done(format!("created database {target}"));
    }
    progress.start(format!("applying the schema to {target}"));
    let setup = db.exclusive(settings.lock_timeout, |db| set_up(db, settings, None))?;
    setup.report(progress);
    let up_to_date =
        !created_database && setup.applied_migrations.is_empty() && setup.seeded_admin.is_none();
    Ok(InitReport {
        command: "init",
        target,
        backend: settings.target.backend_key(),
        created_database,
        setup,
        up_to_date,
    })
}
