//! The schema, as plain SQL migrations embedded in the binary, one set per backend.

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Backend, SchemaName};
use crate::db::Db;
use crate::error::{Error, Result};

pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A set of migrations, one folder per backend. The binary runs [`EMBEDDED`]; a library caller may
/// pass another set (e.g. diesel's `FileBasedMigrations`, as the test of a schema change does).
#[derive(Clone, Copy)]
pub struct Source<'a> {
    pub postgres: &'a dyn MigrationSource<Pg>,
    pub sqlite: &'a dyn MigrationSource<Sqlite>,
}

/// The migrations built into this binary.
pub const EMBEDDED: Source<'static> = Source {
    postgres: &POSTGRES,
    sqlite: &SQLITE,
};

fn migration_error(error: impl std::fmt::Display) -> Error {
    Error::Migration(error.to_string())
}

/// Applies every pending migration and returns the names of those it applied.
/// Runs inside the caller's transaction: each migration becomes a savepoint.
pub fn apply_pending(db: &mut Db) -> Result<Vec<String>> {
    apply_pending_from(db, EMBEDDED)
}

/// [`apply_pending`] with the migrations of `source`.
pub fn apply_pending_from(db: &mut Db, source: Source<'_>) -> Result<Vec<String>> {
    fn run<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        source: &dyn MigrationSource<DB>,
    ) -> diesel::migration::Result<Vec<String>> {
        let applied = conn.applied_migrations()?;
        let mut pending: Vec<_> = source
            .migrations()?
            .into_iter()
            .filter(|m| !applied.contains(&m.name().version()))
            .collect();
        pending.sort_by(|a, b| a.name().version().cmp(&b.name().version()));
        for migration in &pending {
            conn.run_migration(migration.as_ref())?;
        }
        Ok(names(pending))
    }
    let applied = match db {
        Db::Postgres(conn) => run(conn, source.postgres),
        Db::Sqlite(conn) => run(conn, source.sqlite),
    }
    .map_err(migration_error)?;
    // Recorded as facedb's too, so that a `__diesel_schema_migrations` shared with other diesel
    // applications still tells facedb's rows apart.
    let applied_versions: Vec<String> = versions(db.backend(), source)?
        .into_iter()
        .filter(|(name, _)| applied.contains(name))
        .map(|(_, version)| version)
        .collect();
    crate::bookkeeping::record_migrations(db, &applied_versions)?;
    Ok(applied)
}

/// Reverts the applied migrations named in `names`, in that order (newest first), each with its
/// `down.sql`, and removes their record. Runs inside the caller's transaction: each migration
/// becomes a savepoint. Only migrations of `source` can be named: facedb runs no other SQL.
pub fn revert(db: &mut Db, source: Source<'_>, names: &[String]) -> Result<()> {
    fn run<DB: diesel::backend::Backend>(
        conn: &mut impl MigrationHarness<DB>,
        source: &dyn MigrationSource<DB>,
        names: &[String],
    ) -> diesel::migration::Result<()> {
        let migrations = source.migrations()?;
        for name in names {
            let migration = migrations
                .iter()
                .find(|m| m.name().to_string() == *name)
                .ok_or_else(|| format!("migration {name} is not in this set"))?;
            conn.revert_migration(migration.as_ref())?;
        }
        Ok(())
    }
    match db {
        Db::Postgres(conn) => run(conn, source.postgres, names),
        Db::Sqlite(conn) => run(conn, source.sqlite, names),
    }
    .map_err(migration_error)
}

/// The applied migrations a rollback reverts, newest first: the newest one, or with `to` every
/// one newer than the migration `to` names (by version or by name). Refuses (exit 5) when the
/// database records a migration `source` does not know: only the facedb that applied it has its
/// `down.sql`.
pub fn to_revert(
    backend: Backend,
    source: Source<'_>,
    state: &MigrationState,
    to: Option<&str>,
) -> Result<Vec<String>> {
    if !state.unknown.is_empty() {
        return Err(Error::Schema(format!(
            "the database records {} that this facedb does not know ({}): roll back with the facedb that applied {}",
            crate::text::plural(state.unknown.len(), "migration"),
            state.unknown.join(", "),
            if state.unknown.len() == 1 { "it" } else { "them" },
        )));
    }
    let known = versions(backend, source)?;
    let version_of = |name: &str| {
        known
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, version)| version.clone())
    };
    let stop = match to {
        None => None,
        Some(to) => match known
            .iter()
            .find(|(name, version)| name == to || version == to)
        {
            Some((_, version)) => Some(version.clone()),
            None => {
                let names: Vec<&str> = known.iter().map(|(name, _)| name.as_str()).collect();
                return Err(Error::Usage(format!(
                    "--to {to}: no such migration; give the version or the name of one of: {}",
                    names.join(", ")
                )));
            }
        },
    };
    let mut applied: Vec<(String, String)> = state
        .applied
        .iter()
        .filter_map(|name| Some((version_of(name)?, name.clone())))
        .collect();
    applied.sort_by(|a, b| b.0.cmp(&a.0));
    Ok(match stop {
        None => applied.into_iter().take(1).map(|(_, name)| name).collect(),
        Some(stop) => applied
            .into_iter()
            .filter(|(version, _)| *version > stop)
            .map(|(_, name)| name)
            .collect(),
    })
}

