-- Walk-in cases: a person who comes to a paired kiosk without a case made for them.
-- At the central: the integrator client whose case a kiosk's walk-in becomes, and the flow it runs (per kiosk, set
-- by the central's admin; NULL: this kiosk takes no walk-ins).
ALTER TABLE kiosks ADD COLUMN walk_in_client TEXT REFERENCES clients(id);
ALTER TABLE kiosks ADD COLUMN walk_in_flow TEXT;

-- At the kiosk: the central's walk-in flow for it, as the last sync saw it (kept as `central/<id>`), and, for a
-- case started here, what the central needs to make it (NULL for pulled cases): it is made there before its first
-- item goes up, the way a pulled case is claimed.
ALTER TABLE central_link ADD COLUMN walk_in_flow_id TEXT;
ALTER TABLE central_link ADD COLUMN walk_in_flow_version INTEGER;
ALTER TABLE central_cases ADD COLUMN walk_in TEXT;
