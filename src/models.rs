//! Rust types for the rows of every table in `schema.rs`: a read struct (`Queryable`,
//! `Selectable`) and a borrowed `New…<'a>` insert struct each, plus the two enums.

use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::HasSqlType;
use diesel::sqlite::Sqlite;

use crate::db::{MultiBackend, MultiRawValue};
use crate::sql_types::{Cameratype, Userrole};

/// Defines a Rust enum stored as its upper-case label, on both backends.
macro_rules! label_enum {
    ($(#[$meta:meta])* $name:ident : $sql_type:ty { $($variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
        #[diesel(sql_type = $sql_type)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The label stored in the database.
            pub fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            pub fn from_label(label: &str) -> Option<$name> {
                match label { $($label => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl ToSql<$sql_type, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.label().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<$sql_type, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let label = std::str::from_utf8(bytes.as_bytes())?;
                $name::from_label(label).ok_or_else(|| format!("unknown {} label {label:?}", stringify!($name)).into())
            }
        }

        impl ToSql<$sql_type, Sqlite> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.label());
                Ok(IsNull::No)
            }
        }

        impl FromSql<$sql_type, Sqlite> for $name {
            fn from_sql(value: diesel::sqlite::SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
                let label = <String as FromSql<diesel::sql_types::Text, Sqlite>>::from_sql(value)?;
                $name::from_label(&label).ok_or_else(|| format!("unknown {} label {label:?}", stringify!($name)).into())
            }
        }

        // Through `Db`, diesel's multi-backend connection, each backend's own conversion above.
        impl ToSql<$sql_type, MultiBackend> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((<$sql_type>::default(), self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<$sql_type, MultiBackend> for $name {
            fn from_sql(value: MultiRawValue<'_>) -> deserialize::Result<Self> {
                value.from_sql::<Self, $sql_type>()
            }
        }

        impl HasSqlType<$sql_type> for MultiBackend {
            fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
                MultiBackend::lookup_sql_type::<$sql_type>(lookup)
            }
        }
    };
}

label_enum! {
    /// A user's role (`userrole`).
    UserRole: Userrole {
        SystemAdmin => "SYSTEM_ADMIN",
        TenantAdmin => "TENANT_ADMIN",
        SiteManager => "SITE_MANAGER",
        Worker => "WORKER",
    }
}

label_enum! {
    /// How a camera is reached (`cameratype`).
    CameraType: Cameratype {
        Rtsp => "RTSP",
        Webcam => "WEBCAM",
    }
}

// ---- Table structs (one read struct and one `New…<'a>` insert struct per table) ----

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{Identifiable, Insertable, Queryable, Selectable};

/// A row of `tenants`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::tenants)]
#[diesel(primary_key(tenant_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Tenant {
    pub tenant_id: String,
    pub name: String,
    pub description: Option<String>,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `tenants` row; the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::tenants)]
pub struct NewTenant<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub is_active: bool,
}

/// A row of `sites`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::sites)]
#[diesel(primary_key(site_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Site {
    pub site_id: i64,
    pub tenant_id: String,
    pub name: String,
    pub location: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `sites` row; `site_id` and the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::sites)]
pub struct NewSite<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub location: Option<&'a str>,
}

/// A row of `users`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::users)]
#[diesel(primary_key(user_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password_hash: String,
    pub role: UserRole,
    pub tenant_id: Option<String>,
    pub site_id: Option<i64>,
    pub is_active: bool,
    pub is_email_verified: bool,
    pub last_login: Option<NaiveDateTime>,
    pub password_changed_at: NaiveDateTime,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `users` row with every timestamp explicit (used by seeding, on both backends).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::users)]
pub struct NewUser<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: &'a str,
    pub role: UserRole,
    pub tenant_id: Option<&'a str>,
    pub site_id: Option<i64>,
    pub is_active: bool,
    pub is_email_verified: bool,
    pub password_changed_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A row of `cameras`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::cameras)]
#[diesel(primary_key(camera_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Camera {
    pub camera_id: i64,
    pub tenant_id: String,
    pub site_id: i64,
    pub name: String,
    pub camera_type: CameraType,
    pub rtsp_url: Option<String>,
    pub device_index: Option<i32>,
    pub is_active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub caps: Option<serde_json::Value>,
    pub last_probe_at: Option<DateTime<Utc>>,
    pub last_state_change_at: Option<DateTime<Utc>>,
}

