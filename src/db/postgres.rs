//! Every PostgreSQL catalog and system query facedb runs, as plain functions on a
//! `PgConnection`, in sections by subject. Each hand-written statement names facedb's schema
//! itself (`SchemaName::namespace`, `SchemaName::qualify`, or the name bound as a parameter):
//! some run outside facedb's transactions, which pin the search path. What both backends answer
//! alike is asked through a `Db` method (`super::catalog`); the rest is called from the module
//! that needs it.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text};

use super::rows::{
    Attachment, ColumnType, Dependent, KnownNames, Named, NamedObject, Owned, SetUpSigns,
    SetUpState, ShadowedTable, TableEstimate,
};
use crate::config::{quote_identifier, PgTarget, SchemaName};

// ---- server ----

/// The server a connection reached, read once after connecting.
#[derive(Debug, Clone, QueryableByName)]
pub struct ServerReached {
    /// `current_database()`.
    #[diesel(sql_type = Text)]
    pub database: String,
    /// A hot standby (or a server still replaying WAL): it takes reads only.
    #[diesel(sql_type = Bool)]
    pub in_recovery: bool,
    /// `inet_server_addr()`; `None` over a Unix socket.
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub port: Option<i32>,
    /// `default_transaction_read_only`: a primary set to refuse writes.
    #[diesel(sql_type = Bool)]
    pub read_only: bool,
    /// The server's own `port` setting: over a Unix socket, which listed server answered.
    #[diesel(sql_type = Integer)]
    pub listening_port: i32,
    /// `pg_backend_pid()`: the process a Ctrl-C cancels.
    #[diesel(sql_type = Integer)]
    pub backend_pid: i32,
}

impl ServerReached {
    /// `10.0.0.2:5432`; over a Unix socket, the listed socket whose port is the server's own
    /// (never the whole list; `unix_socket_directories` is not readable by every role).
    pub fn describe(&self, target: &PgTarget) -> String {
        if let (Some(address), Some(port)) = (&self.address, self.port) {
            return if address.contains(':') {
                format!("[{address}]:{port}")
            } else {
                format!("{address}:{port}")
            };
        }
        target
            .server_list()
            .iter()
            .find(|s| s.host.starts_with('/') && i32::from(s.port) == self.listening_port)
            .map(ToString::to_string)
            .unwrap_or_else(|| format!("the Unix socket of port {}", self.listening_port))
    }

    /// The server's own address: `10.0.0.2:5432`, or its Unix socket's port.
    pub fn own_address(&self) -> String {
        match (&self.address, self.port) {
            (Some(address), Some(port)) => format!("{address}:{port}"),
            _ => format!("the Unix socket of port {}", self.listening_port),
        }
    }

    /// The server of `target`'s list this connection reached, when it can be told.
    pub fn listed_server<'t>(&self, target: &'t PgTarget) -> Option<&'t crate::config::Server> {
        let list = target.server_list();
        if list.len() == 1 {
            return list.first();
        }
        let described = self.describe(target);
        list.iter().find(|s| s.to_string() == described)
    }

    /// Why this server takes no writes, if it takes none.
    pub fn read_only(&self) -> Option<crate::error::ReadOnly> {
        if self.in_recovery {
            Some(crate::error::ReadOnly::Standby)
        } else if self.read_only {
            Some(crate::error::ReadOnly::ReadOnlyPrimary)
        } else {
            None
        }
    }
}

/// What [`server_reached`] reads, as a select list.
macro_rules! server_columns {
    () => {
        "current_database()::text AS database, pg_is_in_recovery() AS in_recovery, \
         host(inet_server_addr()) AS address, inet_server_port() AS port, \
         current_setting('default_transaction_read_only')::bool AS read_only, \
         current_setting('port')::int AS listening_port, pg_backend_pid() AS backend_pid"
    };
}

/// One statement, which is its own transaction: safe behind a transaction pooler.
pub fn server_reached(conn: &mut PgConnection) -> QueryResult<ServerReached> {
    diesel::sql_query(concat!("SELECT ", server_columns!())).get_result(conn)
}

/// Whether a commit here waits for a synchronous standby to confirm it before it returns.
pub fn commit_waits_for_standby(conn: &mut PgConnection) -> QueryResult<bool> {
    diesel::select(diesel::dsl::sql::<Bool>(
        "current_setting('synchronous_standby_names') <> '' \
         AND current_setting('synchronous_commit') NOT IN ('off', 'local')",
    ))
    .get_result(conn)
}

/// The server's version as it names it: `15.4 (Debian 15.4-1)`.
pub fn server_version(conn: &mut PgConnection) -> QueryResult<String> {
    let version: Named =
        diesel::sql_query("SELECT current_setting('server_version') AS name").get_result(conn)?;
    Ok(version.name)
}

/// The server's version as a number: 150004 for 15.4.
pub fn server_version_num(conn: &mut PgConnection) -> QueryResult<i32> {
    diesel::select(diesel::dsl::sql::<Integer>(
        "current_setting('server_version_num')::int",
    ))
    .get_result(conn)
}

// ---- schemas ----

pub fn schema_exists(conn: &mut PgConnection, schema: &SchemaName) -> QueryResult<bool> {
    diesel::select(diesel::dsl::sql::<Bool>(&format!(
        "{} IS NOT NULL",
        schema.namespace()
    )))
    .get_result(conn)
}

// ---- tables and rows ----

/// The base and partitioned tables of `schema` named in `$1`, as a condition on `pg_class c`.
fn tables_named(schema: &SchemaName) -> String {
    format!(
        "c.relnamespace = {} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)",
        schema.namespace()
    )
}

