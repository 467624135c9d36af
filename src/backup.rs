//! Backups: what a reset (or a restore) replaced, kept so that `facedb restore` can bring it back.
//!
//! PostgreSQL: facedb's tables, enum types, statistics objects and bookkeeping move into a schema
//! of their own (`facedb_backup_<UTC stamp>`) with `ALTER … SET SCHEMA`, a catalog change that
//! costs the same for ten rows or a million; indexes, constraints, triggers, policies, grants and
//! owned sequences go with the tables. Publications keep naming a moved table, so it leaves them
//! and the backup records how to add it again. Nobody but the role running facedb gets `USAGE` on
//! the schema. SQLite: a consistent copy of the file (`VACUUM INTO`) next to it
//! (`facedb.db.backup-<UTC stamp>`), written under a temporary name and renamed into place.
//!
//! Ownership: a backup is facedb's only when the live schema's `__facedb_metadata` records it
//! (key `backup <id>`) and the backup itself holds a `__facedb_backup` table whose token matches
//! the record. Nothing else is ever listed, restored or dropped.
//!
//! Everything runs inside the caller's exclusive transaction. On SQLite the file cannot be part
//! of it, so the order is: the copy is written to `<name>.partial` inside the transaction, the
//! transaction commits (recording the backup), then the copy is renamed into place; a backup to
//! drop is renamed to `<name>.dropping` before the commit and deleted after it. A process killed
//! in between leaves one of those names; the next command that holds the write lock settles it by
//! the records: a recorded `.partial` is renamed into place, an unrecorded one deleted; a recorded
//! `.dropping` is renamed back, an unrecorded one deleted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde::{Deserialize, Serialize};

use crate::bookkeeping;
use crate::catalog::Backend;
use crate::config::{quote_identifier, SchemaName, Settings, Target};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::inventory::{self, Claim, BOOKKEEPING_TABLES, TABLES};
use crate::migrations::{self, MIGRATIONS_TABLE};

/// The key prefix of a backup's record in `__facedb_metadata`.
const RECORD_PREFIX: &str = "backup ";

/// The table inside every backup that proves it facedb's: its token, id and live schema.
pub const MARKER_TABLE: &str = "__facedb_backup";

/// PostgreSQL: a backup schema's name is this and the backup's id.
const SCHEMA_PREFIX: &str = "facedb_backup_";

/// SQLite: a backup file's name is the database file's, this, and the backup's id.
const FILE_INFIX: &str = ".backup-";

/// SQLite: a copy written inside a reset that has not committed yet.
const PARTIAL: &str = ".partial";

/// SQLite: a backup being dropped by a command that has not committed yet.
const DROPPING: &str = ".dropping";

/// SQLite: the schema name under which `restore` attaches the backup it reads.
const ATTACHED: &str = "facedb_backup";

/// One backup, as its record in the live schema's metadata says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// The UTC stamp it was made at, e.g. `20261207T101500Z` (`-2`, `-3`… when taken).
    pub id: String,
    /// RFC 3339, UTC, milliseconds.
    pub created_at: String,
    /// The command that made it: `reset`, `fresh` or `restore`.
    pub made_by: String,
    /// The environment the replaced database had recorded.
    pub environment: Option<String>,
    /// The backup schema (PostgreSQL) or the file's name next to the database (SQLite).
    pub location: String,
    /// Also in the backup's marker table: a schema or file with the name but not the token is
    /// not this backup.
    token: String,
}

/// A backup as `facedb backups` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    pub id: String,
    pub created_at: String,
    pub made_by: String,
    pub environment: Option<String>,
    pub location: String,
    /// Rows per facedb table in the backup (the planner's estimate above 100,000 rows).
    pub rows: BTreeMap<String, i64>,
    /// What the backup takes on disk: its tables, indexes and TOAST (PostgreSQL), or the file.
    pub size_bytes: i64,
}

/// Where backups of the target live.
enum Place<'a> {
    Postgres(&'a SchemaName),
    Sqlite(&'a Path),
}

fn place(settings: &Settings) -> Place<'_> {
    match &settings.target {
        Target::Postgres(_) => Place::Postgres(&settings.schema),
        Target::Sqlite(sqlite) => Place::Sqlite(&sqlite.path),
    }
}

/// The backups recorded in `schema`'s metadata, oldest first.
pub fn recorded(db: &mut Db, schema: &SchemaName) -> Result<Vec<Backup>> {
    let mut backups = Vec::new();
    for (key, value) in bookkeeping::recorded_with_prefix(db, schema, RECORD_PREFIX)? {
        let backup: Backup = serde_json::from_str(&value).map_err(|e| {
            Error::Schema(format!(
                "the record '{key}' in {} is not one facedb wrote ({e}); facedb does not touch the backup it names",
                schema.qualify(bookkeeping::TABLE)
            ))
        })?;
        backups.push(backup);
    }
    backups.sort_by(|a, b| (&a.created_at, &a.id).cmp(&(&b.created_at, &b.id)));
    Ok(backups)
}

/// Replaces the recorded backups by `backups` (in the caller's transaction, with the search
/// path on the live schema).
fn write_records(db: &mut Db, backups: &[Backup]) -> Result<()> {
    let entries: Vec<(String, String)> = backups
        .iter()
        .map(|b| {
            let value = serde_json::to_string(b).expect("a backup record serializes");
            (format!("{RECORD_PREFIX}{}", b.id), value)
        })
        .collect();
    bookkeeping::replace_prefixed(db, RECORD_PREFIX, &entries)
}

