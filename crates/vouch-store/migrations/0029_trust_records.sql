-- DIS Trust Platform records (`POST /identity/api/v1/customers/{id}/store`): a customer's onboarding as one signed
-- ZIP (an encrypted blob), kept after the customer is deleted until retention purges it. A record is never
-- changed: the only update allowed is retention marking it purged; the row and its hashes stay for the audit trail.
CREATE TABLE trust_records (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients(id),
    customer_id       TEXT NOT NULL,
    external_id       TEXT NOT NULL,
    onboarding_status TEXT NOT NULL CHECK (onboarding_status IN ('IN_PROGRESS', 'FINISHED')),
    record_sha256     TEXT NOT NULL,
    manifest_sha256   TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    purged_at         INTEGER
);
CREATE INDEX trust_records_by_customer ON trust_records(client_id, customer_id, created_at);
CREATE INDEX trust_records_by_external_id ON trust_records(external_id, created_at);
CREATE INDEX trust_records_due ON trust_records(created_at) WHERE purged_at IS NULL;
CREATE TRIGGER trust_records_immutable BEFORE UPDATE ON trust_records
WHEN OLD.purged_at IS NOT NULL OR NEW.purged_at IS NULL
  OR NEW.id IS NOT OLD.id OR NEW.client_id IS NOT OLD.client_id OR NEW.customer_id IS NOT OLD.customer_id
  OR NEW.external_id IS NOT OLD.external_id OR NEW.onboarding_status IS NOT OLD.onboarding_status
  OR NEW.record_sha256 IS NOT OLD.record_sha256 OR NEW.manifest_sha256 IS NOT OLD.manifest_sha256
  OR NEW.size_bytes IS NOT OLD.size_bytes OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'trust records are immutable: only retention may mark one purged');
END;
CREATE TRIGGER trust_records_kept BEFORE DELETE ON trust_records
BEGIN
    SELECT RAISE(ABORT, 'trust records are never deleted: retention marks them purged');
END;
