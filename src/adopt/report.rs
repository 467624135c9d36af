//! What adopting a database did, as `init` reports it: [`Adoption`] (its JSON form is
//! `init --json`'s `adopted`), one line per change, and a summary for the result line.

use serde::Serialize;

use crate::contract;
use crate::text::plural;

/// What adopting a database did, for `init`'s report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Adoption {
    /// facedb's tables the database had, in the order the migrations create them.
    pub found_tables: Vec<String>,
    /// Enum types created (PostgreSQL).
    pub created_types: Vec<String>,
    pub created_tables: Vec<String>,
    /// `table.column`.
    pub added_columns: Vec<String>,
    /// `table.column`: server-side defaults given to existing columns.
    pub added_defaults: Vec<String>,
    /// Foreign keys, UNIQUE constraints and (SQLite) CHECKs added to existing tables, in words.
    pub added_constraints: Vec<String>,
    /// Indexes created on existing tables (a created table comes with its own).
    pub created_indexes: Vec<String>,
    /// The old tool's variants brought to the contract's form, in words.
    pub normalised: Vec<String>,
    /// SQLite: tables rebuilt to add what they lacked (created anew, rows copied).
    pub rebuilt_tables: Vec<String>,
    /// What is not in the contract and was left as it is, in words.
    pub kept: Vec<String>,
    /// Migrations recorded as applied: their schema was there, or is now.
    pub recorded_migrations: Vec<String>,
}

impl Adoption {
    /// The changes in a few words, for init's result line.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let mut count = |items: &[String], noun: &str, verb: &str| {
            if !items.is_empty() {
                let counted = match (items.len(), noun) {
                    (1, _) => format!("1 {noun}"),
                    (n, "index") => format!("{n} indexes"),
                    (n, _) => plural(n, noun),
                };
                parts.push(format!("{verb} {counted}"));
            }
        };
        count(&self.created_types, "type", "created");
        count(&self.created_tables, "table", "created");
        count(&self.added_columns, "column", "added");
        count(&self.added_defaults, "default", "added");
        count(&self.added_constraints, "constraint", "added");
        count(&self.created_indexes, "index", "created");
        count(&self.normalised, "variant", "normalised");
        count(&self.rebuilt_tables, "table", "rebuilt");
        let parts = if parts.is_empty() {
            String::new()
        } else {
            format!(": {}", parts.join(", "))
        };
        format!(
            "adopted the existing schema{parts}; recorded {} as applied",
            plural(self.recorded_migrations.len(), "migration")
        )
    }

    /// One line per change, for the progress output.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "found {} of facedb's {} tables without facedb's bookkeeping: adopting them",
            self.found_tables.len(),
            contract::table_names().len()
        )];
        let each = |lines: &mut Vec<String>, items: &[String], what: &str| {
            lines.extend(items.iter().map(|item| format!("{what} {item}")));
        };
        each(&mut lines, &self.created_types, "created type");
        each(&mut lines, &self.created_tables, "created table");
        each(&mut lines, &self.rebuilt_tables, "rebuilt table");
        each(&mut lines, &self.added_columns, "added column");
        // Defaults by table: an old database lacks dozens.
        let mut tables: Vec<&str> = Vec::new();
        for default in &self.added_defaults {
            let table = default.split('.').next().unwrap_or_default();
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        for table in tables {
            let columns: Vec<&str> = self
                .added_defaults
                .iter()
                .filter_map(|d| d.strip_prefix(table)?.strip_prefix('.'))
                .collect();
            lines.push(format!("added defaults to {table}: {}", columns.join(", ")));
        }
        each(&mut lines, &self.added_constraints, "added");
        each(&mut lines, &self.created_indexes, "created index");
        lines.extend(self.normalised.iter().cloned());
        for name in &self.recorded_migrations {
            lines.push(format!("recorded migration {name} as applied"));
        }
        lines
    }
}
