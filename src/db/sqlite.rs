//! Every SQLite catalog and system query facedb runs (`sqlite_master`, the pragmas), as plain
//! functions on a `SqliteConnection`, in sections by subject. Where a statement named the schema
//! (`main`) before it moved here, it still does (`SchemaName::qualify`). SQLite keeps no
//! dependency graph: what depends on what is found here by reading the SQL it stores. What both
//! backends answer alike is asked through a `Db` method (`super::catalog`).

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::rows::{
    Attachment, ColumnType, Dependent, ForeignKeyViolation, KnownNames, Named, NamedObject, Owned,
    SetUpSigns, SetUpState, TableEstimate,
};
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

/// The SQLite library's version: `3.50.2`.
pub fn library_version(conn: &mut SqliteConnection) -> QueryResult<String> {
    let version: Named = diesel::sql_query("SELECT sqlite_version() AS name").get_result(conn)?;
    Ok(version.name)
}

// ---- tables and rows ----

/// `'users', 'visits'`: names for an SQL `IN` list.
fn sql_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", n.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Which of `names` are tables in `schema`, in any case (a table made as USERS is facedb's
/// users), in lower case and in no particular order; SQLite keeps no estimate of their rows (0).
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

// ---- the schema as the catalog shows it ----

/// Every table, sorted, but SQLite's own (`sqlite_…`).
pub fn table_names(conn: &mut SqliteConnection) -> QueryResult<Vec<String>> {
    let names: Vec<Named> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         ORDER BY 1",
    )
    .load(conn)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

/// What the pragmas, and the `CREATE` statements SQLite stores, say of one table.
pub struct TableRows {
    pub name: String,
    /// Its `CREATE TABLE`, as stored.
    pub create_table: String,
    /// In the table's order.
    pub columns: Vec<SqliteColumn>,
    /// One row per column of each foreign key, by id.
    pub foreign_keys: Vec<SqliteForeignKey>,
    /// The columns of each table a foreign key references without naming columns (it means
    /// that table's primary key), by the foreign key's id.
    pub referenced_columns: BTreeMap<i32, Vec<SqliteColumn>>,
    /// By name.
    pub indexes: Vec<IndexRows>,
}

#[derive(QueryableByName)]
pub struct SqliteColumn {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// The declared type, as written.
    #[diesel(sql_type = Text)]
    pub sql_type: String,
    #[diesel(sql_type = Integer)]
    pub not_null: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub default_expr: Option<String>,
    /// Position in the primary key, from 1; 0 when not part of it.
    #[diesel(sql_type = Integer)]
    pub pk: i32,
}

#[derive(QueryableByName)]
pub struct SqliteForeignKey {
    #[diesel(sql_type = Integer)]
    pub id: i32,
    #[diesel(sql_type = Text)]
    pub ref_table: String,
    #[diesel(sql_type = Text)]
    pub from_column: String,
    /// `NULL` means the referenced table's primary key.
    #[diesel(sql_type = Nullable<Text>)]
    pub to_column: Option<String>,
    #[diesel(sql_type = Text)]
    pub on_update: String,
    #[diesel(sql_type = Text)]
    pub on_delete: String,
}

#[derive(QueryableByName)]
pub struct SqliteIndex {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Integer)]
    pub is_unique: i32,
    /// `c` (CREATE INDEX), `u` (UNIQUE constraint), `pk` (primary key).
    #[diesel(sql_type = Text)]
    pub origin: String,
    #[diesel(sql_type = Integer)]
    pub partial: i32,
}

/// An index of a table, with its columns.
pub struct IndexRows {
    pub index: SqliteIndex,
    /// In the index's order; an expression is `<expression>`.
    pub columns: Vec<String>,
    /// The `CREATE INDEX` of a partial index, as stored; `None` for any other.
    pub create_index: Option<String>,
}

#[derive(QueryableByName)]
struct SqliteText {
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
}

/// The `CREATE` statement SQLite stores for the `kind` (`table`, `index`) named `name`.
fn stored_sql(conn: &mut SqliteConnection, kind: &str, name: &str) -> QueryResult<Option<String>> {
    let rows: Vec<SqliteText> =
        diesel::sql_query("SELECT sql AS text FROM sqlite_master WHERE type = ? AND name = ?")
            .bind::<Text, _>(kind)
            .bind::<Text, _>(name)
            .load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.text))
}

