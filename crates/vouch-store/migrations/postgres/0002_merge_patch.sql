-- SQLite's json_patch (RFC 7396 merge patch) for PostgreSQL: an API record's fields are merged in SQL, so that they
-- land on the body as it is at the moment of the write, on either backend, with the same rules: a null removes a
-- key, an object merges into an object, anything else replaces.
CREATE FUNCTION vouch_merge_patch(target jsonb, patch jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    merged jsonb;
    k text;
    v jsonb;
BEGIN
    IF jsonb_typeof(patch) IS DISTINCT FROM 'object' THEN
        RETURN patch;
    END IF;
    merged := CASE WHEN jsonb_typeof(target) = 'object' THEN target ELSE '{}'::jsonb END;
    FOR k, v IN SELECT key, value FROM jsonb_each(patch) LOOP
        IF jsonb_typeof(v) = 'null' THEN
            merged := merged - k;
        ELSE
            merged := jsonb_set(merged, ARRAY[k], vouch_merge_patch(merged -> k, v));
        END IF;
    END LOOP;
    RETURN merged;
END
$$;