/// The backup `id` names (the newest when `None`), refused (exit 5) when facedb did not record it.
pub fn find(backups: &[Backup], id: Option<&str>, target: &str) -> Result<Backup> {
    let found = match id {
        None => backups.last(),
        // The schema's or file's name works too.
        Some(id) => backups.iter().find(|b| b.id == id || b.location == id),
    };
    found.cloned().ok_or_else(|| match id {
        None => Error::Schema(format!(
            "{target} has no backup facedb recorded; nothing to restore"
        )),
        Some(id) => Error::Schema(format!(
            "{target} has no backup '{id}' that facedb recorded; facedb restores and drops only the backups it made (`facedb backups` lists them)"
        )),
    })
}

/// Refuses (exit 5) a backup whose schema or file is gone or does not carry the marker its
/// record names: whatever is there now, facedb cannot prove it made it.
pub fn verify(db: &mut Db, settings: &Settings, backup: &Backup) -> Result<()> {
    // A record names only the schema or file facedb derives from its id: never the live schema,
    // never a path elsewhere.
    let well_formed = !backup.id.is_empty()
        && backup
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && backup.location == location(settings, &backup.id);
    if !well_formed {
        return Err(Error::Schema(format!(
            "the record of backup '{}' of {} names '{}', which is not a backup's name; facedb does not touch it",
            backup.id,
            settings.target.display(),
            backup.location
        )));
    }
    let token = match place(settings) {
        Place::Postgres(live) => {
            let schema = backup_schema(&backup.location)?;
            if !db.schema_exists(&schema)? || !db.table_exists(&schema, MARKER_TABLE)? {
                None
            } else {
                marker_token(db, &schema.qualify(MARKER_TABLE), live.name())?
            }
        }
        Place::Sqlite(path) => {
            let file = existing_file(path, backup);
            match file {
                Some(file) => {
                    let mut conn = open_file(&file)?;
                    let has_marker: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
                        "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{MARKER_TABLE}')"
                    )))
                    .get_result(&mut conn)?;
                    if has_marker == 0 {
                        None
                    } else {
                        let mut db = Db::Sqlite(conn);
                        marker_token(&mut db, &quote_identifier(MARKER_TABLE), "main")?
                    }
                }
                None => None,
            }
        }
    };
    if token.as_deref() == Some(backup.token.as_str()) {
        Ok(())
    } else {
        Err(Error::Schema(format!(
            "backup {} of {}: {} is missing or does not hold the backup facedb recorded; facedb does not touch it",
            backup.id,
            settings.target.display(),
            backup.location
        )))
    }
}

#[derive(QueryableByName)]
struct Entry {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Text)]
    value: String,
}

/// The token in a marker table, when it names `live` as the schema it was made from.
fn marker_token(db: &mut Db, table: &str, live: &str) -> Result<Option<String>> {
    let entries: Vec<Entry> =
        diesel::sql_query(format!("SELECT key, value FROM {table}")).load(db)?;
    let value = |key: &str| entries.iter().find(|e| e.key == key).map(|e| &e.value);
    if value("schema").map(String::as_str) != Some(live) {
        return Ok(None);
    }
    Ok(value("token").cloned())
}

/// The schema or file name of the backup `id`.
fn location(settings: &Settings, id: &str) -> String {
    match place(settings) {
        Place::Postgres(_) => format!("{SCHEMA_PREFIX}{id}"),
        Place::Sqlite(path) => format!("{}{FILE_INFIX}{id}", file_name(path)),
    }
}

fn backup_schema(name: &str) -> Result<SchemaName> {
    SchemaName::configured(Some(name.to_owned()), Backend::Postgres)
}

/// SQLite: the backup's file, under its own name or, while a command that wrote or drops it
/// has not settled yet, under the temporary one.
fn existing_file(db_path: &Path, backup: &Backup) -> Option<PathBuf> {
    let file = sibling(db_path, &backup.location);
    [
        file.clone(),
        with_suffix(&file, PARTIAL),
        with_suffix(&file, DROPPING),
    ]
    .into_iter()
    .find(|f| f.is_file())
}

fn sibling(db_path: &Path, name: &str) -> PathBuf {
    db_path.with_file_name(name)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn open_file(path: &Path) -> Result<SqliteConnection> {
    let text = path.to_str().ok_or_else(|| {
        Error::Usage(format!("SQLite path {} is not valid UTF-8", path.display()))
    })?;
    SqliteConnection::establish(text)
        .map_err(|e| Error::Connection(format!("cannot open backup {} ({e})", path.display())))
}

fn io_error(context: String) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { context, source }
}

/// Each recorded backup with its rows and size, oldest first. Refuses (exit 5) when one of them
/// is not what its record says.
pub fn list(db: &mut Db, settings: &Settings) -> Result<Vec<Listed>> {
    let backups = recorded(db, &settings.schema)?;
    backups.iter().map(|b| describe(db, settings, b)).collect()
}

