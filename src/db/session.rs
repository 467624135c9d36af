//! The PostgreSQL session facedb is working in, as far as an interruption needs to know it: the
//! server to send a cancel to, the backend to cancel, and where its transaction stands. Ctrl-C
//! (`prompt::on_interrupt`) asks [`interrupt`]: a backend waiting for a lock or for a synchronous
//! standby does not notice that its client went, so facedb cancels it before it exits and says
//! what became of the transaction.
//!
//! The same record carries how long a commit may wait for a synchronous standby (`--wait`,
//! default the lock timeout), which `lock` reads when it commits.

use std::sync::Mutex;
use std::time::Duration;

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

/// Where facedb's transaction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// No transaction open: nothing is at stake.
    Idle,
    /// A transaction is open: a cancel and the exit roll it back.
    Open,
    /// Its `COMMIT` is under way; `synchronous` when the server waits for a synchronous standby
    /// before it answers.
    Committing { synchronous: bool },
}

struct Session {
    /// A URL reaching the same server on its own (never a list that could reach another one).
    cancel_url: String,
    backend_pid: i32,
    stage: Stage,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);
static COMMIT_WAIT: Mutex<Option<Duration>> = Mutex::new(None);

fn session() -> std::sync::MutexGuard<'static, Option<Session>> {
    SESSION.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records the session just opened: its backend's pid, as the server check read it. Ctrl-C's
/// handler starts with its first transaction ([`set_stage`]).
pub fn register(backend_pid: i32, cancel_url: String) {
    *session() = Some(Session {
        cancel_url,
        backend_pid,
        stage: Stage::Idle,
    });
    crate::prompt::on_interrupt_also(interrupt);
}

/// Says where the transaction now stands. Once a transaction opens, Ctrl-C is watched for: a
/// cancel is then worth sending, and the state worth saying.
pub fn set_stage(stage: Stage) {
    if let Some(session) = session().as_mut() {
        session.stage = stage;
        if stage != Stage::Idle {
            crate::prompt::watch_for_interrupts();
        }
    }
}

/// How long a commit may wait for a synchronous standby before facedb cancels the wait.
pub fn set_commit_wait(wait: Duration) {
    *COMMIT_WAIT.lock().unwrap_or_else(|e| e.into_inner()) = Some(wait);
}

pub fn commit_wait() -> Option<Duration> {
    *COMMIT_WAIT.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends the session's backend a cancel (`pg_cancel_backend`, through a connection of its own to
/// the same server). Whether it was sent.
fn cancel() -> bool {
    let Some((cancel_url, pid)) = session()
        .as_ref()
        .map(|s| (s.cancel_url.clone(), s.backend_pid))
    else {
        return false;
    };
    PgConnection::establish(&cancel_url)
        .ok()
        .and_then(|mut conn| {
            diesel::sql_query(format!("SELECT pg_cancel_backend({pid})"))
                .execute(&mut conn)
                .ok()
        })
        .is_some()
}

/// Cancels the backend's work once `bound` has passed, unless [`Watchdog::stop`] came first: a
/// commit waiting for a synchronous standby is not bounded by `statement_timeout` (the server
/// stops that timer before it commits), only by a cancel.
pub struct Watchdog {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    pub fn start(bound: Duration) -> Watchdog {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || match stopped.recv_timeout(bound) {
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => cancel(),
            _ => false,
        });
        Watchdog { stop, thread }
    }

    /// Stops it; whether it had sent the cancel.
    pub fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or(false)
    }
}

/// Ctrl-C: cancels what the backend is doing (through a connection of its own, as
/// `pg_cancel_backend`) and says what state the transaction is left in. `None` when facedb has
/// no PostgreSQL session.
pub fn interrupt() -> Option<String> {
    let stage = session().as_ref()?.stage;
    let cancelled = stage != Stage::Idle && cancel();
    Some(match stage {
        Stage::Idle => "no transaction was open; nothing was changed".to_owned(),
        Stage::Open if cancelled => {
            "facedb cancelled its transaction on the server, which rolls it back: nothing was committed".to_owned()
        }
        Stage::Open => {
            "the server rolls back facedb's open transaction when it notices the connection closed: nothing was committed".to_owned()
        }
        Stage::Committing { synchronous: true } => {
            "the commit was waiting for the synchronous standby: the change is committed on the primary, not yet confirmed by the standby; do not run the command again".to_owned()
        }
        Stage::Committing { synchronous: false } => {
            "the commit was under way: the server may or may not have applied the change; check before running the command again".to_owned()
        }
    })
}
