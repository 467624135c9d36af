//! What facedb owns in a database, how many rows it holds, and how to drop exactly that.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::config::SchemaName;
pub(crate) use crate::db::Dependent;
use crate::db::{Db, Owned};
use crate::error::{Error, Result};

/// facedb's tables, children before parents: the order in which they can be dropped.
pub const TABLES: [&str; 12] = [
    "api_keys",
    "workers",
    "visits",
    "customer_face_images",
    "customers",
    "staff_face_images",
    "staff",
    "camera_sessions",
    "cameras",
    "users",
    "sites",
    "tenants",
];

/// facedb's bookkeeping tables (dropped and recreated with the rest).
pub const BOOKKEEPING_TABLES: [&str; 2] = ["__facedb_metadata", "__diesel_schema_migrations"];

/// facedb's PostgreSQL enum types.
pub const ENUM_TYPES: [&str; 2] = ["userrole", "cameratype"];

/// All of facedb's names, as the catalog queries that tell its objects from others' take them.
pub const OWNED: Owned<'static> = Owned {
    tables: &TABLES,
    bookkeeping_tables: &BOOKKEEPING_TABLES,
    enum_types: &ENUM_TYPES,
};

/// Above this many rows (by the planner's estimate) a table is not counted exactly: counting a
/// big table would make the reset prompt slow.
const EXACT_COUNT_LIMIT: f64 = 100_000.0;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCount {
    pub table: String,
    pub rows: i64,
    /// `rows` is the planner's estimate, not an exact count.
    pub estimated: bool,
}

