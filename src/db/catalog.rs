//! The questions both backends answer about a database: each [`Db`] method here matches on the
//! backend once and runs that backend's query from [`super::postgres`] or [`super::sqlite`], so
//! the layers above ask without knowing which backend they are on. The rows they return are
//! defined here, in neither backend's words.

use diesel::sql_types::{Double, Text};
use diesel::QueryableByName;

use super::{postgres, sqlite, Db};
use crate::config::SchemaName;
use crate::error::Result;

#[derive(QueryableByName)]
pub(super) struct Named {
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// Which tables exist, and how many rows the planner thinks each holds (PostgreSQL's
/// `reltuples`: -1 or 0 when never analysed; SQLite keeps no estimate: 0).
#[derive(Debug, Clone, QueryableByName)]
pub struct TableEstimate {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Double)]
    pub estimate: f64,
}

/// A live column and its type, as the catalog names it (PostgreSQL's `format_type`, SQLite's
/// declared type in lower case).
#[derive(Debug, Clone, QueryableByName)]
pub struct ColumnType {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub column_name: String,
    #[diesel(sql_type = Text)]
    pub type_name: String,
}

/// One of facedb's table names that the connection's `search_path` resolves to another relation
/// than the one in facedb's schema.
#[derive(Debug, Clone, QueryableByName)]
pub struct ShadowedTable {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Where the name resolves to, qualified and quoted: `"crm"."users"`.
    #[diesel(sql_type = Text)]
    pub resolved: String,
}

impl Db {
    // ---- schemas ----

    /// Whether `schema` exists. A SQLite file's one schema always does.
    pub(crate) fn schema_exists(&mut self, schema: &SchemaName) -> Result<bool> {
        Ok(match self {
            Db::Postgres(conn) => postgres::schema_exists(conn, schema)?,
            Db::Sqlite(_) => true,
        })
    }

    // ---- tables and rows ----

    /// Whether `table` is a table in `schema` (SQLite: in any case).
    pub(crate) fn table_exists(&mut self, schema: &SchemaName, table: &str) -> Result<bool> {
        Ok(match self {
            Db::Postgres(conn) => postgres::table_exists(conn, schema, table)?,
            Db::Sqlite(conn) => sqlite::table_exists(conn, schema, table)?,
        })
    }

    /// Which of `names` are tables in `schema` (SQLite: in any case), in the order of `names`.
    pub(crate) fn existing_tables(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<String>> {
        let found = match self {
            Db::Postgres(conn) => postgres::existing_tables(conn, schema, names)?,
            Db::Sqlite(conn) => sqlite::existing_tables(conn, schema, names)?,
        };
        Ok(in_order(names, &found))
    }

    /// Which of `names` are types in `schema`, in the order of `names`. SQLite has none.
    pub(crate) fn existing_types(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<String>> {
        let found = match self {
            Db::Postgres(conn) => postgres::existing_types(conn, schema, names)?,
            Db::Sqlite(_) => Vec::new(),
        };
        Ok(in_order(names, &found))
    }

    /// Which of `names` are tables in `schema`, each with the planner's estimate of its rows.
    pub(crate) fn table_estimates(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<TableEstimate>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::table_estimates(conn, schema, names)?,
            Db::Sqlite(conn) => sqlite::table_estimates(conn, schema, names)?,
        })
    }

    // ---- columns ----

    /// The columns of `tables` in `schema` with their types. SQLite reads every table's, in lower
    /// case (its names are case-insensitive).
    pub(crate) fn column_types(
        &mut self,
        schema: &SchemaName,
        tables: &[String],
    ) -> Result<Vec<ColumnType>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::column_types(conn, schema, tables)?,
            Db::Sqlite(conn) => sqlite::column_types(conn, schema)?,
        })
    }

    // ---- what others made ----

    /// Which of `names` the connection's own `search_path` resolves to a relation outside
    /// `schema`. Must run outside facedb's transactions, which pin the search path. SQLite has
    /// one schema: none.
    pub(crate) fn shadowed_tables(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<ShadowedTable>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::shadowed_tables(conn, schema, names)?,
            Db::Sqlite(_) => Vec::new(),
        })
    }
}

/// The `found` names in the order of `names`.
fn in_order(names: &[&str], found: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| found.iter().any(|f| f == *n))
        .map(|n| n.to_string())
        .collect()
}
