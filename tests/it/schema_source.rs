//! The migrations are the schema. Each backend's migrations are applied to an empty database and
//! its catalog is read back; from that, this module generates the expected catalog
//! `src/contract.json` (what `check`, `status`, adoption and reset compare with) and the reference
//! `docs/schema.md`, and checks every list the code keeps about the schema (tables and their drop
//! order, bookkeeping tables, enum types and labels, the CLI's `--role` values).
//!
//! After a schema change, regenerate both files with
//! `FACEDB_BLESS=1 cargo test --test it is_what_the_migrations_make`.
//!
//! The recipe of docs/changing-the-schema.md is tried here too, with a migration kept under
//! `tests/it/fixtures/second_migration`, given a version after the newest built-in one and passed
//! to the library as a migration set of its own (the binary only ever runs the migrations built
//! into it).

use crate::support;

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use clap::ValueEnum;
use diesel::migration::{Migration, MigrationSource};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, FileBasedMigrations};
use facedb::catalog::{self, Schema, Table};
use facedb::config::SchemaName;
use facedb::db::Db;
use facedb::migrations::{self, Source, EMBEDDED};
use serde_json::Value;
use support::data::{add_data, counts};
use support::TestDb;

/// facedb's bookkeeping tables start with `__` (its own metadata, diesel's migration record).
fn is_bookkeeping(table: &str) -> bool {
    table.starts_with("__")
}

/// A library connection to `test`'s database, created empty when it does not exist yet.
fn open(test: &TestDb) -> Db {
    match test.backend {
        support::Backend::Postgres => {
            if !test.pg_exists() {
                test.create_empty();
            }
            Db::Postgres(PgConnection::establish(test.url()).expect("connect"))
        }
        support::Backend::Sqlite => {
            Db::Sqlite(SqliteConnection::establish(test.url()).expect("open"))
        }
    }
}

/// Every table of `db`, and on PostgreSQL every enum type, read back.
fn read_all(db: &mut Db) -> Schema {
    let schema = default_schema(db);
    let names = db.table_names(&schema).unwrap();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    catalog::read(db, &schema, &names).unwrap()
}

/// The schema facedb works in when none is configured: `public`, or SQLite's `main`.
fn default_schema(db: &Db) -> SchemaName {
    SchemaName::configured(None, db.backend()).expect("the default schema")
}

/// The migrations of `source` applied to the empty database `test`, read back, in the order the
/// migrations create things: tables (so parents before the tables that refer to them), indexes
/// and, on PostgreSQL, constraints and enum types.
fn applied_from(test: &TestDb, source: Source<'_>) -> Schema {
    let mut db = open(test);
    migrations::apply_pending_from(&mut db, source).expect("the migrations apply");
    let mut schema = read_all(&mut db);
    let mut conn = test.connect();
    // Relations (tables, indexes) and constraints by name, in the order they were created.
    let (relations, constraints, types) = match test.backend {
        support::Backend::Postgres => (
            conn.strings(
                "SELECT relname::text AS v FROM pg_class \
                 WHERE relnamespace = current_schema()::regnamespace ORDER BY oid",
            ),
            conn.strings(
                "SELECT conname::text AS v FROM pg_constraint \
                 WHERE connamespace = current_schema()::regnamespace ORDER BY oid",
            ),
            conn.strings(
                "SELECT typname::text AS v FROM pg_type \
                 WHERE typnamespace = current_schema()::regnamespace AND typtype = 'e' ORDER BY oid",
            ),
        ),
        support::Backend::Sqlite => (
            conn.strings("SELECT name AS v FROM sqlite_master ORDER BY rowid"),
            Vec::new(),
            Vec::new(),
        ),
    };
    let at = |names: &[String], name: &str| names.iter().position(|n| n == name);
    schema.tables.sort_by_key(|t| at(&relations, &t.name));
    schema.enums.sort_by_key(|e| at(&types, &e.name));
    for table in &mut schema.tables {
        table.indexes.sort_by_key(|i| at(&relations, &i.name));
        let constraint =
            |name: &Option<String>| at(&constraints, name.as_deref().unwrap_or_default());
        table.foreign_keys.sort_by_key(|k| constraint(&k.name));
        table.uniques.sort_by_key(|k| constraint(&k.name));
    }
    schema
}

