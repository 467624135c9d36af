//! Whether the tables with facedb's names in a schema are facedb's own: recorded by its
//! bookkeeping, or made by the old facedb tool (the legacy test, which adoption relies on). Every
//! command that changes those tables asks here first.

use crate::config::SchemaName;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::{bookkeeping, contract, inventory, migrations};

/// What shows that the tables with facedb's names in the schema are facedb's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// None of facedb's tables or enum types is there: there is nothing to prove.
    Nothing,
    /// facedb's bookkeeping in the schema records them.
    Recorded,
    /// No bookkeeping, but they are the old Python tool's tables: `init` adopts them.
    Legacy,
    /// Tables with facedb's names that are neither, each with why it is not the old tool's.
    Unproven(Vec<String>),
}

/// Whether facedb may change the tables with its names in `schema`, and why. Reads only.
pub fn ownership(db: &mut Db, schema: &SchemaName) -> Result<Ownership> {
    let tables = db.existing_tables(schema, &inventory::TABLES)?;
    if tables.is_empty() && inventory::existing_types(db, schema)?.is_empty() {
        return Ok(Ownership::Nothing);
    }
    if records_facedb(db, schema)? {
        return Ok(Ownership::Recorded);
    }
    let unfit = unfit_tables(db, schema, &tables)?;
    Ok(if unfit.is_empty() {
        Ownership::Legacy
    } else {
        Ownership::Unproven(unfit)
    })
}

impl Ownership {
    /// Why `command` must not touch `target`'s tables, when facedb cannot show they are its own.
    pub fn refusal(&self, command: &str, target: &str, schema: &SchemaName) -> Option<String> {
        let Ownership::Unproven(tables) = self else {
            return None;
        };
        Some(format!(
            "refusing to {command} {target}: {} in schema {} {} facedb's names but not its own: no facedb \
             bookkeeping there records them, and they are not the old facedb tool's: {}. facedb changes \
             only what it owns; nothing was changed. Rename or move them, or give facedb its own schema \
             (--schema, FACEDB_SCHEMA)",
            crate::text::plural(tables.len(), "table"),
            schema.quoted(),
            if tables.len() == 1 { "has" } else { "have" },
            tables.join("; ")
        ))
    }

    /// `Error::Schema` (exit 5) with [`Ownership::refusal`] when facedb cannot show ownership.
    pub fn require(&self, command: &str, target: &str, schema: &SchemaName) -> Result<()> {
        match self.refusal(command, target, schema) {
            Some(refusal) => Err(Error::Schema(refusal)),
            None => Ok(()),
        }
    }
}

/// Whether facedb's bookkeeping in `schema` shows that facedb set it up: its metadata table, or
/// one of its migrations recorded in `__diesel_schema_migrations`.
pub fn records_facedb(db: &mut Db, schema: &SchemaName) -> Result<bool> {
    if db.table_exists(schema, bookkeeping::TABLE)? {
        return Ok(true);
    }
    Ok(!migrations::state(db, schema)?.applied.is_empty())
}

/// Columns the contract has NOT NULL that later versions of the schema added, so that a table
/// the old tool made may lack them.
const ADDED_AFTER_THE_OLD_TOOL: [(&str, &str); 1] = [("visits", "visit_session_id")];

/// The legacy test, strict: of `tables` (facedb's names, present in `schema`), those that are not
/// the old tool's, each with why: a table it made has every column the contract has NOT NULL
/// (but those added since), and each of them of the contract's kind (text, number, time,
/// true/false, enum, JSON). An application's own `users(id, name)` or `tenants(tenant_id, name)`
/// is not.
pub fn unfit_tables(db: &mut Db, schema: &SchemaName, tables: &[String]) -> Result<Vec<String>> {
    // SQLite's names are case-insensitive: it reads them in lower case.
    let columns = db.column_types(schema, tables)?;
    let contract = contract::expected(db.backend());
    let mut unfit = Vec::new();
    for table in tables {
        let Some(expected) = contract.table(table) else {
            continue;
        };
        let mut wrong = Vec::new();
        for column in expected.columns.iter().filter(|c| c.not_null) {
            if ADDED_AFTER_THE_OLD_TOOL.contains(&(expected.name.as_str(), column.name.as_str())) {
                continue;
            }
            let live = columns
                .iter()
                .find(|c| c.table_name == *table && c.column_name == column.name);
            match live {
                None => wrong.push(format!("no column {}", column.name)),
                Some(live) if !fits(&live.type_name, &column.sql_type) => {
                    wrong.push(format!("{} is {}", column.name, live.type_name))
                }
                Some(_) => {}
            }
        }
        // The first few say enough: a table made for something else lacks most of them.
        const SHOWN: usize = 3;
        if wrong.len() > SHOWN {
            let more = wrong.len() - SHOWN;
            wrong.truncate(SHOWN);
            wrong.push(format!("and {more} more"));
        }
        if !wrong.is_empty() {
            unfit.push(format!("{table} ({})", wrong.join(", ")));
        }
    }
    Ok(unfit)
}

/// Whether a live column's type is of the expected type's kind (both in the catalog's words). An
/// enum may be text: SQLite has no enum types (`VARCHAR` with a CHECK).
fn fits(live: &str, expected: &str) -> bool {
    let (live, expected) = (kind_of(live), kind_of(expected));
    live == expected || (expected == "enum" && live == "text")
}

/// The broad kind of a column type (PostgreSQL's `format_type`, SQLite's declared type), as the
/// legacy test compares them.
fn kind_of(ty: &str) -> &'static str {
    let ty = ty.to_ascii_lowercase();
    let has = |word: &str| ty.contains(word);
    if has("char") || has("text") || has("clob") {
        "text"
    } else if has("int")
        || has("serial")
        || has("numeric")
        || has("real")
        || has("double")
        || has("float")
    {
        "number"
    } else if has("time") || has("date") {
        "time"
    } else if has("bool") {
        "bool"
    } else if has("json") {
        "json"
    } else {
        "enum"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_types_fit_the_contracts_kinds() {
        for (live, contract) in [
            ("character varying(64)", "character varying(64)"),
            ("TEXT", "VARCHAR(255)"),
            ("bigint", "integer"),
            ("INTEGER", "bigint"),
            ("double precision", "double precision"),
            ("timestamp without time zone", "timestamp without time zone"),
            ("DATETIME", "timestamp with time zone"),
            ("boolean", "boolean"),
            ("jsonb", "json"),
            ("userrole", "userrole"),
            ("varchar(12)", "userrole"),
        ] {
            assert!(fits(live, contract), "{live} as {contract}");
        }
        for (live, contract) in [
            ("integer", "character varying(64)"),
            ("text", "timestamp with time zone"),
            ("boolean", "integer"),
            ("userrole", "character varying(64)"),
        ] {
            assert!(!fits(live, contract), "{live} as {contract}");
        }
    }
}
