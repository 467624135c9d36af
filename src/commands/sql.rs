//! `facedb sql`: prints the SQL `init` applies, for a DBA who runs schema changes by hand. It never
//! connects: the backend comes from `--backend`, else from the configured database's URL.

use serde::Serialize;

use crate::commands::{Outcome, Report};
use crate::config::options::TargetOptions;
use crate::config::{Backend, Environment, SchemaName, Settings};
use crate::error::Result;
use crate::lock::ADVISORY_LOCK_KEY;
use crate::migrations::{self, MigrationSql};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// The backend to print the schema for [default: the backend of --database-url, DATABASE_URL
    /// or DB_*, without connecting].
    #[arg(long, value_enum, value_name = "BACKEND")]
    pub backend: Option<Backend>,
}

pub type SqlReport = Report<SqlOutcome>;

#[derive(Debug, Clone, Serialize)]
pub struct SqlOutcome {
    /// The schema the script builds facedb in (`main` on SQLite).
    pub schema: SchemaName,
    /// The migrations the script applies and records, in order.
    pub migrations: Vec<MigrationSql>,
    /// The whole script, as printed without `--json`.
    pub script: String,
}

impl Outcome for SqlOutcome {
    fn write_text(report: &SqlReport, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(report.outcome.script.trim_end())
    }
}

pub fn run(options: &TargetOptions, args: &Args) -> Result<SqlReport> {
    let backend = match args.backend {
        Some(backend) => backend,
        None => Settings::resolve_target(options)?.backend(),
    };
    // Where `init` would look, from the same sources: the script builds facedb there.
    let env = Environment::load(options.env_file.as_deref())?;
    let schema = SchemaName::from_sources(options, &env, backend)?;
    let migrations = migrations::up_sql(backend)?;
    let outcome = SqlOutcome {
        script: script(backend, &schema, &migrations),
        schema,
        migrations,
    };
    Ok(Report::without_database("sql", backend.key(), outcome))
}

/// The migrations wrapped as `init` runs them: one transaction, facedb's lock, on PostgreSQL the
/// schema (created when missing, and pinned as the search path, as `init` pins it), diesel's
/// migration table, and each migration recorded there, so that a later `facedb init` in that
/// schema finds nothing to apply.
pub fn script(backend: Backend, schema: &SchemaName, migrations: &[MigrationSql]) -> String {
    let (example, begin, lock) = match backend {
        Backend::Postgres => (
            "facedb sql --backend postgres | psql -v ON_ERROR_STOP=1 -d facedb",
            "BEGIN;",
            Some(format!(
                "-- facedb's lock, as init takes it: waits for a facedb working on this database.\n\
                 DO $$ BEGIN PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY}); END $$;\n\n\
                 {}",
                in_schema(schema)
            )),
        ),
        Backend::Sqlite => (
            "facedb sql --backend sqlite | sqlite3 facedb.db",
            // Takes the file's write lock at once, as init does.
            "BEGIN IMMEDIATE;",
            None,
        ),
    };
    let mut out = format!(
        "-- The schema `facedb init` applies to a {name} database (facedb {version}), to run by hand:\n\
         --   {example}\n\
         -- One transaction. Each migration is recorded in __diesel_schema_migrations, as init records\n\
         -- it, so that `facedb init` afterwards applies nothing and only seeds the system admin.\n\
         {where_}\n\
         {begin}\n\n",
        name = backend.name(),
        version = env!("CARGO_PKG_VERSION"),
        where_ = match backend {
            Backend::Postgres => format!(
                "-- Everything is made in schema {}: give init the same --schema (or FACEDB_SCHEMA).\n",
                schema.quoted()
            ),
            Backend::Sqlite => String::new(),
        },
    );
    if let Some(lock) = lock {
        out.push_str(&lock);
        out.push('\n');
    }
    out.push_str("-- diesel's migration table\n");
    out.push_str(&terminated(diesel::migration::CREATE_MIGRATIONS_TABLE));
    out.push_str("\n\n");
    for migration in migrations {
        out.push_str(&format!("-- migration {}\n", migration.name));
        out.push_str(&terminated(migration.up_sql));
        out.push_str(&format!(
            "\nINSERT INTO __diesel_schema_migrations (version) VALUES ('{}');\n\n",
            migration.version.replace('\'', "''")
        ));
    }
    out.push_str("COMMIT;\n");
    out
}

/// The statements that put the rest of the script in `schema`, as `init` works there: the schema
/// is created only when missing (`CREATE SCHEMA IF NOT EXISTS` would need the right to create
/// one even when it exists), and `SET LOCAL` pins name resolution to it, `pg_temp` last, until
/// the transaction ends.
fn in_schema(schema: &SchemaName) -> String {
    let create = format!(
        "BEGIN IF {} IS NULL THEN CREATE SCHEMA {}; END IF; END",
        schema.namespace(),
        schema.quoted()
    );
    // A dollar quote whose tag the body does not contain (a schema name may hold `$`).
    let mut tag = "$facedb$".to_owned();
    while create.contains(&tag) {
        tag.insert(tag.len() - 1, '_');
    }
    format!(
        "-- The schema facedb works in, created when missing; every name below resolves there.\n\
         DO {tag} {create} {tag};\n\
         SET LOCAL search_path = {}, pg_temp;\n",
        schema.quoted()
    )
}

/// SQL text without trailing blanks, ending its last statement (a file may leave out the final
/// semicolon; on a line of its own it also ends a statement that a trailing comment follows).
pub(crate) fn terminated(sql: &str) -> String {
    let sql = sql.trim_end();
    if sql.ends_with(';') {
        sql.to_owned()
    } else {
        format!("{sql}\n;")
    }
}
