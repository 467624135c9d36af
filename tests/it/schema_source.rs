//! The migrations are the schema. Each backend's migrations are applied to an empty database and
//! its catalog is read back; from that, this module generates `docs/schema.md` and checks every
//! list the code keeps about the schema (tables and their drop order, bookkeeping tables, enum
//! types and labels, the CLI's `--role` values). `tests/it/catalog.rs` checks the contract that
//! `check`, `status` and adoption use against the same migrations.
//!
//! After a schema change, regenerate the reference with
//! `FACEDB_BLESS=1 cargo test --test it schema_source`.

use crate::support;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

use clap::ValueEnum;
use diesel::{Connection, PgConnection, SqliteConnection};
use facedb::catalog::{self, Schema, Table};
use facedb::connection::Db;
use support::TestDb;

const REGENERATE: &str = "FACEDB_BLESS=1 cargo test --test it schema_source";

/// facedb's bookkeeping tables start with `__` (its own metadata, diesel's migration record).
fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("__")
}

/// `db`'s migrations applied to the empty database `test`, read back: every table, and on
/// PostgreSQL every enum type.
fn applied(test: &TestDb) -> Schema {
    let mut db = match test.backend {
        support::Backend::Postgres => {
            test.create_empty();
            Db::Postgres(PgConnection::establish(test.url()).expect("connect"))
        }
        support::Backend::Sqlite => {
            Db::Sqlite(SqliteConnection::establish(test.url()).expect("open"))
        }
    };
    facedb::migrations::apply_pending(&mut db).expect("the migrations apply");
    let names = catalog::table_names(&mut db).unwrap();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    catalog::read(&mut db, &names).unwrap()
}

/// The schema the migrations make on each backend, or `None` (after a loud message from
/// `support`) without a PostgreSQL server.
fn applied_on_both() -> Option<(Schema, Schema)> {
    let postgres = applied(&TestDb::postgres()?);
    Some((postgres, applied(&TestDb::sqlite())))
}

/// The tables in an order they can be created in: parents before children, otherwise by name.
/// Reversed, it is an order they can be dropped in.
fn creation_order(schema: &Schema) -> Vec<&Table> {
    let mut left: Vec<&Table> = schema.tables.iter().collect();
    left.sort_by(|a, b| a.name.cmp(&b.name));
    let mut order: Vec<&Table> = Vec::new();
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|t| {
                t.foreign_keys.iter().all(|fk| {
                    fk.references_table == t.name
                        || order.iter().any(|done| done.name == fk.references_table)
                })
            })
            .expect("the foreign keys between tables have no cycle");
        order.push(left.remove(ready));
    }
    order
}

fn columns(names: &[String]) -> String {
    names.join(", ")
}

/// A table cell: code, with `|` escaped.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('|', "\\|"))
}

fn optional_code(text: Option<&str>) -> String {
    text.map_or_else(|| "–".to_owned(), code)
}

