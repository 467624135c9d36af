//! A database's schema as its catalog shows it, in one neutral form for both backends: tables,
//! columns in order (type in the backend's own words, nullability, default), primary keys, foreign
//! keys with their rules, UNIQUE constraints, indexes, and the allowed values of an enum (labels of
//! a PostgreSQL enum type; the `CHECK (column IN (…))` that stands for one on SQLite).
//!
//! PostgreSQL is read from pg_catalog (the current schema, normally `public`); SQLite from its
//! pragmas and, for CHECK constraints and the condition of a partial index, the `CREATE` statement
//! it stores, parsed with the `sqlparser` crate (a statement it cannot read shows no CHECK, and
//! a partial index's whole statement stands for its condition). [`crate::contract`] holds the
//! expected schema in the same form (read this way from what the migrations make), and
//! [`crate::compare`] lists what differs.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Integer, Nullable, Text};
use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    ColumnOption, CreateIndex, Expr, InTarget, Statement, TableConstraint, Value, ValueWithSpan,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::config::SchemaName;
use crate::db::Db;
use crate::error::Result;

/// Which backend a schema is written for: it decides the words for types and defaults.
pub use crate::config::Backend;

/// A schema: some of its tables and, on PostgreSQL, its enum types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    /// PostgreSQL enum types, labels in their order. Empty on SQLite, which has none.
    pub enums: Vec<EnumType>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    /// In the table's order.
    pub columns: Vec<Column>,
    pub primary_key: Option<Key>,
    pub foreign_keys: Vec<ForeignKey>,
    /// UNIQUE constraints (a bare unique index is an [`Index`]).
    pub uniques: Vec<Key>,
    /// Indexes that do not back the primary key or a UNIQUE constraint.
    pub indexes: Vec<Index>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The type in the backend's words: `character varying(255)`, `userrole` (PostgreSQL's
    /// `format_type`); `VARCHAR(255)` (SQLite's declared type).
    pub sql_type: String,
    pub not_null: bool,
    /// The default expression as the catalog prints it (PostgreSQL's `pg_get_expr`, SQLite's
    /// `dflt_value`). Identity and generated columns show as `generated … as identity` and
    /// `generated always as (…) stored`.
    pub default: Option<String>,
    /// SQLite: the values a `CHECK (column IN ('A', 'B'))` allows, the form an enum takes there.
    /// Always `None` on PostgreSQL, where the column's type is the enum.
    pub allowed_values: Option<Vec<String>>,
}

/// A primary key or UNIQUE constraint. `name` is `None` on SQLite, which does not name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// `None` on SQLite.
    pub name: Option<String>,
    pub columns: Vec<String>,
    /// The referenced table and its columns.
    pub references_table: String,
    pub references: Vec<String>,
    /// `NO ACTION`, `RESTRICT`, `CASCADE`, `SET NULL` or `SET DEFAULT`.
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// Column names; an expression appears as its text.
    pub columns: Vec<String>,
    pub unique: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    pub name: String,
    pub labels: Vec<String>,
}

pub const NO_ACTION: &str = "NO ACTION";

impl Schema {
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    pub fn enum_type(&self, name: &str) -> Option<&EnumType> {
        self.enums.iter().find(|e| e.name == name)
    }
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// Every base table of `schema`, by name, sorted. SQLite's own `sqlite_…` tables are left out.
pub fn table_names(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let names: Vec<Name> = match db {
        Db::Postgres(conn) => diesel::sql_query(format!(
            "SELECT c.relname::text AS name FROM pg_class c \
             WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p') ORDER BY 1",
            schema.namespace()
        ))
        .load(conn)?,
        Db::Sqlite(conn) => diesel::sql_query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             ORDER BY 1",
        )
        .load(conn)?,
    };
    Ok(names.into_iter().map(|n| n.name).collect())
}

/// Reads the named tables that exist in `schema` (in the order given; missing ones are left out)
/// and, on PostgreSQL, every enum type of that schema.
pub fn read(db: &mut Db, schema: &SchemaName, tables: &[&str]) -> Result<Schema> {
    match db {
        Db::Postgres(conn) => read_postgres(conn, schema, tables),
        Db::Sqlite(conn) => read_sqlite(conn, tables),
    }
}

