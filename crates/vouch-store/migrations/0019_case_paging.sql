-- A page of a client's cases is read from this index alone (its order includes the id that breaks ties), so a
-- deep page skips index entries instead of sorting every case of the client.
CREATE INDEX cases_by_client_page ON cases(client_id, api, created_at DESC, id);
DROP INDEX cases_by_client;
