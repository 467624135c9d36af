//! Data to put in a facedb database before breaking things, and how to read its state back.

use super::{Backend, Conn, TestDb};

/// Fills every table with a little data: a tenant with a site, camera, session, staff member and
/// face image, a customer with a face image, a visit, a worker, an API key and a second user.
pub fn add_data(db: &TestDb) {
    db.exec(ADD_DATA);
}

/// The statements of `add_data`, for a connection of one's own.
pub const ADD_DATA: &str = "INSERT INTO tenants (tenant_id, name) VALUES ('t-1', 'Tenant One');
         INSERT INTO sites (tenant_id, name) VALUES ('t-1', 'Site One');
         INSERT INTO users (user_id, username, email, first_name, last_name, password_hash, role, tenant_id)
             VALUES ('u-2', 'alice', 'alice@example.com', 'Alice', 'A', 'x', 'TENANT_ADMIN', 't-1');
         INSERT INTO cameras (tenant_id, site_id, name, camera_type, device_index)
             VALUES ('t-1', (SELECT site_id FROM sites), 'Cam', 'WEBCAM', 0);
         INSERT INTO camera_sessions (camera_id, tenant_id, site_id)
             VALUES ((SELECT camera_id FROM cameras), 't-1', (SELECT site_id FROM sites));
         INSERT INTO staff (tenant_id, name) VALUES ('t-1', 'Bob');
         INSERT INTO staff_face_images (tenant_id, image_id, staff_id, image_path)
             VALUES ('t-1', 'img-1', (SELECT staff_id FROM staff), '/faces/bob.jpg');
         INSERT INTO customers (tenant_id, name) VALUES ('t-1', 'Carol');
         INSERT INTO customer_face_images (tenant_id, customer_id, image_path, confidence_score)
             VALUES ('t-1', (SELECT customer_id FROM customers), '/faces/carol.jpg', 0.9);
         INSERT INTO visits (tenant_id, visit_id, person_id, person_type, site_id, camera_id, confidence_score)
             VALUES ('t-1', 'v-1', 1, 'customer', 1, 1, 0.8);
         INSERT INTO workers (worker_id, tenant_id, hostname, worker_name) VALUES ('w-1', 't-1', 'host', 'worker');
         INSERT INTO api_keys (key_id, tenant_id, hashed_key, name) VALUES ('k-1', 't-1', 'hash', 'key');";

/// Adds `rows` visits of tenant `t-1` (which `add_data` creates) in one statement.
pub fn add_visits(db: &TestDb, rows: u64) {
    let series = match db.backend {
        Backend::Postgres => format!("SELECT g FROM generate_series(2, {}) AS g", rows + 1),
        Backend::Sqlite => format!(
            "WITH RECURSIVE s(g) AS (SELECT 2 UNION ALL SELECT g + 1 FROM s WHERE g <= {rows}) SELECT g FROM s"
        ),
    };
    db.exec(&format!(
        "INSERT INTO visits (tenant_id, visit_id, person_id, person_type, site_id, camera_id, confidence_score)
         SELECT 't-1', 'v-' || g, g, 'customer', 1, 1, 0.5 FROM ({series}) AS series"
    ));
}

/// Row counts of every facedb table, in a fixed order.
pub fn counts(db: &TestDb) -> Vec<(String, i64)> {
    counts_on(&mut db.connect())
}

/// `counts` on a connection of one's own.
pub fn counts_on(conn: &mut Conn) -> Vec<(String, i64)> {
    facedb::TABLES
        .iter()
        .map(|t| {
            (
                t.to_string(),
                conn.i64(&format!("SELECT count(*) AS v FROM {t}")),
            )
        })
        .collect()
}

/// The system admin's id, password hash and creation time: a new seed changes all three.
pub fn admin_row(db: &TestDb) -> Vec<String> {
    admin_row_on(&mut db.connect())
}

/// `admin_row` on a connection of one's own.
pub fn admin_row_on(conn: &mut Conn) -> Vec<String> {
    conn.strings(
        "SELECT user_id || '|' || password_hash || '|' || CAST(created_at AS TEXT) AS v FROM users WHERE role = 'SYSTEM_ADMIN'",
    )
}

/// Whether `counts` are those of a freshly seeded database: every table empty but `users`,
/// which holds the one admin.
pub fn is_seed_only(counts: &[(String, i64)]) -> bool {
    counts
        .iter()
        .all(|(table, rows)| *rows == if table == "users" { 1 } else { 0 })
}
