-- A DIS customer's document. The chip data (every elementary file as read, so personal data and the
-- portrait) is an encrypted blob named by sha256; the inspection next to it holds verdicts only.
CREATE TABLE dis_documents (
    customer_id       TEXT PRIMARY KEY REFERENCES dis_customers(id),
    client_id         TEXT NOT NULL REFERENCES clients(id),
    -- The active authentication challenge issued by chip/challenge, used once by the next chip/data.
    chip_challenge    BLOB,
    chip_data_sha256  TEXT,
    -- JSON: data and chip authentication, access control, problems.
    chip_inspection   TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
