//! The schema, as plain SQL migrations embedded in the binary, one set per backend.
//!
//! [`definitions`] reads each `up.sql` with the `sqlparser` crate (its PostgreSQL or SQLite
//! dialect) for the tables, indexes and enum types adoption creates by itself; each keeps the
//! statement's own text, which the parser's positions cut out of the script.

use diesel::migration::{Migration, MigrationSource};
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use sqlparser::ast::{AlterTableOperation, ObjectName, Spanned, Statement};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Location, Token};
use std::ops::Range;

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

/// A migration that failed to apply or revert, by its cause. diesel_migrations keeps the diesel
/// error it wraps private (`Failed to run NAME with: MESSAGE`), so the cause is read from the
/// connection, which is asked whether it is still there, and from the server's message: a lost
/// connection is exit 3, a read-only server exit 3, a lock timeout exit 6, as at any other step.
fn failed_migration(db: &mut Db, error: impl std::fmt::Display) -> Error {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    use diesel::RunQueryDsl;
    let text = error.to_string();
    // A savepoint that could not be rolled back replaces the migration's error with its own.
    let (name, message) = match text
        .strip_prefix("Failed to run ")
        .and_then(|rest| rest.split_once(" with: "))
    {
        Some((name, message)) => (Some(name), message),
        None => (None, text.as_str()),
    };
    let connection_gone = matches!(
        diesel::sql_query("SELECT 1").execute(db),
        Err(Diesel::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            _
        ))
    );
    let kind = if connection_gone || crate::error::says_connection_lost(message) {
        DatabaseErrorKind::ClosedConnection
    } else if message.contains("in a read-only transaction") {
        DatabaseErrorKind::ReadOnlyTransaction
    } else {
        DatabaseErrorKind::Unknown
    };
    let cause = Error::from(Diesel::DatabaseError(kind, Box::new(message.to_owned())));
    match cause {
        Error::Database(e) if !crate::error::is_lock_timeout(&e) => match name {
            Some(name) => Error::Migration(format!("{name}: {message}")),
            None => Error::Migration(message.to_owned()),
        },
        other => other,
    }
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
    };
    let applied = match applied {
        Ok(applied) => applied,
        Err(error) => return Err(failed_migration(db, error)),
    };
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
    let reverted = match db {
        Db::Postgres(conn) => run(conn, source.postgres, names),
        Db::Sqlite(conn) => run(conn, source.sqlite, names),
    };
    reverted.map_err(|error| failed_migration(db, error))
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

/// Every migration of a backend built into this binary, by name, oldest first (for `status` and
/// tests).
pub fn all_names(backend: Backend) -> Vec<String> {
    let result = match backend {
        Backend::Postgres => MigrationSource::<Pg>::migrations(&POSTGRES).map(names::<Pg>),
        Backend::Sqlite => MigrationSource::<Sqlite>::migrations(&SQLITE).map(names::<Sqlite>),
    };
    let mut names = result.unwrap_or_default();
    // A name starts with its version: by name is the order `init` applies them in.
    names.sort();
    names
}

/// The newest migration of a backend built into this binary, by name: the one `rollback`
/// reverts first on an up-to-date database.
pub fn latest(backend: Backend) -> String {
    all_names(backend).pop().unwrap_or_default()
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
    /// A column a later migration adds to a table (`ALTER TABLE … ADD [COLUMN]`, one column).
    Column,
}

/// One `CREATE TYPE`, `CREATE TABLE` or `CREATE [UNIQUE] INDEX` statement of the migrations, or
/// an `ALTER TABLE … ADD COLUMN` of one column, as they run it: the SQL `init` uses when it adopts
/// a database and must create one object of the schema by itself (see the `adopt` module). A
/// table is made by its `CREATE TABLE` and then the columns later migrations add to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub kind: Kind,
    pub name: String,
    /// The table an index or column is on; for a table or type, its own name.
    pub table: String,
    /// The statement as the migration writes it, without its `;`. Not the parser's rendering of
    /// it: SQLite keeps a table's text, its column defaults included, as it was given, and the
    /// contract holds the migration's words.
    pub sql: String,
    /// Where the name stands in `sql`; for a column, the name of its table.
    name_at: Range<usize>,
}

impl Definition {
    /// The statement creating the object under another name (quoted); for a column, the
    /// statement adding it to a table of that name.
    pub fn renamed(&self, name: &str) -> String {
        format!(
            "{}{}{}",
            &self.sql[..self.name_at.start],
            crate::config::quote_identifier(name),
            &self.sql[self.name_at.end..]
        )
    }
}

/// The objects `backend`'s migrations create, and the columns they add to tables, in the order
/// they make them. Other statements (an `UPDATE`, an `ALTER` of anything else) are left out.
pub fn definitions(backend: Backend) -> Result<Vec<Definition>> {
    let mut definitions = Vec::new();
    for migration in up_sql(backend)? {
        definitions.extend(definitions_in(backend, migration.up_sql).map_err(|e| {
            Error::Migration(format!("cannot read migration {}: {e}", migration.name))
        })?);
    }
    Ok(definitions)
}

