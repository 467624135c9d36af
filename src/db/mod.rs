//! The bottom layer: connections to either backend, opened by hand so that each failure is
//! classified, as one diesel `MultiConnection` ([`Db`]) that the layers above run their queries
//! on. Each backend's catalog and system queries live in one file: `postgres.rs` and `sqlite.rs`.

mod connection;
pub(crate) mod postgres;
pub(crate) mod sqlite;

pub(crate) use connection::{missing, open, open_existing};
pub use connection::{Access, Db, IfMissing, MultiBackend, MultiRawValue};
