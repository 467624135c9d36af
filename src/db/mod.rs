//! The bottom layer: connections to either backend, opened by hand so that each failure is
//! classified, as one diesel `MultiConnection` ([`Db`]) that the layers above run their queries on.

mod connection;

pub(crate) use connection::{missing, open, open_existing};
pub use connection::{Access, Db, IfMissing, MultiBackend, MultiRawValue};
