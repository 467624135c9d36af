-- SQLite version of ../../postgres/2026-11-25-000000_create_schema/up.sql (the generated reference: docs/schema.md).
-- Same tables, columns, keys, foreign keys (ON DELETE included), unique constraints and indexes.
-- Type mapping: BIGSERIAL -> INTEGER PRIMARY KEY AUTOINCREMENT; enums -> VARCHAR with a CHECK on the
-- upper-case labels; JSON is stored as text; TIMESTAMP/TIMESTAMPTZ -> DATETIME (UTC 'YYYY-MM-DD HH:MM:SS');
-- BOOLEAN holds 0/1. gen_random_uuid()::text becomes a random UUID v4 text expression.
-- No transaction or connection settings in this file: diesel runs the migration inside a transaction,
-- and facedb enables foreign key enforcement on every connection it opens.

CREATE TABLE tenants (
    tenant_id   VARCHAR(64)  NOT NULL,
    name        VARCHAR(255) NOT NULL,
    description TEXT,
    is_active   BOOLEAN      NOT NULL DEFAULT 1,
    created_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at  DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (tenant_id)
);

CREATE TABLE sites (
    site_id    INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id  VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    name       VARCHAR(255) NOT NULL,
    location   TEXT,
    created_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
    user_id             VARCHAR(64)  NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    username            VARCHAR(255) NOT NULL UNIQUE,
    email               VARCHAR(255) NOT NULL UNIQUE,
    first_name          VARCHAR(255) NOT NULL,
    last_name           VARCHAR(255) NOT NULL,
    password_hash       TEXT         NOT NULL,
    role                VARCHAR(12)  NOT NULL CHECK (role IN ('SYSTEM_ADMIN', 'TENANT_ADMIN', 'SITE_MANAGER', 'WORKER')),
    tenant_id           VARCHAR(64)  REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    site_id             BIGINT       REFERENCES sites (site_id) ON DELETE CASCADE,
    is_active           BOOLEAN      NOT NULL DEFAULT 1,
    is_email_verified   BOOLEAN      NOT NULL DEFAULT 0,
    last_login          DATETIME,
    password_changed_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    created_by          VARCHAR(64)  REFERENCES users (user_id),
    created_at          DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at          DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id)
);
CREATE INDEX idx_users_username ON users (username);
CREATE INDEX idx_users_email ON users (email);
CREATE INDEX idx_users_role ON users (role);
CREATE INDEX idx_users_tenant_id ON users (tenant_id);
CREATE INDEX idx_users_site_id ON users (site_id);

CREATE TABLE cameras (
    camera_id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id            VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    site_id              BIGINT       NOT NULL REFERENCES sites (site_id) ON DELETE CASCADE,
    name                 VARCHAR(255) NOT NULL,
    camera_type          VARCHAR(6)   NOT NULL DEFAULT 'RTSP' CHECK (camera_type IN ('RTSP', 'WEBCAM')),
    rtsp_url             TEXT,
    device_index         INTEGER,
    is_active            BOOLEAN      NOT NULL DEFAULT 1,
    created_at           DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at           DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    caps                 JSON,
    last_probe_at        DATETIME,
    last_state_change_at DATETIME
);

CREATE TABLE camera_sessions (
    camera_id        BIGINT      NOT NULL REFERENCES cameras (camera_id),
    tenant_id        VARCHAR(64) NOT NULL REFERENCES tenants (tenant_id),
    site_id          BIGINT      NOT NULL REFERENCES sites (site_id),
    worker_id        VARCHAR,
    generation       BIGINT      NOT NULL DEFAULT 0,
    state            VARCHAR(20) NOT NULL DEFAULT 'PENDING',
    lease_expires_at DATETIME,
    reason           TEXT,
    updated_at       DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    created_at       DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (camera_id)
);

