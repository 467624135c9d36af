//! What people attach to facedb's tables, carried over a reset: read from the catalog before the
//! drop, re-applied once the schema is set up again, inside the same transaction.
//!
//! PostgreSQL: owners, user-added constraints, indexes, statistics objects and triggers,
//! replica identity, storage parameters and statistics targets, row level security and policies,
//! privileges (tables, columns, serial sequences, enum types), publication membership and
//! comments. SQLite: user-added indexes and triggers. What cannot be carried over (a column
//! facedb's schema does not have, a sequence it owns, anything that uses such a column) is listed
//! as lost: the reset drops it only when the person accepted that (at the prompt, or with
//! `--drop-unknown-columns`). docs/reset.md says the same for users.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, Nullable, Text};
use serde::Serialize;

use crate::catalog::Backend;
use crate::contract;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::inventory;

/// The flag that lets a reset without a prompt drop what it cannot carry over.
pub const ACCEPT_LOSS_FLAG: &str = "--drop-unknown-columns";

/// One thing a reset re-applies to the new tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Carried {
    /// What it is, e.g. `privileges on table visits (api)`, `index visits_note on table visits`.
    pub object: String,
    /// The statements that re-apply it, `;`-separated.
    statements: String,
}

/// What a reset carries over and what it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carry {
    /// In the order the reset re-applies them.
    pub carried: Vec<Carried>,
    /// What the reset would drop for good, e.g. `column visits.note`.
    pub lost: Vec<String>,
}

/// What the reset's report shows: the carried-over items and the lost ones, by description.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CarrySummary {
    pub carried_over: Vec<String>,
    pub lost: Vec<String>,
}

impl Carry {
    pub fn summary(&self) -> CarrySummary {
        CarrySummary {
            carried_over: self.carried.iter().map(|c| c.object.clone()).collect(),
            lost: self.lost.clone(),
        }
    }

    /// Refuses (exit 5) to lose anything unless `accepted`.
    pub fn check_losses(&self, target: &str, accepted: bool) -> Result<()> {
        match refusal(target, &self.lost, accepted) {
            Some(refusal) => Err(Error::Schema(format!("{refusal}; nothing was changed"))),
            None => Ok(()),
        }
    }

    /// Re-applies what was carried over, in order. A definition that no longer applies stops
    /// the reset (exit 5): the caller's transaction then rolls everything back.
    pub fn restore(&self, db: &mut Db, target: &str) -> Result<()> {
        for item in &self.carried {
            let applied = db.batch_execute(&item.statements);
            applied.map_err(|error| match Error::from(error) {
                // A wait for a lock is a lock timeout (exit 6), not a definition that fails.
                Error::Database(error) if !crate::lock::is_lock_timeout(&error) => Error::Schema(format!(
                    "cannot reset {target}: cannot carry over {} to the new tables ({}); the reset was rolled back, nothing was changed",
                    item.object,
                    error.to_string().lines().next().unwrap_or_default()
                )),
                other => other,
            })?;
        }
        Ok(())
    }
}

/// Why a reset without a prompt would refuse to lose `lost`, if it would.
pub fn refusal(target: &str, lost: &[String], accepted: bool) -> Option<String> {
    (!accepted && !lost.is_empty()).then(|| {
        format!(
            "cannot reset {target} without losing what it cannot carry over: {}. \
             Drop or move what it names first, or pass {ACCEPT_LOSS_FLAG} to drop it with the reset",
            lost.join("; ")
        )
    })
}

/// Reads what a reset of facedb's tables in `schema` would carry over and lose. Changes nothing.
/// On SQLite `schema` is ignored: a file has one.
pub fn capture(db: &mut Db, schema: &str) -> Result<Carry> {
    match db {
        Db::Postgres(conn) => capture_postgres(conn, schema),
        Db::Sqlite(conn) => capture_sqlite(conn),
    }
}

#[derive(QueryableByName)]
struct Item {
    #[diesel(sql_type = Text)]
    object: String,
    /// `NULL`: it cannot be carried over at all.
    #[diesel(sql_type = Nullable<Text>)]
    statements: Option<String>,
    /// The user-added column it uses, `table.column`: it goes with that column.
    #[diesel(sql_type = Nullable<Text>)]
    uses: Option<String>,
}

