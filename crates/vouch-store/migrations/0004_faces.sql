-- DIS faces: an uploaded image, the face found in it and its template. Image and template are encrypted blobs
-- (named by the sha256 of their plaintext); the detection is plain JSON (a box, five points, a confidence).
CREATE TABLE dis_faces (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients(id),
    image_sha256    TEXT NOT NULL,
    template_sha256 TEXT NOT NULL,
    detection       TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX dis_faces_by_client ON dis_faces(client_id);

-- DIS customers (onboarding): owned by the client that created them; the selfie is a face.
CREATE TABLE dis_customers (
    id              TEXT PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients(id),
    selfie_face_id  TEXT REFERENCES dis_faces(id),
    created_at      INTEGER NOT NULL
);
