//! Every PostgreSQL catalog and system query facedb runs, as plain functions on a
//! `PgConnection`, in sections by subject. Each hand-written statement names facedb's schema
//! itself (`SchemaName::namespace`, `SchemaName::qualify`, or the name bound as a parameter):
//! some run outside facedb's transactions, which pin the search path. What both backends answer
//! alike is asked through a `Db` method (`super::catalog`); the rest is called from the module
//! that needs it.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};

use super::catalog::{ColumnType, Named, ShadowedTable, TableEstimate};
use crate::config::{PgTarget, SchemaName};

// ---- server ----

/// The server a connection reached, read once after connecting.
#[derive(Debug, Clone, QueryableByName)]
pub struct ServerReached {
    /// `current_database()`.
    #[diesel(sql_type = Text)]
    pub database: String,
    /// A hot standby (or a server still replaying WAL): it takes reads only.
    #[diesel(sql_type = Bool)]
    pub in_recovery: bool,
    /// `inet_server_addr()`; `None` over a Unix socket.
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub port: Option<i32>,
}

impl ServerReached {
    /// `10.0.0.2:5432`, or `target`'s socket when the connection has no address.
    pub fn describe(&self, target: &PgTarget) -> String {
        match (&self.address, self.port) {
            (Some(address), Some(port)) => format!("{address}:{port}"),
            _ => target.servers(),
        }
    }
}

/// One statement, which is its own transaction: safe behind a transaction pooler.
pub fn server_reached(conn: &mut PgConnection) -> QueryResult<ServerReached> {
    diesel::sql_query(
        "SELECT current_database()::text AS database, pg_is_in_recovery() AS in_recovery, \
                host(inet_server_addr()) AS address, inet_server_port() AS port",
    )
    .get_result(conn)
}

// ---- schemas ----

pub fn schema_exists(conn: &mut PgConnection, schema: &SchemaName) -> QueryResult<bool> {
    diesel::select(diesel::dsl::sql::<Bool>(&format!(
        "{} IS NOT NULL",
        schema.namespace()
    )))
    .get_result(conn)
}

// ---- tables and rows ----

pub fn table_exists(
    conn: &mut PgConnection,
    schema: &SchemaName,
    table: &str,
) -> QueryResult<bool> {
    diesel::select(
        diesel::dsl::sql::<Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = {} \
             AND c.relkind IN ('r', 'p') AND c.relname = ",
            schema.namespace()
        ))
        .bind::<Text, _>(table)
        .sql(")"),
    )
    .get_result(conn)
}

