//! SQLite: what is missing is created from the migrations' own statements, and an existing table
//! that needs a column, default or constraint is rebuilt, SQLite having no `ALTER TABLE` for
//! those. A rebuild needs foreign keys off for the whole transaction, which only
//! [`exclusive_without_foreign_keys`] arranges.

use std::time::Duration;

use diesel::prelude::*;

use crate::catalog::{self, Schema};
use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::db::{sqlite, Db};
use crate::error::{Error, Result};
use crate::migrations::{Definition, Kind};

use super::data::{execute, foreign_key_violations};
use super::fix::Definitions;
use super::plan::Plan;

/// Runs `work` in facedb's exclusive transaction with foreign keys off, so that adoption can
/// rebuild tables in it: `PRAGMA foreign_keys` does nothing inside a transaction, so they go off
/// before it and on again after it, whatever happened, and every row is checked against them
/// before it commits.
pub(super) fn exclusive_without_foreign_keys<T>(
    db: &mut Db,
    schema: &SchemaName,
    lock_timeout: Duration,
    target: &str,
    work: impl FnOnce(&mut Db) -> Result<T>,
) -> Result<T> {
    execute(db, "PRAGMA foreign_keys = OFF")?;
    let result = db.exclusive(schema, lock_timeout, |db| {
        let value = work(db)?;
        verify_foreign_keys(db, target)?;
        Ok(value)
    });
    let restored = execute(db, "PRAGMA foreign_keys = ON");
    // A failed transaction's error is the one to report.
    if result.is_ok() {
        restored?;
    }
    result
}

/// Makes every change of `plan`: what is missing from the migrations' statements, in the plan's
/// order; then each table to rebuild, in the migrations' order, with the indexes it lacked.
/// `found` is the schema the plan was made from.
pub(super) fn apply(
    db: &mut Db,
    plan: &Plan,
    found: &Schema,
    definitions: &Definitions,
) -> Result<()> {
    let rebuilt = plan.rebuilt_tables();
    let on_rebuilt = |table: Option<&str>| table.is_some_and(|t| rebuilt.iter().any(|r| r == t));
    for fix in plan.ordered() {
        // Made with its table, after the rebuild.
        if on_rebuilt(fix.table()) {
            continue;
        }
        for sql in fix.migration_sql(definitions)? {
            execute(db, &sql)?;
        }
    }
    // Each rebuild runs with foreign keys off; `exclusive_without_foreign_keys`, around the whole
    // transaction, checks every row against them before it commits.
    for table in &rebuilt {
        // Only existing tables are rebuilt (a missing one is created whole).
        let Some(old) = found.table(table) else {
            continue;
        };
        let mut missing_indexes = Vec::new();
        for fix in plan.ordered() {
            if fix.table() == Some(table.as_str()) {
                missing_indexes.extend(fix.migration_sql(definitions)?);
            }
        }
        let added: Vec<&Definition> = definitions.columns_added_to(table).collect();
        rebuild_table(
            db,
            definitions.get(Kind::Table, table)?,
            &added,
            old,
            &missing_indexes,
        )?;
    }
    Ok(())
}

/// Fails when a row of facedb's tables refers to a row that does not exist
/// (`PRAGMA foreign_key_check`), so that a transaction that ran with foreign keys off commits
/// nothing that breaks them.
fn verify_foreign_keys(db: &mut Db, target: &str) -> Result<()> {
    let violations = foreign_key_violations(db)?;
    if violations.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "cannot set up {target}: {}. Nothing was changed",
        violations.join("; ")
    )))
}

/// Rebuilds `old` as the migrations define it, as SQLite documents it ("Making Other Kinds Of
/// Table Schema Changes"): the new table under a temporary name, the rows copied (columns it
/// adds get their defaults), the old table dropped and the new one renamed. The old table's own
/// indexes and triggers go with it and are made again, then `missing_indexes`. Needs foreign keys
/// off: with them on, dropping the old table would first delete its rows, cascading into the
/// tables that refer to it. `legacy_alter_table` keeps the rename from rewriting (or, for the
/// dropped table, refusing) views and triggers elsewhere that name the table.
fn rebuild_table(
    db: &mut Db,
    definition: &Definition,
    added_columns: &[&Definition],
    old: &catalog::Table,
    missing_indexes: &[String],
) -> Result<()> {
    let Db::Sqlite(conn) = db else {
        return Ok(());
    };
    if sqlite::foreign_keys_enforced(conn)? {
        return Err(Error::Schema(
            "the database changed while facedb looked at it (it found no tables to adopt, then \
             some); nothing was changed: run `facedb init` again"
                .to_owned(),
        ));
    }
    let table = &old.name;
    let temporary = format!("__facedb_rebuild_{table}");
    let saved = sqlite::index_and_trigger_sql(conn, table)?;
    let columns = old
        .columns
        .iter()
        .map(|c| quote(&c.name))
        .collect::<Vec<_>>()
        .join(", ");
    // The table as the migrations leave it: their `CREATE TABLE`, then the columns later ones add.
    let created = std::iter::once(definition)
        .chain(added_columns.iter().copied())
        .map(|d| d.renamed(&temporary));
    let statements = created.chain([
        format!(
            "INSERT INTO {} ({columns}) SELECT {columns} FROM {}",
            quote(&temporary),
            quote(table)
        ),
        format!("DROP TABLE {}", quote(table)),
        "PRAGMA legacy_alter_table = ON".to_owned(),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&temporary),
            quote(table)
        ),
        "PRAGMA legacy_alter_table = OFF".to_owned(),
    ]);
    // An AUTOINCREMENT table never hands out an id twice: the new one continues the old count.
    let counted = sqlite::autoincrement_count(conn, table)?;
    for statement in statements
        .chain(saved)
        .chain(missing_indexes.iter().cloned())
    {
        diesel::sql_query(statement.as_str()).execute(conn)?;
    }
    if counted > 0 {
        sqlite::continue_autoincrement(conn, table, counted)?;
    }
    Ok(())
}
