-- SQLite's migration 0028: DIS sessions (`POST /identity/api/v1/sessions`): a token a client hands its front end,
-- good for one customer until it expires or is closed. Only the token's SHA-256 is kept.
CREATE TABLE dis_sessions (
    token_hash  BYTEA PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    customer_id TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    closed_at   BIGINT
);
CREATE INDEX dis_sessions_by_expiry ON dis_sessions(expires_at);
