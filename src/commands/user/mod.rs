//! `facedb user …`: the operator's account tools. `create` adds a user (a system admin by
//! default), `reset-password` sets a new password, `list` shows who can log in.
//!
//! These commands never create a database: one that is missing or has no schema yet is an error
//! telling to run `facedb init`. Each write is one transaction. A password is read from a hidden
//! prompt or, with `--password-stdin`, from the first line of stdin; it is never printed.

pub mod create;
pub mod list;
pub mod reset_password;

use crate::config::Settings;
use crate::db::{self, Access, Db, IfMissing};
use crate::error::{Error, Result};
use crate::models::UserRole;
use crate::progress::Progress;
use crate::prompt;

/// A role as the command line names it (`--role system_admin`); stored as `UserRole`'s label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Role {
    #[default]
    SystemAdmin,
    TenantAdmin,
    SiteManager,
    Worker,
}

impl From<Role> for UserRole {
    fn from(role: Role) -> UserRole {
        match role {
            Role::SystemAdmin => UserRole::SystemAdmin,
            Role::TenantAdmin => UserRole::TenantAdmin,
            Role::SiteManager => UserRole::SiteManager,
            Role::Worker => UserRole::Worker,
        }
    }
}

impl Role {
    /// The name `--role` takes.
    pub fn flag_value(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::TenantAdmin => "tenant_admin",
            Role::SiteManager => "site_manager",
            Role::Worker => "worker",
        }
    }
}

/// Opens the database for a user command: never creates it, and wants facedb's schema there.
/// `Access::Read` (`user list`) works on a standby too.
pub(crate) fn open_existing(
    settings: &Settings,
    progress: &Progress,
    access: Access,
) -> Result<Db> {
    let target = settings.target.display();
    progress.start(format!("connecting to {target}"));
    let mut db = match access {
        Access::Write => db::open(settings, IfMissing::Fail, progress)?.0,
        Access::Read => {
            db::open_existing(settings, progress)?.ok_or_else(|| db::missing(settings))?
        }
    };
    if access == Access::Write {
        // Users are written under their plain name, as the API reads them.
        crate::guard::check_shadowing(&mut db, &settings.schema, "manage users in", &target)?;
    }
    let schema = &settings.schema;
    let has_users = db.read_only(schema, settings.lock_timeout, |db| {
        db.table_exists(schema, "users")
    })?;
    if !has_users {
        return Err(Error::Usage(format!(
            "{target} has no facedb schema (no users table); run `{}` first",
            settings.command("init")
        )));
    }
    Ok(db)
}

/// Reads a password from the first line of stdin, without its line ending (`--password-stdin`).
pub(crate) fn read_password_stdin() -> Result<String> {
    let password = prompt::stdin_line("the password")?;
    check_password(&password)?;
    Ok(password)
}

fn check_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::Usage(
            "the password is empty: give a non-empty password on the first line of stdin"
                .to_owned(),
        ));
    }
    crate::password::check(password)
}

/// Asks for a new password twice, hidden. A mismatch or one that breaks the rules asks again.
pub(crate) fn prompt_new_password(progress: &Progress, prompt: &str) -> Result<String> {
    progress.suspend(|| prompt::new_password(prompt, crate::password::check_rules))
}

/// Whether a database error is a unique-constraint violation (a user or email taken meanwhile).
pub(crate) fn is_unique_violation(error: &Error) -> bool {
    matches!(
        error,
        Error::Database(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}
