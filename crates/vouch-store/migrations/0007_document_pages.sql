-- The pages of a DIS customer's document as photographed. The flattened page, its portrait crop and what was
-- read from it (the MRZ: personal data) are encrypted blobs named by sha256; the row holds only what classifies
-- the page. `document_request` is PUT /document's advice and sources, as JSON.
ALTER TABLE dis_documents ADD COLUMN document_request TEXT;

CREATE TABLE dis_document_pages (
    customer_id      TEXT NOT NULL REFERENCES dis_documents(customer_id),
    page_type        TEXT NOT NULL,
    -- passport, identity-card, visa or unknown; the MRZ's format (TD1, TD2, TD3, MRV-A, MRV-B) when read.
    document_type    TEXT NOT NULL,
    mrz_format       TEXT,
    image_sha256     TEXT NOT NULL,
    portrait_sha256  TEXT,
    reading_sha256   TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    PRIMARY KEY (customer_id, page_type)
);
