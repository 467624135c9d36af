//! The questions both backends answer about a database: each [`Db`] method here matches on the
//! backend once and runs that backend's query from [`super::postgres`] or [`super::sqlite`], so
//! the layers above ask without knowing which backend they are on. The rows they return are
//! defined here, in neither backend's words; but for a whole schema's ([`SchemaRows`]), which
//! `crate::catalog` makes a neutral schema of, each backend's own.

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::QueryableByName;
use serde::Serialize;

use super::{postgres, sqlite, Db};
use crate::config::SchemaName;
use crate::error::Result;

/// What facedb owns, by name: what tells its objects apart from everyone else's in a catalog.
#[derive(Debug, Clone, Copy)]
pub struct Owned<'a> {
    /// Its tables, children before parents.
    pub tables: &'a [&'a str],
    /// Its bookkeeping tables.
    pub bookkeeping_tables: &'a [&'a str],
    /// Its PostgreSQL enum types.
    pub enum_types: &'a [&'a str],
}

/// The names facedb's schema gives to columns (`table.column`) and to constraints and indexes:
/// anything else on its tables was added by someone else.
#[derive(Debug, Clone, Default)]
pub struct KnownNames {
    pub columns: Vec<String>,
    pub relations: Vec<String>,
}

#[derive(QueryableByName)]
pub(super) struct Named {
    #[diesel(sql_type = Text)]
    pub name: String,
}

/// Which tables exist, and how many rows the planner thinks each holds (PostgreSQL's
/// `reltuples`: -1 or 0 when never analysed; SQLite keeps no estimate: 0).
#[derive(Debug, Clone, QueryableByName)]
pub struct TableEstimate {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Double)]
    pub estimate: f64,
}

/// A live column and its type, as the catalog names it (PostgreSQL's `format_type`, SQLite's
/// declared type in lower case).
#[derive(Debug, Clone, QueryableByName)]
pub struct ColumnType {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub column_name: String,
    #[diesel(sql_type = Text)]
    pub type_name: String,
}

/// One of facedb's table names that the connection's `search_path` resolves to another relation
/// than the one in facedb's schema.
#[derive(Debug, Clone, QueryableByName)]
pub struct ShadowedTable {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Where the name resolves to, qualified and quoted: `"crm"."users"`.
    #[diesel(sql_type = Text)]
    pub resolved: String,
}

/// What the catalog says of some tables of a schema, in its backend's words: `crate::catalog`
/// makes a neutral schema of it.
pub enum SchemaRows {
    Postgres(postgres::SchemaRows),
    Sqlite(Vec<sqlite::TableRows>),
}

/// An object of a schema, by name, and what kind it is in words (`table`, `index`, `view`, …).
#[derive(Debug, Clone, QueryableByName)]
pub struct NamedObject {
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
}

/// Rows of `child` that refer to a row of `parent` that does not exist.
#[derive(Debug, Clone, QueryableByName)]
pub struct ForeignKeyViolation {
    #[diesel(sql_type = Text)]
    pub child: String,
    #[diesel(sql_type = Text)]
    pub parent: String,
    /// How many rows.
    #[diesel(sql_type = BigInt, column_name = n)]
    pub rows: i64,
}

/// An object facedb does not own that depends on something it owns: reset refuses to drop
/// through it (exit 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, QueryableByName)]
pub struct Dependent {
    /// What it is, e.g. `view visit_report`, `constraint billing_tenant_id_fkey on table billing`.
    #[diesel(sql_type = Text)]
    pub object: String,
    /// What of facedb's it depends on, e.g. `table visits`, `type cameratype`.
    #[diesel(sql_type = Text)]
    pub depends_on: String,
}

impl Dependent {
    pub(super) fn new(object: String, depends_on: String) -> Dependent {
        Dependent { object, depends_on }
    }
}

impl std::fmt::Display for Dependent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} depends on {}", self.object, self.depends_on)
    }
}

/// One thing people attached to facedb's tables, as a reset finds it before the drop.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Attachment {
    /// What it is, e.g. `privileges on table visits (api)`, `index visits_note on table visits`.
    #[diesel(sql_type = Text)]
    pub object: String,
    /// The statements that re-apply it, `;`-separated; `None`: it cannot be carried over at all.
    #[diesel(sql_type = Nullable<Text>)]
    pub statements: Option<String>,
    /// The user-added column it uses, `table.column`: it goes with that column.
    #[diesel(sql_type = Nullable<Text>)]
    pub uses: Option<String>,
}

impl Db {
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
        Ok(match self {
            Db::Postgres(conn) => postgres::table_exists(conn, schema, table)?,
            Db::Sqlite(conn) => sqlite::table_exists(conn, schema, table)?,
        })
    }

    /// Which of `names` are tables in `schema` (SQLite: in any case), in the order of `names`.
    pub(crate) fn existing_tables(
        &mut self,
        schema: &SchemaName,
        names: &[&str],
    ) -> Result<Vec<String>> {
        let found = match self {
            Db::Postgres(conn) => postgres::existing_tables(conn, schema, names)?,
            Db::Sqlite(conn) => sqlite::existing_tables(conn, schema, names)?,
        };
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
    pub(crate) fn table_names(&mut self, schema: &SchemaName) -> Result<Vec<String>> {
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