/// Whether the counts show anything beyond what `init` seeds (one admin).
pub fn holds_data_beyond_seed(counts: &[TableCount]) -> bool {
    counts.iter().any(|c| {
        if c.table == "users" {
            c.rows > 1
        } else {
            c.rows > 0
        }
    })
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Row counts of facedb's tables that exist in `schema`, in `TABLES` order (parents last).
pub fn count_rows(db: &mut Db, schema: &SchemaName) -> Result<Vec<TableCount>> {
    // Which tables exist, and how big the planner thinks they are (-1 or 0: never analysed).
    let estimates = db.table_estimates(schema, &TABLES)?;
    let to_count: Vec<&str> = estimates
        .iter()
        .filter(|e| e.estimate < EXACT_COUNT_LIMIT)
        .map(|e| e.name.as_str())
        .collect();
    let mut exact: Vec<Count> = Vec::new();
    if !to_count.is_empty() {
        let query = to_count
            .iter()
            .map(|t| {
                format!(
                    "SELECT '{t}' AS name, count(*) AS rows FROM {}",
                    schema.qualify(t)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        exact = diesel::sql_query(query).load(db)?;
    }
    let counts = TABLES
        .iter()
        .filter_map(|table| {
            if let Some(count) = exact.iter().find(|c| c.name == *table) {
                return Some(TableCount {
                    table: table.to_string(),
                    rows: count.rows,
                    estimated: false,
                });
            }
            estimates
                .iter()
                .find(|e| e.name == *table)
                .map(|e| TableCount {
                    table: table.to_string(),
                    rows: e.estimate as i64,
                    estimated: true,
                })
        })
        .collect();
    Ok(counts)
}

/// Rows of one tenant, for the reset preview.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TenantRows {
    pub tenant_id: String,
    pub name: String,
    /// (table, rows) for each non-empty table, in `TABLES` order.
    pub rows: Vec<(String, i64)>,
}

/// Above this many tenants or rows the preview does not break rows down by tenant.
const TENANT_BREAKDOWN_LIMIT: (usize, i64) = (20, 100_000);

#[derive(QueryableByName)]
struct TenantCount {
    #[diesel(sql_type = Text)]
    tenant_id: String,
    /// The table name, or the tenant's name in the row that names it.
    #[diesel(sql_type = Text)]
    label: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Rows per tenant, when that is cheap: every table was counted exactly, and there are few
/// tenants and rows. `None` otherwise.
pub fn tenant_rows(
    db: &mut Db,
    schema: &SchemaName,
    counts: &[TableCount],
) -> Result<Option<Vec<TenantRows>>> {
    let tenants = counts
        .iter()
        .find(|c| c.table == "tenants")
        .map_or(0, |c| c.rows);
    let total: i64 = counts.iter().map(|c| c.rows).sum();
    let (max_tenants, max_rows) = TENANT_BREAKDOWN_LIMIT;
    if tenants == 0
        || tenants as usize > max_tenants
        || total > max_rows
        || counts.iter().any(|c| c.estimated)
    {
        return Ok(None);
    }
    // One query: a row naming each tenant (rows = -1), then per-table counts. Every facedb table
    // but `tenants` has a tenant_id column.
    let mut parts = vec![format!(
        "SELECT tenant_id, name AS label, -1 AS rows FROM {}",
        schema.qualify("tenants")
    )];
    parts.extend(counts.iter().filter(|c| c.rows > 0 && c.table != "tenants").map(|c| {
        format!(
            "SELECT tenant_id, '{}' AS label, count(*) AS rows FROM {} WHERE tenant_id IS NOT NULL GROUP BY tenant_id",
            c.table,
            schema.qualify(&c.table)
        )
    }));
    let query = parts.join(" UNION ALL ");
    let rows: Vec<TenantCount> = diesel::sql_query(query).load(db)?;
    let mut tenants: Vec<TenantRows> = rows
        .iter()
        .filter(|r| r.rows < 0)
        .map(|named| TenantRows {
            tenant_id: named.tenant_id.clone(),
            name: named.label.clone(),
            // Parents first, as a person reads them: sites before cameras before visits.
            rows: TABLES
                .iter()
                .rev()
                .filter_map(|table| {
                    rows.iter()
                        .find(|r| {
                            r.rows >= 0 && r.label == *table && r.tenant_id == named.tenant_id
                        })
                        .map(|r| (table.to_string(), r.rows))
                })
                .collect(),
        })
        .collect();
    tenants.sort_by(|a, b| a.tenant_id.cmp(&b.tenant_id));
    Ok(Some(tenants))
}

/// The dependents as one line: `view v depends on table visits; …`.
pub fn describe_all(dependents: &[Dependent]) -> String {
    dependents
        .iter()
        .map(Dependent::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every object facedb does not own that would stop `drop_owned`, found without dropping
/// anything (no locks beyond catalog reads). PostgreSQL: the normal dependencies on facedb's
/// tables, their sequences, row types and its enum types, from objects that would not go with the
/// tables. SQLite: views, and foreign keys that name facedb's tables.
pub fn foreign_dependents(db: &mut Db, schema: &SchemaName) -> Result<Vec<Dependent>> {
    db.foreign_dependents(schema, &OWNED)
}

/// What moving facedb's tables out of a schema needs first ([`claim`] makes it): the tables
/// locked until the transaction ends, and what depended on them then.
#[derive(Debug)]
pub struct Claim {
    /// facedb's tables there (its bookkeeping tables too), locked: none, nothing to move.
    tables: Vec<String>,
    /// The objects facedb does not own that depend on its tables or types: none, or the move
    /// must refuse.
    pub foreign_dependents: Vec<Dependent>,
}

impl Claim {
    /// facedb's tables that were there and are locked, tables first, then bookkeeping tables.
    pub fn tables(&self) -> &[String] {
        &self.tables
    }
}

/// Locks facedb's tables in `schema` against every change until the transaction ends, then reads
/// what depends on them: checked once, and nothing can come to depend on a locked table after
/// it. (An enum type cannot be locked: take the claim just before the moves.) In a read-only
/// transaction nothing is locked; nothing will be moved there either.
pub fn claim(db: &mut Db, schema: &SchemaName) -> Result<Claim> {
    let tables = db.lock_owned_tables(schema, &OWNED)?;
    Ok(Claim {
        tables,
        foreign_dependents: foreign_dependents(db, schema)?,
    })
}

/// Which of facedb's bookkeeping tables exist, in `BOOKKEEPING_TABLES` order.
pub fn existing_bookkeeping_tables(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    db.existing_tables(schema, &BOOKKEEPING_TABLES)
}

/// Which of facedb's enum types exist (PostgreSQL; SQLite has none), in `ENUM_TYPES` order.
pub fn existing_types(db: &mut Db, schema: &SchemaName) -> Result<Vec<String>> {
    db.existing_types(schema, &ENUM_TYPES)
}

/// Drops everything facedb owns in `schema`, and nothing else. An object facedb does not own
/// that depends on one of its tables (a view, another table's foreign key) stops the drop with
/// `Error::Schema` naming it: facedb never cascades into other people's objects. Of a
/// `__diesel_schema_migrations` shared with other diesel applications only facedb's rows go; the
/// table goes only when nothing else is left in it. Runs inside the caller's transaction, after
/// [`crate::ownership::Ownership::require`] showed that facedb owns what is there.
pub fn drop_owned(db: &mut Db, schema: &SchemaName, target: &str) -> Result<()> {
    let blocked = |what: String| {
        Error::Schema(format!(
            "cannot reset {target}: {what}. facedb drops only what it owns; drop or change what it names first, then run reset again"
        ))
    };
    // Read before the metadata that records some of them goes.
    let versions = crate::migrations::facedb_versions(db, schema)?;
    let tables = TABLES
        .iter()
        .chain([&crate::bookkeeping::TABLE])
        .map(|t| schema.qualify(t))
        .collect::<Vec<_>>()
        .join(", ");
    match db {
        Db::Postgres(conn) => {
            let types = ENUM_TYPES.map(|t| schema.qualify(t)).join(", ");
            let dropped = diesel::sql_query(format!("DROP TABLE IF EXISTS {tables} RESTRICT"))
                .execute(conn)
                .and_then(|_| {
                    diesel::sql_query(format!("DROP TYPE IF EXISTS {types} RESTRICT")).execute(conn)
                });
            match dropped {
                Ok(_) => {}
                // SQLSTATE 2BP01: the DETAIL line names every dependent object.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("depend on") =>
                {
                    let detail = info.details().unwrap_or(info.message()).replace('\n', "; ");
                    return Err(blocked(detail));
                }
                Err(e) => return Err(e.into()),
            }
        }
        Db::Sqlite(conn) => {
            let dependents = crate::db::sqlite::foreign_dependents(conn, &OWNED)?;
            if !dependents.is_empty() {
                return Err(blocked(describe_all(&dependents)));
            }
            for table in TABLES.iter().chain([&crate::bookkeeping::TABLE]) {
                diesel::sql_query(format!("DROP TABLE IF EXISTS {}", schema.qualify(table)))
                    .execute(conn)?;
            }
        }
    }
    crate::migrations::forget(db, schema, &versions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_tables_facedb_owns() {
        let mut ours = crate::contract::table_names();
        let mut owned = TABLES.to_vec();
        ours.sort();
        owned.sort();
        assert_eq!(ours, owned);
    }

    #[test]
    fn seed_only_is_not_data() {
        let count = |table: &str, rows| TableCount {
            table: table.into(),
            rows,
            estimated: false,
        };
        assert!(!holds_data_beyond_seed(&[
            count("users", 1),
            count("tenants", 0)
        ]));
        assert!(holds_data_beyond_seed(&[count("users", 2)]));
        assert!(holds_data_beyond_seed(&[
            count("users", 1),
            count("visits", 3)
        ]));
    }
}