// -------------------------------------------------------------------------------------------------
// PostgreSQL
// -------------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Bool)]
    not_null: bool,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    /// pg_attribute.attidentity: '' (none), 'a' (always), 'd' (by default).
    #[diesel(sql_type = Text)]
    identity: String,
    /// pg_attribute.attgenerated: '' or 's' (stored).
    #[diesel(sql_type = Text)]
    generated: String,
}

#[derive(QueryableByName)]
struct PgConstraint {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    ref_table: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    ref_columns: Vec<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Array<Text>)]
    columns: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    predicate: Option<String>,
}

#[derive(QueryableByName)]
struct PgEnum {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Array<Text>)]
    labels: Vec<String>,
}

/// pg_constraint's one-letter foreign key actions, in words.
fn pg_rule(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => NO_ACTION,
    }
    .to_owned()
}

/// The relations the PostgreSQL queries look at: base and partitioned tables of `schema` named
/// in `$1`. The table is `c`.
fn pg_tables(schema: &SchemaName) -> String {
    format!(
        "c.relnamespace = {} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        schema.namespace()
    )
}

fn read_postgres(conn: &mut PgConnection, schema: &SchemaName, wanted: &[&str]) -> Result<Schema> {
    let pg_tables = pg_tables(schema);
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let wanted = wanted.to_vec();
    let existing: Vec<Name> = diesel::sql_query(format!(
        "SELECT c.relname::text AS name FROM pg_class c WHERE {pg_tables}"
    ))
    .bind::<Array<Text>, _>(&wanted)
    .load(conn)?;
    let mut tables: BTreeMap<String, Table> = existing
        .into_iter()
        .map(|n| {
            let table = Table {
                name: n.name.clone(),
                ..Table::default()
            };
            (n.name, table)
        })
        .collect();

    let columns: Vec<PgColumn> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS name, \
                format_type(a.atttypid, a.atttypmod) AS sql_type, a.attnotnull AS not_null, \
                pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                a.attidentity::text AS identity, a.attgenerated::text AS generated \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {pg_tables} AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum"
    ))
    .bind::<Array<Text>, _>(&wanted)
    .load(conn)?;
    for column in columns {
        let Some(table) = tables.get_mut(&column.table_name) else {
            continue;
        };
        let default = match (column.identity.as_str(), column.generated.as_str()) {
            ("a", _) => Some("generated always as identity".to_owned()),
            ("d", _) => Some("generated by default as identity".to_owned()),
            (_, "s") => Some(format!(
                "generated always as ({}) stored",
                column.default_expr.unwrap_or_default()
            )),
            _ => column.default_expr,
        };
        table.columns.push(Column {
            name: column.name,
            sql_type: column.sql_type,
            not_null: column.not_null,
            default,
            allowed_values: None,
        });
    }

    let constraints: Vec<PgConstraint> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, con.conname::text AS name, con.contype::text AS kind, \
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n \
                      ORDER BY k.i) AS columns, \
                fc.relname::text AS ref_table, \
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n \
                      ORDER BY k.i) AS ref_columns, \
                con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE {pg_tables} AND con.contype IN ('p', 'u', 'f') \
         ORDER BY c.relname, con.conname"
    ))
    .bind::<Array<Text>, _>(&wanted)
    .load(conn)?;
    for constraint in constraints {
        let Some(table) = tables.get_mut(&constraint.table_name) else {
            continue;
        };
        let key = Key {
            name: Some(constraint.name.clone()),
            columns: constraint.columns.clone(),
        };
        match constraint.kind.as_str() {
            "p" => table.primary_key = Some(key),
            "u" => table.uniques.push(key),
            _ => table.foreign_keys.push(ForeignKey {
                name: Some(constraint.name),
                columns: constraint.columns,
                references_table: constraint.ref_table.unwrap_or_default(),
                references: constraint.ref_columns,
                on_delete: pg_rule(&constraint.on_delete),
                on_update: pg_rule(&constraint.on_update),
            }),
        }
    }

    // Indexes that back a primary key, UNIQUE or exclusion constraint are described by it.
    let indexes: Vec<PgIndex> = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, i.relname::text AS name, x.indisunique AS is_unique, \
                ARRAY(SELECT coalesce(a.attname::text, pg_get_indexdef(x.indexrelid, k.i::int, true)) \
                      FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, i) \
                      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n AND k.n > 0 \
                      WHERE k.i <= x.indnkeyatts ORDER BY k.i) AS columns, \
                pg_get_expr(x.indpred, x.indrelid) AS predicate \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class c ON c.oid = x.indrelid \
         WHERE {pg_tables} AND NOT EXISTS ( \
             SELECT 1 FROM pg_constraint con \
             WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid \
               AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY c.relname, i.relname"
    ))
    .bind::<Array<Text>, _>(&wanted)
    .load(conn)?;
    for index in indexes {
        if let Some(table) = tables.get_mut(&index.table_name) {
            table.indexes.push(Index {
                name: index.name,
                columns: index.columns,
                unique: index.is_unique,
                predicate: index.predicate,
            });
        }
    }

    let enums: Vec<PgEnum> = diesel::sql_query(format!(
        "SELECT t.typname::text AS name, \
                ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                      ORDER BY e.enumsortorder) AS labels \
         FROM pg_type t \
         WHERE t.typnamespace = {} AND t.typtype = 'e' \
         ORDER BY 1",
        schema.namespace()
    ))
    .load(conn)?;

    Ok(Schema {
        tables: wanted.iter().filter_map(|t| tables.remove(*t)).collect(),
        enums: enums
            .into_iter()
            .map(|e| EnumType {
                name: e.name,
                labels: e.labels,
            })
            .collect(),
    })
}

