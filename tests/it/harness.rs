//! The test harness (`harness = false`, on libtest-mimic): every test says what it needs of the
//! machine, `run` probes once what the machine offers, and a test whose needs are not met does not
//! run: it is reported as ignored, never as passed. `FACEDB_TEST_REQUIRE_POSTGRES=1` (CI) makes it
//! fail instead.
//!
//! Each module ends with `tests![needs::SERVER => [a, b], needs::NOTHING => [c]]`, which names
//! each test function once; a function left out is dead code, which clippy rejects. Output is not
//! captured: tests print only through `note!`, shown with `--nocapture`.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::OnceLock;

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use crate::support;
use crate::support::cluster::free_port;
use crate::support::secrets::CLOSED_PORT_PASSWORD;
use crate::support::Output;

/// Set to "1" when a missing capability must fail the tests that need it.
const REQUIRE_VAR: &str = "FACEDB_TEST_REQUIRE_POSTGRES";

/// Something a test needs beyond the test binary and SQLite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// The shared PostgreSQL server (`FACEDB_TEST_DATABASE_URL` or the default).
    Server,
    /// That server's URL without a password: the server trusts the tests.
    ServerWithoutPassword,
    /// `initdb` and `pg_ctl`, to start private clusters.
    Cluster,
    /// `pg_basebackup`, to make a streaming standby of a private cluster.
    Standby,
    /// `pgbouncer`.
    PgBouncer,
    /// Patroni and etcd (Debian's `patroni` and `etcd-server`), to run a managed cluster.
    Patroni,
    /// `diesel` (diesel_cli), which the schema recipe runs: on the `PATH` or in cargo's bin folder.
    DieselCli,
}

impl Capability {
    fn what(self) -> &'static str {
        match self {
            Capability::Server => "the PostgreSQL test server",
            Capability::ServerWithoutPassword => "a test server that takes no password",
            Capability::Cluster => "private PostgreSQL clusters",
            Capability::Standby => "a streaming standby",
            Capability::PgBouncer => "PgBouncer",
            Capability::Patroni => "Patroni and etcd",
            Capability::DieselCli => "diesel_cli",
        }
    }

    /// `Ok` when the machine offers it; otherwise why not (no password shown).
    fn probe(self) -> Result<(), String> {
        match self {
            Capability::Server => support::probe_server(),
            Capability::ServerWithoutPassword => support::probe_server_without_password(),
            Capability::Cluster => support::cluster::probe_cluster(),
            Capability::Standby => support::cluster::probe_standby(),
            Capability::PgBouncer => support::cluster::probe_pgbouncer(),
            Capability::Patroni => support::patroni::probe(),
            Capability::DieselCli => crate::drill::diesel_program().map(|_| ()),
        }
    }
}

/// What one test needs: every capability listed.
pub type Needs = &'static [Capability];

/// The needs the tests declare.
pub mod needs {
    use super::Capability::*;
    use super::Needs;

    pub const NOTHING: Needs = &[];
    pub const SERVER: Needs = &[Server];
    pub const SERVER_WITHOUT_PASSWORD: Needs = &[Server, ServerWithoutPassword];
    pub const SERVER_AND_PGBOUNCER: Needs = &[Server, PgBouncer];
    pub const CLUSTER: Needs = &[Cluster];
    pub const CLUSTER_AND_STANDBY: Needs = &[Cluster, Standby];
    pub const CLUSTER_AND_PGBOUNCER: Needs = &[Cluster, PgBouncer];
    pub const CLUSTER_AND_PATRONI: Needs = &[Cluster, Patroni];
    pub const SERVER_AND_DIESEL_CLI: Needs = &[Server, DieselCli];
}

/// One test function, under its full name (`module::function`).
pub struct Test {
    name: String,
    needs: Needs,
    run: fn(),
}

impl Test {
    /// `module_path` is the module's `module_path!()`: the binary's name, then the module's.
    pub fn new(module_path: &str, function: &str, needs: Needs, run: fn()) -> Test {
        let module = module_path
            .split_once("::")
            .map_or(module_path, |(_, module)| module);
        Test {
            name: format!("{module}::{function}"),
            needs,
            run,
        }
    }
}

/// Defines the module's `tests()`: each function under what it needs.
macro_rules! tests {
    ($(needs::$needs:ident => [$($test:ident),* $(,)?]),* $(,)?) => {
        /// This module's tests, each with what it needs.
        pub fn tests() -> Vec<$crate::harness::Test> {
            use $crate::harness::{needs, Test};
            vec![$($(Test::new(module_path!(), stringify!($test), needs::$needs, $test)),*),*]
        }
    };
}

