//! Questions asked on the terminal, and the lines read from stdin instead of them.
//!
//! Every answer is a whole line, sent with Enter: nothing acts on a single keypress, and what is
//! typed never spills into the shell afterwards. The terminal stays in its ordinary line mode
//! (no raw mode, no hidden cursor, no escape sequences); only a hidden answer turns echo off.
//! Ctrl-C at a prompt puts the terminal back as it was, says that nothing was changed and exits 4.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use nix::sys::termios::{self, LocalFlags, SetArg, Termios};

use crate::error::{Error, ExitCode, Result};
use crate::progress::say;

/// The longest line facedb reads from stdin or a prompt; a longer one is refused, not truncated.
pub const MAX_LINE_BYTES: usize = 4096;

const CANCELLED: &str = "cancelled at the prompt; nothing was changed";

/// Whether facedb may ask: the question goes to stderr and the answer comes from stdin, so both
/// must be a terminal (a question written into a log file would wait for nobody).
pub fn can_ask() -> bool {
    not_a_terminal().is_none()
}

/// `stdin` or `stderr`, whichever is not a terminal, when one is not.
pub fn not_a_terminal() -> Option<&'static str> {
    if !std::io::stdin().is_terminal() {
        Some("stdin")
    } else if !std::io::stderr().is_terminal() {
        Some("stderr")
    } else {
        None
    }
}

/// Asks `question` and returns the line typed, without its line ending.
pub fn line(question: &str) -> Result<String> {
    ask(question, false)
}

/// Asks until `check` accepts the trimmed answer, which it returns.
pub fn line_until(
    question: &str,
    mut check: impl FnMut(&str) -> std::result::Result<(), String>,
) -> Result<String> {
    loop {
        let answer = line(question)?;
        let answer = answer.trim();
        match check(answer) {
            Ok(()) => return Ok(answer.to_owned()),
            Err(reason) => say(format_args!("error: {reason}")),
        }
    }
}

/// Asks for a new password twice, with echo off. An empty answer or two that differ ask again.
pub fn new_password(question: &str) -> Result<String> {
    loop {
        let password = ask(question, true)?;
        if password.is_empty() {
            say("error: the password must not be empty");
            continue;
        }
        if ask("Repeat the password", true)? == password {
            return Ok(password);
        }
        say("error: the passwords differ; type them again");
    }
}

/// Reads the first line of stdin, without its line ending (`--password-stdin` and the like);
/// empty stdin gives an empty line. `what` names the value in errors, e.g. "the password".
pub fn stdin_line(what: &str) -> Result<String> {
    read_line(&mut std::io::stdin().lock())
        .map(Option::unwrap_or_default)
        .map_err(|reason| Error::Usage(format!("cannot read {what} from stdin: {reason}")))
}