/// A backup with its rows and size, verified first.
pub fn describe(db: &mut Db, settings: &Settings, backup: &Backup) -> Result<Listed> {
    verify(db, settings, backup)?;
    let (counts, size_bytes) = match place(settings) {
        Place::Postgres(_) => {
            let backup_schema = backup_schema(&backup.location)?;
            let counts = inventory::count_rows(db, &backup_schema)?;
            (counts, schema_size(db, &backup_schema)?)
        }
        Place::Sqlite(path) => {
            let file = existing_file(path, backup).expect("verified above");
            let size = std::fs::metadata(&file)
                .map_err(io_error(format!("cannot read {}", file.display())))?
                .len() as i64;
            let mut backup_db = Db::Sqlite(open_file(&file)?);
            let main = SchemaName::configured(None, Backend::Sqlite)?;
            (inventory::count_rows(&mut backup_db, &main)?, size)
        }
    };
    Ok(Listed {
        rows: counts.into_iter().map(|c| (c.table, c.rows)).collect(),
        size_bytes,
        id: backup.id.clone(),
        created_at: backup.created_at.clone(),
        made_by: backup.made_by.clone(),
        environment: backup.environment.clone(),
        location: backup.location.clone(),
    })
}

/// How many backups there are and what they take on disk, for `status`; without verifying
/// them (`status` only reports).
pub fn summary(db: &mut Db, settings: &Settings) -> Result<(usize, i64)> {
    let backups = recorded(db, &settings.schema)?;
    let mut size = 0;
    for backup in &backups {
        size += match place(settings) {
            Place::Postgres(_) => {
                let schema = backup_schema(&backup.location)?;
                if db.schema_exists(&schema)? {
                    schema_size(db, &schema)?
                } else {
                    0
                }
            }
            Place::Sqlite(path) => existing_file(path, backup)
                .and_then(|f| std::fs::metadata(f).ok())
                .map_or(0, |m| m.len() as i64),
        };
    }
    Ok((backups.len(), size))
}

#[derive(QueryableByName)]
struct Size {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

fn schema_size(db: &mut Db, schema: &SchemaName) -> Result<i64> {
    let size: Size = diesel::sql_query(format!(
        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes FROM pg_class c \
         WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p', 'm', 'S')",
        schema.namespace()
    ))
    .get_result(db)?;
    Ok(size.bytes)
}

/// Which backups a retention of `keep` drops: all but the newest `keep`, oldest first.
pub fn beyond(backups: &[Backup], keep: usize) -> Vec<Backup> {
    let excess = backups.len().saturating_sub(keep);
    backups[..excess].to_vec()
}

/// What one command does to the backups inside its transaction, and what is left to do to files
/// once it committed (SQLite). Read the records first ([`Ledger::open`]), change, then
/// [`Ledger::close`] inside the transaction, and [`Ledger::settle`] after it (or
/// [`Ledger::abandon`] when it failed).
#[derive(Debug, Default)]
pub struct Ledger {
    records: Vec<Backup>,
    /// The backup this command made.
    pub made: Option<Backup>,
    /// The backups this command dropped.
    pub dropped: Vec<Backup>,
    /// SQLite: a file to rename into place after the commit (partial → final).
    to_publish: Vec<(PathBuf, PathBuf)>,
    /// SQLite: files renamed to `.dropping`, deleted after the commit, renamed back otherwise.
    to_delete: Vec<(PathBuf, PathBuf)>,
    /// SQLite: temporary copies to delete when the command fails.
    on_failure: Vec<PathBuf>,
}

impl Ledger {
    /// Reads the recorded backups of the live schema. Inside the caller's exclusive transaction,
    /// which also lets it settle what a killed command left behind (SQLite).
    pub fn open(db: &mut Db, settings: &Settings) -> Result<Ledger> {
        let records = recorded(db, &settings.schema)?;
        if let Place::Sqlite(path) = place(settings) {
            settle_leftovers(path, &records)?;
        }
        Ok(Ledger {
            records,
            ..Ledger::default()
        })
    }

    pub fn records(&self) -> &[Backup] {
        &self.records
    }

    /// Moves (PostgreSQL) or copies and then drops (SQLite) everything facedb owns in the live
    /// schema into a new backup, recorded by [`Ledger::close`]. Refuses (exit 5), like the drop
    /// it replaces, when the `claim` found an object facedb does not own that depends on facedb's
    /// tables. Nothing to keep (no facedb table): no backup.
    pub fn keep(
        &mut self,
        db: &mut Db,
        settings: &Settings,
        claim: &Claim,
        made_by: &str,
        environment: Option<&str>,
    ) -> Result<()> {
        let schema = &settings.schema;
        let target = settings.target.display();
        if claim.tables().is_empty() {
            return Ok(());
        }
        let dependents = &claim.foreign_dependents;
        if !dependents.is_empty() {
            return Err(Error::Schema(format!(
                "cannot replace facedb's tables in {target}: {}. facedb moves only what it owns into a backup; drop or change what it names first, then run it again",
                inventory::describe_all(dependents)
            )));
        }
        let backup = self.new_backup(db, settings, made_by, environment)?;
        match place(settings) {
            Place::Postgres(live) => {
                let versions = migrations::facedb_versions(db, live)?;
                let shared = !migrations::other_applications_versions(db, live)?.is_empty();
                move_out(db, live, &backup, &versions, shared)?;
            }
            Place::Sqlite(path) => {
                let file = sibling(path, &backup.location);
                let partial = with_suffix(&file, PARTIAL);
                self.on_failure.push(partial.clone());
                snapshot(path, &partial, &backup)?;
                inventory::drop_owned(db, schema, &target)?;
                self.to_publish.push((partial, file));
            }
        }
        self.made = Some(backup);
        Ok(())
    }

