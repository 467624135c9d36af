//! The schema facedb owns, written down as data in its own vocabulary (`str(64)`, `ts`, `now_utc`,
//! …), and rendered for each backend into the neutral form of [`crate::catalog`], so that a live
//! catalog can be compared with it ([`crate::compare`]).
//!
//! The migrations are the schema: `tests/it/schema_source.rs` applies them to empty databases and
//! fails when this description says anything else, and generates the reference `docs/schema.md`
//! from what they make. `tests/it/catalog.rs` renders its expected catalogs from this module too,
//! while reading the live catalogs with its own queries rather than [`crate::catalog`]'s.

use crate::catalog::{self, Backend, EnumType, Key, Schema};

/// One column: name, type and default in SCHEMA.md's words.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    /// `str(n)`, `str`, `text`, `bigint`, `int`, `serial`, `float`, `bool`, `ts`, `tstz`, `json`, or an
    /// enum's name.
    pub ty: &'static str,
    pub not_null: bool,
    /// `now_utc`, `now`, `uuid`, `true`, `false`, a number, or a quoted string such as `'PENDING'`.
    pub default: Option<&'static str>,
}

#[derive(Debug, Clone, Copy)]
pub struct ForeignKey {
    pub columns: &'static [&'static str],
    pub table: &'static str,
    pub references: &'static [&'static str],
    /// `CASCADE`, or `NO ACTION` where SCHEMA.md gives no rule.
    pub on_delete: &'static str,
}

/// A UNIQUE constraint (not a bare unique index).
#[derive(Debug, Clone, Copy)]
pub struct Unique {
    pub name: &'static str,
    pub columns: &'static [&'static str],
}

#[derive(Debug, Clone, Copy)]
pub struct Index {
    pub name: &'static str,
    pub columns: &'static [&'static str],
    pub unique: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    pub primary_key: &'static [&'static str],
    pub foreign_keys: &'static [ForeignKey],
    pub uniques: &'static [Unique],
    pub indexes: &'static [Index],
}

#[derive(Debug, Clone, Copy)]
pub struct Enum {
    pub name: &'static str,
    pub labels: &'static [&'static str],
}

pub const NN: bool = true;
pub const NULL: bool = false;
pub const CASCADE: &str = "CASCADE";
pub const NO_ACTION: &str = "NO ACTION";

const fn col(
    name: &'static str,
    ty: &'static str,
    not_null: bool,
    default: Option<&'static str>,
) -> Column {
    Column {
        name,
        ty,
        not_null,
        default,
    }
}

const fn fk(
    columns: &'static [&'static str],
    table: &'static str,
    references: &'static [&'static str],
    on_delete: &'static str,
) -> ForeignKey {
    ForeignKey {
        columns,
        table,
        references,
        on_delete,
    }
}