impl Carry {
    fn add(&mut self, items: Vec<Item>) {
        for item in items {
            match (item.statements, item.uses) {
                (Some(statements), None) => self.carried.push(Carried {
                    object: item.object,
                    statements,
                }),
                (_, Some(column)) => self
                    .lost
                    .push(format!("{} (uses column {column})", item.object)),
                (None, None) => self.lost.push(item.object),
            }
        }
    }
}

/// The names facedb's schema gives to columns (`table.column`) and to constraints and indexes.
fn known_names(backend: Backend) -> (Vec<String>, Vec<String>) {
    let expected = contract::expected(backend);
    let mut columns = Vec::new();
    let mut relations = Vec::new();
    for table in &expected.tables {
        columns.extend(
            table
                .columns
                .iter()
                .map(|c| format!("{}.{}", table.name, c.name)),
        );
        let keys = table.primary_key.iter().chain(&table.uniques);
        relations.extend(keys.filter_map(|k| k.name.clone()));
        relations.extend(table.foreign_keys.iter().filter_map(|fk| fk.name.clone()));
        relations.extend(table.indexes.iter().map(|i| i.name.clone()));
    }
    (columns, relations)
}

/// The catalog rows every PostgreSQL query below starts from. $1: the schema; $2: facedb's
/// tables; $3: its columns as `table.column`; $4: its enum types; $5: its constraint and index
/// names; $6: its bookkeeping tables.
macro_rules! pg_scope {
    () => {
        "WITH tables AS (
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
"
    };
}

/// Columns facedb's schema does not have, and the sequences they own.
const PG_LOST: &str = concat!(
    pg_scope!(),
    "SELECT 'column ' || u.name AS object, NULL::text AS statements, NULL::text AS uses
FROM user_columns u
UNION ALL
SELECT format('sequence %s (owned by column %s)', s.relname, u.name), NULL, NULL
FROM pg_depend d JOIN user_columns u ON d.refobjid = u.attrelid AND d.refobjsubid = u.attnum
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
  AND d.deptype IN ('a', 'i')
ORDER BY 1"
);

/// Owners other than the role that runs the reset (which owns what the migrations create). A
/// table's sequences and indexes follow it.
const PG_OWNERS: &str = concat!(
    pg_scope!(),
    "SELECT format('owner of %s (%s)', o.label, pg_get_userbyid(o.owner)) AS object,
       format('ALTER %s %I.%I OWNER TO %I', o.kind, $1, o.name, pg_get_userbyid(o.owner)) AS statements,
       NULL::text AS uses
FROM objects o
WHERE o.kind <> 'SEQUENCE' AND o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
ORDER BY 1"
);

const PG_CONSTRAINTS: &str = concat!(
    pg_scope!(),
    "SELECT format('constraint %s on table %s', k.name, k.table_name) AS object,
       format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', $1, k.table_name, k.name,
              pg_get_constraintdef(k.oid)) AS statements,
       u.name AS uses
FROM constraints k LEFT JOIN uses u ON u.classid = 'pg_constraint'::regclass AND u.objid = k.oid
ORDER BY k.contype = 'f', 1"
);

const PG_INDEXES: &str = concat!(
    pg_scope!(),
    "SELECT format('index %s on table %s', i.name, i.table_name) AS object,
       pg_get_indexdef(i.oid) AS statements, u.name AS uses
FROM indexes i LEFT JOIN uses u ON u.classid = 'pg_class'::regclass AND u.objid = i.oid
ORDER BY 1"
);

const PG_STATISTICS: &str = concat!(
    pg_scope!(),
    "SELECT format('statistics object %s on table %s', s.stxname, t.name) AS object,
       pg_get_statisticsobjdef(s.oid) AS statements, u.name AS uses
FROM pg_statistic_ext s JOIN tables t ON t.oid = s.stxrelid
LEFT JOIN uses u ON u.classid = 'pg_statistic_ext'::regclass AND u.objid = s.oid
ORDER BY 1"
);

/// Triggers the user created (not the internal ones of foreign keys), disabled or not.
const PG_TRIGGERS: &str = concat!(
    pg_scope!(),
    "SELECT format('trigger %s on table %s', g.name, g.table_name) AS object,
       pg_get_triggerdef(g.oid) || CASE g.tgenabled
           WHEN 'D' THEN format('; ALTER TABLE %I.%I DISABLE TRIGGER %I', $1, g.table_name, g.name)
           WHEN 'R' THEN format('; ALTER TABLE %I.%I ENABLE REPLICA TRIGGER %I', $1, g.table_name, g.name)
           WHEN 'A' THEN format('; ALTER TABLE %I.%I ENABLE ALWAYS TRIGGER %I', $1, g.table_name, g.name)
           ELSE '' END AS statements,
       u.name AS uses
FROM triggers g LEFT JOIN uses u ON u.classid = 'pg_trigger'::regclass AND u.objid = g.oid
ORDER BY 1"
);

