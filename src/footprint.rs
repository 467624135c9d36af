//! Everything a reset's drop takes with it, read from the database's own records rather than from
//! a list of kinds, so that a kind of object facedb has never heard of is still seen.
//!
//! PostgreSQL: starting from facedb's tables (bookkeeping included) and enum types, every object
//! `pg_depend` records as depending on them, transitively (columns, indexes, constraints,
//! defaults, sequences, triggers, rules, policies, statistics objects, publication memberships,
//! row and array types, and whatever kind a later PostgreSQL adds). Each object is named by
//! `pg_describe_object` and described by its catalog row (`to_jsonb`, without the columns that
//! hold OIDs, transaction ids or expression trees, and without a few counters derived from other
//! rows), the rows of the catalogs keyed by it (`pg_attribute`, `pg_index`, `pg_sequence`,
//! `pg_enum`, `pg_partitioned_table`), its definition as PostgreSQL prints it (`pg_get_*def`,
//! `pg_get_expr`), its comment, security labels, owner and policy roles (`pg_shdepend`), and what
//! it depends on outside this set. SQLite: the `sqlite_schema` rows of facedb's tables (tables,
//! indexes, triggers) and their columns.
//!
//! A reset reads a footprint before its drop and again once the migrations, the seed and the
//! carried-over statements ran, inside the same transaction, and [`compare`] says what changed:
//! that is the plan's "lost" and "reverted to the schema", complete by construction.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use serde::Serialize;

use crate::config::SchemaName;
use crate::db::Db;
use crate::error::Result;
use crate::inventory;

/// Each object (`pg_describe_object`'s name) with its properties (name → value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Footprint {
    objects: BTreeMap<String, BTreeMap<String, String>>,
}

/// What a reset changed, as [`compare`] finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Objects, or what people attached to an object (a comment, a privilege, a dependency on
    /// something that is not facedb's), that are gone after the reset.
    pub lost: Vec<String>,
    /// Properties of facedb's own objects that go back to what the migrations make.
    pub reverted: Vec<String>,
    /// Objects that are the same after the reset: made by the migrations, or carried over.
    pub created_again: Vec<String>,
}

impl Footprint {
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    fn add(&mut self, object: String, property: String, value: String) {
        self.objects
            .entry(object)
            .or_default()
            .insert(property, value);
    }
}

/// Properties whose loss is a loss of something attached, not a property going back to the
/// schema's: comments, security labels, owners, privileges, dependencies.
fn is_attached(property: &str) -> bool {
    [
        "comment",
        "security label",
        "owner",
        "privileges",
        "depends on",
    ]
    .iter()
    .any(|prefix| property.starts_with(prefix))
}

/// Compares the footprint before a reset with the one after it.
pub fn compare(before: &Footprint, after: &Footprint) -> Changes {
    let mut changes = Changes::default();
    // Nothing of facedb's was there: everything is new, nothing is lost or reverted.
    if before.is_empty() {
        return changes;
    }
    for (object, old) in &before.objects {
        let Some(new) = after.objects.get(object) else {
            changes.lost.push(object.clone());
            continue;
        };
        let mut same = true;
        for (property, value) in old {
            match new.get(property) {
                Some(now) if now == value => {}
                None if is_attached(property) => {
                    same = false;
                    changes.lost.push(match value.as_str() {
                        "yes" => format!("{object}: {property}"),
                        _ => format!("{object}: {property} ({value})"),
                    });
                }
                now => {
                    same = false;
                    changes.reverted.push(format!(
                        "{object}: {property} {value} becomes {}",
                        now.map_or("(none)", String::as_str)
                    ));
                }
            }
        }
        for (property, value) in new.iter().filter(|(p, _)| !old.contains_key(*p)) {
            same = false;
            changes
                .reverted
                .push(format!("{object}: {property} (none) becomes {value}"));
        }
        if same {
            changes.created_again.push(object.clone());
        }
    }
    for object in after
        .objects
        .keys()
        .filter(|o| !before.objects.contains_key(*o))
    {
        changes
            .reverted
            .push(format!("{object}: made again by the migrations"));
    }
    changes
}

