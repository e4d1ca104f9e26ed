-- Cases opened for a person of the gallery (Verifik's biometric validations): whom the face_match step compares
-- against (an enrolled person, or the best match of a collection), whether an approved case enrols the face it
-- captured (onboarding), and whether the case is decided by its steps with no clerk. The vendor's own record of
-- the validation is an api_record with the case's id.
CREATE TABLE case_subjects (
    case_id            TEXT PRIMARY KEY REFERENCES cases(id),
    collection_id      TEXT,
    person_id          TEXT,
    enrol_as           TEXT,
    decided_by_steps   INTEGER NOT NULL DEFAULT 0,
    enrolled_person_id TEXT
);