/// Which of `names` are tables in `schema`, in no particular order.
pub fn existing_tables(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<String>> {
    let found: Vec<Named> = diesel::sql_query(format!(
        "SELECT c.relname::text AS name FROM pg_class c \
         WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)?;
    Ok(found.into_iter().map(|n| n.name).collect())
}

/// Which of `names` are types in `schema`, in no particular order.
pub fn existing_types(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<String>> {
    let found: Vec<Named> = diesel::sql_query(format!(
        "SELECT t.typname::text AS name FROM pg_type t \
         WHERE t.typnamespace = {} AND t.typname = ANY($1)",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)?;
    Ok(found.into_iter().map(|n| n.name).collect())
}

/// Which of `names` are tables in `schema`, with the planner's estimate of their rows.
pub fn table_estimates(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<TableEstimate>> {
    diesel::sql_query(format!(
        "SELECT c.relname::text AS name, c.reltuples::float8 AS estimate FROM pg_class c \
         WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
}

// ---- columns ----

/// The live columns of `tables` in `schema`, each with its type in `format_type`'s words.
pub fn column_types(
    conn: &mut PgConnection,
    schema: &SchemaName,
    tables: &[String],
) -> QueryResult<Vec<ColumnType>> {
    diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, a.atttypmod) AS type_name \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1) \
           AND a.attnum > 0 AND NOT a.attisdropped",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(tables)
    .load(conn)
}

// ---- what others made ----

/// Where the connection's own `search_path` resolves one of `names` to another relation than
/// the one in `schema` (an earlier schema, a role's own `"$user"` schema, a temporary table).
pub fn shadowed_tables(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<ShadowedTable>> {
    diesel::sql_query(format!(
        "SELECT t.name, format('%I.%I', n.nspname, c.relname) AS resolved \
         FROM unnest($1::text[]) AS t(name) \
         JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name)) \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relnamespace IS DISTINCT FROM {} ORDER BY t.name",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
}

// ---- locks ----

/// How a transaction takes an advisory lock (`pg_advisory_xact_lock` and its kin), released
/// when the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryLock {
    /// Waits for it, alone.
    Exclusive,
    /// Waits for it, beside other shared holders.
    Shared,
    /// Takes it shared only if nobody holds it exclusively; never waits.
    TryShared,
}

/// Takes the advisory lock `key` for the rest of the transaction.
pub fn take_advisory_lock(
    conn: &mut PgConnection,
    lock: AdvisoryLock,
    key: i64,
) -> QueryResult<usize> {
    let take = match lock {
        AdvisoryLock::Exclusive => "SELECT pg_advisory_xact_lock($1)",
        AdvisoryLock::Shared => "SELECT pg_advisory_xact_lock_shared($1)",
        AdvisoryLock::TryShared => "SELECT pg_try_advisory_xact_lock_shared($1)",
    };
    diesel::sql_query(take).bind::<BigInt, _>(key).execute(conn)
}

/// Another session holding a lock, from pg_locks and pg_stat_activity.
#[derive(QueryableByName)]
pub struct LockHolder {
    #[diesel(sql_type = Integer)]
    pid: i32,
    #[diesel(sql_type = Text)]
    application_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    since: Option<String>,
    /// pg_locks' mode, e.g. `AccessExclusiveLock`.
    #[diesel(sql_type = Text)]
    mode: String,
    /// The table locked; `None` for an advisory lock.
    #[diesel(sql_type = Nullable<Text>)]
    relation: Option<String>,
}

impl std::fmt::Display for LockHolder {
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

/// The columns of a `LockHolder`, from pg_locks `l` and pg_stat_activity `a`.
macro_rules! holder_columns {
    () => {
        "SELECT l.pid, coalesce(a.application_name, '') AS application_name, \
                to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since, \
                l.mode, l.relation::regclass::text AS relation "
    };
}

/// Who else holds the advisory lock `key` in this database. With `exclusive_only`, only an
/// exclusive holder; else that one first. An error when nobody does.
pub fn advisory_lock_holder(
    conn: &mut PgConnection,
    key: i64,
    exclusive_only: bool,
) -> QueryResult<LockHolder> {
    diesel::sql_query(concat!(
        holder_columns!(),
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND l.classid = ($1 >> 32)::oid AND l.objid = ($1 & 4294967295)::oid AND l.objsubid = 1 \
           AND (l.mode = 'ExclusiveLock' OR NOT $2) \
         ORDER BY l.mode = 'ExclusiveLock' DESC LIMIT 1"
    ))
    .bind::<BigInt, _>(key)
    .bind::<Bool, _>(exclusive_only)
    .get_result(conn)
}

/// Who else holds a lock on one of `tables` in `schema`, the strongest and oldest first. An
/// error when nobody does.
pub fn table_lock_holder(
    conn: &mut PgConnection,
    schema: &SchemaName,
    tables: &[&str],
) -> QueryResult<LockHolder> {
    diesel::sql_query(format!(concat!(
        holder_columns!(),
        "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND c.relnamespace = {} AND c.relname = ANY($1) \
         ORDER BY l.mode = 'AccessExclusiveLock' DESC, a.xact_start LIMIT 1"
    ), schema.namespace()))
    .bind::<Array<Text>, _>(tables)
    .get_result(conn)
}
