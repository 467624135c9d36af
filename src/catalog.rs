//! A database's schema as its catalog shows it, in one neutral form for both backends: tables,
//! columns in order (type in the backend's own words, nullability, default), primary keys, foreign
//! keys with their rules, UNIQUE constraints, indexes, and the allowed values of an enum (labels of
//! a PostgreSQL enum type; the `CHECK (column IN (…))` that stands for one on SQLite).
//!
//! PostgreSQL is read from pg_catalog (the current schema, normally `public`); SQLite from its
//! pragmas and, for CHECK constraints and the condition of a partial index, the `CREATE` statement
//! it stores, parsed here with the `sqlparser` crate (a statement it cannot read shows no CHECK,
//! and a partial index's whole statement stands for its condition). The queries are the db
//! layer's (one `Db::schema_rows`, in `db/postgres.rs` and `db/sqlite.rs`); this module makes
//! the neutral form of their rows. [`crate::contract`] holds the expected schema in the same form
//! (read this way from what the migrations make), and [`crate::compare`] lists what differs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sqlparser::ast::{
    ColumnOption, CreateIndex, Expr, InTarget, Statement, TableConstraint, Value, ValueWithSpan,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::config::SchemaName;
use crate::db::sqlite::{self, SqliteColumn};
use crate::db::{postgres, Db, SchemaRows};
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

/// Reads the named tables that exist in `schema` (in the order given; missing ones are left out)
/// and, on PostgreSQL, every enum type of that schema.
pub fn read(db: &mut Db, schema: &SchemaName, tables: &[&str]) -> Result<Schema> {
    Ok(match db.schema_rows(schema, tables)? {
        SchemaRows::Postgres(rows) => from_postgres(rows, tables),
        SchemaRows::Sqlite(rows) => from_sqlite(rows),
    })
}

// -------------------------------------------------------------------------------------------------
// PostgreSQL
// -------------------------------------------------------------------------------------------------

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

