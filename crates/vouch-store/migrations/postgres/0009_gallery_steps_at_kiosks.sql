-- SQLite's migration 0025: a kiosk now runs a case whose flow searches the gallery: it asks its central to decide that step on the face it
-- pushed. Open cases made before this, whose flow has no signature, become cases a kiosk may run (steps are
-- stored as compact JSON).
UPDATE cases SET at_kiosks = 1
 WHERE status IN ('pending', 'in_progress') AND flow_id IS NOT NULL AND at_kiosks = 0
   AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.id = cases.flow_id AND f.version = cases.flow_version
                     AND f.steps LIKE '%"kind":"signature"%');
