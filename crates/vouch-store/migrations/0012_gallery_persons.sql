-- Who the gallery's subjects are: face-recognition collections and the persons enrolled in them (Verifik's
-- resources), each owned by one API client. A person's templates stay in gallery_templates, once under the
-- client's whole gallery (`client:<id>`) and once under each collection the person is in (`collection:<id>`),
-- so that each searchable set is one index. Thumbnails (face crops) are sealed like every biometric.
CREATE TABLE gallery_collections (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    client_id   TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    project     TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX gallery_collections_by_client ON gallery_collections(client_id, created_at);

CREATE TABLE gallery_persons (
    id            TEXT PRIMARY KEY,
    client_id     TEXT NOT NULL,
    name          TEXT NOT NULL,
    gender        TEXT,
    date_of_birth TEXT,
    nationality   TEXT,
    notes         TEXT,
    status        TEXT NOT NULL DEFAULT 'active',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX gallery_persons_by_client ON gallery_persons(client_id, created_at);

CREATE TABLE gallery_memberships (
    person_id     TEXT NOT NULL REFERENCES gallery_persons(id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL REFERENCES gallery_collections(id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, collection_id)
);
CREATE INDEX gallery_memberships_by_collection ON gallery_memberships(collection_id);

CREATE TABLE gallery_thumbnails (
    id        TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES gallery_persons(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    jpeg      BLOB NOT NULL
);
CREATE INDEX gallery_thumbnails_by_person ON gallery_thumbnails(person_id, seq);
