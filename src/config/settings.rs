//! The settings a command resolves once: the target, timeouts, the admin to seed, the schema.

use std::time::Duration;

use super::options::{ConnectOptions, DatabaseOptions, TargetOptions};
use super::postgres::REDIRECTING_VARIABLES;
use super::{Backend, Environment, PasswordScheme, SchemaName, Target, TargetSource};
use crate::error::{Error, Result};
use crate::text::shell_word;

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

pub const DEFAULT_USERNAME: &str = "admin";
pub const DEFAULT_EMAIL: &str = "admin@system.local";
pub const DEFAULT_PASSWORD: &str = "admin123";

/// Who to seed when the database has no system admin.
#[derive(Clone)]
pub struct AdminSeed {
    pub username: String,
    pub email: String,
    pub password: String,
}

impl Default for AdminSeed {
    fn default() -> Self {
        AdminSeed {
            username: DEFAULT_USERNAME.to_owned(),
            email: DEFAULT_EMAIL.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
        }
    }
}

// Hand-written so that the password never reaches a `{:?}`.
impl std::fmt::Debug for AdminSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSeed")
            .field("username", &self.username)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

impl AdminSeed {
    pub fn uses_default_password(&self) -> bool {
        self.password == DEFAULT_PASSWORD
    }
}

/// Everything a command needs to know before it connects.
#[derive(Debug, Clone)]
pub struct Settings {
    pub target: Target,
    /// Where the target came from, for the `target … (from …)` line and connection errors.
    pub target_source: TargetSource,
    /// `None` keeps a `connect_timeout` the URL already names, else `DEFAULT_CONNECT_TIMEOUT`.
    pub connect_timeout: Option<Duration>,
    pub lock_timeout: Duration,
    /// Print every SQL statement facedb runs (`--echo`, `DATABASE_ECHO=true`).
    pub echo: bool,
    /// The deployment environment (`ENV`), recorded by `init`.
    pub environment: String,
    /// Keep retrying a refused connection this long (`--wait`).
    pub wait: Option<Duration>,
    /// How passwords facedb writes are hashed; `None`: as the database's (`password::choose`).
    pub password_scheme: Option<PasswordScheme>,
    /// The admin to seed when there is none (`FACEDB_ADMIN_USERNAME`, `_EMAIL`, `_PASSWORD`).
    pub admin: AdminSeed,
    /// The one schema facedb works in (`--schema`, `FACEDB_SCHEMA`).
    pub schema: SchemaName,
    /// How many backups a reset keeps (`FACEDB_KEEP_BACKUPS`; `reset --keep-backups` wins).
    pub keep_backups: usize,
    /// The flags that named the target, as given (`--database-url`, `--env-file`, `--schema`),
    /// shell-quoted, a URL's password replaced by `PASSWORD`: hints repeat them, so that a hint
    /// pasted as is works on this database (see [`Settings::command`]).
    pub target_flags: Vec<String>,
}

impl Settings {
    /// Resolves the settings from the flags, the process environment and the `.env` file.
    pub fn resolve(options: &impl DatabaseOptions) -> Result<Settings> {
        let env = Environment::load(options.connect().target.env_file.as_deref())?;
        Settings::from_sources(options, &env)
    }

    /// Only the database, from the same sources: for commands that never connect (`facedb sql`).
    pub fn resolve_target(options: &TargetOptions) -> Result<Target> {
        let env = Environment::load(options.env_file.as_deref())?;
        Ok(Target::configured(options, &env)?.0)
    }

