//! The library's models against a database made by `facedb init`: every insert struct inserts,
//! every read struct reads back what was written. This is what an API built on the crate does.

use crate::support;

use diesel::prelude::*;
use diesel::{PgConnection, SqliteConnection};
use facedb::models::*;
use facedb::schema::*;
use serde_json::json;
use support::TestDb;

fn every_model_round_trips_on_postgres() {
    let db = TestDb::postgres();
    db.init();
    let conn = &mut PgConnection::establish(db.url()).unwrap();
    let now = facedb::models::now_utc();
    let now_tz = now.and_utc();

    let tenant = NewTenant {
        tenant_id: "t-1",
        name: "Tenant One",
        description: Some("first"),
        is_active: true,
    };
    let tenant: Tenant = diesel::insert_into(tenants::table)
        .values(&tenant)
        .returning(Tenant::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(
        (tenant.tenant_id.as_str(), tenant.description.as_deref()),
        ("t-1", Some("first"))
    );

    let site: Site = diesel::insert_into(sites::table)
        .values(&NewSite {
            tenant_id: "t-1",
            name: "HQ",
            location: Some("Floor 1"),
        })
        .returning(Site::as_returning())
        .get_result(conn)
        .unwrap();
    assert!(site.site_id > 0, "the serial key is filled in");

    let manager = NewUser {
        user_id: "u-2",
        username: "manager",
        email: "m@example.com",
        first_name: "Site",
        last_name: "Manager",
        password_hash: "x",
        role: UserRole::SiteManager,
        tenant_id: Some("t-1"),
        site_id: Some(site.site_id),
        is_active: true,
        is_email_verified: false,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(users::table)
        .values(&manager)
        .execute(conn)
        .unwrap();
    let read: User = users::table
        .find("u-2")
        .select(User::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(
        (read.role, read.site_id, read.created_at),
        (UserRole::SiteManager, Some(site.site_id), now)
    );
    let admin: User = users::table
        .filter(users::role.eq(UserRole::SystemAdmin))
        .select(User::as_select())
        .first(conn)
        .unwrap();
    assert_eq!(admin.username, "admin");

    let camera: Camera = diesel::insert_into(cameras::table)
        .values(&NewCamera {
            tenant_id: "t-1",
            site_id: site.site_id,
            name: "Door",
            camera_type: CameraType::Webcam,
            rtsp_url: None,
            device_index: Some(0),
            is_active: true,
            caps: Some(json!({"fps": 30})),
        })
        .returning(Camera::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(
        (camera.camera_type, camera.caps.clone()),
        (CameraType::Webcam, Some(json!({"fps": 30})))
    );

    let session: CameraSession = diesel::insert_into(camera_sessions::table)
        .values(&NewCameraSession {
            camera_id: camera.camera_id,
            tenant_id: "t-1",
            site_id: site.site_id,
            worker_id: Some("w-1"),
            generation: 3,
            state: "ACTIVE",
            lease_expires_at: Some(now_tz),
            reason: None,
        })
        .returning(CameraSession::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!((session.generation, session.state.as_str()), (3, "ACTIVE"));

    let staff: StaffMember = diesel::insert_into(staff::table)
        .values(&NewStaffMember {
            tenant_id: "t-1",
            name: "Bob",
            site_id: Some(site.site_id),
            is_active: true,
            face_embedding: None,
        })
        .returning(StaffMember::as_returning())
        .get_result(conn)
        .unwrap();
    let image: StaffFaceImage = diesel::insert_into(staff_face_images::table)
        .values(&NewStaffFaceImage {
            tenant_id: "t-1",
            image_id: "img-1",
            staff_id: staff.staff_id,
            image_path: "/faces/bob.jpg",
            face_landmarks: None,
            face_embedding: Some("[0.1]"),
            image_hash: Some("abc"),
            is_primary: true,
        })
        .returning(StaffFaceImage::as_returning())
        .get_result(conn)
        .unwrap();
    assert!(image.is_primary);

    let customer: Customer = diesel::insert_into(customers::table)
        .values(&NewCustomer {
            tenant_id: "t-1",
            name: Some("Carol"),
            gender: None,
            estimated_age_range: Some("25-34"),
            phone: None,
            email: None,
            last_seen: Some(now),
            visit_count: 2,
        })
        .returning(Customer::as_returning())
        .get_result(conn)
        .unwrap();
    let face: CustomerFaceImage = diesel::insert_into(customer_face_images::table)
        .values(&NewCustomerFaceImage {
            tenant_id: "t-1",
            customer_id: customer.customer_id,
            image_path: "/faces/carol.jpg",
            confidence_score: 0.93,
            quality_score: None,
            face_bbox: Some(json!([1, 2, 3, 4])),
            embedding: None,
            image_hash: None,
            visit_id: Some("v-1"),
            detection_metadata: Some(json!({"model": "x"})),
        })
        .returning(CustomerFaceImage::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(face.face_bbox, Some(json!([1, 2, 3, 4])));

    let visit: Visit = diesel::insert_into(visits::table)
        .values(&NewVisit {
            tenant_id: "t-1",
            visit_id: "v-1",
            person_id: customer.customer_id,
            person_type: "customer",
            site_id: site.site_id,
            camera_id: camera.camera_id,
            timestamp: now,
            confidence_score: 0.9,
            face_embedding: None,
            image_path: None,
            bbox_x: Some(1.5),
            bbox_y: None,
            bbox_w: None,
            bbox_h: None,
            visit_session_id: "s-1",
            visit_duration_seconds: None,
            detection_count: 1,
            highest_confidence: Some(0.9),
        })
        .returning(Visit::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(
        (visit.visit_duration_seconds, visit.bbox_x),
        (Some(0), Some(1.5)),
        "None takes the server default"
    );

    let worker: Worker = diesel::insert_into(workers::table)
        .values(&NewWorker {
            worker_id: "w-1",
            tenant_id: "t-1",
            hostname: "gpu-1",
            ip_address: Some("10.0.0.5"),
            worker_name: "worker 1",
            worker_version: None,
            capabilities: Some("{\"gpu\": true}"),
            status: "online",
            site_id: Some(site.site_id),
            camera_id: None,
            last_heartbeat: Some(now),
            last_error: None,
            error_count: 0,
            total_faces_processed: 10,
        })
        .returning(Worker::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(worker.total_faces_processed, 10);

    let key: ApiKey = diesel::insert_into(api_keys::table)
        .values(&NewApiKey {
            key_id: "k-1",
            tenant_id: "t-1",
            hashed_key: "h",
            name: "ingest",
            role: "worker",
            is_active: true,
            last_used: None,
            expires_at: None,
        })
        .returning(ApiKey::as_returning())
        .get_result(conn)
        .unwrap();
    assert_eq!(key.role, "worker");

    // ON DELETE CASCADE from the tenant reaches every row above but the sessions' parents.
    diesel::delete(camera_sessions::table)
        .execute(conn)
        .unwrap();
    diesel::delete(tenants::table).execute(conn).unwrap();
    assert_eq!(
        users::table.count().get_result::<i64>(conn).unwrap(),
        1,
        "only the system admin is left"
    );
}

fn users_and_enums_round_trip_on_sqlite() {
    let db = TestDb::sqlite();
    db.init();
    let conn = &mut SqliteConnection::establish(db.url()).unwrap();
    let now = facedb::models::now_utc();
    let worker = NewUser {
        user_id: "u-9",
        username: "w",
        email: "w@example.com",
        first_name: "W",
        last_name: "K",
        password_hash: "x",
        role: UserRole::Worker,
        tenant_id: None,
        site_id: None,
        is_active: true,
        is_email_verified: true,
        password_changed_at: now,
        created_at: now,
        updated_at: now,
    };
    diesel::insert_into(users::table)
        .values(&worker)
        .execute(conn)
        .unwrap();
    let roles: Vec<(String, UserRole, chrono::NaiveDateTime)> = users::table
        .select((users::username, users::role, users::created_at))
        .order(users::username)
        .load(conn)
        .unwrap();
    assert_eq!(roles[0].1, UserRole::SystemAdmin);
    assert_eq!((roles[1].1, roles[1].2), (UserRole::Worker, now));
    let stored: Vec<String> = diesel::sql_query("SELECT role AS v FROM users ORDER BY username")
        .load::<support::TextValue>(conn)
        .unwrap()
        .into_iter()
        .map(|r| r.v)
        .collect();
    assert_eq!(
        stored,
        ["SYSTEM_ADMIN", "WORKER"],
        "the upper-case label is stored"
    );
}

tests![
    needs::NOTHING => [
        users_and_enums_round_trip_on_sqlite,
    ],
    needs::SERVER => [
        every_model_round_trips_on_postgres,
    ],
];
