//! What every command returns: one [`Report`] naming the command and the database it worked on,
//! around the command's own [`Outcome`]. Its JSON form is one object, the outcome's fields beside
//! the report's; its text is the outcome's.

use serde::Serialize;

use crate::config::{SchemaName, Settings};
use crate::error::ExitCode;

/// A command's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report<T> {
    /// `init`, `user create`, …
    pub command: &'static str,
    /// The database the command worked on; `None` for `sql`, which never connects.
    #[serde(flatten)]
    pub database: Option<Database>,
    /// `postgresql` or `sqlite`.
    pub backend: &'static str,
    /// What the command found or did.
    #[serde(flatten)]
    pub outcome: T,
}

/// The database a command worked on.
#[derive(Debug, Clone, Serialize)]
pub struct Database {
    /// `host:port/dbname` or the SQLite file, never a password.
    pub target: String,
    /// Where the target came from: `from DATABASE_URL in ./.env`, `built-in defaults: …`.
    pub target_source: String,
    /// The schema worked in (`main` on SQLite).
    pub schema: SchemaName,
    /// The flags that named the target (`Settings::target_flags`), for hints.
    #[serde(skip)]
    pub target_flags: Vec<String>,
}

/// A command's own part of its report.
pub trait Outcome: Serialize + Sized {
    /// The text printed without `--json`.
    fn write_text(report: &Report<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result;

    /// Why the real command would refuse, when a dry run predicts it; printed as an error line.
    fn refusal(_report: &Report<Self>) -> Option<String> {
        None
    }

    /// The exit code of a run that did not fail: 0, or 5 when the outcome is a schema problem
    /// (`check` found differences, `status` is not up to date, a dry run predicts a refusal).
    fn exit_code(report: &Report<Self>) -> ExitCode {
        match Self::refusal(report) {
            Some(_) => ExitCode::Schema,
            None => ExitCode::Success,
        }
    }
}

impl<T> Report<T> {
    /// The report of a command that worked on the database `settings` names.
    pub fn new(command: &'static str, settings: &Settings, outcome: T) -> Report<T> {
        Report {
            command,
            database: Some(Database {
                target: settings.target.display(),
                target_source: settings.target_source.to_string(),
                schema: settings.schema.clone(),
                target_flags: settings.target_flags.clone(),
            }),
            backend: settings.target.backend_key(),
            outcome,
        }
    }

    /// The report of a command that reads no database (`sql`).
    pub fn without_database(command: &'static str, backend: &'static str, outcome: T) -> Self {
        Report {
            command,
            database: None,
            backend,
            outcome,
        }
    }

    /// How the database is named in output (`host:port/dbname` or the SQLite file); empty for
    /// `sql`, which names none.
    pub fn target(&self) -> &str {
        self.database
            .as_ref()
            .map_or("", |database| database.target.as_str())
    }

    /// A command line that works on this report's database when pasted (see
    /// `Settings::command`): `facedb --database-url facedb.db user list`.
    pub fn command_line(&self, command: &str) -> String {
        let flags = self
            .database
            .as_ref()
            .map_or(&[][..], |database| &database.target_flags[..]);
        crate::config::command_line(flags, command)
    }
}

impl<T: Outcome> Report<T> {
    /// The exit code of a run that did not fail (see [`Outcome::exit_code`]).
    pub fn exit_code(&self) -> ExitCode {
        T::exit_code(self)
    }

    /// Why the real command would refuse, when a dry run predicts it.
    pub fn refusal(&self) -> Option<String> {
        T::refusal(self)
    }
}

impl<T: Outcome> std::fmt::Display for Report<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        T::write_text(self, f)
    }
}

/// The outcome's fields read through the report (`report.up_to_date`), as they did when each
/// command had a report type of its own: library callers written then keep working.
impl<T> std::ops::Deref for Report<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.outcome
    }
}
