-- SQLite's migration 0027: a DIS customer an integrator made for a kiosk to capture (`Vouch-Kiosk-Flow`): the case
-- the kiosk runs, and when its captures became the customer's selfie, pages and chip data (NULL: not yet).
ALTER TABLE dis_customers ADD COLUMN kiosk_case_id TEXT;
ALTER TABLE dis_customers ADD COLUMN kiosk_captures_taken_at BIGINT;
