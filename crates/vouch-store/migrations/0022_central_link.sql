-- At a kiosk: the central service it is paired with (one at most), with the kiosk's own credentials there, sealed.
CREATE TABLE central_link (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    url           TEXT NOT NULL,
    client_id     TEXT NOT NULL REFERENCES clients(id),
    kiosk_id      TEXT NOT NULL,
    name          TEXT NOT NULL,
    branch        TEXT,
    -- The SHA-256 of the central's certificate, when the admin pinned it (a central with a generated certificate).
    fingerprint   TEXT,
    secret_sealed BLOB NOT NULL,
    paired_at     INTEGER NOT NULL,
    last_sync_at  INTEGER,
    last_error    TEXT
);

-- Cases pulled from the central service: run here, and what was recorded here goes up.
CREATE TABLE central_cases (
    case_id    TEXT PRIMARY KEY REFERENCES cases(id),
    pulled_at  INTEGER NOT NULL,
    claimed_at INTEGER,
    -- Why the central refused this kiosk's work on it (another kiosk holds it, it was closed there).
    refused    TEXT
);

-- What waits to go up, in the order it was recorded, written in the transaction that records the step or the
-- decision it carries: nothing recorded is lost on the way, and an item is acknowledged once the central applied it.
CREATE TABLE central_outbox (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id   TEXT NOT NULL REFERENCES central_cases(case_id),
    item_id   TEXT NOT NULL UNIQUE,
    kind      TEXT NOT NULL CHECK (kind IN ('step', 'decision')),
    body      TEXT NOT NULL,
    acked_at  INTEGER
);
CREATE INDEX central_outbox_waiting ON central_outbox(seq) WHERE acked_at IS NULL;
CREATE INDEX central_outbox_waiting_by_case ON central_outbox(case_id) WHERE acked_at IS NULL;
