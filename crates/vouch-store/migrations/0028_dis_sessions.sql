-- DIS sessions (`POST /identity/api/v1/sessions`): a token a client hands its front end, good for one customer until
-- it expires or is closed. Only the token's SHA-256 is kept.
CREATE TABLE dis_sessions (
    token_hash  BLOB PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    customer_id TEXT,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    closed_at   INTEGER
);
CREATE INDEX dis_sessions_by_expiry ON dis_sessions(expires_at);