const fn index(name: &'static str, columns: &'static [&'static str]) -> Index {
    Index {
        name,
        columns,
        unique: false,
    }
}

const fn unique_index(name: &'static str, columns: &'static [&'static str]) -> Index {
    Index {
        name,
        columns,
        unique: true,
    }
}

const TENANT_CASCADE: ForeignKey = fk(&["tenant_id"], "tenants", &["tenant_id"], CASCADE);

/// SCHEMA.md, "Enum types": labels in this order.
pub const ENUMS: &[Enum] = &[
    Enum {
        name: "userrole",
        labels: &["SYSTEM_ADMIN", "TENANT_ADMIN", "SITE_MANAGER", "WORKER"],
    },
    Enum {
        name: "cameratype",
        labels: &["RTSP", "WEBCAM"],
    },
];

/// SCHEMA.md, "Tables", in its order.
pub const TABLES: &[Table] = &[
    Table {
        name: "tenants",
        columns: &[
            col("tenant_id", "str(64)", NN, None),
            col("name", "str(255)", NN, None),
            col("description", "text", NULL, None),
            col("is_active", "bool", NN, Some("true")),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["tenant_id"],
        foreign_keys: &[],
        uniques: &[],
        indexes: &[],
    },
    Table {
        name: "sites",
        columns: &[
            col("site_id", "serial", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("name", "str(255)", NN, None),
            col("location", "text", NULL, None),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["site_id"],
        foreign_keys: &[TENANT_CASCADE],
        uniques: &[],
        indexes: &[],
    },
    Table {
        name: "users",
        columns: &[
            col("user_id", "str(64)", NN, Some("uuid")),
            col("username", "str(255)", NN, None),
            col("email", "str(255)", NN, None),
            col("first_name", "str(255)", NN, None),
            col("last_name", "str(255)", NN, None),
            col("password_hash", "text", NN, None),
            col("role", "userrole", NN, None),
            col("tenant_id", "str(64)", NULL, None),
            col("site_id", "bigint", NULL, None),
            col("is_active", "bool", NN, Some("true")),
            col("is_email_verified", "bool", NN, Some("false")),
            col("last_login", "ts", NULL, None),
            col("password_changed_at", "ts", NN, Some("now_utc")),
            col("created_by", "str(64)", NULL, None),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["user_id"],
        foreign_keys: &[
            TENANT_CASCADE,
            fk(&["site_id"], "sites", &["site_id"], CASCADE),
            fk(&["created_by"], "users", &["user_id"], NO_ACTION),
        ],
        uniques: &[
            Unique {
                name: "users_username_key",
                columns: &["username"],
            },
            Unique {
                name: "users_email_key",
                columns: &["email"],
            },
        ],
        indexes: &[
            index("idx_users_username", &["username"]),
            index("idx_users_email", &["email"]),
            index("idx_users_role", &["role"]),
            index("idx_users_tenant_id", &["tenant_id"]),
            index("idx_users_site_id", &["site_id"]),
        ],
    },
    Table {
        name: "cameras",
        columns: &[
            col("camera_id", "serial", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("site_id", "bigint", NN, None),
            col("name", "str(255)", NN, None),
            col("camera_type", "cameratype", NN, Some("'RTSP'")),
            col("rtsp_url", "text", NULL, None),
            col("device_index", "int", NULL, None),
            col("is_active", "bool", NN, Some("true")),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
            col("caps", "json", NULL, None),
            col("last_probe_at", "tstz", NULL, None),
            col("last_state_change_at", "tstz", NULL, None),
        ],
        primary_key: &["camera_id"],
        foreign_keys: &[
            TENANT_CASCADE,
            fk(&["site_id"], "sites", &["site_id"], CASCADE),
        ],
        uniques: &[],
        indexes: &[],
    },
    Table {
        name: "camera_sessions",
        columns: &[
            col("camera_id", "bigint", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("site_id", "bigint", NN, None),
            col("worker_id", "str", NULL, None),
            col("generation", "bigint", NN, Some("0")),
            col("state", "str(20)", NN, Some("'PENDING'")),
            col("lease_expires_at", "tstz", NULL, None),
            col("reason", "text", NULL, None),
            col("updated_at", "tstz", NN, Some("now")),
            col("created_at", "tstz", NN, Some("now")),
        ],
        primary_key: &["camera_id"],
        foreign_keys: &[
            fk(&["camera_id"], "cameras", &["camera_id"], NO_ACTION),
            fk(&["tenant_id"], "tenants", &["tenant_id"], NO_ACTION),
            fk(&["site_id"], "sites", &["site_id"], NO_ACTION),
        ],
        uniques: &[],
        indexes: &[],
    },
    Table {
        name: "staff",
        columns: &[
            col("staff_id", "serial", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("name", "str(255)", NN, None),
            col("site_id", "bigint", NULL, None),
            col("is_active", "bool", NN, Some("true")),
            col("face_embedding", "text", NULL, None),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["staff_id"],
        foreign_keys: &[
            TENANT_CASCADE,
            fk(&["site_id"], "sites", &["site_id"], NO_ACTION),
        ],
        uniques: &[],
        indexes: &[],
    },
    Table {
        name: "staff_face_images",
        columns: &[
            col("tenant_id", "str(64)", NN, None),
            col("image_id", "str(64)", NN, Some("uuid")),
            col("staff_id", "bigint", NN, None),
            col("image_path", "str(500)", NN, None),
            col("face_landmarks", "text", NULL, None),
            col("face_embedding", "text", NULL, None),
            col("image_hash", "str(64)", NULL, None),
            col("is_primary", "bool", NN, Some("false")),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["tenant_id", "image_id"],
        // SCHEMA.md: the old tool created the tenant foreign key twice; one is enough.
        foreign_keys: &[
            TENANT_CASCADE,
            fk(&["staff_id"], "staff", &["staff_id"], CASCADE),
        ],
        uniques: &[],
        indexes: &[
            index("idx_staff_face_images_staff_id", &["tenant_id", "staff_id"]),
            index(
                "idx_staff_face_images_primary",
                &["tenant_id", "is_primary"],
            ),
            unique_index(
                "idx_staff_face_images_hash",
                &["tenant_id", "staff_id", "image_hash"],
            ),
        ],
    },
    Table {
        name: "customers",
        columns: &[
            col("customer_id", "serial", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("name", "str(255)", NULL, None),
            col("gender", "str(16)", NULL, None),
            col("estimated_age_range", "str(32)", NULL, None),
            col("phone", "str(20)", NULL, None),
            col("email", "str(255)", NULL, None),
            col("first_seen", "ts", NN, Some("now_utc")),
            col("last_seen", "ts", NULL, None),
            col("visit_count", "int", NN, Some("0")),
        ],
        primary_key: &["customer_id"],
        foreign_keys: &[TENANT_CASCADE],
        uniques: &[],
        indexes: &[index(
            "idx_customers_last_seen",
            &["tenant_id", "last_seen"],
        )],
    },
    Table {
        name: "customer_face_images",
        columns: &[
            col("image_id", "serial", NN, None),
            col("tenant_id", "str(64)", NN, None),
            col("customer_id", "bigint", NN, None),
            col("image_path", "str(500)", NN, None),
            col("confidence_score", "float", NN, None),
            col("quality_score", "float", NULL, None),
            col("face_bbox", "json", NULL, None),
            col("embedding", "json", NULL, None),
            col("image_hash", "str(64)", NULL, None),
            col("created_at", "ts", NN, Some("now_utc")),
            col("visit_id", "str(64)", NULL, None),
            col("detection_metadata", "json", NULL, None),
        ],
        primary_key: &["image_id"],
        foreign_keys: &[
            TENANT_CASCADE,
            fk(&["customer_id"], "customers", &["customer_id"], CASCADE),
        ],
        uniques: &[],
        indexes: &[
            index(
                "idx_customer_face_images_tenant_customer",
                &["tenant_id", "customer_id"],
            ),
            index(
                "idx_customer_face_images_confidence",
                &["tenant_id", "customer_id", "confidence_score"],
            ),
            index(
                "idx_customer_face_images_hash",
                &["tenant_id", "image_hash"],
            ),
            index(
                "idx_customer_face_images_created",
                &["tenant_id", "customer_id", "created_at"],
            ),
        ],
    },
    Table {
        name: "visits",
        columns: &[
            col("tenant_id", "str(64)", NN, None),
            col("visit_id", "str(64)", NN, Some("uuid")),
            col("person_id", "bigint", NN, None),
            col("person_type", "str(16)", NN, None),
            col("site_id", "bigint", NN, None),
            col("camera_id", "bigint", NN, None),
            col("timestamp", "ts", NN, Some("now_utc")),
            col("confidence_score", "float", NN, None),
            col("face_embedding", "text", NULL, None),
            col("image_path", "text", NULL, None),
            col("bbox_x", "float", NULL, None),
            col("bbox_y", "float", NULL, None),
            col("bbox_w", "float", NULL, None),
            col("bbox_h", "float", NULL, None),
            col("visit_session_id", "str(64)", NN, Some("uuid")),
            col("first_seen", "ts", NN, Some("now_utc")),
            col("last_seen", "ts", NN, Some("now_utc")),
            col("visit_duration_seconds", "int", NULL, Some("0")),
            col("detection_count", "int", NN, Some("1")),
            col("highest_confidence", "float", NULL, None),
        ],
        primary_key: &["tenant_id", "visit_id"],
        foreign_keys: &[],
        uniques: &[],
        indexes: &[
            index("idx_visits_timestamp", &["tenant_id", "timestamp"]),
            index(
                "idx_visits_person",
                &["tenant_id", "person_id", "timestamp"],
            ),
            index("idx_visits_site", &["tenant_id", "site_id", "timestamp"]),
            index("idx_visits_session", &["tenant_id", "visit_session_id"]),
            index(
                "idx_visits_person_time",
                &["tenant_id", "person_id", "last_seen"],
            ),
        ],
    },
    Table {
        name: "workers",
        columns: &[
            col("worker_id", "str(64)", NN, Some("uuid")),
            col("tenant_id", "str(64)", NN, None),
            col("hostname", "str(255)", NN, None),
            col("ip_address", "str(45)", NULL, None),
            col("worker_name", "str(255)", NN, None),
            col("worker_version", "str(32)", NULL, None),
            col("capabilities", "text", NULL, None),
            col("status", "str(32)", NN, Some("'offline'")),
            col("site_id", "bigint", NULL, None),
            col("camera_id", "bigint", NULL, None),
            col("last_heartbeat", "ts", NULL, None),
            col("last_error", "text", NULL, None),
            col("error_count", "int", NN, Some("0")),
            col("total_faces_processed", "bigint", NN, Some("0")),
            col("registration_time", "ts", NN, Some("now_utc")),
            col("created_at", "ts", NN, Some("now_utc")),
            col("updated_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["worker_id"],
        foreign_keys: &[TENANT_CASCADE],
        uniques: &[],
        indexes: &[
            index("idx_workers_tenant_status", &["tenant_id", "status"]),
            index("idx_workers_heartbeat", &["tenant_id", "last_heartbeat"]),
            index("idx_workers_hostname", &["tenant_id", "hostname"]),
        ],
    },
    Table {
        name: "api_keys",
        columns: &[
            col("key_id", "str(64)", NN, Some("uuid")),
            col("tenant_id", "str(64)", NN, None),
            col("hashed_key", "text", NN, None),
            col("name", "str(255)", NN, None),
            col("role", "str(32)", NN, Some("'worker'")),
            col("is_active", "bool", NN, Some("true")),
            col("last_used", "ts", NULL, None),
            col("expires_at", "ts", NULL, None),
            col("created_at", "ts", NN, Some("now_utc")),
        ],
        primary_key: &["key_id"],
        foreign_keys: &[TENANT_CASCADE],
        uniques: &[],
        indexes: &[],
    },
];

/// SQLite has no `gen_random_uuid()`: facedb's SQLite migration gives UUID columns this default,
/// a random UUID v4 in text form, as SQLite's `dflt_value` shows it.
pub const SQLITE_RANDOM_UUID: &str =
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || \
     substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || \
     substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))";

/// The contract's tables by name, in SCHEMA.md's order.
pub fn table_names() -> Vec<&'static str> {
    TABLES.iter().map(|t| t.name).collect()
}

pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

pub fn enum_type(name: &str) -> Option<&'static Enum> {
    ENUMS.iter().find(|e| e.name == name)
}

fn varchar_length(ty: &str) -> Option<&str> {
    ty.strip_prefix("str(")?.strip_suffix(')')
}

fn is_quoted(default: &str) -> bool {
    default.len() >= 2 && default.starts_with('\'') && default.ends_with('\'')
}

/// SCHEMA.md, "PostgreSQL types": a contract type as `format_type` prints it.
pub fn postgres_type(ty: &str) -> String {
    if let Some(n) = varchar_length(ty) {
        return format!("character varying({n})");
    }
    match ty {
        "str" => "character varying",
        "bigint" | "serial" => "bigint",
        "int" => "integer",
        "float" => "double precision",
        "bool" => "boolean",
        "ts" => "timestamp without time zone",
        "tstz" => "timestamp with time zone",
        // text, json, and the enum types keep their names.
        other => other,
    }
    .to_owned()
}

/// A contract default as PostgreSQL's `pg_get_expr` prints it; a serial column's is its sequence.
pub fn postgres_default(table: &str, column: &Column) -> Option<String> {
    if column.ty == "serial" {
        return Some(format!("nextval('{table}_{}_seq'::regclass)", column.name));
    }
    let default = column.default?;
    Some(match default {
        "now_utc" => "timezone('utc'::text, now())".to_owned(),
        "uuid" => "(gen_random_uuid())::text".to_owned(),
        "now" => "now()".to_owned(),
        // A string literal carries a cast to the column's type (`character varying` without its
        // length, or the enum's name).
        _ if is_quoted(default) => {
            let cast = if varchar_length(column.ty).is_some() {
                "character varying".to_owned()
            } else {
                postgres_type(column.ty)
            };
            format!("{default}::{cast}")
        }
        // true, false, numbers.
        _ => default.to_owned(),
    })
}

/// SCHEMA.md, "SQLite": the type facedb's SQLite migration declares. An enum is
/// `VARCHAR(longest label)`, as SQLAlchemy's non-native Enum makes it, with a CHECK.
pub fn sqlite_type(ty: &str) -> String {
    if let Some(n) = varchar_length(ty) {
        return format!("VARCHAR({n})");
    }
    if let Some(e) = enum_type(ty) {
        let longest = e.labels.iter().map(|l| l.len()).max().unwrap_or(0);
        return format!("VARCHAR({longest})");
    }
    match ty {
        "str" => "VARCHAR",
        "text" => "TEXT",
        "bigint" => "BIGINT",
        "int" | "serial" => "INTEGER",
        "float" => "FLOAT",
        "bool" => "BOOLEAN",
        "ts" | "tstz" => "DATETIME",
        "json" => "JSON",
        other => other,
    }
    .to_owned()
}

/// A contract default as SQLite's `dflt_value` shows it (`CURRENT_TIMESTAMP` is UTC).
pub fn sqlite_default(column: &Column) -> Option<String> {
    let default = column.default?;
    Some(match default {
        "now_utc" | "now" => "CURRENT_TIMESTAMP".to_owned(),
        "uuid" => SQLITE_RANDOM_UUID.to_owned(),
        "true" => "1".to_owned(),
        "false" => "0".to_owned(),
        _ => default.to_owned(),
    })
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The schema SCHEMA.md describes, as `backend`'s catalog shows it: types and defaults in its
/// words; constraint names and enum types on PostgreSQL only (SQLite has neither).
pub fn expected(backend: Backend) -> Schema {
    let postgres = backend == Backend::Postgres;
    let tables = TABLES
        .iter()
        .map(|t| catalog::Table {
            name: t.name.to_owned(),
            columns: t
                .columns
                .iter()
                .map(|c| catalog::Column {
                    name: c.name.to_owned(),
                    sql_type: if postgres {
                        postgres_type(c.ty)
                    } else {
                        sqlite_type(c.ty)
                    },
                    not_null: c.not_null,
                    default: if postgres {
                        postgres_default(t.name, c)
                    } else {
                        sqlite_default(c)
                    },
                    allowed_values: enum_type(c.ty)
                        .filter(|_| !postgres)
                        .map(|e| strings(e.labels)),
                })
                .collect(),
            primary_key: Some(Key {
                name: postgres.then(|| format!("{}_pkey", t.name)),
                columns: strings(t.primary_key),
            }),
            foreign_keys: t
                .foreign_keys
                .iter()
                .map(|fk| catalog::ForeignKey {
                    name: postgres.then(|| format!("{}_{}_fkey", t.name, fk.columns.join("_"))),
                    columns: strings(fk.columns),
                    references_table: fk.table.to_owned(),
                    references: strings(fk.references),
                    on_delete: fk.on_delete.to_owned(),
                    on_update: NO_ACTION.to_owned(),
                })
                .collect(),
            uniques: t
                .uniques
                .iter()
                .map(|u| Key {
                    name: postgres.then(|| u.name.to_owned()),
                    columns: strings(u.columns),
                })
                .collect(),
            indexes: t
                .indexes
                .iter()
                .map(|i| catalog::Index {
                    name: i.name.to_owned(),
                    columns: strings(i.columns),
                    unique: i.unique,
                    predicate: None,
                })
                .collect(),
        })
        .collect();
    let enums = if postgres {
        ENUMS
            .iter()
            .map(|e| EnumType {
                name: e.name.to_owned(),
                labels: strings(e.labels),
            })
            .collect()
    } else {
        Vec::new()
    };
    Schema { tables, enums }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_has_a_rendering_on_both_backends() {
        for table in TABLES {
            for column in table.columns {
                let known = varchar_length(column.ty).is_some()
                    || enum_type(column.ty).is_some()
                    || [
                        "str", "text", "bigint", "int", "serial", "float", "bool", "ts", "tstz",
                        "json",
                    ]
                    .contains(&column.ty);
                assert!(known, "{}.{}: type {}", table.name, column.name, column.ty);
            }
        }
    }

    #[test]
    fn renders_schema_md_in_each_backends_words() {
        let pg = expected(Backend::Postgres);
        let users = pg.table("users").unwrap();
        let email = users.column("email").unwrap();
        assert_eq!(email.sql_type, "character varying(255)");
        assert_eq!(users.column("role").unwrap().sql_type, "userrole");
        assert_eq!(
            users.column("created_at").unwrap().default.as_deref(),
            Some("timezone('utc'::text, now())")
        );
        assert_eq!(
            pg.table("sites").unwrap().columns[0].default.as_deref(),
            Some("nextval('sites_site_id_seq'::regclass)")
        );
        assert_eq!(
            pg.table("cameras")
                .unwrap()
                .column("camera_type")
                .unwrap()
                .default
                .as_deref(),
            Some("'RTSP'::cameratype")
        );
        assert_eq!(
            pg.enum_type("userrole").unwrap().labels,
            ["SYSTEM_ADMIN", "TENANT_ADMIN", "SITE_MANAGER", "WORKER"]
        );

        let lite = expected(Backend::Sqlite);
        let role = lite.table("users").unwrap().column("role").unwrap();
        assert_eq!(role.sql_type, "VARCHAR(12)");
        assert_eq!(
            role.allowed_values.as_deref().unwrap(),
            ["SYSTEM_ADMIN", "TENANT_ADMIN", "SITE_MANAGER", "WORKER"]
        );
        assert!(lite.enums.is_empty());
        assert_eq!(lite.table("users").unwrap().uniques[0].name, None);
    }

    #[test]
    fn covers_the_tables_facedb_owns() {
        let mut ours = table_names();
        let mut owned = crate::inventory::TABLES.to_vec();
        ours.sort();
        owned.sort();
        assert_eq!(ours, owned);
    }
}
