-- SQLite's migration 0023: the branch whose paired kiosks may run a case (NULL: any kiosk), and whether its flow
-- can run at a kiosk at all (1); the open cases a kiosk may run, read from one index in order.
ALTER TABLE cases ADD COLUMN branch TEXT;
ALTER TABLE cases ADD COLUMN at_kiosks BIGINT NOT NULL DEFAULT 0;

UPDATE cases SET at_kiosks = 1
 WHERE status IN ('pending', 'in_progress') AND flow_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.id = cases.flow_id AND f.version = cases.flow_version
                     AND (f.steps LIKE '%"kind":"signature"%' OR f.steps LIKE '%"kind":"duplicate_check"%'
                          OR f.steps LIKE '%"reference":"enrolled"%'));

CREATE INDEX cases_for_kiosks ON cases(branch, created_at, id)
 WHERE status IN ('pending', 'in_progress') AND at_kiosks = 1;
