//! JSON Web Tokens (RFC 7519, HS256) for the APIs whose clients expect one (Verifik's): signed under a subkey of
//! the data key, never stored. Each names its client, its audience (the one API that accepts it), and the
//! client's token generation, so that rotating the client's secret or revoking the client ends its tokens at
//! once. A token may also name a session (a liveness session), which only that session's calls accept.

use crate::db_params;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use vouch_core::Client;

use crate::clients::IssuedToken;
use crate::error::{Result, StoreError};
use crate::{now, to_ms, Store};

pub const JWT_KEY_LABEL: &str = "vouch jwt hs256 v1";
/// Longer tokens are refused before any work.
const MAX_TOKEN_LEN: usize = 4096;

#[derive(Debug, Serialize, Deserialize)]
struct JwtClaims {
    sub: String,
    aud: String,
    iat: i64,
    exp: i64,
    gen: i64,
    jti: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

/// What a presented token is.
#[derive(Debug, Clone, PartialEq)]
pub enum JwtCheck {
    /// Signed by this Vouch for this audience, unexpired, of an active client; with the session it names.
    Valid { client: Client, session: Option<String> },
    /// Genuine, for this audience, but past its expiry.
    Expired,
    /// Anything else: forged, malformed, for another audience, of a revoked client or an old generation.
    Invalid,
}

impl Store {
    fn jwt_key(&self) -> Result<[u8; 32]> {
        self.key().subkey(JWT_KEY_LABEL)
    }

    /// A JWT for `client_id`, accepted only by `audience`, for `ttl_secs`; bound to `session` when given.
    pub fn issue_jwt(
        &self,
        client_id: &str,
        ttl_secs: u32,
        audience: &str,
        session: Option<&str>,
    ) -> Result<IssuedToken> {
        let generation = self.token_generation(client_id)?;
        let issued_at = now();
        let expires_at = issued_at + time::Duration::seconds(i64::from(ttl_secs));
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let claims = JwtClaims {
            sub: client_id.to_string(),
            aud: audience.to_string(),
            iat: issued_at.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
            gen: generation,
            jti: hex::encode(nonce),
            sid: session.map(str::to_string),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(&self.jwt_key()?))
                .map_err(|e| StoreError::Crypto(format!("signing a JWT: {e}")))?;
        Ok(IssuedToken { token, expires_at, ttl_secs })
    }

    /// Checks a presented JWT for `audience`: only HS256 under this Vouch's key, no leeway on expiry, not revoked.
    pub fn check_jwt(&self, token: &str, audience: &str) -> Result<JwtCheck> {
        Ok(match self.decode_jwt(token, audience)? {
            Ok((claims, client)) => JwtCheck::Valid { client, session: claims.sid },
            Err(check) => check,
        })
    }

