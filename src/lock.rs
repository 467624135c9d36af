//! One facedb at a time per database: init, reset and fresh work inside one transaction that
//! first takes facedb's lock. On PostgreSQL that is a transaction-scoped advisory lock (released
//! by the server even if the process dies); on SQLite the file's write lock (`BEGIN IMMEDIATE`).
//! Single-row writes such as `user create` use a plain transaction instead (`Db::transaction`),
//! and commands that only look read in a read-only one (`Db::read_only`). Both hold facedb's lock
//! in shared mode: they run beside each other, while a reset waits for them and they for a reset.
//! Without that, a reader holding one table while it waits for another that a reset holds, and
//! the reset waiting for the first, would deadlock. The dry run (`Db::glance`) never waits for
//! another facedb.
//!
//! Every statement facedb runs on PostgreSQL runs in one of these transactions, and every setting
//! is `SET LOCAL`: behind a transaction-pooling PgBouncer each transaction may get another server
//! session, and nothing of facedb's may stay behind in one for the next client.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use crate::config::SchemaName;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::text::humanize;

/// facedb's advisory lock key: the bytes of "facedb".
pub const ADVISORY_LOCK_KEY: i64 = 0x6661_6365_6462;

impl Db {
    /// Runs `work` in one transaction holding facedb's lock: all of it commits, or none of it.
    pub fn exclusive<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        self.begin(schema, lock_timeout, Mode::Exclusive)?;
        self.finish(schema, lock_timeout, work)
    }

    /// Runs `work` in one transaction holding facedb's lock in shared mode: for single-row
    /// writes, which may run beside each other. Waits for a table lock (a `reset` at work) are still bounded by
    /// `lock_timeout`; on SQLite the transaction takes the file's write lock, so a check followed
    /// by a write sees no other writer in between.
    pub fn transaction<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        self.begin(schema, lock_timeout, Mode::Write)?;
        self.finish(schema, lock_timeout, work)
    }

    /// Runs `work` in a read-only transaction (`BEGIN READ ONLY` on PostgreSQL, so a standby
    /// serves it too) whose lock waits are bounded by `lock_timeout` from its first statement.
    /// It holds facedb's lock in shared mode.
    pub fn read_only<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        self.begin(schema, lock_timeout, Mode::Read)?;
        self.finish(schema, lock_timeout, work)
    }

    /// [`Db::read_only`] for the dry run, which never waits for another facedb: it takes facedb's
    /// lock in shared mode only if it is free. While another facedb holds it (a reset or an init
    /// at work), a lock wait, which could only be for that command, fails at once, naming it.
    pub fn glance<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        doing: &str,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        self.begin(schema, lock_timeout, Mode::Glance)?;
        self.finish(schema, lock_timeout, |db| {
            let Db::Postgres(conn) = db else {
                return work(db);
            };
            let Some(holder) = lock_holder(conn, true) else {
                return work(db);
            };
            diesel::sql_query("SET LOCAL lock_timeout = 1").execute(conn)?;
            work(db).map_err(|error| match error {
                Error::Database(e) if is_lock_timeout(&e) => Error::LockTimeout(format!(
                    "another facedb is changing the database now: {holder}; {doing} does not wait for it: run it again when that command is done"
                )),
                other => other,
            })
        })
    }

    /// Runs `work` in the open transaction, then commits, or rolls back on an error.
    fn finish<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        match work(self) {
            Ok(value) => {
                self.commit().map_err(|error| match error {
                    Error::ConnectionLost { reason, .. } => Error::ConnectionLost {
                        reason,
                        committing: true,
                    },
                    other => other,
                })?;
                Ok(value)
            }
            Err(error) => {
                // The error is what matters; a failed rollback also ends the transaction.
                let _ = self.rollback();
                Err(self.explain_lock_timeout(error, schema, lock_timeout))
            }
        }
    }

    /// Begins the transaction. On PostgreSQL it also pins name resolution to `schema` for what
    /// facedb does not write by hand (diesel's DSL, the migrations and diesel's migration table),
    /// with `pg_temp` last so that no temporary table can stand in for one of facedb's. SET LOCAL
    /// ends with the transaction and leaves a pooled connection as it was.
    fn begin(&mut self, schema: &SchemaName, lock_timeout: Duration, mode: Mode) -> Result<()> {
        match self {
            Db::Postgres(conn) => {
                match mode {
                    Mode::Read | Mode::Glance => AnsiTransactionManager::begin_transaction_sql(
                        conn,
                        "BEGIN READ ONLY",
                    )?,
                    Mode::Exclusive | Mode::Write => {
                        AnsiTransactionManager::begin_transaction(conn)?
                    }
                }
                let millis = lock_timeout.as_millis().max(1);
                let locked = diesel::sql_query(format!("SET LOCAL lock_timeout = {millis}"))
                    .execute(conn)
                    .and_then(|_| {
                        diesel::sql_query(format!(
                            "SET LOCAL search_path = {}, pg_temp",
                            schema.quoted()
                        ))
                        .execute(conn)
                    })
                    .and_then(|_| {
                        let take = match mode {
                            Mode::Exclusive => "SELECT pg_advisory_xact_lock($1)",
                            Mode::Write | Mode::Read => "SELECT pg_advisory_xact_lock_shared($1)",
                            Mode::Glance => "SELECT pg_try_advisory_xact_lock_shared($1)",
                        };
                        diesel::sql_query(take)
                            .bind::<BigInt, _>(ADVISORY_LOCK_KEY)
                            .execute(conn)
                    });
                if let Err(error) = locked {
                    let _ = AnsiTransactionManager::rollback_transaction(conn);
                    return Err(if is_lock_timeout(&error) {
                        Error::LockTimeout(format!(
                            "gave up waiting for facedb's lock after {}; it is held by {}. \
                             Wait for that process to finish, or raise --lock-timeout",
                            humanize(lock_timeout),
                            lock_holder(conn, false).map_or_else(
                                || "another session (it was released as we looked)".to_owned(),
                                |holder| holder.to_string()
                            )
                        ))
                    } else {
                        error.into()
                    });
                }
                Ok(())
            }
            // A reader's deferred transaction takes no write lock.
            Db::Sqlite(conn) if matches!(mode, Mode::Read | Mode::Glance) => {
                Ok(AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN")?)
            }
            Db::Sqlite(conn) => AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE").map_err(|e| {
                if e.to_string().contains("locked") || e.to_string().contains("busy") {
                    Error::LockTimeout(format!(
                        "gave up waiting for the SQLite file's write lock after {}; another process is writing to it. \
                         Wait for it to finish, or raise --lock-timeout",
                        humanize(lock_timeout)
                    ))
                } else {
                    e.into()
                }
            }),
        }
    }

    /// PostgreSQL: `lock_timeout` also bounds the waits for facedb's tables, which another
    /// session may be reading (a long report, a session idle in a transaction). Such a timeout
    /// is a lock timeout too, naming who holds the table. Runs after the rollback.
    fn explain_lock_timeout(
        &mut self,
        error: Error,
        schema: &SchemaName,
        lock_timeout: Duration,
    ) -> Error {
        match (self, error) {
            (Db::Postgres(conn), Error::Database(e)) if is_lock_timeout(&e) => {
                Error::LockTimeout(format!(
                    "gave up waiting for facedb's tables after {}; {}. Wait for that session to finish, or raise --lock-timeout",
                    humanize(lock_timeout),
                    table_lock_holder(conn, schema)
                ))
            }
            (_, error) => error,
        }
    }

    fn commit(&mut self) -> Result<()> {
        <Db as diesel::Connection>::TransactionManager::commit_transaction(self)?;
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        <Db as diesel::Connection>::TransactionManager::rollback_transaction(self)?;
        Ok(())
    }
}

