//! What facedb owns in a database, how many rows it holds, and how to drop exactly that.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Text};

use crate::connection::{quote_identifier, Db};
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
struct Estimate {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Double)]
    estimate: f64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

/// Row counts of facedb's tables that exist, in `TABLES` order (parents last).
pub fn count_rows(db: &mut Db) -> Result<Vec<TableCount>> {
    // Which tables exist, and how big the planner thinks they are (-1 or 0: never analysed).
    let estimates: Vec<Estimate> = match db {
        Db::Postgres(conn) => diesel::sql_query(
            "SELECT c.relname::text AS name, c.reltuples::float8 AS estimate FROM pg_class c \
             WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') \
               AND c.relname = ANY($1)",
        )
        .bind::<Array<Text>, _>(TABLES.to_vec())
        .load(conn)?,
        Db::Sqlite(conn) => diesel::sql_query(format!(
            "SELECT name, 0.0 AS estimate FROM sqlite_master WHERE type = 'table' AND name IN ({})",
            TABLES.map(|t| format!("'{t}'")).join(", ")
        ))
        .load(conn)?,
    };
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
                    quote_identifier(t)
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ");
        exact = match db {
            Db::Postgres(conn) => diesel::sql_query(query).load(conn)?,
            Db::Sqlite(conn) => diesel::sql_query(query).load(conn)?,
        };
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
pub fn tenant_rows(db: &mut Db, counts: &[TableCount]) -> Result<Option<Vec<TenantRows>>> {
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
    let mut parts = vec!["SELECT tenant_id, name AS label, -1 AS rows FROM tenants".to_owned()];
    parts.extend(counts.iter().filter(|c| c.rows > 0 && c.table != "tenants").map(|c| {
        format!(
            "SELECT tenant_id, '{0}' AS label, count(*) AS rows FROM {0} WHERE tenant_id IS NOT NULL GROUP BY tenant_id",
            c.table
        )
    }));
    let query = parts.join(" UNION ALL ");
    let rows: Vec<TenantCount> = match db {
        Db::Postgres(conn) => diesel::sql_query(query).load(conn)?,
        Db::Sqlite(conn) => diesel::sql_query(query).load(conn)?,
    };
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

/// Whether `table` exists (on PostgreSQL: in the current schema, where facedb puts its tables).
pub fn table_exists(db: &mut Db, table: &str) -> Result<bool> {
    let exists = match db {
        Db::Postgres(conn) => diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace \
             AND c.relkind IN ('r', 'p') AND c.relname = ",
        )
        .bind::<Text, _>(table)
        .sql(")"))
        .get_result(conn)?,
        Db::Sqlite(conn) => diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(
            "EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ",
        )
        .bind::<Text, _>(table)
        .sql(")"))
        .get_result(conn)?,
    };
    Ok(exists)
}

/// Drops everything facedb owns, and nothing else. An object facedb does not own that depends
/// on one of its tables (a view, another table's foreign key, a trigger) stops the drop with
/// `Error::Schema` naming it: facedb never cascades into other people's objects.
/// Runs inside the caller's transaction.
pub fn drop_owned(db: &mut Db, target: &str) -> Result<()> {
    let blocked = |what: String| {
        Error::Schema(format!(
            "cannot reset {target}: {what}. facedb drops only what it owns; drop or change what it names first, then run reset again"
        ))
    };
    let tables = TABLES
        .iter()
        .chain(BOOKKEEPING_TABLES.iter())
        .map(|t| quote_identifier(t))
        .collect::<Vec<_>>()
        .join(", ");
    match db {
        Db::Postgres(conn) => {
            let types = ENUM_TYPES.map(quote_identifier).join(", ");
            let dropped = diesel::sql_query(format!("DROP TABLE IF EXISTS {tables} RESTRICT"))
                .execute(conn)
                .and_then(|_| {
                    diesel::sql_query(format!("DROP TYPE IF EXISTS {types} RESTRICT")).execute(conn)
                });
            match dropped {
                Ok(_) => Ok(()),
                // SQLSTATE 2BP01: the DETAIL line names every dependent object.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("depend on") =>
                {
                    let detail = info.details().unwrap_or(info.message()).replace('\n', "; ");
                    Err(blocked(detail))
                }
                Err(e) => Err(e.into()),
            }
        }
        Db::Sqlite(conn) => {
            if let Some(dependent) = sqlite_foreign_dependent(conn)? {
                return Err(blocked(dependent));
            }
            for table in TABLES.iter().chain(BOOKKEEPING_TABLES.iter()) {
                diesel::sql_query(format!("DROP TABLE IF EXISTS {}", quote_identifier(table)))
                    .execute(conn)?;
            }
            Ok(())
        }
    }
}

#[derive(QueryableByName)]
struct SchemaObject {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl_name: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyTarget {
    #[diesel(sql_type = Text)]
    target: String,
}

/// SQLite keeps no dependency graph: find views and triggers that mention facedb's tables and
/// other tables whose foreign keys point at them.
fn sqlite_foreign_dependent(conn: &mut diesel::SqliteConnection) -> Result<Option<String>> {
    let owned = |name: &str| {
        TABLES.contains(&name) || BOOKKEEPING_TABLES.contains(&name) || name.starts_with("sqlite_")
    };
    let objects: Vec<SchemaObject> = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name, sql FROM sqlite_master ORDER BY name",
    )
    .load(conn)?;
    for object in &objects {
        let sql = object.sql.as_deref().unwrap_or_default().to_lowercase();
        match object.kind.as_str() {
            "view" => {
                if let Some(table) = TABLES.iter().find(|t| mentions(&sql, t)) {
                    return Ok(Some(format!(
                        "view {} depends on table {table}",
                        object.name
                    )));
                }
            }
            "trigger" if TABLES.contains(&object.tbl_name.as_str()) => {
                return Ok(Some(format!(
                    "trigger {} depends on table {}",
                    object.name, object.tbl_name
                )));
            }
            "table" if !owned(&object.name) => {
                let targets: Vec<ForeignKeyTarget> =
                    diesel::sql_query("SELECT \"table\" AS target FROM pragma_foreign_key_list(?)")
                        .bind::<Text, _>(&object.name)
                        .load(conn)?;
                if let Some(fk) = targets
                    .iter()
                    .find(|fk| TABLES.contains(&fk.target.as_str()))
                {
                    return Ok(Some(format!(
                        "a foreign key of table {} depends on table {}",
                        object.name, fk.target
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Whether `sql` names `table` as a whole word.
fn mentions(sql: &str, table: &str) -> bool {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    sql.match_indices(table).any(|(at, _)| {
        let before = sql[..at].chars().next_back();
        let after = sql[at + table.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_whole_words_only() {
        assert!(mentions("create view v as select * from visits", "visits"));
        assert!(mentions("select * from \"visits\" where 1", "visits"));
        assert!(!mentions("select * from visits_archive", "visits"));
        assert!(!mentions("select * from old_users", "users"));
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