/// Which of `names` are types in `schema`, in no particular order.
pub fn existing_types(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<String>> {
    let found: Vec<Named> = diesel::sql_query(format!(
        "SELECT t.typname::text AS name FROM pg_type t \
         WHERE t.typnamespace = {} AND t.typname = ANY($1)",
        schema.namespace()
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)?;
    Ok(found.into_iter().map(|n| n.name).collect())
}

/// Which of `names` are tables in `schema`, in no particular order, with the planner's estimate
/// of their rows.
pub fn table_estimates(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<TableEstimate>> {
    diesel::sql_query(format!(
        "SELECT c.relname::text AS name, c.reltuples::float8 AS estimate FROM pg_class c \
         WHERE {}",
        tables_named(schema)
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
}

// ---- columns ----

/// The live columns of `tables` in `schema`, each with its type in `format_type`'s words.
pub fn column_types(
    conn: &mut PgConnection,
    schema: &SchemaName,
    tables: &[String],
) -> QueryResult<Vec<ColumnType>> {
    diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
                format_type(a.atttypid, a.atttypmod) AS type_name \
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE {} AND a.attnum > 0 AND NOT a.attisdropped",
        tables_named(schema)
    ))
    .bind::<Array<Text>, _>(tables)
    .load(conn)
}

// ---- the schema as the catalog shows it ----

/// Every base table of `schema`, sorted.
pub fn table_names(conn: &mut PgConnection, schema: &SchemaName) -> QueryResult<Vec<String>> {
    let names: Vec<Named> = diesel::sql_query(format!(
        "SELECT c.relname::text AS name FROM pg_class c \
         WHERE c.relnamespace = {} AND c.relkind IN ('r', 'p') ORDER BY 1",
        schema.namespace()
    ))
    .load(conn)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

/// What the catalog says of some tables of a schema, and of its enum types.
pub struct SchemaRows {
    /// The tables asked for that exist, in no particular order.
    pub tables: Vec<String>,
    /// In each table's order.
    pub columns: Vec<PgColumn>,
    /// Primary keys, UNIQUE constraints and foreign keys.
    pub constraints: Vec<PgConstraint>,
    /// Indexes that back no primary key, UNIQUE or exclusion constraint (those describe them).
    pub indexes: Vec<PgIndex>,
    /// Every enum type of the schema, by name.
    pub enums: Vec<PgEnum>,
}

#[derive(QueryableByName)]
pub struct PgColumn {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// In `format_type`'s words.
    #[diesel(sql_type = Text)]
    pub sql_type: String,
    #[diesel(sql_type = Bool)]
    pub not_null: bool,
    /// `pg_get_expr` of the default, or of a generated column's expression.
    #[diesel(sql_type = Nullable<Text>)]
    pub default_expr: Option<String>,
    /// pg_attribute.attidentity: '' (none), 'a' (always), 'd' (by default).
    #[diesel(sql_type = Text)]
    pub identity: String,
    /// pg_attribute.attgenerated: '' or 's' (stored).
    #[diesel(sql_type = Text)]
    pub generated: String,
}

#[derive(QueryableByName)]
pub struct PgConstraint {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    /// pg_constraint.contype: 'p', 'u' or 'f'.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Array<Text>)]
    pub columns: Vec<String>,
    /// A foreign key's referenced table and columns.
    #[diesel(sql_type = Nullable<Text>)]
    pub ref_table: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    pub ref_columns: Vec<String>,
    /// pg_constraint's one-letter foreign key actions (`confdeltype`, `confupdtype`).
    #[diesel(sql_type = Text)]
    pub on_delete: String,
    #[diesel(sql_type = Text)]
    pub on_update: String,
}

#[derive(QueryableByName)]
pub struct PgIndex {
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Bool)]
    pub is_unique: bool,
    /// Its key columns; an expression as `pg_get_indexdef` prints it.
    #[diesel(sql_type = Array<Text>)]
    pub columns: Vec<String>,
    /// The `WHERE` of a partial index.
    #[diesel(sql_type = Nullable<Text>)]
    pub predicate: Option<String>,
}

#[derive(QueryableByName)]
pub struct PgEnum {
    #[diesel(sql_type = Text)]
    pub name: String,
    /// In their sort order.
    #[diesel(sql_type = Array<Text>)]
    pub labels: Vec<String>,
}

/// The catalog rows of those of `tables` that exist in `schema`, and of every enum type of
/// `schema`.
pub fn schema_rows(
    conn: &mut PgConnection,
    schema: &SchemaName,
    tables: &[&str],
) -> QueryResult<SchemaRows> {
    let wanted = tables_named(schema);
    let existing = table_estimates(conn, schema, tables)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let columns = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS name, \
                format_type(a.atttypid, a.atttypmod) AS sql_type, a.attnotnull AS not_null, \
                pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
                a.attidentity::text AS identity, a.attgenerated::text AS generated \
         FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid \
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {wanted} AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum"
    ))
    .bind::<Array<Text>, _>(tables)
    .load(conn)?;
    let constraints = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, con.conname::text AS name, con.contype::text AS kind, \
                ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n \
                      ORDER BY k.i) AS columns, \
                fc.relname::text AS ref_table, \
                ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) \
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n \
                      ORDER BY k.i) AS ref_columns, \
                con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update \
         FROM pg_constraint con \
         JOIN pg_class c ON c.oid = con.conrelid \
         LEFT JOIN pg_class fc ON fc.oid = con.confrelid \
         WHERE {wanted} AND con.contype IN ('p', 'u', 'f') \
         ORDER BY c.relname, con.conname"
    ))
    .bind::<Array<Text>, _>(tables)
    .load(conn)?;
    let indexes = diesel::sql_query(format!(
        "SELECT c.relname::text AS table_name, i.relname::text AS name, x.indisunique AS is_unique, \
                ARRAY(SELECT coalesce(a.attname::text, pg_get_indexdef(x.indexrelid, k.i::int, true)) \
                      FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(n, i) \
                      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n AND k.n > 0 \
                      WHERE k.i <= x.indnkeyatts ORDER BY k.i) AS columns, \
                pg_get_expr(x.indpred, x.indrelid) AS predicate \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class c ON c.oid = x.indrelid \
         WHERE {wanted} AND NOT EXISTS ( \
             SELECT 1 FROM pg_constraint con \
             WHERE con.conindid = x.indexrelid AND con.conrelid = x.indrelid \
               AND con.contype IN ('p', 'u', 'x')) \
         ORDER BY c.relname, i.relname"
    ))
    .bind::<Array<Text>, _>(tables)
    .load(conn)?;
    let enums = diesel::sql_query(format!(
        "SELECT t.typname::text AS name, \
                ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid \
                      ORDER BY e.enumsortorder) AS labels \
         FROM pg_type t \
         WHERE t.typnamespace = {} AND t.typtype = 'e' \
         ORDER BY 1",
        schema.namespace()
    ))
    .load(conn)?;
    Ok(SchemaRows {
        tables: existing,
        columns,
        constraints,
        indexes,
        enums,
    })
}

