//! Passwords the tests hand to facedb, and the check that none of them ever comes back out.
//!
//! Every `Output` (every facedb run of every test) is scanned for each secret below and each one a
//! test registered, as written and percent-encoded: a password in any output fails the test that
//! printed it, whatever that test was about.

use std::sync::Mutex;

use super::cluster::encode;

/// The default admin password facedb seeds.
pub const ADMIN_PASSWORD: &str = "admin123";
/// A wrong password with every character a URL treats specially.
pub const WRONG_PASSWORD: &str = "Wr0ng-P@ss:w/rd#x%y?z q";
/// A right password with special characters and quotes.
pub const SPECIAL_PASSWORD: &str = "p@ss:w/o#r%d? x;'\"";
/// The password in URLs of servers that refuse connections.
pub const CLOSED_PORT_PASSWORD: &str = "S3cretPW";
/// The password in URLs of a server that never answers.
pub const SILENT_SERVER_PASSWORD: &str = "S1lentPW";
/// A password given in a `.env` file.
pub const ENV_FILE_PASSWORD: &str = "Env-F1le-Secr3t";

const KNOWN: [&str; 6] = [
    ADMIN_PASSWORD,
    WRONG_PASSWORD,
    SPECIAL_PASSWORD,
    CLOSED_PORT_PASSWORD,
    SILENT_SERVER_PASSWORD,
    ENV_FILE_PASSWORD,
];

/// Secrets known only at run time (a private cluster's superuser password).
static REGISTERED: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Adds `secret` to the ones every later output is checked against. Short secrets are refused:
/// they would match ordinary words.
pub fn register(secret: &str) {
    assert!(
        secret.len() >= 6,
        "a test secret must be at least 6 characters long to be told apart from output: {secret:?}"
    );
    let mut registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if !registered.iter().any(|s| s == secret) {
        registered.push(secret.to_owned());
    }
}

/// Every secret to look for: the known ones and the registered ones, each as written and
/// percent-encoded.
pub fn all() -> Vec<String> {
    let registered = REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).clone();
    KNOWN
        .iter()
        .map(|s| s.to_string())
        .chain(registered)
        .flat_map(|s| {
            let encoded = encode(&s);
            if encoded == s {
                vec![s]
            } else {
                vec![s, encoded]
            }
        })
        .collect()
}

/// Panics when `text`, one of the streams of a facedb run, shows a secret.
pub fn assert_hidden(stream: &str, text: &str) {
    for secret in all() {
        assert!(
            !text.contains(&secret),
            "facedb's {stream} shows the secret {secret:?}:\n{text}"
        );
    }
}