fn render_table(out: &mut String, postgres: &Table, sqlite: &Table) {
    writeln!(out, "### {}\n", postgres.name).unwrap();
    writeln!(
        out,
        "| Column | PostgreSQL type | SQLite type | NOT NULL | PostgreSQL default | SQLite default |"
    )
    .unwrap();
    writeln!(out, "|---|---|---|---|---|---|").unwrap();
    for column in &postgres.columns {
        let lite = sqlite
            .column(&column.name)
            .unwrap_or_else(|| panic!("{}.{} is missing on SQLite", postgres.name, column.name));
        let mut lite_type = code(&lite.sql_type);
        if let Some(values) = &lite.allowed_values {
            write!(lite_type, " CHECK IN ({})", values.join(", ")).unwrap();
        }
        writeln!(
            out,
            "| `{}` | {} | {lite_type} | {} | {} | {} |",
            column.name,
            code(&column.sql_type),
            if column.not_null { "yes" } else { "no" },
            optional_code(column.default.as_deref()),
            optional_code(lite.default.as_deref()),
        )
        .unwrap();
    }
    writeln!(out).unwrap();
    if let Some(key) = &postgres.primary_key {
        writeln!(
            out,
            "- Primary key `{}`: ({})",
            key.name.as_deref().unwrap_or_default(),
            columns(&key.columns)
        )
        .unwrap();
    }
    for fk in &postgres.foreign_keys {
        writeln!(
            out,
            "- Foreign key `{}`: ({}) → {} ({}) ON DELETE {} ON UPDATE {}",
            fk.name.as_deref().unwrap_or_default(),
            columns(&fk.columns),
            fk.references_table,
            columns(&fk.references),
            fk.on_delete,
            fk.on_update
        )
        .unwrap();
    }
    for unique in &postgres.uniques {
        writeln!(
            out,
            "- Unique constraint `{}`: ({})",
            unique.name.as_deref().unwrap_or_default(),
            columns(&unique.columns)
        )
        .unwrap();
    }
    for index in &postgres.indexes {
        let kind = if index.unique {
            "Unique index"
        } else {
            "Index"
        };
        let predicate = index
            .predicate
            .as_deref()
            .map(|p| format!(" WHERE {p}"))
            .unwrap_or_default();
        writeln!(
            out,
            "- {kind} `{}`: ({}){predicate}",
            index.name,
            columns(&index.columns)
        )
        .unwrap();
    }
    writeln!(out).unwrap();
}

/// `docs/schema.md`: the reference, rendered from what the migrations make on each backend.
fn render(postgres: &Schema, sqlite: &Schema) -> String {
    let mut out = String::new();
    out.push_str(
        "<!-- Generated from the migrations: do not edit. Regenerate with\n     \
         FACEDB_BLESS=1 cargo test --test it schema_source -->\n\n\
         # The facedb schema\n\n\
         This is the schema `facedb init` creates: the migrations in `migrations/postgres` and\n\
         `migrations/sqlite`, applied to empty databases and read back from each catalog. The Python\n\
         API's ORM must find exactly this: table and column names, types, nullability, primary keys,\n\
         foreign keys with their ON DELETE rule, unique constraints, index names and columns, and enum\n\
         labels. `facedb check` compares a database with it. To change it, see\n\
         [Changing the schema](changing-the-schema.md).\n\n\
         Everything lives in one schema. Types and defaults are given as each catalog prints them\n\
         (PostgreSQL's `format_type` and `pg_get_expr`, SQLite's declared type and `dflt_value`).\n\
         Constraint names exist on PostgreSQL only; SQLite does not name them. A `timestamp without\n\
         time zone` holds UTC. A PostgreSQL enum is a `VARCHAR` on SQLite, with a CHECK on the same\n\
         labels.\n\n",
    );
    out.push_str("## Enum types\n\nLabels in their order; the column stores the label.\n\n");
    out.push_str("| Type | Labels |\n|---|---|\n");
    for e in &postgres.enums {
        let labels: Vec<String> = e.labels.iter().map(|l| code(l)).collect();
        writeln!(out, "| `{}` | {} |", e.name, labels.join(", ")).unwrap();
    }
    out.push('\n');
    let order = creation_order(postgres);
    let sqlite_table = |name: &str| {
        sqlite
            .table(name)
            .unwrap_or_else(|| panic!("table {name} is missing on SQLite"))
    };
    out.push_str("## Tables\n\nParents before the tables that refer to them.\n\n");
    for table in order.iter().filter(|t| !is_bookkeeping(&t.name)) {
        render_table(&mut out, table, sqlite_table(&table.name));
    }
    out.push_str(
        "## facedb's bookkeeping\n\n\
         facedb keeps its own records only in tables whose names start with `__`: its metadata (the\n\
         recorded environment) and diesel's record of the applied migrations.\n\n",
    );
    for table in order.iter().filter(|t| is_bookkeeping(&t.name)) {
        render_table(&mut out, table, sqlite_table(&table.name));
    }
    out.trim_end().to_owned() + "\n"
}

