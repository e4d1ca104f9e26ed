-- SQLite's migration 0029: DIS Trust Platform records (`POST /identity/api/v1/customers/{id}/store`): a customer's
-- onboarding as one signed ZIP (an encrypted object), kept after the customer is deleted until retention purges
-- it. A record is never changed: the only update allowed is retention marking it purged.
CREATE TABLE trust_records (
    id                TEXT PRIMARY KEY,
    client_id         TEXT NOT NULL REFERENCES clients(id),
    customer_id       TEXT NOT NULL,
    external_id       TEXT NOT NULL,
    onboarding_status TEXT NOT NULL CHECK (onboarding_status IN ('IN_PROGRESS', 'FINISHED')),
    record_sha256     TEXT NOT NULL,
    manifest_sha256   TEXT NOT NULL,
    size_bytes        BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    purged_at         BIGINT
);
CREATE INDEX trust_records_by_customer ON trust_records(client_id, customer_id, created_at);
CREATE INDEX trust_records_by_external_id ON trust_records(external_id, created_at);
CREATE INDEX trust_records_due ON trust_records(created_at) WHERE purged_at IS NULL;

CREATE FUNCTION trust_records_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'trust records are never deleted: retention marks them purged';
    END IF;
    IF OLD.purged_at IS NOT NULL OR NEW.purged_at IS NULL
       OR (NEW.id, NEW.client_id, NEW.customer_id, NEW.external_id, NEW.onboarding_status, NEW.record_sha256,
           NEW.manifest_sha256, NEW.size_bytes, NEW.created_at)
          IS DISTINCT FROM
          (OLD.id, OLD.client_id, OLD.customer_id, OLD.external_id, OLD.onboarding_status, OLD.record_sha256,
           OLD.manifest_sha256, OLD.size_bytes, OLD.created_at) THEN
        RAISE EXCEPTION 'trust records are immutable: only retention may mark one purged';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER trust_records_immutable BEFORE UPDATE OR DELETE ON trust_records
    FOR EACH ROW EXECUTE FUNCTION trust_records_immutable();
