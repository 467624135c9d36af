//! One module per command, each an `Args` struct (its flags) and a `run`. `init` sets a database
//! up; `reset` drops what facedb owns and sets it up again after a confirmation; `fresh` is
//! `reset --force` under the name CI scripts use; `check` compares the schema with the contract
//! and `status` says where the database stands, both without changing anything.

pub mod check;
pub mod fresh;
pub mod init;
pub mod reset;
pub mod status;

use serde::Serialize;

use crate::bookkeeping::{self, ENVIRONMENT_KEY};
use crate::config::Settings;
use crate::connection::Db;
use crate::error::Result;
use crate::migrations;
use crate::progress::Progress;
use crate::seed::{self, SeededAdmin};

/// What setting a database up did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetupOutcome {
    /// Names of the migrations applied by this run.
    pub applied_migrations: Vec<String>,
    /// The admin seeded by this run, if there was no system admin.
    pub seeded_admin: Option<SeededAdmin>,
    /// The deployment environment recorded in the database.
    pub environment: String,
}

/// Applies pending migrations, records the environment and seeds the admin. Runs inside the
/// caller's locked transaction, so a warm run is a handful of cheap queries.
fn set_up(db: &mut Db, settings: &Settings) -> Result<SetupOutcome> {
    let applied_migrations = migrations::apply_pending(db)?;
    let environment = bookkeeping::record_once(db, ENVIRONMENT_KEY, &settings.environment)?;
    let seeded_admin = seed::seed_admin(db, &settings.admin, settings.password_scheme)?;
    Ok(SetupOutcome {
        applied_migrations,
        seeded_admin,
        environment,
    })
}

/// `1 migration`, `2 migrations`.
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

impl SetupOutcome {
    /// Reports the steps that changed something.
    fn report(&self, progress: &Progress) {
        for name in &self.applied_migrations {
            progress.done(format!("applied migration {name}"));
        }
        if let Some(admin) = &self.seeded_admin {
            progress.done(format!(
                "seeded system admin '{}' <{}>",
                admin.username, admin.email
            ));
            if admin.default_password {
                progress.warn(format!(
                    "system admin '{}' has the default password: change it before anyone else can reach the API",
                    admin.username
                ));
            }
        }
    }

    /// The changes as one clause each, for the result line.
    fn changes(&self) -> Vec<String> {
        let mut changes = Vec::new();
        if !self.applied_migrations.is_empty() {
            changes.push(format!(
                "applied {}",
                plural(self.applied_migrations.len(), "migration")
            ));
        }
        if let Some(admin) = &self.seeded_admin {
            changes.push(format!("seeded admin '{}'", admin.username));
        }
        changes
    }
}
