//! Opening connections, with errors a person can act on.
//!
//! Connections are established by hand (not through a pool or `MultiConnection::establish`) so that
//! each failure can be classified: a missing database is created by `init`, a refused connection or
//! a failed login becomes exit code 3 with a message that names the server but never the password.

use std::io::Write;
use std::time::{Duration, Instant};

use diesel::connection::{CacheSize, Instrumentation, InstrumentationEvent};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

use super::postgres::{self, ServerReached};
use super::rows::{FirstLook, SetUpState};
use super::session;
use super::sqlite;
use crate::config::{quote_identifier, Backend, PgTarget, Settings, SqliteTarget, Target};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::text::humanize;

/// A connection to either backend: diesel's `MultiConnection`, so that a query both backends run
/// alike runs on it directly; only backend-specific work matches on it.
#[derive(diesel::MultiConnection)]
pub enum Db {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Whether a command writes. Writing commands refuse a read-only standby; read-only ones
/// (`status`, `check`, `user list`, the dry run) work there too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// Why a PostgreSQL connection failed.
enum PgFailure {
    /// The database does not exist on the server of this target: the one given, or, of a list,
    /// the server facedb found to be the primary.
    MissingDatabase(Box<PgTarget>),
    /// The server did not answer (refused, no socket, timed out), or is a standby that a writing
    /// command cannot use: worth waiting for.
    Unreachable(Error),
    /// libpq's `target_session_attrs=read-write` found no server that takes writes.
    NoWritableServer(Error),
    /// The server turned this client away (`pg_hba.conf`): another server of a list may not.
    Rejected(Error),
    Other(Error),
}

impl PgFailure {
    fn into_error(self, settings: &Settings) -> Error {
        match self {
            PgFailure::MissingDatabase(_) => missing(settings),
            PgFailure::Unreachable(e)
            | PgFailure::NoWritableServer(e)
            | PgFailure::Rejected(e)
            | PgFailure::Other(e) => e,
        }
    }

