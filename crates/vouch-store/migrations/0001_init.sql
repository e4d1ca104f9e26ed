-- Times are unix milliseconds (INTEGER) so they round-trip exactly and sort cheaply.

CREATE TABLE clients (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    -- argon2id PHC string; the only form in which the secret authenticates.
    secret_hash     TEXT NOT NULL,
    -- AES-256-GCM of the secret under the data key. eeID signs webhooks with HMAC(client_secret),
    -- so the secret must be recoverable for signing; it is never used to authenticate.
    secret_sealed   BLOB NOT NULL,
    scope           TEXT NOT NULL CHECK (scope IN ('integrator', 'admin')),
    token_ttl_secs  INTEGER CHECK (token_ttl_secs IS NULL OR token_ttl_secs > 0),
    webhook_url     TEXT,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

CREATE TABLE tokens (
    -- SHA-256 of the bearer token; the token itself is never stored.
    token_hash  BLOB PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_by_client ON tokens(client_id);

CREATE TABLE cases (
    id                  TEXT PRIMARY KEY,
    client_id           TEXT NOT NULL REFERENCES clients(id),
    api                 TEXT NOT NULL,
    reference           TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed', 'expired', 'cancelled')),
    claims              TEXT NOT NULL,
    reason              TEXT,
    reason_translations TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    decision            TEXT
);
CREATE UNIQUE INDEX cases_unique_reference ON cases(client_id, api, reference) WHERE reference IS NOT NULL;
CREATE INDEX cases_by_client ON cases(client_id, api, created_at DESC);
CREATE INDEX cases_open_by_expiry ON cases(expires_at) WHERE status IN ('pending', 'in_progress');

CREATE TABLE evidence (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases(id),
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (case_id, seq)
);

-- One hash chain per subject: a case id, or `clients` for client administration.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chain       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    UNIQUE (chain, seq)
);
-- The head of each chain, written in the same transaction as the event, so that deleting the
-- newest events is detected too.
CREATE TABLE audit_heads (
    chain   TEXT PRIMARY KEY,
    seq     INTEGER NOT NULL,
    hash    BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    client_id       TEXT NOT NULL REFERENCES clients(id),
    url             TEXT NOT NULL,
    body            BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER
);
CREATE INDEX deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    http_status INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    success     INTEGER NOT NULL CHECK (success IN (0, 1))
);
CREATE INDEX attempts_by_delivery ON webhook_attempts(delivery_id);
