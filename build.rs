// Rebuild when a migration changes: the SQL is embedded in the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