/// The parser's words for `backend`'s SQL.
fn dialect(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Postgres => &PostgreSqlDialect {},
        Backend::Sqlite => &SQLiteDialect {},
    }
}

/// The objects `script` creates. A statement the parser cannot read whole is left out: none of
/// the `CREATE` statements adoption runs is (`the_migrations_define_every_object_of_the_contract`
/// finds each object of the contract here).
fn definitions_in(
    backend: Backend,
    script: &str,
) -> std::result::Result<Vec<Definition>, ParserError> {
    let mut parser = Parser::new(dialect(backend)).try_with_sql(script)?;
    let lines = Lines::new(script);
    let mut definitions = Vec::new();
    loop {
        while parser.consume_token(&Token::SemiColon) {}
        let first = parser.peek_token_ref();
        if first.token == Token::EOF {
            break;
        }
        let start = first.span.start;
        let statement = parser.parse_statement();
        let complete = matches!(parser.peek_token_ref().token, Token::SemiColon | Token::EOF);
        match statement {
            Ok(statement) if complete => {
                let end = last_token_end(&parser);
                if let Some(definition) = define(&statement, &lines, start..end) {
                    definitions.push(definition);
                }
            }
            // Skipped up to the next `;` (the tokenizer keeps quoted and dollar-quoted text whole).
            _ => {
                while !matches!(parser.peek_token_ref().token, Token::SemiColon | Token::EOF) {
                    parser.advance_token();
                }
            }
        }
    }
    Ok(definitions)
}

/// Where the last token the parser took ends: the end of the statement it just read, without the
/// whitespace and comments after it.
fn last_token_end(parser: &Parser) -> Location {
    let mut at = parser.get_current_index();
    while at > 0 && matches!(parser.token_at(at).token, Token::Whitespace(_)) {
        at -= 1;
    }
    parser.token_at(at).span.end
}

/// What `statement`, written at `written` in the script, creates: its kind, name and table.
fn define(statement: &Statement, lines: &Lines, written: Range<Location>) -> Option<Definition> {
    // The object's name, its table, and the name `renamed` replaces (a column's is its table's).
    let (kind, name, table, renamed) = match statement {
        Statement::CreateType { name, .. } => (Kind::Type, unqualified(name)?, name, name),
        Statement::CreateTable(create) => (
            Kind::Table,
            unqualified(&create.name)?,
            &create.name,
            &create.name,
        ),
        Statement::CreateIndex(create) => {
            let name = create.name.as_ref()?;
            (Kind::Index, unqualified(name)?, &create.table_name, name)
        }
        Statement::AlterTable(alter) => match alter.operations.as_slice() {
            [AlterTableOperation::AddColumn { column_def, .. }] => (
                Kind::Column,
                column_def.name.value.clone(),
                &alter.name,
                &alter.name,
            ),
            _ => return None,
        },
        _ => return None,
    };
    let written = lines.offset(written.start)?..lines.offset(written.end)?;
    let name_span = renamed.span();
    let name_at = lines.offset(name_span.start)? - written.start
        ..lines.offset(name_span.end)? - written.start;
    Some(Definition {
        kind,
        name,
        table: unqualified(table)?,
        sql: lines.script[written].to_owned(),
        name_at,
    })
}

/// The last part of a name (`t` of `main.t`), unquoted.
fn unqualified(name: &ObjectName) -> Option<String> {
    Some(name.0.last()?.as_ident()?.value.clone())
}