/// Settings of facedb's tables and columns: replica identity (logical replication needs it),
/// storage parameters such as autovacuum's, and per-column statistics targets.
const PG_TABLE_SETTINGS: &str = concat!(
    pg_scope!(),
    "SELECT format('replica identity of table %s (%s)', t.name, CASE c.relreplident
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
ORDER BY 1"
);

const PG_ROW_SECURITY: &str = concat!(
    pg_scope!(),
    "SELECT format('row level security on table %s (%s)', t.name, concat_ws(', ',
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
LEFT JOIN uses u ON u.classid = 'pg_policy'::regclass AND u.objid = p.oid
ORDER BY 1"
);

/// An ACL as it stood: revoke what the defaults grant (the owner's privileges, and PUBLIC's
/// USAGE on a type), then grant each entry again.
const PG_PRIVILEGES: &str = concat!(
    pg_scope!(),
    "SELECT * FROM (
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
) privileges
-- A table's REVOKE ALL revokes its columns' privileges too: columns come after tables.
ORDER BY object LIKE 'privileges on column%', object"
);

/// Publication membership, with PostgreSQL 15's column lists and row filters. A publication
/// FOR ALL TABLES or FOR TABLES IN SCHEMA takes the new tables by itself.
const PG_PUBLICATIONS: &str = concat!(
    pg_scope!(),
    "SELECT format('publication %s: table %s', p.pubname, t.name) AS object,
       format('ALTER PUBLICATION %I ADD TABLE %I.%I', p.pubname, $1, t.name)
       || coalesce(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
                            FROM pg_attribute a
                            WHERE a.attrelid = r.prrelid AND a.attnum = ANY(r.prattrs::int2[])) || ')', '')
       || coalesce(' WHERE (' || pg_get_expr(r.prqual, r.prrelid) || ')', '') AS statements,
       u.name AS uses
FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN tables t ON t.oid = r.prrelid
LEFT JOIN uses u ON u.classid = 'pg_publication_rel'::regclass AND u.objid = r.oid
ORDER BY 1"
);

/// Before PostgreSQL 15 a publication names whole tables.
const PG_PUBLICATIONS_BEFORE_15: &str = concat!(
    pg_scope!(),
    "SELECT format('publication %s: table %s', p.pubname, t.name) AS object,
       format('ALTER PUBLICATION %I ADD TABLE %I.%I', p.pubname, $1, t.name) AS statements,
       NULL::text AS uses
FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid JOIN tables t ON t.oid = r.prrelid
ORDER BY 1"
);

/// Comments on what exists again after the reset: facedb's tables, columns, sequences, types,
/// constraints and indexes, and what the reset carries over. Comments on what is lost go with it.
const PG_COMMENTS: &str = concat!(
    pg_scope!(),
    ", commented AS (
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
           format('STATISTICS %I.%I', s.stxnamespace::regnamespace::text, s.stxname)
    FROM pg_statistic_ext s JOIN tables t ON t.oid = s.stxrelid
)
SELECT format('comment on %s', o.label) AS object,
       format('COMMENT ON %s IS %L', o.target, d.description) AS statements,
       NULL::text AS uses
FROM commented o JOIN pg_description d
  ON d.classoid = o.classoid AND d.objoid = o.oid AND d.objsubid = o.subid
WHERE NOT EXISTS (SELECT 1 FROM uses u WHERE u.classid = o.classoid AND u.objid = o.oid)
  -- The index of a lost constraint goes with it.
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN uses u
                  ON u.classid = 'pg_constraint'::regclass AND u.objid = k.oid
                  WHERE o.classoid = 'pg_class'::regclass AND k.conindid = o.oid
                    AND k.contype IN ('p', 'u', 'x'))
ORDER BY 1"
);