// -------------------------------------------------------------------------------------------------
// SQLite
// -------------------------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Integer)]
    not_null: i32,
    #[diesel(sql_type = Nullable<Text>)]
    default_expr: Option<String>,
    /// Position in the primary key, from 1; 0 when not part of it.
    #[diesel(sql_type = Integer)]
    pk: i32,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Integer)]
    id: i32,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    from_column: String,
    /// `NULL` means the referenced table's primary key.
    #[diesel(sql_type = Nullable<Text>)]
    to_column: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Integer)]
    is_unique: i32,
    /// `c` (CREATE INDEX), `u` (UNIQUE constraint), `pk` (primary key).
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Integer)]
    partial: i32,
}

#[derive(QueryableByName)]
struct SqliteText {
    #[diesel(sql_type = Nullable<Text>)]
    text: Option<String>,
}

fn sqlite_sql(conn: &mut SqliteConnection, kind: &str, name: &str) -> Result<Option<String>> {
    let rows: Vec<SqliteText> =
        diesel::sql_query("SELECT sql AS text FROM sqlite_master WHERE type = ? AND name = ?")
            .bind::<Text, _>(kind)
            .bind::<Text, _>(name)
            .load(conn)?;
    Ok(rows.into_iter().next().and_then(|r| r.text))
}

fn sqlite_columns(conn: &mut SqliteConnection, table: &str) -> Result<Vec<SqliteColumn>> {
    Ok(diesel::sql_query(
        "SELECT name, type AS sql_type, \"notnull\" AS not_null, dflt_value AS default_expr, pk \
         FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind::<Text, _>(table)
    .load(conn)?)
}

fn sqlite_primary_key(columns: &[SqliteColumn]) -> Vec<String> {
    let mut pk: Vec<(i32, &str)> = columns
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.as_str()))
        .collect();
    pk.sort();
    pk.into_iter().map(|(_, name)| name.to_owned()).collect()
}

