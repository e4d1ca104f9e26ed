-- A short code a person can type or scan at the kiosk to open their case. Filled for older cases on open.
ALTER TABLE cases ADD COLUMN code TEXT;
CREATE UNIQUE INDEX cases_by_code ON cases(code) WHERE code IS NOT NULL;
CREATE INDEX cases_open_by_update ON cases(status, updated_at);

-- Clerks sign in at the kiosk with their own PIN (argon2id); the admin PIN lives in settings.
CREATE TABLE clerks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    pin_hash    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Wrong-PIN counters survive a restart, so restarting the app does not reset a lockout.
CREATE TABLE pin_attempts (
    subject         TEXT PRIMARY KEY,
    failures        INTEGER NOT NULL,
    locked_until    INTEGER
) WITHOUT ROWID;

-- Retention: evidence rows stay (their hashes are in audit events and proof manifests); the blobs go.
ALTER TABLE evidence ADD COLUMN purged_at INTEGER;
