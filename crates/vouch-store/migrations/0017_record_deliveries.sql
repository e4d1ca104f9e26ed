-- A webhook delivery announces a case, or one of an API's own records that is not a case (Verifik's e-mail and
-- phone validations and app registrations): then `case_id` is null and `record_api` and `record_id` name the
-- record. SQLite cannot relax NOT NULL in place, so the table is rebuilt with its rows and ids (the migration runs
-- with foreign keys off and checks them before it commits).
CREATE TABLE webhook_deliveries_new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id         TEXT REFERENCES cases(id),
    record_api      TEXT,
    record_id       TEXT,
    client_id       TEXT NOT NULL REFERENCES clients(id),
    url             TEXT NOT NULL,
    body            BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    max_attempts    INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    CHECK ((case_id IS NULL) = (record_id IS NOT NULL) AND (record_id IS NULL) = (record_api IS NULL))
);
INSERT INTO webhook_deliveries_new
    (id, case_id, client_id, url, body, status, attempts, max_attempts, next_attempt_at, last_error, created_at, delivered_at)
    SELECT id, case_id, client_id, url, body, status, attempts, max_attempts, next_attempt_at, last_error, created_at,
           delivered_at
    FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
CREATE INDEX deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
