//! `facedb init`: create the database if it is missing, apply pending migrations, seed the admin.
//! Idempotent and safe on a live database.

use crate::commands::{set_up, SetupOutcome};
use crate::config::Settings;
use crate::connection;
use crate::error::Result;
use crate::progress::Progress;
use crate::seed::AdminSeed;

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    pub admin: AdminSeed,
}

#[derive(Debug, Clone)]
pub struct InitReport {
    /// `host:port/dbname` or the SQLite file.
    pub target: String,
    pub created_database: bool,
    pub setup: SetupOutcome,
}

impl InitReport {
    pub fn is_up_to_date(&self) -> bool {
        !self.created_database
            && self.setup.applied_migrations.is_empty()
            && self.setup.seeded_admin.is_none()
    }

    /// The one-line result printed on stdout.
    pub fn summary(&self) -> String {
        let mut changes = Vec::new();
        if self.created_database {
            changes.push("created the database".to_owned());
        }
        changes.extend(self.setup.changes());
        if changes.is_empty() {
            format!("{}: up to date", self.target)
        } else {
            format!("{}: {}", self.target, changes.join(", "))
        }
    }
}

/// Sets up the database at `settings` quietly, with the default admin: what an API calls at
/// start-up in development.
pub fn init(settings: &Settings) -> Result<InitReport> {
    run(settings, &InitOptions::default(), &Progress::quiet())
}

pub fn run(settings: &Settings, options: &InitOptions, progress: &Progress) -> Result<InitReport> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let (mut db, created_database) = connection::open(settings, true)?;
    if created_database {
        progress.done(format!("created database {target}"));
    }
    progress.start(format!("applying the schema to {target}"));
    let setup = db.exclusive(settings.lock_timeout, |db| {
        set_up(db, &settings.environment, &options.admin)
    })?;
    setup.report(progress);
    Ok(InitReport {
        target,
        created_database,
        setup,
    })
}