/// The schema of `rows`, its tables in the order of `wanted`.
fn from_postgres(rows: postgres::SchemaRows, wanted: &[&str]) -> Schema {
    let mut tables: BTreeMap<String, Table> = rows
        .tables
        .into_iter()
        .map(|name| {
            let table = Table {
                name: name.clone(),
                ..Table::default()
            };
            (name, table)
        })
        .collect();

    for column in rows.columns {
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

    for constraint in rows.constraints {
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

    for index in rows.indexes {
        if let Some(table) = tables.get_mut(&index.table_name) {
            table.indexes.push(Index {
                name: index.name,
                columns: index.columns,
                unique: index.is_unique,
                predicate: index.predicate,
            });
        }
    }

    Schema {
        tables: wanted.iter().filter_map(|t| tables.remove(*t)).collect(),
        enums: rows
            .enums
            .into_iter()
            .map(|e| EnumType {
                name: e.name,
                labels: e.labels,
            })
            .collect(),
    }
}

// -------------------------------------------------------------------------------------------------
// SQLite
// -------------------------------------------------------------------------------------------------

/// The primary key's columns, in its order.
fn sqlite_primary_key(columns: &[SqliteColumn]) -> Vec<String> {
    let mut pk: Vec<(i32, &str)> = columns
        .iter()
        .filter(|c| c.pk > 0)
        .map(|c| (c.pk, c.name.as_str()))
        .collect();
    pk.sort();
    pk.into_iter().map(|(_, name)| name.to_owned()).collect()
}

fn from_sqlite(rows: Vec<sqlite::TableRows>) -> Schema {
    Schema {
        tables: rows.into_iter().map(sqlite_table).collect(),
        enums: Vec::new(),
    }
}

fn sqlite_table(rows: sqlite::TableRows) -> Table {
    let checks = allowed_values(&rows.create_table);
    let primary_key = sqlite_primary_key(&rows.columns);
    let columns = rows
        .columns
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

    let mut by_id: BTreeMap<i32, ForeignKey> = BTreeMap::new();
    for row in rows.foreign_keys {
        let fk = by_id.entry(row.id).or_insert_with(|| ForeignKey {
            name: None,
            columns: Vec::new(),
            references_table: row.ref_table.clone(),
            references: Vec::new(),
            on_delete: row.on_delete.to_uppercase(),
            on_update: row.on_update.to_uppercase(),
        });
        fk.columns.push(row.from_column);
        if let Some(to) = row.to_column {
            fk.references.push(to);
        }
    }
    // `REFERENCES t` without columns means t's primary key.
    for (id, target) in &rows.referenced_columns {
        if let Some(fk) = by_id.get_mut(id) {
            if fk.references.is_empty() {
                fk.references = sqlite_primary_key(target);
            }
        }
    }

    let mut uniques = Vec::new();
    let mut indexes = Vec::new();
    for index in rows.indexes {
        match index.index.origin.as_str() {
            "pk" => {}
            "u" => uniques.push(Key {
                name: None,
                columns: index.columns,
            }),
            _ => indexes.push(Index {
                predicate: index.create_index.map(|sql| partial_predicate(&sql)),
                name: index.index.name,
                columns: index.columns,
                unique: index.index.is_unique != 0,
            }),
        }
    }

    Table {
        name: rows.name,
        columns,
        primary_key: (!primary_key.is_empty()).then_some(Key {
            name: None,
            columns: primary_key,
        }),
        foreign_keys: by_id.into_values().collect(),
        uniques,
        indexes,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::postgres::PgColumn;
    use crate::db::sqlite::{IndexRows, SqliteForeignKey, SqliteIndex, TableRows};

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

    fn sqlite_column(name: &str, pk: i32) -> SqliteColumn {
        SqliteColumn {
            name: name.to_owned(),
            sql_type: "VARCHAR(64)".to_owned(),
            not_null: 1,
            default_expr: None,
            pk,
        }
    }

    fn sqlite_index(name: &str, origin: &str, columns: &[&str], create: Option<&str>) -> IndexRows {
        IndexRows {
            index: SqliteIndex {
                name: name.to_owned(),
                is_unique: i32::from(origin != "c"),
                origin: origin.to_owned(),
                partial: i32::from(create.is_some()),
            },
            columns: columns.iter().map(|c| c.to_string()).collect(),
            create_index: create.map(str::to_owned),
        }
    }

    #[test]
    fn a_sqlite_table_from_its_rows() {
        let rows = TableRows {
            name: "sites".to_owned(),
            create_table: "CREATE TABLE sites (site_id VARCHAR(64), tenant_id VARCHAR(64), \
                           kind VARCHAR(6) CHECK (kind IN ('A', 'B')), PRIMARY KEY (tenant_id, site_id))"
                .to_owned(),
            columns: vec![
                sqlite_column("site_id", 2),
                sqlite_column("tenant_id", 1),
                sqlite_column("kind", 0),
            ],
            // `REFERENCES tenants` without columns: tenants' primary key.
            foreign_keys: vec![SqliteForeignKey {
                id: 0,
                ref_table: "tenants".to_owned(),
                from_column: "tenant_id".to_owned(),
                to_column: None,
                on_update: "no action".to_owned(),
                on_delete: "cascade".to_owned(),
            }],
            referenced_columns: BTreeMap::from([(
                0,
                vec![sqlite_column("name", 0), sqlite_column("tenant_id", 1)],
            )]),
            indexes: vec![
                sqlite_index("sqlite_autoindex_sites_1", "pk", &["tenant_id", "site_id"], None),
                sqlite_index("sqlite_autoindex_sites_2", "u", &["kind"], None),
                sqlite_index(
                    "sites_kind",
                    "c",
                    &["kind"],
                    Some("CREATE INDEX sites_kind ON sites (kind) WHERE kind<>'A'"),
                ),
            ],
        };
        let table = sqlite_table(rows);
        assert_eq!(
            table.primary_key.as_ref().unwrap().columns,
            ["tenant_id", "site_id"]
        );
        assert_eq!(
            table.column("kind").unwrap().allowed_values,
            Some(vec!["A".to_owned(), "B".to_owned()])
        );
        assert_eq!(
            table.foreign_keys,
            [ForeignKey {
                name: None,
                columns: vec!["tenant_id".to_owned()],
                references_table: "tenants".to_owned(),
                references: vec!["tenant_id".to_owned()],
                on_delete: "CASCADE".to_owned(),
                on_update: NO_ACTION.to_owned(),
            }]
        );
        assert_eq!(
            table.uniques,
            [Key {
                name: None,
                columns: vec!["kind".to_owned()]
            }]
        );
        assert_eq!(
            table.indexes,
            [Index {
                name: "sites_kind".to_owned(),
                columns: vec!["kind".to_owned()],
                unique: false,
                predicate: Some("kind <> 'A'".to_owned()),
            }]
        );
    }

    #[test]
    fn postgres_identity_and_generated_columns_show_how_they_are_made() {
        let column =
            |name: &str, default: Option<&str>, identity: &str, generated: &str| PgColumn {
                table_name: "visits".to_owned(),
                name: name.to_owned(),
                sql_type: "integer".to_owned(),
                not_null: true,
                default_expr: default.map(str::to_owned),
                identity: identity.to_owned(),
                generated: generated.to_owned(),
            };
        let rows = postgres::SchemaRows {
            tables: vec!["visits".to_owned(), "sites".to_owned()],
            columns: vec![
                column("id", None, "a", ""),
                column("seq", None, "d", ""),
                column("twice", Some("(id * 2)"), "", "s"),
                column("plain", Some("0"), "", ""),
            ],
            constraints: Vec::new(),
            indexes: Vec::new(),
            enums: Vec::new(),
        };
        let schema = from_postgres(rows, &["sites", "missing", "visits"]);
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["sites", "visits"]);
        let defaults: Vec<Option<&str>> = schema.tables[1]
            .columns
            .iter()
            .map(|c| c.default.as_deref())
            .collect();
        assert_eq!(
            defaults,
            [
                Some("generated always as identity"),
                Some("generated by default as identity"),
                Some("generated always as ((id * 2)) stored"),
                Some("0"),
            ]
        );
    }
}
