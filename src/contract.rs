//! The schema facedb owns, as each backend's catalog shows it: what the migrations make on an
//! empty database, in the neutral form of [`crate::catalog`], so that a live catalog can be
//! compared with it ([`crate::compare`]). `check`, `status`, adoption and reset use it.
//!
//! The migrations are the schema: `contract.json` is generated from them, never edited.
//! `tests/it/schema_source.rs` applies the migrations to empty databases, reads both catalogs back,
//! and fails when `contract.json` (or the reference `docs/schema.md`) says anything else; run
//! [`REGENERATE`] to write both again.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::catalog::{Backend, Schema};

/// The command that regenerates `contract.json` and `docs/schema.md` from the migrations.
pub const REGENERATE: &str = "FACEDB_BLESS=1 cargo test --test it is_what_the_migrations_make";

/// facedb's tables (not its `__` bookkeeping) on each backend, in the order the migrations create
/// them, and PostgreSQL's enum types. The form of `contract.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    pub postgres: Schema,
    pub sqlite: Schema,
}

fn contract() -> &'static Contract {
    static CONTRACT: OnceLock<Contract> = OnceLock::new();
    CONTRACT.get_or_init(|| {
        serde_json::from_str(include_str!("contract.json"))
            .unwrap_or_else(|e| panic!("src/contract.json does not parse ({e}); run {REGENERATE}"))
    })
}

/// The schema the migrations make, as `backend`'s catalog shows it: types and defaults in its
/// words; constraint names and enum types on PostgreSQL only (SQLite has neither).
pub fn expected(backend: Backend) -> Schema {
    let contract = contract();
    match backend {
        Backend::Postgres => contract.postgres.clone(),
        Backend::Sqlite => contract.sqlite.clone(),
    }
}

/// facedb's tables by name, in the order the migrations create them (parents first).
pub fn table_names() -> Vec<&'static str> {
    contract()
        .postgres
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_have_the_same_tables_and_columns() {
        let contract = contract();
        let columns = |schema: &Schema| -> Vec<(String, Vec<String>)> {
            schema
                .tables
                .iter()
                .map(|t| {
                    let names = t.columns.iter().map(|c| c.name.clone()).collect();
                    (t.name.clone(), names)
                })
                .collect()
        };
        assert_eq!(columns(&contract.postgres), columns(&contract.sqlite));
        assert!(contract.sqlite.enums.is_empty());
        assert_eq!(
            contract.postgres.enum_type("userrole").unwrap().labels,
            ["SYSTEM_ADMIN", "TENANT_ADMIN", "SITE_MANAGER", "WORKER"]
        );
    }
}
