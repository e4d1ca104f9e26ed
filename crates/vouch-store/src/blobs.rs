//! Content-addressed, encrypted blob files: `<data dir>/blobs/ab/abcdef…` named by the plaintext's SHA-256.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::keys::DataKey;

const MAGIC: &[u8; 4] = b"VBL1";

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    key: DataKey,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore {
    pub fn open(dir: PathBuf, key: DataKey) -> Result<BlobStore> {
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(BlobStore { dir, key })
    }

    fn path_of(&self, sha: &str) -> Result<PathBuf> {
        let valid = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let prefix = sha.get(..2).filter(|_| valid).ok_or_else(|| StoreError::corrupt("invalid blob name"))?;
        Ok(self.dir.join(prefix).join(sha))
    }

    /// Stores `bytes` and returns their SHA-256. Written to a temporary file, synced and renamed, so a
    /// crash never leaves a half-written blob under its final name. Storing the same bytes twice is a no-op.
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let sealed = self.key.seal(bytes, sha.as_bytes())?;
        let parent = path.parent().unwrap_or(&self.dir);
        fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
        let tmp = parent.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let write = |p: &Path| -> std::io::Result<()> {
            let mut f = fs::File::create(p)?;
            f.write_all(MAGIC)?;
            f.write_all(&sealed)?;
            f.sync_all()
        };
        if let Err(e) = write(&tmp).and_then(|()| fs::rename(&tmp, &path)) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(&path, e));
        }
        Ok(sha)
    }

    /// Reads and decrypts a blob, and checks it still hashes to its name.
    pub fn get(&self, sha: &str) -> Result<Vec<u8>> {
        let path = self.path_of(sha)?;
        let raw = match fs::read(&path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(StoreError::io(&path, e)),
        };
        let sealed = raw
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| StoreError::corrupt(format!("blob {sha} has no header")))?;
        let plain = self.key.open(sealed, sha.as_bytes())?;
        if sha256_hex(&plain) != sha {
            return Err(StoreError::corrupt(format!("blob {sha} does not match its hash")));
        }
        Ok(plain)
    }

    /// Deletes a blob; deleting one that is already gone is not an error.
    pub fn remove(&self, sha: &str) -> Result<()> {
        let path = self.path_of(sha)?;
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    pub fn raw_path(&self, sha: &str) -> Result<PathBuf> {
        self.path_of(sha)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, BlobStore) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let key = DataKey::from_bytes(&[7u8; 32]).unwrap_or_else(|e| unreachable!("{e}"));
        let blobs = BlobStore::open(dir.path().join("blobs"), key).unwrap_or_else(|e| unreachable!("{e}"));
        (dir, blobs)
    }

    #[test]
    fn round_trips_and_is_encrypted_on_disk() -> Result<()> {
        let (_dir, blobs) = store();
        let data = b"a selfie, say".repeat(100);
        let sha = blobs.put(&data)?;
        assert_eq!(sha, sha256_hex(&data));
        assert_eq!(blobs.get(&sha)?, data);
        let on_disk = fs::read(blobs.raw_path(&sha)?).map_err(|e| StoreError::io(Path::new("blob"), e))?;
        assert!(!on_disk.windows(13).any(|w| w == b"a selfie, say"), "plaintext leaked to disk");
        Ok(())
    }

    #[test]
    fn detects_tampering_and_rejects_bad_names() -> Result<()> {
        let (_dir, blobs) = store();
        let sha = blobs.put(b"evidence")?;
        let path = blobs.raw_path(&sha)?;
        let mut raw = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        if let Some(last) = raw.last_mut() {
            *last ^= 1;
        }
        fs::write(&path, raw).map_err(|e| StoreError::io(&path, e))?;
        assert!(matches!(blobs.get(&sha), Err(StoreError::Crypto(_))));
        assert!(matches!(blobs.get("../../etc/passwd"), Err(StoreError::Corrupt(_))));
        assert!(matches!(blobs.get(&"0".repeat(64)), Err(StoreError::NotFound)));
        Ok(())
    }

    #[test]
    fn a_blob_moved_to_another_name_does_not_decrypt() -> Result<()> {
        let (_dir, blobs) = store();
        let a = blobs.put(b"first")?;
        let b = blobs.put(b"second")?;
        let (pa, pb) = (blobs.raw_path(&a)?, blobs.raw_path(&b)?);
        fs::copy(&pa, &pb).map_err(|e| StoreError::io(&pb, e))?;
        assert!(blobs.get(&b).is_err());
        Ok(())
    }
}
