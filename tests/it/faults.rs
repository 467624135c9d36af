//! facedb's promises under attack: `fresh --force` killed with SIGKILL at moments spread over its
//! whole run, many facedb processes at once, short lock timeouts, and the server stopping in the
//! middle of a reset. After each attack the database is entirely old or entirely new, never a
//! mix, and the next `facedb init` succeeds.
//!
//! Every wait is bounded, every process this file starts is waited for (or killed), and every
//! database is dropped by its guard. Run with `--nocapture` to see where the kills landed.

use crate::support;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use support::cluster::PrivateCluster;
use support::data::{
    add_data, add_visits, admin_row, admin_row_on, counts, counts_on, is_seed_only, ADD_DATA,
};
use support::{std_facedb_in, Backend, Output, TestDb};

/// Kill moments spread evenly from 0 to 100% of an undisturbed run, and random ones on top.
const EVEN_KILLS: u32 = 20;
const RANDOM_KILLS: u32 = 5;
/// Kills packed around the moment the transaction commits.
const COMMIT_KILLS: u32 = 10;
/// Visits added to the one row per table of `add_data`, so that dropping takes a while too.
const EXTRA_VISITS: u64 = 3000;
/// Far above any facedb run here, far below a hung test.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Waits for `child` for at most `limit`; kills it (and fails the test) if it takes longer.
fn finish(mut child: Child, limit: Duration, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().expect("poll facedb").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: facedb still ran after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Output::from(child.wait_with_output().expect("collect facedb's output"))
}

/// `facedb ARGS` started in the background, its output piped.
fn spawn(db: &TestDb, args: &[&str]) -> Child {
    db.std_facedb()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn facedb")
}

/// Starts `n` facedb processes with `args` at once and collects their outputs.
fn all_at_once(db: &TestDb, n: usize, args: &[&str]) -> Vec<Output> {
    let children: Vec<Child> = (0..n).map(|_| spawn(db, args)).collect();
    children
        .into_iter()
        .map(|child| finish(child, RUN_LIMIT, &format!("{:?} {args:?}", db.backend)))
        .collect()
}

/// PostgreSQL: waits until no facedb session is left on the database, so that the server has
/// finished with a killed client's transaction (rolled back, or committed if COMMIT had been sent).
fn wait_for_facedb_sessions_to_end(db: &TestDb) {
    if db.backend != Backend::Postgres {
        return;
    }
    let sql = format!(
        "SELECT count(*) AS v FROM pg_stat_activity WHERE datname = '{}' AND application_name = 'facedb'",
        db.name.replace('\'', "''")
    );
    let mut conn = db.connect();
    let started = Instant::now();
    while conn.i64(&sql) > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "a killed facedb's session is still open after 30 s"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A random number from the standard library's per-process random hasher keys.
fn random() -> u64 {
    RandomState::new().build_hasher().finish()
}

fn populate(db: &TestDb) {
    add_data(db);
    add_visits(db, EXTRA_VISITS);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Every old row, the same admin.
    Old,
    /// What a reset leaves: every table empty but `users`, which holds one new admin.
    New,
}

#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    old: usize,
    new: usize,
    /// Runs that ended on their own before the kill came.
    finished: usize,
    /// SQLite: kills inside the write transaction, before its commit: the journal is left
    /// with a zeroed header (not hot), and the database file is untouched.
    unsynced_journals: usize,
    /// SQLite: kills in the middle of the commit: a hot journal, rolled back by the next
    /// connection.
    hot_journals: usize,
}

