//! Rebuild when a migration changes (the SQL is embedded in the binary), and list each backend's
//! `up.sql` and `down.sql` files (for `facedb sql` and `facedb rollback --dry-run`), in the order
//! diesel applies them (by name, which starts with the version), from the same folders
//! `embed_migrations!` reads.

use std::fmt::Write;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    // Read when the script runs, not when it is compiled: cargo reuses a compiled build script
    // for a copy of the package elsewhere (its hash does not depend on the package's path).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let mut code = String::new();
    for (constant, folder, file) in [
        ("POSTGRES_UP_SQL", "migrations/postgres", "up.sql"),
        ("SQLITE_UP_SQL", "migrations/sqlite", "up.sql"),
        ("POSTGRES_DOWN_SQL", "migrations/postgres", "down.sql"),
        ("SQLITE_DOWN_SQL", "migrations/sqlite", "down.sql"),
    ] {
        let root = Path::new(&manifest).join(folder);
        let mut names: Vec<String> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()))
            .map(|entry| entry.expect("a readable migrations folder"))
            .filter(|entry| entry.path().join(file).is_file())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| !name.starts_with('.'))
            .collect();
        names.sort();
        writeln!(code, "pub const {constant}: &[(&str, &str)] = &[").unwrap();
        for name in names {
            let sql = root.join(&name).join(file);
            writeln!(code, "    ({name:?}, include_str!({:?})),", sql.display()).unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    let out =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("migration_sql.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}
