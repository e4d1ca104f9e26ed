-- Flows are versioned data: every save inserts the next version; versions never change.
CREATE TABLE flows (
    id          TEXT NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    name        TEXT NOT NULL,
    steps       TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (id, version)
) WITHOUT ROWID;

-- Kiosk-wide settings (default flow, and later retention, language, PIN hashes).
CREATE TABLE settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
) WITHOUT ROWID;

-- The flow version a case runs, pinned when the case is created.
ALTER TABLE cases ADD COLUMN flow_id TEXT;
ALTER TABLE cases ADD COLUMN flow_version INTEGER;

-- One row per completed step; the engine derives the next step from these, so a case resumes after a restart.
CREATE TABLE case_steps (
    case_id     TEXT NOT NULL REFERENCES cases(id),
    step_index  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('passed', 'failed')),
    detail      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (case_id, step_index)
) WITHOUT ROWID;
