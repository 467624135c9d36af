// @generated automatically by Diesel CLI.

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    api_keys (key_id) {
        #[max_length = 64]
        key_id -> Varchar,
        #[max_length = 64]
        tenant_id -> Varchar,
        hashed_key -> Text,
        #[max_length = 255]
        name -> Varchar,
        #[max_length = 32]
        role -> Varchar,
        is_active -> Bool,
        last_used -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    camera_sessions (camera_id) {
        camera_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        site_id -> Int8,
        worker_id -> Nullable<Varchar>,
        generation -> Int8,
        #[max_length = 20]
        state -> Varchar,
        lease_expires_at -> Nullable<Timestamptz>,
        reason -> Nullable<Text>,
        updated_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    cameras (camera_id) {
        camera_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        site_id -> Int8,
        #[max_length = 255]
        name -> Varchar,
        camera_type -> Cameratype,
        rtsp_url -> Nullable<Text>,
        device_index -> Nullable<Int4>,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        caps -> Nullable<Json>,
        last_probe_at -> Nullable<Timestamptz>,
        last_state_change_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    customer_face_images (image_id) {
        image_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        customer_id -> Int8,
        #[max_length = 500]
        image_path -> Varchar,
        confidence_score -> Float8,
        quality_score -> Nullable<Float8>,
        face_bbox -> Nullable<Json>,
        embedding -> Nullable<Json>,
        #[max_length = 64]
        image_hash -> Nullable<Varchar>,
        created_at -> Timestamp,
        #[max_length = 64]
        visit_id -> Nullable<Varchar>,
        detection_metadata -> Nullable<Json>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    customers (customer_id) {
        customer_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 255]
        name -> Nullable<Varchar>,
        #[max_length = 16]
        gender -> Nullable<Varchar>,
        #[max_length = 32]
        estimated_age_range -> Nullable<Varchar>,
        #[max_length = 20]
        phone -> Nullable<Varchar>,
        #[max_length = 255]
        email -> Nullable<Varchar>,
        first_seen -> Timestamp,
        last_seen -> Nullable<Timestamp>,
        visit_count -> Int4,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    sites (site_id) {
        site_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 255]
        name -> Varchar,
        location -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    staff (staff_id) {
        staff_id -> Int8,
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 255]
        name -> Varchar,
        site_id -> Nullable<Int8>,
        is_active -> Bool,
        face_embedding -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    staff_face_images (tenant_id, image_id) {
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 64]
        image_id -> Varchar,
        staff_id -> Int8,
        #[max_length = 500]
        image_path -> Varchar,
        face_landmarks -> Nullable<Text>,
        face_embedding -> Nullable<Text>,
        #[max_length = 64]
        image_hash -> Nullable<Varchar>,
        is_primary -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    tenants (tenant_id) {
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 255]
        name -> Varchar,
        description -> Nullable<Text>,
        is_active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    users (user_id) {
        #[max_length = 64]
        user_id -> Varchar,
        #[max_length = 255]
        username -> Varchar,
        #[max_length = 255]
        email -> Varchar,
        #[max_length = 255]
        first_name -> Varchar,
        #[max_length = 255]
        last_name -> Varchar,
        password_hash -> Text,
        role -> Userrole,
        #[max_length = 64]
        tenant_id -> Nullable<Varchar>,
        site_id -> Nullable<Int8>,
        is_active -> Bool,
        is_email_verified -> Bool,
        last_login -> Nullable<Timestamp>,
        password_changed_at -> Timestamp,
        #[max_length = 64]
        created_by -> Nullable<Varchar>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    visits (tenant_id, visit_id) {
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 64]
        visit_id -> Varchar,
        person_id -> Int8,
        #[max_length = 16]
        person_type -> Varchar,
        site_id -> Int8,
        camera_id -> Int8,
        timestamp -> Timestamp,
        confidence_score -> Float8,
        face_embedding -> Nullable<Text>,
        image_path -> Nullable<Text>,
        bbox_x -> Nullable<Float8>,
        bbox_y -> Nullable<Float8>,
        bbox_w -> Nullable<Float8>,
        bbox_h -> Nullable<Float8>,
        #[max_length = 64]
        visit_session_id -> Varchar,
        first_seen -> Timestamp,
        last_seen -> Timestamp,
        visit_duration_seconds -> Nullable<Int4>,
        detection_count -> Int4,
        highest_confidence -> Nullable<Float8>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::*;

    workers (worker_id) {
        #[max_length = 64]
        worker_id -> Varchar,
        #[max_length = 64]
        tenant_id -> Varchar,
        #[max_length = 255]
        hostname -> Varchar,
        #[max_length = 45]
        ip_address -> Nullable<Varchar>,
        #[max_length = 255]
        worker_name -> Varchar,
        #[max_length = 32]
        worker_version -> Nullable<Varchar>,
        capabilities -> Nullable<Text>,
        #[max_length = 32]
        status -> Varchar,
        site_id -> Nullable<Int8>,
        camera_id -> Nullable<Int8>,
        last_heartbeat -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        error_count -> Int4,
        total_faces_processed -> Int8,
        registration_time -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(api_keys -> tenants (tenant_id));
diesel::joinable!(camera_sessions -> cameras (camera_id));
diesel::joinable!(camera_sessions -> sites (site_id));
diesel::joinable!(camera_sessions -> tenants (tenant_id));
diesel::joinable!(cameras -> sites (site_id));
diesel::joinable!(cameras -> tenants (tenant_id));
diesel::joinable!(customer_face_images -> customers (customer_id));
diesel::joinable!(customer_face_images -> tenants (tenant_id));
diesel::joinable!(customers -> tenants (tenant_id));
diesel::joinable!(sites -> tenants (tenant_id));
diesel::joinable!(staff -> sites (site_id));
diesel::joinable!(staff -> tenants (tenant_id));
diesel::joinable!(staff_face_images -> staff (staff_id));
diesel::joinable!(staff_face_images -> tenants (tenant_id));
diesel::joinable!(users -> sites (site_id));
diesel::joinable!(users -> tenants (tenant_id));
diesel::joinable!(workers -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_keys,
    camera_sessions,
    cameras,
    customer_face_images,
    customers,
    sites,
    staff,
    staff_face_images,
    tenants,
    users,
    visits,
    workers,
);