/// A new `cameras` row; `camera_id` and `created_at`/`updated_at` come from the database.
/// `last_probe_at` and `last_state_change_at` start NULL: a new camera has not been probed, and
/// leaving the two `timestamptz` columns out (a type diesel's SQLite backend does not have) lets
/// this struct insert on both backends.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::cameras)]
pub struct NewCamera<'a> {
    pub tenant_id: &'a str,
    pub site_id: i64,
    pub name: &'a str,
    pub camera_type: CameraType,
    pub rtsp_url: Option<&'a str>,
    pub device_index: Option<i32>,
    pub is_active: bool,
    pub caps: Option<serde_json::Value>,
}

/// A row of `camera_sessions`; `state` is PENDING, ACTIVE, PAUSED, ORPHANED or TERMINATED.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::camera_sessions)]
#[diesel(primary_key(camera_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CameraSession {
    pub camera_id: i64,
    pub tenant_id: String,
    pub site_id: i64,
    pub worker_id: Option<String>,
    pub generation: i64,
    pub state: String,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// A new `camera_sessions` row; the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::camera_sessions)]
pub struct NewCameraSession<'a> {
    pub camera_id: i64,
    pub tenant_id: &'a str,
    pub site_id: i64,
    pub worker_id: Option<&'a str>,
    pub generation: i64,
    pub state: &'a str,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub reason: Option<&'a str>,
}

/// A row of `staff`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::staff)]
#[diesel(primary_key(staff_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct StaffMember {
    pub staff_id: i64,
    pub tenant_id: String,
    pub name: String,
    pub site_id: Option<i64>,
    pub is_active: bool,
    pub face_embedding: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `staff` row; `staff_id` and the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::staff)]
pub struct NewStaffMember<'a> {
    pub tenant_id: &'a str,
    pub name: &'a str,
    pub site_id: Option<i64>,
    pub is_active: bool,
    pub face_embedding: Option<&'a str>,
}

/// A row of `staff_face_images`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::staff_face_images)]
#[diesel(primary_key(tenant_id, image_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct StaffFaceImage {
    pub tenant_id: String,
    pub image_id: String,
    pub staff_id: i64,
    pub image_path: String,
    pub face_landmarks: Option<String>,
    pub face_embedding: Option<String>,
    pub image_hash: Option<String>,
    pub is_primary: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `staff_face_images` row; the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::staff_face_images)]
pub struct NewStaffFaceImage<'a> {
    pub tenant_id: &'a str,
    pub image_id: &'a str,
    pub staff_id: i64,
    pub image_path: &'a str,
    pub face_landmarks: Option<&'a str>,
    pub face_embedding: Option<&'a str>,
    pub image_hash: Option<&'a str>,
    pub is_primary: bool,
}

/// A row of `customers`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::customers)]
#[diesel(primary_key(customer_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Customer {
    pub customer_id: i64,
    pub tenant_id: String,
    pub name: Option<String>,
    pub gender: Option<String>,
    pub estimated_age_range: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub first_seen: NaiveDateTime,
    pub last_seen: Option<NaiveDateTime>,
    pub visit_count: i32,
}

/// A new `customers` row; `customer_id` and `first_seen` come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::customers)]
pub struct NewCustomer<'a> {
    pub tenant_id: &'a str,
    pub name: Option<&'a str>,
    pub gender: Option<&'a str>,
    pub estimated_age_range: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub last_seen: Option<NaiveDateTime>,
    pub visit_count: i32,
}

/// A row of `customer_face_images`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::customer_face_images)]
#[diesel(primary_key(image_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct CustomerFaceImage {
    pub image_id: i64,
    pub tenant_id: String,
    pub customer_id: i64,
    pub image_path: String,
    pub confidence_score: f64,
    pub quality_score: Option<f64>,
    pub face_bbox: Option<serde_json::Value>,
    pub embedding: Option<serde_json::Value>,
    pub image_hash: Option<String>,
    pub created_at: NaiveDateTime,
    pub visit_id: Option<String>,
    pub detection_metadata: Option<serde_json::Value>,
}