/// Every migration of `source` for `backend`: its name and the version diesel records.
pub fn versions(backend: Backend, source: Source<'_>) -> Result<Vec<(String, String)>> {
    fn pairs<DB: diesel::backend::Backend>(
        migrations: Vec<Box<dyn Migration<DB>>>,
    ) -> Vec<(String, String)> {
        migrations
            .iter()
            .map(|m| (m.name().to_string(), m.name().version().to_string()))
            .collect()
    }
    match backend {
        Backend::Postgres => source.postgres.migrations().map(pairs),
        Backend::Sqlite => source.sqlite.migrations().map(pairs),
    }
    .map_err(migration_error)
}

fn names<DB: diesel::backend::Backend>(migrations: Vec<Box<dyn Migration<DB>>>) -> Vec<String> {
    migrations.iter().map(|m| m.name().to_string()).collect()
}

/// Every migration of a backend, by name (for `status` and tests).
pub fn all_names(backend: Backend) -> Vec<String> {
    let result = match backend {
        Backend::Postgres => MigrationSource::<Pg>::migrations(&POSTGRES).map(names::<Pg>),
        Backend::Sqlite => MigrationSource::<Sqlite>::migrations(&SQLITE).map(names::<Sqlite>),
    };
    result.unwrap_or_default()
}

/// Each backend's `up.sql` and `down.sql` files by migration name, listed by build.rs from the
/// folders `embed_migrations!` reads.
mod sql_files {
    include!(concat!(env!("OUT_DIR"), "/migration_sql.rs"));
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
        Backend::Postgres => collect::<Pg>(&POSTGRES, sql_files::POSTGRES_UP_SQL),
        Backend::Sqlite => collect::<Sqlite>(&SQLITE, sql_files::SQLITE_UP_SQL),
    }
}

/// The `down.sql` of the embedded migration `name` of `backend`: what rollback runs to revert it.
pub fn down_sql(backend: Backend, name: &str) -> Option<&'static str> {
    let files = match backend {
        Backend::Postgres => sql_files::POSTGRES_DOWN_SQL,
        Backend::Sqlite => sql_files::SQLITE_DOWN_SQL,
    };
    files
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, sql)| *sql)
}

/// What a statement of a migration's `up.sql` creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Type,
    Table,
    Index,
}

/// One `CREATE TYPE`, `CREATE TABLE` or `CREATE [UNIQUE] INDEX` statement of the migrations, as
/// they run it: the SQL `init` uses when it adopts a database and must create one object of the
/// schema by itself (see [`crate::adopt`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub kind: Kind,
    pub name: String,
    /// The table an index is on; for a table or type, its own name.
    pub table: String,
    /// The statement, without its `;`.
    pub sql: String,
    /// Where the name stands in `sql`.
    name_at: std::ops::Range<usize>,
}

impl Definition {
    /// The statement creating the object under another name (quoted).
    pub fn renamed(&self, name: &str) -> String {
        format!(
            "{}{}{}",
            &self.sql[..self.name_at.start],
            crate::config::quote_identifier(name),
            &self.sql[self.name_at.end..]
        )
    }
}

/// The objects `backend`'s migrations create, in the order they create them. Statements that
/// create nothing by name (or alter what another created) are left out.
pub fn definitions(backend: Backend) -> Result<Vec<Definition>> {
    Ok(up_sql(backend)?
        .iter()
        .flat_map(|m| split_statements(m.up_sql))
        .filter_map(|sql| {
            let (kind, name_at, table) = define(&sql)?;
            Some(Definition {
                kind,
                name: unquote(&sql[name_at.clone()]),
                table,
                name_at,
                sql,
            })
        })
        .collect())
}

fn unquote(word: &str) -> String {
    word.trim_matches('"').replace("\"\"", "\"")
}

