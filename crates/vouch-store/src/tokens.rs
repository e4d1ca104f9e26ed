//! Bearer tokens, signed rather than stored: `vt1.<claims>.<mac>`, base64url, the MAC an HMAC-SHA256 under a
//! data-key subkey. Issuing a token writes nothing (so the token endpoint costs about what any small request
//! does); checking one verifies the MAC in constant time, then reads the client: revoked clients and
//! rotated secrets (a new token generation) end their tokens at once. 256 bits of randomness in each token
//! keep two tokens of one client and second apart.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::Mac;
use rand::RngCore;

use crate::error::Result;

pub const TOKEN_MAC_LABEL: &str = "vouch bearer-token mac v1";
const PREFIX: &str = "vt1.";
/// Longer tokens are refused before any work.
const MAX_TOKEN_LEN: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub client_id: String,
    pub expires_ms: i64,
    pub audience: Option<String>,
    pub generation: i64,
}

use crate::credentials::keyed_mac as mac;

pub fn sign(key: &[u8; 32], claims: &Claims) -> Result<String> {
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let payload = serde_json::json!({
        "c": claims.client_id, "e": claims.expires_ms, "a": claims.audience, "g": claims.generation,
        "n": hex::encode(nonce),
    })
    .to_string();
    let tag = mac(key, payload.as_bytes())?.finalize().into_bytes();
    Ok(format!("{PREFIX}{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(tag)))
}

/// The claims of a token whose MAC is right; None for anything else.
pub fn verify(key: &[u8; 32], token: &str) -> Option<Claims> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (payload, tag) = token.strip_prefix(PREFIX)?.split_once('.')?;
    let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    mac(key, &payload).ok()?.verify_slice(&tag).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    Some(Claims {
        client_id: v.get("c")?.as_str()?.to_string(),
        expires_ms: v.get("e")?.as_i64()?,
        audience: v.get("a").and_then(|a| a.as_str()).map(str::to_owned),
        generation: v.get("g")?.as_i64()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_unchanged_and_under_its_key() {
        let (key, other) = ([1u8; 32], [2u8; 32]);
        let claims =
            Claims { client_id: "vouch-1".into(), expires_ms: 42, audience: Some("eeid".into()), generation: 3 };
        let token = sign(&key, &claims).unwrap();
        assert_eq!(verify(&key, &token), Some(claims.clone()));
        assert_ne!(sign(&key, &claims).unwrap(), token, "every token is distinct");
        assert_eq!(verify(&other, &token), None);
        let (head, tag) = token.rsplit_once('.').unwrap();
        // Claims changed under the same tag: a longer expiry, another client.
        let forged = serde_json::json!({"c": "vouch-2", "e": i64::MAX, "a": null, "g": 3, "n": "00"}).to_string();
        assert_eq!(verify(&key, &format!("{PREFIX}{}.{tag}", URL_SAFE_NO_PAD.encode(forged))), None);
        assert_eq!(verify(&key, &format!("{head}.{}", URL_SAFE_NO_PAD.encode([0u8; 32]))), None);
        assert_eq!(verify(&key, "vt1.x.y"), None);
        assert_eq!(verify(&key, &"a".repeat(5000)), None);
    }
}
