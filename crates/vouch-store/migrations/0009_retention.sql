-- Retention reaches past the evidence blobs (0003): a purged case's signer loses their name, e-mail and NIF, and a
-- sign process whose signers' cases are all purged loses its documents. `purged_at` marks what is done, so a later
-- run does not count it again and the evidence package can say what was purged.
ALTER TABLE cases ADD COLUMN purged_at INTEGER;
ALTER TABLE sign_documents ADD COLUMN purged_at INTEGER;
CREATE INDEX dis_customers_by_age ON dis_customers(created_at);
CREATE INDEX dis_faces_by_age ON dis_faces(created_at);
