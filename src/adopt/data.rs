//! The SQL adoption shares: the queries that count the rows already there that a change would
//! reject, each answering in words (each kind of fix says which it needs), on SQLite the rows that
//! already break a foreign key, the bits of statement text the kinds of fix have in common, and
//! running a statement.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::catalog::{ForeignKey, Schema};
use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::db::Db;
use crate::error::Result;
use crate::inventory;

/// The live schema as the checks see it: the tables there, and the columns the plan adds.
pub(super) struct Live<'a> {
    found: &'a Schema,
    added_columns: Vec<(&'a str, &'a str)>,
}

impl<'a> Live<'a> {
    /// `added_columns`: `(table, column)` for each column the plan adds.
    pub(super) fn new(found: &'a Schema, added_columns: Vec<(&'a str, &'a str)>) -> Live<'a> {
        Live {
            found,
            added_columns,
        }
    }

    fn exists(&self, table: &str) -> bool {
        self.found.table(table).is_some()
    }

    /// Whether the rows cannot hold values on `columns` yet: the table is created now, or one of
    /// the columns is added now (holding only NULLs or its default). Nothing to check there.
    pub(super) fn is_new(&self, table: &str, columns: &[String]) -> bool {
        !self.exists(table)
            || columns
                .iter()
                .any(|c| self.added_columns.contains(&(table, c.as_str())))
    }
}

/// The rows of `table` whose `foreign_key` columns name a parent row that does not exist, in
/// words; `None` when there are none.
pub(super) fn missing_parents(
    db: &mut Db,
    schema: &SchemaName,
    live: &Live,
    table: &str,
    foreign_key: &ForeignKey,
) -> Result<Option<String>> {
    let parent = &foreign_key.references_table;
    let sql = if live.exists(parent) {
        let joined = foreign_key
            .columns
            .iter()
            .zip(&foreign_key.references)
            .map(|(c, r)| format!("parent.{} = child.{}", quote(r), quote(c)))
            .collect::<Vec<_>>()
            .join(" AND ");
        format!(
            "SELECT count(*) AS n FROM {} AS child WHERE {} \
             AND NOT EXISTS (SELECT 1 FROM {} AS parent WHERE {joined})",
            schema.qualify(table),
            not_null(&foreign_key.columns, "child."),
            schema.qualify(parent)
        )
    } else {
        // The parent table is created now, empty.
        format!(
            "SELECT count(*) AS n FROM {} AS child WHERE {}",
            schema.qualify(table),
            not_null(&foreign_key.columns, "child.")
        )
    };
    let rows = count_sql(db, &sql)?;
    Ok((rows > 0).then(|| {
        format!(
            "{table} ({}) -> {parent}: {}, so the contract's foreign key cannot be added",
            foreign_key.columns.join(", "),
            counted(
                rows,
                "row refers to a row that does not exist",
                "rows refer to rows that do not exist"
            ),
        )
    }))
}

/// The values of `columns` that more than one row of `table` holds, in words, naming the rule
/// (`what`) they stop; `None` when there are none.
pub(super) fn duplicates(
    db: &mut Db,
    schema: &SchemaName,
    table: &str,
    columns: &[String],
    what: &str,
) -> Result<Option<String>> {
    let list = column_list(columns);
    let values = count_sql(
        db,
        &format!(
            "SELECT count(*) AS n FROM (SELECT 1 AS one FROM {} WHERE {} \
             GROUP BY {list} HAVING count(*) > 1) AS duplicates",
            schema.qualify(table),
            not_null(columns, "")
        ),
    )?;
    Ok((values > 0).then(|| {
        format!(
            "{table}: {} of ({}) {} on more than one row, so the contract's {what} cannot be added",
            counted(values, "value", "values"),
            columns.join(", "),
            if values == 1 { "is" } else { "are" }
        )
    }))
}

/// The rows of `table` whose `column` holds a value outside `values`, in words; `None` when
/// there are none.
pub(super) fn other_values(
    db: &mut Db,
    schema: &SchemaName,
    table: &str,
    column: &str,
    values: &[String],
) -> Result<Option<String>> {
    let list = values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = count_sql(
        db,
        &format!(
            "SELECT count(*) AS n FROM {} WHERE {c} IS NOT NULL AND {c} NOT IN ({list})",
            schema.qualify(table),
            c = quote(column)
        ),
    )?;
    Ok((rows > 0).then(|| {
        format!(
            "{table}.{column}: {} a value other than {}, so the contract's CHECK cannot be added",
            counted(rows, "row holds", "rows hold"),
            values.join(", ")
        )
    }))
}

/// SQLite: the rows of facedb's tables that refer to a row that does not exist, in words. None on
/// PostgreSQL, which never stops checking foreign keys.
pub(super) fn foreign_key_violations(db: &mut Db) -> Result<Vec<String>> {
    Ok(db
        .foreign_key_violations()?
        .into_iter()
        .filter(|v| inventory::TABLES.contains(&v.child.as_str()))
        .map(|v| {
            let (parent, child) = (&v.parent, &v.child);
            if v.rows == 1 {
                format!("{child}: 1 row refers to a row of {parent} that does not exist")
            } else {
                format!(
                    "{child}: {} rows refer to rows of {parent} that do not exist",
                    v.rows
                )
            }
        })
        .collect())
}

/// `ALTER TABLE "schema"."table" {change}`.
pub(super) fn alter_table(schema: &SchemaName, table: &str, change: &str) -> String {
    format!("ALTER TABLE {} {change}", schema.qualify(table))
}

/// `"a", "b"`.
pub(super) fn column_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| quote(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `CONSTRAINT "name" ` for a named constraint; nothing when the server is to name it.
pub(super) fn constraint_name(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!("CONSTRAINT {} ", quote(n)))
        .unwrap_or_default()
}

/// `"a" IS NOT NULL AND "b" IS NOT NULL`, each column after `alias`.
fn not_null(columns: &[String], alias: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{alias}{} IS NOT NULL", quote(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// `1 row has`, `3 rows have`.
fn counted(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The one row of a `SELECT count(*) AS n …`.
#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs a query whose one row has a bigint column `n`.
fn count_sql(db: &mut Db, sql: &str) -> Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(db)?.n)
}

/// Runs one statement that returns no rows.
pub(super) fn execute(db: &mut Db, sql: &str) -> Result<()> {
    diesel::sql_query(sql).execute(db)?;
    Ok(())
}