    fn new_backup(
        &self,
        db: &mut Db,
        settings: &Settings,
        made_by: &str,
        environment: Option<&str>,
    ) -> Result<Backup> {
        let now = chrono::Utc::now();
        let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
        let mut n = 1;
        loop {
            let id = if n == 1 {
                stamp.clone()
            } else {
                format!("{stamp}-{n}")
            };
            let location = location(settings, &id);
            let taken = self.records.iter().any(|b| b.id == id)
                || match place(settings) {
                    Place::Postgres(_) => db.schema_exists(&backup_schema(&location)?)?,
                    Place::Sqlite(path) => {
                        let file = sibling(path, &location);
                        file.exists()
                            || with_suffix(&file, PARTIAL).exists()
                            || with_suffix(&file, DROPPING).exists()
                    }
                };
            if !taken {
                return Ok(Backup {
                    id,
                    created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    made_by: made_by.to_owned(),
                    environment: environment.map(str::to_owned),
                    location,
                    token: uuid::Uuid::new_v4().to_string(),
                });
            }
            n += 1;
        }
    }

    /// Puts `backup` back into the live schema, which [`Ledger::keep`] emptied first. Verified
    /// first: facedb restores only what it can prove it made.
    pub fn restore(&mut self, db: &mut Db, settings: &Settings, backup: &Backup) -> Result<()> {
        verify(db, settings, backup)?;
        match place(settings) {
            Place::Postgres(live) => move_back(db, live, backup)?,
            Place::Sqlite(path) => {
                copy_back(db)?;
                self.set_aside(path, backup)?;
            }
        }
        self.records.retain(|b| b.id != backup.id);
        Ok(())
    }

    /// Drops `backup` (verified first). PostgreSQL: its tables, types and schema, and nothing
    /// else: a schema holding anything facedb did not put there is refused (exit 5).
    pub fn drop(&mut self, db: &mut Db, settings: &Settings, backup: &Backup) -> Result<()> {
        verify(db, settings, backup)?;
        match place(settings) {
            Place::Postgres(_) => drop_schema(db, backup)?,
            Place::Sqlite(path) => {
                self.set_aside(path, backup)?;
            }
        }
        self.records.retain(|b| b.id != backup.id);
        self.dropped.push(backup.clone());
        Ok(())
    }

    /// SQLite: renames `backup`'s file to `….dropping`, deleted once the command commits and
    /// renamed back when it fails.
    fn set_aside(&mut self, path: &Path, backup: &Backup) -> Result<()> {
        let file = existing_file(path, backup).expect("verified above");
        let dropping = with_suffix(&sibling(path, &backup.location), DROPPING);
        if file != dropping {
            std::fs::rename(&file, &dropping)
                .map_err(io_error(format!("cannot rename {}", file.display())))?;
        }
        self.to_delete.push((dropping, file));
        Ok(())
    }

    /// Drops all but the newest `keep` backups (the one this command made included).
    pub fn retain(&mut self, db: &mut Db, settings: &Settings, keep: usize) -> Result<()> {
        for backup in beyond(&self.all(), keep) {
            if self.made.as_ref() == Some(&backup) {
                // Keeping none: the backup just made goes too.
                self.made = None;
                self.drop_made(db, settings, &backup)?;
            } else {
                self.drop(db, settings, &backup)?;
            }
        }
        Ok(())
    }

    fn drop_made(&mut self, db: &mut Db, settings: &Settings, backup: &Backup) -> Result<()> {
        match place(settings) {
            Place::Postgres(_) => drop_schema(db, backup),
            Place::Sqlite(_) => {
                let (partial, _) = self.to_publish.pop().expect("the copy just made");
                std::fs::remove_file(&partial)
                    .map_err(io_error(format!("cannot remove {}", partial.display())))?;
                Ok(())
            }
        }
    }

    /// The recorded backups and the one this command made, oldest first.
    pub fn all(&self) -> Vec<Backup> {
        self.records.iter().chain(&self.made).cloned().collect()
    }

    /// Records the backups as they now are, in the live schema's (possibly new) metadata. A
    /// restored backup of a database facedb had not set up (the old tool's, adopted later) has no
    /// metadata to record them in: refused (exit 5), rather than forgetting the other backups.
    pub fn close(&self, db: &mut Db, settings: &Settings) -> Result<()> {
        let backups = self.all();
        if !db.table_exists(&settings.schema, bookkeeping::TABLE)? {
            if backups.is_empty() {
                return Ok(());
            }
            return Err(Error::Schema(format!(
                "cannot record the backups of {}: what it now holds has no {}; nothing was changed",
                settings.target.display(),
                bookkeeping::TABLE
            )));
        }
        write_records(db, &backups)
    }