    pub fn from_sources(options: &impl DatabaseOptions, env: &Environment) -> Result<Settings> {
        let connect = options.connect();
        let (target, target_source) = Target::configured(&connect.target, env)?;
        if target.backend() == Backend::Postgres {
            // libpq applies these behind the URL's back, whatever it names.
            if let Some(key) = REDIRECTING_VARIABLES
                .iter()
                .find(|key| env.process_only(key).is_some())
            {
                return Err(Error::Usage(format!(
                    "{key} is set in the environment: libpq would use it to connect elsewhere than {} names; unset it and name the host, port and database in {}",
                    target.display(),
                    target_source.setting()
                )));
            }
        }
        let echo = connect.echo
            || env.get("DATABASE_ECHO").is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
            });
        let password_scheme = match (options.password_hash(), env.get("FACEDB_PASSWORD_HASH")) {
            (Some(scheme), _) => Some(scheme),
            (None, Some(value)) => Some(PasswordScheme::parse(&value, "FACEDB_PASSWORD_HASH")?),
            // The database decides (`password::choose`).
            (None, None) => None,
        };
        let defaults = AdminSeed::default();
        let admin = AdminSeed {
            username: env
                .get("FACEDB_ADMIN_USERNAME")
                .unwrap_or(defaults.username),
            email: env.get("FACEDB_ADMIN_EMAIL").unwrap_or(defaults.email),
            password: env
                .get("FACEDB_ADMIN_PASSWORD")
                .unwrap_or(defaults.password),
        };
        let schema = SchemaName::from_sources(&connect.target, env, target.backend())?;
        let keep_backups = match env.get("FACEDB_KEEP_BACKUPS") {
            None => DEFAULT_KEEP_BACKUPS,
            Some(value) => value.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "FACEDB_KEEP_BACKUPS must be a number of backups to keep (0 keeps none), got '{}'",
                    value.escape_debug()
                ))
            })?,
        };
        let mut target_flags = Vec::new();
        if let Some(url) = &connect.target.database_url {
            let mut shown = url.trim().to_owned();
            if let Target::Postgres(pg) = &target {
                for secret in pg.secrets() {
                    shown = shown.replace(&secret, "PASSWORD");
                }
            }
            target_flags.extend(["--database-url".to_owned(), shell_word(&shown)]);
        }
        if let Some(path) = &connect.target.env_file {
            let path = path.to_string_lossy();
            target_flags.extend(["--env-file".to_owned(), shell_word(&path)]);
        }
        if let Some(name) = &connect.target.schema {
            target_flags.extend(["--schema".to_owned(), shell_word(name)]);
        }
        Ok(Settings {
            target_flags,
            schema,
            keep_backups,
            target,
            target_source,
            connect_timeout: connect.connect_timeout,
            lock_timeout: connect.lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT),
            echo,
            environment: env.get("ENV").unwrap_or_else(|| "dev".to_owned()),
            wait: connect.wait,
            password_scheme,
            admin,
        })
    }

    /// `facedb` with the flags that named the target, then `command`: a command line that
    /// works on this database when pasted (`facedb --database-url facedb.db user list`).
    pub fn command(&self, command: &str) -> String {
        command_line(&self.target_flags, command)
    }

    /// Settings for a URL given directly, e.g. by an API that calls `facedb::init` at start-up;
    /// everything else comes from the process environment as for the command line.
    pub fn for_url(database_url: &str) -> Result<Settings> {
        let options = ConnectOptions {
            target: TargetOptions {
                database_url: Some(database_url.to_owned()),
                ..TargetOptions::default()
            },
            ..ConnectOptions::default()
        };
        let mut settings = Settings::from_sources(&options, &Environment::default())?;
        settings.target_source = TargetSource::Caller;
        Ok(settings)
    }
}

/// `facedb`, the flags that named the target (`Settings::target_flags`), then `command`.
pub fn command_line(target_flags: &[String], command: &str) -> String {
    let mut words = vec!["facedb"];
    words.extend(target_flags.iter().map(String::as_str));
    words.push(command);
    words.join(" ")
}

/// Backups a reset keeps unless `--keep-backups`/`FACEDB_KEEP_BACKUPS` says otherwise.
pub const DEFAULT_KEEP_BACKUPS: usize = 3;
