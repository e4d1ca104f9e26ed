-- Kiosks paired with a central service. Each signs in with a client of its own, of the scope `kiosk`, which reaches
-- the sync API only. SQLite cannot change a CHECK in place, so `clients` is rebuilt with its rows (foreign keys are
-- off while a migration runs, and checked before it commits).
CREATE TABLE clients_rebuilt (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    secret_hash           TEXT NOT NULL,
    secret_sealed         BLOB NOT NULL,
    scope                 TEXT NOT NULL CHECK (scope IN ('integrator', 'admin', 'kiosk')),
    token_ttl_secs        INTEGER CHECK (token_ttl_secs IS NULL OR token_ttl_secs > 0),
    webhook_url           TEXT,
    created_at            INTEGER NOT NULL,
    revoked_at            INTEGER,
    webhook_secret_sealed BLOB,
    token_generation      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO clients_rebuilt (id, name, secret_hash, secret_sealed, scope, token_ttl_secs, webhook_url, created_at,
                             revoked_at, webhook_secret_sealed, token_generation)
    SELECT id, name, secret_hash, secret_sealed, scope, token_ttl_secs, webhook_url, created_at, revoked_at,
           webhook_secret_sealed, token_generation
    FROM clients;
DROP TABLE clients;
ALTER TABLE clients_rebuilt RENAME TO clients;

-- A paired kiosk: its client, its name and branch as the admin gave them, when it paired and was last heard from.
CREATE TABLE kiosks (
    id           TEXT PRIMARY KEY REFERENCES clients(id),
    name         TEXT NOT NULL,
    branch       TEXT,
    paired_at    INTEGER NOT NULL,
    last_seen_at INTEGER
);

-- A one-time pairing code an admin made for a kiosk: kept as a keyed hash, usable once before it expires.
CREATE TABLE kiosk_pairing_codes (
    code_hash  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    branch     TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER,
    kiosk_id   TEXT REFERENCES kiosks(id)
);
