//! The two enum SQL types. PostgreSQL has them as `CREATE TYPE … AS ENUM`; SQLite stores the same
//! upper-case labels as text (with a CHECK), so one SQL type serves both backends.

/// `userrole`: SYSTEM_ADMIN, TENANT_ADMIN, SITE_MANAGER, WORKER.
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
#[diesel(postgres_type(name = "userrole"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Userrole;

/// `cameratype`: RTSP, WEBCAM.
#[derive(
    diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug, Clone, Copy, Default,
)]
#[diesel(postgres_type(name = "cameratype"))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Cameratype;
