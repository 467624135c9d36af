//! What makes adoption refuse, decided before it changes anything: the differences the plan will
//! not reconcile, and the rows already there that a change would reject (each kind of fix says
//! which of the checks here it needs), names that what it creates would collide with, and on
//! SQLite rows that already break a foreign key.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::catalog::{ForeignKey, Schema};
use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::inventory;

use super::plan::Plan;

/// Fails, listing every reason at once, when adoption cannot go ahead; changes nothing.
pub(super) fn refuse_if_blocked(
    db: &mut Db,
    schema: &SchemaName,
    plan: &Plan,
    found: &Schema,
    target: &str,
) -> Result<()> {
    let live = Live::new(found, plan);
    let mut blockers = plan.blockers.clone();
    for fix in &plan.fixes {
        blockers.extend(fix.check(db, schema, &live)?);
    }
    blockers.extend(foreign_key_violations(db)?);
    blockers.extend(taken_names(db, schema, plan)?);
    if blockers.is_empty() {
        return Ok(());
    }
    Err(Error::Schema(format!(
        "cannot adopt {target} (facedb's tables, without its migrations recorded): it differs \
         from the schema contract in {} facedb will not change by itself: {}. Nothing was \
         changed; fix these by hand (`facedb check` lists every difference), then run \
         `facedb init` again",
        crate::text::plural(blockers.len(), "way"),
        blockers.join("; ")
    )))
}

/// The live schema as the checks see it: the tables there, and the columns the plan adds.
pub(super) struct Live<'a> {
    found: &'a Schema,
    added_columns: Vec<(&'a str, &'a str)>,
}

impl<'a> Live<'a> {
    fn new(found: &'a Schema, plan: &'a Plan) -> Live<'a> {
        let added_columns = plan
            .fixes
            .iter()
            .filter_map(|f| Some((f.table()?, f.added_column()?)))
            .collect();
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
    let list = columns
        .iter()
        .map(|c| quote(c))
        .collect::<Vec<_>>()
        .join(", ");
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

/// The tables, indexes and constraints to create whose name another object of the schema has
/// (an index on another table, a view, a sequence, …): creating them would fail.
fn taken_names(db: &mut Db, schema: &SchemaName, plan: &Plan) -> Result<Vec<String>> {
    let wanted: Vec<(&str, &str)> = plan.fixes.iter().filter_map(|f| f.created_name()).collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let objects = db.named_objects(schema)?;
    Ok(wanted
        .into_iter()
        .filter_map(|(what, name)| {
            let taken = objects.iter().find(|o| o.name == name)?;
            let article = if taken.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            Some(format!(
                "{name}: facedb must create this {what}, but the name is taken by {article} {}",
                taken.kind
            ))
        })
        .collect())
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
