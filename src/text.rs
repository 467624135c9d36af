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

/// `5s`, `1500ms`: a duration as the flags take it.
pub(crate) fn humanize(duration: Duration) -> String {
    if duration.as_millis() % 1000 == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
