//! The schema, as plain SQL migrations embedded in the binary, one set per backend.

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::Backend;
use crate::connection::Db;
use crate::error::{Error, Result};

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Applies every pending migration and returns the names of those it applied.
/// Runs inside the caller's transaction: each migration becomes a savepoint.
pub fn apply_pending(db: &mut Db) -> Result<Vec<String>> {
    fn run<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        source: EmbeddedMigrations,
    ) -> diesel::migration::Result<Vec<String>>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let pending = conn.pending_migrations(source)?;
        conn.run_migrations(&pending)?;
        Ok(names(pending))
    }
    match db {
        Db::Postgres(conn) => run(conn, POSTGRES),
        Db::Sqlite(conn) => run(conn, SQLITE),
    }
    .map_err(|e| Error::Migration(e.to_string()))
}

fn names<DB: diesel::backend::Backend>(migrations: Vec<Box<dyn Migration<DB>>>) -> Vec<String> {
    migrations.iter().map(|m| m.name().to_string()).collect()
}

/// Every migration of a backend, by name (for `status` and tests).
pub fn all_names(postgres: bool) -> Vec<String> {
    let result = if postgres {
        MigrationSource::<Pg>::migrations(&POSTGRES).map(names::<Pg>)
    } else {
        MigrationSource::<Sqlite>::migrations(&SQLITE).map(names::<Sqlite>)
    };
    result.unwrap_or_default()
}

/// Each backend's `up.sql` files by migration name, listed by build.rs from the folders
/// `embed_migrations!` reads.
mod up_sql {
    include!(concat!(env!("OUT_DIR"), "/up_sql.rs"));
}

/// One migration as `init` applies it: its name, the version diesel records, and its SQL.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MigrationSql {
    pub name: String,
    pub version: String,
    #[serde(skip)]
    pub up_sql: &'static str,
}

/// Every migration of `backend`, in the order `init` applies them, with its `up.sql`.
pub fn up_sql(backend: Backend) -> Result<Vec<MigrationSql>> {
    fn collect<DB: diesel::backend::Backend>(
        source: &EmbeddedMigrations,
        files: &[(&str, &'static str)],
    ) -> Result<Vec<MigrationSql>>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let migrations = MigrationSource::<DB>::migrations(source)
            .map_err(|e| Error::Migration(e.to_string()))?;
        migrations
            .iter()
            .map(|m| {
                let name = m.name().to_string();
                let up_sql = files
                    .iter()
                    .find(|(file, _)| *file == name)
                    .map(|(_, sql)| *sql)
                    .ok_or_else(|| {
                        Error::Migration(format!(
                            "the SQL of migration {name} is not embedded; rebuild facedb"
                        ))
                    })?;
                Ok(MigrationSql {
                    version: m.name().version().to_string(),
                    name,
                    up_sql,
                })
            })
            .collect()
    }
    match backend {
        Backend::Postgres => collect::<Pg>(&POSTGRES, up_sql::POSTGRES_UP_SQL),
        Backend::Sqlite => collect::<Sqlite>(&SQLITE, up_sql::SQLITE_UP_SQL),
    }
}

/// Where a database stands with this binary's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrationState {
    /// This binary's migrations the database has applied, by name.
    pub applied: Vec<String>,
    /// This binary's migrations it has not applied, by name.
    pub pending: Vec<String>,
    /// Versions the database records that this binary does not know (a newer facedb ran).
    pub unknown: Vec<String>,
}

/// Reads which migrations `db` has applied, without writing anything (diesel's own harness
/// creates its table first). `recorded` says whether `__diesel_schema_migrations` exists; when it
/// does not, every migration is pending.
pub fn state(db: &mut Db, recorded: bool) -> Result<MigrationState> {
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    fn known<DB: diesel::backend::Backend>(
        migrations: Vec<Box<dyn Migration<DB>>>,
    ) -> Vec<(String, String)> {
        migrations
            .iter()
            .map(|m| (m.name().to_string(), m.name().version().to_string()))
            .collect()
    }
    let migrations = match db {
        Db::Postgres(_) => MigrationSource::<Pg>::migrations(&POSTGRES).map(known::<Pg>),
        Db::Sqlite(_) => MigrationSource::<Sqlite>::migrations(&SQLITE).map(known::<Sqlite>),
    }
    .map_err(|e| Error::Migration(e.to_string()))?;
    let mut versions: Vec<String> = Vec::new();
    if recorded {
        let query = diesel::sql_query(
            "SELECT CAST(version AS TEXT) AS version FROM __diesel_schema_migrations ORDER BY version",
        );
        let rows: Vec<Version> = match db {
            Db::Postgres(conn) => query.load(conn)?,
            Db::Sqlite(conn) => query.load(conn)?,
        };
        versions = rows.into_iter().map(|r| r.version).collect();
    }
    let mut state = MigrationState::default();
    for (name, version) in &migrations {
        if versions.contains(version) {
            state.applied.push(name.clone());
        } else {
            state.pending.push(name.clone());
        }
    }
    state.unknown = versions
        .into_iter()
        .filter(|v| !migrations.iter().any(|(_, known)| known == v))
        .collect();
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use diesel::Connection;
    use std::sync::{Arc, Mutex};

    #[test]
    fn every_embedded_migration_has_its_sql_and_nothing_else() {
        for (backend, files) in [
            (Backend::Postgres, up_sql::POSTGRES_UP_SQL),
            (Backend::Sqlite, up_sql::SQLITE_UP_SQL),
        ] {
            let migrations = up_sql(backend).unwrap();
            let names: Vec<&str> = migrations.iter().map(|m| m.name.as_str()).collect();
            let files: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
            assert_eq!(names, files, "{backend:?}");
            assert_eq!(names, all_names(backend == Backend::Postgres));
            assert!(migrations.iter().all(|m| m.up_sql.contains("CREATE TABLE")));
        }
    }

    /// Records the statements a connection runs.
    struct Record(Arc<Mutex<Vec<String>>>);

    impl Instrumentation for Record {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                self.0.lock().unwrap().push(query.to_string());
            }
        }
    }

    /// What `facedb sql` prints is byte for byte what diesel runs for each migration.
    #[test]
    fn the_listed_sql_is_what_the_embedded_migration_runs() {
        let statements = Arc::new(Mutex::new(Vec::new()));
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        conn.set_instrumentation(Record(statements.clone()));
        for migration in MigrationSource::<Sqlite>::migrations(&SQLITE).unwrap() {
            let name = migration.name().to_string();
            let listed = up_sql(Backend::Sqlite)
                .unwrap()
                .into_iter()
                .find(|m| m.name == name)
                .unwrap();
            statements.lock().unwrap().clear();
            migration.run(&mut conn).unwrap();
            let ran = statements.lock().unwrap().clone();
            assert!(ran.iter().any(|s| s == listed.up_sql), "{name}: {ran:?}");
        }
    }
}
