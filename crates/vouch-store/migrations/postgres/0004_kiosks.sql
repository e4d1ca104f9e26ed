-- Kiosks paired with a central service (SQLite's migration 0020): the `kiosk` client scope, the kiosks and their
-- one-time pairing codes.
ALTER TABLE clients DROP CONSTRAINT clients_scope_check;
ALTER TABLE clients ADD CONSTRAINT clients_scope_check CHECK (scope IN ('integrator', 'admin', 'kiosk'));

CREATE TABLE kiosks (
    id           TEXT PRIMARY KEY REFERENCES clients(id),
    name         TEXT NOT NULL,
    branch       TEXT,
    paired_at    BIGINT NOT NULL,
    last_seen_at BIGINT
);

CREATE TABLE kiosk_pairing_codes (
    code_hash  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    branch     TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT,
    kiosk_id   TEXT REFERENCES kiosks(id)
);