/// Puts SQLite's unnamed foreign keys and UNIQUE constraints in PostgreSQL's order (the order the
/// migrations declare them), matching them by their columns.
fn align(postgres: &Schema, sqlite: &mut Schema) {
    for table in &mut sqlite.tables {
        let Some(pg) = postgres.table(&table.name) else {
            continue;
        };
        table.foreign_keys.sort_by_key(|k| {
            pg.foreign_keys
                .iter()
                .position(|p| p.columns == k.columns && p.references_table == k.references_table)
        });
        table
            .uniques
            .sort_by_key(|k| pg.uniques.iter().position(|p| p.columns == k.columns));
    }
}

/// The embedded migrations applied to the empty database `test`, read back.
fn applied(test: &TestDb) -> Schema {
    applied_from(test, EMBEDDED)
}

/// The schema the migrations make on each backend.
fn applied_on_both() -> (Schema, Schema) {
    let postgres = applied(&TestDb::postgres());
    let mut sqlite = applied(&TestDb::sqlite());
    align(&postgres, &mut sqlite);
    (postgres, sqlite)
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
         FACEDB_BLESS=1 cargo test --test it is_what_the_migrations_make -->\n\n\
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
         labels. A column whose PostgreSQL default is `nextval(…)` is a `BIGSERIAL` there (the column\n\
         owns the sequence) and `INTEGER PRIMARY KEY AUTOINCREMENT` on SQLite. SQLite's long default\n\
         on the UUID columns makes a random UUID v4, as `gen_random_uuid()` does on PostgreSQL.\n\n",
    );
    out.push_str("## Enum types\n\nLabels in their order; the column stores the label.\n\n");
    out.push_str("| Type | Labels |\n|---|---|\n");
    for e in &postgres.enums {
        let labels: Vec<String> = e.labels.iter().map(|l| code(l)).collect();
        writeln!(out, "| `{}` | {} |", e.name, labels.join(", ")).unwrap();
    }
    out.push('\n');
    let sqlite_table = |name: &str| {
        sqlite
            .table(name)
            .unwrap_or_else(|| panic!("table {name} is missing on SQLite"))
    };
    out.push_str("## Tables\n\nIn the order the migrations create them.\n\n");
    for table in postgres.tables.iter().filter(|t| !is_bookkeeping(&t.name)) {
        render_table(&mut out, table, sqlite_table(&table.name));
    }
    out.push_str(
        "## facedb's bookkeeping\n\n\
         facedb keeps its own records only in tables whose names start with `__`: its metadata (the\n\
         recorded environment) and diesel's record of the applied migrations.\n\n",
    );
    for table in postgres.tables.iter().filter(|t| is_bookkeeping(&t.name)) {
        render_table(&mut out, table, sqlite_table(&table.name));
    }
    out.trim_end().to_owned() + "\n"
}