/// Every relation of `schema` (tables, indexes, sequences, views, …) by name, with its kind in
/// words.
pub fn relations(conn: &mut PgConnection, schema: &SchemaName) -> QueryResult<Vec<NamedObject>> {
    diesel::sql_query(format!(
        "SELECT relname::text AS name, CASE relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table' \
         WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' \
         WHEN 'm' THEN 'materialized view' WHEN 'f' THEN 'foreign table' ELSE 'type' END AS kind \
         FROM pg_class WHERE relnamespace = {}",
        schema.namespace()
    ))
    .load(conn)
}

// ---- what others made ----

/// Where the connection's own `search_path` resolves one of `names` to another relation than
/// the one in `schema` (an earlier schema, a role's own `"$user"` schema, a temporary table).
pub fn shadowed_tables(
    conn: &mut PgConnection,
    schema: &SchemaName,
    names: &[&str],
) -> QueryResult<Vec<ShadowedTable>> {
    diesel::sql_query(format!(
        "SELECT t.name, format('%I.%I', n.nspname, c.relname) AS resolved {} ORDER BY t.name",
        shadowing(schema, "$1")
    ))
    .bind::<Array<Text>, _>(names)
    .load(conn)
}

/// The names in the text array `names` (a parameter) that the connection's own `search_path`
/// resolves to a relation outside `schema`, as the `FROM … WHERE` of a query: `t.name`, the
/// relation `c` and its schema `n`.
fn shadowing(schema: &SchemaName, names: &str) -> String {
    format!(
        "FROM unnest({names}::text[]) AS t(name) \
         JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name)) \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relnamespace IS DISTINCT FROM {}",
        schema.namespace()
    )
}

/// The normal dependencies in `pg_depend` on `owned`'s tables (bookkeeping included), their
/// sequences, row types and its enum types, from objects that would not go with the tables
/// (views through `pg_rewrite`, foreign keys of other tables through `pg_constraint`, defaults,
/// columns, functions, domains, child tables). Catalog reads only: no locks beyond them.
pub fn foreign_dependents(
    conn: &mut PgConnection,
    schema: &SchemaName,
    owned: &Owned<'_>,
) -> QueryResult<Vec<Dependent>> {
    let owned_tables = owned.all_tables();
    diesel::sql_query(PG_FOREIGN_DEPENDENTS)
        .bind::<Array<Text>, _>(owned_tables)
        .bind::<Array<Text>, _>(owned.enum_types)
        .bind::<Text, _>(schema.name())
        .load(conn)
}

/// Locks those of `owned`'s tables that exist in `schema` against every change until the
/// transaction ends, so that nothing (a view, a foreign key, a trigger, a policy) can come to
/// depend on them from then on, and returns them in `owned`'s order. Not in a read-only
/// transaction (a standby), where nothing will be changed and PostgreSQL takes no such lock.
pub fn lock_owned_tables(
    conn: &mut PgConnection,
    schema: &SchemaName,
    owned: &Owned<'_>,
) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Lockable {
        #[diesel(sql_type = Bool)]
        read_only: bool,
        #[diesel(sql_type = Array<Text>)]
        tables: Vec<String>,
    }
    let names = owned.all_tables();
    let found: Lockable = diesel::sql_query(format!(
        "SELECT current_setting('transaction_read_only')::bool AS read_only, \
                ARRAY(SELECT c.relname::text FROM pg_class c WHERE {} \
                      ORDER BY array_position($1, c.relname::text)) AS tables",
        tables_named(schema)
    ))
    .bind::<Array<Text>, _>(&names)
    .get_result(conn)?;
    if !found.read_only && !found.tables.is_empty() {
        let listed: Vec<String> = found.tables.iter().map(|t| schema.qualify(t)).collect();
        diesel::sql_query(format!(
            "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
            listed.join(", ")
        ))
        .execute(conn)?;
    }
    Ok(found.tables)
}

/// $1: facedb's table names, $2: its enum type names, $3: the schema they are in.
const PG_FOREIGN_DEPENDENTS: &str = "
WITH RECURSIVE
owned_classes (oid) AS (
    -- facedb's tables, then what goes with them: indexes, owned sequences, TOAST tables.
    SELECT c.oid FROM pg_class c
    WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $3)
      AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)
    UNION
    SELECT d.objid FROM pg_depend d JOIN owned_classes o ON d.refobjid = o.oid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i')
),
base_types AS (
    SELECT t.oid FROM pg_type t
    WHERE t.typnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $3)
      AND t.typtype = 'e' AND t.typname = ANY($2)
    UNION
    SELECT c.reltype FROM pg_class c JOIN owned_classes o ON o.oid = c.oid WHERE c.reltype <> 0
),
owned_types AS (
    SELECT oid FROM base_types
    UNION
    SELECT t.typarray FROM pg_type t JOIN base_types b ON b.oid = t.oid WHERE t.typarray <> 0
),
dependents AS (
    -- Looked up object by object in pg_depend's index on what is depended on: every reset
    -- leaves dead rows behind in pg_depend, which a scan of all its rows would wade through.
    -- A foreign key depends on the referenced table and on its key's index: the table says it.
    SELECT d.classid, d.objid, d.refclassid, d.refobjid
    FROM owned_classes o
    JOIN pg_class c ON c.oid = o.oid AND c.relkind <> 'i'
    JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = o.oid
    WHERE d.deptype = 'n'
    UNION ALL
    SELECT d.classid, d.objid, d.refclassid, d.refobjid
    FROM owned_types t
    JOIN pg_depend d ON d.refclassid = 'pg_type'::regclass AND d.refobjid = t.oid
    WHERE d.deptype = 'n'
)
SELECT
    CASE WHEN d.classid = 'pg_rewrite'::regclass AND r.rulename = '_RETURN'
         THEN pg_describe_object('pg_class'::regclass, r.ev_class, 0)
         ELSE pg_describe_object(d.classid, d.objid, 0) END AS object,
    string_agg(DISTINCT pg_describe_object(d.refclassid, d.refobjid, 0), ', ') AS depends_on
