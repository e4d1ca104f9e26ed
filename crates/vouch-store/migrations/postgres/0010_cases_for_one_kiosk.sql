-- SQLite's migration 0026: at a central service, the one paired kiosk that may run a case (NULL: the kiosks its branch says). A kiosk's
-- listing reads the cases for it alone from their own index; the cases for any kiosk or a branch no longer include
-- them.
ALTER TABLE cases ADD COLUMN for_kiosk TEXT;

DROP INDEX cases_for_kiosks;
CREATE INDEX cases_for_kiosks ON cases(branch, created_at, id)
 WHERE status IN ('pending', 'in_progress') AND at_kiosks = 1 AND for_kiosk IS NULL;
CREATE INDEX cases_for_one_kiosk ON cases(for_kiosk, created_at, id)
 WHERE status IN ('pending', 'in_progress') AND at_kiosks = 1 AND for_kiosk IS NOT NULL;