    /// Whether libpq, given a list, may have stopped at a server that another one would have
    /// answered otherwise.
    fn stops_a_list_early(&self) -> bool {
        matches!(
            self,
            PgFailure::MissingDatabase(_) | PgFailure::NoWritableServer(_) | PgFailure::Rejected(_)
        )
    }
}

/// What `db::open` does with a database that does not exist yet.
#[derive(Clone, Copy)]
pub enum IfMissing {
    /// Fails: the command works on an existing database.
    Fail,
    /// Creates it once `allowed` says the command may (checked before anything is created, so
    /// that a refusal leaves nothing behind).
    Create {
        allowed: fn(&Settings) -> Result<()>,
    },
}

/// Opens the target for a command that writes: a read-only standby is refused (exit 3), or
/// waited for with `--wait`. A database that does not exist yet is created or not as `if_missing`
/// says; the returned flag says whether it was.
pub fn open(settings: &Settings, if_missing: IfMissing, progress: &Progress) -> Result<(Db, bool)> {
    let opened = open_looking(settings, if_missing, progress, None)?;
    Ok((opened.db, opened.created))
}

/// A database [`open_looking`] opened.
pub struct Opened {
    pub db: Db,
    /// Whether it was created.
    pub created: bool,
    /// What the first look found; `None` when none was asked for, the database was just created,
    /// or the look failed (a table someone else's DDL holds, a schema half made by hand): the
    /// caller's locked path then does what is needed.
    pub set_up: Option<SetUpState>,
}

/// [`open`], and with `look`, whether the database shows every sign of being set up: on
/// PostgreSQL in the statement that checks the server, so that it costs no round trip of its own.
pub fn open_looking(
    settings: &Settings,
    if_missing: IfMissing,
    progress: &Progress,
    look: Option<&FirstLook<'_>>,
) -> Result<Opened> {
    announce(settings, progress);
    match &settings.target {
        Target::Postgres(target) => {
            let connected = connect_pg_waiting(target, settings, progress, Access::Write, look);
            let (conn, created, set_up) = match connected {
                Ok((conn, set_up)) => (conn, false, set_up),
                Err(PgFailure::MissingDatabase(on)) => {
                    let IfMissing::Create { allowed } = if_missing else {
                        return Err(missing(settings));
                    };
                    allowed(settings)?;
                    let (created, pooled) = create_pg_database(&on, settings)?;
                    let connected = connect_created(target, settings, progress, pooled)?;
                    announce_server(target, &connected.server, progress);
                    register_session(target, &connected.server, settings);
                    (connected.conn, created, None)
                }
                Err(failure) => return Err(failure.into_error(settings)),
            };
            Ok(Opened {
                db: Db::Postgres(conn),
                created,
                set_up,
            })
        }
        Target::Sqlite(target) => {
            check_sqlite_path(target)?;
            if !target.path.exists() {
                match if_missing {
                    IfMissing::Fail => return Err(missing(settings)),
                    IfMissing::Create { allowed } => allowed(settings)?,
                }
            }
            let (mut conn, created) = connect_sqlite(target, settings)?;
            if settings.echo {
                conn.set_instrumentation(Echo);
            }
            let set_up = match look {
                Some(look) if !created => {
                    sqlite::set_up_state(&mut conn, look.schema, &look.signs).ok()
                }
                _ => None,
            };
            Ok(Opened {
                db: Db::Sqlite(conn),
                created,
                set_up,
            })
        }
    }
}

/// Names the target and where it came from when the person may not know: a `.env` file or
/// built-in defaults chose it (a flag or a process variable was set on purpose).
fn announce(settings: &Settings, progress: &Progress) {
    if settings.target_source.is_implicit() {
        progress.info(format!(
            "target {} ({})",
            settings.target.display(),
            settings.target_source
        ));
    }
}

/// A folder is no SQLite database: said the same way by every command, the ones that only look
/// included, before anything is opened or created.
fn check_sqlite_path(target: &SqliteTarget) -> Result<()> {
    let path = &target.path;
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "{} is a folder, not a SQLite database file; name a file in it, e.g. {}",
            path.display(),
            path.join("facedb.db").display()
        )));
    }
    Ok(())
}

/// Opens the target only if it exists, for commands that look without touching: nothing is
/// created, and a standby will do. On PostgreSQL the commands read in `Db::read_only`
/// transactions (nothing session-level, which a pooler would hand to the next client); SQLite's
/// connection is `query_only`. `None` when the PostgreSQL database or the SQLite file does not
/// exist.
pub fn open_existing(settings: &Settings, progress: &Progress) -> Result<Option<Db>> {
    announce(settings, progress);
    let mut db = match &settings.target {
        Target::Postgres(target) => {
            match connect_pg_waiting(target, settings, progress, Access::Read, None) {
                Ok((conn, _)) => Db::Postgres(conn),
                Err(PgFailure::MissingDatabase(_)) => return Ok(None),
                Err(failure) => return Err(failure.into_error(settings)),
            }
        }
        Target::Sqlite(target) => {
            check_sqlite_path(target)?;
            if !target.path.is_file() {
                return Ok(None);
            }
            Db::Sqlite(connect_sqlite(target, settings)?.0)
        }
    };
    if let Db::Sqlite(conn) = &mut db {
        diesel::sql_query("PRAGMA query_only = ON").execute(conn)?;
        if settings.echo {
            conn.set_instrumentation(Echo);
        }
    }
    Ok(Some(db))
}

