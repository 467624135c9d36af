//! facedb's integration tests, built as one binary so that libpq, OpenSSL and SQLite link once.
//! Each module is one area and ends with its list of tests and what each needs (`harness`);
//! `support` gives every test its own database and the real binary.

#[macro_use]
mod harness;
#[allow(dead_code)]
mod support;

mod adopt;
mod backups;
mod carry;
mod catalog;
mod commands;
mod connection;
mod drill;
mod faults;
mod first_hour;
mod first_look;
mod ha;
mod input;
mod inspect;
mod library;
mod models;
mod newcomer;
mod ownership;
mod production;
mod prompt;
mod reset_plan;
mod rollback;
mod scale;
mod schema_source;
mod schemas;
mod sqlite_dependents;
mod target;
mod toolkit;
mod topology;
mod users;

/// Every test of every module.
fn all_tests() -> Vec<harness::Test> {
    [
        harness::tests(),
        adopt::tests(),
        backups::tests(),
        carry::tests(),
        catalog::tests(),
        commands::tests(),
        connection::tests(),
        drill::tests(),
        faults::tests(),
        ha::tests(),
        first_hour::tests(),
        first_look::tests(),
        input::tests(),
        inspect::tests(),
        library::tests(),
        models::tests(),
        newcomer::tests(),
        ownership::tests(),
        production::tests(),
        prompt::tests(),
        reset_plan::tests(),
        rollback::tests(),
        scale::tests(),
        schema_source::tests(),
        schemas::tests(),
        sqlite_dependents::tests(),
        target::tests(),
        toolkit::tests(),
        topology::tests(),
        users::tests(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn main() -> std::process::ExitCode {
    harness::run(all_tests())
}
