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
    /// Committed on the primary, not yet confirmed by its synchronous standby: do not retry.
    NotReplicated = 7,
    /// Interrupted (Ctrl-C): 128 + SIGINT, as a shell reports it.
    Interrupted = 130,
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

    #[error("database error: {}", one_line(&.0.to_string()))]
    Database(diesel::result::Error),

    #[error("migration failed, nothing was changed: {}", one_line(.0))]
    Migration(String),

    /// The server takes no writes and this command writes (exit 3, as a server that cannot
    /// serve it: a standby may be promoted, a read-only primary switched back).
    #[error("{}", read_only_server(server, *why))]
    ReadOnlyServer {
        /// The server reached, `host:port` or its socket; `None` until it is known.
        server: Option<String>,
        why: ReadOnly,
    },

    /// The commit waited for a synchronous standby longer than `--wait` (or was interrupted)
    /// and facedb cancelled the wait: the primary committed, the standby has not confirmed it
    /// (exit 7).
    #[error("{}", not_replicated(server, waited))]
    NotReplicated {
        server: String,
        /// How long the commit waited, as the flags write durations; `None`: it was interrupted.
        waited: Option<String>,
    },

    /// Ctrl-C while the work ran (exit 130). `state` says what became of the transaction.
    #[error("interrupted: {state}")]
    Interrupted { state: String },

    #[error("cannot hash the password: {0}")]
    PasswordHash(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

/// Why a server refused facedb's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOnly {
    /// A hot standby (in recovery).
    Standby,
    /// A primary whose `default_transaction_read_only` is on.
    ReadOnlyPrimary,
    /// The server said "read-only transaction" and could not be asked why.
    Unknown,
}

fn read_only_server(server: &Option<String>, why: ReadOnly) -> String {
    let at = server.as_deref().unwrap_or("the server");
    match why {
        ReadOnly::Standby => format!(
            "PostgreSQL at {at} is a read-only standby (in recovery) and this command writes: point facedb at the primary, \
             or list every server in the URL with target_session_attrs=read-write"
        ),
        ReadOnly::ReadOnlyPrimary => format!(
            "PostgreSQL at {at} is a read-only primary (default_transaction_read_only is on) and this command writes; \
             nothing was changed. Turn the setting off there (ALTER SYSTEM or ALTER DATABASE … RESET default_transaction_read_only), \
             or point facedb at a server that takes writes"
        ),
        ReadOnly::Unknown => format!(
            "PostgreSQL at {at} refused a write: the server is read-only (a standby, or default_transaction_read_only); \
             nothing was changed. Point facedb at the primary"
        ),
    }
}

fn not_replicated(server: &str, waited: &Option<String>) -> String {
    let how = match waited {
        Some(waited) => {
            format!("waited {waited} (--wait) for its synchronous standby to confirm it")
        }
        None => {
            "was interrupted while it waited for its synchronous standby to confirm it".to_owned()
        }
    };
    format!(
        "the change is committed on the primary {server}, but the commit {how}, and facedb stopped waiting: \
         the synchronous standby has not confirmed it yet. Do not run the command again: the change stands and \
         reaches the standby when it is back (check synchronous_standby_names and the standby)"
    )
}

/// `text` as one line: its first non-empty line, with control characters shown escaped.
pub fn one_line(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    line.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Whether a driver's message says the connection went: lost, shut down, or terminated by an
/// administrator (the server then closes it).
pub fn says_connection_lost(message: &str) -> bool {
    let lower = message.to_lowercase();
    [
        "server closed the connection",
        "terminating connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server was lost",
        "ssl connection has been closed",
    ]
    .iter()
    .any(|said| lower.contains(said))
}

impl From<diesel::result::Error> for Error {
    fn from(error: diesel::result::Error) -> Error {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        match error {
            // libpq's message runs over three lines; its first says what happened.
            Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Error::ConnectionLost {
                    reason: Some(one_line(info.message()))
                        .filter(|r| !r.is_empty())
                        .unwrap_or_else(|| "connection closed".to_owned()),
                    committing: false,
                }
            }
            Diesel::DatabaseError(_, info) if says_connection_lost(info.message()) => {
                Error::ConnectionLost {
                    reason: one_line(info.message()),
                    committing: false,
                }
            }
            Diesel::DatabaseError(DatabaseErrorKind::ReadOnlyTransaction, _) => {
                Error::ReadOnlyServer {
                    server: None,
                    why: ReadOnly::Unknown,
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
            Error::Connection(_) | Error::ConnectionLost { .. } | Error::ReadOnlyServer { .. } => {
                ExitCode::Connection
            }
            Error::NotReplicated { .. } => ExitCode::NotReplicated,
            Error::Interrupted { .. } => ExitCode::Interrupted,
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

/// Whether a statement failed because a lock wait exceeded `lock_timeout` (SQLSTATE 55P03).
pub fn is_lock_timeout(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("lock timeout"))
}

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
            (ExitCode::NotReplicated, 7),
            (ExitCode::Interrupted, 130),
        ];
        for (code, value) in codes {
            assert_eq!(i32::from(code), value, "{code:?}");
        }
    }

    #[test]
    fn causes_map_to_exit_codes_by_what_happened() {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        let from = |kind, message: &str| {
            Error::from(Diesel::DatabaseError(kind, Box::new(message.to_owned())))
        };
        let lost = from(
            DatabaseErrorKind::ClosedConnection,
            "server closed the connection unexpectedly\n\tThis probably means the server terminated abnormally\n",
        );
        assert_eq!(lost.exit_code(), ExitCode::Connection);
        assert!(!lost.to_string().contains('\t'), "{lost}");
        assert!(!lost.to_string().contains("probably"), "{lost}");
        let terminated = from(
            DatabaseErrorKind::Unknown,
            "terminating connection due to administrator command",
        );
        assert!(
            matches!(terminated, Error::ConnectionLost { .. }),
            "{terminated}"
        );
        let read_only = from(
            DatabaseErrorKind::ReadOnlyTransaction,
            "cannot execute CREATE TABLE in a read-only transaction",
        );
        assert_eq!(read_only.exit_code(), ExitCode::Connection);
        let raw = from(DatabaseErrorKind::Unknown, "syntax error\n\tat \u{1b}[2J");
        assert_eq!(raw.to_string(), "database error: syntax error");
        assert_eq!(
            Error::Migration("a\tb\nc".to_owned()).to_string(),
            "migration failed, nothing was changed: a\\tb"
        );
    }
}