fn capture_postgres(conn: &mut PgConnection, schema: &str) -> Result<Carry> {
    let (columns, relations) = known_names(Backend::Postgres);
    let version: i32 = diesel::select(diesel::dsl::sql::<diesel::sql_types::Integer>(
        "current_setting('server_version_num')::int",
    ))
    .get_result(conn)?;
    let publications = if version >= 150_000 {
        PG_PUBLICATIONS
    } else {
        PG_PUBLICATIONS_BEFORE_15
    };
    let mut carry = Carry::default();
    // In the order they are re-applied: owners before the privileges that name them, constraints
    // and indexes before the comments on them.
    for query in [
        PG_LOST,
        PG_OWNERS,
        PG_CONSTRAINTS,
        PG_INDEXES,
        PG_STATISTICS,
        PG_TRIGGERS,
        PG_TABLE_SETTINGS,
        PG_ROW_SECURITY,
        PG_PRIVILEGES,
        publications,
        PG_COMMENTS,
    ] {
        let items: Vec<Item> = diesel::sql_query(query)
            .bind::<Text, _>(schema)
            .bind::<Array<Text>, _>(inventory::TABLES.to_vec())
            .bind::<Array<Text>, _>(&columns)
            .bind::<Array<Text>, _>(inventory::ENUM_TYPES.to_vec())
            .bind::<Array<Text>, _>(&relations)
            .bind::<Array<Text>, _>(inventory::BOOKKEEPING_TABLES.to_vec())
            .load(conn)?;
        carry.add(items);
    }
    Ok(carry)
}

#[derive(QueryableByName)]
struct SqliteObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct ColumnName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// SQLite keeps each index's and trigger's SQL: the user-added ones are created again from it.
/// One that names a user-added column goes with that column.
fn capture_sqlite(conn: &mut SqliteConnection) -> Result<Carry> {
    let (known_columns, known_relations) = known_names(Backend::Sqlite);
    let tables = inventory::TABLES.map(|t| format!("'{t}'")).join(", ");
    let mut user_columns: Vec<(String, String)> = Vec::new();
    for table in inventory::TABLES {
        let columns: Vec<ColumnName> =
            diesel::sql_query("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind::<Text, _>(table)
                .load(conn)?;
        user_columns.extend(
            columns
                .into_iter()
                .filter(|c| !known_columns.contains(&format!("{table}.{}", c.name)))
                .map(|c| (table.to_owned(), c.name)),
        );
    }
    let mut items: Vec<Item> = user_columns
        .iter()
        .map(|(table, column)| Item {
            object: format!("column {table}.{column}"),
            statements: None,
            uses: None,
        })
        .collect();
    // Automatic indexes (of PRIMARY KEY and UNIQUE) have no SQL: they come with the table.
    let objects: Vec<SqliteObject> = diesel::sql_query(format!(
        "SELECT type AS kind, name, tbl_name AS table_name, sql FROM sqlite_master \
         WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN ({tables}) \
         ORDER BY type, name"
    ))
    .load(conn)?;
    for object in objects {
        if known_relations.contains(&object.name) {
            continue;
        }
        let sql = object.sql.to_lowercase();
        let uses = user_columns
            .iter()
            .find(|(table, column)| {
                *table == object.table_name && inventory::mentions(&sql, &column.to_lowercase())
            })
            .map(|(table, column)| format!("{table}.{column}"));
        items.push(Item {
            object: format!(
                "{} {} on table {}",
                object.kind, object.name, object.table_name
            ),
            statements: Some(object.sql),
            uses,
        });
    }
    let mut carry = Carry::default();
    carry.add(items);
    Ok(carry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_uses_a_lost_column_is_lost_with_it() {
        let item = |object: &str, statements: Option<&str>, uses: Option<&str>| Item {
            object: object.to_owned(),
            statements: statements.map(str::to_owned),
            uses: uses.map(str::to_owned),
        };
        let mut carry = Carry::default();
        carry.add(vec![
            item("column visits.note", None, None),
            item("index a on table visits", Some("CREATE INDEX a"), None),
            item(
                "index b on table visits",
                Some("CREATE INDEX b"),
                Some("visits.note"),
            ),
        ]);
        assert_eq!(carry.summary().carried_over, ["index a on table visits"]);
        assert_eq!(
            carry.lost,
            [
                "column visits.note",
                "index b on table visits (uses column visits.note)"
            ]
        );
        assert!(carry.check_losses("db", true).is_ok());
        let refusal = carry.check_losses("db", false).unwrap_err();
        assert_eq!(refusal.exit_code(), crate::error::ExitCode::Schema);
        let refusal = refusal.to_string();
        assert!(refusal.contains("column visits.note; index b"), "{refusal}");
        assert!(refusal.contains(ACCEPT_LOSS_FLAG), "{refusal}");
    }
}
