//! Every SQLite catalog and system query facedb runs (`sqlite_master`, the pragmas), as plain
//! functions on a `SqliteConnection`, in sections by subject. Where a statement named the schema
//! (`main`) before it moved here, it still does (`SchemaName::qualify`). SQLite keeps no
//! dependency graph: what depends on what is found here by reading the SQL it stores. What both
//! backends answer alike is asked through a `Db` method (`super::catalog`).

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::catalog::{Attachment, ColumnType, Dependent, KnownNames, Named, Owned, TableEstimate};
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

/// The columns of `table`, in their order.
pub fn column_names(conn: &mut SqliteConnection, table: &str) -> QueryResult<Vec<String>> {
    let columns: Vec<Named> =
        diesel::sql_query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
            .bind::<Text, _>(table)
            .load(conn)?;
    Ok(columns.into_iter().map(|c| c.name).collect())
}

// ---- what others made ----

#[derive(QueryableByName)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyTarget {
    #[diesel(sql_type = Text)]
    target: String,
}

/// Views that mention `owned`'s tables, and other tables whose foreign keys point at them.
/// Triggers on `owned`'s tables go with them, as on PostgreSQL.
pub fn foreign_dependents(
    conn: &mut SqliteConnection,
    owned: &Owned<'_>,
) -> QueryResult<Vec<Dependent>> {
    // SQLite identifiers are case-insensitive: `REFERENCES USERS` names facedb's users.
    let is_owned = |name: &str| {
        let name = name.to_ascii_lowercase();
        owned.tables.contains(&name.as_str())
            || owned.bookkeeping_tables.contains(&name.as_str())
            || name.starts_with("sqlite_")
    };
    let objects: Vec<SchemaObject> =
        diesel::sql_query("SELECT type AS kind, name, sql FROM sqlite_master ORDER BY name")
            .load(conn)?;
    let mut dependents = Vec::new();
    for object in &objects {
        let sql = object.sql.as_deref().unwrap_or_default().to_lowercase();
        match object.kind.as_str() {
            "view" => {
                if let Some(table) = owned.tables.iter().find(|t| mentions(&sql, t)) {
                    dependents.push(Dependent::new(
                        format!("view {}", object.name),
                        format!("table {table}"),
                    ));
                }
            }
            "table" if !is_owned(&object.name) => {
                let targets: Vec<ForeignKeyTarget> =
                    diesel::sql_query("SELECT \"table\" AS target FROM pragma_foreign_key_list(?)")
                        .bind::<Text, _>(&object.name)
                        .load(conn)?;
                if let Some(fk) = targets.iter().find(|fk| {
                    owned
                        .tables
                        .contains(&fk.target.to_ascii_lowercase().as_str())
                }) {
                    dependents.push(Dependent::new(
                        format!("a foreign key of table {}", object.name),
                        format!("table {}", fk.target),
                    ));
                }
            }
            _ => {}
        }
    }
    Ok(dependents)
}

/// Whether `sql` (as SQLite stores it, in lower case) names `table` (or any other name) as a
/// whole word.
fn mentions(sql: &str, table: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    sql.match_indices(table).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + table.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

// ---- carried over a reset ----

#[derive(QueryableByName)]
struct StoredObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

/// SQLite keeps each index's and trigger's SQL: the user-added ones on `owned`'s tables are
/// created again from it. Columns `known` does not name are lost, and so is an index or trigger
/// that names one.
pub fn attachments(
    conn: &mut SqliteConnection,
    owned: &Owned<'_>,
    known: &KnownNames,
) -> QueryResult<Vec<Attachment>> {
    let mut user_columns: Vec<(String, String)> = Vec::new();
    for table in owned.tables {
        user_columns.extend(
            column_names(conn, table)?
                .into_iter()
                .filter(|column| !known.columns.contains(&format!("{table}.{column}")))
                .map(|column| (table.to_string(), column)),
        );
    }
    let mut attachments: Vec<Attachment> = user_columns
        .iter()
        .map(|(table, column)| Attachment {
            object: format!("column {table}.{column}"),
            statements: None,
            uses: None,
        })
        .collect();
    // Automatic indexes (of PRIMARY KEY and UNIQUE) have no SQL: they come with the table.
    let objects: Vec<StoredObject> = diesel::sql_query(format!(
        "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master \
         WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN ({}) \
         ORDER BY type, name",
        sql_list(owned.tables)
    ))
    .load(conn)?;
    for object in objects {
        if known.relations.contains(&object.name) {
            continue;
        }
        let sql = object.sql.to_lowercase();
        let uses = user_columns
            .iter()
            .find(|(table, column)| {
                *table == object.table_name && mentions(&sql, &column.to_lowercase())
            })
            .map(|(table, column)| format!("{table}.{column}"));
        attachments.push(Attachment {
            object: format!(
                "{} {} on table {}",
                object.kind, object.name, object.table_name
            ),
            statements: Some(object.sql),
            uses,
        });
    }
    Ok(attachments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("create view v as select * from visits", "visits"));
        assert!(mentions("select * from \"visits\" where 1", "visits"));
        assert!(!mentions("select * from visits_archive", "visits"));
        assert!(!mentions("select * from old_users", "users"));
    }
}