/// What the database holds now, which must be one of the two states, after checking that the
/// file or server is left in order.
fn state_after_kill(db: &TestDb, old: &(Vec<(String, i64)>, Vec<String>), moment: &str) -> State {
    wait_for_facedb_sessions_to_end(db);
    if db.backend == Backend::Sqlite {
        let mut conn = db.connect();
        // A lock left behind would make this fail at once (no busy timeout on this connection);
        // taking it also rolls back a hot journal.
        conn.exec("BEGIN IMMEDIATE; ROLLBACK;");
        assert_eq!(
            conn.strings("SELECT integrity_check AS v FROM pragma_integrity_check"),
            ["ok"],
            "{moment}: integrity check"
        );
    }
    assert_eq!(
        db.facedb_tables(),
        12,
        "{moment}: a half-built schema ({:?})",
        db.backend
    );
    let now = (counts(db), admin_row(db));
    if now == *old {
        State::Old
    } else if is_seed_only(&now.0) && now.1.len() == 1 && now.1 != old.1 {
        State::New
    } else {
        panic!(
            "{moment}: {:?} holds a mix of old and new: {:?} (before: {:?})",
            db.backend, now, old
        );
    }
}

fn journal(db: &TestDb) -> std::path::PathBuf {
    db.dir().join("facedb.db-journal")
}

/// The SQLite journal's modification time and whether it is hot (its header starts with the
/// journal magic: SQLite writes that only once the journal is synced, just before it changes
/// the database file). `None` without a journal.
fn journal_now(db: &TestDb) -> Option<(std::time::SystemTime, bool)> {
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let path = journal(db);
    let modified = path.metadata().ok()?.modified().ok()?;
    let header = std::fs::read(&path).unwrap_or_default();
    Some((modified, header.starts_with(&MAGIC)))
}

/// Kills `fresh --force` at `EVEN_KILLS + RANDOM_KILLS` moments of its run, then at
/// `COMMIT_KILLS` moments around its commit, and checks the database after each.
fn kill_fresh_at_every_moment(db: &TestDb) -> Tally {
    db.init();
    populate(db);
    // An undisturbed run sets the scale of the kill moments: the quickest of three, as the
    // others are slowed by whatever else the machine does.
    let mut runs: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            let out = finish(
                spawn(db, &["fresh", "--force", "-q"]),
                RUN_LIMIT,
                "a timing run",
            );
            let took = started.elapsed();
            out.success();
            populate(db);
            took
        })
        .collect();
    runs.sort();
    let run = runs[0];
    let seed = random();
    let moments: Vec<Duration> = (0..EVEN_KILLS)
        .map(|i| run * i / (EVEN_KILLS - 1))
        .chain((0..RANDOM_KILLS).map(|i| {
            let r = seed.rotate_left(i * 13) % 1000;
            run * r as u32 / 1000
        }))
        .collect();
    note!(
        "{:?}: an undisturbed fresh --force takes {run:?} (runs {runs:?}); killing at {moments:?}",
        db.backend
    );

    let mut tally = Tally::default();
    let mut old = (counts(db), admin_row(db));
    let mut landed = Vec::new();
    for (i, moment) in moments.iter().enumerate() {
        let label = format!(
            "{:?} kill {i} at {moment:?} of {run:?} (seed {seed})",
            db.backend
        );
        let state = kill_once(db, *moment, &mut old, &mut tally, &label);
        landed.push((*moment, state));
    }
    // Then kills packed around the commit: between the latest kill that left the old database
    // and the earliest that left the new one (they overlap, as process start-up times vary).
    // When every kill came too early, later ones find the end first.
    let moment_of = |state: State| {
        landed
            .iter()
            .filter(move |(_, s)| *s == state)
            .map(|(m, _)| *m)
    };
    let last_old = moment_of(State::Old).max();
    let mut first_new = moment_of(State::New).min();
    let mut probe = run;
    while first_new.is_none() && probe < run * 20 {
        probe = probe * 3 / 2;
        let label = format!("{:?} late kill at {probe:?} of {run:?}", db.backend);
        if kill_once(db, probe, &mut old, &mut tally, &label) == State::New {
            first_new = Some(probe);
        }
    }
    if let (Some(a), Some(b)) = (last_old, first_new) {
        let (from, to) = (a.min(b), a.max(b));
        let commit: Vec<Duration> = (0..COMMIT_KILLS)
            .map(|i| from + (to - from) * i / (COMMIT_KILLS - 1))
            .collect();
        note!("{:?}: killing around the commit at {commit:?}", db.backend);
        for (i, moment) in commit.into_iter().enumerate() {
            let label = format!("{:?} commit kill {i} at {moment:?} of {run:?}", db.backend);
            kill_once(db, moment, &mut old, &mut tally, &label);
        }
    }
    note!("{:?}: {tally:?}", db.backend);
    tally
}

