//! Where the database is and how facedb talks to it.
//!
//! Precedence, highest first: command-line flag, process environment, `.env` file, default; an
//! empty value counts as unset wherever it is, so an empty process variable falls through to the
//! `.env` file. The `.env` file is read into a map rather than into the process environment, so
//! that the order stays explicit and testable. The flags are [`options`]: clap parses them and
//! [`Settings::resolve`] reads them.

pub mod options;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

pub use self::options::PasswordScheme;
use self::options::{ConnectOptions, DatabaseOptions, TargetOptions};
use crate::error::{Error, Result};

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_ENV_FILE: &str = ".env";

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
        let schema = SchemaName::configured(
            connect
                .target
                .schema
                .clone()
                .or_else(|| env.get("FACEDB_SCHEMA")),
            target.backend(),
        )?;
        let keep_backups = match env.get("FACEDB_KEEP_BACKUPS") {
            None => DEFAULT_KEEP_BACKUPS,
            Some(value) => value.trim().parse().map_err(|_| {
                Error::Usage(format!(
                    "FACEDB_KEEP_BACKUPS must be a number of backups to keep (0 keeps none), got '{}'",
                    value.escape_debug()
                ))
            })?,
        };
        Ok(Settings {
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

/// Backups a reset keeps unless `--keep-backups`/`FACEDB_KEEP_BACKUPS` says otherwise.
pub const DEFAULT_KEEP_BACKUPS: usize = 3;

/// PostgreSQL's schema when none is configured.
pub const DEFAULT_SCHEMA: &str = "public";

/// Quotes an SQL identifier (both backends take double quotes): any name works and none can
/// inject SQL.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The schema facedb works in, and the only one it looks at or changes: on PostgreSQL the
/// configured one (default `public`); on SQLite the database file's own, `main`. Every statement
/// facedb writes names it, so that the connection's `search_path` decides nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SchemaName(String);

impl SchemaName {
    /// The schema from `--schema` or `FACEDB_SCHEMA`: a PostgreSQL name (1 to 63 bytes); SQLite
    /// has no schemas to choose from, so only the default is accepted there.
    pub fn configured(name: Option<String>, backend: Backend) -> Result<SchemaName> {
        let name = name.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        if backend == Backend::Sqlite {
            return if name == DEFAULT_SCHEMA {
                Ok(SchemaName("main".to_owned()))
            } else {
                Err(Error::Usage(format!(
                    "--schema/FACEDB_SCHEMA is '{name}', but a SQLite database has no schemas; leave it unset (or '{DEFAULT_SCHEMA}')"
                )))
            };
        }
        if name.is_empty() || name.len() > 63 || name.contains('\0') {
            return Err(Error::Usage(format!(
                "--schema/FACEDB_SCHEMA must be a PostgreSQL schema name of 1 to 63 bytes, got '{}'",
                name.escape_debug()
            )));
        }
        Ok(SchemaName(name))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The schema as an identifier: `"public"`.
    pub fn quoted(&self) -> String {
        quote_identifier(&self.0)
    }

    /// An object of the schema: `"public"."users"`.
    pub fn qualify(&self, object: &str) -> String {
        format!("{}.{}", self.quoted(), quote_identifier(object))
    }

    /// PostgreSQL: an expression for the schema's `pg_namespace` oid, NULL while the schema does
    /// not exist (then no catalog row matches it).
    pub fn namespace(&self) -> String {
        format!(
            "(SELECT oid FROM pg_namespace WHERE nspname = '{}')",
            self.0.replace('\'', "''")
        )
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The process environment over the variables of a `.env` file.
#[derive(Debug, Default)]
pub struct Environment {
    file: HashMap<String, String>,
    /// The file as given (`--env-file`) or `.env`, for naming where a value came from.
    file_path: PathBuf,
    process: Option<HashMap<String, String>>,
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Process,
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Process => write!(f, "the environment"),
            Origin::File(path) if path.is_relative() && path.parent() == Some(Path::new("")) => {
                write!(f, "./{}", path.display())
            }
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Environment {
    /// Reads `path`, or `./.env` when it exists. A missing default file is fine; a missing
    /// file that was asked for is an error.
    pub fn load(path: Option<&Path>) -> Result<Environment> {
        check_process_variables()?;
        let (path, required) = match path {
            Some(path) => (path, true),
            None => (Path::new(DEFAULT_ENV_FILE), false),
        };
        let file = match dotenvy::from_path_iter(path) {
            Ok(iter) => iter
                .collect::<std::result::Result<HashMap<_, _>, _>>()
                .map_err(|e| env_file_error(path, e))?,
            Err(dotenvy::Error::Io(e)) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                HashMap::new()
            }
            Err(e) => return Err(env_file_error(path, e)),
        };
        Ok(Environment {
            file,
            file_path: path.to_owned(),
            process: None,
        })
    }

    /// An environment that ignores the process's variables (for tests).
    pub fn from_maps(
        process: HashMap<String, String>,
        file: HashMap<String, String>,
    ) -> Environment {
        Environment {
            file,
            file_path: PathBuf::from(DEFAULT_ENV_FILE),
            process: Some(process),
        }
    }

    /// A variable's value; an empty value counts as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lookup(key).map(|(value, _)| value)
    }

    /// A variable of the process only (libpq reads no env file), if set and not empty.
    fn process_only(&self, key: &str) -> Option<String> {
        match &self.process {
            Some(map) => map.get(key).cloned(),
            None => std::env::var(key).ok(),
        }
        .filter(|v| !v.is_empty())
    }

    /// A variable's value and where it came from. An empty value counts as unset wherever it is:
    /// an empty process variable falls through to the file.
    pub fn lookup(&self, key: &str) -> Option<(String, Origin)> {
        let from_process = match &self.process {
            Some(map) => map.get(key).cloned(),
            None => std::env::var(key).ok(),
        };
        let from_file = || {
            self.file
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| (v.clone(), Origin::File(self.file_path.clone())))
        };
        match from_process {
            Some(value) if !value.is_empty() => Some((value, Origin::Process)),
            _ => from_file(),
        }
    }
}

/// A variable of facedb's (`DATABASE_*`, `DB_*`, `FACEDB_*`, `ENV`) that is not UTF-8 is an
/// error: read as unset, a garbled DATABASE_URL would send facedb to the default database.
fn check_process_variables() -> Result<()> {
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let ours = key == "ENV"
            || ["DATABASE_", "DB_", "FACEDB_"]
                .iter()
                .any(|prefix| key.starts_with(prefix));
        if ours && value.to_str().is_none() {
            return Err(Error::Usage(format!(
                "{key} is not valid UTF-8; set it to UTF-8 text (percent-encode other bytes in a URL)"
            )));
        }
    }
    Ok(())
}

fn env_file_error(path: &Path, error: dotenvy::Error) -> Error {
    let source = match error {
        dotenvy::Error::Io(e) => e,
        // dotenvy's message quotes the line, which may hold a password: name the line instead.
        dotenvy::Error::LineParse(fragment, _) => std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            malformed_line(path, &fragment),
        ),
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
    };
    Error::EnvFile {
        path: path.to_owned(),
        source,
    }
}

/// Says which line of an env file is malformed, and its variable, but not what it holds.
/// `fragment` is what dotenvy quoted: the line, its value, or the rest of the file after an
/// unclosed quote.
fn malformed_line(path: &Path, fragment: &str) -> String {
    let how = "write KEY=value, quote a value that has spaces or special characters, and close every quote";
    let first = fragment.lines().next().unwrap_or_default().trim();
    let content = std::fs::read_to_string(path).unwrap_or_default();
    let found = content
        .lines()
        .enumerate()
        .find(|(_, line)| !first.is_empty() && line.contains(first));
    let Some((index, line)) = found else {
        return format!("a line is malformed: {how}");
    };
    let key = line.split_once('=').map(|(key, _)| {
        let key = key.trim();
        key.strip_prefix("export ").unwrap_or(key).trim()
    });
    let is_name = |k: &&str| {
        k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    match key.filter(is_name) {
        Some(key) => format!("line {} ({key}) is malformed: {how}", index + 1),
        None => format!("line {} is malformed: {how}", index + 1),
    }
}

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
const DB_PARTS: [&str; 5] = ["DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME"];

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

fn is_sqlite_path(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    !url.contains("://")
        && [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| lower.ends_with(ext))
}

/// A PostgreSQL database: the URL to connect with and its parts for messages.
#[derive(Clone)]
pub struct PgTarget {
    /// With the first server as its host; `url_for` names the others to libpq.
    url: Url,
    /// The servers libpq tries in order (a URL's `h1:5432,h2:5432`, `DB_HOST=h1,h2`), at least one.
    servers: Vec<Server>,
    pub dbname: String,
    pub user: String,
    password: Option<String>,
}

/// One server of a PostgreSQL target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// A host name, an address, or a socket folder (starting with `/`).
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The servers of a host list and a port list as libpq pairs them: one port for every host, or
/// one each. No entry may be empty.
/// `hosts_from` and `ports_from` name where the lists come from, for errors.
fn pair_servers(
    hosts: &str,
    ports: Option<&str>,
    hosts_from: &str,
    ports_from: &str,
) -> Result<Vec<Server>> {
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.iter().any(|host| host.is_empty()) {
        return Err(Error::Usage(format!(
            "{hosts_from} has an empty host name; list hosts as h1,h2 and ports as 5432,5433"
        )));
    }
    let ports: Vec<u16> = match ports {
        None => vec![5432],
        Some(ports) => ports
            .split(',')
            .map(|port| parse_port(port, ports_from))
            .collect::<Result<_>>()?,
    };
    if ports.len() != 1 && ports.len() != hosts.len() {
        return Err(Error::Usage(format!(
            "{hosts_from} lists {} hosts and {ports_from} {} ports: give one port for all hosts, or one per host",
            hosts.len(),
            ports.len()
        )));
    }
    Ok(hosts
        .iter()
        .enumerate()
        .map(|(n, host)| Server {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: ports[if ports.len() == 1 { 0 } else { n }],
        })
        .collect())
}

/// A URL's `h1:5432,[::1]:5433,h3` as servers, each entry's port or 5432.
fn url_servers(list: &str, source: &str) -> Result<Vec<Server>> {
    list.split(',')
        .map(|entry| {
            let (host, port) = match entry.rsplit_once(':') {
                // `[::1]` alone has colons but no port.
                Some((host, port)) if !port.contains(']') => (host, Some(port)),
                _ => (entry, None),
            };
            let mut servers = pair_servers(host, port, source, &format!("the port in {source}"))?;
            Ok(servers.remove(0))
        })
        .collect()
}

// Hand-written so that a `{:?}` can never print the password.
impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("servers", &self.servers)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl PgTarget {
    /// Builds the target from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME. User, password
    /// and name are percent-encoded, so any character works.
    pub fn from_parts(env: &Environment) -> Result<PgTarget> {
        let hosts = env.get("DB_HOST").unwrap_or_else(|| "localhost".to_owned());
        let ports = env.get("DB_PORT");
        let servers = pair_servers(&hosts, ports.as_deref(), "DB_HOST", "DB_PORT")?;
        let Server { host, port } = servers[0].clone();
        let user = env.get("DB_USER").unwrap_or_else(|| "postgres".to_owned());
        let password = env
            .get("DB_PASSWORD")
            .unwrap_or_else(|| "postgres".to_owned());
        let dbname = env.get("DB_NAME").unwrap_or_else(|| "facedb".to_owned());
        check_name_length(&dbname, "DB_NAME")?;
        let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        // A host starting with '/' is a socket directory: libpq takes it, and then the
        // credentials, as query parameters (a URL with credentials needs a host).
        let url = if host.starts_with('/') {
            format!(
                "postgresql:///{}?host={}&port={port}&user={}&password={}",
                encode(&dbname),
                encode(&host),
                encode(&user),
                encode(&password)
            )
        } else {
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            format!(
                "postgresql://{}:{}@{host}:{port}/{}",
                encode(&user),
                encode(&password),
                encode(&dbname)
            )
        };
        let url = Url::parse(&url).map_err(|e| {
            Error::Usage(format!(
                "DB_HOST '{host}' is not a valid host name ({e}); set DB_HOST or DATABASE_URL"
            ))
        })?;
        Ok(PgTarget {
            url,
            servers,
            dbname,
            user,
            password: Some(password),
        })
    }

    fn from_url(raw: &str, source: &str) -> Result<PgTarget> {
        let invalid = |why: String| {
            Error::Usage(format!(
                "{source} is not a valid PostgreSQL URL ({why}); expected postgres://user:password@host:5432/dbname"
            ))
        };
        // Drop a SQLAlchemy driver suffix so that libpq reads the URL.
        let rest = raw
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        check_percent_encoding(rest, source)?;
        // `url` takes one host: it parses the URL with the first server, libpq gets them all.
        let (rest, listed) = split_server_list(rest);
        let listed = listed.map(|list| url_servers(&list, source)).transpose()?;
        let mut url = Url::parse(&format!(
            "postgresql://{}",
            move_credentials_of_hostless_url(&rest)
        ))
        .map_err(|e| invalid(e.to_string()))?;
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let query = libpq_query(&url);
        check_query_parameters(&url, &query, source)?;
        let query_value = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());

        // Query parameters win over the URL's own host and port, as in libpq.
        let servers = match (query_value("host"), listed) {
            (Some(hosts), _) => pair_servers(
                &hosts,
                query_value("port").as_deref(),
                &format!("the host parameter of {source}"),
                &format!("the port in {source}"),
            )?,
            (None, Some(listed)) => listed,
            (None, None) => {
                let host = match url.host_str() {
                    Some(h) if !h.is_empty() => {
                        decode(h.trim_start_matches('[').trim_end_matches(']'))
                    }
                    _ => "localhost".to_owned(),
                };
                let port = match (query_value("port"), url.port()) {
                    (Some(port), _) => parse_port(&port, &format!("the port in {source}"))?,
                    (None, Some(port)) => port,
                    (None, None) => 5432,
                };
                vec![Server { host, port }]
            }
        };
        if servers.iter().any(|s| s.port == 0) {
            return Err(invalid("port 0".to_owned()));
        }
        let user = match url.username() {
            "" => query_value("user").unwrap_or_else(|| "postgres".to_owned()),
            u => decode(u),
        };
        let password = url
            .password()
            .map(decode)
            .or_else(|| query_value("password"));
        let dbname = match decode(url.path().trim_start_matches('/')) {
            name if name.is_empty() => query_value("dbname").unwrap_or_else(|| user.clone()),
            name => name,
        };
        check_name_length(&dbname, &format!("the database name in {source}"))?;
        // The database is named once, in the path: libpq must not fall back to PGDATABASE or read
        // `?dbname=` in another place than facedb does.
        url.set_path(&format!(
            "/{}",
            utf8_percent_encode(&dbname, NON_ALPHANUMERIC)
        ));
        let mut rewritten: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "dbname")
            .map(|(k, v)| match (k.as_str(), v.as_str()) {
                // asyncpg spells libpq's sslmode as `ssl`.
                ("ssl", "true") => ("sslmode".to_owned(), "require".to_owned()),
                ("ssl", _) => ("sslmode".to_owned(), v.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        // The user facedb names is the one it logs in as, not PGUSER's or the system user's.
        if url.username().is_empty() && query_value("user").is_none() {
            rewritten.push(("user".to_owned(), user.clone()));
        }
        if rewritten.is_empty() {
            url.set_query(None);
        } else {
            set_libpq_query(&mut url, &rewritten);
        }
        Ok(PgTarget {
            url,
            servers,
            dbname,
            user,
            password,
        })
    }

    /// `host:port/dbname`; with several servers `h1:5432,h2:5432/dbname`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.servers(), self.dbname)
    }

    /// The servers as a list: `h1:5432,h2:5432`.
    pub fn servers(&self) -> String {
        let servers: Vec<String> = self.servers.iter().map(Server::to_string).collect();
        servers.join(",")
    }

    /// Whether libpq may reach one of several servers (output then names the one it reached).
    pub fn has_several_servers(&self) -> bool {
        self.servers.len() > 1
    }

    /// The URL to connect to this database, with facedb's connection parameters.
    pub fn connection_url(&self, connect_timeout: Option<Duration>) -> String {
        self.url_for(None, connect_timeout)
    }

    /// The URL of the `postgres` maintenance database on the same server (to create ours).
    pub fn maintenance_url(&self, connect_timeout: Option<Duration>) -> String {
        self.url_for(Some("postgres"), connect_timeout)
    }

    fn url_for(&self, dbname: Option<&str>, connect_timeout: Option<Duration>) -> String {
        let mut url = self.url.clone();
        if let Some(dbname) = dbname {
            url.set_path(&format!(
                "/{}",
                utf8_percent_encode(dbname, NON_ALPHANUMERIC)
            ));
        }
        let several = self.has_several_servers();
        let keep: Vec<(String, String)> = libpq_query(&url)
            .into_iter()
            .filter(|(k, _)| !(k == "dbname" && dbname.is_some()))
            .filter(|(k, _)| !(k == "connect_timeout" && connect_timeout.is_some()))
            .filter(|(k, _)| !(several && (k == "host" || k == "port")))
            .collect();
        let has = |key: &str| keep.iter().any(|(k, _)| k == key);
        let mut pairs = keep.clone();
        if several {
            // libpq's query parameters override the URL's one host.
            let list = |part: fn(&Server) -> String| {
                self.servers.iter().map(part).collect::<Vec<_>>().join(",")
            };
            pairs.push(("host".to_owned(), list(|s| s.host.clone())));
            pairs.push(("port".to_owned(), list(|s| s.port.to_string())));
        }
        if !has("application_name") {
            pairs.push(("application_name".to_owned(), "facedb".to_owned()));
        }
        if !has("connect_timeout") {
            let secs = connect_timeout
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
                .as_secs()
                .max(1);
            pairs.push(("connect_timeout".to_owned(), secs.to_string()));
        }
        set_libpq_query(&mut url, &pairs);
        url.to_string()
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Strings that must never reach output: the password decoded, as the URL holds it,
    /// percent-encoded and form-encoded. None when it is empty or the user name (it would hide the user).
    pub fn secrets(&self) -> Vec<String> {
        let Some(password) = self
            .password
            .as_deref()
            .filter(|p| !p.is_empty() && *p != self.user)
        else {
            return Vec::new();
        };
        let mut secrets = vec![
            password.to_owned(),
            utf8_percent_encode(password, NON_ALPHANUMERIC).to_string(),
        ];
        secrets.extend(self.url.password().map(str::to_owned));
        // As a query parameter (a socket directory's URL), the password is form-encoded.
        secrets.push(url::form_urlencoded::byte_serialize(password.as_bytes()).collect());
        secrets.sort();
        secrets.dedup();
        // The longest first, so that a shorter form inside a longer one leaves nothing behind.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
    }

    /// The connect timeout that applies, for messages.
    pub fn effective_connect_timeout(&self, flag: Option<Duration>) -> Duration {
        flag.or_else(|| {
            libpq_query(&self.url)
                .into_iter()
                .find(|(k, _)| k == "connect_timeout")
                .and_then(|(_, v)| v.parse().ok())
                .map(Duration::from_secs)
        })
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }
}

/// libpq rejects a `%` not followed by two hex digits, and quotes the offending part (the
/// password, re-encoded) in its message: refuse first, naming only the part.
fn check_percent_encoding(rest: &str, source: &str) -> Result<()> {
    let bytes = rest.as_bytes();
    let bad = bytes.iter().enumerate().find(|&(i, &b)| {
        b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    let Some((at, _)) = bad else { return Ok(()) };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let part = match rest[..authority_end].rfind('@') {
        Some(userinfo_end) if at < userinfo_end => "user or password",
        _ if at < authority_end => "host",
        _ if rest[..at].contains('?') => "query string",
        _ => "database name",
    };
    Err(Error::Usage(format!(
        "{source} has a '%' that does not start a percent-encoded byte in its {part}; write a literal % as %25 (percent-encode special characters)"
    )))
}

/// libpq's environment variables that would send it to another address or database than the URL
/// names: `PGHOSTADDR` replaces the host's address, a `PGSERVICE` entry may add a `hostaddr`.
const REDIRECTING_VARIABLES: [&str; 2] = ["PGHOSTADDR", "PGSERVICE"];

/// Query parameters that would send libpq to another server or database than the one facedb
/// names, guards and confirms.
const REDIRECTING_PARAMETERS: [&str; 3] = ["service", "servicefile", "hostaddr"];

/// Refuses a query string that redirects libpq behind facedb's back: a service definition, a
/// `hostaddr`, a part named both in the URL and in the query (libpq takes the query's), a
/// parameter given twice (libpq takes the last). An `options` search_path is harmless: facedb pins
/// its own schema in every transaction and refuses to write where the search_path shadows it.
fn check_query_parameters(url: &Url, query: &[(String, String)], source: &str) -> Result<()> {
    let refuse = |why: String| Err(Error::Usage(format!("{source} {why}")));
    for (index, (key, _)) in query.iter().enumerate() {
        if REDIRECTING_PARAMETERS.contains(&key.as_str()) {
            return refuse(format!(
                "has ?{key}=, which can point libpq at another server or database than the one facedb shows and guards; put the host, port and database name in the URL itself"
            ));
        }
        if query[..index].iter().any(|(k, _)| k == key) {
            return refuse(format!("gives ?{key}= twice; give it once"));
        }
    }
    let in_url = [
        ("host", url.host_str().is_some_and(|h| !h.is_empty())),
        ("port", url.port().is_some()),
        ("user", !url.username().is_empty()),
        ("password", url.password().is_some()),
        ("dbname", !url.path().trim_start_matches('/').is_empty()),
    ];
    for (key, named) in in_url {
        if named && query.iter().any(|(k, _)| k == key) {
            let part = if key == "dbname" { "database" } else { key };
            return refuse(format!(
                "names the {part} twice, in the URL and as ?{key}= (libpq would use the second); keep one"
            ));
        }
    }
    Ok(())
}

/// What a query value keeps unencoded: letters, digits and RFC 3986's unreserved marks.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL's query as libpq reads it: `&`-separated `key=value` pairs, each percent-decoded. Not
/// as a web form: a `+` is a plus sign, which `url`'s form decoding would turn into a space.
fn libpq_query(url: &Url) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    url.query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Writes `pairs` as the URL's query in the form libpq reads ([`libpq_query`]): a space is `%20`,
/// never `+`, which libpq would keep as a plus sign (a password with a space would fail).
fn set_libpq_query(url: &mut Url, pairs: &[(String, String)]) {
    let encode = |s: &str| utf8_percent_encode(s, QUERY_VALUE).to_string();
    let query = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    url.set_query(Some(&query));
}

/// PostgreSQL's longest name, in bytes (NAMEDATALEN - 1).
const MAX_NAME_BYTES: usize = 63;

/// PostgreSQL silently cuts a longer database name, in CREATE DATABASE and when connecting alike:
/// facedb would report one name and work on another database, which `reset` must never do.
fn check_name_length(name: &str, what: &str) -> Result<()> {
    if name.len() <= MAX_NAME_BYTES {
        return Ok(());
    }
    let mut cut = MAX_NAME_BYTES;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    Err(Error::Usage(format!(
        "{what} is {} bytes long; PostgreSQL would cut it to its first {MAX_NAME_BYTES} bytes ('{}') and facedb would work on that database. Use a name of at most {MAX_NAME_BYTES} bytes",
        name.len(),
        &name[..cut]
    )))
}

/// Splits a host list out of a URL's authority (`u:p@h1:5432,h2:5433/db`): the URL with the first
/// entry only, and the list. `None` when the URL names at most one host.
fn split_server_list(rest: &str) -> (String, Option<String>) {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    if !hosts.contains(',') {
        return (rest.to_owned(), None);
    }
    let first = hosts.split(',').next().unwrap_or_default();
    let first = if first.is_empty() { "localhost" } else { first };
    let rebuilt = match userinfo {
        Some(userinfo) => format!("{userinfo}@{first}{tail}"),
        None => format!("{first}{tail}"),
    };
    (rebuilt, Some(hosts.to_owned()))
}

/// libpq accepts `user:password@/db?host=/socket/dir`, which `url` rejects (credentials without a
/// host): move the credentials into query parameters, where libpq reads them too.
fn move_credentials_of_hostless_url(rest: &str) -> String {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, hostport)) = authority.rsplit_once('@') else {
        return rest.to_owned();
    };
    if !(hostport.is_empty() || hostport.starts_with(':')) {
        return rest.to_owned();
    }
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut params: Vec<String> = query
        .into_iter()
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(port) = hostport.strip_prefix(':').filter(|p| !p.is_empty()) {
        params.push(format!("port={port}"));
    }
    if !user.is_empty() {
        params.push(format!("user={user}"));
    }
    if let Some(password) = password {
        params.push(format!("password={password}"));
    }
    format!("{path}?{}", params.join("&"))
}

fn parse_port(value: &str, what: &str) -> Result<u16> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(Error::Usage(format!(
            "{what} must be a port number from 1 to 65535, got '{value}'"
        ))),
    }
}

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteTarget {
    pub path: PathBuf,
}

impl SqliteTarget {
    /// SQLAlchemy's rule, so that the API and facedb read one URL as one file:
    /// `sqlite:///x.db` is relative, `sqlite:////abs/x.db` absolute; `sqlite://x.db` is relative too.
    /// A URL without a file name is an error: SQLite would open a temporary database for an
    /// empty path, and a folder is no database.
    fn from_url(url: &str, source: &str) -> Result<SqliteTarget> {
        let rest = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let rest = rest.split('?').next().unwrap_or_default();
        let path = rest.strip_prefix('/').unwrap_or(rest);
        let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
        if path.is_empty() || path.ends_with('/') {
            return Err(Error::Usage(format!(
                "{source} names no SQLite file{}; use sqlite:///relative/file.db or sqlite:////absolute/file.db",
                if path.is_empty() { String::new() } else { format!(" (folder {path})") }
            )));
        }
        SqliteTarget::new(&path, source)
    }

    /// A plain file path. SQLite reads a name starting with `file:` as a URI (diesel opens with
    /// SQLITE_OPEN_URI), which may open another file than the one named (`file:victim.db?x=.db`)
    /// or none at all (`mode=memory`); `:memory:` keeps nothing. Both are refused.
    fn new(path: &str, source: &str) -> Result<SqliteTarget> {
        if path
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
        {
            return Err(Error::Usage(format!(
                "{source} names a SQLite URI filename (file:...), which SQLite may resolve to another file than the one facedb checks; name the file as a plain path (./{path} if the name really starts with file:)"
            )));
        }
        if path == ":memory:" {
            return Err(Error::Usage(format!(
                "{source} names SQLite's in-memory database, which keeps nothing once facedb exits; name a file such as facedb.db"
            )));
        }
        Ok(SqliteTarget {
            path: PathBuf::from(path),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_checked_and_quoted() {
        let pg = |name: &str| SchemaName::configured(Some(name.to_owned()), Backend::Postgres);
        let odd = pg("My \"odd\" o'schema").unwrap();
        assert_eq!(
            odd.qualify("users"),
            "\"My \"\"odd\"\" o'schema\".\"users\""
        );
        assert!(odd.namespace().contains("nspname = 'My \"odd\" o''schema'"));
        assert_eq!(
            SchemaName::configured(None, Backend::Postgres)
                .unwrap()
                .name(),
            "public"
        );
        assert!(pg(&"s".repeat(63)).is_ok());
        for bad in ["", &"s".repeat(64)] {
            assert!(matches!(pg(bad), Err(Error::Usage(_))), "{bad:?}");
        }
        let sqlite =
            |name: Option<&str>| SchemaName::configured(name.map(str::to_owned), Backend::Sqlite);
        assert_eq!(sqlite(None).unwrap().name(), "main");
        assert_eq!(sqlite(Some("public")).unwrap().name(), "main");
        assert!(matches!(sqlite(Some("app")), Err(Error::Usage(_))));
    }

    fn env(process: &[(&str, &str)], file: &[(&str, &str)]) -> Environment {
        let map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Environment::from_maps(map(process), map(file))
    }

    fn pg(settings: &Settings) -> &PgTarget {
        match &settings.target {
            Target::Postgres(pg) => pg,
            other => panic!("expected PostgreSQL, got {other:?}"),
        }
    }

    #[test]
    fn defaults_build_a_local_url() {
        let settings = Settings::from_sources(&ConnectOptions::default(), &env(&[], &[])).unwrap();
        assert_eq!(settings.target.display(), "localhost:5432/facedb");
        assert_eq!(settings.environment, "dev");
        assert!(!settings.echo);
    }

    #[test]
    fn flag_beats_environment_beats_env_file() {
        let file = [
            ("DATABASE_URL", "postgres://f@filehost/filedb"),
            ("ENV", "staging"),
        ];
        let process = [("DATABASE_URL", "postgres://p@prochost/procdb")];
        let flag = ConnectOptions {
            target: TargetOptions {
                database_url: Some("postgres://x@flaghost/flagdb".into()),
                ..TargetOptions::default()
            },
            ..ConnectOptions::default()
        };
        let from_flag = Settings::from_sources(&flag, &env(&process, &file)).unwrap();
        assert_eq!(from_flag.target.display(), "flaghost:5432/flagdb");
        let from_process =
            Settings::from_sources(&ConnectOptions::default(), &env(&process, &file)).unwrap();
        assert_eq!(from_process.target.display(), "prochost:5432/procdb");
        let from_file =
            Settings::from_sources(&ConnectOptions::default(), &env(&[], &file)).unwrap();
        assert_eq!(from_file.target.display(), "filehost:5432/filedb");
        assert_eq!(from_file.environment, "staging");
    }

    #[test]
    fn parts_are_percent_encoded() {
        let e = env(
            &[
                ("DB_PASSWORD", "p@ss:w/o#r%d? x"),
                ("DB_NAME", "my \"db\"; x"),
                ("DB_USER", "us er"),
            ],
            &[],
        );
        let settings = Settings::from_sources(&ConnectOptions::default(), &e).unwrap();
        let target = pg(&settings);
        assert_eq!(target.password(), Some("p@ss:w/o#r%d? x"));
        assert_eq!(target.dbname, "my \"db\"; x");
        let url = target.connection_url(None);
        assert!(url.starts_with("postgresql://us%20er:p%40ss%3Aw%2Fo%23r%25d%3F%20x@localhost:5432/my%20%22db%22%3B%20x?"), "{url}");
        // Round trip: the URL parses back to the same parts.
        let again = PgTarget::from_url(&url, "test").unwrap();
        assert_eq!(again.password(), target.password());
        assert_eq!(again.dbname, target.dbname);
        assert_eq!(again.user, "us er");
    }

    #[test]
    fn socket_directories_work_with_credentials() {
        let e = env(
            &[
                ("DB_HOST", "/var/run/postgresql"),
                ("DB_PASSWORD", "p@ss word"),
            ],
            &[],
        );
        let settings = Settings::from_sources(&ConnectOptions::default(), &e).unwrap();
        assert_eq!(settings.target.display(), "/var/run/postgresql:5432/facedb");
        assert_eq!(pg(&settings).password(), Some("p@ss word"));
        // libpq reads a `+` as a plus sign: a space must reach it as %20.
        let url = pg(&settings).connection_url(None);
        assert!(url.contains("password=p%40ss%20word"), "{url}");
        let again = PgTarget::from_url(&url, "test").unwrap();
        assert_eq!(again.password(), Some("p@ss word"));
        let plus = Target::parse("postgres://app@/db?host=/tmp&password=a+b", "x").unwrap();
        let Target::Postgres(plus) = plus else {
            unreachable!()
        };
        assert_eq!(plus.password(), Some("a+b"));
        let target =
            Target::parse("postgres://app:pw@/sock?host=/tmp/probe&port=45999", "x").unwrap();
        assert_eq!(target.display(), "/tmp/probe:45999/sock");
        let Target::Postgres(pg) = target else {
            unreachable!()
        };
        assert_eq!((pg.user.as_str(), pg.password()), ("app", Some("pw")));
    }

    #[test]
    fn bad_port_is_a_usage_error() {
        for port in ["abc", "0", "70000", "-1"] {
            let err =
                Settings::from_sources(&ConnectOptions::default(), &env(&[("DB_PORT", port)], &[]))
                    .unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{port}: {err}");
            assert!(err.to_string().contains("DB_"), "{err}");
        }
    }

    #[test]
    fn python_driver_suffixes_are_dropped() {
        for url in [
            "postgresql+asyncpg://u:secret@db:6543/app?ssl=require",
            "postgresql+psycopg2://u:secret@db:6543/app",
            "postgres://u:secret@db:6543/app",
        ] {
            let target = Target::parse(url, "DATABASE_URL").unwrap();
            assert_eq!(target.display(), "db:6543/app");
            let Target::Postgres(pg) = target else {
                unreachable!()
            };
            let conn = pg.connection_url(None);
            assert!(
                conn.starts_with("postgresql://u:secret@db:6543/app?"),
                "{conn}"
            );
            assert!(
                !conn.contains("ssl=") || conn.contains("sslmode=require"),
                "{conn}"
            );
            assert!(conn.contains("application_name=facedb"), "{conn}");
        }
    }

    #[test]
    fn unknown_scheme_lists_accepted_forms_without_the_url() {
        let err = Target::parse("mysql://root:hunter2@db/x", "DATABASE_URL").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, Error::Usage(_)));
        assert!(
            msg.contains("postgres://") && msg.contains("sqlite://"),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn sqlite_urls_follow_sqlalchemy() {
        let path = |url: &str| match Target::parse(url, "DATABASE_URL").unwrap() {
            Target::Sqlite(s) => s.path,
            other => panic!("{other:?}"),
        };
        assert_eq!(path("sqlite:///x.db"), PathBuf::from("x.db"));
        assert_eq!(
            path("sqlite+aiosqlite:///data/x.db"),
            PathBuf::from("data/x.db")
        );
        assert_eq!(path("sqlite:////tmp/x.db"), PathBuf::from("/tmp/x.db"));
        assert_eq!(path("sqlite://rel/x.db"), PathBuf::from("rel/x.db"));
        assert_eq!(
            path("./some/file.sqlite3"),
            PathBuf::from("./some/file.sqlite3")
        );
        for no_file in [
            "sqlite://",
            "sqlite:///",
            "sqlite:////",
            "sqlite:///data/",
            "sqlite://?x=1",
        ] {
            let err = Target::parse(no_file, "DATABASE_URL").unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{no_file}: {err}");
            assert!(err.to_string().contains("names no SQLite file"), "{err}");
        }
    }

    #[test]
    fn an_empty_process_variable_falls_through_to_the_env_file() {
        let file = [
            ("ENV", "production"),
            ("DATABASE_URL", "postgres://f@filehost/filedb"),
        ];
        let process = [("ENV", ""), ("DATABASE_URL", "")];
        let settings =
            Settings::from_sources(&ConnectOptions::default(), &env(&process, &file)).unwrap();
        assert_eq!(settings.environment, "production");
        assert_eq!(settings.target.display(), "filehost:5432/filedb");
        assert_eq!(
            settings.target_source,
            TargetSource::DatabaseUrl(Origin::File(PathBuf::from(".env")))
        );
        // Empty in both: unset, the default.
        let settings = Settings::from_sources(
            &ConnectOptions::default(),
            &env(&[("ENV", "")], &[("ENV", "")]),
        )
        .unwrap();
        assert_eq!(settings.environment, "dev");
    }

    #[test]
    fn the_target_source_says_where_each_part_came_from() {
        let source = |process: &[(&str, &str)], file: &[(&str, &str)]| {
            let settings =
                Settings::from_sources(&ConnectOptions::default(), &env(process, file)).unwrap();
            (
                settings.target_source.to_string(),
                settings.target_source.is_implicit(),
            )
        };
        assert_eq!(
            source(&[], &[]),
            (
                "built-in defaults: no DATABASE_URL or DB_* set".to_owned(),
                true
            )
        );
        assert_eq!(
            source(&[("DATABASE_URL", "x.db")], &[]),
            ("from DATABASE_URL".to_owned(), false)
        );
        assert_eq!(
            source(&[("DB_NAME", "app")], &[("DB_HOST", "db")]),
            (
                "from DB_HOST in ./.env and DB_NAME in the environment; built-in defaults for the other DB_* parts"
                    .to_owned(),
                true
            )
        );
        let all: Vec<(&str, &str)> = DB_PARTS.iter().map(|name| (*name, "5")).collect();
        assert!(!source(&all, &[]).1, "every part set on purpose");
    }

    #[test]
    fn parameters_that_redirect_libpq_are_refused_and_dbname_lives_in_the_path() {
        for (url, says) in [
            ("postgres://u@h/a?dbname=b", "database twice"),
            ("postgres://u@h/a?host=other", "host twice"),
            ("postgres://u@h:5433/a?port=5434", "port twice"),
            ("postgres://u:p@h/a?password=q", "password twice"),
            ("postgres://h/a?user=x&user=y", "?user= twice"),
            ("postgres://u@h/a?service=prod", "?service="),
            ("postgres://u@h/a?servicefile=/x", "?servicefile="),
            ("postgres://u@h/a?hostaddr=10.0.0.1", "?hostaddr="),
        ] {
            let err = Target::parse(url, "DATABASE_URL").unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
            assert!(err.to_string().contains(says), "{url}: {err}");
        }
        let Target::Postgres(pg) =
            Target::parse("postgres://u@h/?dbname=b&sslmode=require", "x").unwrap()
        else {
            unreachable!()
        };
        assert_eq!(pg.dbname, "b");
        let url = pg.connection_url(None);
        assert!(
            url.starts_with("postgresql://u@h/b?sslmode=require&"),
            "{url}"
        );
        assert!(!url.contains("dbname="), "{url}");
        // No user in the URL: the one facedb names, not PGUSER's.
        let Target::Postgres(pg) = Target::parse("postgres://h/app", "x").unwrap() else {
            unreachable!()
        };
        assert!(pg.connection_url(None).contains("user=postgres"));
    }

    #[test]
    fn libpq_variables_that_redirect_are_refused_for_postgres_only() {
        for key in REDIRECTING_VARIABLES {
            let e = env(&[(key, "10.0.0.9")], &[]);
            let err = Settings::from_sources(&ConnectOptions::default(), &e).unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{err}");
            assert!(err.to_string().contains(key), "{err}");
            // Empty is unset; in the env file libpq never sees it; SQLite does not care.
            let quiet = [env(&[(key, "")], &[]), env(&[], &[(key, "10.0.0.9")])];
            for e in quiet {
                assert!(Settings::from_sources(&ConnectOptions::default(), &e).is_ok());
            }
            let sqlite = env(&[(key, "x"), ("DATABASE_URL", "app.db")], &[]);
            assert!(Settings::from_sources(&ConnectOptions::default(), &sqlite).is_ok());
        }
    }

    #[test]
    fn a_bad_percent_sign_names_the_part_but_not_the_value() {
        for (url, part) in [
            ("postgres://u:my secret%zz@h/d", "user or password"),
            ("postgres://u@h/d%g1", "database name"),
            ("postgres://u@h/d?application_name=%", "query string"),
        ] {
            let err = Target::parse(url, "DATABASE_URL").unwrap_err().to_string();
            assert!(err.contains(part), "{url}: {err}");
            assert!(!err.contains("secret") && !err.contains("%zz"), "{err}");
        }
    }

    #[test]
    fn secrets_cover_every_form_of_the_password() {
        let Target::Postgres(pg) = Target::parse("postgres://u:p-ss.w~rd wö@h/d", "x").unwrap()
        else {
            unreachable!()
        };
        let secrets = pg.secrets();
        for form in [
            "p-ss.w~rd wö",
            // As the URL holds it (and libpq receives it), percent-encoded, form-encoded.
            "p-ss.w~rd%20w%C3%B6",
            "p%2Dss%2Ew%7Erd%20w%C3%B6",
            "p-ss.w%7Erd+w%C3%B6",
        ] {
            assert!(secrets.iter().any(|s| s == form), "{form}: {secrets:?}");
        }
    }

    #[test]
    fn sqlite_uri_filenames_and_memory_are_refused() {
        for url in [
            "sqlite:///file:victim.db",
            "file:victim.db?x=.db",
            "File:x.sqlite",
            "sqlite://:memory:",
            "sqlite:///:memory:",
        ] {
            let err = Target::parse(url, "DATABASE_URL").unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{url}: {err}");
        }
        assert!(Target::parse("./file:odd.db", "x").is_ok());
    }

    #[test]
    fn multi_host_urls_name_every_server_and_reach_libpq_whole() {
        let target = Target::parse(
            "postgresql+asyncpg://app:S3cret@h1:5432,h2:5433,[::1]/facedb?target_session_attrs=read-write",
            "DATABASE_URL",
        )
        .unwrap();
        assert_eq!(target.display(), "h1:5432,h2:5433,[::1]:5432/facedb");
        let Target::Postgres(pg) = &target else {
            unreachable!()
        };
        assert!(pg.has_several_servers());
        assert_eq!((pg.user.as_str(), pg.password()), ("app", Some("S3cret")));
        let url = pg.connection_url(None);
        assert!(
            url.starts_with("postgresql://app:S3cret@h1:5432/facedb?"),
            "{url}"
        );
        for part in [
            "target_session_attrs=read-write",
            "host=h1%2Ch2%2C%3A%3A1",
            "port=5432%2C5433%2C5432",
        ] {
            assert!(url.contains(part), "{part} in {url}");
        }
        // The query form, one port for all hosts.
        let target = Target::parse("postgres://u@/db?host=a,b&port=6000", "DATABASE_URL").unwrap();
        assert_eq!(target.display(), "a:6000,b:6000/db");
        // One server: the URL as before, no host list added.
        let target = Target::parse("postgres://u:p@db:6543/app", "DATABASE_URL").unwrap();
        let Target::Postgres(pg) = &target else {
            unreachable!()
        };
        assert!(!pg.has_several_servers());
        assert!(!pg.connection_url(None).contains("host="));
    }

    #[test]
    fn host_lists_from_db_host_and_db_port() {
        let settings = Settings::from_sources(
            &ConnectOptions::default(),
            &env(&[("DB_HOST", "pg-a,pg-b"), ("DB_PORT", "5432,6432")], &[]),
        )
        .unwrap();
        assert_eq!(settings.target.display(), "pg-a:5432,pg-b:6432/facedb");
        let url = pg(&settings).connection_url(None);
        assert!(
            url.contains("host=pg-a%2Cpg-b") && url.contains("port=5432%2C6432"),
            "{url}"
        );
        let one_port = Settings::from_sources(
            &ConnectOptions::default(),
            &env(&[("DB_HOST", "pg-a,pg-b"), ("DB_PORT", "7000")], &[]),
        )
        .unwrap();
        assert_eq!(one_port.target.display(), "pg-a:7000,pg-b:7000/facedb");
        for (hosts, ports) in [
            ("a,b,c", "1,2"),
            ("a,b", "1,x"),
            ("a,b", "1,"),
            ("a,,b", "1"),
        ] {
            let err = Settings::from_sources(
                &ConnectOptions::default(),
                &env(&[("DB_HOST", hosts), ("DB_PORT", ports)], &[]),
            )
            .unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{hosts} {ports}: {err}");
            assert!(err.to_string().contains("DB_"), "{err}");
        }
        let err = Target::parse("postgres://u@h1:1,h2:0/db", "DATABASE_URL").unwrap_err();
        assert!(matches!(err, Error::Usage(_)), "{err}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let target = Target::parse("postgres://u:hunter2@h/d", "x").unwrap();
        assert!(!format!("{target:?}").contains("hunter2"));
    }
}
