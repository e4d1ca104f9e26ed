-- PIN attempts are reserved before they are checked (issue 21): the failure count is raised first and
-- refunded on a right PIN, so parallel guesses cannot all be evaluated. Failures decay: a day after the
-- last wrong PIN the count starts again.
ALTER TABLE pin_attempts ADD COLUMN last_failure_at INTEGER;

-- One budget of wrong PINs over every subject (admin and all clerks) per window, so that guessing is
-- not spread over many clerk ids.
CREATE TABLE pin_budget (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    window_start  INTEGER NOT NULL,
    used          INTEGER NOT NULL
);

-- A token works at the vendor API whose token endpoint issued it (and at Vouch's own API); NULL: any
-- (tokens from the generic /oauth/token endpoint).
ALTER TABLE tokens ADD COLUMN audience TEXT;

-- Standard Webhooks signing secret, separate from the OAuth secret and rotatable on its own; sealed under
-- the data key like the client secret. Made on first use.
ALTER TABLE clients ADD COLUMN webhook_secret_sealed BLOB;

-- Bearer tokens are signed (HMAC under a data-key subkey) instead of stored: issuing one writes nothing.
-- A token names its client's generation; rotating the secret moves it on, which ends every older token, and
-- revoking the client ends them too. The tokens table is no longer written.
ALTER TABLE clients ADD COLUMN token_generation INTEGER NOT NULL DEFAULT 0;
DELETE FROM tokens;
