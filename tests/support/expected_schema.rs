//! The schema contract of `/work/shared/SCHEMA.md`, written down once as Rust data, and its rendering
//! into the canonical catalog lines each backend must show (`tests/catalog.rs` reads the real catalogs
//! into the same [`Catalog`] form and compares the lines).
//!
//! The description below is transcribed from SCHEMA.md, in its own vocabulary (`str(64)`, `ts`,
//! `now_utc`, …), not from the migrations. [`postgres`] and [`sqlite`] apply SCHEMA.md's type mapping.

use std::collections::BTreeSet;

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

pub fn table(name: &str) -> &'static Table {
    TABLES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no table {name} in the contract"))
}

pub fn enum_type(name: &str) -> Option<&'static Enum> {
    ENUMS.iter().find(|e| e.name == name)
}

/// `(table, column)` of every `serial` column.
pub fn serial_columns() -> Vec<(&'static str, &'static str)> {
    TABLES
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.ty == "serial")
                .map(move |c| (t.name, c.name))
        })
        .collect()
}

/// How the SQLite reader reports a default expression that yields a fresh UUID v4 string on every
/// evaluation (SQLite has no `gen_random_uuid()`, so the expression itself is facedb's choice).
pub const SQLITE_RANDOM_UUID: &str = "<random uuid v4>";

// ---------------------------------------------------------------------------------------------
// The catalog form: what a backend's catalog shows, in that backend's own words.
// ---------------------------------------------------------------------------------------------

