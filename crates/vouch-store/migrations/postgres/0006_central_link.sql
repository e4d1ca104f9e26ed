-- SQLite's migration 0022: at a kiosk, its central service, the cases pulled from it and what waits to go up.
CREATE TABLE central_link (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    url           TEXT NOT NULL,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    kiosk_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    branch        TEXT,
    -- The SHA-256 of the central's certificate, when the admin pinned it (a central with a generated certificate).
    fingerprint   TEXT,
    secret_sealed BYTEA NOT NULL,
    paired_at     BIGINT NOT NULL,
    last_sync_at  BIGINT,
    last_error    TEXT
);

CREATE TABLE central_cases (
    case_id    TEXT PRIMARY KEY REFERENCES cases(id),
    pulled_at  BIGINT NOT NULL,
    claimed_at BIGINT,
    refused    TEXT
);

CREATE TABLE central_outbox (
    seq       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id   TEXT NOT NULL REFERENCES central_cases(case_id),
    item_id   TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL CHECK (kind IN ('step', 'decision')),
    body      TEXT NOT NULL,
    acked_at  BIGINT
);
CREATE INDEX central_outbox_waiting ON central_outbox(seq) WHERE acked_at IS NULL;
CREATE INDEX central_outbox_waiting_by_case ON central_outbox(case_id) WHERE acked_at IS NULL;