/// Compares a generated file with what is written, or writes it with `FACEDB_BLESS=1`.
fn assert_generated(file: &str, made: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    if std::env::var("FACEDB_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, made).unwrap();
        return;
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    if written != made {
        let first = written
            .lines()
            .zip(made.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| written.lines().count().min(made.lines().count()));
        panic!(
            "{file} is not what the migrations make (first difference at line {}: written {:?}, \
             made {:?}). Regenerate it with `{}`",
            first + 1,
            written.lines().nth(first),
            made.lines().nth(first),
            facedb::contract::REGENERATE,
        );
    }
}

fn docs_schema_md_is_what_the_migrations_make() {
    let (postgres, sqlite) = applied_on_both();
    assert_generated("docs/schema.md", &render(&postgres, &sqlite));
}

/// `check`, `status`, adoption and reset compare with `src/contract.json`.
fn src_contract_json_is_what_the_migrations_make() {
    let (mut postgres, mut sqlite) = applied_on_both();
    postgres.tables.retain(|t| !is_bookkeeping(&t.name));
    sqlite.tables.retain(|t| !is_bookkeeping(&t.name));
    let contract = facedb::contract::Contract { postgres, sqlite };
    let json = serde_json::to_string_pretty(&contract).unwrap() + "\n";
    assert_generated("src/contract.json", &json);
}

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
        assert_eq!(listed(&facedb::TABLES), names(&tables));
        // `status` and adoption list the tables in the order the migrations create them.
        let created: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(facedb::contract::table_names(), created, "{:?}", db.backend);
        assert_eq!(listed(&facedb::BOOKKEEPING_TABLES), names(&bookkeeping));
        // Children before parents: dropping in this order never trips a foreign key.
        let at = |name: &str| facedb::TABLES.iter().position(|t| *t == name).unwrap();
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
                facedb::ENUM_TYPES.iter().collect::<BTreeSet<_>>()
            );
        }
        let roles = labels("userrole", "users", "role");
        let models: Vec<&str> = facedb::models::UserRole::ALL
            .iter()
            .map(|r| r.label())
            .collect();
        assert_eq!(models, roles, "{:?}: models::UserRole", db.backend);
        let cli: Vec<String> = facedb::cli::Role::value_variants()
            .iter()
            .map(|r| facedb::models::UserRole::from(*r).label().to_owned())
            .collect();
        assert_eq!(cli, roles, "{:?}: --role", db.backend);
        for role in facedb::cli::Role::value_variants() {
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

// -------------------------------------------------------------------------------------------------
// The recipe: a second migration
// -------------------------------------------------------------------------------------------------

/// A migration kept under `tests/it/fixtures/FOLDER/{postgres,sqlite}`, written for the test
/// into a folder of its own under a version one second after the newest built-in migration, so
/// that it is always the newest whatever real migrations have been added since, and under a name
/// no real migration takes.
struct Fixture {
    name: String,
    version: String,
    folders: tempfile::TempDir,
}

impl Fixture {
    fn new(fixture: &str, title: &str) -> Fixture {
        let latest = migrations::latest(facedb::config::Backend::Postgres);
        let latest_version: u64 = latest
            .split('_')
            .next()
            .unwrap()
            .replace('-', "")
            .parse()
            .expect("a migration's version is its date and time, digits only");
        // Not a valid time when the newest one ends at second 59: diesel only compares versions.
        let version = (latest_version + 1).to_string();
        let name = format!("{version}_test_fixture_{title}");
        let folders = tempfile::TempDir::new().unwrap();
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/fixtures")
            .join(fixture);
        for backend in ["postgres", "sqlite"] {
            let folder = folders.path().join(backend).join(&name);
            std::fs::create_dir_all(&folder).unwrap();
            for file in ["up.sql", "down.sql"] {
                std::fs::copy(fixture.join(backend).join(file), folder.join(file)).unwrap();
            }
        }
        Fixture {
            name,
            version,
            folders,
        }
    }

    /// The embedded migrations followed by the fixture's: the set a facedb built after the recipe
    /// would embed.
    fn after(&self, embedded: EmbeddedMigrations, backend: &str) -> WithSecond {
        WithSecond {
            embedded,
            second: FileBasedMigrations::from_path(self.folders.path().join(backend))
                .expect("the fixture's migrations"),
        }
    }
}

struct WithSecond {
    embedded: EmbeddedMigrations,
    second: FileBasedMigrations,
}

impl<DB: diesel::backend::Backend> MigrationSource<DB> for WithSecond
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        let mut all = MigrationSource::<DB>::migrations(&self.embedded)?;
        all.extend(MigrationSource::<DB>::migrations(&self.second)?);
        Ok(all)
    }
}

