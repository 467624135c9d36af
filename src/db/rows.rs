//! The rows the catalog questions of [`super::catalog`] return, in neither backend's words: each
//! backend's queries (`postgres.rs`, `sqlite.rs`) fill them, and the layers above read them.

use diesel::sql_types::{BigInt, Double, Nullable, Text};
use diesel::QueryableByName;
use serde::Serialize;

use crate::config::SchemaName;

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

impl<'a> Owned<'a> {
    /// Its tables, then its bookkeeping tables.
    pub fn all_tables(&self) -> Vec<&'a str> {
        self.tables
            .iter()
            .chain(self.bookkeeping_tables)
            .copied()
            .collect()
    }
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

/// What shows that a database is set up, by name: what `init` reads before it decides whether to
/// take facedb's lock at all (`Db::set_up_state`).
#[derive(Debug, Clone, Copy)]
pub struct SetUpSigns<'a> {
    /// facedb's tables: the connection's `search_path` must show none of them from elsewhere.
    pub tables: &'a [&'a str],
    /// diesel's migrations table, which must record every one of `versions`.
    pub migrations_table: &'a str,
    pub versions: &'a [String],
    /// facedb's metadata table, which must hold a value under `environment_key`.
    pub metadata_table: &'a str,
    pub environment_key: &'a str,
    /// The users table, which must hold a user whose role is `admin_role` (on PostgreSQL a label
    /// of the enum type `role_type`).
    pub users_table: &'a str,
    pub role_type: &'a str,
    pub admin_role: &'a str,
    /// PostgreSQL: facedb's advisory lock, which another facedb at work holds exclusively.
    pub lock_key: i64,
}

/// What `init` asks of a database as it connects, in the same statement as the server check on
/// PostgreSQL: whether `schema` shows every one of `signs`.
#[derive(Debug, Clone, Copy)]
pub struct FirstLook<'a> {
    pub schema: &'a SchemaName,
    pub signs: SetUpSigns<'a>,
}

/// What that read found.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct SetUpState {
    /// The connection's `search_path` shows one of facedb's table names from another schema.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub shadowed: bool,
    /// Another facedb holds facedb's lock exclusively: a reset or an init is at work.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub locked: bool,
    /// The recorded environment, read only when the three tables are there, every version is
    /// recorded and a system admin exists: `None` when any of it is missing (or was not read).
    #[diesel(sql_type = Nullable<Text>)]
    pub environment: Option<String>,
}
