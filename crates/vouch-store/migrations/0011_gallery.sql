-- The 1:N gallery: one row a face template, in a collection, of a subject (a person). The template is sealed
-- (AES-256-GCM under the data key, bound to its row's key) like every biometric at rest; the in-memory index
-- is rebuilt from these rows.
CREATE TABLE gallery_templates (
    key        INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    subject    TEXT NOT NULL,
    template   BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX gallery_templates_by_collection ON gallery_templates(collection);
CREATE INDEX gallery_templates_by_subject ON gallery_templates(subject, collection);
