//! Every SQLite catalog and system query facedb runs (`sqlite_master`, the pragmas), as plain
//! functions on a `SqliteConnection`, in sections by subject. Where a statement named the schema
//! (`main`) before it moved here, it still does (`SchemaName::qualify`). SQLite keeps no
//! dependency graph: what depends on what is found here by reading the SQL it stores. What both
//! backends answer alike is asked through a `Db` method (`super::catalog`).

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use diesel::sqlite::SqliteConnection;

use super::catalog::{ColumnType, Named, TableEstimate};
use crate::config::SchemaName;

// ---- the database file ----

/// The file SQLite opened as `main`; empty for a temporary database.
pub fn main_file(conn: &mut SqliteConnection) -> QueryResult<Option<String>> {
    #[derive(QueryableByName)]
    struct DatabaseFile {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        file: String,
    }
    let files: Vec<DatabaseFile> = diesel::sql_query("PRAGMA database_list").load(conn)?;
    Ok(files.into_iter().find(|f| f.name == "main").map(|f| f.file))
}

// ---- tables and rows ----

/// `'users', 'visits'`: names for an SQL `IN` list (facedb's own names need no escaping).
fn sql_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `table` is a table in `schema`, in any case.
pub fn table_exists(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
    table: &str,
) -> QueryResult<bool> {
    diesel::select(
        diesel::dsl::sql::<Bool>(&format!(
            "EXISTS (SELECT 1 FROM {} WHERE type = 'table' AND lower(name) = lower(",
            schema.qualify("sqlite_master")
        ))
        .bind::<Text, _>(table)
        .sql("))"),
    )
    .get_result(conn)
}

/// Which of `names` are tables in `schema`, in any case (a table made as USERS is facedb's
/// users), in lower case and in no particular order.
pub fn existing_tables(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<String>> {
    let found: Vec<Named> = diesel::sql_query(format!(
        "SELECT lower(name) AS name FROM {} WHERE type = 'table' AND lower(name) IN ({})",
        schema.qualify("sqlite_master"),
        sql_list(names)
    ))
    .load(conn)?;
    Ok(found.into_iter().map(|n| n.name).collect())
}

/// Which of `names` are tables in `schema`, in any case; SQLite keeps no estimate of their rows
/// (0).
pub fn table_estimates(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<TableEstimate>> {
    diesel::sql_query(format!(
        "SELECT lower(name) AS name, 0.0 AS estimate FROM {} \
         WHERE type = 'table' AND lower(name) IN ({})",
        schema.qualify("sqlite_master"),
        sql_list(names)
    ))
    .load(conn)
}

// ---- columns ----

/// Every table's columns in `schema` with their declared types, all in lower case: SQLite names
/// are case-insensitive.
pub fn column_types(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
) -> QueryResult<Vec<ColumnType>> {
    diesel::sql_query(format!(
        "SELECT lower(m.name) AS table_name, lower(p.name) AS column_name, lower(p.type) AS type_name \
         FROM {} m, pragma_table_info(m.name) p WHERE m.type = 'table'",
        schema.qualify("sqlite_master")
    ))
    .load(conn)
}
