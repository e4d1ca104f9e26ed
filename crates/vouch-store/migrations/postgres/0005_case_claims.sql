-- SQLite's migration 0021: the kiosk that holds a case, and the items kiosks pushed.
CREATE TABLE case_claims (
    case_id    TEXT PRIMARY KEY REFERENCES cases(id),
    kiosk_id   TEXT NOT NULL REFERENCES kiosks(id),
    claimed_at BIGINT NOT NULL
);

CREATE TABLE sync_items (
    item_id    TEXT PRIMARY KEY,
    kiosk_id   TEXT NOT NULL REFERENCES kiosks(id),
    case_id    TEXT NOT NULL REFERENCES cases(id),
    applied_at BIGINT NOT NULL
);
