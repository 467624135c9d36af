//! SQLite targets: database file paths and `sqlite://` URLs.

use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

/// A SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteTarget {
    pub path: PathBuf,
}

impl SqliteTarget {
    /// SQLAlchemy's rule, so that the API and facedb read one URL as one file:
    /// `sqlite:///x.db` is relative, `sqlite:////abs/x.db` absolute; `sqlite://x.db` is relative too.
    /// A URL without a file name is an error: SQLite would open a temporary database for an
    /// empty path, and a folder is no database.
    pub(super) fn from_url(url: &str, source: &str) -> Result<SqliteTarget> {
        let rest = url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let rest = rest.split('?').next().unwrap_or_default();
        let path = rest.strip_prefix('/').unwrap_or(rest);
        let path = percent_decode_str(path).decode_utf8_lossy().into_owned();
        if path.is_empty() || path.ends_with('/') {
            return Err(Error::Usage(format!(
                "{source} names no SQLite file{}; use sqlite:///relative/file.db or sqlite:////absolute/file.db",
                if path.is_empty() { String::new() } else { format!(" (folder {path})") }
            )));
        }
        SqliteTarget::new(&path, source)
    }

    /// A plain file path. SQLite reads a name starting with `file:` as a URI (diesel opens with
    /// SQLITE_OPEN_URI), which may open another file than the one named (`file:victim.db?x=.db`)
    /// or none at all (`mode=memory`); `:memory:` keeps nothing. Both are refused.
    pub(super) fn new(path: &str, source: &str) -> Result<SqliteTarget> {
        if path
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("file:"))
        {
            return Err(Error::Usage(format!(
                "{source} names a SQLite URI filename (file:...), which SQLite may resolve to another file than the one facedb checks; name the file as a plain path (./{path} if the name really starts with file:)"
            )));
        }
        if path == ":memory:" {
            return Err(Error::Usage(format!(
                "{source} names SQLite's in-memory database, which keeps nothing once facedb exits; name a file such as facedb.db"
            )));
        }
        Ok(SqliteTarget {
            path: PathBuf::from(path),
        })
    }
}