fn table_columns(conn: &mut SqliteConnection, table: &str) -> QueryResult<Vec<SqliteColumn>> {
    diesel::sql_query(
        "SELECT name, type AS sql_type, \"notnull\" AS not_null, dflt_value AS default_expr, pk \
         FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind::<Text, _>(table)
    .load(conn)
}

/// The rows of each of `tables` that exists, in the order of `tables`.
pub fn schema_rows(conn: &mut SqliteConnection, tables: &[&str]) -> QueryResult<Vec<TableRows>> {
    let mut found = Vec::new();
    for &name in tables {
        let Some(create_table) = stored_sql(conn, "table", name)? else {
            continue;
        };
        let columns = table_columns(conn, name)?;
        let foreign_keys: Vec<SqliteForeignKey> = diesel::sql_query(
            "SELECT id, \"table\" AS ref_table, \"from\" AS from_column, \"to\" AS to_column, \
                    on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        let mut referenced_columns = BTreeMap::new();
        for fk in &foreign_keys {
            if fk.to_column.is_none() && !referenced_columns.contains_key(&fk.id) {
                referenced_columns.insert(fk.id, table_columns(conn, &fk.ref_table)?);
            }
        }
        let mut listed: Vec<SqliteIndex> = diesel::sql_query(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list(?)",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        // By name: SQLite numbers the indexes of UNIQUE constraints in declaration order.
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        let mut indexes = Vec::new();
        for index in listed {
            let parts: Vec<SqliteText> = diesel::sql_query(
                "SELECT coalesce(name, '<expression>') AS text FROM pragma_index_info(?) ORDER BY seqno",
            )
            .bind::<Text, _>(&index.name)
            .load(conn)?;
            let create_index = if index.partial != 0 {
                stored_sql(conn, "index", &index.name)?
            } else {
                None
            };
            indexes.push(IndexRows {
                columns: parts.into_iter().filter_map(|p| p.text).collect(),
                create_index,
                index,
            });
        }
        found.push(TableRows {
            name: name.to_owned(),
            create_table,
            columns,
            foreign_keys,
            referenced_columns,
            indexes,
        });
    }
    Ok(found)
}

/// Every object of the file (tables, indexes, views, triggers) by name, with its kind.
pub fn objects(conn: &mut SqliteConnection) -> QueryResult<Vec<NamedObject>> {
    diesel::sql_query("SELECT name, type AS kind FROM sqlite_master").load(conn)
}

// ---- what others made ----

#[derive(QueryableByName)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    /// The table an index or trigger is on; a table's or view's own name.
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyTarget {
    #[diesel(sql_type = Text)]
    target: String,
}

/// What a drop of `owned`'s tables (bookkeeping included) would break, read from `sqlite_master`
/// anywhere in the file: every view and trigger whose SQL names one of them, and every other
/// table whose foreign keys point at one. SQLite itself would drop a table under them without a
/// word. A trigger *on* one of `owned`'s tables is not among them: it goes with its table, and a
/// reset carries it over. facedb's migrations create no view or trigger (a test says so), so
/// each one found is someone else's.
pub fn foreign_dependents(
    conn: &mut SqliteConnection,
    owned: &Owned<'_>,
) -> QueryResult<Vec<Dependent>> {
    let owned_tables = owned.all_tables();
    // SQLite identifiers are case-insensitive: `REFERENCES USERS` names facedb's users.
    let is_owned = |name: &str| owned_tables.contains(&name.to_ascii_lowercase().as_str());
    let objects: Vec<SchemaObject> = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master ORDER BY name",
    )
    .load(conn)?;
    let mut dependents = Vec::new();
    for object in &objects {
        let what = match object.kind.as_str() {
            "view" => format!("view {}", object.name),
            "trigger" if !is_owned(&object.table_name) => {
                format!("trigger {} on table {}", object.name, object.table_name)
            }
            "table" if !is_owned(&object.name) && !object.name.starts_with("sqlite_") => {
                let targets: Vec<ForeignKeyTarget> =
                    diesel::sql_query("SELECT \"table\" AS target FROM pragma_foreign_key_list(?)")
                        .bind::<Text, _>(&object.name)
                        .load(conn)?;
                if let Some(fk) = targets.iter().find(|fk| is_owned(&fk.target)) {
                    dependents.push(Dependent::new(
                        format!("a foreign key of table {}", object.name),
                        format!("table {}", fk.target),
                    ));
                }
                continue;
            }
            _ => continue,
        };
        let named = tables_named(object.sql.as_deref().unwrap_or_default());
        let depends_on: Vec<String> = owned_tables
            .iter()
            .filter(|table| named.contains(**table))
            .map(|table| format!("table {table}"))
            .collect();
        if !depends_on.is_empty() {
            dependents.push(Dependent::new(what, depends_on.join(", ")));
        }
    }
    Ok(dependents)
}

/// The tables that `sql`, one `CREATE VIEW` or `CREATE TRIGGER` as SQLite stores it, names, in
/// lower case (SQLite's names are case-insensitive; quoted, bracketed or backticked, the parser
/// gives the name itself). Read with `sqlparser`: every relation of the statement (`FROM`,
/// joins, subqueries, `INSERT INTO`, `UPDATE`, `DELETE FROM`, a trigger's `WHEN`), but a view's
/// own name. Where the parser cannot read the statement (SQLite syntax it lacks), every
/// identifier its tokenizer finds counts, and where even that fails, every word: a column named
/// like one of facedb's tables then counts too, so what cannot be read errs towards refusing.
fn tables_named(sql: &str) -> BTreeSet<String> {
    use sqlparser::ast::{visit_relations, ObjectName, Statement};
    use sqlparser::dialect::SQLiteDialect;
    use sqlparser::parser::Parser;
    use sqlparser::tokenizer::{Token, Tokenizer};
    use std::ops::ControlFlow;

    let dialect = SQLiteDialect {};
    if let Ok(statements) = Parser::parse_sql(&dialect, sql) {
        let mut names = BTreeSet::new();
        let mut add = |name: &ObjectName| {
            if let Some(ident) = name.0.last().and_then(|part| part.as_ident()) {
                names.insert(ident.value.to_ascii_lowercase());
            }
            ControlFlow::<()>::Continue(())
        };
        for statement in &statements {
            let _ = match statement {
                Statement::CreateView(view) => visit_relations(&view.query, &mut add),
                other => visit_relations(other, &mut add),
            };
        }
        return names;
    }
    match Tokenizer::new(&dialect, sql).tokenize() {
        Ok(tokens) => tokens
            .into_iter()
            .filter_map(|token| match token {
                Token::Word(word) => Some(word.value.to_ascii_lowercase()),
                _ => None,
            })
            .collect(),
        Err(_) => sql
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty())
            .map(str::to_ascii_lowercase)
            .collect(),
    }
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

// ---- adoption: broken foreign keys, a table rebuilt ----

/// The rows that refer to a row that does not exist (`PRAGMA foreign_key_check`), counted by
/// table and referenced table.
pub fn foreign_key_violations(
    conn: &mut SqliteConnection,
) -> QueryResult<Vec<ForeignKeyViolation>> {
    diesel::sql_query(
        "SELECT \"table\" AS child, parent, count(*) AS n FROM pragma_foreign_key_check \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .load(conn)
}

/// Whether the connection enforces foreign keys (`PRAGMA foreign_keys`).
pub fn foreign_keys_enforced(conn: &mut SqliteConnection) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct On {
        #[diesel(sql_type = BigInt)]
        foreign_keys: i64,
    }
    let on: On = diesel::sql_query("PRAGMA foreign_keys").get_result(conn)?;
    Ok(on.foreign_keys != 0)
}

/// The statements SQLite stores for the indexes and triggers of `table`, indexes first; the
/// automatic indexes of PRIMARY KEY and UNIQUE have none.
pub fn index_and_trigger_sql(conn: &mut SqliteConnection, table: &str) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Sql {
        #[diesel(sql_type = Text)]
        sql: String,
    }
    let saved: Vec<Sql> = diesel::sql_query(
        "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') \
         AND sql IS NOT NULL ORDER BY type, name",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(saved.into_iter().map(|s| s.sql).collect())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The last id an AUTOINCREMENT `table` handed out (`sqlite_sequence`); 0 when it has none.
pub fn autoincrement_count(conn: &mut SqliteConnection, table: &str) -> QueryResult<i64> {
    let sequence =
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'";
    if diesel::sql_query(sequence).get_result::<Count>(conn)?.n == 0 {
        return Ok(0);
    }
    Ok(
        diesel::sql_query("SELECT coalesce(max(seq), 0) AS n FROM sqlite_sequence WHERE name = ?")
            .bind::<Text, _>(table)
            .get_result::<Count>(conn)?
            .n,
    )
}

/// Makes the AUTOINCREMENT `table` hand out ids after `count`, never one it handed out before.
pub fn continue_autoincrement(
    conn: &mut SqliteConnection,
    table: &str,
    count: i64,
) -> QueryResult<()> {
    diesel::sql_query("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?")
        .bind::<BigInt, _>(count)
        .bind::<Text, _>(table)
        .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO sqlite_sequence (name, seq) SELECT ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)",
    )
    .bind::<Text, _>(table)
    .bind::<BigInt, _>(count)
    .bind::<Text, _>(table)
    .execute(conn)?;
    Ok(())
}

// ---- whether a database is set up ----

/// Whether the file shows every sign of being set up (see `postgres::set_up_state`): which of
/// the three tables exist, then, only when all do, one statement that reads them together. It
/// reads in a transaction holding the file's write lock, taken only if it is free, without
/// waiting: while another process holds it (a facedb at work, any writer), `locked` says so and
/// nothing is read. SQLite has one schema, so nothing shadows facedb's tables.
pub fn set_up_state(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
    signs: &SetUpSigns<'_>,
) -> QueryResult<SetUpState> {
    #[derive(QueryableByName)]
    struct BusyTimeout {
        #[diesel(sql_type = BigInt)]
        timeout: i64,
    }
    let waits: BusyTimeout = diesel::sql_query("PRAGMA busy_timeout").get_result(conn)?;
    diesel::sql_query("PRAGMA busy_timeout = 0").execute(conn)?;
    let begun = AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE");
    diesel::sql_query(format!("PRAGMA busy_timeout = {}", waits.timeout)).execute(conn)?;
    // Rolled back, not committed: committing would give an empty file SQLite's header.
    let looked = begun.and_then(|()| {
        let read = read_set_up_state(conn, schema, signs);
        AnsiTransactionManager::rollback_transaction(conn)?;
        read
    });
    match looked {
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("locked") || info.message().contains("busy") =>
        {
            Ok(SetUpState {
                shadowed: false,
                locked: true,
                environment: None,
            })
        }
        looked => looked,
    }
}

fn read_set_up_state(
    conn: &mut SqliteConnection,
    schema: &SchemaName,
    signs: &SetUpSigns<'_>,
) -> QueryResult<SetUpState> {
    let tables = [
        signs.metadata_table,
        signs.users_table,
        signs.migrations_table,
    ];
    let mut state = SetUpState {
        shadowed: false,
        locked: false,
        environment: None,
    };
    if table_estimates(conn, schema, &tables)?.len() < tables.len() {
        return Ok(state);
    }
    let versions: Vec<&str> = signs.versions.iter().map(String::as_str).collect();
    let recorded: Option<Named> = diesel::sql_query(format!(
        "SELECT m.value AS name FROM {} m WHERE m.key = ? \
           AND EXISTS (SELECT 1 FROM {} u WHERE u.role = ?) \
           AND (SELECT count(DISTINCT d.version) FROM {} d WHERE d.version IN ({})) = ?",
        schema.qualify(signs.metadata_table),
        schema.qualify(signs.users_table),
        schema.qualify(signs.migrations_table),
        sql_list(&versions)
    ))
    .bind::<Text, _>(signs.environment_key)
    .bind::<Text, _>(signs.admin_role)
    .bind::<BigInt, _>(versions.len() as i64)
    .get_result(conn)
    .optional()?;
    state.environment = recorded.map(|r| r.name);
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::SQLiteDialect;
    use sqlparser::parser::Parser;

    fn named(sql: &str) -> Vec<String> {
        tables_named(sql).into_iter().collect()
    }

    #[test]
    fn reads_the_tables_a_view_names_however_they_are_written() {
        assert_eq!(
            named("CREATE VIEW v AS SELECT version FROM \"__Diesel_Schema_Migrations\""),
            ["__diesel_schema_migrations"]
        );
        // Brackets, backticks, a schema, a join and a subquery; an alias or a column named like
        // a table is not a table.
        assert_eq!(
            named(
                "CREATE VIEW [Visits] AS SELECT v.site_id AS users, tenants.x FROM [VISITS] v \
                 JOIN `Sites` s ON s.site_id = v.site_id \
                 WHERE v.person_id IN (SELECT customer_id FROM main.Customers)"
            ),
            ["customers", "sites", "visits"]
        );
    }

    #[test]
    fn reads_the_tables_a_trigger_writes_and_reads() {
        let found = named(
            "CREATE TRIGGER \"t\" AFTER INSERT ON orders \
             WHEN NEW.id > (SELECT count(*) FROM Tenants) BEGIN \
             INSERT INTO `Visits` (visit_id) VALUES (NEW.id); \
             UPDATE [staff] SET name = 'x' WHERE staff_id = NEW.id; \
             DELETE FROM workers WHERE worker_id = NEW.id; END",
        );
        for table in ["tenants", "visits", "staff", "workers"] {
            assert!(found.iter().any(|f| f == table), "{table}: {found:?}");
        }
        assert!(!found.iter().any(|f| f == "name"), "{found:?}");
    }

    #[test]
    fn what_the_parser_cannot_read_counts_every_identifier() {
        let unreadable = "CREATE VIEW v AS SELECT users FROM orders WINDOW NONSENSE ((";
        assert!(Parser::parse_sql(&SQLiteDialect {}, unreadable).is_err());
        let words = named(unreadable);
        for word in ["users", "orders", "nonsense"] {
            assert!(words.iter().any(|w| w == word), "{word}: {words:?}");
        }
        // Not even tokenized (an unterminated quote): every word.
        assert!(
            named("CREATE VIEW v AS SELECT * FROM [visits WHERE 'x").contains(&"visits".to_owned())
        );
    }

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("create view v as select * from visits", "visits"));
        assert!(mentions("select * from \"visits\" where 1", "visits"));
        assert!(!mentions("select * from visits_archive", "visits"));
        assert!(!mentions("select * from old_users", "users"));
    }
}