#[test]
fn docs_schema_md_is_what_the_migrations_make() {
    let Some((postgres, sqlite)) = applied_on_both() else {
        return;
    };
    let rendered = render(&postgres, &sqlite);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md");
    if std::env::var("FACEDB_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &rendered).unwrap();
        return;
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    if written != rendered {
        let first = written
            .lines()
            .zip(rendered.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| written.lines().count().min(rendered.lines().count()));
        panic!(
            "docs/schema.md is not what the migrations make (first difference at line {}: \
             written {:?}, made {:?}). Regenerate it with `{REGENERATE}`",
            first + 1,
            written.lines().nth(first),
            rendered.lines().nth(first),
        );
    }
}

#[test]
fn the_table_lists_and_the_drop_order_are_the_migrations() {
    for db in TestDb::each() {
        let schema = applied(&db);
        let (bookkeeping, tables): (Vec<&Table>, Vec<&Table>) =
            schema.tables.iter().partition(|t| is_bookkeeping(&t.name));
        let names = |tables: &[&Table]| -> BTreeSet<String> {
            tables.iter().map(|t| t.name.clone()).collect()
        };
        let listed =
            |list: &[&str]| -> BTreeSet<String> { list.iter().map(|t| (*t).to_owned()).collect() };
        assert_eq!(listed(&facedb::inventory::TABLES), names(&tables));
        assert_eq!(listed(&facedb::contract::table_names()), names(&tables));
        assert_eq!(
            listed(&facedb::inventory::BOOKKEEPING_TABLES),
            names(&bookkeeping)
        );
        // Children before parents: dropping in this order never trips a foreign key.
        let at = |name: &str| {
            facedb::inventory::TABLES
                .iter()
                .position(|t| *t == name)
                .unwrap()
        };
        for table in &tables {
            for fk in &table.foreign_keys {
                assert!(
                    fk.references_table == table.name || at(&table.name) < at(&fk.references_table),
                    "inventory::TABLES drops {} after {}, which it refers to",
                    table.name,
                    fk.references_table
                );
            }
        }
    }
}

#[test]
fn the_enum_labels_of_the_models_and_the_cli_are_the_migrations() {
    for db in TestDb::each() {
        let schema = applied(&db);
        // PostgreSQL: the enum types; SQLite: the CHECK on the column that holds one.
        let labels = |type_name: &str, table: &str, column: &str| -> Vec<String> {
            match db.backend {
                support::Backend::Postgres => schema.enum_type(type_name).unwrap().labels.clone(),
                support::Backend::Sqlite => schema
                    .table(table)
                    .and_then(|t| t.column(column))
                    .and_then(|c| c.allowed_values.clone())
                    .unwrap(),
            }
        };
        if db.backend == support::Backend::Postgres {
            let types: Vec<&str> = schema.enums.iter().map(|e| e.name.as_str()).collect();
            assert_eq!(
                types.iter().collect::<BTreeSet<_>>(),
                facedb::inventory::ENUM_TYPES
                    .iter()
                    .collect::<BTreeSet<_>>()
            );
        }
        let roles = labels("userrole", "users", "role");
        let models: Vec<&str> = facedb::models::UserRole::ALL
            .iter()
            .map(|r| r.label())
            .collect();
        assert_eq!(models, roles, "{:?}: models::UserRole", db.backend);
        let cli: Vec<String> = facedb::commands::user::Role::value_variants()
            .iter()
            .map(|r| facedb::models::UserRole::from(*r).label().to_owned())
            .collect();
        assert_eq!(cli, roles, "{:?}: --role", db.backend);
        for role in facedb::commands::user::Role::value_variants() {
            assert_eq!(
                role.flag_value().to_uppercase(),
                facedb::models::UserRole::from(*role).label()
            );
        }
        let camera_types: Vec<&str> = facedb::models::CameraType::ALL
            .iter()
            .map(|c| c.label())
            .collect();
        assert_eq!(
            camera_types,
            labels("cameratype", "cameras", "camera_type"),
            "{:?}: models::CameraType",
            db.backend
        );
    }
}
