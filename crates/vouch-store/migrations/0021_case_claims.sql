-- Which paired kiosk holds a case (one at a time: it claimed it before running it), and what kiosks pushed, by the
-- kiosk's own id for each item, so that a push repeated after a dropped connection is applied once.
CREATE TABLE case_claims (
    case_id    TEXT PRIMARY KEY REFERENCES cases(id),
    kiosk_id   TEXT NOT NULL REFERENCES kiosks(id),
    claimed_at INTEGER NOT NULL
);

CREATE TABLE sync_items (
    item_id    TEXT PRIMARY KEY,
    kiosk_id   TEXT NOT NULL REFERENCES kiosks(id),
    case_id    TEXT NOT NULL REFERENCES cases(id),
    applied_at INTEGER NOT NULL
);