/// A new `customer_face_images` row; `image_id` and `created_at` come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::customer_face_images)]
pub struct NewCustomerFaceImage<'a> {
    pub tenant_id: &'a str,
    pub customer_id: i64,
    pub image_path: &'a str,
    pub confidence_score: f64,
    pub quality_score: Option<f64>,
    pub face_bbox: Option<serde_json::Value>,
    pub embedding: Option<serde_json::Value>,
    pub image_hash: Option<&'a str>,
    pub visit_id: Option<&'a str>,
    pub detection_metadata: Option<serde_json::Value>,
}

/// A row of `visits` (`person_type` is `staff` or `customer`).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::visits)]
#[diesel(primary_key(tenant_id, visit_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Visit {
    pub tenant_id: String,
    pub visit_id: String,
    pub person_id: i64,
    pub person_type: String,
    pub site_id: i64,
    pub camera_id: i64,
    pub timestamp: NaiveDateTime,
    pub confidence_score: f64,
    pub face_embedding: Option<String>,
    pub image_path: Option<String>,
    pub bbox_x: Option<f64>,
    pub bbox_y: Option<f64>,
    pub bbox_w: Option<f64>,
    pub bbox_h: Option<f64>,
    pub visit_session_id: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
    pub visit_duration_seconds: Option<i32>,
    pub detection_count: i32,
    pub highest_confidence: Option<f64>,
}

/// A new `visits` row; `first_seen` and `last_seen` come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::visits)]
pub struct NewVisit<'a> {
    pub tenant_id: &'a str,
    pub visit_id: &'a str,
    pub person_id: i64,
    pub person_type: &'a str,
    pub site_id: i64,
    pub camera_id: i64,
    pub timestamp: NaiveDateTime,
    pub confidence_score: f64,
    pub face_embedding: Option<&'a str>,
    pub image_path: Option<&'a str>,
    pub bbox_x: Option<f64>,
    pub bbox_y: Option<f64>,
    pub bbox_w: Option<f64>,
    pub bbox_h: Option<f64>,
    pub visit_session_id: &'a str,
    pub visit_duration_seconds: Option<i32>,
    pub detection_count: i32,
    pub highest_confidence: Option<f64>,
}

/// A row of `workers`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::workers)]
#[diesel(primary_key(worker_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct Worker {
    pub worker_id: String,
    pub tenant_id: String,
    pub hostname: String,
    pub ip_address: Option<String>,
    pub worker_name: String,
    pub worker_version: Option<String>,
    pub capabilities: Option<String>,
    pub status: String,
    pub site_id: Option<i64>,
    pub camera_id: Option<i64>,
    pub last_heartbeat: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub error_count: i32,
    pub total_faces_processed: i64,
    pub registration_time: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A new `workers` row; `registration_time` and the timestamps come from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::workers)]
pub struct NewWorker<'a> {
    pub worker_id: &'a str,
    pub tenant_id: &'a str,
    pub hostname: &'a str,
    pub ip_address: Option<&'a str>,
    pub worker_name: &'a str,
    pub worker_version: Option<&'a str>,
    pub capabilities: Option<&'a str>,
    pub status: &'a str,
    pub site_id: Option<i64>,
    pub camera_id: Option<i64>,
    pub last_heartbeat: Option<NaiveDateTime>,
    pub last_error: Option<&'a str>,
    pub error_count: i32,
    pub total_faces_processed: i64,
}

/// A row of `api_keys`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Identifiable)]
#[diesel(table_name = crate::schema::api_keys)]
#[diesel(primary_key(key_id))]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct ApiKey {
    pub key_id: String,
    pub tenant_id: String,
    pub hashed_key: String,
    pub name: String,
    pub role: String,
    pub is_active: bool,
    pub last_used: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A new `api_keys` row; `created_at` comes from the database.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = crate::schema::api_keys)]
pub struct NewApiKey<'a> {
    pub key_id: &'a str,
    pub tenant_id: &'a str,
    pub hashed_key: &'a str,
    pub name: &'a str,
    pub role: &'a str,
    pub is_active: bool,
    pub last_used: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
}

/// The current UTC time at microsecond precision: what PostgreSQL stores, and the
/// `YYYY-MM-DD HH:MM:SS.ffffff` form that SQLAlchemy parses from SQLite.
pub fn now_utc() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}
