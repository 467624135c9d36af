//! The one schema facedb works in, and how names are quoted.

use super::options::TargetOptions;
use super::{Backend, Environment};
use crate::error::{Error, Result};

/// PostgreSQL's schema when none is configured.
pub const DEFAULT_SCHEMA: &str = "public";

/// Quotes an SQL identifier (both backends take double quotes): any name works and none can
/// inject SQL.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The schema facedb works in, and the only one it looks at or changes: on PostgreSQL the
/// configured one (default `public`); on SQLite the database file's own, `main`. Every statement
/// facedb writes names it, so that the connection's `search_path` decides nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct SchemaName(String);

impl SchemaName {
    /// The schema `--schema` names, else `FACEDB_SCHEMA` (the process environment, then the
    /// `.env` file): what every command reads, `facedb sql` included.
    pub fn from_sources(
        options: &TargetOptions,
        env: &Environment,
        backend: Backend,
    ) -> Result<SchemaName> {
        let name = options.schema.clone().or_else(|| env.get("FACEDB_SCHEMA"));
        SchemaName::configured(name, backend)
    }

    /// The schema from `--schema` or `FACEDB_SCHEMA`: a PostgreSQL name (1 to 63 bytes) that is
    /// not a system schema; SQLite has no schemas to choose from, so only the default is
    /// accepted there. Checked before anything connects, so a refused name changes nothing.
    pub fn configured(name: Option<String>, backend: Backend) -> Result<SchemaName> {
        let name = name.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        if backend == Backend::Sqlite {
            return if name == DEFAULT_SCHEMA {
                Ok(SchemaName("main".to_owned()))
            } else {
                Err(Error::Usage(format!(
                    "--schema/FACEDB_SCHEMA is '{name}', but a SQLite database has no schemas; leave it unset (or '{DEFAULT_SCHEMA}')"
                )))
            };
        }
        if name.is_empty() || name.len() > 63 || name.contains('\0') {
            return Err(Error::Usage(format!(
                "--schema/FACEDB_SCHEMA must be a PostgreSQL schema name of 1 to 63 bytes, got '{}'",
                name.escape_debug()
            )));
        }
        if let Some(system) = system_schema(&name) {
            return Err(Error::Usage(format!(
                "--schema/FACEDB_SCHEMA is '{}': {system}, and pg_dump leaves it out of every backup. Give facedb a schema of its own (e.g. faces), or leave it unset for '{DEFAULT_SCHEMA}'",
                name.escape_debug()
            )));
        }
        Ok(SchemaName(name))
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The schema as an identifier: `"public"`.
    pub fn quoted(&self) -> String {
        quote_identifier(&self.0)
    }

    /// An object of the schema: `"public"."users"`.
    pub fn qualify(&self, object: &str) -> String {
        format!("{}.{}", self.quoted(), quote_identifier(object))
    }

    /// PostgreSQL: an expression for the schema's `pg_namespace` oid, NULL while the schema does
    /// not exist (then no catalog row matches it).
    pub fn namespace(&self) -> String {
        format!(
            "(SELECT oid FROM pg_namespace WHERE nspname = '{}')",
            self.0.replace('\'', "''")
        )
    }
}

/// Why `name` is a schema PostgreSQL keeps for itself, if it is: `information_schema`, and every
/// name beginning `pg_` (`pg_catalog`, `pg_toast`, each session's `pg_temp_N` and
/// `pg_toast_temp_N`, and `pg_temp`, which names the session's own temporary schema). pg_dump
/// leaves them all out. facedb quotes the name, so PostgreSQL takes it as written, without folding
/// its case: like PostgreSQL and pg_dump, this compares it as written (`PG_Faces` is an ordinary
/// schema).
fn system_schema(name: &str) -> Option<&'static str> {
    if name == "information_schema" {
        Some("PostgreSQL keeps that schema for the SQL standard's catalog views")
    } else if name.starts_with("pg_") {
        Some("PostgreSQL keeps the names beginning with pg_ for its own schemas (pg_catalog, pg_toast, the sessions' temporary pg_temp)")
    } else {
        None
    }
}

impl std::fmt::Display for SchemaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
