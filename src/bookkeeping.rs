//! facedb's own metadata, kept in `__facedb_metadata` (docs/schema.md: bookkeeping lives only in
//! tables whose names start with `__`, next to diesel's `__diesel_schema_migrations`).

use diesel::prelude::*;

use crate::config::SchemaName;
use crate::db::Db;
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
    let recorded = select.first::<String>(db).optional()?;
    if let Some(recorded) = recorded {
        return Ok(recorded);
    }
    // Callers hold facedb's lock, so nobody records the key between the read and the insert.
    let row = (
        m::key.eq(key),
        m::value.eq(value),
        m::updated_at.eq(crate::models::now_utc()),
    );
    let insert = diesel::insert_into(m::__facedb_metadata).values(row);
    insert.execute(db)?;
    Ok(value.to_owned())
}

/// The key under which seeding records the `user_id` of the admin it seeded: the only account
/// that can still have the default password facedb gave it (`status` checks that one alone).
pub const SEEDED_ADMIN_KEY: &str = "seeded admin";

/// Records `value` under `key`, replacing what was recorded (in the caller's transaction).
pub fn record(db: &mut Db, key: &str, value: &str) -> Result<()> {
    use __facedb_metadata::dsl as m;
    diesel::delete(m::__facedb_metadata.filter(m::key.eq(key))).execute(db)?;
    insert_entry(db, key, value)
}

/// Adds one entry; the caller has removed any it replaces.
fn insert_entry(db: &mut Db, key: &str, value: &str) -> Result<()> {
    use __facedb_metadata::dsl as m;
    let row = (
        m::key.eq(key),
        m::value.eq(value),
        m::updated_at.eq(crate::models::now_utc()),
    );
    diesel::insert_into(m::__facedb_metadata)
        .values(row)
        .execute(db)?;
    Ok(())
}

/// The key prefix under which facedb records each migration version it applied, so that in a
/// `__diesel_schema_migrations` shared with other diesel applications it can tell its own rows.
const MIGRATION_KEY_PREFIX: &str = "migration ";

/// Records `versions` as migrations facedb applied (in the caller's transaction).
pub fn record_migrations(db: &mut Db, versions: &[String]) -> Result<()> {
    for version in versions {
        record_once(db, &format!("{MIGRATION_KEY_PREFIX}{version}"), version)?;
    }
    Ok(())
}

/// Forgets that facedb applied `versions` (a rollback reverted them), when the metadata table
/// is still there (the first migration's `down.sql` drops it). In the caller's transaction.
pub fn forget_migrations(db: &mut Db, schema: &SchemaName, versions: &[String]) -> Result<()> {
    use __facedb_metadata::dsl as m;
    if !db.table_exists(schema, TABLE)? {
        return Ok(());
    }
    let keys: Vec<String> = versions
        .iter()
        .map(|version| format!("{MIGRATION_KEY_PREFIX}{version}"))
        .collect();
    let delete = diesel::delete(m::__facedb_metadata.filter(m::key.eq_any(&keys)));
    delete.execute(db)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Entry {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

/// Every entry in `schema`'s metadata table; none when there is no such table (a database
/// facedb never set up). Names the schema itself: it also runs outside facedb's transactions.
fn entries(db: &mut Db, schema: &SchemaName) -> Result<Vec<Entry>> {
    if !db.table_exists(schema, TABLE)? {
        return Ok(Vec::new());
    }
    let query = diesel::sql_query(format!(
        "SELECT key, value FROM {} ORDER BY key",
        schema.qualify(TABLE)
    ));
    Ok(query.load(db)?)
}

/// The value recorded under `key` in `schema`, or `None` when there is none or no bookkeeping
/// table at all. Safe inside a transaction: it never queries a missing table.
pub fn recorded(db: &mut Db, schema: &SchemaName, key: &str) -> Result<Option<String>> {
    Ok(entries(db, schema)?
        .into_iter()
        .find(|e| e.key == key)
        .map(|e| e.value))
}

/// The entries whose key starts with `prefix`, as (key, value), in key order.
pub fn recorded_with_prefix(
    db: &mut Db,
    schema: &SchemaName,
    prefix: &str,
) -> Result<Vec<(String, String)>> {
    Ok(entries(db, schema)?
        .into_iter()
        .filter(|e| e.key.starts_with(prefix))
        .map(|e| (e.key, e.value))
        .collect())
}

/// Replaces every entry whose key starts with `prefix` by `entries` (key, value), in the caller's
/// transaction, whose search path names the live schema.
pub fn replace_prefixed(db: &mut Db, prefix: &str, entries: &[(String, String)]) -> Result<()> {
    use __facedb_metadata::dsl as m;
    let delete = diesel::delete(m::__facedb_metadata.filter(m::key.like(format!("{prefix}%"))));
    delete.execute(db)?;
    for (key, value) in entries {
        insert_entry(db, key, value)?;
    }
    Ok(())
}

/// The migration versions facedb recorded applying in `schema` (see [`record_migrations`]).
pub fn recorded_migrations(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    Ok(entries(db, schema)?
        .into_iter()
        .filter(|e| e.key.starts_with(MIGRATION_KEY_PREFIX))
        .map(|e| e.value)
        .collect())
}