/// What `sql` creates, where its name stands, and its table: `CREATE TYPE name`,
/// `CREATE TABLE [IF NOT EXISTS] name`, `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table`.
fn define(sql: &str) -> Option<(Kind, std::ops::Range<usize>, String)> {
    let mut words: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start = None;
    for (at, c) in sql.char_indices().chain([(sql.len(), ' ')]) {
        let separator = c.is_whitespace() || c == '(';
        match (start, separator) {
            (None, false) => start = Some(at),
            (Some(from), true) => {
                words.push(from..at);
                start = None;
            }
            _ => {}
        }
    }
    let word = |i: usize| words.get(i).map_or("", |w| &sql[w.clone()]);
    let is = |i: usize, keyword: &str| word(i).eq_ignore_ascii_case(keyword);
    let span = |i: usize| words.get(i).cloned();
    if !is(0, "CREATE") {
        return None;
    }
    let skip_if_not_exists = |i: usize| if is(i, "IF") { i + 3 } else { i };
    if is(1, "TYPE") {
        return Some((Kind::Type, span(2)?, unquote(word(2))));
    }
    if is(1, "TABLE") {
        let at = skip_if_not_exists(2);
        return Some((Kind::Table, span(at)?, unquote(word(at))));
    }
    let at = if is(1, "UNIQUE") { 2 } else { 1 };
    if !is(at, "INDEX") {
        return None;
    }
    let at = skip_if_not_exists(at + 1);
    is(at + 1, "ON").then(|| Some((Kind::Index, span(at)?, unquote(word(at + 2)))))?
}

/// Splits an SQL script into its statements, trimmed, without their `;` and without comments.
/// Quotes (`'…'`, `"…"`) and PostgreSQL's dollar quotes (`$$…$$`, `$tag$…$tag$`) are kept whole.
fn split_statements(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut rest = script;
    while let Some(c) = rest.chars().next() {
        let (taken, keep) = if rest.starts_with("--") {
            let end = rest.find('\n').unwrap_or(rest.len());
            (end, false)
        } else if let Some(comment) = rest.strip_prefix("/*") {
            let end = comment.find("*/").map_or(rest.len(), |at| at + 4);
            (end, false)
        } else if c == '\'' || c == '"' {
            // A doubled quote inside stands for itself: it reads as two quoted runs in a row.
            let end = rest[1..].find(c).map_or(rest.len(), |at| at + 2);
            (end, true)
        } else if let Some(tag) = dollar_tag(rest) {
            let end = rest[tag.len()..]
                .find(tag)
                .map_or(rest.len(), |at| at + 2 * tag.len());
            (end, true)
        } else if c == ';' {
            statements.push(std::mem::take(&mut current));
            (1, false)
        } else {
            (c.len_utf8(), true)
        };
        if keep {
            current.push_str(&rest[..taken]);
        } else if taken > 1 {
            current.push(' ');
        }
        rest = &rest[taken..];
    }
    statements.push(current);
    statements
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The opening `$tag$` of a dollar-quoted string at the start of `sql`, if there is one.
fn dollar_tag(sql: &str) -> Option<&str> {
    let body = sql.strip_prefix('$')?;
    let end = body.find('$')?;
    let tag = &body[..end];
    tag.chars()
        .all(|c| c.is_alphanumeric() || c == '_')
        .then(|| &sql[..end + 2])
        .filter(|_| !tag.starts_with(|c: char| c.is_ascii_digit()))
}

/// Where a database stands with this binary's migrations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MigrationState {
    /// This binary's migrations the database has applied, by name.
    pub applied: Vec<String>,
    /// This binary's migrations it has not applied, by name.
    pub pending: Vec<String>,
    /// Versions facedb recorded applying that this binary does not know (a newer facedb ran).
    /// Other diesel applications' rows in a shared `__diesel_schema_migrations` are not here.
    pub unknown: Vec<String>,
}

/// diesel's table of applied migrations, which other diesel applications may share.
pub const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// Every version in `schema`'s `__diesel_schema_migrations`, whoever applied it; none when the
/// table does not exist.
fn recorded_versions(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    use diesel::prelude::*;

    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = diesel::sql_types::Text)]
        version: String,
    }
    if !db.table_exists(schema, MIGRATIONS_TABLE)? {
        return Ok(Vec::new());
    }
    let query = diesel::sql_query(format!(
        "SELECT CAST(version AS TEXT) AS version FROM {} ORDER BY version",
        schema.qualify(MIGRATIONS_TABLE)
    ));
    let rows: Vec<Version> = query.load(db)?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}

