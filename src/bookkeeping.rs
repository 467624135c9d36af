//! facedb's own metadata, kept in `__facedb_metadata` (SCHEMA.md: bookkeeping lives only in
//! tables whose names start with `__`, next to diesel's `__diesel_schema_migrations`).

use diesel::prelude::*;

use crate::connection::Db;
use crate::error::Result;

diesel::table! {
    __facedb_metadata (key) {
        key -> Varchar,
        value -> Text,
        updated_at -> Timestamp,
    }
}

/// The table, by name.
pub const TABLE: &str = "__facedb_metadata";

/// The key under which `init` records the deployment environment (`ENV`).
pub const ENVIRONMENT_KEY: &str = "environment";

/// Records `value` under `key` unless a value is there already; returns the recorded value.
/// A later run with another `ENV` does not overwrite it: the first recording is the one that
/// guards a production database.
pub fn record_once(db: &mut Db, key: &str, value: &str) -> Result<String> {
    use __facedb_metadata::dsl as m;
    // Read first: an up-to-date database (every warm `init`) is left without a write.
    let select = m::__facedb_metadata.filter(m::key.eq(key)).select(m::value);
    let recorded = match db {
        Db::Postgres(conn) => select.first::<String>(conn).optional()?,
        Db::Sqlite(conn) => select.first::<String>(conn).optional()?,
    };
    if let Some(recorded) = recorded {
        return Ok(recorded);
    }
    // Callers hold facedb's lock, so nobody records the key between the read and the insert.
    let row = (
        m::key.eq(key),
        m::value.eq(value),
        m::updated_at.eq(crate::seed::now_utc()),
    );
    let insert = diesel::insert_into(m::__facedb_metadata).values(row);
    match db {
        Db::Postgres(conn) => insert.execute(conn)?,
        Db::Sqlite(conn) => insert.execute(conn)?,
    };
    Ok(value.to_owned())
}

/// The value recorded under `key`, or `None` when there is none or no bookkeeping table at all
/// (a database facedb never set up). Safe inside a transaction: it never queries a missing table.
pub fn recorded(db: &mut Db, key: &str) -> Result<Option<String>> {
    use __facedb_metadata::dsl as m;
    if !crate::inventory::table_exists(db, TABLE)? {
        return Ok(None);
    }
    let select = m::__facedb_metadata.filter(m::key.eq(key)).select(m::value);
    let value = match db {
        Db::Postgres(conn) => select.first::<String>(conn).optional()?,
        Db::Sqlite(conn) => select.first::<String>(conn).optional()?,
    };
    Ok(value)
}
