//! The command-line options that say which database and how to reach it: clap parses them, and
//! [`Settings::resolve`](super::Settings::resolve) reads them as they are. They come in three
//! levels, each flattened into the commands that read it, so that a command's `--help` lists only
//! what it reads and anything else is a usage error: [`TargetOptions`] (every command that reads
//! the configuration), [`ConnectOptions`] (the commands that connect), [`WriteOptions`] (the
//! commands that write passwords), whose [`PasswordScheme`] is also read from
//! `FACEDB_PASSWORD_HASH`.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};

/// Which database.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Database options")]
pub struct TargetOptions {
    /// Database URL (postgres://user:password@host:5432/dbname, sqlite:///file.db, file.db).
    /// Overrides DATABASE_URL and the DB_* variables.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Read variables from this file instead of ./.env (the process environment still wins).
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,

    /// The PostgreSQL schema facedb works in, and the only one it touches [default: public;
    /// env: FACEDB_SCHEMA]. SQLite accepts only the default.
    #[arg(long, value_name = "NAME")]
    pub schema: Option<String>,
}

/// How to connect.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Database options")]
pub struct ConnectOptions {
    #[command(flatten)]
    pub target: TargetOptions,

    /// Give up connecting after this long (e.g. 5s) [default: 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Keep retrying while the server refuses connections, up to this long (e.g. 30s); also
    /// bounds a commit waiting for a synchronous standby [default there: the lock timeout].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<Duration>,

    /// Give up waiting for a lock (another facedb, or a session holding facedb's tables) after
    /// this long [default: 60s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,

    /// Print every SQL statement facedb runs (also DATABASE_ECHO=true).
    #[arg(long)]
    pub echo: bool,
}

/// How facedb hashes the passwords it writes (`--password-hash`, `FACEDB_PASSWORD_HASH`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PasswordScheme {
    #[default]
    Argon2id,
    Bcrypt,
}

impl PasswordScheme {
    pub fn parse(value: &str, source: &str) -> Result<PasswordScheme> {
        match value.trim().to_ascii_lowercase().as_str() {
            "argon2id" | "argon2" => Ok(PasswordScheme::Argon2id),
            "bcrypt" => Ok(PasswordScheme::Bcrypt),
            _ => Err(Error::Usage(format!(
                "{source} must be argon2id or bcrypt, got '{value}'"
            ))),
        }
    }
}

/// How to write passwords.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Database options")]
pub struct WriteOptions {
    #[command(flatten)]
    pub connect: ConnectOptions,

    /// How to hash the passwords facedb writes [default: bcrypt when every stored hash is
    /// bcrypt, else argon2id; env: FACEDB_PASSWORD_HASH].
    #[arg(long, value_name = "SCHEME")]
    pub password_hash: Option<PasswordScheme>,
}

/// What a command's settings are resolved from: the connection options, and for the commands
/// that write passwords, the scheme. Each option left out falls back to the environment.
pub trait DatabaseOptions {
    fn connect(&self) -> &ConnectOptions;

    fn password_hash(&self) -> Option<PasswordScheme> {
        None
    }
}

impl DatabaseOptions for ConnectOptions {
    fn connect(&self) -> &ConnectOptions {
        self
    }
}

impl DatabaseOptions for WriteOptions {
    fn connect(&self) -> &ConnectOptions {
        &self.connect
    }

    fn password_hash(&self) -> Option<PasswordScheme> {
        self.password_hash
    }
}

/// The longest timeout or wait facedb takes. Anything longer is a mistake (and PostgreSQL's
/// `lock_timeout` cannot go past about 24 days).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Parses a duration as humantime writes it (`30s`, `500ms`, `1.5s`, `2m`, `1h 30m`), or a plain
/// number of seconds, up to [`MAX_DURATION`].
pub fn parse_duration(value: &str) -> std::result::Result<Duration, String> {
    use humantime::DurationError;
    let value = value.trim();
    let not_a_duration = || format!("'{value}' is not a duration; use e.g. 30s, 500ms or 2m");
    let too_long = || format!("'{value}' is too long; facedb waits at most 24h");
    let plain_seconds = !value.is_empty() && value.chars().all(|c| c.is_ascii_digit() || c == '.');
    let with_unit = if plain_seconds {
        format!("{value}s")
    } else {
        value.to_owned()
    };
    let duration = humantime::parse_duration(&with_unit).map_err(|error| match error {
        DurationError::UnknownUnit { unit, .. } => {
            format!("unknown unit '{unit}' in '{value}'; use ms, s, m or h")
        }
        // Also a fraction finer than a nanosecond: too precise rather than too long.
        DurationError::NumberOverflow if value.contains('.') => not_a_duration(),
        DurationError::NumberOverflow => too_long(),
        _ => not_a_duration(),
    })?;
    if duration > MAX_DURATION {
        return Err(too_long());
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("2min").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration(" 5 s ").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("1h 30m").unwrap(), Duration::from_secs(5400));
        for not_a_duration in ["soon", "", "-1s", "1.", "1e3"] {
            let err = parse_duration(not_a_duration).unwrap_err();
            assert!(
                err.contains("not a duration") || err.contains("unknown unit"),
                "{not_a_duration}: {err}"
            );
        }
        let err = parse_duration("5 parsecs").unwrap_err();
        assert!(err.contains("unknown unit 'parsecs'"), "{err}");
        assert_eq!(parse_duration("24h").unwrap(), MAX_DURATION);
        for too_long in [
            "25h",
            "86401",
            "2d",
            "99999999999999999999",
            "1000000000000000000000h",
        ] {
            let err = parse_duration(too_long).unwrap_err();
            assert!(err.contains("at most 24h"), "{too_long}: {err}");
        }
    }
}
