//! What people attach to facedb's tables, carried over a reset: read from the catalog before the
//! drop, re-applied once the schema is set up again, inside the same transaction.
//!
//! PostgreSQL: owners, user-added constraints, indexes, statistics objects and triggers,
//! replica identity, storage parameters and statistics targets, row level security and policies,
//! privileges (tables, columns, serial sequences, enum types), publication membership and
//! comments. SQLite: user-added indexes and triggers.
//!
//! This module only writes the statements that re-apply what it knows how to carry. What a reset
//! loses or reverts is not decided here but by comparing everything the drop takes with it
//! before and after the reset (`footprint`): a kind this module does not know is lost, listed
//! and refused, never dropped silently. docs/reset.md says the same for users.
//!
//! Finding them is a catalog read of each backend (`Db::attachments`, in `db::postgres` and
//! `db::sqlite`), which also writes the statements that re-apply each.

use diesel::connection::SimpleConnection;
use serde::Serialize;

use crate::catalog::Backend;
use crate::config::SchemaName;
use crate::contract;
use crate::db::{Attachment, Db, KnownNames};
use crate::error::{Error, Result};
use crate::inventory;

/// The flag that lets a reset without a prompt drop what it cannot carry over.
pub const ACCEPT_LOSS_FLAG: &str = "--drop-unknown-columns";

/// One thing a reset re-applies to the new tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// What it is, e.g. `privileges on table visits (api)`, `index visits_note on table visits`.
    pub object: String,
    /// The statements that re-apply it, `;`-separated.
    statements: String,
}

/// What a reset carries over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carry {
    /// In the order the reset re-applies them.
    pub carried: Vec<Carried>,
}

/// What the reset's report shows: the carried-over items, the lost ones and the reverted
/// properties, by description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CarrySummary {
    pub carried_over: Vec<String>,
    pub reverted: Vec<String>,
    pub lost: Vec<String>,
}

impl Carry {
    /// The carried-over items, by description.
    pub fn objects(&self) -> Vec<String> {
        self.carried.iter().map(|c| c.object.clone()).collect()
    }

    /// The statements that re-apply them, in order.
    pub fn statements(&self) -> Vec<String> {
        self.carried.iter().map(|c| c.statements.clone()).collect()
    }

    /// Re-applies what was carried over, in order. A definition that no longer applies stops
    /// the reset (exit 5): the caller's transaction then rolls everything back.
    pub fn restore(&self, db: &mut Db, target: &str) -> Result<()> {
        for item in &self.carried {
            let applied = db.batch_execute(&item.statements);
            applied.map_err(|error| match Error::from(error) {
                // A wait for a lock is a lock timeout (exit 6), not a definition that fails.
                Error::Database(error) if !crate::error::is_lock_timeout(&error) => Error::Schema(format!(
                    "cannot reset {target}: cannot carry over {} to the new tables ({}); the reset was rolled back, nothing was changed",
                    item.object,
                    error.to_string().lines().next().unwrap_or_default()
                )),
                other => other,
            })?;
        }
        Ok(())
    }
}

/// Why a reset without a prompt would refuse to lose `lost`, if it would.
pub fn refusal(target: &str, lost: &[String], accepted: bool) -> Option<String> {
    (!accepted && !lost.is_empty()).then(|| {
        format!(
            "cannot reset {target} without losing what it cannot carry over: {}. \
             Drop or move what it names first, or pass {ACCEPT_LOSS_FLAG} to drop it with the reset",
            lost.join("; ")
        )
    })
}

/// Reads what a reset of facedb's tables in `schema` would carry over. Changes nothing.
/// On SQLite `schema` is ignored: a file has one.
pub fn capture(db: &mut Db, schema: &SchemaName) -> Result<Carry> {
    let known = known_names(db.backend());
    let mut carry = Carry::default();
    carry.add(db.attachments(schema, &inventory::OWNED, &known)?);
    Ok(carry)
}

impl Carry {
    /// Keeps what can be re-applied: not what has no statement, nor what uses a column facedb's
    /// schema does not have (the comparison of footprints finds both lost).
    fn add(&mut self, attachments: Vec<Attachment>) {
        for attachment in attachments {
            if let (Some(statements), None) = (attachment.statements, attachment.uses) {
                self.carried.push(Carried {
                    object: attachment.object,
                    statements,
                });
            }
        }
    }
}

/// The names facedb's schema gives to columns (`table.column`) and to constraints and indexes.
fn known_names(backend: Backend) -> KnownNames {
    let expected = contract::expected(backend);
    let mut columns = Vec::new();
    let mut relations = Vec::new();
    for table in &expected.tables {
        columns.extend(
            table
                .columns
                .iter()
                .map(|c| format!("{}.{}", table.name, c.name)),
        );
        let keys = table.primary_key.iter().chain(&table.uniques);
        relations.extend(keys.filter_map(|k| k.name.clone()));
        relations.extend(table.foreign_keys.iter().filter_map(|fk| fk.name.clone()));
        relations.extend(table.indexes.iter().map(|i| i.name.clone()));
    }
    KnownNames { columns, relations }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_uses_a_lost_column_is_not_carried() {
        let item = |object: &str, statements: Option<&str>, uses: Option<&str>| Attachment {
            object: object.to_owned(),
            statements: statements.map(str::to_owned),
            uses: uses.map(str::to_owned),
        };
        let mut carry = Carry::default();
        carry.add(vec![
            item("column visits.note", None, None),
            item("index a on table visits", Some("CREATE INDEX a"), None),
            item(
                "index b on table visits",
                Some("CREATE INDEX b"),
                Some("visits.note"),
            ),
        ]);
        assert_eq!(carry.objects(), ["index a on table visits"]);
        assert_eq!(carry.statements(), ["CREATE INDEX a"]);
        let lost = ["column visits.note".to_owned()];
        assert!(refusal("db", &lost, true).is_none());
        let refused = refusal("db", &lost, false).unwrap();
        assert!(refused.contains("column visits.note"), "{refused}");
        assert!(refused.contains(ACCEPT_LOSS_FLAG), "{refused}");
    }
}
