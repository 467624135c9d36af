//! Which database a command works on, its backend, and where it was named.

use super::options::TargetOptions;
use super::{Environment, Origin, PgTarget, SqliteTarget};
use crate::error::{Error, Result};

/// The database a command works on.
#[derive(Debug, Clone)]
pub enum Target {
    Postgres(PgTarget),
    Sqlite(SqliteTarget),
}

/// The two database backends facedb speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// PostgreSQL (production).
    #[value(alias = "postgresql")]
    Postgres,
    /// SQLite (a first try, the API's tests).
    Sqlite,
}

impl Backend {
    /// The backend as named in JSON output.
    pub fn key(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Sqlite => "SQLite",
        }
    }
}

/// Where the target came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetSource {
    /// `--database-url`.
    Flag,
    /// A URL handed to the library (`Settings::for_url`).
    Caller,
    /// `DATABASE_URL`, from the process or a file.
    DatabaseUrl(Origin),
    /// The `DB_*` variables that are set, each with its origin; none set: built-in defaults.
    Parts(Vec<(&'static str, Origin)>),
}

/// The variables `PgTarget::from_parts` reads.
pub(super) const DB_PARTS: [&str; 5] = ["DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME"];

impl TargetSource {
    /// Whether the person may not know where the target came from: a file or built-in defaults
    /// decided some of it. A flag or a process variable was set on purpose.
    pub fn is_implicit(&self) -> bool {
        match self {
            TargetSource::Flag | TargetSource::Caller => false,
            TargetSource::DatabaseUrl(origin) => *origin != Origin::Process,
            TargetSource::Parts(parts) => {
                parts.len() < DB_PARTS.len()
                    || parts.iter().any(|(_, origin)| *origin != Origin::Process)
            }
        }
    }

    /// The setting a person changes to point facedb elsewhere, for URL and connection errors.
    pub fn setting(&self) -> String {
        match self {
            TargetSource::Flag => "--database-url".to_owned(),
            TargetSource::Caller => "the database URL".to_owned(),
            TargetSource::DatabaseUrl(Origin::Process) => "DATABASE_URL".to_owned(),
            TargetSource::DatabaseUrl(origin) => format!("DATABASE_URL in {origin}"),
            TargetSource::Parts(_) => "DB_HOST/DB_PORT (or DATABASE_URL)".to_owned(),
        }
    }

    /// Where the credentials are set, for a failed login.
    pub fn credentials_setting(&self) -> String {
        match self {
            TargetSource::Parts(_) => "the credentials in DB_USER/DB_PASSWORD".to_owned(),
            url => format!("the credentials in {}", url.setting()),
        }
    }
}

impl std::fmt::Display for TargetSource {
    /// `from DATABASE_URL in ./.env`, `built-in defaults: no DATABASE_URL or DB_* set`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetSource::Parts(parts) if parts.is_empty() => {
                write!(f, "built-in defaults: no DATABASE_URL or DB_* set")
            }
            TargetSource::Parts(parts) => {
                let mut origins: Vec<&Origin> = Vec::new();
                for (_, origin) in parts {
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
                let groups: Vec<String> = origins
                    .iter()
                    .map(|origin| {
                        let names: Vec<&str> = parts
                            .iter()
                            .filter(|(_, o)| o == *origin)
                            .map(|(name, _)| *name)
                            .collect();
                        format!("{} in {origin}", names.join(", "))
                    })
                    .collect();
                write!(f, "from {}", groups.join(" and "))?;
                if parts.len() < DB_PARTS.len() {
                    write!(f, "; built-in defaults for the other DB_* parts")?;
                }
                Ok(())
            }
            other => write!(f, "from {}", other.setting()),
        }
    }
}

impl Target {
    /// The database named by `--database-url`, else `DATABASE_URL`, else the `DB_*` variables,
    /// and where it came from.
    pub fn configured(
        options: &TargetOptions,
        env: &Environment,
    ) -> Result<(Target, TargetSource)> {
        let source = match (&options.database_url, env.lookup("DATABASE_URL")) {
            (Some(_), _) => TargetSource::Flag,
            (None, Some((_, origin))) => TargetSource::DatabaseUrl(origin),
            (None, None) => TargetSource::Parts(
                DB_PARTS
                    .iter()
                    .filter_map(|name| env.lookup(name).map(|(_, origin)| (*name, origin)))
                    .collect(),
            ),
        };
        let url = options
            .database_url
            .clone()
            .or_else(|| env.get("DATABASE_URL"));
        let target = match url {
            Some(url) => Target::parse(&url, &source.setting())?,
            None => Target::Postgres(PgTarget::from_parts(env)?),
        };
        Ok((target, source))
    }

    /// Parses a database URL given by `source` (named in errors, the URL never is).
    pub fn parse(url: &str, source: &str) -> Result<Target> {
        let url = url.trim();
        check_control_characters(url, source)?;
        let scheme = url
            .split_once("://")
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        // SQLAlchemy names the driver after a '+': postgresql+asyncpg, sqlite+aiosqlite.
        let backend = scheme.as_deref().map(|s| s.split('+').next().unwrap_or(s));
        match backend {
            Some("postgres" | "postgresql") => Ok(Target::Postgres(PgTarget::from_url(url, source)?)),
            Some("sqlite") => Ok(Target::Sqlite(SqliteTarget::from_url(url, source)?)),
            None if is_sqlite_path(url) => Ok(Target::Sqlite(SqliteTarget::new(url, source)?)),
            _ => Err(Error::Usage(format!(
                "{source} is not a database URL facedb understands{}; use postgres://user:password@host:5432/dbname \
                 (also postgresql://, postgresql+asyncpg://, postgresql+psycopg2://), \
                 sqlite://relative.db, sqlite:////absolute.db (also sqlite+aiosqlite://), or a path ending in .db, .sqlite or .sqlite3",
                match &scheme {
                    Some(s) => format!(" (scheme '{s}')"),
                    None => String::new(),
                }
            ))),
        }
    }

    /// How the target is named in output: `host:port/dbname` or the file path, never a password.
    pub fn display(&self) -> String {
        match self {
            Target::Postgres(pg) => pg.display(),
            Target::Sqlite(sqlite) => sqlite.path.display().to_string(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The backend as named in JSON output.
    pub fn backend_key(&self) -> &'static str {
        self.backend().key()
    }
}

/// Refuses a URL with a control character, as typed or percent-encoded (`%00`, `%0A`): no host,
/// user, password, database or file name holds one, and libpq would cut the URL at a NUL.
fn check_control_characters(url: &str, source: &str) -> Result<()> {
    let decoded: Vec<u8> = percent_encoding::percent_decode_str(url).collect();
    if String::from_utf8_lossy(&decoded)
        .chars()
        .any(char::is_control)
    {
        return Err(Error::Usage(format!(
            "{source} contains a control character (such as %00, a tab or a line break, typed or percent-encoded); no database URL holds one: check how it was written"
        )));
    }
    Ok(())
}

fn is_sqlite_path(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    !url.contains("://")
        && [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}
