//! The questions both backends answer about a database: each [`Db`] method here matches on the
//! backend once and runs that backend's query from [`super::postgres`] or [`super::sqlite`], so
//! the layers above ask without knowing which backend they are on. The rows they return are
//! defined in [`super::rows`], in neither backend's words; but for a whole schema's
//! ([`SchemaRows`]), which `crate::catalog` makes a neutral schema of, each backend's own.

use super::rows::{
    Attachment, ColumnType, Dependent, ForeignKeyViolation, KnownNames, NamedObject, Owned,
    ShadowedTable, TableEstimate,
};
use super::{postgres, sqlite, Db};
use crate::config::SchemaName;
use crate::error::Result;

/// What the catalog says of some tables of a schema, in its backend's words: `crate::catalog`
/// makes a neutral schema of it.
pub enum SchemaRows {
    Postgres(postgres::SchemaRows),
    Sqlite(Vec<sqlite::TableRows>),
}

impl Db {
    // ---- server ----

    /// The server's version (`SHOW server_version`), or the SQLite library's.
    pub(crate) fn server_version(&mut self) -> Result<String> {
        Ok(match self {
            Db::Postgres(conn) => postgres::server_version(conn)?,
            Db::Sqlite(conn) => sqlite::library_version(conn)?,
        })
    }

    // ---- schemas ----

    /// Whether `schema` exists. A SQLite file's one schema always does.
    pub(crate) fn schema_exists(&mut self, schema: &SchemaName) -> Result<bool> {
        Ok(match self {
            Db::Postgres(conn) => postgres::schema_exists(conn, schema)?,
            Db::Sqlite(_) => true,
        })
    }

    // ---- tables and rows ----

    /// Whether `table` is a table in `schema` (SQLite: in any case).
    pub(crate) fn table_exists(&mut self, schema: &SchemaName, table: &str) -> Result<bool> {
        Ok(!self.existing_tables(schema, &[table])?.is_empty())
    }

    /// Which of `names` are tables in `schema` (SQLite: in any case), in the order of `names`.
    pub(crate) fn existing_tables(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<String>> {
        let found: Vec<String> = self
            .table_estimates(schema, names)?
            .into_iter()
            .map(|t| t.name)
            .collect();
        Ok(in_order(names, &found))
    }

    /// Which of `names` are types in `schema`, in the order of `names`. SQLite has none.
    pub(crate) fn existing_types(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<String>> {
        let found = match self {
            Db::Postgres(conn) => postgres::existing_types(conn, schema, names)?,
            Db::Sqlite(_) => Vec::new(),
        };
        Ok(in_order(names, &found))
    }

    /// Which of `names` are tables in `schema`, each with the planner's estimate of its rows.
    pub(crate) fn table_estimates(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<TableEstimate>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::table_estimates(conn, schema, names)?,
            Db::Sqlite(conn) => sqlite::table_estimates(conn, schema, names)?,
        })
    }

    /// Every base table of `schema`, by name, sorted. SQLite's own `sqlite_…` tables are left
    /// out.
    pub fn table_names(&mut self, schema: &SchemaName) -> Result<Vec<String>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::table_names(conn, schema)?,
            Db::Sqlite(conn) => sqlite::table_names(conn)?,
        })
    }

    // ---- the schema as the catalog shows it ----

    /// The catalog rows of those of `tables` that exist in `schema` and, on PostgreSQL, of every
    /// enum type of `schema`.
    pub(crate) fn schema_rows(
        &mut self,
        schema: &SchemaName,
        tables: &[&str],
    ) -> Result<SchemaRows> {
        Ok(match self {
            Db::Postgres(conn) => {
                SchemaRows::Postgres(postgres::schema_rows(conn, schema, tables)?)
            }
            Db::Sqlite(conn) => SchemaRows::Sqlite(sqlite::schema_rows(conn, tables)?),
        })
    }

    /// Every object of `schema` that has a name a new table or index could collide with.
    pub(crate) fn named_objects(&mut self, schema: &SchemaName) -> Result<Vec<NamedObject>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::relations(conn, schema)?,
            Db::Sqlite(conn) => sqlite::objects(conn)?,
        })
    }

    /// SQLite: the rows that refer to a row that does not exist, by table and referenced table.
    /// None on PostgreSQL, which never stops checking foreign keys.
    pub(crate) fn foreign_key_violations(&mut self) -> Result<Vec<ForeignKeyViolation>> {
        Ok(match self {
            Db::Postgres(_) => Vec::new(),
            Db::Sqlite(conn) => sqlite::foreign_key_violations(conn)?,
        })
    }

    // ---- columns ----

    /// The columns of `tables` in `schema` with their types. SQLite reads every table's, in lower
    /// case (its names are case-insensitive).
    pub(crate) fn column_types(
        &mut self,
        schema: &SchemaName,
        tables: &[String],
    ) -> Result<Vec<ColumnType>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::column_types(conn, schema, tables)?,
            Db::Sqlite(conn) => sqlite::column_types(conn, schema)?,
        })
    }

    // ---- what others made ----

    /// Which of `names` the connection's own `search_path` resolves to a relation outside
    /// `schema`. Must run outside facedb's transactions, which pin the search path. SQLite has
    /// one schema: none.
    pub(crate) fn shadowed_tables(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<ShadowedTable>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::shadowed_tables(conn, schema, names)?,
            Db::Sqlite(_) => Vec::new(),
        })
    }

    /// Every object outside `owned` that depends on something in it, found without dropping
    /// anything: what would stop a drop of `owned`.
    pub(crate) fn foreign_dependents(
        &mut self,
        schema: &SchemaName,
        owned: &Owned<'_>,
    ) -> Result<Vec<Dependent>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::foreign_dependents(conn, schema, owned)?,
            Db::Sqlite(conn) => sqlite::foreign_dependents(conn, owned)?,
        })
    }

    /// Locks `owned`'s tables in `schema` against every change until the transaction ends
    /// (PostgreSQL, when the transaction may write), and returns those that exist, in `owned`'s
    /// order (its tables, then its bookkeeping tables). SQLite: the transaction holds the file's
    /// write lock already.
    pub(crate) fn lock_owned_tables(
        &mut self,
        schema: &SchemaName,
        owned: &Owned<'_>,
    ) -> Result<Vec<String>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::lock_owned_tables(conn, schema, owned)?,
            Db::Sqlite(_) => self.existing_tables(schema, &owned.all_tables())?,
        })
    }

    /// What people attached to `owned`'s tables in `schema` (ignored on SQLite: a file has
    /// one), with the statements that re-apply each; `known` says what is facedb's own. Reads
    /// only.
    pub(crate) fn attachments(
        &mut self,
        schema: &SchemaName,
        owned: &Owned<'_>,
        known: &KnownNames,
    ) -> Result<Vec<Attachment>> {
        Ok(match self {
            Db::Postgres(conn) => postgres::attachments(conn, schema, owned, known)?,
            Db::Sqlite(conn) => sqlite::attachments(conn, owned, known)?,
        })
    }
}

/// The `found` names in the order of `names`.
fn in_order(names: &[&str], found: &[String]) -> Vec<String> {
    names
        .iter()
        .filter(|n| found.iter().any(|f| f == *n))
        .map(|n| n.to_string())
        .collect()
}
