-- SQLite's migration 0025: a kiosk now runs every case with a flow: it asks its central to decide a gallery step on the face it pushed,
-- and takes the documents to sign down with the case, while the central applies the signature with its keys. Open
-- cases made before this become cases a kiosk may run.
UPDATE cases SET at_kiosks = 1
 WHERE status IN ('pending', 'in_progress') AND flow_id IS NOT NULL AND at_kiosks = 0;
