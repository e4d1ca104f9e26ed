-- DIS liveness of a customer: the frames it was shown (uploaded selfies and the frames of liveness records),
-- each with the assertion it was asked to display. Images are encrypted blobs named by sha256.
CREATE TABLE dis_liveness (
    customer_id     TEXT PRIMARY KEY REFERENCES dis_customers(id),
    client_id       TEXT NOT NULL REFERENCES clients(id),
    -- The eye-gaze corners issued by records/challenge (JSON array), which the next record must follow.
    challenge       TEXT,
    created_at      INTEGER NOT NULL
);

CREATE TABLE dis_liveness_records (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES dis_liveness(customer_id),
    liveness_type   TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE dis_liveness_frames (
    id              TEXT PRIMARY KEY,
    customer_id     TEXT NOT NULL REFERENCES dis_liveness(customer_id),
    -- NULL for a frame uploaded through liveness/selfies.
    record_id       TEXT REFERENCES dis_liveness_records(id),
    assertion       TEXT NOT NULL,
    seq             INTEGER NOT NULL,
    image_sha256    TEXT NOT NULL,
    -- The face found (JSON), or NULL when none was.
    detection       TEXT,
    -- The frame a record offers as its selfie.
    is_record_selfie INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);
CREATE INDEX dis_liveness_frames_by_customer ON dis_liveness_frames(customer_id, seq);