CREATE TABLE staff (
    staff_id       INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id      VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    name           VARCHAR(255) NOT NULL,
    site_id        BIGINT       REFERENCES sites (site_id),
    is_active      BOOLEAN      NOT NULL DEFAULT 1,
    face_embedding TEXT,
    created_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE staff_face_images (
    tenant_id      VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    image_id       VARCHAR(64)  NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    staff_id       BIGINT       NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
    image_path     VARCHAR(500) NOT NULL,
    face_landmarks TEXT,
    face_embedding TEXT,
    image_hash     VARCHAR(64),
    is_primary     BOOLEAN      NOT NULL DEFAULT 0,
    created_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (tenant_id, image_id)
);
CREATE INDEX idx_staff_face_images_staff_id ON staff_face_images (tenant_id, staff_id);
CREATE INDEX idx_staff_face_images_primary ON staff_face_images (tenant_id, is_primary);
CREATE UNIQUE INDEX idx_staff_face_images_hash ON staff_face_images (tenant_id, staff_id, image_hash);

CREATE TABLE customers (
    customer_id         INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id           VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    name                VARCHAR(255),
    gender              VARCHAR(16),
    estimated_age_range VARCHAR(32),
    phone               VARCHAR(20),
    email               VARCHAR(255),
    first_seen          DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_seen           DATETIME,
    visit_count         INTEGER      NOT NULL DEFAULT 0
);
CREATE INDEX idx_customers_last_seen ON customers (tenant_id, last_seen);

CREATE TABLE customer_face_images (
    image_id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    tenant_id          VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    customer_id        BIGINT       NOT NULL REFERENCES customers (customer_id) ON DELETE CASCADE,
    image_path         VARCHAR(500) NOT NULL,
    confidence_score   FLOAT        NOT NULL,
    quality_score      FLOAT,
    face_bbox          JSON,
    embedding          JSON,
    image_hash         VARCHAR(64),
    created_at         DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    visit_id           VARCHAR(64),
    detection_metadata JSON
);
CREATE INDEX idx_customer_face_images_tenant_customer ON customer_face_images (tenant_id, customer_id);
CREATE INDEX idx_customer_face_images_confidence ON customer_face_images (tenant_id, customer_id, confidence_score);
CREATE INDEX idx_customer_face_images_hash ON customer_face_images (tenant_id, image_hash);
CREATE INDEX idx_customer_face_images_created ON customer_face_images (tenant_id, customer_id, created_at);

CREATE TABLE visits (
    tenant_id              VARCHAR(64) NOT NULL,
    visit_id               VARCHAR(64) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    person_id              BIGINT      NOT NULL,
    person_type            VARCHAR(16) NOT NULL,
    site_id                BIGINT      NOT NULL,
    camera_id              BIGINT      NOT NULL,
    "timestamp"            DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    confidence_score       FLOAT       NOT NULL,
    face_embedding         TEXT,
    image_path             TEXT,
    bbox_x                 FLOAT,
    bbox_y                 FLOAT,
    bbox_w                 FLOAT,
    bbox_h                 FLOAT,
    visit_session_id       VARCHAR(64) NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    first_seen             DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    last_seen              DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    visit_duration_seconds INTEGER     DEFAULT 0,
    detection_count        INTEGER     NOT NULL DEFAULT 1,
    highest_confidence     FLOAT,
    PRIMARY KEY (tenant_id, visit_id)
);
CREATE INDEX idx_visits_timestamp ON visits (tenant_id, "timestamp");
CREATE INDEX idx_visits_person ON visits (tenant_id, person_id, "timestamp");
CREATE INDEX idx_visits_site ON visits (tenant_id, site_id, "timestamp");
CREATE INDEX idx_visits_session ON visits (tenant_id, visit_session_id);
CREATE INDEX idx_visits_person_time ON visits (tenant_id, person_id, last_seen);

CREATE TABLE workers (
    worker_id             VARCHAR(64)  NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    tenant_id             VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    hostname              VARCHAR(255) NOT NULL,
    ip_address            VARCHAR(45),
    worker_name           VARCHAR(255) NOT NULL,
    worker_version        VARCHAR(32),
    capabilities          TEXT,
    status                VARCHAR(32)  NOT NULL DEFAULT 'offline',
    site_id               BIGINT,
    camera_id             BIGINT,
    last_heartbeat        DATETIME,
    last_error            TEXT,
    error_count           INTEGER      NOT NULL DEFAULT 0,
    total_faces_processed BIGINT       NOT NULL DEFAULT 0,
    registration_time     DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    created_at            DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at            DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (worker_id)
);
CREATE INDEX idx_workers_tenant_status ON workers (tenant_id, status);
CREATE INDEX idx_workers_heartbeat ON workers (tenant_id, last_heartbeat);
CREATE INDEX idx_workers_hostname ON workers (tenant_id, hostname);

CREATE TABLE api_keys (
    key_id     VARCHAR(64)  NOT NULL DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
    tenant_id  VARCHAR(64)  NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    hashed_key TEXT         NOT NULL,
    name       VARCHAR(255) NOT NULL,
    role       VARCHAR(32)  NOT NULL DEFAULT 'worker',
    is_active  BOOLEAN      NOT NULL DEFAULT 1,
    last_used  DATETIME,
    expires_at DATETIME,
    created_at DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (key_id)
);

-- facedb's own bookkeeping: only in tables whose names start with "__".
CREATE TABLE __facedb_metadata (
    key        VARCHAR(64) NOT NULL,
    value      TEXT        NOT NULL,
    updated_at DATETIME    NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (key)
);