fn json(out: &support::Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

fn a_second_migration_is_applied_to_rows_checked_and_reverted() {
    let second = Fixture::new("second_migration", "second_migration");
    let postgres = second.after(migrations::POSTGRES, "postgres");
    let sqlite = second.after(migrations::SQLITE, "sqlite");
    let source = Source {
        postgres: &postgres,
        sqlite: &sqlite,
    };
    let lock_timeout = Duration::from_secs(30);
    for db in TestDb::each() {
        let backend = db.backend.into();
        let built_in = migrations::all_names(backend);
        let latest = migrations::latest(backend);
        let latest_version = latest.split('_').next().unwrap().replace('-', "");
        db.init();
        add_data(&db);
        let before = counts(&db);
        let mut conn = open(&db);

        // Applied as init applies migrations: in one transaction under facedb's lock. The rows
        // stay, and the existing ones get the column's default.
        let applied = conn
            .exclusive(&default_schema(&conn), lock_timeout, |c| {
                migrations::apply_pending_from(c, source)
            })
            .unwrap();
        assert_eq!(applied, [second.name.as_str()], "{:?}", db.backend);
        assert_eq!(counts(&db), before);
        assert_eq!(
            db.connect()
                .i64("SELECT CAST(fixture_loyalty_points AS BIGINT) AS v FROM customers"),
            0
        );

        // Status: every migration applied, nothing pending. A facedb without the migration lists it as
        // unknown (applied by a newer facedb).
        let schema = default_schema(&conn);
        let state = migrations::state_from(&mut conn, &schema, source).unwrap();
        let mut every = built_in.clone();
        every.push(second.name.clone());
        assert_eq!(state.applied, every);
        assert!(state.pending.is_empty() && state.unknown.is_empty());
        let status = json(&db.run(&["status", "--json"]).success());
        assert_eq!(
            status["migrations"]["unknown"],
            serde_json::json!([second.version])
        );

        // Check: the database with its rows is exactly what the migrations make on an empty
        // database; a facedb without the migration reports the new column.
        let fresh = match db.backend {
            support::Backend::Postgres => TestDb::postgres(),
            support::Backend::Sqlite => TestDb::sqlite(),
        };
        let expected = applied_from(&fresh, source);
        let customers = expected.table("customers").unwrap();
        assert!(customers.column("fixture_loyalty_points").unwrap().not_null);
        assert_eq!(
            facedb::compare::compare(&expected, &read_all(&mut conn)),
            [],
            "{:?}",
            db.backend
        );
        let check = json(&db.run(&["check", "--json"]).code(5));
        let differences = check["differences"].as_array().unwrap();
        assert_eq!(differences.len(), 1, "{check}");
        assert!(
            differences[0]["message"]
                .as_str()
                .unwrap()
                .contains("fixture_loyalty_points"),
            "{check}"
        );

        // Rollback: this binary has no down.sql for it and refuses; the set that has it reverts
        // just the second migration.
        db.run(&["rollback", "--force"]).code(5);
        let reverting = migrations::to_revert(backend, source, &state, None).unwrap();
        assert_eq!(reverting, [second.name.as_str()]);
        for to in [latest.as_str(), latest_version.as_str()] {
            assert_eq!(
                migrations::to_revert(backend, source, &state, Some(to)).unwrap(),
                [second.name.as_str()]
            );
        }
        assert!(
            migrations::to_revert(backend, source, &state, Some(&second.name))
                .unwrap()
                .is_empty()
        );
        conn.exclusive(&default_schema(&conn), lock_timeout, |c| {
            migrations::revert(c, source, &reverting)
        })
        .unwrap();
        let customers = read_all(&mut conn);
        assert!(customers
            .table("customers")
            .unwrap()
            .column("fixture_loyalty_points")
            .is_none());
        assert_eq!(counts(&db), before, "{:?}", db.backend);
        db.run(&["check"]).success();
        db.run(&["status"]).success();
    }
}

/// Whether `sql` fails on a connection of its own to `db`.
fn fails(db: &TestDb, sql: &str) -> bool {
    use diesel::connection::SimpleConnection;
    match db.connect() {
        support::Conn::Postgres(mut c) => c.batch_execute(sql).is_err(),
        support::Conn::Sqlite(mut c) => c.batch_execute(sql).is_err(),
    }
}

/// docs/changing-the-schema.md, "A new enum label": the fixture adds `cameratype`'s label ONVIF
/// (PostgreSQL: `ALTER TYPE … ADD VALUE`; SQLite: the column's CHECK widened in place).
fn a_new_enum_label_is_usable_once_inits_transaction_commits() {
    let label = Fixture::new("new_enum_label", "new_enum_label");
    let postgres = label.after(migrations::POSTGRES, "postgres");
    let sqlite = label.after(migrations::SQLITE, "sqlite");
    let source = Source {
        postgres: &postgres,
        sqlite: &sqlite,
    };
    let lock_timeout = Duration::from_secs(30);
    let camera_types = |db: &TestDb| {
        db.connect()
            .strings("SELECT CAST(camera_type AS TEXT) AS v FROM cameras ORDER BY camera_id")
    };
    for db in TestDb::each() {
        db.init();
        add_data(&db);
        let before = counts(&db);
        let mut conn = open(&db);
        let schema = default_schema(&conn);

        // Applied as init applies migrations, in one transaction under facedb's lock, to a
        // database whose type (or CHECK) committed long ago.
        let applied = conn
            .exclusive(&schema, lock_timeout, |c| {
                migrations::apply_pending_from(c, source)
            })
            .unwrap();
        assert_eq!(applied, [label.name.as_str()], "{:?}", db.backend);
        assert_eq!(counts(&db), before);

        // Once committed, another connection (the API's) uses it; the old labels still hold.
        db.exec("UPDATE cameras SET camera_type = 'ONVIF'");
        assert_eq!(camera_types(&db), ["ONVIF"], "{:?}", db.backend);

        // The schema is what the migrations make on an empty database, where the first
        // migration and the label's are applied in one transaction.
        let fresh = match db.backend {
            support::Backend::Postgres => TestDb::postgres(),
            support::Backend::Sqlite => TestDb::sqlite(),
        };
        let expected = applied_from(&fresh, source);
        let found = read_all(&mut conn);
        assert_eq!(
            facedb::compare::compare(&expected, &found),
            [],
            "{:?}",
            db.backend
        );
        let labels = match db.backend {
            support::Backend::Postgres => found.enum_type("cameratype").unwrap().labels.clone(),
            support::Backend::Sqlite => found
                .table("cameras")
                .and_then(|t| t.column("camera_type"))
                .and_then(|c| c.allowed_values.clone())
                .unwrap(),
        };
        assert_eq!(labels, ["RTSP", "WEBCAM", "ONVIF"], "{:?}", db.backend);
        // This facedb's contract has no ONVIF: check reports the label.
        db.run(&["check"]).code(5).stdout_has("ONVIF");

        // Reverting refuses while a row holds the label, and changes nothing.
        let reverting = [label.name.clone()];
        let refused = conn.exclusive(&schema, lock_timeout, |c| {
            migrations::revert(c, source, &reverting)
        });
        assert!(refused.is_err(), "{:?}", db.backend);
        let state = migrations::state_from(&mut conn, &schema, source).unwrap();
        assert!(state.applied.contains(&label.name), "{:?}", db.backend);
        assert_eq!(camera_types(&db), ["ONVIF"]);
        assert_eq!(counts(&db), before);

        db.exec("UPDATE cameras SET camera_type = 'RTSP'");
        conn.exclusive(&schema, lock_timeout, |c| {
            migrations::revert(c, source, &reverting)
        })
        .unwrap();
        assert_eq!(counts(&db), before, "{:?}", db.backend);
        db.run(&["check"]).success();
        assert!(
            fails(&db, "UPDATE cameras SET camera_type = 'ONVIF'"),
            "{:?}: the label is gone",
            db.backend
        );
    }

    // PostgreSQL: a label cannot be used in the transaction that added it, so a migration (or
    // anything else in init's transaction) that uses it fails, and nothing changes.
    let db = TestDb::postgres();
    db.init();
    add_data(&db);
    let before = counts(&db);
    let mut conn = open(&db);
    let schema = default_schema(&conn);
    let used_at_once = conn.exclusive(&schema, lock_timeout, |c| {
        migrations::apply_pending_from(c, source)?;
        diesel::RunQueryDsl::execute(
            diesel::sql_query("UPDATE cameras SET camera_type = 'ONVIF'"),
            c,
        )?;
        Ok(())
    });
    let error = used_at_once.unwrap_err().to_string();
    assert!(error.contains("unsafe use of new value"), "{error}");
    let state = migrations::state_from(&mut conn, &schema, source).unwrap();
    assert_eq!(state.pending, [label.name.as_str()]);
    assert_eq!(counts(&db), before);
    db.run(&["check"]).success();
}

tests![
    needs::SERVER => [
        docs_schema_md_is_what_the_migrations_make,
        src_contract_json_is_what_the_migrations_make,
        the_table_lists_and_the_drop_order_are_the_migrations,
        the_enum_labels_of_the_models_and_the_cli_are_the_migrations,
        a_second_migration_is_applied_to_rows_checked_and_reverted,
        a_new_enum_label_is_usable_once_inits_transaction_commits,
    ],
];