FROM dependents d
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
-- Objects that belong to facedb's tables or types go with them.
WHERE NOT CASE d.classid
    WHEN 'pg_class'::regclass THEN d.objid IN (SELECT oid FROM owned_classes)
    WHEN 'pg_type'::regclass THEN d.objid IN (SELECT oid FROM owned_types)
    WHEN 'pg_constraint'::regclass THEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.oid = d.objid
        AND (c.conrelid IN (SELECT oid FROM owned_classes) OR c.contypid IN (SELECT oid FROM owned_types)))
    WHEN 'pg_rewrite'::regclass THEN r.ev_class IN (SELECT oid FROM owned_classes)
    WHEN 'pg_trigger'::regclass THEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.oid = d.objid
        AND t.tgrelid IN (SELECT oid FROM owned_classes))
    WHEN 'pg_attrdef'::regclass THEN EXISTS (SELECT 1 FROM pg_attrdef a WHERE a.oid = d.objid
        AND a.adrelid IN (SELECT oid FROM owned_classes))
    WHEN 'pg_policy'::regclass THEN EXISTS (SELECT 1 FROM pg_policy p WHERE p.oid = d.objid
        AND p.polrelid IN (SELECT oid FROM owned_classes))
    -- A publication's row filter depends on the columns it reads; the membership goes with the table.
    WHEN 'pg_publication_rel'::regclass THEN EXISTS (SELECT 1 FROM pg_publication_rel p
        WHERE p.oid = d.objid AND p.prrelid IN (SELECT oid FROM owned_classes))
    ELSE false END
GROUP BY 1
ORDER BY 1";

// ---- carried over a reset ----

/// What people attached to `owned`'s tables in `schema`, in the order a reset
/// re-applies them: owners before the privileges that name them, constraints and indexes before
/// the comments on them. The statements that re-apply each are built by the queries themselves.
pub fn attachments(
    conn: &mut PgConnection,
    schema: &SchemaName,
    owned: &Owned<'_>,
    known: &KnownNames,
) -> QueryResult<Vec<Attachment>> {
    let publications = if server_version_num(conn)? >= 150_000 {
        PG_PUBLICATIONS
    } else {
        PG_PUBLICATIONS_BEFORE_15
    };
    // One statement, one round trip for every kind. Each part keeps its place in the order the
    // reset re-applies them; within a part, what must come last (foreign keys after the keys
    // they reference, a column's privileges after its table's REVOKE ALL) comes last.
    let parts = [
        (PG_OWNERS, "false"),
        (PG_CONSTRAINTS, "q.foreign_key"),
        (PG_INDEXES, "false"),
        (PG_STATISTICS, "false"),
        (PG_TRIGGERS, "false"),
        (PG_TABLE_SETTINGS, "false"),
        (PG_ROW_SECURITY, "false"),
        (PG_PRIVILEGES, "q.object LIKE 'privileges on column%'"),
        (publications, "false"),
        (PG_COMMENTS, "false"),
    ];
    let all: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(part, (query, late))| {
            format!(
                "SELECT {part} AS part, {late} AS late, q.object, q.statements, q.uses FROM ({query}) q"
            )
        })
        .collect();
    diesel::sql_query(format!(
        "{PG_SCOPE}{PG_COMMENTED}\nSELECT object, statements, uses FROM ({}) parts ORDER BY part, late, object",
        all.join("\nUNION ALL\n")
    ))
    .bind::<Text, _>(schema.name())
    .bind::<Array<Text>, _>(owned.tables)
    .bind::<Array<Text>, _>(&known.columns)
    .bind::<Array<Text>, _>(owned.enum_types)
    .bind::<Array<Text>, _>(&known.relations)
    .bind::<Array<Text>, _>(owned.bookkeeping_tables)
    .load(conn)
}

/// The catalog rows every PostgreSQL query below starts from. $1: the schema; $2: facedb's
/// tables; $3: its columns as `table.column`; $4: its enum types; $5: its constraint and index
/// names; $6: its bookkeeping tables.
const PG_SCOPE: &str = "WITH tables AS (
    SELECT c.oid, c.relname::text AS name, c.relowner, c.relacl, c.relrowsecurity,
           c.relforcerowsecurity
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)
),
user_columns AS (
    SELECT a.attrelid, a.attnum, t.name || '.' || a.attname AS name
    FROM pg_attribute a JOIN tables t ON t.oid = a.attrelid
    WHERE a.attnum > 0 AND NOT a.attisdropped AND t.name || '.' || a.attname <> ALL($3)
),
-- The first user-added column each object (index, policy, trigger, …) depends on.
uses AS (
    SELECT d.classid, d.objid, min(u.name) AS name FROM pg_depend d
    JOIN user_columns u ON d.refobjid = u.attrelid AND d.refobjsubid = u.attnum
    WHERE d.refclassid = 'pg_class'::regclass
    GROUP BY d.classid, d.objid
),
-- Sequences owned by facedb's columns (serial, identity): the migrations make them again.
sequences AS (
    SELECT s.oid, s.relname::text AS name, s.relowner, s.relacl FROM pg_depend d
    JOIN tables t ON t.oid = d.refobjid
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND (d.refobjid, d.refobjsubid) NOT IN
          (SELECT attrelid, attnum FROM user_columns)
),
types AS (
    SELECT y.oid, y.typname::text AS name, y.typowner, y.typacl
    FROM pg_type y JOIN pg_namespace n ON n.oid = y.typnamespace
    WHERE n.nspname = $1 AND y.typname = ANY($4)
),
-- What has an owner and privileges: facedb's tables (its bookkeeping tables too), their
-- sequences and its types.
objects AS (
    SELECT 'TABLE' AS kind, 'table ' || name AS label, name, relowner AS owner, relacl AS acl
    FROM tables
    UNION ALL SELECT 'TABLE', 'table ' || c.relname, c.relname::text, c.relowner, c.relacl
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($6)
    UNION ALL SELECT 'SEQUENCE', 'sequence ' || name, name, relowner, relacl FROM sequences
    UNION ALL SELECT 'TYPE', 'type ' || name, name, typowner, typacl FROM types
),
-- User-added constraints and indexes (a constraint's index goes with it).
constraints AS (
    SELECT k.oid, k.conname::text AS name, t.name AS table_name, k.contype, k.conindid
    FROM pg_constraint k JOIN tables t ON t.oid = k.conrelid
    WHERE k.contype IN ('c', 'f', 'p', 'u', 'x') AND k.conname <> ALL($5)
),
indexes AS (
    SELECT i.indexrelid AS oid, c.relname::text AS name, t.name AS table_name
    FROM pg_index i JOIN tables t ON t.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relname <> ALL($5) AND NOT EXISTS (SELECT 1 FROM pg_constraint k
        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
),
triggers AS (
    SELECT g.oid, g.tgname::text AS name, t.name AS table_name, g.tgenabled
    FROM pg_trigger g JOIN tables t ON t.oid = g.tgrelid WHERE NOT g.tgisinternal
)
";

/// Owners other than the role that runs the reset (which owns what the migrations create). A
/// table's sequences and indexes follow it.
const PG_OWNERS: &str = "SELECT format('owner of %s (%s)', o.label, pg_get_userbyid(o.owner)) AS object,
       format('ALTER %s %I.%I OWNER TO %I', o.kind, $1, o.name, pg_get_userbyid(o.owner)) AS statements,
       NULL::text AS uses
FROM objects o
WHERE o.kind <> 'SEQUENCE' AND o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)";

const PG_CONSTRAINTS: &str =
    "SELECT format('constraint %s on table %s', k.name, k.table_name) AS object,
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1, k.table_name, k.name,
              pg_get_constraintdef(k.oid)) AS statements,
       u.name AS uses, k.contype = 'f' AS foreign_key
