//! What makes adoption refuse, decided before it changes anything: the differences the plan will
//! not reconcile, the rows already there that a change would reject (each kind of fix runs its
//! own check from [`super::data`]), names that what it creates would collide with, and on SQLite
//! rows that already break a foreign key.

use crate::catalog::Schema;
use crate::config::SchemaName;
use crate::db::Db;
use crate::error::{Error, Result};

use super::data::{foreign_key_violations, Live};
use super::plan::Plan;

/// Fails, listing every reason at once, when adoption cannot go ahead; changes nothing.
pub(super) fn refuse_if_blocked(
    db: &mut Db,
    schema: &SchemaName,
    plan: &Plan,
    found: &Schema,
    target: &str,
) -> Result<()> {
    let live = Live::new(found, plan.added_columns());
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
