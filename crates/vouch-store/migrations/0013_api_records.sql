-- Configuration records a vendor API keeps for its clients and Vouch has no domain model of (Verifik's projects,
-- project flows and webhooks): each a JSON object owned by one client, of one kind, optionally under a parent
-- record (a project flow's project).
CREATE TABLE api_records (
    id         TEXT PRIMARY KEY,
    api        TEXT NOT NULL,
    kind       TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    parent     TEXT,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX api_records_by_owner ON api_records(api, kind, client_id, created_at);