FROM constraints k LEFT JOIN uses u ON u.classid = 'pg_constraint'::regclass AND u.objid = k.oid";

const PG_INDEXES: &str = "SELECT format('index %s on table %s', i.name, i.table_name) AS object,
       pg_get_indexdef(i.oid) AS statements, u.name AS uses
FROM indexes i LEFT JOIN uses u ON u.classid = 'pg_class'::regclass AND u.objid = i.oid";

const PG_STATISTICS: &str =
    "SELECT format('statistics object %s on table %s', s.stxname, t.name) AS object,
       pg_get_statisticsobjdef(s.oid) AS statements, u.name AS uses
FROM pg_statistic_ext s JOIN tables t ON t.oid = s.stxrelid
LEFT JOIN uses u ON u.classid = 'pg_statistic_ext'::regclass AND u.objid = s.oid";

/// Triggers the user created (not the internal ones of foreign keys), disabled or not.
const PG_TRIGGERS: &str = "SELECT format('trigger %s on table %s', g.name, g.table_name) AS object,
       pg_get_triggerdef(g.oid) || CASE g.tgenabled
           WHEN 'D' THEN format('; ALTER TABLE %I.%I DISABLE TRIGGER %I', $1, g.table_name, g.name)
           WHEN 'R' THEN format('; ALTER TABLE %I.%I ENABLE REPLICA TRIGGER %I', $1, g.table_name, g.name)
           WHEN 'A' THEN format('; ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', $1, g.table_name, g.name)
           ELSE '' END AS statements,
       u.name AS uses
FROM triggers g LEFT JOIN uses u ON u.classid = 'pg_trigger'::regclass AND u.objid = g.oid";

/// Settings of facedb's tables and columns: replica identity (logical replication needs it),
/// storage parameters such as autovacuum's, and per-column statistics targets.
const PG_TABLE_SETTINGS: &str = "SELECT format('replica identity of table %s (%s)', t.name, CASE c.relreplident
           WHEN 'f' THEN 'full' WHEN 'n' THEN 'nothing' ELSE 'index ' || i.relname END) AS object,
       format('ALTER TABLE %I.%I REPLICA IDENTITY %s', $1, t.name, CASE c.relreplident
           WHEN 'f' THEN 'FULL' WHEN 'n' THEN 'NOTHING' ELSE format('USING INDEX %I', i.relname) END)
           AS statements,
       u.name AS uses
FROM tables t JOIN pg_class c ON c.oid = t.oid
LEFT JOIN pg_index x ON c.relreplident = 'i' AND x.indrelid = t.oid AND x.indisreplident
LEFT JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN uses u ON u.classid = 'pg_class'::regclass AND u.objid = x.indexrelid
WHERE c.relreplident <> 'd'
UNION ALL
SELECT format('storage parameters of table %s (%s)', t.name, array_to_string(c.reloptions, ', ')),
       format('ALTER TABLE %I.%I SET (%s)', $1, t.name,
              (SELECT string_agg(quote_ident(split_part(o, '=', 1)) || ' = '
                                 || quote_literal(substr(o, strpos(o, '=') + 1)), ', ')
               FROM unnest(c.reloptions) o)),
       NULL
FROM tables t JOIN pg_class c ON c.oid = t.oid WHERE cardinality(c.reloptions) > 0
UNION ALL
SELECT format('statistics target of column %s.%s (%s)', t.name, a.attname, a.attstattarget),
       format('ALTER TABLE %I.%I ALTER COLUMN %I SET STATISTICS %s', $1, t.name, a.attname, a.attstattarget),
       NULL
FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0
  AND (a.attrelid, a.attnum) NOT IN (SELECT attrelid, attnum FROM user_columns)
UNION ALL
-- Column options such as n_distinct; options PostgreSQL keeps for itself (pg_…) are its own.
SELECT format('options of column %s.%s (%s)', t.name, a.attname, array_to_string(o.options, ', ')),
       format('ALTER TABLE %I.%I ALTER COLUMN %I SET (%s)', $1, t.name, a.attname,
              (SELECT string_agg(quote_ident(split_part(x, '=', 1)) || ' = '
                                 || quote_literal(substr(x, strpos(x, '=') + 1)), ', ')
               FROM unnest(o.options) x)),
       NULL
FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid
CROSS JOIN LATERAL (SELECT array_agg(x ORDER BY x) AS options FROM unnest(a.attoptions) x
                    WHERE x NOT LIKE 'pg\\_%') o
WHERE a.attnum > 0 AND NOT a.attisdropped AND o.options IS NOT NULL
  AND (a.attrelid, a.attnum) NOT IN (SELECT attrelid, attnum FROM user_columns)
UNION ALL
-- Storage other than the type's own (SET STORAGE).
SELECT format('storage of column %s.%s (%s)', t.name, a.attname, s.mode),
       format('ALTER TABLE %I.%I ALTER COLUMN %I SET STORAGE %s', $1, t.name, a.attname, s.mode),
       NULL
FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid JOIN pg_type y ON y.oid = a.atttypid
CROSS JOIN LATERAL (SELECT CASE a.attstorage WHEN 'p' THEN 'PLAIN' WHEN 'e' THEN 'EXTERNAL'
                                             WHEN 'm' THEN 'MAIN' ELSE 'EXTENDED' END AS mode) s
WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attstorage <> y.typstorage
  AND (a.attrelid, a.attnum) NOT IN (SELECT attrelid, attnum FROM user_columns)
UNION ALL
-- The index CLUSTER uses (after the user's own indexes, created before these settings).
SELECT format('cluster of table %s (on index %s)', t.name, i.relname),
       format('ALTER TABLE %I.%I CLUSTER ON %I', $1, t.name, i.relname),
       u.name
FROM tables t JOIN pg_index x ON x.indrelid = t.oid AND x.indisclustered
JOIN pg_class i ON i.oid = x.indexrelid
LEFT JOIN uses u ON u.classid = 'pg_class'::regclass AND u.objid = x.indexrelid
UNION ALL
-- Parameters of facedb's sequences other than a serial's.
SELECT format('parameters of sequence %s (increment %s, min %s, max %s, start %s, cache %s%s)', s.name,
              q.seqincrement, q.seqmin, q.seqmax, q.seqstart, q.seqcache, CASE WHEN q.seqcycle THEN ', cycle' ELSE '' END),
       format('ALTER SEQUENCE %I.%I INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s CACHE %s %s',
              $1, s.name, q.seqincrement, q.seqmin, q.seqmax, q.seqstart, q.seqcache,
              CASE WHEN q.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END),
       NULL
FROM sequences s JOIN pg_sequence q ON q.seqrelid = s.oid
WHERE (q.seqincrement, q.seqmin, q.seqstart, q.seqcache, q.seqcycle) <> (1, 1, 1, 1, false)
   OR q.seqmax <> CASE q.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647
                                  ELSE 9223372036854775807 END";

const PG_ROW_SECURITY: &str = "SELECT format('row level security on table %s (%s)', t.name, concat_ws(', ',
           CASE WHEN t.relrowsecurity THEN 'enabled' END,
           CASE WHEN t.relforcerowsecurity THEN 'forced' END)) AS object,
       concat_ws('; ',
           CASE WHEN t.relrowsecurity THEN format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', $1, t.name) END,
           CASE WHEN t.relforcerowsecurity THEN format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', $1, t.name) END)
           AS statements,
       NULL::text AS uses
FROM tables t WHERE t.relrowsecurity OR t.relforcerowsecurity
UNION ALL
SELECT format('policy %s on table %s', p.polname, t.name),
       format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s', p.polname, $1, t.name,
              CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
              CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
              (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
               FROM unnest(p.polroles) r))
       || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
       || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''),
       u.name
FROM pg_policy p JOIN tables t ON t.oid = p.polrelid
LEFT JOIN uses u ON u.classid = 'pg_policy'::regclass AND u.objid = p.oid";

/// An ACL as it stood: revoke what the defaults grant (the owner's privileges, and PUBLIC's
/// USAGE on a type), then grant each entry again. A table's REVOKE ALL revokes its columns'
/// privileges too: columns come after tables (`attachments` orders them so).
const PG_PRIVILEGES: &str = "SELECT * FROM (
SELECT format('privileges on %s', o.label) || coalesce(' (' || (
           SELECT string_agg(DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, ', ')
           FROM aclexplode(o.acl) a WHERE a.grantee <> o.owner) || ')', '') AS object,
       format('REVOKE ALL ON %s %I.%I FROM PUBLIC, %I', o.kind, $1, o.name, pg_get_userbyid(o.owner))
       || coalesce((SELECT string_agg(format('; GRANT %s ON %s %I.%I TO %s%s', a.privilege_type, o.kind, $1, o.name,
                          CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                          CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '')
                    FROM aclexplode(o.acl) a), '') AS statements,
       NULL::text AS uses
FROM objects o WHERE o.acl IS NOT NULL
UNION ALL
SELECT format('privileges on column %s.%s', t.name, a.attname),
       (SELECT string_agg(format('GRANT %s (%I) ON TABLE %I.%I TO %s%s', x.privilege_type, a.attname, $1, t.name,
                    CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(x.grantee)) END,
                    CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END), '; ')
        FROM aclexplode(a.attacl) x),
       NULL
FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid
WHERE a.attnum > 0 AND NOT a.attisdropped AND cardinality(a.attacl) > 0
  AND (a.attrelid, a.attnum) NOT IN (SELECT attrelid, attnum FROM user_columns)
) privileges";

/// Publication membership, with PostgreSQL 15's column lists and row filters. A publication
/// FOR ALL TABLES or FOR TABLES IN SCHEMA takes the new tables by itself.
const PG_PUBLICATIONS: &str = "SELECT format('publication %s: table %s', p.pubname, t.name) AS object,
       format('ALTER PUBLICATION %I ADD TABLE %I.%I', p.pubname, $1, t.name)
       || coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                            FROM pg_attribute a
                            WHERE a.attrelid = r.prrelid AND a.attnum = ANY(r.prattrs::int2[])) || ')', '')
       || coalesce(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', '') AS statements,
       u.name AS uses
FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN tables t ON t.oid = r.prrelid
LEFT JOIN uses u ON u.classid = 'pg_publication_rel'::regclass AND u.objid = r.oid";

/// Before PostgreSQL 15 a publication names whole tables.
const PG_PUBLICATIONS_BEFORE_15: &str = "SELECT format('publication %s: table %s', p.pubname, t.name) AS object,
       format('ALTER PUBLICATION %I ADD TABLE %I.%I', p.pubname, $1, t.name) AS statements,
       NULL::text AS uses
FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN tables t ON t.oid = r.prrelid";

/// What can carry a comment that is made again by the reset: facedb's tables, columns,
/// sequences, types, constraints and indexes, and what the reset carries over. Appended to
/// `PG_SCOPE`'s common table expressions.
const PG_COMMENTED: &str = ", commented AS (
    SELECT 'pg_class'::regclass AS classoid, t.oid, 0 AS subid, 'table ' || t.name AS label,
           format('TABLE %I.%I', $1, t.name) AS target FROM tables t
    UNION ALL
    SELECT 'pg_class'::regclass, a.attrelid, a.attnum, format('column %s.%s', t.name, a.attname),
           format('COLUMN %I.%I.%I', $1, t.name, a.attname)
    FROM tables t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE (a.attrelid, a.attnum) NOT IN (SELECT attrelid, attnum FROM user_columns)
    UNION ALL
    SELECT 'pg_class'::regclass, s.oid, 0, 'sequence ' || s.name, format('SEQUENCE %I.%I', $1, s.name)
    FROM sequences s
    UNION ALL
    SELECT 'pg_type'::regclass, y.oid, 0, 'type ' || y.name, format('TYPE %I.%I', $1, y.name) FROM types y
    UNION ALL
    SELECT 'pg_class'::regclass, i.indexrelid, 0, 'index ' || c.relname, format('INDEX %I.%I', $1, c.relname)
    FROM pg_index i JOIN tables t ON t.oid = i.indrelid JOIN pg_class c ON c.oid = i.indexrelid
    UNION ALL
    SELECT 'pg_constraint'::regclass, k.oid, 0, format('constraint %s on table %s', k.conname, t.name),
           format('CONSTRAINT %I ON %I.%I', k.conname, $1, t.name)
    FROM pg_constraint k JOIN tables t ON t.oid = k.conrelid WHERE k.contype <> 't'
    UNION ALL
    SELECT 'pg_policy'::regclass, p.oid, 0, format('policy %s on table %s', p.polname, t.name),
           format('POLICY %I ON %I.%I', p.polname, $1, t.name)
    FROM pg_policy p JOIN tables t ON t.oid = p.polrelid
    UNION ALL
    SELECT 'pg_trigger'::regclass, g.oid, 0, format('trigger %s on table %s', g.name, g.table_name),
           format('TRIGGER %I ON %I.%I', g.name, $1, g.table_name)
    FROM triggers g
    UNION ALL
    SELECT 'pg_statistic_ext'::regclass, s.oid, 0, 'statistics object ' || s.stxname,
           format('STATISTICS %s.%I', s.stxnamespace::regnamespace, s.stxname)
    FROM pg_statistic_ext s JOIN tables t ON t.oid = s.stxrelid
)";