/// Connects with every statement unnamed (no statement cache: a named prepared statement lives
/// in one server session, which a transaction-pooling PgBouncer hands to others), and reads what
/// the server is. A writing command that reached a read-only standby gets `Unreachable`.
///
/// diesel's establish also runs `SET TIME ZONE 'UTC'` and `SET CLIENT_ENCODING`: PgBouncer tracks
/// both parameters per client and restores each client's own on every server connection it
/// hands over, so they cannot leak to the API's sessions.
///
/// With `look`, the server check also reads whether the database is set up; when that part fails
/// (a table that someone else's DDL holds fails it at once), the server check runs alone.
fn connect_pg(
    target: &PgTarget,
    url: &str,
    database: &str,
    settings: &Settings,
    access: Access,
    look: Option<&FirstLook<'_>>,
) -> std::result::Result<Connected, PgFailure> {
    let mut conn = PgConnection::establish(url)
        .map_err(|e| classify_pg_error(target, settings, &e.to_string()))?;
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
    // Echoed from the first statement on: the server check, and the first look with it.
    if settings.echo {
        conn.set_instrumentation(Echo);
    }
    let looked = look.and_then(|look| {
        postgres::server_and_set_up_state(&mut conn, look.schema, &look.signs).ok()
    });
    let (server, set_up) = match looked {
        Some((server, set_up)) => (server, Some(set_up)),
        None => (
            postgres::server_reached(&mut conn).map_err(|e| PgFailure::Other(e.into()))?,
            None,
        ),
    };
    // The database the server says it connected to must be the one asked for: a pooler can map
    // a name onto another database, and the one facedb shows, guards and asks to confirm must
    // be the one it works on.
    if server.database != database {
        return Err(PgFailure::Other(Error::Usage(format!(
            "{} connected to database '{}', not to '{database}' as configured (a pooler alias or a service pointing elsewhere?); nothing was changed. Configure the database's own name, or make the pooler's alias the same name",
            target.display(),
            server.database,
        ))));
    }
    if access == Access::Write {
        if let Some(why) = server.read_only() {
            return Err(PgFailure::Unreachable(Error::ReadOnlyServer {
                server: Some(server.describe(target)),
                why,
            }));
        }
    }
    Ok(Connected {
        conn,
        server,
        set_up,
    })
}

/// A connection [`connect_pg`] opened, the server it reached, and what its first look found.
struct Connected {
    conn: PgConnection,
    server: ServerReached,
    set_up: Option<SetUpState>,
}

/// Connects to the target; with a list, where libpq stopped at a server whose answer another
/// one may not give (the database missing on a standby that has not replayed it yet, a
/// `pg_hba.conf` rejection, no server taking writes), facedb tries each server itself before
/// concluding: the first that serves the command is used; when none does, the error says which
/// server said what. A missing database is reported as missing only when the server that said
/// so is the primary.
fn connect_listed(
    target: &PgTarget,
    settings: &Settings,
    access: Access,
    look: Option<&FirstLook<'_>>,
) -> std::result::Result<Connected, PgFailure> {
    let url = target.connection_url(settings.connect_timeout);
    match connect_pg(target, &url, &target.dbname, settings, access, look) {
        // One server that takes no writes is asked why (a standby, or a read-only primary).
        Err(failure)
            if failure.stops_a_list_early()
                && (target.has_several_servers()
                    || matches!(failure, PgFailure::NoWritableServer(_))) => {}
        Err(PgFailure::NoWritableServer(e)) => return Err(PgFailure::Unreachable(e)),
        Err(PgFailure::Rejected(e)) => return Err(PgFailure::Other(e)),
        answered => return answered,
    }
    let mut answers = Vec::new();
    let mut worth_waiting = false;
    let mut missing_on_primary = None;
    for server in target.server_list() {
        let alone = target.on_server(server);
        let url = alone.connection_url(settings.connect_timeout);
        let said = match connect_pg(&alone, &url, &alone.dbname, settings, access, look) {
            Ok(connected) => return Ok(connected),
            Err(PgFailure::MissingDatabase(_)) => {
                if is_primary(&alone, settings) {
                    missing_on_primary.get_or_insert(alone);
                    format!(
                        "database '{}' does not exist (on the primary)",
                        target.dbname
                    )
                } else {
                    worth_waiting = true;
                    format!(
                        "database '{}' does not exist there (a standby that has not replayed its creation yet?)",
                        target.dbname
                    )
                }
            }
            Err(PgFailure::Unreachable(e) | PgFailure::NoWritableServer(e)) => {
                worth_waiting = true;
                short_reason(&e)
            }
            Err(PgFailure::Rejected(e) | PgFailure::Other(e)) => short_reason(&e),
        };
        answers.push(format!("{server}: {said}"));
    }
    if let Some(primary) = missing_on_primary {
        return Err(PgFailure::MissingDatabase(Box::new(primary)));
    }
    let error = Error::Connection(format!(
        "no server of {} can serve this command; {}",
        target.display(),
        answers.join("; ")
    ));
    Err(if worth_waiting {
        PgFailure::Unreachable(error)
    } else {
        PgFailure::Other(error)
    })
}