/// Set once by `run`: whether the command line asked to see what the tests print.
static SHOW_NOTES: OnceLock<bool> = OnceLock::new();

/// Whether `note!` prints: with `--nocapture` or `--show-output`. The harness captures nothing, so
/// a passing run stays quiet only if the tests are.
pub fn notes_shown() -> bool {
    SHOW_NOTES.get().copied().unwrap_or(false)
}

/// Like `eprintln!`, printed only with `--nocapture` (`--show-output`): what a test saw on the
/// way, for someone studying it.
macro_rules! note {
    ($($arg:tt)*) => {
        if $crate::harness::notes_shown() {
            eprintln!($($arg)*);
        }
    };
}

thread_local! {
    /// Whether this thread is in `expect_panic`, whose panic is the test passing.
    static EXPECTING_PANIC: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, which must panic with a message containing `expected` (libtest's `should_panic`);
/// that panic is not printed.
pub fn expect_panic(expected: &str, f: impl FnOnce()) {
    EXPECTING_PANIC.with(|expecting| expecting.set(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    EXPECTING_PANIC.with(|expecting| expecting.set(false));
    let payload = outcome.expect_err("expected a panic");
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains(expected),
        "the panic {message:?} does not say {expected:?}"
    );
}

/// Panics print as usual (the harness shows no captured output), except those `expect_panic`
/// expects.
fn print_unexpected_panics_only() {
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !EXPECTING_PANIC.with(Cell::get) {
            print(info)
        }
    }));
}

/// Runs `tests` as the command line asks (`cargo test` filters, `--list`, `--exact`,
/// `--test-threads`, …).
pub fn run(mut tests: Vec<Test>) -> ExitCode {
    let (mut args, filters) = arguments();
    if filters.len() > 1 {
        tests.retain(|test| {
            filters.iter().any(|filter| match args.exact {
                true => test.name == *filter,
                false => test.name.contains(filter.as_str()),
            })
        });
    } else {
        args.filter = filters.into_iter().next();
    }
    if args.test_threads.is_none() {
        // libtest reads it; libtest-mimic does not.
        args.test_threads = std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|n| n.parse().ok());
    }
    SHOW_NOTES.get_or_init(|| args.nocapture || args.show_output);
    print_unexpected_panics_only();
    assert_names_unique(&tests);
    let missing = if args.list {
        BTreeMap::new()
    } else {
        probe(&args, &tests)
    };
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    report_missing(&args, &tests, &missing, required);
    let trials = tests
        .into_iter()
        .map(|test| trial(test, &missing, required))
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}

/// The command line, and its name filters: libtest takes any number (`cargo test --test it --
/// catalog:: rollback::`), libtest-mimic one, so they are taken out here.
fn arguments() -> (Arguments, Vec<String>) {
    const TAKES_A_VALUE: [&str; 6] = [
        "--test-threads",
        "--logfile",
        "--skip",
        "--color",
        "--format",
        "-Z",
    ];
    let mut raw = std::env::args_os();
    let mut options: Vec<OsString> = raw.next().into_iter().collect();
    let mut filters = Vec::new();
    while let Some(arg) = raw.next() {
        match arg.to_str() {
            Some(option) if TAKES_A_VALUE.contains(&option) => {
                options.push(arg);
                options.extend(raw.next());
            }
            Some(filter) if !filter.starts_with('-') => filters.push(filter.to_owned()),
            _ => options.push(arg),
        }
    }
    (Arguments::from_iter(options), filters)
}

fn assert_names_unique(tests: &[Test]) {
    let mut seen = std::collections::BTreeSet::new();
    for test in tests {
        assert!(seen.insert(&test.name), "{} is listed twice", test.name);
    }
}

/// Whether the command line runs `test` (not filtered out, not ignored).
fn selected(args: &Arguments, test: &Test) -> bool {
    let trial = Trial::test(test.name.clone(), || Ok(()));
    !args.is_filtered_out(&trial) && !args.is_ignored(&trial)
}

/// The capabilities the selected tests need that the machine lacks, each with why.
fn probe(args: &Arguments, tests: &[Test]) -> BTreeMap<Capability, String> {
    let wanted: std::collections::BTreeSet<Capability> = tests
        .iter()
        .filter(|test| selected(args, test))
        .flat_map(|test| test.needs.iter().copied())
        .collect();
    wanted
        .into_iter()
        .filter_map(|capability| capability.probe().err().map(|why| (capability, why)))
        .collect()
}