    /// After the commit: SQLite's copy goes into place and dropped files go. Another facedb that
    /// settled them first (see the module's notes) leaves nothing to do.
    pub fn settle(&self) -> Result<()> {
        for (from, to) in &self.to_publish {
            match std::fs::rename(from, to) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(format!("cannot rename {}", from.display()))(e))
                }
                _ => {}
            }
        }
        for (dropping, _) in &self.to_delete {
            match std::fs::remove_file(dropping) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error(format!("cannot remove {}", dropping.display()))(e))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// After a rollback: SQLite's copy goes, dropped files come back.
    pub fn abandon(&self) {
        for partial in &self.on_failure {
            let _ = std::fs::remove_file(partial);
        }
        for (dropping, file) in &self.to_delete {
            let _ = std::fs::rename(dropping, file);
        }
    }
}

/// SQLite: settles the files a killed command left, by the records (see the module's notes).
/// Only with the file's write lock held, so no other command is between its copy and its commit.
fn settle_leftovers(db_path: &Path, records: &[Backup]) -> Result<()> {
    let Some(dir) = db_path.parent() else {
        return Ok(());
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}{FILE_INFIX}", file_name(db_path));
    let entries =
        std::fs::read_dir(dir).map_err(io_error(format!("cannot list {}", dir.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        // SQLite's journal of a copy whose marker was being written: the copy never finished.
        if ["-journal", "-wal", "-shm"].iter().any(|sidecar| {
            rest.strip_suffix(sidecar)
                .is_some_and(|r| r.ends_with(PARTIAL))
        }) {
            let path = entry.path();
            std::fs::remove_file(&path)
                .map_err(io_error(format!("cannot remove {}", path.display())))?;
            continue;
        }
        let (id, suffix) = if let Some(id) = rest.strip_suffix(PARTIAL) {
            (id, PARTIAL)
        } else if let Some(id) = rest.strip_suffix(DROPPING) {
            (id, DROPPING)
        } else {
            continue;
        };
        let path = entry.path();
        let file = sibling(db_path, &format!("{prefix}{id}"));
        let recorded = records.iter().any(|b| b.id == id);
        let settled = match (recorded, suffix) {
            // A reset that committed and died before the rename; a drop that never committed.
            (true, _) => std::fs::rename(&path, &file),
            // A reset that never committed; a drop that committed and died before the delete.
            (false, _) => std::fs::remove_file(&path),
        };
        settled.map_err(io_error(format!("cannot settle {}", path.display())))?;
    }
    Ok(())
}

/// SQLite: a consistent copy of the database file at `partial`, with facedb's marker. Read by a
/// second connection: the caller's transaction holds the write lock and has written nothing yet,
/// so the copy is the state the command replaces.
fn snapshot(db_path: &Path, partial: &Path, backup: &Backup) -> Result<()> {
    let _ = std::fs::remove_file(partial);
    let mut reader = open_file(db_path)?;
    reader.batch_execute("PRAGMA busy_timeout = 10000")?;
    let target = partial.to_str().expect("a UTF-8 path: the database's is");
    reader.batch_execute(&format!("VACUUM INTO '{}'", target.replace('\'', "''")))?;
    drop(reader);
    let mut copy = Db::Sqlite(open_file(partial)?);
    write_marker(&mut copy, &quote_identifier(MARKER_TABLE), "main", backup)?;
    drop(copy);
    std::fs::File::open(partial)
        .and_then(|f| f.sync_all())
        .map_err(io_error(format!("cannot write {}", partial.display())))?;
    Ok(())
}

fn write_marker(db: &mut Db, table: &str, live: &str, backup: &Backup) -> Result<()> {
    diesel::sql_query(format!(
        "CREATE TABLE {table} (key VARCHAR(255) PRIMARY KEY, value TEXT NOT NULL)"
    ))
    .execute(db)?;
    // One statement for the five rows.
    diesel::sql_query(format!(
        "INSERT INTO {table} (key, value) VALUES ('token', $1), ('schema', $2), ('id', $3), \
         ('made_by', $4), ('created_at', $5)"
    ))
    .bind::<Text, _>(&backup.token)
    .bind::<Text, _>(live)
    .bind::<Text, _>(&backup.id)
    .bind::<Text, _>(&backup.made_by)
    .bind::<Text, _>(&backup.created_at)
    .execute(db)?;
    Ok(())
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = Text)]
    name: String,
}

/// PostgreSQL: the statements that add facedb's tables in `live` to the publications naming
/// them again (column lists and row filters from PostgreSQL 15 on).
fn publication_memberships(db: &mut Db, live: &SchemaName) -> Result<Vec<(String, String)>> {
    #[derive(QueryableByName)]
    struct Membership {
        #[diesel(sql_type = Text)]
        publication: String,
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        details: String,
    }
    let Db::Postgres(conn) = db else {
        return Ok(Vec::new());
    };
    let details = if crate::db::postgres::server_version_num(conn)? >= 150000 {
        "coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) \
           FROM pg_attribute a WHERE a.attrelid = pr.prrelid AND a.attnum = ANY(pr.prattrs::int2[])) || ')', '') \
         || coalesce(' WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')', '')"
    } else {
        "''"
    };
    let rows: Vec<Membership> = diesel::sql_query(format!(
        "SELECT p.pubname::text AS publication, c.relname::text AS table_name, {details} AS details \
         FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid \
         JOIN pg_class c ON c.oid = pr.prrelid \
         WHERE c.relnamespace = {} AND c.relname = ANY($1) ORDER BY 1, 2",
        live.namespace()
    ))
    .bind::<Array<Text>, _>(&TABLES[..])
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let publication = quote_identifier(&m.publication);
            let table = live.qualify(&m.table_name);
            (
                format!(
                    "ALTER PUBLICATION {publication} ADD TABLE ONLY {table}{}",
                    m.details
                ),
                format!("ALTER PUBLICATION {publication} DROP TABLE ONLY {table}"),
            )
        })
        .collect())
}

