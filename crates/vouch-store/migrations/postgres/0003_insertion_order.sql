-- Two tables are read in the order their rows were inserted, which SQLite keeps as the implicit rowid: a
-- customer's document pages (two puts can share a millisecond) and a person's collections. PostgreSQL has no such
-- column, so these tables get one of that name, and the same queries run on both.
ALTER TABLE dis_document_pages ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE gallery_memberships ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
