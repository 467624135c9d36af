//! Password hashing. argon2id (PHC string, at OWASP's minimum cost or above) is the default;
//! bcrypt (`$2b$`, cost 12, the form passlib writes) is for APIs whose verifier only knows bcrypt,
//! and what facedb writes, unless told otherwise, into a database where every hash is bcrypt.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

use diesel::prelude::*;

use crate::config::{PasswordScheme, SchemaName};
use crate::db::Db;
use crate::error::{Error, Result};
use crate::schema::users;

/// The scheme for the passwords a command writes, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Choice {
    pub scheme: PasswordScheme,
    /// bcrypt, because every password already stored is bcrypt and none was asked for.
    pub follows_database: bool,
}

impl Choice {
    /// The line that says why, when the database decided.
    pub fn note(&self) -> Option<&'static str> {
        self.follows_database.then_some(
            "hashing with bcrypt: every password already in the database is bcrypt \
             (pass --password-hash argon2id for argon2id)",
        )
    }
}

/// The scheme asked for (`--password-hash`, `FACEDB_PASSWORD_HASH`), else the database's own:
/// bcrypt when every stored hash is bcrypt, so that an API that verifies with bcrypt only can
/// check what facedb writes; argon2id otherwise, and in a database with no users.
/// Reads `users` through the transaction's pinned search path: call it inside one of facedb's
/// transactions, once the table is known to be facedb's.
pub fn choose(db: &mut Db, schema: &SchemaName, asked: Option<PasswordScheme>) -> Result<Choice> {
    if let Some(scheme) = asked {
        return Ok(Choice {
            scheme,
            follows_database: false,
        });
    }
    let all_bcrypt = db.table_exists(schema, "users")? && {
        let total = users::table.count();
        let bcrypt = users::table
            .filter(users::password_hash.like("$2%"))
            .count();
        let (total, bcrypt): (i64, i64) = (total.get_result(db)?, bcrypt.get_result(db)?);
        total > 0 && bcrypt == total
    };
    Ok(Choice {
        scheme: if all_bcrypt {
            PasswordScheme::Bcrypt
        } else {
            PasswordScheme::default()
        },
        follows_database: all_bcrypt,
    })
}

const BCRYPT_COST: u32 = 12;
const BCRYPT_MAX_BYTES: usize = 72;

/// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The fewest characters a password facedb writes may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// The rules every password facedb writes follows, as the messages state them.
pub const PASSWORD_RULES: &str = "a password needs at least 8 characters and no control characters (NUL, tab, line break, escape)";

/// Whether `password` follows [`PASSWORD_RULES`]; the reason when not. A NUL would be stored and
/// then refused by the API's bcrypt verifier (passlib): that account could never log in.
pub fn check_rules(password: &str) -> std::result::Result<(), String> {
    let chars = password.chars().count();
    if password.chars().any(char::is_control) {
        Err(format!(
            "the password contains a control character: {PASSWORD_RULES}"
        ))
    } else if chars == 0 {
        Err(format!("the password is empty: {PASSWORD_RULES}"))
    } else if chars < MIN_PASSWORD_CHARS {
        Err(format!(
            "the password has {chars} characters: {PASSWORD_RULES}"
        ))
    } else {
        Ok(())
    }
}

/// [`check_rules`] as facedb's usage error (exit 2).
pub fn check(password: &str) -> Result<()> {
    check_rules(password).map_err(Error::Usage)
}

/// Hashes `password`: `$argon2id$v=19$m=19456,t=2,p=1$salt$hash` or `$2b$12$…`. Every password
/// facedb writes comes through here, so here is where the rules hold whatever checked before.
pub fn hash_with(scheme: PasswordScheme, password: &str) -> Result<String> {
    check(password)?;
    match scheme {
        PasswordScheme::Argon2id => {
            let salt = SaltString::generate(&mut OsRng);
            argon2id()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| Error::PasswordHash(e.to_string()))
        }
        // bcrypt reads only the first 72 bytes: a longer password would be cut without a word.
        PasswordScheme::Bcrypt if password.len() > BCRYPT_MAX_BYTES => Err(Error::Usage(format!(
            "the password is {} bytes long and bcrypt uses only the first {BCRYPT_MAX_BYTES}; \
             choose a shorter one, or use --password-hash argon2id",
            password.len()
        ))),
        PasswordScheme::Bcrypt => bcrypt::hash_with_result(password, BCRYPT_COST)
            .map(|parts| parts.format_for_version(bcrypt::Version::TwoB))
            .map_err(|e| Error::PasswordHash(e.to_string())),
    }
}

/// A password being hashed on a thread of its own. A reset knows the admin's scheme before it
/// moves the old tables away and loads the schema: the hash (this machine's CPU) and those
/// statements (the server's) then take their time side by side instead of one after the other.
pub struct Hashing {
    pub choice: Choice,
    hash: std::thread::JoinHandle<Result<String>>,
}

impl Hashing {
    /// Starts hashing `password` with `choice`'s scheme. A hash nobody collects is dropped with
    /// its thread: it was only ever in memory.
    pub fn start(choice: Choice, password: &str) -> Hashing {
        let password = password.to_owned();
        let hash = std::thread::spawn(move || hash_with(choice.scheme, &password));
        Hashing { choice, hash }
    }

    /// The hash, or why `hash_with` refused the password.
    pub fn finish(self) -> Result<String> {
        self.hash
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

/// Whether `password` matches a hash facedb wrote (either scheme).
pub fn verify(password: &str, stored: &str) -> bool {
    if stored.starts_with("$2") {
        return bcrypt::verify(password, stored).unwrap_or(false);
    }
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify() {
        let phc = hash_with(PasswordScheme::Argon2id, "admin123").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("admin123", &phc));
        assert!(!verify("admin124", &phc));
        assert_ne!(
            phc,
            hash_with(PasswordScheme::Argon2id, "admin123").unwrap(),
            "each hash has its own salt"
        );
    }

    #[test]
    fn bcrypt_hashes_are_2b_cost_12_and_verify() {
        let hash = hash_with(PasswordScheme::Bcrypt, "admin123").unwrap();
        assert!(hash.starts_with("$2b$12$") && hash.len() == 60, "{hash}");
        assert!(verify("admin123", &hash));
        assert!(!verify("admin124", &hash));
    }

    #[test]
    fn bcrypt_refuses_what_it_would_cut() {
        assert!(hash_with(PasswordScheme::Bcrypt, &"x".repeat(72)).is_ok());
        let err = hash_with(PasswordScheme::Bcrypt, &"x".repeat(73)).unwrap_err();
        assert!(
            matches!(err, Error::Usage(_)) && err.to_string().contains("72"),
            "{err}"
        );
        assert!(hash_with(PasswordScheme::Argon2id, &"x".repeat(200)).is_ok());
    }

    #[test]
    fn scheme_names() {
        assert_eq!(
            PasswordScheme::parse("BCRYPT", "x").unwrap(),
            PasswordScheme::Bcrypt
        );
        assert_eq!(
            PasswordScheme::parse("argon2id", "x").unwrap(),
            PasswordScheme::Argon2id
        );
        assert!(PasswordScheme::parse("md5", "FACEDB_PASSWORD_HASH").is_err());
    }
}
