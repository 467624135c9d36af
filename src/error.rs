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

    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),

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

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Usage(_) | Error::EnvFile { .. } => ExitCode::Usage,
            Error::Connection(_) => ExitCode::Connection,
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