/// Reads the footprint of facedb's objects in `schema`. Changes nothing.
pub fn read(db: &mut Db, schema: &SchemaName) -> Result<Footprint> {
    let tables: Vec<&str> = inventory::TABLES
        .iter()
        .chain(&inventory::BOOKKEEPING_TABLES)
        .copied()
        .collect();
    let mut footprint = Footprint::default();
    match db {
        Db::Postgres(conn) => {
            // The members and their properties in one statement: the scope is worked out once.
            let found: Vec<Found> =
                diesel::sql_query(format!("{} {PG_MEMBERS_AND_PROPERTIES}", scope(schema)))
                    .bind::<Array<Text>, _>(&tables)
                    .bind::<Array<Text>, _>(&inventory::ENUM_TYPES[..])
                    .load(conn)?;
            let mut members = Vec::new();
            let mut properties = Vec::new();
            for row in found {
                match (row.catalog, row.id, row.object, row.property) {
                    (Some(catalog), Some(id), _, _) => members.push(Member { catalog, id }),
                    (_, _, Some(object), Some(property)) => properties.push(Property {
                        object,
                        property,
                        value: row.value.unwrap_or_else(|| "null".to_owned()),
                    }),
                    _ => {}
                }
            }
            let mut catalogs: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for member in &members {
                catalogs
                    .entry(member.catalog.clone())
                    .or_default()
                    .push(member.id);
            }
            // The catalogs keyed by an object of another catalog: (catalog, key, the object's
            // catalog, the column that numbers its parts).
            let satellites = [
                ("pg_attribute", "attrelid", "pg_class", Some("attnum")),
                ("pg_index", "indexrelid", "pg_class", None),
                ("pg_sequence", "seqrelid", "pg_class", None),
                ("pg_partitioned_table", "partrelid", "pg_class", None),
            ];
            // Every catalog's rows in one statement: one round trip and one plan, not one each.
            let mut parts = Vec::new();
            for (catalog, ids) in &catalogs {
                parts.push(catalog_rows(catalog, "oid", catalog, None, ids));
                for (satellite, key, of, part) in satellites {
                    if of == catalog {
                        parts.push(catalog_rows(satellite, key, of, part, ids));
                    }
                }
            }
            let rows: Vec<CatalogRow> = if parts.is_empty() {
                Vec::new()
            } else {
                diesel::sql_query(parts.join("\nUNION ALL\n"))
                    .bind::<Array<Text>, _>(&DERIVED_COLUMNS[..])
                    .load(conn)?
            };
            for row in rows {
                let fields: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&row.fields).unwrap_or_default();
                for (field, value) in fields {
                    footprint.add(row.object.clone(), field, normalize(value));
                }
            }
            for p in properties {
                footprint.add(p.object, p.property, p.value);
            }
        }
        Db::Sqlite(conn) => {
            let properties: Vec<Property> = diesel::sql_query(SQLITE_PROPERTIES)
                .bind::<Text, _>(serde_json::to_string(&tables).unwrap_or_default())
                .load(conn)?;
            for p in properties {
                footprint.add(p.object, p.property, p.value);
            }
        }
    }
    Ok(footprint)
}

/// A value as compared: options PostgreSQL keeps for itself (`pg_…=`, in `reloptions` and
/// `attoptions`; `pg_dump` leaves them out) are not the schema's, no options is no options, and
/// a list of texts (options, privileges) is a set.
fn normalize(value: serde_json::Value) -> String {
    match value {
        serde_json::Value::Array(items) => {
            let kept: Vec<serde_json::Value> = items
                .into_iter()
                .filter(|item| {
                    !item
                        .as_str()
                        .is_some_and(|s| s.starts_with("pg_") && s.contains('='))
                })
                .collect();
            if kept.is_empty() {
                return "null".to_owned();
            }
            // Options and privileges are sets: their order says nothing.
            let mut texts: Vec<&str> = kept.iter().filter_map(|v| v.as_str()).collect();
            if texts.len() == kept.len() {
                texts.sort_unstable();
                return serde_json::json!(texts).to_string();
            }
            serde_json::Value::Array(kept).to_string()
        }
        other => other.to_string(),
    }
}

struct Member {
    catalog: String,
    id: i64,
}

/// A row of `PG_MEMBERS_AND_PROPERTIES`: a member (`catalog`, `id`) or a property (`object`,
/// `property`, `value`).
#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Nullable<Text>)]
    catalog: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    object: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    property: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    value: Option<String>,
}

#[derive(QueryableByName)]
struct CatalogRow {
    #[diesel(sql_type = Text)]
    object: String,
    #[diesel(sql_type = Text)]
    fields: String,
}

