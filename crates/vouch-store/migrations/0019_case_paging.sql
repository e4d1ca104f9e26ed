-- Each of a client's cases of one API gets its place in order (1, 2, 3, ...), so that a page of the list is a
-- range of places read from an index, whatever its depth, and the total is the last place. Cases are never
-- deleted (retention purges their evidence and keeps the row), so the places have no holes. Existing cases are
-- numbered in the order they were made.
ALTER TABLE cases ADD COLUMN seq INTEGER;
UPDATE cases SET seq = r.n
    FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY client_id, api ORDER BY created_at, id) AS n FROM cases) AS r
    WHERE r.id = cases.id;
CREATE UNIQUE INDEX cases_by_client_seq ON cases(client_id, api, seq);
DROP INDEX cases_by_client;
