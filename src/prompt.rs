//! Questions asked on the terminal (dialoguer), and the lines read from stdin instead of them.
//!
//! Every answer is a whole line, sent with Enter: dialoguer's `Input` reads key by key, echoes
//! what is typed and acts on Enter only, so nothing acts on a single keypress and nothing typed
//! spills into the shell afterwards. Hidden answers are dialoguer's `Password`, typed twice;
//! choices among listed values its `Select`. Ctrl-C at a prompt puts the terminal back as it was
//! (its settings and the cursor), says that nothing was changed and exits 4.

use std::io::{BufRead, IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use dialoguer::console::Term;
use dialoguer::{Input, Password, Select};
use nix::sys::termios::{self, SetArg, Termios};

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

/// What a command refused for want of a terminal tells to run instead of answering: `Pass
/// --force to {what} anyway`; under make, which cannot pass a flag to its recipe, the make target
/// the Makefile names in `FACEDB_MAKE_INSTEAD` (`make db-reset` names `db-fresh`).
pub fn instead_of_asking(what: &str) -> String {
    let under_make = std::env::var_os("MAKELEVEL").is_some();
    match std::env::var("FACEDB_MAKE_INSTEAD") {
        Ok(target) if under_make && !target.is_empty() => {
            format!("Run `make {target}` to {what} without a question")
        }
        _ => format!("Pass --force to {what} anyway"),
    }
}

/// Asks `question` and returns the line typed (empty when only Enter was pressed).
pub fn line(question: &str) -> Result<String> {
    interact(|| {
        Input::<String>::new()
            .with_prompt(question)
            .allow_empty(true)
            .validate_with(|answer: &String| check_length(answer))
            .interact_text()
    })
}

/// Asks until `check` accepts the trimmed answer, which it returns.
pub fn line_until(
    question: &str,
    mut check: impl FnMut(&str) -> std::result::Result<(), String>,
) -> Result<String> {
    let answer = interact(|| {
        Input::<String>::new()
            .with_prompt(question)
            .allow_empty(true)
            .validate_with(|answer: &String| {
                check_length(answer).and_then(|()| check(answer.trim()))
            })
            .interact_text()
    })?;
    Ok(answer.trim().to_owned())
}

/// Asks for a new password twice, hidden. One that `rules` refuses (with the reason it gives), or
/// two that differ, ask again.
pub fn new_password(
    question: &str,
    rules: fn(&str) -> std::result::Result<(), String>,
) -> Result<String> {
    interact(|| {
        Password::new()
            .with_prompt(question)
            .with_confirmation(
                "Repeat the password",
                "the passwords differ; type them again",
            )
            // Empty is refused by the rules, with a message, rather than silently asked again.
            .allow_empty_password(true)
            .validate_with(|password: &String| rules(password))
            .interact()
    })
}

/// Offers `items` to choose from with the arrow keys and Enter, the first one selected; returns
/// the index of the one chosen.
pub fn choose(question: &str, items: &[String]) -> Result<usize> {
    interact(|| {
        Select::new()
            .with_prompt(question)
            .items(items)
            .default(0)
            .interact()
    })
}

fn check_length(answer: &str) -> std::result::Result<(), String> {
    if answer.len() > MAX_LINE_BYTES {
        return Err(format!("the answer is longer than {MAX_LINE_BYTES} bytes"));
    }
    Ok(())
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

/// The terminal's settings before a prompt: what Ctrl-C restores. A hidden entry turns echo
/// off and console, under dialoguer, puts it back only when the line is read, not on Ctrl-C.
static AT_PROMPT: Mutex<Option<Termios>> = Mutex::new(None);
/// Whether a prompt is open: Ctrl-C then cancels it.
static ASKING: AtomicBool = AtomicBool::new(false);

/// Runs one dialoguer prompt with Ctrl-C cancelling it.
fn interact<T>(prompt: impl FnOnce() -> dialoguer::Result<T>) -> Result<T> {
    install_interrupt_handler();
    *AT_PROMPT.lock().unwrap_or_else(|e| e.into_inner()) =
        termios::tcgetattr(std::io::stdin()).ok();
    ASKING.store(true, Ordering::SeqCst);
    let answer = prompt();
    // Ctrl-C read as a key (Input, Select): console restored the terminal and raised SIGINT,
    // whose handler may not have run yet: the prompt is still open for it.
    if matches!(&answer, Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::Interrupted)
    {
        cancel();
    }
    ASKING.store(false, Ordering::SeqCst);
    match answer {
        Ok(answer) => Ok(answer),
        Err(dialoguer::Error::IO(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            // End of input (the terminal went away): no answer.
            Err(Error::Refused(CANCELLED.to_owned()))
        }
        Err(dialoguer::Error::IO(e)) => Err(Error::Io {
            context: "cannot read the answer".to_owned(),
            source: e,
        }),
    }
}

/// What Ctrl-C outside a prompt does before facedb exits (cancels the server's work and says
/// what became of it): set by the layer that holds the session.
static BEFORE_EXIT: OnceLock<fn() -> Option<String>> = OnceLock::new();
/// Held by Ctrl-C's handler until the process exits, so that the error the cancel causes in the
/// main thread is not printed beside the handler's own.
static EXITING: Mutex<()> = Mutex::new(());

/// Ctrl-C outside a prompt runs `before_exit`, prints the state it returns, and exits 130, once
/// [`watch_for_interrupts`] has started the handler.
pub fn on_interrupt_also(before_exit: fn() -> Option<String>) {
    let _ = BEFORE_EXIT.set(before_exit);
}

/// Starts Ctrl-C's handler (a thread), once: when there is something to cancel or to say about
/// an interruption. A command that opens no transaction (an `init` that finds nothing to do)
/// starts none, and a Ctrl-C then stops it as it stops any process.
pub fn watch_for_interrupts() {
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

/// Ctrl-C: at a prompt nothing has been changed yet, so facedb cancels. Elsewhere it stops as an
/// interrupted process does (128 + SIGINT); the database rolls back whatever transaction was open
/// when the connection goes.
fn on_interrupt() {
    if !ASKING.load(Ordering::SeqCst) {
        let _exiting = EXITING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = BEFORE_EXIT.get().and_then(|before_exit| before_exit()) {
            say(format_args!("\nerror: interrupted: {state}"));
        }
        std::process::exit(ExitCode::Interrupted.into());
    }
    cancel()
}

/// Puts the terminal back as it was before the prompt, says that nothing was changed and exits
/// 4. Both the handler and the prompt's thread may get here for one Ctrl-C: the first one does it.
fn cancel() -> ! {
    static CANCELLING: AtomicBool = AtomicBool::new(false);
    if CANCELLING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    if let Some(saved) = AT_PROMPT.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        let _ = termios::tcsetattr(std::io::stdin(), SetArg::TCSANOW, saved);
    }
    // Select hides the cursor while it shows its items.
    let _ = Term::stderr().show_cursor();
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
