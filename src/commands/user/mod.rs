//! `facedb user …`: the operator's account tools. `create` adds a user (a system admin by
//! default), `reset-password` sets a new password, `list` shows who can log in.
//!
//! These commands never create a database: one that is missing or has no schema yet is an error
//! telling to run `facedb init`. Each write is one transaction. A password is read from a hidden
//! prompt or, with `--password-stdin`, from the first line of stdin; it is never printed.

pub mod create;
pub mod list;
pub mod reset_password;

use std::io::{BufRead, IsTerminal};

use crate::config::Settings;
use crate::connection::{self, Access, Db};
use crate::error::{Error, Result};
use crate::inventory;
use crate::models::UserRole;
use crate::progress::Progress;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Create a user (a system admin unless --role says otherwise); asks for what the flags leave out.
    Create(create::Args),
    /// Set a new password for a user.
    ResetPassword(reset_password::Args),
    /// List the users: username, email, name, role, tenant, active, last login.
    List(list::Args),
}

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

/// Whether facedb may ask: dialoguer reads the terminal and draws its prompts on stderr.
pub(crate) fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
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
        Access::Write => connection::open(settings, false, progress)?.0,
        Access::Read => connection::open_existing(settings, progress)?
            .ok_or_else(|| connection::missing(&settings.target))?,
    };
    if access == Access::Write {
        // Users are written under their plain name, as the API reads them.
        crate::guard::check_shadowing(&mut db, &settings.schema, "manage users in", &target)?;
    }
    let schema = &settings.schema;
    let has_users = db.read_only(schema, settings.lock_timeout, |db| {
        inventory::table_exists(db, schema, "users")
    })?;
    if !has_users {
        return Err(Error::Usage(format!(
            "{target} has no facedb schema (no users table); run `facedb init` first"
        )));
    }
    Ok(db)
}

/// Reads a password from the first line of stdin, without its line ending (`--password-stdin`).
pub(crate) fn read_password_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| Error::Io {
            context: "cannot read the password from stdin".to_owned(),
            source,
        })?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    check_password(password)?;
    Ok(password.to_owned())
}

fn check_password(password: &str) -> Result<()> {
    if password.is_empty() {
        return Err(Error::Usage(
            "the password is empty: give a non-empty password on the first line of stdin"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Asks for a new password twice, hidden. A mismatch or an empty answer asks again.
pub(crate) fn prompt_new_password(progress: &Progress, prompt: &str) -> Result<String> {
    progress.suspend(|| {
        dialoguer::Password::new()
            .with_prompt(prompt)
            .with_confirmation(
                "Repeat the password",
                "the passwords differ; type them again",
            )
            .allow_empty_password(true)
            .validate_with(|password: &String| {
                if password.is_empty() {
                    Err("the password must not be empty")
                } else {
                    Ok(())
                }
            })
            .interact()
            .map_err(cancelled)
    })
}

/// A prompt that ended without an answer: Ctrl-C, or the terminal went away.
pub(crate) fn cancelled(_: dialoguer::Error) -> Error {
    let _ = console::Term::stderr().show_cursor();
    Error::Refused("cancelled at the prompt; nothing was changed".to_owned())
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