fn read_sqlite(conn: &mut SqliteConnection, wanted: &[&str]) -> Result<Schema> {
    let mut tables = Vec::new();
    for &name in wanted {
        let Some(create) = sqlite_sql(conn, "table", name)? else {
            continue;
        };
        let checks = allowed_values(&create);
        let raw_columns = sqlite_columns(conn, name)?;
        let primary_key = sqlite_primary_key(&raw_columns);
        let columns = raw_columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
                not_null: c.not_null != 0,
                default: c.default_expr.clone(),
                allowed_values: checks
                    .iter()
                    .find(|(column, _)| column.eq_ignore_ascii_case(&c.name))
                    .map(|(_, values)| values.clone()),
            })
            .collect();

        let rows: Vec<SqliteForeignKey> = diesel::sql_query(
            "SELECT id, \"table\" AS ref_table, \"from\" AS from_column, \"to\" AS to_column, \
                    on_update, on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        let mut by_id: BTreeMap<i32, ForeignKey> = BTreeMap::new();
        let mut to_primary_key = Vec::new();
        for row in rows {
            let fk = by_id.entry(row.id).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                references_table: row.ref_table.clone(),
                references: Vec::new(),
                on_delete: row.on_delete.to_uppercase(),
                on_update: row.on_update.to_uppercase(),
            });
            fk.columns.push(row.from_column);
            match row.to_column {
                Some(to) => fk.references.push(to),
                None => to_primary_key.push(row.id),
            }
        }
        // `REFERENCES t` without columns means t's primary key.
        for id in to_primary_key {
            if let Some(fk) = by_id.get_mut(&id) {
                if fk.references.is_empty() {
                    let target = sqlite_columns(conn, &fk.references_table)?;
                    fk.references = sqlite_primary_key(&target);
                }
            }
        }

        let mut listed: Vec<SqliteIndex> = diesel::sql_query(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list(?)",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        // By name: SQLite numbers the indexes of UNIQUE constraints in declaration order.
        listed.sort_by(|a, b| a.name.cmp(&b.name));
        let mut uniques = Vec::new();
        let mut indexes = Vec::new();
        for index in listed {
            let parts: Vec<SqliteText> = diesel::sql_query(
                "SELECT coalesce(name, '<expression>') AS text FROM pragma_index_info(?) ORDER BY seqno",
            )
            .bind::<Text, _>(&index.name)
            .load(conn)?;
            let index_columns: Vec<String> = parts.into_iter().filter_map(|p| p.text).collect();
            match index.origin.as_str() {
                "pk" => {}
                "u" => uniques.push(Key {
                    name: None,
                    columns: index_columns,
                }),
                _ => {
                    let predicate = if index.partial != 0 {
                        sqlite_sql(conn, "index", &index.name)?.map(|sql| partial_predicate(&sql))
                    } else {
                        None
                    };
                    indexes.push(Index {
                        name: index.name,
                        columns: index_columns,
                        unique: index.is_unique != 0,
                        predicate,
                    });
                }
            }
        }

        tables.push(Table {
            name: name.to_owned(),
            columns,
            primary_key: (!primary_key.is_empty()).then_some(Key {
                name: None,
                columns: primary_key,
            }),
            foreign_keys: by_id.into_values().collect(),
            uniques,
            indexes,
        });
    }
    Ok(Schema {
        tables,
        enums: Vec::new(),
    })
}

/// The statement SQLite stores for a table or index (`sqlite_master.sql`), parsed; `None` when the
/// parser cannot read it (another application's table may use what it does not know).
fn parse_sqlite(sql: &str) -> Option<Statement> {
    let mut statements = Parser::parse_sql(&SQLiteDialect {}, sql).ok()?;
    (statements.len() == 1).then(|| statements.remove(0))
}

/// The condition of a partial index, as the parser renders it (the contract's SQLite indexes are
/// read this way too, so both sides of a comparison have the same words). The whole statement
/// when the parser cannot read it.
fn partial_predicate(create_index: &str) -> String {
    match parse_sqlite(create_index) {
        Some(Statement::CreateIndex(CreateIndex {
            predicate: Some(predicate),
            ..
        })) => predicate.to_string(),
        _ => create_index.to_owned(),
    }
}

/// The `CHECK (column IN ('A', 'B', …))` constraints of a `CREATE TABLE`, column-level or
/// table-level, in their order: column and allowed values. Other CHECKs (numbers, ranges, …) are
/// not listed, nor anything of a table the parser cannot read.
pub fn allowed_values(create_table: &str) -> Vec<(String, Vec<String>)> {
    let Some(Statement::CreateTable(table)) = parse_sqlite(create_table) else {
        return Vec::new();
    };
    let column_checks = table
        .columns
        .iter()
        .flat_map(|column| &column.options)
        .filter_map(|option| match &option.option {
            ColumnOption::Check(check) => Some(check),
            _ => None,
        });
    let table_checks = table
        .constraints
        .iter()
        .filter_map(|constraint| match constraint {
            TableConstraint::Check(check) => Some(check),
            _ => None,
        });
    column_checks
        .chain(table_checks)
        .filter_map(|check| column_in_list(&check.expr))
        .collect()
}

/// `column IN ('A', 'B')`, and nothing else.
fn column_in_list(check: &Expr) -> Option<(String, Vec<String>)> {
    let Expr::In {
        expr,
        target: InTarget::List(list),
        negated: false,
        ..
    } = check
    else {
        return None;
    };
    let Expr::Identifier(column) = expr.as_ref() else {
        return None;
    };
    let values = list
        .iter()
        .map(|value| match value {
            Expr::Value(ValueWithSpan {
                value: Value::SingleQuotedString(text),
                ..
            }) => Some(text.clone()),
            _ => None,
        })
        .collect::<Option<Vec<String>>>()?;
    (!values.is_empty()).then(|| (column.value.clone(), values))
}

