-- One-time codes that prove a person holds an e-mail address or a phone number (Verifik's e-mail and phone
-- validations), beside the API record each belongs to (same id). Only the code's argon2id hash is kept; each
-- try is counted here before the code is checked.
CREATE TABLE one_time_codes (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients(id),
    code_hash    TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER
);