/// Comments on what exists again after the reset (`PG_COMMENTED`). Comments on what is lost go
/// with it.
const PG_COMMENTS: &str = "SELECT format('comment on %s', o.label) AS object,
       format('COMMENT ON %s IS %L', o.target, d.description) AS statements,
       NULL::text AS uses
FROM commented o JOIN pg_description d
  ON d.classoid = o.classoid AND d.objoid = o.oid AND d.objsubid = o.subid
WHERE NOT EXISTS (SELECT 1 FROM uses u WHERE u.classid = o.classoid AND u.objid = o.oid)
  -- The index of a lost constraint goes with it.
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN uses u
                  ON u.classid = 'pg_constraint'::regclass AND u.objid = k.oid
                  WHERE o.classoid = 'pg_class'::regclass AND k.conindid = o.oid
                    AND k.contype IN ('p', 'u', 'x'))";

// ---- locks ----

/// How a transaction takes an advisory lock (`pg_advisory_xact_lock` and its kin), released
/// when the transaction ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdvisoryLock {
    /// Waits for it, alone.
    Exclusive,
    /// Waits for it, beside other shared holders.
    Shared,
    /// Takes it shared only if nobody holds it exclusively; never waits.
    TryShared,
}

/// Takes the advisory lock `key` for the rest of the transaction.
pub fn take_advisory_lock(
    conn: &mut PgConnection,
    lock: AdvisoryLock,
    key: i64,
) -> QueryResult<usize> {
    let take = match lock {
        AdvisoryLock::Exclusive => "SELECT pg_advisory_xact_lock($1)",
        AdvisoryLock::Shared => "SELECT pg_advisory_xact_lock_shared($1)",
        AdvisoryLock::TryShared => "SELECT pg_try_advisory_xact_lock_shared($1)",
    };
    diesel::sql_query(take).bind::<BigInt, _>(key).execute(conn)
}

/// Another session holding a lock, from pg_locks and pg_stat_activity.
#[derive(QueryableByName)]
pub struct LockHolder {
    #[diesel(sql_type = Integer)]
    pid: i32,
    #[diesel(sql_type = Text)]
    application_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    since: Option<String>,
    /// pg_locks' mode, e.g. `AccessExclusiveLock`.
    #[diesel(sql_type = Text)]
    mode: String,
    /// The table locked; `None` for an advisory lock.
    #[diesel(sql_type = Nullable<Text>)]
    relation: Option<String>,
    /// pg_stat_activity's `backend_type`: `startup` on a standby is the replay of the primary's WAL.
    #[diesel(sql_type = Text)]
    backend_type: String,
    /// pg_stat_activity's `wait_event`: `SyncRep` while its commit waits for a synchronous standby.
    #[diesel(sql_type = Text)]
    wait_event: String,
}

impl LockHolder {
    /// Whether the lock is held by a standby's recovery: the replay of a transaction that is
    /// still open on the primary, not a session anyone here can end.
    pub fn is_recovery(&self) -> bool {
        self.backend_type == "startup"
    }
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_recovery() {
            write!(
                f,
                "the replay of a transaction on the primary (this standby's recovery, pid {}, {}",
                self.pid, self.mode
            )?;
            return match &self.relation {
                Some(table) => write!(f, " on table {table})"),
                None => write!(f, ")"),
            };
        }
        write!(
            f,
            "pid {} (application_name '{}', since {}, {}",
            self.pid,
            self.application_name,
            self.since.as_deref().unwrap_or("an unknown time"),
            self.mode
        )?;
        if let Some(table) = &self.relation {
            write!(f, " on table {table}")?;
        }
        if self.wait_event == "SyncRep" {
            write!(
                f,
                "; its commit is waiting for a synchronous standby to confirm it: check the standby and synchronous_standby_names"
            )?;
        }
        write!(f, ")")
    }
}

/// The columns of a `LockHolder`, from pg_locks `l` and pg_stat_activity `a`.
macro_rules! holder_columns {
    () => {
        "SELECT l.pid, coalesce(a.application_name, '') AS application_name, \
                to_char(coalesce(a.xact_start, a.backend_start), 'YYYY-MM-DD HH24:MI:SS TZ') AS since, \
                l.mode, l.relation::regclass::text AS relation, \
                coalesce(a.backend_type, '') AS backend_type, coalesce(a.wait_event, '') AS wait_event "
    };
}