#[derive(QueryableByName)]
struct Property {
    #[diesel(sql_type = Text)]
    object: String,
    #[diesel(sql_type = Text)]
    property: String,
    #[diesel(sql_type = Text)]
    value: String,
}

/// Columns of a catalog that say nothing about the schema: they are derived from other rows
/// (how many columns, checks, indexes, triggers, rules or children a table has, whether a column
/// has a default: its `default` property says which), or physical
/// (pages, tuples, the column's number, a value kept for rows written before a column existed,
/// whether an index built over updated rows must wait for older transactions).
const DERIVED_COLUMNS: [&str; 14] = [
    "relpages",
    "reltuples",
    "relallvisible",
    "relnatts",
    "relchecks",
    "relhasindex",
    "relhasrules",
    "relhastriggers",
    "relhassubclass",
    "attnum",
    "atthasmissing",
    "atthasdef",
    "attcacheoff",
    "indcheckxmin",
];

/// The query for the rows of `catalog` whose `key` is one of `ids`, each as JSON without the
/// columns that hold OIDs, transaction ids, expression trees or derived values (`$1`): what is
/// left is the same for the same definition. Named as the object of `of` they belong to (with
/// `part`, one per part). The ids are numbers read from the catalogs, written into the query so
/// that every catalog's query goes in one statement.
fn catalog_rows(catalog: &str, key: &str, of: &str, part: Option<&str>, ids: &[i64]) -> String {
    let (part_number, only_parts) = match part {
        // Columns of tables: not the system ones, not the dropped ones (an index's or a
        // sequence's columns are made with it).
        Some(part) => (
            format!("x.{part}"),
            format!(
                " AND x.{part} > 0 AND NOT x.attisdropped AND EXISTS \
                 (SELECT 1 FROM pg_class r WHERE r.oid = x.{key} AND r.relkind IN ('r', 'p'))"
            ),
        ),
        None => ("0".to_owned(), String::new()),
    };
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!(
        "SELECT pg_describe_object('{of}'::regclass, x.{key}, {part_number}) AS object,
                (to_jsonb(x) - ARRAY(
                    SELECT a.attname::text FROM pg_attribute a
                    WHERE a.attrelid = '{catalog}'::regclass AND a.attnum > 0
                      AND (a.atttypid IN ('oid'::regtype, 'regproc'::regtype, 'regclass'::regtype,
                                          'regtype'::regtype, 'oidvector'::regtype, 'xid'::regtype,
                                          'pg_node_tree'::regtype, 'anyarray'::regtype)
                           OR a.attname = ANY($1))))::text AS fields
         FROM {catalog} x WHERE x.{key} = ANY('{{{}}}'::oid[]){only_parts}",
        ids.join(",")
    )
}

/// The objects a drop of facedb's tables ($1) and enum types ($2) in `schema` takes with it.
fn scope(schema: &SchemaName) -> String {
    format!(
        "WITH RECURSIVE base (classid, objid) AS (
    SELECT 'pg_class'::regclass::oid, c.oid FROM pg_class c
    WHERE c.relnamespace = {ns} AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)
    UNION
    SELECT 'pg_type'::regclass::oid, t.oid FROM pg_type t
    WHERE t.typnamespace = {ns} AND t.typtype = 'e' AND t.typname = ANY($2)
),
closure (classid, objid) AS (
    SELECT classid, objid FROM base
    UNION
    SELECT d.classid, d.objid FROM pg_depend d JOIN closure c
      ON d.refclassid = c.classid AND d.refobjid = c.objid
    WHERE d.deptype <> 'p'
),
-- Named by number, made again with the objects they belong to: TOAST tables (and their types
-- and indexes) and the internal triggers of foreign keys.
members AS (
    SELECT c.classid, c.objid FROM closure c
    WHERE NOT CASE c.classid
        WHEN 'pg_class'::regclass THEN EXISTS (SELECT 1 FROM pg_class r
            WHERE r.oid = c.objid AND r.relnamespace = 'pg_toast'::regnamespace)
        WHEN 'pg_type'::regclass THEN EXISTS (SELECT 1 FROM pg_type t
            WHERE t.oid = c.objid AND t.typnamespace = 'pg_toast'::regnamespace)
        WHEN 'pg_trigger'::regclass THEN EXISTS (SELECT 1 FROM pg_trigger g
            WHERE g.oid = c.objid AND g.tgisinternal)
        -- A column's default is a property of the column (its `default`).
        WHEN 'pg_attrdef'::regclass THEN true
        ELSE false END
),
-- The members and their columns, each with its name.
objects AS (
    SELECT m.classid, m.objid, 0 AS subid, pg_describe_object(m.classid, m.objid, 0) AS object
    FROM members m
    UNION ALL
    SELECT m.classid, m.objid, a.attnum, pg_describe_object(m.classid, m.objid, a.attnum)
    FROM members m JOIN pg_attribute a ON m.classid = 'pg_class'::regclass
      AND a.attrelid = m.objid AND a.attnum > 0 AND NOT a.attisdropped
    -- An index's or a sequence's columns are made with it.
    JOIN pg_class r ON r.oid = a.attrelid AND r.relkind IN ('r', 'p')
)",
        ns = schema.namespace()
    )
}