/// A schema as one backend's catalog describes it. Built from the contract by [`postgres`] /
/// [`sqlite`], and from a live database by `tests/catalog.rs`; compared through [`Catalog::lines`]
/// (everything, names included) or [`Catalog::neutral_lines`] (what both backends can express).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub tables: Vec<CatalogTable>,
    /// Name and labels in order (PostgreSQL only).
    pub enums: Vec<(String, Vec<String>)>,
    /// PostgreSQL only.
    pub sequences: Vec<CatalogSequence>,
    /// Anything else a reader found that the contract has no place for (CHECK constraints on
    /// PostgreSQL, views, …), one line each. Always unexpected.
    pub other: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogTable {
    pub name: String,
    pub columns: Vec<CatalogColumn>,
    pub primary_key: Option<Key>,
    pub foreign_keys: Vec<CatalogForeignKey>,
    /// UNIQUE constraints.
    pub uniques: Vec<Key>,
    /// Indexes that do not back a primary key or UNIQUE constraint.
    pub indexes: Vec<CatalogIndex>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogColumn {
    pub name: String,
    pub sql_type: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// e.g. `identity a`, `generated s` (PostgreSQL); never expected.
    pub extra: Option<String>,
}

/// A primary key or UNIQUE constraint; `name` is `None` where the backend has no constraint names.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: Option<String>,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogForeignKey {
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub table: String,
    pub references: Vec<String>,
    pub on_delete: String,
    pub on_update: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogIndex {
    pub name: String,
    pub columns: Vec<String>,
    pub unique: bool,
    /// Partial index predicate (never expected).
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CatalogSequence {
    pub name: String,
    pub data_type: String,
    /// `table.column` owning the sequence, as `BIGSERIAL` makes it (pg_depend deptype 'a').
    pub owned_by: Option<String>,
    /// Identity sequence of `table.column` (pg_depend deptype 'i'); never expected.
    pub identity_of: Option<String>,
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

fn named(name: &Option<String>) -> String {
    name.as_ref()
        .map(|n| format!(" name {n}"))
        .unwrap_or_default()
}

impl CatalogForeignKey {
    fn line(&self, table: &str, with_name: bool) -> String {
        let on_update = if self.on_update == NO_ACTION {
            String::new()
        } else {
            format!(" on update {}", self.on_update)
        };
        format!(
            "fk {table} ({}) -> {} ({}) on delete {}{on_update}{}",
            list(&self.columns),
            self.table,
            list(&self.references),
            self.on_delete,
            if with_name {
                named(&self.name)
            } else {
                String::new()
            }
        )
    }
}

impl CatalogIndex {
    fn line(&self, table: &str) -> String {
        format!(
            "{}index {} on {table} ({}){}",
            if self.unique { "unique " } else { "" },
            self.name,
            list(&self.columns),
            self.predicate
                .as_ref()
                .map(|p| format!(" where {p}"))
                .unwrap_or_default()
        )
    }
}

impl Catalog {
    /// Every fact, one canonical line each, in this backend's own words (types, defaults and
    /// constraint names included).
    pub fn lines(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for t in &self.tables {
            let name = &t.name;
            out.insert(format!("table {name}"));
            let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            out.insert(format!("columns {name}: {}", list(&names)));
            for c in &t.columns {
                out.insert(format!(
                    "column {name}.{} {} {} default {}{}",
                    c.name,
                    c.sql_type,
                    if c.not_null { "not null" } else { "null" },
                    c.default.as_deref().unwrap_or("-"),
                    c.extra
                        .as_ref()
                        .map(|e| format!(" {e}"))
                        .unwrap_or_default()
                ));
            }
            if let Some(pk) = &t.primary_key {
                out.insert(format!(
                    "pk {name} ({}){}",
                    list(&pk.columns),
                    named(&pk.name)
                ));
            }
            for fk in &t.foreign_keys {
                out.insert(fk.line(name, true));
            }
            for u in &t.uniques {
                out.insert(format!(
                    "unique {name} ({}){}",
                    list(&u.columns),
                    named(&u.name)
                ));
            }
            for i in &t.indexes {
                out.insert(i.line(name));
            }
        }
        for (name, labels) in &self.enums {
            out.insert(format!("enum {name} {}", labels.join(",")));
        }
        for s in &self.sequences {
            let owner = match (&s.owned_by, &s.identity_of) {
                (_, Some(column)) => format!("identity of {column}"),
                (Some(column), None) => format!("owned by {column}"),
                (None, None) => "owned by -".to_owned(),
            };
            out.insert(format!("sequence {} as {} {owner}", s.name, s.data_type));
        }
        out.extend(self.other.iter().cloned());
        out
    }

    /// The facts both backends can express, without types, defaults or constraint names: tables,
    /// column order, nullability, keys, foreign keys with their rules, UNIQUE rules, indexes.
    pub fn neutral_lines(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for t in &self.tables {
            let name = &t.name;
            out.insert(format!("table {name}"));
            let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            out.insert(format!("columns {name}: {}", list(&names)));
            for c in &t.columns {
                out.insert(format!(
                    "column {name}.{} {}",
                    c.name,
                    if c.not_null { "not null" } else { "null" }
                ));
            }
            if let Some(pk) = &t.primary_key {
                out.insert(format!("pk {name} ({})", list(&pk.columns)));
            }
            for fk in &t.foreign_keys {
                out.insert(fk.line(name, false));
            }
            for u in &t.uniques {
                out.insert(format!("unique {name} ({})", list(&u.columns)));
            }
            for i in &t.indexes {
                out.insert(i.line(name));
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// The contract rendered for each backend (SCHEMA.md's type mapping).
// ---------------------------------------------------------------------------------------------

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

fn varchar_length(ty: &str) -> Option<u32> {
    let n = ty.strip_prefix("str(")?.strip_suffix(')')?;
    Some(
        n.parse()
            .unwrap_or_else(|_| panic!("bad length in contract type {ty}")),
    )
}

fn is_quoted(default: &str) -> bool {
    default.len() >= 2 && default.starts_with('\'') && default.ends_with('\'')
}

fn is_number(default: &str) -> bool {
    !default.is_empty() && default.chars().all(|c| c.is_ascii_digit())
}

/// SCHEMA.md, "PostgreSQL types".
pub fn postgres_type(ty: &str) -> String {
    if let Some(n) = varchar_length(ty) {
        return format!("character varying({n})");
    }
    match ty {
        "str" => "character varying",
        "text" => "text",
        "bigint" | "serial" => "bigint",
        "int" => "integer",
        "float" => "double precision",
        "bool" => "boolean",
        "ts" => "timestamp without time zone",
        "tstz" => "timestamp with time zone",
        "json" => "json",
        _ if enum_type(ty).is_some() => ty,
        _ => panic!("unknown contract type {ty}"),
    }
    .to_owned()
}

/// A contract default as `pg_get_expr` prints it.
pub fn postgres_default(table: &str, column: &Column) -> Option<String> {
    if column.ty == "serial" {
        assert!(
            column.default.is_none(),
            "{table}.{}: a serial column has no other default",
            column.name
        );
        return Some(format!("nextval('{table}_{}_seq'::regclass)", column.name));
    }
    let default = column.default?;
    Some(match default {
        "now_utc" => {
            assert_eq!(
                column.ty, "ts",
                "{table}.{}: now_utc is for ts columns",
                column.name
            );
            "timezone('utc'::text, now())".to_owned()
        }
        "uuid" => "(gen_random_uuid())::text".to_owned(),
        "now" => "now()".to_owned(),
        "true" | "false" => default.to_owned(),
        _ if is_number(default) => default.to_owned(),
        // A string literal is shown with a cast to the column's type (`character varying` without
        // its length, or the enum's name).
        _ if is_quoted(default) => {
            let cast = if varchar_length(column.ty).is_some() {
                "character varying".to_owned()
            } else {
                postgres_type(column.ty)
            };
            format!("{default}::{cast}")
        }
        _ => panic!(
            "{table}.{}: unknown contract default {default}",
            column.name
        ),
    })
}

/// SCHEMA.md, "SQLite", with the declared types facedb's SQLite migration uses for it: enums are
/// `VARCHAR(longest label)` (as SQLAlchemy's non-native Enum) with a CHECK; serial is an
/// `INTEGER PRIMARY KEY AUTOINCREMENT`.
pub fn sqlite_type(ty: &str) -> String {
    if let Some(n) = varchar_length(ty) {
        return format!("VARCHAR({n})");
    }
    if let Some(e) = enum_type(ty) {
        let longest = e.labels.iter().map(|l| l.len()).max().expect("labels");
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
        _ => panic!("unknown contract type {ty}"),
    }
    .to_owned()
}

/// A contract default as SQLite's `pragma_table_info` shows it (`CURRENT_TIMESTAMP` is UTC).
pub fn sqlite_default(table: &str, column: &Column) -> Option<String> {
    let default = column.default?;
    Some(match default {
        "now_utc" | "now" => "CURRENT_TIMESTAMP".to_owned(),
        "uuid" => SQLITE_RANDOM_UUID.to_owned(),
        "true" => "1".to_owned(),
        "false" => "0".to_owned(),
        _ if is_number(default) || is_quoted(default) => default.to_owned(),
        _ => panic!(
            "{table}.{}: unknown contract default {default}",
            column.name
        ),
    })
}

fn foreign_keys(t: &Table, with_names: bool) -> Vec<CatalogForeignKey> {
    t.foreign_keys
        .iter()
        .map(|fk| CatalogForeignKey {
            name: with_names.then(|| format!("{}_{}_fkey", t.name, fk.columns.join("_"))),
            columns: strings(fk.columns),
            table: fk.table.to_owned(),
            references: strings(fk.references),
            on_delete: fk.on_delete.to_owned(),
            on_update: NO_ACTION.to_owned(),
        })
        .collect()
}

fn indexes(t: &Table) -> Vec<CatalogIndex> {
    t.indexes
        .iter()
        .map(|i| CatalogIndex {
            name: i.name.to_owned(),
            columns: strings(i.columns),
            unique: i.unique,
            predicate: None,
        })
        .collect()
}

/// The contract as PostgreSQL's catalog must show it.
pub fn postgres() -> Catalog {
    let tables = TABLES
        .iter()
        .map(|t| CatalogTable {
            name: t.name.to_owned(),
            columns: t
                .columns
                .iter()
                .map(|c| CatalogColumn {
                    name: c.name.to_owned(),
                    sql_type: postgres_type(c.ty),
                    not_null: c.not_null,
                    default: postgres_default(t.name, c),
                    extra: None,
                })
                .collect(),
            primary_key: Some(Key {
                name: Some(format!("{}_pkey", t.name)),
                columns: strings(t.primary_key),
            }),
            foreign_keys: foreign_keys(t, true),
            uniques: t
                .uniques
                .iter()
                .map(|u| Key {
                    name: Some(u.name.to_owned()),
                    columns: strings(u.columns),
                })
                .collect(),
            indexes: indexes(t),
        })
        .collect();
    let sequences = serial_columns()
        .into_iter()
        .map(|(table, column)| CatalogSequence {
            name: format!("{table}_{column}_seq"),
            data_type: "bigint".to_owned(),
            owned_by: Some(format!("{table}.{column}")),
            identity_of: None,
        })
        .collect();
    Catalog {
        tables,
        enums: ENUMS
            .iter()
            .map(|e| (e.name.to_owned(), strings(e.labels)))
            .collect(),
        sequences,
        other: Vec::new(),
    }
}

/// The contract as SQLite's pragmas must show it (no constraint names, sequences or enum types).
pub fn sqlite() -> Catalog {
    let tables = TABLES
        .iter()
        .map(|t| CatalogTable {
            name: t.name.to_owned(),
            columns: t
                .columns
                .iter()
                .map(|c| CatalogColumn {
                    name: c.name.to_owned(),
                    sql_type: sqlite_type(c.ty),
                    not_null: c.not_null,
                    default: sqlite_default(t.name, c),
                    extra: None,
                })
                .collect(),
            primary_key: Some(Key {
                name: None,
                columns: strings(t.primary_key),
            }),
            foreign_keys: foreign_keys(t, false),
            uniques: t
                .uniques
                .iter()
                .map(|u| Key {
                    name: None,
                    columns: strings(u.columns),
                })
                .collect(),
            indexes: indexes(t),
        })
        .collect();
    Catalog {
        tables,
        ..Catalog::default()
    }
}

pub fn postgres_lines() -> BTreeSet<String> {
    postgres().lines()
}

pub fn sqlite_lines() -> BTreeSet<String> {
    sqlite().lines()
}
