//! Adopting a database the old Python tool made (`db_manage.py`, SQLAlchemy's `create_all`):
//! facedb's tables (all 12, or those an older version had) with their rows, and none of facedb's
//! bookkeeping. Its first migration would fail there on objects that exist, so `init` adopts the
//! database instead, inside its locked transaction.
//!
//! Adoption compares the live schema with the contract ([`crate::compare`]) and sorts every
//! difference, before it changes anything:
//!
//! - what it reconciles: a missing table, enum type, index, foreign key or UNIQUE constraint; a
//!   missing column that is nullable or has a contract default; a missing default; and the two
//!   variants the old tool is known to leave, normalised to the contract's form: a foreign key
//!   named in its `fk_<table>_<column>` style (renamed to PostgreSQL's default name) and a foreign
//!   key present twice (the second one dropped). On SQLite also a missing `CHECK (column IN (…))`;
//! - what it leaves as it is: a column outside the contract that is nullable or has a default, and
//!   a plain index outside the contract (the API does not see them);
//! - anything else (a column of another type, an unknown NOT NULL column without a default,
//!   another primary key or ON DELETE rule, other enum labels, rows that a new foreign key or
//!   UNIQUE constraint would reject, …): it lists every one and changes nothing (exit 5).
//!
//! Then it creates what is missing from the migrations' own statements (tables, their indexes,
//! enum types) and the contract (columns, defaults, constraints), and records the migrations as
//! applied in `__diesel_schema_migrations`, as diesel does. PostgreSQL alters tables in place.
//! SQLite cannot add a constraint or a default to an existing table, so a table that needs one
//! is rebuilt as SQLite documents it: created anew from the migration, rows copied, the old one
//! dropped and the new one renamed, its other indexes and triggers made again, and
//! `PRAGMA foreign_key_check` run before the commit. That needs foreign keys off for the
//! transaction ([`exclusive`]): with them on, dropping a parent table deletes its rows
//! first and cascades into the children.
//!
//! The files, bottom up, each importing only from those listed before it:
//! - [`report`]: what adoption did ([`Adoption`]), in words;
//! - [`data`]: the SQL the files above share: the queries of the rows already there that a
//!   change would reject, the bits of statement text the kinds of fix have in common, running a
//!   statement;
//! - [`fix`]: one type per kind of change, carrying all it needs in every phase;
//! - [`plan`]: sorts the differences into fixes, what stays and what blocks (no database), and
//!   says what carrying it out changes;
//! - [`checks`]: refuses before any change;
//! - [`postgres`] and [`sqlite`]: make the changes;
//! - this file: the entry points, and recording the migrations as applied.

mod checks;
mod data;
mod fix;
mod plan;
mod postgres;
mod report;
mod sqlite;

use std::time::Duration;

use crate::bookkeeping;
use crate::catalog::{self, Backend};
use crate::config::SchemaName;
use crate::contract;
use crate::db::Db;
use crate::error::Result;
use crate::migrations::{self, Kind};
use crate::ownership;

use data::execute;
use fix::Definitions;
use plan::Plan;

pub use report::Adoption;

/// Whether `db` holds some of facedb's schema in `schema` that the old tool made, and none of
/// facedb's bookkeeping: a database to adopt. Reads only.
pub fn needed(db: &mut Db, schema: &SchemaName) -> Result<bool> {
    Ok(ownership::ownership(db, schema)? == ownership::Ownership::Legacy)
}

/// Runs `work` in facedb's exclusive transaction ([`Db::exclusive`]) with SQLite's foreign keys
/// as adoption needs them. Rebuilding a table needs them off, and `PRAGMA foreign_keys` does
/// nothing inside a transaction: when `db` may be one to adopt (`may_adopt`, and it looks like one)
/// they go off before the transaction, every row is checked against them before it commits, and
/// they come on again after it, whatever happened.
pub fn exclusive<T>(
    db: &mut Db,
    schema: &SchemaName,
    lock_timeout: Duration,
    target: &str,
    may_adopt: bool,
    work: impl FnOnce(&mut Db) -> Result<T>,
) -> Result<T> {
    if may_adopt && db.backend() == Backend::Sqlite && needed(db, schema)? {
        sqlite::exclusive_without_foreign_keys(db, schema, lock_timeout, target, work)
    } else {
        db.exclusive(schema, lock_timeout, work)
    }
}

/// Adopts the database: reconciles its schema with the contract and records the migrations as
/// applied, or changes nothing and lists what it cannot reconcile (exit 5). Runs inside the
/// caller's locked transaction; `target` names the database in messages.
pub fn adopt(db: &mut Db, schema: &SchemaName, target: &str) -> Result<Adoption> {
    let backend = db.backend();
    let found = catalog::read(db, schema, &contract::table_names())?;
    let plan = Plan::new(&contract::expected(backend), &found, backend);
    checks::refuse_if_blocked(db, schema, &plan, &found, target)?;
    let definitions = Definitions::of(backend)?;
    match backend {
        Backend::Postgres => postgres::apply(db, schema, &plan, &definitions)?,
        Backend::Sqlite => sqlite::apply(db, &plan, &found, &definitions)?,
    }
    let mut adoption = plan.adoption(&found);
    adoption.recorded_migrations = record_migrations(db, schema, &definitions)?;
    Ok(adoption)
}

/// Makes facedb's bookkeeping as the migration and diesel's harness make it, and records every
/// migration not recorded yet as applied: their schema is there now. Returns their names.
fn record_migrations(
    db: &mut Db,
    schema: &SchemaName,
    definitions: &Definitions,
) -> Result<Vec<String>> {
    if !db.table_exists(schema, bookkeeping::TABLE)? {
        execute(db, &definitions.get(Kind::Table, bookkeeping::TABLE)?.sql)?;
    }
    execute(db, diesel::migration::CREATE_MIGRATIONS_TABLE)?;
    let state = migrations::state(db, schema)?;
    let mut recorded = Vec::new();
    for migration in migrations::up_sql(db.backend())? {
        if state.pending.contains(&migration.name) {
            execute(
                db,
                &format!(
                    "INSERT INTO __diesel_schema_migrations (version) VALUES ('{}')",
                    migration.version.replace('\'', "''")
                ),
            )?;
            recorded.push(migration.name);
        }
    }
    Ok(recorded)
}