/// One line of at most `MAX_LINE_BYTES`, without its line ending; `None` at end of input.
fn read_line(input: &mut impl BufRead) -> std::result::Result<Option<String>, String> {
    let mut bytes = Vec::new();
    input
        .take(MAX_LINE_BYTES as u64 + 1)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.is_empty() {
        return Ok(None);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if bytes.len() > MAX_LINE_BYTES {
        return Err(format!("the line is longer than {MAX_LINE_BYTES} bytes"));
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "the line is not valid UTF-8".to_owned())
}

/// The terminal's settings while a prompt is open: what Ctrl-C restores.
static AT_PROMPT: Mutex<Option<Termios>> = Mutex::new(None);
/// Whether a prompt is open: Ctrl-C then cancels it (and restores `AT_PROMPT`, when the
/// terminal's settings could be read).
static ASKING: AtomicBool = AtomicBool::new(false);

fn ask(question: &str, hidden: bool) -> Result<String> {
    install_interrupt_handler();
    let stdin = std::io::stdin();
    let saved = termios::tcgetattr(&stdin).ok();
    *AT_PROMPT.lock().unwrap_or_else(|e| e.into_inner()) = saved.clone();
    ASKING.store(true, Ordering::SeqCst);
    let answer = (|| {
        if hidden {
            if let Some(saved) = &saved {
                let mut quiet = saved.clone();
                quiet.local_flags.remove(LocalFlags::ECHO);
                termios::tcsetattr(&stdin, SetArg::TCSAFLUSH, &quiet).map_err(|e| Error::Io {
                    context: "cannot turn off echo for the password".to_owned(),
                    source: e.into(),
                })?;
            }
        }
        // Not held while reading: Ctrl-C's handler writes to stderr too.
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{question}: ").and_then(|()| stderr.flush());
        drop(stderr);
        let answer = read_line(&mut stdin.lock());
        if hidden {
            // Enter was not echoed either.
            say("");
        }
        answer
            .map_err(|reason| Error::Usage(format!("cannot read the answer: {reason}")))?
            // End of input (Ctrl-D): no answer.
            .ok_or_else(|| Error::Refused(CANCELLED.to_owned()))
    })();
    ASKING.store(false, Ordering::SeqCst);
    if let Some(saved) = &saved {
        let _ = termios::tcsetattr(&stdin, SetArg::TCSANOW, saved);
    }
    answer
}

/// What Ctrl-C outside a prompt does before facedb exits (cancels the server's work and says
/// what became of it): set by the layer that holds the session.
static BEFORE_EXIT: OnceLock<fn() -> Option<String>> = OnceLock::new();
/// Held by Ctrl-C's handler until the process exits, so that the error the cancel causes in the
/// main thread is not printed beside the handler's own.
static EXITING: Mutex<()> = Mutex::new(());

/// Ctrl-C outside a prompt runs `before_exit`, prints the state it returns, and exits 130.
pub fn on_interrupt_also(before_exit: fn() -> Option<String>) {
    let _ = BEFORE_EXIT.set(before_exit);
    install_interrupt_handler();
}

/// Waits while Ctrl-C's handler is stopping facedb (it then never returns).
pub fn unless_interrupted() {
    drop(EXITING.lock().unwrap_or_else(|e| e.into_inner()));
}

fn install_interrupt_handler() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        // Without the handler Ctrl-C still stops facedb, only without the restored terminal.
        let _ = ctrlc::set_handler(on_interrupt);
    });
}

/// Ctrl-C: at a prompt nothing has been changed yet, so facedb puts the terminal back and says
/// so. Elsewhere it stops as an interrupted process does (128 + SIGINT); the database rolls back
/// whatever transaction was open when the connection goes.
fn on_interrupt() {
    if !ASKING.load(Ordering::SeqCst) {
        let _exiting = EXITING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = BEFORE_EXIT.get().and_then(|before_exit| before_exit()) {
            say(format_args!("\nerror: interrupted: {state}"));
        }
        std::process::exit(ExitCode::Interrupted.into());
    }
    if let Some(saved) = AT_PROMPT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
    }
    say(format_args!("\nerror: {CANCELLED}"));
    std::process::exit(ExitCode::Refused.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_line(input: &[u8]) -> std::result::Result<Option<String>, String> {
        read_line(&mut &input[..])
    }

    #[test]
    fn a_line_loses_its_ending_only() {
        assert_eq!(first_line(b"a b \r\nrest"), Ok(Some("a b ".to_owned())));
        assert_eq!(first_line(b"last"), Ok(Some("last".to_owned())));
        assert_eq!(first_line(b"\n"), Ok(Some(String::new())));
        assert_eq!(first_line(b""), Ok(None));
    }

    #[test]
    fn a_line_too_long_or_not_utf8_is_refused() {
        let longest = vec![b'x'; MAX_LINE_BYTES];
        assert_eq!(first_line(&longest).unwrap().unwrap().len(), MAX_LINE_BYTES);
        let too_long = vec![b'x'; MAX_LINE_BYTES + 1];
        assert!(first_line(&too_long).unwrap_err().contains("longer"));
        assert!(first_line(b"\xff\xfe\n").unwrap_err().contains("UTF-8"));
    }
}