/// What a transaction of facedb's may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Writes, holding facedb's lock.
    Exclusive,
    /// Writes beside other writers.
    Write,
    /// Reads only.
    Read,
    /// Reads only, without waiting for another facedb.
    Glance,
}

/// Whether a statement failed because a lock wait exceeded `lock_timeout` (SQLSTATE 55P03).
pub fn is_lock_timeout(error: &diesel::result::Error) -> bool {
    matches!(error, diesel::result::Error::DatabaseError(_, info) if info.message().contains("lock timeout"))
}

#[derive(QueryableByName)]
struct Holder {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pid: i32,
    #[diesel(sql_type = Text)]
    application_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    since: Option<String>,
    /// pg_locks' mode, e.g. `AccessExclusiveLock`.
    #[diesel(sql_type = Text)]
    mode: String,
    /// The table locked; `None` for facedb's advisory lock.
    #[diesel(sql_type = Nullable<Text>)]
    relation: Option<String>,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} (application_name '{}', since {}, {}",
            self.pid,
            self.application_name,
            self.since.as_deref().unwrap_or("an unknown time"),
            self.mode
        )?;
        match &self.relation {
            Some(table) => write!(f, " on table {table})"),
            None => write!(f, ")"),
        }
    }
}

/// The columns of a `Holder`, from pg_locks `l` and pg_stat_activity `a`.
macro_rules! holder_columns {
    () => {
        "SELECT l.pid, coalesce(a.application_name, '') AS application_name, \
                to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since, \
                l.mode, l.relation::regclass::text AS relation "
    };
}

/// Who holds facedb's advisory lock, from pg_locks and pg_stat_activity.
/// With `exclusive_only`, only a facedb at work (a reset or an init), not one that reads; else
/// that one first.
fn lock_holder(conn: &mut diesel::PgConnection, exclusive_only: bool) -> Option<Holder> {
    diesel::sql_query(concat!(
        holder_columns!(),
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND l.classid = ($1 >> 32)::oid AND l.objid = ($1 & 4294967295)::oid AND l.objsubid = 1 \
           AND (l.mode = 'ExclusiveLock' OR NOT $2) \
         ORDER BY l.mode = 'ExclusiveLock' DESC LIMIT 1"
    ))
    .bind::<BigInt, _>(ADVISORY_LOCK_KEY)
    .bind::<diesel::sql_types::Bool, _>(exclusive_only)
    .get_result::<Holder>(conn)
    .ok()
}

/// Who else holds a lock on one of facedb's tables.
fn table_lock_holder(conn: &mut diesel::PgConnection, schema: &SchemaName) -> String {
    let holder = diesel::sql_query(format!(concat!(
        holder_columns!(),
        "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND c.relnamespace = {} AND c.relname = ANY($1) \
         ORDER BY l.mode = 'AccessExclusiveLock' DESC, a.xact_start LIMIT 1"
    ), schema.namespace()))
    .bind::<diesel::sql_types::Array<Text>, _>(crate::inventory::TABLES.to_vec())
    .get_result::<Holder>(conn);
    match holder {
        Ok(holder) => format!("they are in use by {holder}"),
        Err(_) => "another session was using them (it let go as we looked)".to_owned(),
    }
}
