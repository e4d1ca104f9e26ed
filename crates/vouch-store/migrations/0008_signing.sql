-- What cases ask people to sign: DANAconnect circuits and MasStack sign processes. A process holds the documents;
-- each of its signers is one case. A DANAconnect circuit is a process with one signer.
CREATE TABLE sign_processes (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL REFERENCES clients(id),
    api         TEXT NOT NULL,
    -- MasStack's organisation in the path; NULL for DANAconnect.
    org_id      TEXT,
    created_at  INTEGER NOT NULL
);

-- Each document as uploaded and as signed so far. Every signature is an incremental update of the current version,
-- so the last signer's file carries every earlier signature. Files are encrypted blobs named by sha256.
CREATE TABLE sign_documents (
    process_id      TEXT NOT NULL REFERENCES sign_processes(id),
    position        INTEGER NOT NULL,
    name            TEXT NOT NULL,
    original_sha256 TEXT NOT NULL,
    size            INTEGER NOT NULL,
    current_sha256  TEXT NOT NULL,
    PRIMARY KEY (process_id, position)
);

-- The signer behind each case: who must sign (as the integrator named them) and how far they got.
CREATE TABLE signers (
    case_id       TEXT PRIMARY KEY REFERENCES cases(id),
    process_id    TEXT NOT NULL REFERENCES sign_processes(id),
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    email         TEXT,
    nif           TEXT,
    -- biometric (handwritten, with pen data) or simple (a click, no biometrics).
    method        TEXT NOT NULL CHECK (method IN ('biometric', 'simple')),
    previewed_at  INTEGER,
    signed_at     INTEGER
);
CREATE INDEX signers_by_process ON signers(process_id, position);
