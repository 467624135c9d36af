//! facedb owns the database of the multi-tenant face-recognition system: it creates it, applies the
//! schema (embedded SQL migrations for PostgreSQL and SQLite), seeds the first system admin, and
//! resets it. The `facedb` binary is a thin layer over this library; an API can call [`init`] at
//! start-up in development.
//!
//! ```no_run
//! fn main() -> facedb::Result<()> {
//!     // The URL given directly; everything else (FACEDB_SCHEMA, ENV…) from the environment.
//!     let settings = facedb::Settings::for_url("postgres://facedb@localhost/facedb")?;
//!     // Creates (or adopts), migrates, seeds; a no-op when up to date.
//!     let report = facedb::init(&settings)?;
//!     // The report names the command and the database; its `outcome` is what init did.
//!     if !report.outcome.up_to_date {
//!         println!("{report}");
//!     }
//!     Ok(())
//! }
//! ```
//!
//! The layers, bottom up, each importing only from those below it:
//! - settings, errors and wording: [`config`], [`error`], `progress`, `prompt`, `text`;
//! - connections and what is dialect-specific: [`db`] (one [`db::Db`] for both backends; each
//!   backend's catalog and system queries in one file, `db/postgres.rs` and `db/sqlite.rs`);
//! - the schema derived from the migrations: [`schema`], [`models`], [`sql_types`],
//!   `bookkeeping`, [`migrations`], [`catalog`], [`contract`], [`compare`];
//! - setup and adoption: `password`, `seed`, `inventory`, `ownership`, `guard`, `lock`, `carry`,
//!   `footprint`, `backup`, `adopt`, `demo`;
//! - one module per command (`commands`), and the command line (`cli`).

pub mod catalog;
#[doc(hidden)]
pub mod cli;
pub mod compare;
pub mod config;
pub mod contract;
pub mod db;
pub mod error;
pub mod migrations;
pub mod models;
pub mod schema;
pub mod sql_types;

mod adopt;
mod backup;
mod bookkeeping;
mod carry;
mod commands;
mod demo;
mod footprint;
mod guard;
mod inventory;
mod lock;
mod ownership;
mod password;
mod progress;
mod prompt;
mod seed;
mod text;

pub use commands::check::{check, CheckOutcome, CheckReport};
pub use commands::init::{init, init_finds_up_to_date, init_locked, InitOutcome, InitReport};
/// What every command returns: the command and its database around the command's own outcome.
pub use commands::report::{self, Report};
pub use commands::reset::{reset, ResetOutcome, ResetReport};
pub use commands::rollback::{rollback, RollbackOutcome, RollbackReport};
pub use commands::status::{status, StatusOutcome, StatusReport};
pub use config::Settings;
pub use error::{Error, ExitCode, Result};
/// facedb's tables (children before parents), its PostgreSQL enum types, and its bookkeeping tables.
pub use inventory::{BOOKKEEPING_TABLES, ENUM_TYPES, TABLES};
/// The PostgreSQL advisory lock facedb holds while it changes the schema.
pub use lock::ADVISORY_LOCK_KEY;
/// Hashing a password as facedb writes it, and whether a password matches a hash facedb wrote.
pub use password::{hash_with as hash_password, verify as verify_password};
