-- JWTs revoked before their expiry (Verifik's renew-and-revoke), by their id, kept until they would have expired.
CREATE TABLE revoked_jwts (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