/// PostgreSQL: the statistics objects in `schema` on tables in `tables_in`.
fn statistics_objects(
    db: &mut Db,
    schema: &SchemaName,
    tables_in: &SchemaName,
) -> Result<Vec<String>> {
    let rows: Vec<Named> = diesel::sql_query(format!(
        "SELECT s.stxname::text AS name FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid \
         WHERE s.stxnamespace = {} AND c.relnamespace = {} ORDER BY 1",
        schema.namespace(),
        tables_in.namespace()
    ))
    .load(db)?;
    Ok(rows.into_iter().map(|r| r.name).collect())
}

fn run(db: &mut Db, sql: &str) -> Result<()> {
    diesel::sql_query(sql).execute(db)?;
    Ok(())
}

/// PostgreSQL: moves facedb's objects from `live` into the backup's new schema. `versions` are
/// facedb's migrations; with `shared`, `__diesel_schema_migrations` holds other applications'
/// rows too, and only facedb's are moved (copied into the backup, deleted from the live table).
fn move_out(
    db: &mut Db,
    live: &SchemaName,
    backup: &Backup,
    versions: &[String],
    shared: bool,
) -> Result<()> {
    let to = backup_schema(&backup.location)?;
    run(db, &format!("CREATE SCHEMA {}", to.quoted()))?;
    // Only the role running facedb reaches the backup: default privileges may have granted more.
    let grantees: Vec<Named> = diesel::sql_query(format!(
        "SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END AS name \
         FROM pg_namespace n, aclexplode(n.nspacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee \
         WHERE n.oid = {} AND a.grantee <> n.nspowner",
        to.namespace()
    ))
    .load(db)?;
    if !grantees.is_empty() {
        let names: Vec<String> = grantees.into_iter().map(|g| g.name).collect();
        run(
            db,
            &format!(
                "REVOKE ALL ON SCHEMA {} FROM {}",
                to.quoted(),
                names.join(", ")
            ),
        )?;
    }
    write_marker(db, &to.qualify(MARKER_TABLE), live.name(), backup)?;
    // A publication keeps naming a moved table: it leaves, and the backup says how to re-add it.
    for (n, (add, drop)) in publication_memberships(db, live)?.into_iter().enumerate() {
        diesel::sql_query(format!(
            "INSERT INTO {} (key, value) VALUES ($1, $2)",
            to.qualify(MARKER_TABLE)
        ))
        .bind::<Text, _>(format!("publication {n:04}"))
        .bind::<Text, _>(add)
        .execute(db)?;
        run(db, &drop)?;
    }
    // Statistics objects stay in their schema when their table moves: they follow by hand.
    for name in statistics_objects(db, live, live)? {
        run(
            db,
            &format!(
                "ALTER STATISTICS {} SET SCHEMA {}",
                live.qualify(&name),
                to.quoted()
            ),
        )?;
    }
    let mut tables: Vec<&str> = TABLES.to_vec();
    tables.push(bookkeeping::TABLE);
    // The moves go in one round trip: each is a catalog change of its own, and they are many.
    let moves: Vec<String> = db
        .existing_tables(live, &tables)?
        .iter()
        .map(|table| {
            format!(
                "ALTER TABLE {} SET SCHEMA {}",
                live.qualify(table),
                to.quoted()
            )
        })
        .collect();
    if !moves.is_empty() {
        db.batch_execute(&moves.join(";\n"))?;
    }
    if db.table_exists(live, MIGRATIONS_TABLE)? {
        if shared {
            let listed = versions
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect::<Vec<_>>()
                .join(", ");
            let (from, into) = (live.qualify(MIGRATIONS_TABLE), to.qualify(MIGRATIONS_TABLE));
            run(
                db,
                &format!("CREATE TABLE {into} (LIKE {from} INCLUDING ALL)"),
            )?;
            run(
                db,
                &format!("INSERT INTO {into} SELECT * FROM {from} WHERE CAST(version AS TEXT) IN ({listed})"),
            )?;
            run(
                db,
                &format!("DELETE FROM {from} WHERE CAST(version AS TEXT) IN ({listed})"),
            )?;
        } else {
            run(
                db,
                &format!(
                    "ALTER TABLE {} SET SCHEMA {}",
                    live.qualify(MIGRATIONS_TABLE),
                    to.quoted()
                ),
            )?;
        }
    }
    for name in inventory::existing_types(db, live)? {
        run(
            db,
            &format!(
                "ALTER TYPE {} SET SCHEMA {}",
                live.qualify(&name),
                to.quoted()
            ),
        )?;
    }
    Ok(())
}

