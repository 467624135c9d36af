//! facedb's integration tests, built as one binary so that libpq, OpenSSL and SQLite link once.
//! Each module is one area; `support` gives every test its own database and the real binary.

#[allow(dead_code)]
mod support;

mod adopt;
mod carry;
mod catalog;
mod commands;
mod connection;
mod faults;
mod input;
mod inspect;
mod models;
mod newcomer;
mod ownership;
mod production;
mod prompt;
mod rollback;
mod scale;
mod schema_source;
mod target;
mod toolkit;
mod topology;
mod users;
