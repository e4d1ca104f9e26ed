-- At a central service: the branch whose paired kiosks may run a case (NULL: any kiosk), and whether its flow can
-- run at a kiosk at all (1) or needs what only the central holds (documents to sign, the gallery). A kiosk's
-- listing reads the open cases it may run from one index, in order, however many others are open.
ALTER TABLE cases ADD COLUMN branch TEXT;
ALTER TABLE cases ADD COLUMN at_kiosks INTEGER NOT NULL DEFAULT 0;

-- The open cases with a flow before this migration, as the listing offered them: not those whose flow has a
-- signature, a duplicate check or a face match against the gallery (steps are stored as compact JSON).
UPDATE cases SET at_kiosks = 1
 WHERE status IN ('pending', 'in_progress') AND flow_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.id = cases.flow_id AND f.version = cases.flow_version
                     AND (f.steps LIKE '%"kind":"signature"%' OR f.steps LIKE '%"kind":"duplicate_check"%'
                          OR f.steps LIKE '%"reference":"enrolled"%'));

CREATE INDEX cases_for_kiosks ON cases(branch, created_at, id)
 WHERE status IN ('pending', 'in_progress') AND at_kiosks = 1;