/// PostgreSQL: moves a backup's objects back into `live` (emptied of facedb's first), adds its
/// tables to the publications that named them, and drops the emptied backup schema.
fn move_back(db: &mut Db, live: &SchemaName, backup: &Backup) -> Result<()> {
    let from = backup_schema(&backup.location)?;
    for name in inventory::existing_types(db, &from)? {
        run(
            db,
            &format!(
                "ALTER TYPE {} SET SCHEMA {}",
                from.qualify(&name),
                live.quoted()
            ),
        )?;
    }
    for name in statistics_objects(db, &from, &from)? {
        run(
            db,
            &format!(
                "ALTER STATISTICS {} SET SCHEMA {}",
                from.qualify(&name),
                live.quoted()
            ),
        )?;
    }
    let mut tables: Vec<&str> = TABLES.to_vec();
    tables.push(bookkeeping::TABLE);
    for table in db.existing_tables(&from, &tables)? {
        run(
            db,
            &format!(
                "ALTER TABLE {} SET SCHEMA {}",
                from.qualify(&table),
                live.quoted()
            ),
        )?;
    }
    if db.table_exists(&from, MIGRATIONS_TABLE)? {
        let (from_table, into) = (
            from.qualify(MIGRATIONS_TABLE),
            live.qualify(MIGRATIONS_TABLE),
        );
        if db.table_exists(live, MIGRATIONS_TABLE)? {
            // Shared with other diesel applications: facedb's rows join theirs.
            run(
                db,
                &format!("INSERT INTO {into} SELECT * FROM {from_table} ON CONFLICT DO NOTHING"),
            )?;
            run(db, &format!("DROP TABLE {from_table}"))?;
        } else {
            run(
                db,
                &format!("ALTER TABLE {from_table} SET SCHEMA {}", live.quoted()),
            )?;
        }
    }
    let marker = from.qualify(MARKER_TABLE);
    let statements: Vec<Entry> = diesel::sql_query(format!(
        "SELECT key, value FROM {marker} WHERE key LIKE 'publication %' ORDER BY key"
    ))
    .load(db)?;
    for statement in statements {
        run(db, &statement.value)?;
    }
    run(db, &format!("DROP TABLE {marker}"))?;
    drop_empty_schema(db, &from, backup)
}

fn drop_empty_schema(db: &mut Db, schema: &SchemaName, backup: &Backup) -> Result<()> {
    diesel::sql_query(format!("DROP SCHEMA {} RESTRICT", schema.quoted()))
        .execute(db)
        .map_err(|error| match error {
            diesel::result::Error::DatabaseError(_, info) if info.message().contains("depend") => {
                Error::Schema(format!(
                    "cannot drop backup {}: schema {} holds objects facedb did not put there ({}); facedb drops only what it made, nothing was changed",
                    backup.id,
                    schema.quoted(),
                    info.details().unwrap_or(info.message()).replace('\n', "; ")
                ))
            }
            other => other.into(),
        })?;
    Ok(())
}

/// PostgreSQL: drops a backup's tables, types and marker, then its schema, which must then be
/// empty (RESTRICT: facedb never cascades into what it did not make).
fn drop_schema(db: &mut Db, backup: &Backup) -> Result<()> {
    let schema = backup_schema(&backup.location)?;
    let mut names: Vec<&str> = TABLES.to_vec();
    names.extend(BOOKKEEPING_TABLES);
    names.push(MARKER_TABLE);
    let tables = db.existing_tables(&schema, &names)?;
    let blocked = |error: diesel::result::Error| match error {
        diesel::result::Error::DatabaseError(_, info) if info.message().contains("depend") => {
            Error::Schema(format!(
                "cannot drop backup {}: {}; facedb drops only what it made, nothing was changed",
                backup.id,
                info.details().unwrap_or(info.message()).replace('\n', "; ")
            ))
        }
        other => other.into(),
    };
    if !tables.is_empty() {
        let listed: Vec<String> = tables.iter().map(|t| schema.qualify(t)).collect();
        diesel::sql_query(format!("DROP TABLE {} RESTRICT", listed.join(", ")))
            .execute(db)
            .map_err(blocked)?;
    }
    let types = inventory::existing_types(db, &schema)?;
    if !types.is_empty() {
        let listed: Vec<String> = types.iter().map(|t| schema.qualify(t)).collect();
        diesel::sql_query(format!("DROP TYPE {} RESTRICT", listed.join(", ")))
            .execute(db)
            .map_err(blocked)?;
    }
    drop_empty_schema(db, &schema, backup)
}

/// SQLite: attaches a verified backup's file as [`ATTACHED`] for [`Ledger::restore`]. Outside
/// any transaction (SQLite refuses `ATTACH` inside one); [`detach`] after.
pub fn attach(db: &mut Db, settings: &Settings, backup: &Backup) -> Result<()> {
    let Place::Sqlite(path) = place(settings) else {
        return Ok(());
    };
    let file = existing_file(path, backup).ok_or_else(|| {
        Error::Schema(format!(
            "backup {}: {} is missing; facedb does not touch it",
            backup.id, backup.location
        ))
    })?;
    let file = file.to_str().expect("a UTF-8 path: the database's is");
    run(
        db,
        &format!(
            "ATTACH DATABASE '{}' AS {ATTACHED}",
            file.replace('\'', "''")
        ),
    )
}

pub fn detach(db: &mut Db) {
    if let Db::Sqlite(_) = db {
        let _ = run(db, &format!("DETACH DATABASE {ATTACHED}"));
    }
}

