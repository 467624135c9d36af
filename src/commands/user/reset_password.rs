//! `facedb user reset-password USERNAME`: sets a new password, asked twice on the terminal or
//! read from stdin with `--password-stdin`.

use diesel::prelude::*;
use serde::Serialize;

use super::{open_existing, prompt_new_password};
use crate::commands::{Outcome, Report};
use crate::config::PasswordScheme;
use crate::config::Settings;
use crate::db::{Access, Db};
use crate::error::{Error, Result};
use crate::models::now_utc;
use crate::password;
use crate::progress::{quoted, Progress};
use crate::prompt;
use crate::schema::users;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The user whose password to set.
    pub username: String,

    /// Read the new password from the first line of stdin instead of asking (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
}

pub type ResetPasswordReport = Report<ResetPasswordOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct ResetPasswordOutcome {
    pub username: String,
    /// How the new password was hashed.
    pub password_hash: PasswordScheme,
}

impl Outcome for ResetPasswordOutcome {
    fn write_text(
        report: &ResetPasswordReport,
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        write!(
            f,
            "{}: set a new password for user '{}'",
            report.target(),
            report.outcome.username
        )
    }
}

pub fn run(settings: &Settings, args: &Args, progress: &Progress) -> Result<ResetPasswordReport> {
    let username = args.username.trim();
    if !args.password_stdin && !prompt::can_ask() {
        return Err(Error::Usage(
            "missing --password-stdin: facedb asks for the new password only on a terminal, and stdin or stderr is not one. \
             Pass the password on the first line of stdin with --password-stdin"
                .to_owned(),
        ));
    }
    let password = if args.password_stdin {
        Some(super::read_password_stdin()?)
    } else {
        None
    };

    let mut db = open_existing(settings, progress, Access::Write)?;
    let choice = db.read_only(&settings.schema, settings.lock_timeout, |db| {
        password::choose(db, &settings.schema, settings.password_scheme)
    })?;
    if let Some(note) = choice.note() {
        progress.info(note);
    }
    // Before asking: nobody should type a password twice for a user that does not exist.
    db.read_only(&settings.schema, settings.lock_timeout, |db| {
        check_exists(db, settings, username)
    })?;
    let password = match password {
        Some(password) => password,
        None => prompt_new_password(progress, &format!("New password for '{username}'"))?,
    };
    progress.start("hashing the password");
    let password_hash = password::hash_with(choice.scheme, &password)?;
    drop(password);

    progress.start(format!("setting the password of '{username}'"));
    db.transaction(&settings.schema, settings.lock_timeout, |db| {
        let now = now_utc();
        let update = diesel::update(users::table.filter(users::username.eq(username))).set((
            users::password_hash.eq(&password_hash),
            users::password_changed_at.eq(now),
            users::updated_at.eq(now),
        ));
        let updated = update.execute(db)?;
        if updated == 0 {
            // Deleted between the check and now.
            return Err(unknown_user(settings, username));
        }
        Ok(())
    })?;

    let outcome = ResetPasswordOutcome {
        username: username.to_owned(),
        password_hash: choice.scheme,
    };
    Ok(Report::new("user reset-password", settings, outcome))
}

fn check_exists(db: &mut Db, settings: &Settings, username: &str) -> Result<()> {
    let query = diesel::select(diesel::dsl::exists(
        users::table.filter(users::username.eq(username)),
    ));
    let exists = query.get_result::<bool>(db)?;
    if exists {
        Ok(())
    } else {
        Err(unknown_user(settings, username))
    }
}

fn unknown_user(settings: &Settings, username: &str) -> Error {
    Error::Refused(format!(
        "no user {} in {}: `{}` shows the users",
        quoted(username),
        settings.target.display(),
        settings.command("user list")
    ))
}
