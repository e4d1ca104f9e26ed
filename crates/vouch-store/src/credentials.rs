//! PINs, client secrets and bearer tokens.
//!
//! PINs are short and guessable, so they are argon2id hashes. Client secrets are 256-bit random values
//! that Vouch generates: nothing can be guessed, so they are stored as a keyed SHA-256 (HMAC under a
//! subkey of the data key) and compared in constant time. That keeps the unauthenticated token endpoint
//! from being a CPU amplifier, and a stolen database alone does not let anyone test candidate secrets.
//! Bearer tokens are 256-bit random and stored as SHA-256: the lookup is by hash, so timing reveals
//! nothing about a token.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};

pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// How a client secret's MAC is stored: `hmac-sha256$<hex>`.
pub const SECRET_MAC_PREFIX: &str = "hmac-sha256$";
/// The data-key subkey label for client-secret MACs.
pub const SECRET_MAC_LABEL: &str = "vouch client-secret mac v1";

/// HMAC-SHA256 under `key`, fed `message`: the one constructor of the store's keyed hashes (secret MACs,
/// tokens, subkeys, the audit chain). Finish with `finalize` or, to compare, `verify_slice` (constant time).
pub(crate) fn keyed_mac(key: &[u8], message: &[u8]) -> Result<hmac::Hmac<Sha256>> {
    use hmac::Mac;
    let mut mac = <hmac::Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| StoreError::Crypto("a MAC key is unusable".into()))?;
    mac.update(message);
    Ok(mac)
}

fn secret_hmac(key: &[u8; 32], secret: &str) -> Result<hmac::Hmac<Sha256>> {
    keyed_mac(key, secret.as_bytes())
}

/// The stored form of a client secret.
pub fn secret_mac(key: &[u8; 32], secret: &str) -> Result<String> {
    use hmac::Mac;
    Ok(format!("{SECRET_MAC_PREFIX}{}", hex::encode(secret_hmac(key, secret)?.finalize().into_bytes())))
}

/// Constant time in the secret and the stored MAC. A stored value of another form never matches.
pub fn verify_secret_mac(key: &[u8; 32], secret: &str, stored: &str) -> bool {
    use hmac::Mac;
    let Some(expected) = stored.strip_prefix(SECRET_MAC_PREFIX).and_then(|h| hex::decode(h).ok()) else {
        return false;
    };
    secret_hmac(key, secret).is_ok_and(|mac| mac.verify_slice(&expected).is_ok())
}

/// argon2id, for PINs.
pub fn hash_secret(secret: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Crypto(format!("hashing a secret failed: {e}")))
}

/// Constant-time with respect to the secret's content (argon2 compares digests in constant time).
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real verification, so an unknown client id takes as long as a wrong secret.
pub fn burn_verification(secret: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(phc) = DUMMY.get_or_init(|| hash_secret("vouch-dummy-secret").ok()) {
        let _ = verify_secret(secret, phc);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_with_the_right_value() -> Result<()> {
        let secret = random_token();
        let phc = hash_secret(&secret)?;
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_secret(&secret, &phc));
        assert!(!verify_secret("wrong", &phc));
        assert!(!verify_secret(&secret, "not a hash"));
        Ok(())
    }

    #[test]
    fn secret_macs_verify_only_with_the_right_value_and_key() {
        let (key, other) = ([7u8; 32], [8u8; 32]);
        let secret = random_token();
        let stored = secret_mac(&key, &secret).unwrap();
        assert!(stored.starts_with(SECRET_MAC_PREFIX) && stored.len() == SECRET_MAC_PREFIX.len() + 64);
        assert!(verify_secret_mac(&key, &secret, &stored));
        assert!(!verify_secret_mac(&other, &secret, &stored), "the MAC is keyed");
        assert!(!verify_secret_mac(&key, "wrong", &stored));
        assert!(!verify_secret_mac(&key, &secret, "$argon2id$v=19$..."));
        assert!(!verify_secret_mac(&key, &secret, "hmac-sha256$zz"));
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert!(a.len() >= 43, "at least 256 bits");
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 32);
    }
}