/// Whether `target`'s one server is a primary (not in recovery), asked through its `postgres`
/// maintenance database; `false` when that cannot be told.
fn is_primary(target: &PgTarget, settings: &Settings) -> bool {
    let url = target.maintenance_url(settings.connect_timeout);
    matches!(
        connect_pg(target, &url, "postgres", settings, Access::Read, None),
        Ok(connected) if !connected.server.in_recovery
    )
}

/// What one server of a list said, short: the reason in a connection error's parentheses, or
/// why a server takes no writes.
fn short_reason(error: &Error) -> String {
    match error {
        Error::ReadOnlyServer { why, .. } => match why {
            crate::error::ReadOnly::Standby => "a read-only standby (in recovery)".to_owned(),
            crate::error::ReadOnly::ReadOnlyPrimary => {
                "a read-only primary (default_transaction_read_only is on)".to_owned()
            }
            crate::error::ReadOnly::Unknown => "read-only".to_owned(),
        },
        other => {
            let text = other.to_string();
            text.split_once(" (")
                .and_then(|(_, rest)| rest.split_once(')'))
                .map(|(reason, _)| reason.to_owned())
                .unwrap_or(text)
        }
    }
}

/// With several servers listed, says which one libpq reached.
fn announce_server(target: &PgTarget, server: &ServerReached, progress: &Progress) {
    if target.has_several_servers() {
        let role = if server.in_recovery {
            "a standby"
        } else {
            "the primary"
        };
        progress.info(format!("connected to {}, {role}", server.describe(target)));
    }
}

/// Connects (see `connect_pg_retrying`) and says which server it reached.
fn connect_pg_waiting(
    target: &PgTarget,
    settings: &Settings,
    progress: &Progress,
    access: Access,
    look: Option<&FirstLook<'_>>,
) -> std::result::Result<(PgConnection, Option<SetUpState>), PgFailure> {
    let connected = connect_pg_retrying(target, settings, progress, access, look)?;
    announce_server(target, &connected.server, progress);
    register_session(target, &connected.server, settings);
    Ok((connected.conn, connected.set_up))
}

/// Makes the session known to Ctrl-C (which cancels its backend through the same server) and
/// to the commit (bounded by `--wait`, else the lock timeout, while a synchronous standby is
/// awaited).
fn register_session(target: &PgTarget, server: &ServerReached, settings: &Settings) {
    let same_server = match server.listed_server(target) {
        Some(listed) => target.on_server(listed),
        None => target.clone(),
    };
    session::register(
        server.backend_pid,
        same_server.connection_url(settings.connect_timeout),
    );
    session::set_commit_wait(settings.wait.unwrap_or(settings.lock_timeout));
}

