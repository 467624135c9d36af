//! Hashes one password exactly as facedb seeds the admin: `scripts/bench` times it to know the
//! part of `fresh` that is password hashing rather than database work.

fn main() {
    let hash =
        facedb::hash_password(facedb::config::PasswordScheme::Argon2id, "admin123").expect("hash");
    assert!(hash.starts_with("$argon2id$"));
}
