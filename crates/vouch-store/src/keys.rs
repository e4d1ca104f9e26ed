//! The data key: 32 random bytes in `<data dir>/data.key`, mode 0600, created on first run.
//! It encrypts evidence blobs and sealed client secrets with AES-256-GCM, and keys (through subkeys derived
//! by label) the client-secret MACs and the audit chain.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

use crate::error::{Result, StoreError};

pub const KEY_FILE: &str = "data.key";
const NONCE_LEN: usize = 12;

#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
    raw: std::sync::Arc<[u8; 32]>,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// Loads the key, creating it on first run. Refuses a key file that others can read.
    pub fn load_or_create(data_dir: &Path) -> Result<DataKey> {
        let path = data_dir.join(KEY_FILE);
        let bytes = match fs::read(&path) {
            Ok(bytes) => {
                let mode = fs::metadata(&path).map_err(|e| StoreError::io(&path, e))?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(StoreError::Insecure(format!(
                        "{} has mode {:o}; it must be readable by its owner only (chmod 600)",
                        path.display(),
                        mode & 0o777
                    )));
                }
                bytes
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                    .map_err(|e| StoreError::io(&path, e))?;
                file.write_all(&key).and_then(|()| file.sync_all()).map_err(|e| StoreError::io(&path, e))?;
                tracing::info!(path = %path.display(), "created a new data key");
                key
            }
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        Self::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<DataKey> {
        let raw: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Crypto(format!("the data key must be 32 bytes, found {}", bytes.len())))?;
        let cipher =
            Aes256Gcm::new_from_slice(&raw).map_err(|_| StoreError::Crypto("the data key is unusable".into()))?;
        Ok(DataKey { cipher, raw: std::sync::Arc::new(raw) })
    }

    /// A key for one purpose, HMAC-SHA256(data key, label): a MAC key never doubles as the encryption key.
    pub fn subkey(&self, label: &str) -> Result<[u8; 32]> {
        use hmac::Mac;
        Ok(crate::credentials::keyed_mac(&self.raw[..], label.as_bytes())?.finalize().into_bytes().into())
    }

    /// `nonce || ciphertext+tag`. `aad` binds the ciphertext to what it is (a blob name, a client id).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plaintext, aad })
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let (nonce, ct) =
            sealed.split_at_checked(NONCE_LEN).ok_or_else(|| StoreError::Crypto("sealed data is too short".into()))?;
        self.cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| StoreError::Crypto("decryption failed: wrong key or tampered data".into()))
    }
}