/// SQLite: copies facedb's tables, bookkeeping, indexes, triggers and AUTOINCREMENT counters from
/// the attached backup into the live file, emptied of facedb's tables first. Of a shared
/// `__diesel_schema_migrations` only facedb's rows come back.
fn copy_back(db: &mut Db) -> Result<()> {
    #[derive(QueryableByName)]
    struct Object {
        #[diesel(sql_type = Text)]
        kind: String,
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        sql: String,
    }
    run(db, "PRAGMA defer_foreign_keys = ON")?;
    let owned: Vec<String> = TABLES
        .iter()
        .chain(&BOOKKEEPING_TABLES)
        .map(|t| format!("'{t}'"))
        .collect();
    let objects: Vec<Object> = diesel::sql_query(format!(
        "SELECT type AS kind, tbl_name AS table_name, sql FROM {ATTACHED}.sqlite_master \
         WHERE sql IS NOT NULL AND tbl_name IN ({}) ORDER BY rowid",
        owned.join(", ")
    ))
    .load(db)?;
    let live = SchemaName::configured(None, Backend::Sqlite)?;
    let shared = db.table_exists(&live, MIGRATIONS_TABLE)?;
    // Tables and indexes in the backup's order, so the file's schema reads as it did; triggers
    // once the rows are in, so that none fires for them.
    for object in objects.iter().filter(|o| o.kind != "trigger") {
        if object.table_name == MIGRATIONS_TABLE && shared {
            continue;
        }
        run(db, &object.sql)?;
    }
    // Parents first.
    for table in TABLES.iter().rev().chain([&bookkeeping::TABLE]) {
        if objects
            .iter()
            .any(|o| o.kind == "table" && o.table_name == *table)
        {
            let name = quote_identifier(table);
            run(
                db,
                &format!("INSERT INTO main.{name} SELECT * FROM {ATTACHED}.{name}"),
            )?;
        }
    }
    if objects
        .iter()
        .any(|o| o.kind == "table" && o.table_name == MIGRATIONS_TABLE)
    {
        let name = quote_identifier(MIGRATIONS_TABLE);
        let filter = if shared {
            // The backup's facedb versions: this binary's and those its metadata records.
            let known: Vec<String> = migrations::known_versions(db.backend())?
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect();
            format!(
                " WHERE CAST(version AS TEXT) IN ({}) OR CAST(version AS TEXT) IN \
                 (SELECT value FROM {ATTACHED}.{} WHERE key LIKE 'migration %')",
                known.join(", "),
                quote_identifier(bookkeeping::TABLE)
            )
        } else {
            String::new()
        };
        run(
            db,
            &format!("INSERT OR IGNORE INTO main.{name} SELECT * FROM {ATTACHED}.{name}{filter}"),
        )?;
    }
    for object in objects.iter().filter(|o| o.kind == "trigger") {
        run(db, &object.sql)?;
    }
    let has_sequence: i64 = diesel::select(diesel::dsl::sql::<BigInt>(&format!(
        "(SELECT count(*) FROM {ATTACHED}.sqlite_master WHERE name = 'sqlite_sequence')"
    )))
    .get_result(db)?;
    if has_sequence > 0 {
        let listed = TABLES.map(|t| format!("'{t}'")).join(", ");
        run(
            db,
            &format!("DELETE FROM main.sqlite_sequence WHERE name IN ({listed})"),
        )?;
        run(
            db,
            &format!(
                "INSERT INTO main.sqlite_sequence SELECT * FROM {ATTACHED}.sqlite_sequence WHERE name IN ({listed})"
            ),
        )?;
    }
    Ok(())
}

/// A backup's rows in words, parents first: `tenants 1, sites 2, visits 40`.
pub fn counts_text(rows: &BTreeMap<String, i64>) -> String {
    let parts: Vec<String> = TABLES
        .iter()
        .rev()
        .filter_map(|t| rows.get(*t).filter(|r| **r > 0).map(|r| format!("{t} {r}")))
        .collect();
    if parts.is_empty() {
        "no rows".to_owned()
    } else {
        parts.join(", ")
    }
}

/// Bytes in words: `12.3 MiB`.
pub fn size_text(bytes: i64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backup(id: &str) -> Backup {
        Backup {
            id: id.to_owned(),
            created_at: format!("2026-12-07T10:15:{id}Z"),
            made_by: "reset".to_owned(),
            environment: None,
            location: format!("{SCHEMA_PREFIX}{id}"),
            token: id.to_owned(),
        }
    }

    #[test]
    fn retention_drops_the_oldest_beyond_keep() {
        let all: Vec<Backup> = ["01", "02", "03", "04"].map(backup).to_vec();
        let ids = |b: Vec<Backup>| b.into_iter().map(|b| b.id).collect::<Vec<_>>();
        assert_eq!(ids(beyond(&all, 3)), ["01"]);
        assert_eq!(ids(beyond(&all, 0)), ["01", "02", "03", "04"]);
        assert!(beyond(&all, 9).is_empty());
    }

    #[test]
    fn an_unrecorded_id_is_refused() {
        let all = vec![backup("01"), backup("02")];
        assert_eq!(find(&all, None, "db").unwrap().id, "02");
        assert_eq!(find(&all, Some("facedb_backup_01"), "db").unwrap().id, "01");
        let refused = find(&all, Some("03"), "db").unwrap_err();
        assert_eq!(refused.exit_code(), crate::error::ExitCode::Schema);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(512), "512 B");
        assert_eq!(size_text(3 * 1024 * 1024 / 2), "1.5 MiB");
    }
}
