//! The process environment over a `.env` file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

const DEFAULT_ENV_FILE: &str = ".env";

/// The process environment over the variables of a `.env` file.
#[derive(Debug, Default)]
pub struct Environment {
    file: HashMap<String, String>,
    /// The file as given (`--env-file`) or `.env`, for naming where a value came from.
    file_path: PathBuf,
    process: Option<HashMap<String, String>>,
}

/// Where a variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Process,
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Process => write!(f, "the environment"),
            Origin::File(path) if path.is_relative() && path.parent() == Some(Path::new("")) => {
                write!(f, "./{}", path.display())
            }
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Environment {
    /// Reads `path`, or `./.env` when it exists. A missing default file is fine; a missing
    /// file that was asked for is an error.
    pub fn load(path: Option<&Path>) -> Result<Environment> {
        check_process_variables()?;
        let (path, required) = match path {
            Some(path) => (path, true),
            None => (Path::new(DEFAULT_ENV_FILE), false),
        };
        let file = match read_env_file(path) {
            Ok(content) => dotenvy::from_read_iter(&content[..])
                .collect::<std::result::Result<HashMap<_, _>, _>>()
                .map_err(|e| env_file_error(path, e))?,
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(env_file_error(path, dotenvy::Error::Io(e))),
        };
        Ok(Environment {
            file,
            file_path: path.to_owned(),
            process: None,
        })
    }

    /// An environment that ignores the process's variables (for tests).
    pub fn from_maps(
        process: HashMap<String, String>,
        file: HashMap<String, String>,
    ) -> Environment {
        Environment {
            file,
            file_path: PathBuf::from(DEFAULT_ENV_FILE),
            process: Some(process),
        }
    }

    /// A variable's value; an empty value counts as unset.
    pub fn get(&self, key: &str) -> Option<String> {
        self.lookup(key).map(|(value, _)| value)
    }

    /// A variable of the process only (libpq reads no env file), if set and not empty.
    pub(super) fn process_only(&self, key: &str) -> Option<String> {
        match &self.process {
            Some(map) => map.get(key).cloned(),
            None => std::env::var(key).ok(),
        }
        .filter(|v| !v.is_empty())
    }

    /// A variable's value and where it came from. An empty value counts as unset wherever it is:
    /// an empty process variable falls through to the file.
    pub fn lookup(&self, key: &str) -> Option<(String, Origin)> {
        let from_process = match &self.process {
            Some(map) => map.get(key).cloned(),
            None => std::env::var(key).ok(),
        };
        let from_file = || {
            self.file
                .get(key)
                .filter(|v| !v.is_empty())
                .map(|v| (v.clone(), Origin::File(self.file_path.clone())))
        };
        match from_process {
            Some(value) if !value.is_empty() => Some((value, Origin::Process)),
            _ => from_file(),
        }
    }
}

/// The largest env file facedb reads: a settings file is a few hundred bytes, and a larger one is
/// more likely a wrong path than settings.
pub(super) const MAX_ENV_FILE_BYTES: u64 = 1024 * 1024;

/// The env file's bytes. Only a regular file is opened: a FIFO or a device would block or never
/// end. One larger than `MAX_ENV_FILE_BYTES` is refused without being read whole.
fn read_env_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let refuse = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, why);
    let too_large = |bytes: u64| {
        refuse(format!(
            "it is {bytes} bytes, and facedb reads env files of at most {MAX_ENV_FILE_BYTES} bytes (1 MiB); name the settings file"
        ))
    };
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        let kind = if metadata.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(refuse(format!(
            "it is {kind}; name a file of KEY=value lines"
        )));
    }
    if metadata.len() > MAX_ENV_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let mut content = Vec::new();
    // It may have grown since: read one byte past the limit at most.
    std::fs::File::open(path)?
        .take(MAX_ENV_FILE_BYTES + 1)
        .read_to_end(&mut content)?;
    if content.len() as u64 > MAX_ENV_FILE_BYTES {
        return Err(too_large(content.len() as u64));
    }
    Ok(content)
}

/// A variable of facedb's (`DATABASE_*`, `DB_*`, `FACEDB_*`, `ENV`) that is not UTF-8 is an
/// error: read as unset, a garbled DATABASE_URL would send facedb to the default database.
fn check_process_variables() -> Result<()> {
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let ours = key == "ENV"
            || ["DATABASE_", "DB_", "FACEDB_"]
                .iter()
                .any(|prefix| key.starts_with(prefix));
        if ours && value.to_str().is_none() {
            return Err(Error::Usage(format!(
                "{key} is not valid UTF-8; set it to UTF-8 text (percent-encode other bytes in a URL)"
            )));
        }
    }
    Ok(())
}

fn env_file_error(path: &Path, error: dotenvy::Error) -> Error {
    let source = match error {
        dotenvy::Error::Io(e) => e,
        // dotenvy's message quotes the line, which may hold a password: name the line instead.
        dotenvy::Error::LineParse(fragment, _) => std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            malformed_line(path, &fragment),
        ),
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other.to_string()),
    };
    Error::EnvFile {
        path: path.to_owned(),
        source,
    }
}

/// Says which line of an env file is malformed, and its variable, but not what it holds.
/// `fragment` is what dotenvy quoted: the line, its value, or the rest of the file after an
/// unclosed quote.
fn malformed_line(path: &Path, fragment: &str) -> String {
    let how = "write KEY=value, quote a value that has spaces or special characters, and close every quote";
    let first = fragment.lines().next().unwrap_or_default().trim();
    let content = std::fs::read_to_string(path).unwrap_or_default();
    let found = content
        .lines()
        .enumerate()
        .find(|(_, line)| !first.is_empty() && line.contains(first));
    let Some((index, line)) = found else {
        return format!("a line is malformed: {how}");
    };
    let key = line.split_once('=').map(|(key, _)| {
        let key = key.trim();
        key.strip_prefix("export ").unwrap_or(key).trim()
    });
    let is_name = |k: &&str| {
        k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    };
    match key.filter(is_name) {
        Some(key) => format!("line {} ({key}) is malformed: {how}", index + 1),
        None => format!("line {} is malformed: {how}", index + 1),
    }
}