    /// A client's token (no session) exchanged for a new one of `ttl_secs`, the old one revoked, atomically:
    /// of two renewals of one token only one succeeds. Anything but a valid client token is answered as
    /// [`Self::check_jwt`] answers it.
    pub fn renew_and_revoke_jwt(
        &self,
        token: &str,
        audience: &str,
        ttl_secs: Option<u32>,
    ) -> Result<std::result::Result<IssuedToken, JwtCheck>> {
        let (claims, client) = match self.decode_jwt(token, audience)? {
            Ok((claims, _)) if claims.sid.is_some() => return Ok(Err(JwtCheck::Invalid)),
            Ok(found) => found,
            Err(check) => return Ok(Err(check)),
        };
        let at = to_ms(now());
        // Whoever inserts the token's id first renews it; a second renewal (on any instance) finds it taken.
        let revoked = self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute("DELETE FROM revoked_jwts WHERE expires_at <= ?1", db_params![at])?;
                tx.execute(
                    "INSERT INTO revoked_jwts (jti, expires_at) VALUES (?1, ?2) ON CONFLICT (jti) DO NOTHING",
                    db_params![claims.jti, claims.exp * 1000],
                )
            })
        })?;
        if revoked == 0 {
            return Ok(Err(JwtCheck::Invalid));
        }
        let ttl =
            ttl_secs.or(client.token_ttl_secs).unwrap_or(u32::try_from(claims.exp - claims.iat).unwrap_or(0).max(1));
        Ok(Ok(self.issue_jwt(&client.id, ttl, audience, None)?))
    }

    fn decode_jwt(&self, token: &str, audience: &str) -> Result<std::result::Result<(JwtClaims, Client), JwtCheck>> {
        if token.len() > MAX_TOKEN_LEN {
            return Ok(Err(JwtCheck::Invalid));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        validation.leeway = 0;
        let claims =
            match jsonwebtoken::decode::<JwtClaims>(token, &DecodingKey::from_secret(&self.jwt_key()?), &validation) {
                Ok(data) => data.claims,
                Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => return Ok(Err(JwtCheck::Expired)),
                Err(_) => return Ok(Err(JwtCheck::Invalid)),
            };
        if claims.exp * 1000 <= to_ms(now()) {
            return Ok(Err(JwtCheck::Expired));
        }
        let client = self.with(|conn| {
            let revoked =
                conn.query_opt("SELECT 1 FROM revoked_jwts WHERE jti = ?1", db_params![claims.jti])?.is_some();
            if revoked {
                return Ok(None);
            }
            crate::clients::active_client(conn, &claims.sub, claims.gen)
        })?;
        match client {
            Some(client) => Ok(Ok((claims, client))),
            None => Ok(Err(JwtCheck::Invalid)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;
    use vouch_core::Scope;

    fn store_with_client() -> (tempfile::TempDir, Store, String) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let created = store
            .create_client(
                &crate::clients::NewClient {
                    name: "jwt".into(),
                    scope: Scope::Integrator,
                    token_ttl_secs: None,
                    webhook_url: None,
                },
                "test",
            )
            .unwrap();
        (dir, store, created.client.id)
    }

    #[test]
    fn a_jwt_is_accepted_only_unchanged_for_its_audience_and_while_its_client_stands() {
        let (_dir, store, client) = store_with_client();
        let issued = store.issue_jwt(&client, 600, "verifik", None).unwrap();
        assert_eq!(issued.token.split('.').count(), 3, "a compact JWS");
        match store.check_jwt(&issued.token, "verifik").unwrap() {
            JwtCheck::Valid { client: c, session } => assert_eq!((c.id, session), (client.clone(), None)),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.check_jwt(&issued.token, "eeid").unwrap(), JwtCheck::Invalid);
        let (head, _) = issued.token.rsplit_once('.').unwrap();
        assert_eq!(store.check_jwt(&format!("{head}.AAAA"), "verifik").unwrap(), JwtCheck::Invalid);
        // alg none, and a token over the size limit.
        let none = format!("eyJhbGciOiJub25lIn0.{}.", issued.token.split('.').nth(1).unwrap());
        assert_eq!(store.check_jwt(&none, "verifik").unwrap(), JwtCheck::Invalid);
        assert_eq!(store.check_jwt(&"a".repeat(5000), "verifik").unwrap(), JwtCheck::Invalid);
        store.rotate_client_secret(&client, "test").unwrap();
        assert_eq!(store.check_jwt(&issued.token, "verifik").unwrap(), JwtCheck::Invalid, "rotation ends it");
    }

    #[test]
    fn an_expired_jwt_is_told_apart_and_a_session_is_carried() {
        let (_dir, store, client) = store_with_client();
        let expired = store.issue_jwt(&client, 0, "verifik", None).unwrap();
        assert_eq!(store.check_jwt(&expired.token, "verifik").unwrap(), JwtCheck::Expired);
        let session = store.issue_jwt(&client, 600, "verifik-session", Some("s-1")).unwrap();
        match store.check_jwt(&session.token, "verifik-session").unwrap() {
            JwtCheck::Valid { session, .. } => assert_eq!(session.as_deref(), Some("s-1")),
            other => panic!("{other:?}"),
        }
        assert_eq!(store.check_jwt(&session.token, "verifik").unwrap(), JwtCheck::Invalid);
    }

    #[test]
    fn a_renewed_jwt_is_revoked_once_and_for_all() {
        let (_dir, store, client) = store_with_client();
        let old = store.issue_jwt(&client, 600, "verifik", None).unwrap();
        let new = store.renew_and_revoke_jwt(&old.token, "verifik", Some(1200)).unwrap().unwrap();
        assert_eq!(new.ttl_secs, 1200);
        assert_eq!(store.check_jwt(&old.token, "verifik").unwrap(), JwtCheck::Invalid, "the old one is revoked");
        assert!(matches!(store.check_jwt(&new.token, "verifik").unwrap(), JwtCheck::Valid { .. }));
        assert_eq!(store.renew_and_revoke_jwt(&old.token, "verifik", None).unwrap().unwrap_err(), JwtCheck::Invalid);
        // Without a lifetime asked, the new token lasts as long as the one it replaces.
        assert_eq!(store.renew_and_revoke_jwt(&new.token, "verifik", None).unwrap().unwrap().ttl_secs, 1200);
        let session = store.issue_jwt(&client, 600, "verifik", Some("s-1")).unwrap();
        assert!(store.renew_and_revoke_jwt(&session.token, "verifik", None).unwrap().is_err(), "not a session's");
        let expired = store.issue_jwt(&client, 0, "verifik", None).unwrap();
        assert_eq!(
            store.renew_and_revoke_jwt(&expired.token, "verifik", None).unwrap().unwrap_err(),
            JwtCheck::Expired
        );
    }
}
