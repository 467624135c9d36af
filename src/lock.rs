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
//!
//! This is transaction control: the `BEGIN`s and the `SET LOCAL` settings are here; the advisory
//! lock's statements and the queries that name who holds a lock are PostgreSQL system queries,
//! in `db::postgres`.

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::RunQueryDsl;

use crate::config::SchemaName;
use crate::db::postgres::{self, AdvisoryLock, LockHolder};
use crate::db::session::{self, Stage};
use crate::db::Db;
use crate::error::{is_lock_timeout, Error, Result};
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
        self.finish(schema, lock_timeout, Mode::Exclusive, work)
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
        self.finish(schema, lock_timeout, Mode::Write, work)
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
        self.finish(schema, lock_timeout, Mode::Read, work)
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
        self.finish(schema, lock_timeout, Mode::Glance, |db| {
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

    /// Runs `work` in a transaction that may write and is always rolled back: a rehearsal, for
    /// what only doing it shows (a dry run's plan). Like [`Db::glance`] it never waits for
    /// another facedb; its waits for facedb's tables are bounded by `lock_timeout`. On SQLite a
    /// read-only connection takes writes for the rehearsal and is read-only again after it.
    pub fn rehearse<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        doing: &str,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        let query_only = match self {
            Db::Sqlite(conn) => {
                let on = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "(SELECT query_only FROM pragma_query_only)",
                ))
                .get_result::<bool>(conn)?;
                diesel::sql_query("PRAGMA query_only = OFF").execute(conn)?;
                on
            }
            Db::Postgres(_) => false,
        };
        self.begin(schema, lock_timeout, Mode::Rehearsal)?;
        let holder = match self {
            Db::Postgres(conn) => lock_holder(conn, true),
            Db::Sqlite(_) => None,
        };
        let result = match (holder, &mut *self) {
            (Some(holder), Db::Postgres(conn)) => diesel::sql_query("SET LOCAL lock_timeout = 1")
                .execute(conn)
                .map_err(Error::from)
                .and_then(|_| work(self))
                .map_err(|error| match error {
                    Error::Database(e) if is_lock_timeout(&e) => Error::LockTimeout(format!(
                        "another facedb is changing the database now: {holder}; {doing} does not wait for it: run it again when that command is done"
                    )),
                    other => other,
                }),
            _ => work(self),
        };
        // Nothing of a rehearsal stays: the rollback is the point, not a failure.
        let rolled_back = self.rollback();
        if let (Db::Sqlite(conn), true) = (&mut *self, query_only) {
            diesel::sql_query("PRAGMA query_only = ON").execute(conn)?;
        }
        let value =
            result.map_err(|error| self.explain_lock_timeout(error, schema, lock_timeout))?;
        rolled_back?;
        Ok(value)
    }

    /// Runs `work` in the open transaction, then commits, or rolls back on an error.
    fn finish<T>(
        &mut self,
        schema: &SchemaName,
        lock_timeout: Duration,
        mode: Mode,
        work: impl FnOnce(&mut Db) -> Result<T>,
    ) -> Result<T> {
        match work(self) {
            Ok(value) => {
                self.commit_bounded(mode)?;
                Ok(value)
            }
            Err(error) => {
                // The error is what matters; a failed rollback also ends the transaction. Its
                // failure tells, though, when an unexpected error was the connection going
                // (a library that wraps the driver's error hides its cause).
                let rolled_back = self.rollback();
                session::set_stage(Stage::Idle);
                let error = match (error, rolled_back) {
                    (
                        Error::Database(_) | Error::Migration(_),
                        Err(lost @ Error::ConnectionLost { .. }),
                    ) => lost,
                    (error, _) => error,
                };
                let error = self.explain_read_only(error);
                Err(self.explain_lock_timeout(error, schema, lock_timeout))
            }
        }
    }

    /// A write refused as read-only names the server and why it takes no writes (a standby, or
    /// `default_transaction_read_only`). Runs after the rollback.
    fn explain_read_only(&mut self, error: Error) -> Error {
        match (self, error) {
            (Db::Postgres(conn), Error::ReadOnlyServer { server: None, why }) => {
                match postgres::server_reached(conn) {
                    Ok(server) => Error::ReadOnlyServer {
                        server: Some(server.own_address()),
                        why: server.read_only().unwrap_or(why),
                    },
                    Err(_) => Error::ReadOnlyServer { server: None, why },
                }
            }
            (_, error) => error,
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
                    Mode::Exclusive | Mode::Write | Mode::Rehearsal => {
                        AnsiTransactionManager::begin_transaction(conn)?
                    }
                }
                session::set_stage(Stage::Open);
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
                        let lock = match mode {
                            Mode::Exclusive => AdvisoryLock::Exclusive,
                            Mode::Write | Mode::Read => AdvisoryLock::Shared,
                            Mode::Glance | Mode::Rehearsal => AdvisoryLock::TryShared,
                        };
                        postgres::take_advisory_lock(conn, lock, ADVISORY_LOCK_KEY)
                    });
                if let Err(error) = locked {
                    let _ = AnsiTransactionManager::rollback_transaction(conn);
                    session::set_stage(Stage::Idle);
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
            // A rehearsal takes the write lock at its first write, not before.
            Db::Sqlite(conn) if matches!(mode, Mode::Read | Mode::Glance | Mode::Rehearsal) => {
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
                    "gave up waiting for facedb's tables after {}; {}, or raise --lock-timeout",
                    humanize(lock_timeout),
                    table_lock_holder(conn, schema)
                ))
            }
            (_, error) => error,
        }
    }

    /// Commits. On PostgreSQL, where the commit waits for a synchronous standby to confirm it
    /// (`synchronous_standby_names`), that wait is bounded by `--wait` (else the lock timeout):
    /// a watchdog cancels it. The server has then committed locally and says only a warning
    /// (which diesel drops), so a commit the watchdog cancelled is reported as committed but not
    /// confirmed (exit 7): retrying would do the change twice.
    fn commit_bounded(&mut self, mode: Mode) -> Result<()> {
        let writes = matches!(mode, Mode::Exclusive | Mode::Write);
        let bound = session::commit_wait().filter(|_| writes);
        let synchronous = match (&mut *self, bound) {
            (Db::Postgres(conn), Some(_)) => postgres::commit_waits_for_standby(conn)?,
            _ => false,
        };
        let watchdog = bound.filter(|_| synchronous).map(session::Watchdog::start);
        session::set_stage(Stage::Committing { synchronous });
        let committed = self.commit();
        session::set_stage(Stage::Idle);
        let cancelled = watchdog.is_some_and(session::Watchdog::stop);
        committed.map_err(|error| match error {
            // A read-only transaction has nothing to lose in its commit.
            Error::ConnectionLost { reason, .. } => Error::ConnectionLost {
                reason,
                committing: writes,
            },
            other => other,
        })?;
        match (&mut *self, bound) {
            (Db::Postgres(conn), Some(bound)) if cancelled => Err(Error::NotReplicated {
                server: postgres::server_reached(conn)
                    .map(|server| server.own_address())
                    .unwrap_or_else(|_| "(its address could not be read)".to_owned()),
                waited: Some(humanize(bound)),
            }),
            _ => Ok(()),
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
    /// Writes, without waiting for another facedb, and is always rolled back.
    Rehearsal,
}

/// Who holds facedb's advisory lock. With `exclusive_only`, only a facedb at work (a reset or
/// an init), not one that reads; else that one first.
fn lock_holder(conn: &mut diesel::PgConnection, exclusive_only: bool) -> Option<LockHolder> {
    postgres::advisory_lock_holder(conn, ADVISORY_LOCK_KEY, exclusive_only).ok()
}

/// Who else holds a lock on one of facedb's tables.
fn table_lock_holder(conn: &mut diesel::PgConnection, schema: &SchemaName) -> String {
    match postgres::table_lock_holder(conn, schema, &crate::inventory::TABLES) {
        Ok(holder) if holder.is_recovery() => format!(
            "they are held by {holder}; it ends when that transaction ends there. Wait for it on the primary"
        ),
        Ok(holder) => format!("they are in use by {holder}. Wait for that session to finish"),
        Err(_) => "another session was using them (it let go as we looked). Run the command again"
            .to_owned(),
    }
}
