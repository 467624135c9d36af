-- Children before parents, so foreign keys never block a drop.
DROP TABLE IF EXISTS api_keys;
DROP TABLE IF EXISTS workers;
DROP TABLE IF EXISTS visits;
DROP TABLE IF EXISTS customer_face_images;
DROP TABLE IF EXISTS customers;
DROP TABLE IF EXISTS staff_face_images;
DROP TABLE IF EXISTS staff;
DROP TABLE IF EXISTS camera_sessions;
DROP TABLE IF EXISTS cameras;
DROP TABLE IF EXISTS users;
DROP TABLE IF EXISTS sites;
DROP TABLE IF EXISTS tenants;
DROP TABLE IF EXISTS __facedb_metadata;