/// Who else holds the advisory lock `key` in this database. With `exclusive_only`, only an
/// exclusive holder; else that one first. An error when nobody does.
pub fn advisory_lock_holder(
    conn: &mut PgConnection,
    key: i64,
    exclusive_only: bool,
) -> QueryResult<LockHolder> {
    diesel::sql_query(concat!(
        holder_columns!(),
        "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND l.classid = ($1 >> 32)::oid AND l.objid = ($1 & 4294967295)::oid AND l.objsubid = 1 \
           AND (l.mode = 'ExclusiveLock' OR NOT $2) \
         ORDER BY l.mode = 'ExclusiveLock' DESC LIMIT 1"
    ))
    .bind::<BigInt, _>(key)
    .bind::<Bool, _>(exclusive_only)
    .get_result(conn)
}

/// Who else holds a lock on one of `tables` in `schema`, the strongest and oldest first. An
/// error when nobody does.
pub fn table_lock_holder(
    conn: &mut PgConnection,
    schema: &SchemaName,
    tables: &[&str],
) -> QueryResult<LockHolder> {
    diesel::sql_query(format!(concat!(
        holder_columns!(),
        "FROM pg_locks l JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.granted AND l.pid <> pg_backend_pid() \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
           AND c.relnamespace = {} AND c.relname = ANY($1) \
         ORDER BY l.mode = 'AccessExclusiveLock' DESC, a.xact_start LIMIT 1"
    ), schema.namespace()))
    .bind::<Array<Text>, _>(tables)
    .get_result(conn)
}

// ---- whether a database is set up ----

/// The server a connection reached (see [`server_reached`]) and whether `schema` shows every
/// sign of being set up, in one statement: the one round trip after login of an `init` that
/// finds nothing to do. The statement is its own transaction and leaves nothing behind on the
/// connection (behind a transaction pooler too): no write, no wait, no session setting. It reads
/// with the connection's own `search_path`, as the shadowing check does, and never needs it:
/// every name is qualified.
///
/// It takes facedb's lock in shared mode only if no other facedb is at work (`locked` says
/// whether one was), and sets `lock_timeout` to 1 ms for itself (`set_config(…, true)` ends
/// with the statement): a table that someone else's DDL holds fails the statement rather than
/// wait, and the caller's locked path then waits as it always does, bounded and explained. Both
/// happen in `look`, before anything reads a table: a query with volatile functions is never
/// inlined, so it runs first, once.
///
/// A new server process starts with cold catalog caches, and every function, operator and
/// catalog row the statement names costs it a lookup: the signs are read with a few lookup
/// functions (`to_regclass`, `pg_relation_is_publishable`) rather than queries of `pg_class`,
/// whose planning alone costs more than the rest together.
/// - Shadowing: each of facedb's table names, unqualified, resolves to nothing or to the table in
///   `schema` (as `guard::check_shadowing` asks).
/// - The three tables read below are tables (`pg_relation_is_publishable`: a permanent, plain or
///   partitioned table; an unlogged one reads as not set up, and the locked path decides).
/// - A table that may be missing can be read in the same statement only by a query given as
///   text: `query_to_xml` runs it, guarded by those checks, and returns its one row (the recorded
///   environment, hex-encoded so that the XML needs no unescaping) only when every version is
///   recorded and a system admin exists.
pub fn server_and_set_up_state(
    conn: &mut PgConnection,
    schema: &SchemaName,
    signs: &SetUpSigns<'_>,
) -> QueryResult<(ServerReached, SetUpState)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        server: ServerReached,
        #[diesel(sql_type = Bool)]
        shadowed: bool,
        #[diesel(sql_type = Bool)]
        locked: bool,
        #[diesel(sql_type = Nullable<Text>)]
        recorded: Option<String>,
    }
    let literal = |value: &str| format!("'{}'", value.replace('\'', "''"));
    let regclass = |name: &str| format!("to_regclass({})", literal(name));
    // Each version by itself: an aggregate over the versions would cost its lookups more.
    let recorded_versions: String = signs
        .versions
        .iter()
        .map(|version| {
            format!(
                " AND EXISTS (SELECT 1 FROM {} d WHERE d.version = {})",
                schema.qualify(signs.migrations_table),
                literal(version)
            )
        })
        .collect();
    let recorded = format!(
        "SELECT encode(convert_to(m.value, 'UTF8'), 'hex') AS environment FROM {} m \
         WHERE m.key = {} \
           AND EXISTS (SELECT 1 FROM {} u WHERE u.role = {}::{}){recorded_versions}",
        schema.qualify(signs.metadata_table),
        literal(signs.environment_key),
        schema.qualify(signs.users_table),
        literal(signs.admin_role),
        schema.qualify(signs.role_type),
    );
    let resolves_here: Vec<String> = signs
        .tables
        .iter()
        .map(|table| {
            let unqualified = regclass(&quote_identifier(table));
            format!(
                "coalesce({unqualified} = {}, {unqualified} IS NULL)",
                regclass(&schema.qualify(table))
            )
        })
        .collect();
    let tables: Vec<String> = [
        signs.metadata_table,
        signs.users_table,
        signs.migrations_table,
    ]
    .iter()
    .map(|table| {
        format!(
            "coalesce(pg_relation_is_publishable({}), false)",
            regclass(&schema.qualify(table))
        )
    })
    .collect();
    let row: Row = diesel::sql_query(format!(
        concat!(
            "WITH look AS ( \
                 SELECT pg_try_advisory_xact_lock_shared($1) AS free, \
                        set_config('lock_timeout', '1', true) AS lock_timeout) \
             SELECT ",
            server_columns!(),
            ", NOT ({}) AS shadowed, NOT look.free AS locked, \
                CASE WHEN look.free AND {} THEN query_to_xml($2, false, true, '')::text END AS recorded \
             FROM look"
        ),
        resolves_here.join(" AND "),
        tables.join(" AND ")
    ))
    .bind::<BigInt, _>(signs.lock_key)
    .bind::<Text, _>(recorded)
    .get_result(conn)?;
    let state = SetUpState {
        shadowed: row.shadowed,
        locked: row.locked,
        environment: row.recorded.as_deref().and_then(recorded_environment),
    };
    Ok((row.server, state))
}

/// The environment in `query_to_xml`'s rendering of the look's one row
/// (`<row …><environment>6465…</environment></row>`): hex-encoded UTF-8. `None` when the row is
/// not there (the query found no such row) or does not read as one.
fn recorded_environment(xml: &str) -> Option<String> {
    let (_, rest) = xml.split_once("<environment>")?;
    let (hex, _) = rest.split_once("</environment>")?;
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}