/// With `--wait`, a server that is not up yet (refused, no socket, no answer, still starting up)
/// is retried until the time is up, e.g. a container that starts before its database; so is a
/// standby for a writing command, until it is promoted. A failed login is not retried: waiting
/// would not fix it.
fn connect_pg_retrying(
    target: &PgTarget,
    settings: &Settings,
    progress: &Progress,
    access: Access,
    look: Option<&FirstLook<'_>>,
) -> std::result::Result<Connected, PgFailure> {
    let Some(wait) = settings.wait else {
        return connect_listed(target, settings, access, look);
    };
    let started = Instant::now();
    let deadline = started + wait;
    let mut waited = false;
    loop {
        match connect_listed(target, settings, access, look) {
            Err(PgFailure::Unreachable(error)) if Instant::now() < deadline => {
                let left = deadline.saturating_duration_since(Instant::now());
                if !waited {
                    // Once, so that a log shows why facedb sits there.
                    progress.info(format!(
                        "waiting up to {} for PostgreSQL at {}: {error}",
                        humanize(wait),
                        target.servers()
                    ));
                    waited = true;
                }
                progress.start(format!(
                    "waiting for PostgreSQL at {} ({}s left)",
                    target.servers(),
                    seconds_left(left)
                ));
                std::thread::sleep(RETRY_INTERVAL.min(left));
            }
            Err(PgFailure::Unreachable(error)) if waited => {
                return Err(PgFailure::Unreachable(Error::Connection(format!(
                    "{error} (gave up after waiting {})",
                    humanize(wait)
                ))))
            }
            // The server answered: with a connection, a missing database or a refused login.
            answered => {
                if waited {
                    progress.done(format!(
                        "PostgreSQL at {} answered after {}s",
                        target.servers(),
                        started.elapsed().as_secs()
                    ));
                }
                return answered;
            }
        }
    }
}

/// Connects to the database just created. A PgBouncer in front of the server (`pooled`) saw it
/// missing a moment ago and holds new clients until it retries its login (`server_login_retry`,
/// 15 s by default), longer than a connect timeout: keep trying that long, and say why. Without
/// a pooler the new database answers at once (a lagging standby listed first is passed over by
/// `connect_listed`); any wait is bounded by `--wait` when it is given.
fn connect_created(
    target: &PgTarget,
    settings: &Settings,
    progress: &Progress,
    pooled: bool,
) -> Result<Connected> {
    let wait = match (settings.wait, pooled) {
        (Some(wait), _) => wait,
        (None, true) => AFTER_CREATE_WAIT,
        (None, false) => Duration::ZERO,
    };
    let deadline = Instant::now() + wait;
    let mut said = false;
    loop {
        match connect_listed(target, settings, Access::Write, None) {
            Ok(connected) => return Ok(connected),
            Err(PgFailure::Unreachable(error)) if Instant::now() < deadline => {
                if !said {
                    let why = if pooled {
                        "the pooler in front of the server holds new clients until it retries its login".to_owned()
                    } else {
                        error.to_string()
                    };
                    progress.info(format!(
                        "created {} but it does not answer yet ({why}): waiting up to {}",
                        target.display(),
                        humanize(wait)
                    ));
                    said = true;
                }
                std::thread::sleep(RETRY_INTERVAL.min(deadline.saturating_duration_since(Instant::now())));
            }
            Err(PgFailure::MissingDatabase(_)) => {
                return Err(Error::Connection(format!(
                    "created {} but the server now says it does not exist (dropped at once by someone else?); run the command again",
                    target.display()
                )))
            }
            Err(failure) => return Err(failure.into_error(settings)),
        }
    }
}

/// How long facedb waits, without `--wait`, for a database it has just created through a
/// pooler to answer: above PgBouncer's default `server_login_retry` (15 s) plus a connect
/// timeout.
const AFTER_CREATE_WAIT: Duration = Duration::from_secs(30);

/// Whole seconds left, rounded up: `--wait 3s` starts at 3s left, not 2.
fn seconds_left(left: Duration) -> u128 {
    left.as_millis().div_ceil(1000)
}

/// How long `--wait` pauses between two attempts.
const RETRY_INTERVAL: Duration = Duration::from_millis(250);

/// The host libpq could not find: `could not translate host name "localhots" to address: Name or
/// service not known` (glibc), `nodename nor servname provided, or not known` (BSD, macOS). Not
/// a temporary failure of the resolver, which says nothing about the name.
fn unresolvable_host(message: &str) -> Option<&str> {
    const PREFIX: &str = "could not translate host name \"";
    let start = message.find(PREFIX)? + PREFIX.len();
    let rest = &message[start..];
    let (host, after) = rest.split_once('"')?;
    let line = after.lines().next().unwrap_or_default().to_lowercase();
    (line.contains("not known") || line.contains("no address associated")).then_some(host)
}

