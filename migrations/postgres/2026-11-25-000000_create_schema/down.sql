DROP TABLE api_keys, workers, visits, customer_face_images, customers, staff_face_images, staff,
    camera_sessions, cameras, users, sites, tenants, __facedb_metadata;
DROP TYPE cameratype, userrole;
