//! PostgreSQL: every change is made in place, in the plan's order, inside the caller's
//! transaction: what is missing from the migrations' own `CREATE` statements, changes to existing
//! tables with `ALTER TABLE` (each kind of fix words its own).

use crate::config::SchemaName;
use crate::db::Db;
use crate::error::Result;

use super::data::execute;
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