/// Classifies by the driver's own words; only what is shown is scrubbed of the password (a
/// password such as `x` would otherwise turn "does not exist" into "does not e***ist").
fn classify_pg_error(target: &PgTarget, settings: &Settings, message: &str) -> PgFailure {
    let shown = scrub(message, target);
    let lower = message.to_lowercase();
    let at = format!("PostgreSQL at {}", target.servers());
    if lower.contains("database \"") && lower.contains("does not exist") {
        return PgFailure::MissingDatabase(Box::new(target.clone()));
    }
    let auth_reason = if lower.contains("password authentication failed") {
        Some("password authentication failed")
    } else if lower.contains("no password supplied") || lower.contains("password is required") {
        Some("the server wants a password and none was given")
    } else if lower.contains("role \"") && lower.contains("does not exist") {
        Some("no such role")
    } else if lower.contains("pg_hba.conf") {
        Some("pg_hba.conf has no entry for this client")
    } else if lower.contains("authentication failed") {
        Some("authentication failed")
    } else {
        None
    };
    // libpq rejects a connection parameter it does not know or cannot read before connecting:
    // the URL is wrong, not the server.
    if libpq_reason(message).starts_with("invalid ") {
        let reason = libpq_reason(&shown);
        return PgFailure::Other(Error::Usage(format!(
            "the database URL has a bad connection parameter ({reason}): fix or remove it in the URL's query string"
        )));
    }
    if let Some(reason) = auth_reason {
        let error = Error::Connection(format!(
            "cannot log in to {at} as '{}' ({reason}): check {}",
            target.user,
            settings.target_source.credentials_setting()
        ));
        return if lower.contains("pg_hba.conf") {
            PgFailure::Rejected(error)
        } else {
            PgFailure::Other(error)
        };
    }
    // libpq's target_session_attrs=read-write found only servers that take no writes: a
    // promotion may end that.
    if lower.contains("session is read-only") || lower.contains("server is in hot standby") {
        return PgFailure::NoWritableServer(Error::Connection(format!(
            "cannot connect to {at}: every server it reached is read-only (a standby in recovery, or a primary \
             with default_transaction_read_only on) and target_session_attrs=read-write asks for one that takes writes; \
             list the primary too, or wait for a promotion (--wait)"
        )));
    }
    // A name that does not resolve is a typo far more often than a server that is down.
    if let Some(host) = unresolvable_host(&shown) {
        return PgFailure::Unreachable(Error::Connection(format!(
            "no such host `{host}`: the name does not resolve; check the host in {}",
            settings.target_source.setting()
        )));
    }
    let reason = if lower.contains("connection refused") {
        "connection refused".to_owned()
    } else if lower.contains("timeout expired") || lower.contains("timed out") {
        format!(
            "no answer within {}s",
            target
                .effective_connect_timeout(settings.connect_timeout)
                .as_secs()
        )
    } else if lower.contains("could not translate host name")
        || lower.contains("name or service not known")
    {
        "unknown host".to_owned()
    } else if lower.contains("no such file or directory") {
        "no server socket there".to_owned()
    } else if lower.contains("starting up")
        || lower.contains("not yet accepting connections")
        || lower.contains("in recovery mode")
    {
        "the server is starting up".to_owned()
    } else if lower.contains("shutting down") {
        "the server is shutting down".to_owned()
    } else {
        first_line(&shown)
    };
    PgFailure::Unreachable(Error::Connection(format!(
        "cannot connect to {at} ({reason}): is the server running? Check {}",
        settings.target_source.setting()
    )))
}

/// The error of a command that needs the database to exist (exit 2).
pub fn missing(settings: &Settings) -> Error {
    let init = settings.command("init");
    match &settings.target {
        Target::Postgres(target) => Error::Usage(format!(
            "database {} does not exist; run `{init}` to create it",
            target.display()
        )),
        Target::Sqlite(target) => Error::Usage(format!(
            "SQLite database {} does not exist; run `{init}` first",
            target.path.display()
        )),
    }
}