/// Starts `fresh --force`, kills it after `moment`, checks the database is entirely `old` or
/// entirely new and that `init` then succeeds, and fills it again if it was reset.
fn kill_once(
    db: &TestDb,
    moment: Duration,
    old: &mut (Vec<(String, i64)>, Vec<String>),
    tally: &mut Tally,
    label: &str,
) -> State {
    tally.kills += 1;
    let journal_before = journal_now(db);
    let mut child = db
        .std_facedb()
        .args(["fresh", "--force", "-q"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn facedb");
    std::thread::sleep(moment);
    // SIGKILL; a process that already exited is only reaped.
    child.kill().expect("kill facedb");
    let status = child.wait().expect("reap facedb");
    if status.signal() != Some(9) {
        assert!(status.success(), "{label}: {status}");
        tally.finished += 1;
    }
    let journal_left = journal_now(db).filter(|j| Some(*j) != journal_before);
    let state = state_after_kill(db, old, label);
    match journal_left {
        Some((_, true)) => {
            tally.hot_journals += 1;
            assert_eq!(state, State::Old, "{label}: a hot journal rolls back");
            assert!(
                journal_now(db).is_none_or(|(_, hot)| !hot),
                "{label}: the hot journal was rolled back"
            );
        }
        Some((_, false)) => tally.unsynced_journals += 1,
        None => {}
    }
    let init = db.run(&["init", "--lock-timeout", "10s"]).success();
    assert!(
        init.stdout.contains("up to date"),
        "{label}: init after the kill had work to do: {}",
        init.stdout
    );
    match state {
        State::Old => tally.old += 1,
        State::New => {
            tally.new += 1;
            populate(db);
            *old = (counts(db), admin_row(db));
        }
    }
    state
}

/// Kills `fresh` at every moment of its run: each kill leaves the old database or the new one,
/// and both happen (the first kill comes before any change, a late one after the commit).
fn every_kill_leaves_the_old_or_the_new_database(db: &TestDb) {
    let tally = kill_fresh_at_every_moment(db);
    assert_eq!(tally.old + tally.new, tally.kills, "{tally:?}");
    assert!(
        tally.old > 0,
        "the kill at 0 ms leaves the old database: {tally:?}"
    );
    assert!(
        tally.new > 0,
        "a late enough kill leaves the new database: {tally:?}"
    );
}

fn a_killed_fresh_leaves_the_old_or_the_new_database_sqlite() {
    let db = TestDb::sqlite();
    every_kill_leaves_the_old_or_the_new_database(&db);
}

fn a_killed_fresh_leaves_the_old_or_the_new_database_postgres() {
    let db = TestDb::postgres();
    every_kill_leaves_the_old_or_the_new_database(&db);
}

/// After many processes: the whole schema, one row per migration, one admin.
fn assert_one_whole_database(db: &TestDb) {
    assert_eq!(db.facedb_tables(), 12, "{:?}: every table", db.backend);
    assert_eq!(
        db.count("__diesel_schema_migrations"),
        support::migration_count(),
        "{:?}: one row per migration",
        db.backend
    );
    assert!(
        is_seed_only(&counts(db)),
        "{:?}: only the seed: {:?}",
        db.backend,
        counts(db)
    );
    assert_eq!(
        db.connect()
            .i64("SELECT count(*) AS v FROM users WHERE role = 'SYSTEM_ADMIN'"),
        1,
        "{:?}: one admin",
        db.backend
    );
}

fn sixteen_inits_at_once_on_a_new_database() {
    for db in TestDb::each() {
        let outputs = all_at_once(&db, 16, &["init"]);
        for out in &outputs {
            assert_eq!(out.code, Some(0), "{:?}: {}", db.backend, out.stderr);
        }
        let said = |what: &str| outputs.iter().filter(|o| o.stdout.contains(what)).count();
        assert_eq!(said("created the database"), 1, "{:?}", db.backend);
        assert_eq!(
            said(&format!("applied {}", support::every_migration())),
            1,
            "{:?}",
            db.backend
        );
        assert_eq!(said("seeded admin"), 1, "{:?}", db.backend);
        // The one that created the database need not be the one that applied the schema.
        assert!(said("up to date") >= 14, "{:?}", db.backend);
        assert_one_whole_database(&db);
    }
}

fn eight_freshes_at_once_on_a_populated_database() {
    for db in TestDb::each() {
        db.init();
        populate(&db);
        let outputs = all_at_once(&db, 8, &["fresh", "--force"]);
        for out in &outputs {
            assert_eq!(out.code, Some(0), "{:?}: {}", db.backend, out.stderr);
            assert!(
                out.stdout.contains("dropped 12 tables"),
                "{:?}: {}",
                db.backend,
                out.stdout
            );
        }
        assert_one_whole_database(&db);
    }
}

/// A lock held on purpose: the facedb processes with a short `--lock-timeout` give up with exit 6
/// naming the holder; those with a long one succeed once it is released.
fn a_short_lock_timeout_fails_only_its_own_process_and_names_the_holder() {
    for db in TestDb::each() {
        db.init();
        populate(&db);
        let mut holder = db.connect();
        match db.backend {
            Backend::Postgres => holder.exec(&format!(
                "SET application_name = 'held-on-purpose'; SELECT pg_advisory_lock({});",
                facedb::ADVISORY_LOCK_KEY
            )),
            Backend::Sqlite => holder.exec("BEGIN IMMEDIATE"),
        }
        let patient: Vec<Child> = (0..4)
            .map(|_| spawn(&db, &["fresh", "--force", "--lock-timeout", "60s"]))
            .collect();
        let hasty = all_at_once(&db, 4, &["fresh", "--force", "--lock-timeout", "1s"]);
        for out in &hasty {
            assert_eq!(out.code, Some(6), "{:?}: {}", db.backend, out.stderr);
            assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
            let names = match db.backend {
                Backend::Postgres => ["pid ", "held-on-purpose"],
                Backend::Sqlite => ["another process", "--lock-timeout"],
            };
            for name in names {
                assert!(out.stderr.contains(name), "{}", out.stderr);
            }
        }
        assert_eq!(counts(&db).len(), 12);
        assert!(!is_seed_only(&counts(&db)), "nothing was reset yet");
        drop(holder);
        for child in patient {
            finish(child, RUN_LIMIT, "a patient fresh").success();
        }
        assert_one_whole_database(&db);
    }
}

/// Another session reading facedb's tables (a long report, a session idle in a transaction)
/// holds up a reset: with a short `--lock-timeout` it gives up with exit 6 naming that session,
/// changes nothing, and succeeds once the reader is done.
fn a_reader_holding_the_tables_makes_reset_give_up_with_exit_6() {
    for db in TestDb::each() {
        db.init();
        populate(&db);
        let before = (counts(&db), admin_row(&db));
        let mut reader = db.connect();
        if db.backend == Backend::Postgres {
            reader.exec("SET application_name = 'reader-on-purpose'");
        }
        reader.exec("BEGIN; SELECT count(*) FROM visits;");
        let out = db
            .run(&["fresh", "--force", "--lock-timeout", "1s"])
            .code(6)
            .stderr_has("--lock-timeout");
        assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
        note!("{:?}: {}", db.backend, out.stderr.trim_end());
        if db.backend == Backend::Postgres {
            assert!(
                out.stderr.contains("pid ") && out.stderr.contains("reader-on-purpose"),
                "{}",
                out.stderr
            );
        }
        assert_eq!((counts(&db), admin_row(&db)), before, "{:?}", db.backend);
        drop(reader);
        db.run(&["fresh", "--force", "--lock-timeout", "1s"])
            .success();
    }
}

/// Eight resets at once, each ready to wait only 10 ms: each succeeds or gives up with exit 6,
/// at least one succeeds, and the database ends whole.
fn a_crowd_with_tiny_lock_timeouts_leaves_a_whole_database() {
    for db in TestDb::each() {
        db.init();
        populate(&db);
        let outputs = all_at_once(&db, 8, &["fresh", "--force", "--lock-timeout", "10ms"]);
        let mut succeeded = 0;
        for out in &outputs {
            match out.code {
                Some(0) => succeeded += 1,
                Some(6) => {
                    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);
                    assert!(
                        out.stderr.contains("--lock-timeout"),
                        "{:?}: {}",
                        db.backend,
                        out.stderr
                    );
                }
                other => panic!("{:?}: exit {other:?}: {}", db.backend, out.stderr),
            }
        }
        assert!(succeeded >= 1, "{:?}: one of them ran", db.backend);
        assert_one_whole_database(&db);
    }
}

/// `facedb ARGS` on a private cluster's database, in `dir`.
fn facedb_on(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut cmd = std_facedb_in(dir);
    cmd.env("DATABASE_URL", url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// The server stops (as in a crash: `pg_ctl stop -m immediate`) while `fresh --force` is in the
/// middle of dropping the tables. facedb ends with one clear error line; a facedb started while
/// the server is down gives up within its connect timeout; back up, the server has every old row.
fn a_server_stopped_in_the_middle_of_a_reset_keeps_the_old_data() {
    let mut cluster = PrivateCluster::start();
    let dir = tempfile::TempDir::new().expect("temp dir");
    let url = cluster.superuser_url("facedb");
    let run = |args: &[&str]| {
        let child = facedb_on(dir.path(), &url)
            .args(args)
            .spawn()
            .expect("spawn facedb");
        finish(child, RUN_LIMIT, &format!("{args:?}"))
    };
    run(&["init"]).success();
    let mut conn = cluster.connect("facedb");
    conn.exec(ADD_DATA);
    let before = (counts_on(&mut conn), admin_row_on(&mut conn));

    let mut blocker = cluster.connect("facedb");
    support::stop_facedbs_drop_midway(&mut blocker);
    // Without a backup: the drop itself is what the server stops in the middle of.
    let reset = facedb_on(dir.path(), &url)
        .args(["fresh", "--force", "--no-backup"])
        .spawn()
        .expect("spawn facedb");
    support::wait_for_facedb_at_the_drop(&mut conn);
    let holds_visits =
        "SELECT count(*) AS v FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                        WHERE a.application_name = 'facedb' AND l.relation = 'visits'::regclass \
                        AND l.mode = 'AccessExclusiveLock' AND l.granted";
    assert_eq!(conn.i64(holds_visits), 1, "facedb is dropping the tables");

    cluster.stop_immediately();
    drop((blocker, conn));
    let out = finish(reset, Duration::from_secs(30), "the interrupted reset");
    note!("interrupted reset: exit {:?}: {}", out.code, out.stderr);
    let out = out
        .code(3)
        .stderr_has("error: lost the connection to the database")
        .stderr_has("nothing facedb was doing was committed");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {}", out.stderr);

    // While the server is down.
    let started = Instant::now();
    let down = run(&["fresh", "--force", "--connect-timeout", "2s"]).code(3);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "gave up after {took:?}");
    assert!(
        down.stderr
            .contains(&format!("127.0.0.1:{}", cluster.port())),
        "{}",
        down.stderr
    );

    cluster.start_again();
    let mut conn = cluster.connect("facedb");
    assert_eq!(
        (counts_on(&mut conn), admin_row_on(&mut conn)),
        before,
        "every old row, the same admin"
    );
    let out = run(&["init"]).success();
    assert!(out.stdout.contains("up to date"), "{}", out.stdout);
}

/// While another session holds `ACCESS EXCLUSIVE` on `users`, every command that reads or writes
/// it gives up after `--lock-timeout` with exit 6, naming that session's pid, application_name,
/// lock mode and table, whether it only reads (status, check, user list, the dry run) or writes
/// (reset, user create, user reset-password). Nothing changes.
fn every_wait_for_a_locked_table_is_bounded_by_the_lock_timeout() {
    let db = TestDb::postgres();
    db.init().success();
    let admin = admin_row(&db);
    let mut holder = db.connect();
    holder.exec(
        "SET application_name = 'long_report'; BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE;",
    );
    let pid = holder.i64("SELECT pg_backend_pid()::bigint AS v");
    let create = [
        "user",
        "create",
        "--username",
        "ops",
        "--email",
        "ops@example.com",
        "--first-name",
        "O",
        "--last-name",
        "P",
        "--password-stdin",
    ];
    for args in [
        &["status"][..],
        &["check"],
        &["user", "list"],
        &["reset", "--dry-run"],
        &["reset", "--force"],
        &create,
        &["user", "reset-password", "admin", "--password-stdin"],
    ] {
        let started = Instant::now();
        let out = db
            .facedb()
            .args(args)
            .args(["--lock-timeout", "1s"])
            .write_stdin("Some-Pw-123\n")
            .timeout(RUN_LIMIT)
            .output()
            .expect("facedb runs");
        let took = started.elapsed();
        let out = Output::from(out)
            .code(6)
            .stderr_has(&format!("pid {pid} (application_name 'long_report'"))
            .stderr_has("AccessExclusiveLock on table users")
            .stderr_has("--lock-timeout");
        assert!(
            took < Duration::from_secs(10),
            "{args:?} gave up after {took:?}: {}",
            out.stderr
        );
    }
    holder.exec("ROLLBACK");
    assert_eq!(admin_row(&db), admin, "nothing changed");
    assert_eq!(db.count("users"), 1);
}

/// The dry run does not wait for another facedb, even with a long `--lock-timeout`: while one
/// holds facedb's lock and a table it is dropping, the dry run exits 6 at once, naming it. A
/// session that is not facedb's is waited for as usual, up to `--lock-timeout`.
fn the_dry_run_does_not_wait_for_another_facedb() {
    let db = TestDb::postgres();
    db.init().success();
    let mut other = db.connect();
    other.exec(&format!(
        "SET application_name = 'facedb'; BEGIN; SELECT pg_advisory_xact_lock({}); \
         LOCK TABLE visits IN ACCESS EXCLUSIVE MODE;",
        facedb::ADVISORY_LOCK_KEY
    ));
    let pid = other.i64("SELECT pg_backend_pid()::bigint AS v");
    let started = Instant::now();
    db.run(&["reset", "--dry-run", "--lock-timeout", "60s"])
        .code(6)
        .stderr_has(&format!(
            "another facedb is changing the database now: pid {pid}"
        ))
        .stderr_has("does not wait");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "{took:?}");
    other.exec("ROLLBACK");

    // Not facedb: waited for, up to the lock timeout.
    other.exec("BEGIN; LOCK TABLE visits IN ACCESS EXCLUSIVE MODE;");
    let started = Instant::now();
    db.run(&["reset", "--dry-run", "--lock-timeout", "2s"])
        .code(6)
        .stderr_has("gave up waiting for facedb's tables after 2s");
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2), "{took:?}");
    other.exec("ROLLBACK");
    db.run(&["reset", "--dry-run"]).success();
}

tests![
    needs::NOTHING => [
        a_killed_fresh_leaves_the_old_or_the_new_database_sqlite,
    ],
    needs::SERVER => [
        a_killed_fresh_leaves_the_old_or_the_new_database_postgres,
        sixteen_inits_at_once_on_a_new_database,
        eight_freshes_at_once_on_a_populated_database,
        a_short_lock_timeout_fails_only_its_own_process_and_names_the_holder,
        a_reader_holding_the_tables_makes_reset_give_up_with_exit_6,
        a_crowd_with_tiny_lock_timeouts_leaves_a_whole_database,
        every_wait_for_a_locked_table_is_bounded_by_the_lock_timeout,
        the_dry_run_does_not_wait_for_another_facedb,
    ],
    needs::CLUSTER => [
        a_server_stopped_in_the_middle_of_a_reset_keeps_the_old_data,
    ],
];