/// Whether `table` exists in `schema`.
pub fn table_exists(db: &mut Db, schema: &SchemaName, table: &str) -> Result<bool> {
    let exists = match db {
        Db::Postgres(conn) => diesel::select(
            diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = {} \
             AND c.relkind IN ('r', 'p') AND c.relname = ",
                schema.namespace()
            ))
            .bind::<Text, _>(table)
            .sql(")"),
        )
        .get_result(conn)?,
        Db::Sqlite(conn) => diesel::select(
            diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
                "EXISTS (SELECT 1 FROM {} WHERE type = 'table' AND lower(name) = lower(",
                schema.qualify("sqlite_master")
            ))
            .bind::<Text, _>(table)
            .sql("))"),
        )
        .get_result(conn)?,
    };
    Ok(exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_column_and_table_level_checks() {
        let sql = "CREATE TABLE users (\n  user_id VARCHAR(64) NOT NULL, -- a comment with CHECK (x IN ('no'))\n  \
                   role VARCHAR(12) NOT NULL CHECK (role IN ('SYSTEM_ADMIN', 'TENANT_ADMIN', 'SITE_''MANAGER', 'WORKER')),\n  \
                   is_active BOOLEAN CHECK (is_active IN (0, 1)),\n  \
                   kind VARCHAR(6),\n  age INTEGER CHECK (age > (1 + 2)),\n  \
                   CONSTRAINT camera_kind CHECK (\"kind\" in ('RTSP','WEBCAM'))\n)";
        assert_eq!(
            allowed_values(sql),
            [
                (
                    "role".to_owned(),
                    vec![
                        "SYSTEM_ADMIN".to_owned(),
                        "TENANT_ADMIN".to_owned(),
                        "SITE_'MANAGER".to_owned(),
                        "WORKER".to_owned()
                    ]
                ),
                (
                    "kind".to_owned(),
                    vec!["RTSP".to_owned(), "WEBCAM".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn ignores_checks_that_are_not_a_list_of_strings() {
        for sql in [
            "CREATE TABLE t (a TEXT CHECK (a IN ()))",
            "CREATE TABLE t (a TEXT CHECK (a IN ('x',)))",
            "CREATE TABLE t (a TEXT CHECK (a IN ('x') OR a IS NULL))",
            "CREATE TABLE t (a TEXT CHECK (a NOT IN ('x')))",
            "CREATE TABLE t (a TEXT CHECK (length(a) > 2))",
            "CREATE TABLE t (a TEXT CHECK (",
            "CREATE TABLE t (a TEXT CHECK (t.a IN ('x')))",
            "CREATE TABLE t (a TEXT CHECK (a IN (\"x\")))",
            // Another application's table the parser cannot read (`WITH NONSENSE`): nothing.
            "CREATE TABLE t (a TEXT CHECK (a IN ('x'))) WITH NONSENSE",
        ] {
            assert_eq!(allowed_values(sql), [], "{sql}");
        }
    }

    #[test]
    fn reads_checks_on_quoted_names() {
        let sql = "CREATE TABLE [t] (`a` TEXT CHECK ([a] IN ('x')), \"b c\" TEXT, \
                   CHECK (\"b c\" IN ('y', 'z')))";
        assert_eq!(
            allowed_values(sql),
            [
                ("a".to_owned(), vec!["x".to_owned()]),
                ("b c".to_owned(), vec!["y".to_owned(), "z".to_owned()]),
            ]
        );
    }

    #[test]
    fn partial_index_predicate() {
        assert_eq!(
            partial_predicate("CREATE INDEX i ON t (a) WHERE a IS NOT NULL"),
            "a IS NOT NULL"
        );
        // The parser's rendering, spaced and without the comment.
        assert_eq!(
            partial_predicate("CREATE INDEX i ON t (a) WHERE a<>'x' /* where */ AND (b>1)"),
            "a <> 'x' AND (b > 1)"
        );
        let unreadable = "CREATE INDEX i ON t (a) WHERE a IS NOT NULL garbage";
        assert_eq!(partial_predicate(unreadable), unreadable);
    }
}