/// What is not in the objects' own catalog rows: definitions as PostgreSQL prints them, enum
/// labels, column types and defaults, comments, security labels, shared dependencies (owner,
/// policy roles) and dependencies on objects outside the set.
macro_rules! pg_properties {
    () => {
        "
SELECT o.object, 'definition' AS property, d.definition AS value FROM objects o
CROSS JOIN LATERAL (SELECT CASE o.classid
    WHEN 'pg_class'::regclass THEN (SELECT CASE WHEN r.relkind IN ('i', 'I') THEN pg_get_indexdef(r.oid)
                                                WHEN r.relkind IN ('v', 'm') THEN pg_get_viewdef(r.oid) END
                                    FROM pg_class r WHERE r.oid = o.objid)
    WHEN 'pg_constraint'::regclass THEN pg_get_constraintdef(o.objid)
    WHEN 'pg_trigger'::regclass THEN pg_get_triggerdef(o.objid)
    WHEN 'pg_rewrite'::regclass THEN pg_get_ruledef(o.objid)
    WHEN 'pg_statistic_ext'::regclass THEN pg_get_statisticsobjdef(o.objid)
    WHEN 'pg_attrdef'::regclass THEN (SELECT pg_get_expr(a.adbin, a.adrelid) FROM pg_attrdef a WHERE a.oid = o.objid)
    WHEN 'pg_policy'::regclass THEN (SELECT concat_ws(' ', 'USING', pg_get_expr(p.polqual, p.polrelid),
                                                      'WITH CHECK', pg_get_expr(p.polwithcheck, p.polrelid))
                                     FROM pg_policy p WHERE p.oid = o.objid)
    WHEN 'pg_publication_rel'::regclass THEN (SELECT coalesce(pg_get_expr(p.prqual, p.prrelid), '')
                                              FROM pg_publication_rel p WHERE p.oid = o.objid)
    WHEN 'pg_type'::regclass THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder)
                                   FROM pg_enum e WHERE e.enumtypid = o.objid)
    END AS definition) d
WHERE o.subid = 0 AND d.definition IS NOT NULL
UNION ALL
SELECT o.object, 'type', format_type(a.atttypid, a.atttypmod)
FROM objects o JOIN pg_attribute a ON a.attrelid = o.objid AND a.attnum = o.subid
WHERE o.classid = 'pg_class'::regclass AND o.subid > 0
UNION ALL
SELECT o.object, 'default', pg_get_expr(d.adbin, d.adrelid)
FROM objects o JOIN pg_attrdef d ON d.adrelid = o.objid AND d.adnum = o.subid
WHERE o.classid = 'pg_class'::regclass AND o.subid > 0
UNION ALL
-- Looked up object by object in pg_description's index: a hash join would read every comment.
SELECT o.object, 'comment', d.description FROM objects o CROSS JOIN LATERAL (
  SELECT d.description FROM pg_description d
  WHERE d.objoid = o.objid AND d.classoid = o.classid AND d.objsubid = o.subid OFFSET 0) d
UNION ALL
SELECT o.object, 'security label (' || s.provider || ')', s.label FROM objects o JOIN pg_seclabel s
  ON s.classoid = o.classid AND s.objoid = o.objid AND s.objsubid = o.subid
UNION ALL
SELECT o.object, CASE s.deptype WHEN 'o' THEN 'owner' WHEN 'r' THEN 'policy role'
                                ELSE 'shared dependency ' || s.deptype::text END
                 || CASE s.deptype WHEN 'o' THEN '' ELSE ' ' || pg_describe_object(s.refclassid, s.refobjid, 0) END,
       CASE s.deptype WHEN 'o' THEN pg_describe_object(s.refclassid, s.refobjid, 0) ELSE 'yes' END
