//! Client secrets and bearer tokens.
//!
//! Secrets are 256-bit random strings, stored as argon2id hashes and verified in constant time by
//! `argon2`'s own comparison. Bearer tokens are 256-bit random and stored as SHA-256: they have full
//! entropy, so a fast hash is enough, and the lookup is by hash so timing reveals nothing about a token.

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
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert!(a.len() >= 43, "at least 256 bits");
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 32);
    }
}
