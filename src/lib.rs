//! facedb owns the database of the multi-tenant face-recognition system: it creates it, applies the
//! schema (embedded SQL migrations for PostgreSQL and SQLite), seeds the first system admin, and
//! resets it. The `facedb` binary is a thin layer over this library; an API can call [`init`] at
//! start-up in development.

pub mod adopt;
pub mod bookkeeping;
pub mod carry;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod connection;
pub mod contract;
pub mod demo;
pub mod error;
pub mod guard;
pub mod inventory;
pub mod lock;
pub mod migrations;
pub mod models;
pub mod ownership;
pub mod password;
pub mod progress;
pub mod prompt;
pub mod schema;
pub mod seed;
pub mod sql_types;
mod text;

pub use commands::check::{check, CheckReport};
pub use commands::init::{init, InitReport};
pub use commands::reset::{reset, ResetReport};
pub use commands::status::{status, StatusReport};
pub use config::Settings;
pub use error::{Error, ExitCode, Result};