/// One line per missing capability: how many selected tests it skips (or fails), and why.
fn report_missing(
    args: &Arguments,
    tests: &[Test],
    missing: &BTreeMap<Capability, String>,
    required: bool,
) {
    for (capability, why) in missing {
        let count = tests
            .iter()
            .filter(|test| test.needs.contains(capability) && selected(args, test))
            .count();
        let tests = if count == 1 { "test" } else { "tests" };
        let what = capability.what();
        if required {
            eprintln!("failing {count} {tests} that need {what} ({REQUIRE_VAR}=1): {why}");
        } else {
            eprintln!("skipped {count} {tests} that need {what}: {why}");
        }
    }
}

fn trial(test: Test, missing: &BTreeMap<Capability, String>, required: bool) -> Trial {
    let unmet: Vec<Capability> = test
        .needs
        .iter()
        .copied()
        .filter(|capability| missing.contains_key(capability))
        .collect();
    let Some(first) = unmet.first() else {
        let run = test.run;
        return Trial::test(test.name, move || {
            run();
            Ok(())
        });
    };
    let whats: Vec<&str> = unmet.iter().map(|c| c.what()).collect();
    let needs = format!("needs {}", whats.join(" and "));
    if required {
        let why = format!("{REQUIRE_VAR}=1, and this test {needs}: {}", missing[first]);
        Trial::test(test.name, move || Err(Failed::from(why)))
    } else {
        Trial::ignorable_test(test.name, move || Ok(Completion::ignored_with(needs)))
    }
}

// The harness itself: a test whose capability is missing is ignored, or fails when required.

/// Set in the `it` binary these checks run, whose own runs of it are then refused.
const CHILD_VAR: &str = "FACEDB_TEST_HARNESS_CHILD";

/// Runs this binary on every test that needs the test server, with the server at a closed
/// port, and returns its output and how many tests it was given.
fn run_server_tests_without_a_server(required: bool) -> (Output, usize, u16) {
    assert!(
        std::env::var_os(CHILD_VAR).is_none(),
        "a check of the harness runs in a run it started"
    );
    let all = crate::all_tests();
    let (server, others): (Vec<&Test>, Vec<&Test>) = all
        .iter()
        .partition(|test| test.needs.contains(&Capability::Server));
    let port = free_port();
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("this binary"));
    // Every other test is skipped by name, these checks too: the run cannot start another.
    cmd.args(["--exact", "--color", "never", "--test-threads", "1"]);
    for test in others {
        cmd.args(["--skip", &test.name]);
    }
    cmd.env(CHILD_VAR, "1").env(
        "FACEDB_TEST_DATABASE_URL",
        format!("postgres://postgres:{CLOSED_PORT_PASSWORD}@127.0.0.1:{port}/x"),
    );
    if required {
        cmd.env(REQUIRE_VAR, "1");
    } else {
        cmd.env_remove(REQUIRE_VAR);
    }
    let out = Output::from(cmd.output().expect("the test binary runs"));
    (out, server.len(), port)
}

fn tests_without_their_server_are_ignored_not_passed() {
    let (out, count, port) = run_server_tests_without_a_server(false);
    let out = out
        .success()
        .stderr_has(&format!(
            "skipped {count} tests that need the PostgreSQL test server: cannot connect to \
             postgres://postgres:***@127.0.0.1:{port}/x ("
        ))
        .stdout_has(&format!(
            "test result: ok. 0 passed; 0 failed; {count} ignored"
        ));
    assert_eq!(
        out.stdout
            .matches("... ignored (needs the PostgreSQL test server")
            .count(),
        count,
        "{}",
        out.stdout
    );
}

fn with_postgres_required_tests_without_their_server_fail() {
    let (out, count, port) = run_server_tests_without_a_server(true);
    out.code(101)
        .stderr_has(&format!(
            "failing {count} tests that need the PostgreSQL test server ({REQUIRE_VAR}=1): \
             cannot connect to postgres://postgres:***@127.0.0.1:{port}/x ("
        ))
        .stdout_has(&format!(
            "test result: FAILED. 0 passed; {count} failed; 0 ignored"
        ))
        .stdout_has(&format!(
            "{REQUIRE_VAR}=1, and this test needs the PostgreSQL test server: cannot connect"
        ));
}

tests![needs::NOTHING => [
    tests_without_their_server_are_ignored_not_passed,
    with_postgres_required_tests_without_their_server_fail,
]];