/// The versions of this binary's migrations.
pub fn known_versions(db: &Db) -> Result<Vec<String>> {
    Ok(versions(db.backend(), EMBEDDED)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// The versions that are facedb's: this binary's, and those a newer facedb recorded applying.
pub fn facedb_versions(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    let mut versions = known_versions(db)?;
    for version in crate::bookkeeping::recorded_migrations(db, schema)? {
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    Ok(versions)
}

/// The versions in `schema`'s `__diesel_schema_migrations` that are not facedb's: other diesel
/// applications' rows, which a reset keeps.
pub fn other_applications_versions(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    let ours = facedb_versions(db, schema)?;
    Ok(recorded_versions(db, schema)?
        .into_iter()
        .filter(|v| !ours.contains(v))
        .collect())
}

/// Forgets facedb's migrations in `schema`: drops `__diesel_schema_migrations` when it holds
/// nothing else, or else deletes only facedb's rows from it. `versions` are facedb's, read before
/// its metadata went. Runs inside the caller's transaction.
pub fn forget(db: &mut Db, schema: &SchemaName, versions: &[String]) -> Result<()> {
    use diesel::prelude::*;

    let table = schema.qualify(MIGRATIONS_TABLE);
    let others = recorded_versions(db, schema)?
        .into_iter()
        .any(|v| !versions.contains(&v));
    let sql = if others {
        let listed = versions
            .iter()
            .map(|v| format!("'{}'", v.replace('\'', "''")))
            .collect::<Vec<_>>()
            .join(", ");
        format!("DELETE FROM {table} WHERE CAST(version AS TEXT) IN ({listed})")
    } else {
        format!("DROP TABLE IF EXISTS {table}")
    };
    diesel::sql_query(sql).execute(db)?;
    Ok(())
}

/// Reads which of facedb's migrations `schema` has applied, without writing anything (diesel's
/// own harness creates its table first). Without `__diesel_schema_migrations` every migration
/// is pending.
pub fn state(db: &mut Db, schema: &SchemaName) -> Result<MigrationState> {
    state_from(db, schema, EMBEDDED)
}

/// [`state`] against the migrations of `source`.
pub fn state_from(db: &mut Db, schema: &SchemaName, source: Source<'_>) -> Result<MigrationState> {
    let mut migrations = versions(db.backend(), source)?;
    migrations.sort_by(|a, b| a.1.cmp(&b.1));
    let versions = recorded_versions(db, schema)?;
    let ours = crate::bookkeeping::recorded_migrations(db, schema)?;
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
        .filter(|v| !migrations.iter().any(|(_, known)| known == v) && ours.contains(v))
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
            (Backend::Postgres, sql_files::POSTGRES_UP_SQL),
            (Backend::Sqlite, sql_files::SQLITE_UP_SQL),
        ] {
            let migrations = up_sql(backend).unwrap();
            let names: Vec<&str> = migrations.iter().map(|m| m.name.as_str()).collect();
            let files: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
            assert_eq!(names, files, "{backend:?}");
            assert_eq!(names, all_names(backend));
            assert!(migrations.iter().all(|m| m.up_sql.contains("CREATE TABLE")));
            for migration in &migrations {
                assert!(
                    down_sql(backend, &migration.name).is_some(),
                    "{migration:?}"
                );
            }
        }
        // A schema change is one migration pair: the same names on both backends.
        assert_eq!(all_names(Backend::Postgres), all_names(Backend::Sqlite));
    }

    #[test]
    fn splits_statements_around_quotes_and_comments() {
        let script = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n\
                      /* b; */ CREATE UNIQUE INDEX IF NOT EXISTS \"i\" ON a (x);\n\
                      DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT 'it''s; here'";
        assert_eq!(
            split_statements(script),
            [
                "CREATE TABLE a (x TEXT DEFAULT ';')",
                "CREATE UNIQUE INDEX IF NOT EXISTS \"i\" ON a (x)",
                "DO $body$ BEGIN PERFORM 1; END $body$",
                "SELECT 'it''s; here'",
            ]
        );
        assert_eq!(
            define("CREATE UNIQUE INDEX IF NOT EXISTS \"i\" ON a (x)"),
            Some((Kind::Index, 34..37, "a".to_owned()))
        );
        let table = definitions(Backend::Sqlite)
            .unwrap()
            .into_iter()
            .find(|d| d.kind == Kind::Table && d.name == "users")
            .unwrap();
        assert!(table
            .renamed("new users")
            .starts_with("CREATE TABLE \"new users\" (\n    user_id "));
        assert_eq!(define("DO $body$ BEGIN PERFORM 1; END $body$"), None);
    }

    /// Adoption creates any table, index or enum type of the contract from the migrations.
    #[test]
    fn the_migrations_define_every_object_of_the_contract() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let defined = definitions(backend).unwrap();
            let has = |kind: Kind, name: &str, table: &str| {
                defined
                    .iter()
                    .any(|d| d.kind == kind && d.name == name && d.table == table)
            };
            let contract = crate::contract::expected(backend);
            for table in &contract.tables {
                assert!(
                    has(Kind::Table, &table.name, &table.name),
                    "{backend:?}: {}",
                    table.name
                );
                for index in &table.indexes {
                    assert!(
                        has(Kind::Index, &index.name, &table.name),
                        "{backend:?}: {}",
                        index.name
                    );
                }
            }
            assert!(has(
                Kind::Table,
                crate::bookkeeping::TABLE,
                crate::bookkeeping::TABLE
            ));
            for e in &contract.enums {
                assert!(has(Kind::Type, &e.name, &e.name), "{}", e.name);
            }
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
