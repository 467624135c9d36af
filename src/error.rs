//! The one error type of facedb. Every message is written for the person at the terminal: what went
//! wrong and how to fix it. None of them ever contains a password (see `config::Target::display`).

use std::path::PathBuf;

/// Process exit codes. Stable: scripts and Makefiles depend on them (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    Unexpected = 1,
    Usage = 2,
    Connection = 3,
    Refused = 4,
    Schema = 5,
    LockTimeout = 6,
}

impl From<ExitCode> for i32 {
    fn from(code: ExitCode) -> i32 {
        code as i32
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration or arguments (exit 2).
    #[error("{0}")]
    Usage(String),

    #[error("cannot read env file {}: {source}", path.display())]
    EnvFile {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The server could not be reached, or refused our credentials (exit 3).
    #[error("{0}")]
    Connection(String),

    /// A prompt was declined, or a guard stopped a destructive command (exit 4).
    #[error("{0}")]
    Refused(String),

    /// The existing schema blocks the command (exit 5).
    #[error("{0}")]
    Schema(String),

    /// Another process held facedb's lock for longer than `--lock-timeout` (exit 6).
    #[error("{0}")]
    LockTimeout(String),

    /// The server went away in the middle of the work (exit 3).
    #[error("{}", connection_lost(reason, *committing))]
    ConnectionLost {
        /// The driver's first line, e.g. "server closed the connection unexpectedly".
        reason: String,
        /// Lost while committing: the server may have committed before it went.
        committing: bool,
    },

    #[error("database error: {0}")]
    Database(diesel::result::Error),

    #[error("migration failed, nothing was changed: {0}")]
    Migration(String),

    #[error("cannot hash the password: {0}")]
    PasswordHash(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Error {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        match error {
            // libpq's message runs over three lines; its first says what happened.
            Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::ConnectionLost {
                    reason: info
                        .message()
                        .lines()
                        .next()
                        .unwrap_or("connection closed")
                        .trim()
                        .to_owned(),
                    committing: false,
                }
            }
            // SQLite's SQLITE_BUSY after the busy timeout (set to --lock-timeout): another
            // process held the file, e.g. a reader while facedb wanted to commit.
            Diesel::DatabaseError(_, info) if info.message() == "database is locked" => {
                Error::LockTimeout(
                    "gave up waiting for the SQLite file: another process held it longer than --lock-timeout. Wait for it to finish, or raise --lock-timeout"
                        .to_owned(),
                )
            }
            other => Error::Database(other),
        }
    }
}

fn connection_lost(reason: &str, committing: bool) -> String {
    if committing {
        format!(
            "lost the connection to the database while committing ({reason}): the server may or may not have applied the change; when it is back, check the data (`facedb init` says `up to date` either way)"
        )
    } else {
        format!(
            "lost the connection to the database ({reason}); nothing facedb was doing was committed, so the database is as it was. Check that the server is running, then run the command again"
        )
    }
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::EnvFile { .. } => ExitCode::Usage,
            Error::Connection(_) | Error::ConnectionLost { .. } => ExitCode::Connection,
            Error::Refused(_) => ExitCode::Refused,
            Error::Schema(_) => ExitCode::Schema,
            Error::LockTimeout(_) => ExitCode::LockTimeout,
            Error::Database(_)
            | Error::Migration(_)
            | Error::PasswordHash(_)
            | Error::Io { .. } => ExitCode::Unexpected,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_stable() {
        let codes = [
            (ExitCode::Success, 0),
            (ExitCode::Unexpected, 1),
            (ExitCode::Usage, 2),
            (ExitCode::Connection, 3),
            (ExitCode::Refused, 4),
            (ExitCode::Schema, 5),
            (ExitCode::LockTimeout, 6),
        ];
        for (code, value) in codes {
            assert_eq!(i32::from(code), value, "{code:?}");
        }
    }
}
