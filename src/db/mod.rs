//! The bottom layer: connections to either backend, opened by hand so that each failure is
//! classified, as one diesel `MultiConnection` ([`Db`]) that the layers above run their queries
//! on, and everything dialect-specific that they ask of the database.
//!
//! The files, bottom up, each importing only from those listed before it:
//! - `rows.rs`: the rows the catalog questions return, in neither backend's words;
//! - `postgres.rs` (`pg_catalog`, advisory locks, what the server is) and `sqlite.rs`
//!   (`sqlite_master`, the pragmas): each backend's catalog and system queries, plain functions
//!   on that backend's connection;
//! - `connection.rs`: [`Db`], and opening one with errors a person can act on;
//! - `catalog.rs`: a question both backends answer as one [`Db`] method (e.g.
//!   `db.existing_tables(schema, names)`) that matches on the backend once, so the layers above
//!   never do for a query.
//!
//! Queries of facedb's own tables that both backends run alike stay with the modules that own
//! those tables, as do the statements that set a session or a transaction up (`SET LOCAL`,
//! `PRAGMA busy_timeout`) and the DDL facedb runs.

mod catalog;
mod connection;
pub(crate) mod postgres;
mod rows;
pub(crate) mod session;
pub(crate) mod sqlite;

pub(crate) use catalog::SchemaRows;
pub(crate) use connection::{missing, open, open_existing, open_looking, Opened};
pub use connection::{Access, Db, IfMissing, MultiBackend, MultiRawValue};
pub(crate) use rows::{
    Attachment, Dependent, FirstLook, KnownNames, Owned, SetUpSigns, SetUpState,
};
