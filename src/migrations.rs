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