FROM objects o JOIN pg_shdepend s ON s.classid = o.classid AND s.objid = o.objid AND s.objsubid = o.subid
  AND s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
-- Privileges are in the objects' rows (relacl, attacl, typacl, …).
WHERE s.deptype <> 'a'
UNION ALL
SELECT o.object, 'depends on ' || pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid),
       CASE d.deptype WHEN 'n' THEN 'normal' WHEN 'a' THEN 'auto' WHEN 'i' THEN 'internal'
                      ELSE d.deptype::text END
FROM objects o JOIN pg_depend d ON d.classid = o.classid AND d.objid = o.objid AND d.objsubid = o.subid
-- NOT IN, which PostgreSQL hashes: NOT EXISTS on the closure was a nested loop over it.
WHERE (d.refclassid, d.refobjid) NOT IN (SELECT classid, objid FROM closure)
  AND d.deptype <> 'p'"
    };
}

/// Appended to `scope`'s common table expressions: each member (`catalog`, `id`), then each of
/// the members' properties (`object`, `property`, `value`), one statement for both.
const PG_MEMBERS_AND_PROPERTIES: &str = concat!(
    ", properties (object, property, value) AS (",
    pg_properties!(),
    ")
SELECT m.classid::regclass::text AS catalog, m.objid::int8 AS id,
       NULL::text AS object, NULL::text AS property, NULL::text AS value
FROM members m
UNION ALL
SELECT NULL, NULL, p.object, p.property, p.value FROM properties p"
);

/// $1: facedb's table names as a JSON array. Each table, and each index and trigger on them with
/// the SQL SQLite kept for it; each column of the tables (a table's own SQL, which an added
/// column rewrites, is compared column by column).
const SQLITE_PROPERTIES: &str = "
SELECT m.type || ' ' || m.name AS object, 'sql' AS property,
       CASE WHEN m.type = 'table' THEN '' ELSE coalesce(m.sql, '') END AS value
FROM sqlite_schema m WHERE m.tbl_name IN (SELECT value FROM json_each($1))
UNION ALL
SELECT 'column ' || m.name || '.' || p.name, 'definition',
       p.type || CASE WHEN p.\"notnull\" THEN ' NOT NULL' ELSE '' END
       || coalesce(' DEFAULT ' || p.dflt_value, '') || CASE WHEN p.pk > 0 THEN ' PRIMARY KEY' ELSE '' END
FROM sqlite_schema m, pragma_table_xinfo(m.name) p
WHERE m.type = 'table' AND m.name IN (SELECT value FROM json_each($1))";

#[cfg(test)]
mod tests {
    use super::*;

    fn footprint(items: &[(&str, &str, &str)]) -> Footprint {
        let mut footprint = Footprint::default();
        for (object, property, value) in items {
            footprint.add(object.to_string(), property.to_string(), value.to_string());
        }
        footprint
    }

    #[test]
    fn what_is_gone_is_lost_and_what_differs_is_reverted() {
        let before = footprint(&[
            ("table visits", "relpersistence", "\"u\""),
            ("table visits", "comment", "rows"),
            ("rule r on table visits", "definition", "CREATE RULE r"),
            ("index i", "definition", "CREATE INDEX i"),
        ]);
        let after = footprint(&[
            ("table visits", "relpersistence", "\"p\""),
            ("index i", "definition", "CREATE INDEX i"),
            ("index visits_pkey", "definition", "CREATE UNIQUE INDEX"),
        ]);
        let changes = compare(&before, &after);
        assert_eq!(
            changes.lost,
            ["rule r on table visits", "table visits: comment (rows)"]
        );
        assert_eq!(
            changes.reverted,
            [
                "table visits: relpersistence \"u\" becomes \"p\"",
                "index visits_pkey: made again by the migrations"
            ]
        );
        assert_eq!(changes.created_again, ["index i"]);
        assert_eq!(compare(&Footprint::default(), &after), Changes::default());
    }

    #[test]
    fn options_postgresql_keeps_for_itself_are_not_compared() {
        let value = serde_json::json!(["pg_attver=1", "n_distinct=5"]);
        assert_eq!(normalize(value), r#"["n_distinct=5"]"#);
        assert_eq!(normalize(serde_json::json!(["pg_attver=2"])), "null");
    }
}
