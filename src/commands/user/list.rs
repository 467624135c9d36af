//! `facedb user list`: every user, ordered by username, as an aligned table or a JSON document.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;

use super::open_existing;
use crate::commands::{Outcome, Report};
use crate::config::Settings;
use crate::db::Access;
use crate::error::Result;
use crate::models::User;
use crate::progress::{printable, Progress};
use crate::schema::users;

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {}

pub type ListReport = Report<ListOutcome>;

/// The users; with `--json` an object whose `users` is an array of `UserRow`.
#[derive(Debug, Clone, Serialize)]
pub struct ListOutcome {
    pub users: Vec<UserRow>,
}

/// One user as `--json` shows it. Timestamps are UTC, in RFC 3339 form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// The stored label: `SYSTEM_ADMIN`, `TENANT_ADMIN`, `SITE_MANAGER` or `WORKER`.
    pub role: &'static str,
    pub tenant_id: Option<String>,
    pub site_id: Option<i64>,
    pub is_active: bool,
    pub is_email_verified: bool,
    #[serde(serialize_with = "rfc3339_or_null")]
    pub last_login: Option<NaiveDateTime>,
    #[serde(serialize_with = "rfc3339")]
    pub created_at: NaiveDateTime,
}

impl From<User> for UserRow {
    // The password hash stays behind: nobody listing users needs it.
    fn from(user: User) -> UserRow {
        UserRow {
            user_id: user.user_id,
            username: user.username,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            role: user.role.label(),
            tenant_id: user.tenant_id,
            site_id: user.site_id,
            is_active: user.is_active,
            is_email_verified: user.is_email_verified,
            last_login: user.last_login,
            created_at: user.created_at,
        }
    }
}

fn rfc3339<S: serde::Serializer>(
    time: &NaiveDateTime,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&time.and_utc().to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn rfc3339_or_null<S: serde::Serializer>(
    time: &Option<NaiveDateTime>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match time {
        Some(time) => rfc3339(time, s),
        None => s.serialize_none(),
    }
}

const HEADER: [&str; 7] = [
    "USERNAME",
    "EMAIL",
    "NAME",
    "ROLE",
    "TENANT",
    "ACTIVE",
    "LAST LOGIN",
];

impl UserRow {
    /// The row's cells in the table, in `HEADER` order.
    fn cells(&self) -> [String; 7] {
        [
            self.username.clone(),
            self.email.clone(),
            format!("{} {}", self.first_name, self.last_name),
            self.role.to_owned(),
            self.tenant_id.clone().unwrap_or_else(|| "-".to_owned()),
            if self.is_active { "yes" } else { "no" }.to_owned(),
            self.last_login.map_or_else(
                || "never".to_owned(),
                |time| time.format("%Y-%m-%d %H:%M UTC").to_string(),
            ),
        ]
    }
}

impl Outcome for ListOutcome {
    /// An aligned table under a header line, columns two spaces apart, no borders.
    fn write_text(report: &ListReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::NOTHING)
            .set_header(HEADER)
            .add_rows(
                report
                    .outcome
                    .users
                    .iter()
                    .map(|user| user.cells().map(|cell| printable(&cell).into_owned())),
            );
        for column in table.column_iter_mut() {
            column.set_padding((0, 2));
        }
        // Without a right border the last column's padding trails every line.
        f.write_str(&table.trim_fmt())
    }
}

pub fn run(settings: &Settings, _args: &Args, progress: &Progress) -> Result<ListReport> {
    let mut db = open_existing(settings, progress, Access::Read)?;
    progress.start("reading the users");
    let mut users: Vec<User> = db.read_only(&settings.schema, settings.lock_timeout, |db| {
        Ok(users::table.select(User::as_select()).load(db)?)
    })?;
    // Sorted here, not by the database, so that both backends give the same order whatever
    // their collation: case-insensitively, ties by bytes.
    users.sort_by_cached_key(|user| (user.username.to_lowercase(), user.username.clone()));
    let list = ListOutcome {
        users: users.into_iter().map(UserRow::from).collect(),
    };
    Ok(Report::new("user list", settings, list))
}
