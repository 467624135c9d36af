//! Small pieces of the wording every layer's messages share.

use std::time::Duration;

/// `1 migration`, `2 migrations`.
pub(crate) fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `5s`, `1500ms`: a duration as the flags take it. Not humantime's `format_duration`: it writes
/// 60s as `1m` and 90s as `1m 30s`, so a message would name a `--lock-timeout 60s` otherwise than
/// it was given, and its spaced form needs quoting to be passed back to a flag.
pub(crate) fn humanize(duration: Duration) -> String {
    if duration.as_millis().is_multiple_of(1000) {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// A word as a POSIX shell reads it back unchanged: as it is when it holds only characters no
/// shell treats specially, else in single quotes.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_a_shell() {
        assert_eq!(shell_word("facedb.db"), "facedb.db");
        assert_eq!(shell_word("my db.db"), "'my db.db'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }
}
