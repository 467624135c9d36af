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
    if duration.as_millis() % 1000 == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
