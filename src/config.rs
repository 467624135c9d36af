//! Where the database is and how facedb talks to it.
//!
//! Precedence, highest first: command-line flag, process environment, `.env` file, default; an
//! empty value counts as unset wherever it is, so an empty process variable falls through to the
//! `.env` file. The `.env` file is read into a map rather than into the process environment, so
//! that the order stays explicit and testable. The flags are [`options`]: clap parses them and
//! [`Settings::resolve`] reads them.

pub mod options;

mod env_file;
mod postgres;
mod schema_name;
mod settings;
mod sqlite;
mod target;
#[cfg(test)]
mod tests;

pub use self::env_file::{Environment, Origin};
pub use self::options::PasswordScheme;
pub use self::postgres::{PgTarget, Server};
pub use self::schema_name::{quote_identifier, SchemaName, DEFAULT_SCHEMA};
pub use self::settings::{
    command_line, AdminSeed, Settings, DEFAULT_CONNECT_TIMEOUT, DEFAULT_EMAIL,
    DEFAULT_KEEP_BACKUPS, DEFAULT_LOCK_TIMEOUT, DEFAULT_PASSWORD, DEFAULT_USERNAME,
};
pub use self::sqlite::SqliteTarget;
pub use self::target::{Backend, Target, TargetSource};
