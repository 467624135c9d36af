//! PostgreSQL: every change is made in place, in the plan's order, inside the caller's
//! transaction: what is missing from the migrations' own `CREATE` statements, changes to existing
//! tables with `ALTER TABLE` (each kind of fix words its own, with the helpers here).

use crate::config::quote_identifier as quote;
use crate::config::SchemaName;
use crate::db::Db;
use crate::error::Result;

use super::execute;
use super::fix::Definitions;
use super::plan::Plan;

/// Makes every change of `plan`.
pub(super) fn apply(
    db: &mut Db,
    schema: &SchemaName,
    plan: &Plan,
    definitions: &Definitions,
) -> Result<()> {
    for fix in plan.ordered() {
        for sql in fix.migration_sql(definitions)? {
            execute(db, &sql)?;
        }
        if let Some(sql) = fix.postgres_sql(schema) {
            execute(db, &sql)?;
        }
    }
    Ok(())
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
