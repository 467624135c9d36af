//! init, reset and fresh through the real binary, on every available backend.

mod support;

use support::{Backend, TestDb};

#[test]
fn init_creates_the_database_applies_the_schema_and_seeds_the_admin() {
    for db in TestDb::each() {
        let out = db.init();
        assert!(out.stdout.contains("created the database"), "{:?}: {}", db.backend, out.stdout);
        assert!(out.stdout.contains("applied 1 migration"), "{}", out.stdout);
        assert!(out.stderr.contains("default password"), "warns about the default password: {}", out.stderr);
        let mut conn = db.connect();
        let admin = conn.strings(
            "SELECT username || '|' || email || '|' || first_name || '|' || last_name || '|' || role || '|' || \
             coalesce(tenant_id, 'NULL') || '|' || coalesce(CAST(site_id AS TEXT), 'NULL') || '|' || \
             CAST(is_active AS INTEGER) || CAST(is_email_verified AS INTEGER) || '|' || length(user_id) AS v FROM users",
        );
        assert_eq!(admin, ["admin|admin@system.local|System|Administrator|SYSTEM_ADMIN|NULL|NULL|11|36"], "{:?}", db.backend);
        let hash = conn.strings("SELECT password_hash AS v FROM users").remove(0);
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(facedb::password::verify("admin123", &hash));
    }
}