/// A script by lines, to turn the parser's line and column (counted in characters, from 1) into
/// a byte offset.
struct Lines<'a> {
    script: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(script: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(script.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Lines { script, starts }
    }

    /// `None` for the empty location the parser gives what it does not place.
    fn offset(&self, at: Location) -> Option<usize> {
        let start = *self
            .starts
            .get(usize::try_from(at.line).ok()?.checked_sub(1)?)?;
        let column = usize::try_from(at.column).ok()?.checked_sub(1)?;
        Some(
            self.script[start..]
                .char_indices()
                .nth(column)
                .map_or(self.script.len(), |(at, _)| start + at),
        )
    }
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
pub fn known_versions(backend: Backend) -> Result<Vec<String>> {
    Ok(versions(backend, EMBEDDED)?
        .into_iter()
        .map(|(_, v)| v)
        .collect())
}

/// The versions that are facedb's: this binary's, and those a newer facedb recorded applying.
pub fn facedb_versions(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    let mut versions = known_versions(db.backend())?;
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
            let folder = match backend {
                Backend::Postgres => "migrations/postgres",
                Backend::Sqlite => "migrations/sqlite",
            };
            assert_eq!(
                names, files,
                "{folder}: every migration folder needs an up.sql; rebuild after adding one"
            );
            assert_eq!(names, all_names(backend));
            for migration in &migrations {
                assert!(
                    !migration.up_sql.trim().is_empty(),
                    "{folder}/{}/up.sql is empty: write the SQL that makes the change",
                    migration.name
                );
                assert!(
                    down_sql(backend, &migration.name).is_some_and(|sql| !sql.trim().is_empty()),
                    "{folder}/{}/down.sql is missing or empty: write the SQL that undoes up.sql \
                     (facedb rollback runs it)",
                    migration.name
                );
            }
        }
        // A schema change is one migration pair: the same names on both backends.
        assert_eq!(
            all_names(Backend::Postgres),
            all_names(Backend::Sqlite),
            "migrations/postgres and migrations/sqlite must hold the same migration names: add \
             the missing folder to the other backend"
        );
    }

    #[test]
    fn reads_statements_around_quotes_and_comments() {
        let script = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n\
                      /* b; */ CREATE UNIQUE INDEX IF NOT EXISTS \"i\" ON a (x);\n\
                      DO $body$ BEGIN PERFORM 1; END $body$;\nSELECT 'it''s; here';\n\
                      CREATE TYPE mood AS ENUM ('ok', 'it''s; bad')";
        let defined = definitions_in(Backend::Postgres, script).unwrap();
        let found: Vec<(Kind, &str, &str, &str)> = defined
            .iter()
            .map(|d| (d.kind, d.name.as_str(), d.table.as_str(), d.sql.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (Kind::Table, "a", "a", "CREATE TABLE a (x TEXT DEFAULT ';')"),
                (
                    Kind::Index,
                    "i",
                    "a",
                    "CREATE UNIQUE INDEX IF NOT EXISTS \"i\" ON a (x)"
                ),
                (
                    Kind::Type,
                    "mood",
                    "mood",
                    "CREATE TYPE mood AS ENUM ('ok', 'it''s; bad')"
                ),
            ]
        );
        assert_eq!(defined[1].name_at, 34..37);
        assert_eq!(
            defined[1].renamed("j k"),
            "CREATE UNIQUE INDEX IF NOT EXISTS \"j k\" ON a (x)"
        );
    }

    /// Adoption runs each statement as the migration writes it: SQLite keeps that text, and its
    /// column defaults in it, as the contract has them.
    #[test]
    fn definitions_keep_the_migrations_words() {
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let scripts: Vec<&str> = up_sql(backend).unwrap().iter().map(|m| m.up_sql).collect();
            for definition in definitions(backend).unwrap() {
                assert!(
                    scripts
                        .iter()
                        .any(|s| s.contains(&format!("{};", definition.sql))),
                    "{backend:?}: {definition:?}"
                );
            }
        }
        let table = definitions(Backend::Sqlite)
            .unwrap()
            .into_iter()
            .find(|d| d.kind == Kind::Table && d.name == "users")
            .unwrap();
        assert!(table
            .renamed("new users")
            .starts_with("CREATE TABLE \"new users\" (\n    user_id "));
        assert!(table.sql.contains("substr(lower(hex(randomblob(2))), 2)"));
    }

    /// A later migration's new column is part of its table: adoption adds it after the table's
    /// `CREATE TABLE`, also to a table it rebuilds under another name.
    #[test]
    fn an_added_column_is_read_with_its_table() {
        let script = "ALTER TABLE cameras ADD COLUMN firmware_version TEXT;\n\
                      ALTER TABLE cameras ADD note TEXT NOT NULL DEFAULT '';\n\
                      ALTER TABLE cameras DROP COLUMN note;\n\
                      UPDATE cameras SET firmware_version = 'x'";
        for backend in [Backend::Postgres, Backend::Sqlite] {
            let defined = definitions_in(backend, script).unwrap();
            let found: Vec<(Kind, &str, &str)> = defined
                .iter()
                .map(|d| (d.kind, d.name.as_str(), d.table.as_str()))
                .collect();
            assert_eq!(
                found,
                [
                    (Kind::Column, "firmware_version", "cameras"),
                    (Kind::Column, "note", "cameras")
                ],
                "{backend:?}"
            );
            assert_eq!(
                defined[0].renamed("__facedb_rebuild_cameras"),
                "ALTER TABLE \"__facedb_rebuild_cameras\" ADD COLUMN firmware_version TEXT"
            );
        }
    }

    #[test]
    fn a_statement_the_parser_cannot_read_whole_is_left_out() {
        let script =
            "CREATE TABLE a (x TEXT) WITH NONSENSE;\nCREATE INDEX i ON a (x) garbage here;\n\
                      CREATE TABLE b (y TEXT)";
        let names: Vec<String> = definitions_in(Backend::Sqlite, script)
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["b"]);
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

    /// SQLite's dependents (`db::sqlite::foreign_dependents`) take every view and trigger that
    /// is not on one of facedb's tables for someone else's: the migrations make none.
    #[test]
    fn the_sqlite_migrations_create_no_view_or_trigger() {
        for migration in up_sql(Backend::Sqlite).unwrap() {
            let words: Vec<String> = migration
                .up_sql
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(str::to_ascii_uppercase)
                .collect();
            assert!(
                !words.iter().any(|w| w == "VIEW" || w == "TRIGGER"),
                "{}",
                migration.name
            );
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
