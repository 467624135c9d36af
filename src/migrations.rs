//! The schema, as plain SQL migrations embedded in the binary, one set per backend.

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

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

/// The names of the migrations not yet applied.
pub fn pending(db: &mut Db) -> Result<Vec<String>> {
    let pending = match db {
        Db::Postgres(conn) => conn.pending_migrations(POSTGRES).map(names::<Pg>),
        Db::Sqlite(conn) => conn.pending_migrations(SQLITE).map(names::<Sqlite>),
    }
    .map_err(|e| Error::Migration(e.to_string()))?;
    Ok(pending)
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