/// Creates the target database through the `postgres` maintenance database. `false`: another
/// process created it first. The second flag: a pooler (or another proxy) is in front of the
/// server, which answered on a port that is not the one facedb connected to.
fn create_pg_database(target: &PgTarget, settings: &Settings) -> Result<(bool, bool)> {
    let url = target.maintenance_url(settings.connect_timeout);
    // A standby or a read-only primary refuses here, before CREATE DATABASE.
    let conn = match connect_pg(target, &url, "postgres", settings, Access::Write, None) {
        Ok(Connected { conn, server, .. }) => {
            let pooled = !target
                .server_list()
                .iter()
                .any(|s| i32::from(s.port) == server.listening_port);
            (conn, pooled)
        }
        Err(PgFailure::MissingDatabase(_)) => {
            return Err(Error::Schema(format!(
                "database {} does not exist and cannot be created: the server has no `postgres` maintenance database; create it by hand",
                target.display()
            )))
        }
        Err(failure) => return Err(failure.into_error(settings)),
    };
    let (mut conn, pooled) = conn;
    if settings.echo {
        conn.set_instrumentation(Echo);
    }
    let statement = format!("CREATE DATABASE {}", quote_identifier(&target.dbname));
    match diesel::sql_query(statement).execute(&mut conn) {
        Ok(_) => Ok((true, pooled)),
        // Another facedb created it at the same moment: that is what we wanted.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("already exists") || info.message().contains("duplicate key") =>
        {
            Ok((false, pooled))
        }
        Err(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("permission denied") => {
            Err(Error::Refused(format!(
                "database {} does not exist and user '{}' may not create it ({}): create it as a superuser or grant CREATEDB",
                target.display(),
                target.user,
                info.message()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Opens the SQLite file, creating it if missing; the flag says whether this process created it
/// (of several started together, exactly one does).
fn connect_sqlite(target: &SqliteTarget, settings: &Settings) -> Result<(SqliteConnection, bool)> {
    let path = &target.path;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(Error::Usage(format!(
                "cannot create SQLite database {}: folder {} does not exist; create it first",
                path.display(),
                parent.display()
            )));
        }
    }
    // An empty file is an empty SQLite database; `create_new` fails if it exists already.
    let created = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
    {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            return Err(Error::Io {
                context: format!("cannot create SQLite database {}", path.display()),
                source: e,
            })
        }
    };
    let path_str = path.to_str().ok_or_else(|| {
        Error::Usage(format!("SQLite path {} is not valid UTF-8", path.display()))
    })?;
    let opened = SqliteConnection::establish(path_str)
        .map_err(|e| {
            Error::Connection(format!(
                "cannot open SQLite database {} ({e})",
                path.display()
            ))
        })
        .and_then(|mut conn| confirm_sqlite_file(&mut conn, target).map(|()| conn));
    let mut conn = match opened {
        Ok(conn) => conn,
        Err(error) => {
            // The empty file this process made is no one's database.
            if created {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
    };
    // Parallel facedb processes wait for each other's write lock for up to the lock timeout.
    let busy_ms = settings.lock_timeout.as_millis().min(i32::MAX as u128);
    diesel::sql_query(format!("PRAGMA busy_timeout = {busy_ms}")).execute(&mut conn)?;
    diesel::sql_query("PRAGMA foreign_keys = ON").execute(&mut conn)?;
    Ok((conn, created))
}

/// The file SQLite opened must be the one facedb checked, created and names.
fn confirm_sqlite_file(conn: &mut SqliteConnection, target: &SqliteTarget) -> Result<()> {
    let opened = sqlite::main_file(conn)?.map(std::path::PathBuf::from);
    let same = match (&opened, std::fs::canonicalize(&target.path)) {
        (Some(opened), Ok(expected)) => std::fs::canonicalize(opened).is_ok_and(|o| o == expected),
        _ => false,
    };
    if !same {
        return Err(Error::Usage(format!(
            "SQLite opened {} instead of {}; nothing was changed. Name the database file as a plain path",
            opened
                .filter(|o| !o.as_os_str().is_empty())
                .map(|o| o.display().to_string())
                .unwrap_or_else(|| "a temporary database".to_owned()),
            target.path.display()
        )));
    }
    Ok(())
}

/// Removes the password, in each form it may take, from a message that came from the server or
/// the driver.
fn scrub(message: &str, target: &PgTarget) -> String {
    target
        .secrets()
        .iter()
        .fold(message.to_owned(), |text, secret| {
            text.replace(secret, "***")
        })
}

/// The first line of a libpq message without its `connection to server at …, port N failed:`
/// and `FATAL:` prefixes.
fn libpq_reason(message: &str) -> String {
    let line = first_line(message);
    let reason = match line.split_once(" failed: ") {
        Some((prefix, rest)) if prefix.starts_with("connection to server") => rest,
        _ => line.as_str(),
    };
    reason.trim_start_matches("FATAL:").trim().to_owned()
}

fn first_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_owned()
}

/// `--echo` / `DATABASE_ECHO=true`: prints each statement, without its bound values (they may
/// hold password hashes).
struct Echo;

impl Instrumentation for Echo {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text.split(" -- binds: ").next().unwrap_or_default().trim();
            let _ = writeln!(std::io::stderr().lock(), "[sql] {sql}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(message: &str) -> PgFailure {
        let settings = Settings::for_url("postgres://app:S3cret@db.example:5433/facedb").unwrap();
        let Target::Postgres(target) = &settings.target else {
            unreachable!()
        };
        classify_pg_error(target, &settings, message)
    }

    #[test]
    fn a_server_that_is_not_up_yet_is_worth_waiting_for() {
        for message in [
            "connection to server at \"127.0.0.1\", port 5433 failed: Connection refused",
            "connection to server at \"127.0.0.1\", port 5433 failed: FATAL:  the database system is starting up",
            "FATAL:  the database system is not yet accepting connections",
            "FATAL:  the database system is shutting down",
            "timeout expired",
        ] {
            assert!(
                matches!(classify(message), PgFailure::Unreachable(_)),
                "{message}"
            );
        }
        let PgFailure::Unreachable(error) = classify("FATAL:  the database system is starting up")
        else {
            unreachable!()
        };
        assert!(
            error.to_string().contains("the server is starting up"),
            "{error}"
        );
    }

    #[test]
    fn the_countdown_starts_at_the_full_wait() {
        assert_eq!(seconds_left(Duration::from_millis(2_990)), 3);
        assert_eq!(seconds_left(Duration::from_secs(3)), 3);
        assert_eq!(seconds_left(Duration::from_millis(1)), 1);
        assert_eq!(seconds_left(Duration::ZERO), 0);
    }

    #[test]
    fn a_standby_is_worth_waiting_for() {
        let PgFailure::NoWritableServer(error) = classify(
            "connection to server at \"10.0.0.1\", port 5432 failed: session is read-only\n\
             connection to server at \"10.0.0.2\", port 5432 failed: Connection refused",
        ) else {
            panic!("a standby-only list is worth waiting for")
        };
        assert!(
            error.to_string().contains("a standby in recovery"),
            "{error}"
        );
        assert!(
            matches!(
                classify("FATAL:  no pg_hba.conf entry for host \"10.0.0.1\""),
                PgFailure::Rejected(_)
            ),
            "another server of a list may let the client in"
        );
        assert!(matches!(
            classify("FATAL:  the database system is in recovery mode"),
            PgFailure::Unreachable(_)
        ));
    }

    #[test]
    fn a_failed_login_is_not_retried() {
        for message in [
            "FATAL:  password authentication failed for user \"app\"",
            "fe_sendauth: no password supplied",
            "FATAL:  role \"app\" does not exist",
            "FATAL:  no pg_hba.conf entry for host \"10.0.0.1\"",
        ] {
            assert!(
                matches!(
                    classify(message),
                    PgFailure::Other(_) | PgFailure::Rejected(_)
                ),
                "{message}"
            );
        }
        assert!(matches!(
            classify("FATAL:  database \"facedb\" does not exist"),
            PgFailure::MissingDatabase(_)
        ));
    }
}
