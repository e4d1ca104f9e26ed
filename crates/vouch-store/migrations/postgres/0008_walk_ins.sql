-- SQLite's migration 0024: walk-in cases. At the central, per kiosk, the client and flow its walk-ins become; at a
-- kiosk, the central's walk-in flow and, for a case started here, what the central needs to make it.
ALTER TABLE kiosks ADD COLUMN walk_in_client TEXT REFERENCES clients(id);
ALTER TABLE kiosks ADD COLUMN walk_in_flow TEXT;

ALTER TABLE central_link ADD COLUMN walk_in_flow_id TEXT;
ALTER TABLE central_link ADD COLUMN walk_in_flow_version BIGINT;
ALTER TABLE central_cases ADD COLUMN walk_in TEXT;
