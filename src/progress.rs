//! What a command tells the person running it, on stderr: a spinner with finished steps on a
//! terminal, plain lines otherwise (CI logs), nothing but errors with `--quiet`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    mode: Mode,
}

enum Mode {
    Quiet,
    Plain,
    Spinner(ProgressBar),
}

impl Progress {
    pub fn new(quiet: bool) -> Progress {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner:.cyan} {msg}")
                    .expect("constant template is valid")
                    .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
            );
            Mode::Spinner(bar)
        } else {
            Mode::Plain
        };
        Progress { mode }
    }

    /// Nothing shown: for a library caller such as an API running `init` at start-up.
    pub fn quiet() -> Progress {
        Progress { mode: Mode::Quiet }
    }

    /// A step begins (shown by the spinner only: plain output reports finished steps).
    pub fn start(&self, message: impl Into<String>) {
        if let Mode::Spinner(bar) = &self.mode {
            bar.set_message(message.into());
            bar.enable_steady_tick(Duration::from_millis(80));
        }
    }

    /// A step finished.
    pub fn done(&self, message: impl AsRef<str>) {
        self.line(&format!("✓ {}", message.as_ref()));
    }

    /// A line of information.
    pub fn info(&self, message: impl AsRef<str>) {
        self.line(message.as_ref());
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        self.line(&format!("warning: {}", message.as_ref()));
    }

    fn line(&self, text: &str) {
        match &self.mode {
            Mode::Quiet => {}
            Mode::Plain => say(printable_lines(text)),
            Mode::Spinner(bar) => bar.suspend(|| say(printable_lines(text))),
        }
    }

    /// Runs `f` (a prompt) with the spinner hidden.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.mode {
            Mode::Spinner(bar) => bar.suspend(f),
            _ => f(),
        }
    }
}

impl Progress {
    /// Clears the spinner, before the result is printed.
    pub fn finish(&self) {
        if let Mode::Spinner(bar) = &self.mode {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Writes a line to stderr. A stderr that cannot be written (a full disk, a closed pipe) loses
/// the line but never stops facedb: the exit code still tells how the command ended.
pub fn say(text: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `text` as it can be shown on a terminal or in a log: control characters (escape sequences,
/// carriage returns, newlines) from a user or a database are written as escapes, never obeyed.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

/// `text`, line by line, printable: for whole messages and reports, whose line breaks are facedb's.
pub fn printable_lines(text: &str) -> String {
    text.split('\n')
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` in single quotes, printable.
pub fn quoted(text: &str) -> String {
    format!("'{}'", printable(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(printable("Zoë 名前"), "Zoë 名前");
        assert_eq!(printable("a\u{1b}[2Jb\r\n"), "a\\u{1b}[2Jb\\r\\n");
        assert_eq!(quoted("x\ty"), "'x\\ty'");
        assert_eq!(printable_lines("a\tb\nc\r"), "a\\tb\nc\\r");
    }
}
