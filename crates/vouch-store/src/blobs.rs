//! Content-addressed, encrypted blob files: `<data dir>/blobs/ab/abcdef…` named by the plaintext's SHA-256.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::keys::DataKey;

const MAGIC: &[u8; 4] = b"VBL1";

/// A blob stored (or found already there) this recently may be about to be named by a row that has not
/// committed yet: deleting it now would leave that row pointing nowhere, so deletions skip it.
pub const FRESH_BLOB_GRACE: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    key: DataKey,
    /// Blobs handed out by `put` in this process and when, for the grace period.
    fresh: Arc<Mutex<HashMap<String, Instant>>>,
    /// [`FRESH_BLOB_GRACE`] unless set otherwise (tests that purge what they just stored set zero).
    grace_ms: Arc<std::sync::atomic::AtomicU64>,
}

/// Makes a rename or a new file in `dir` durable: on Linux the directory entry is only on disk once the
/// directory itself is synced.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl BlobStore {
    pub fn open(dir: PathBuf, key: DataKey) -> Result<BlobStore> {
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        let grace_ms = u64::try_from(FRESH_BLOB_GRACE.as_millis()).unwrap_or(u64::MAX);
        Ok(BlobStore { dir, key, fresh: Arc::default(), grace_ms: Arc::new(grace_ms.into()) })
    }

    /// How long a blob just stored is kept from deletion.
    pub fn set_fresh_grace(&self, grace: Duration) {
        let ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
        self.grace_ms.store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms.load(std::sync::atomic::Ordering::Relaxed))
    }

    fn mark_fresh(&self, sha: &str) {
        if let Ok(mut fresh) = self.fresh.lock() {
            let grace = self.grace();
            fresh.retain(|_, at| at.elapsed() < grace);
            fresh.insert(sha.to_string(), Instant::now());
        }
    }

    fn is_fresh(&self, sha: &str) -> bool {
        let grace = self.grace();
        self.fresh.lock().is_ok_and(|fresh| fresh.get(sha).is_some_and(|at| at.elapsed() < grace))
    }

    fn path_of(&self, sha: &str) -> Result<PathBuf> {
        let valid = sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
        let prefix = sha.get(..2).filter(|_| valid).ok_or_else(|| StoreError::corrupt("invalid blob name"))?;
        Ok(self.dir.join(prefix).join(sha))
    }

    /// Stores `bytes` and returns their SHA-256. Written to a temporary file, synced, renamed, and the
    /// directory synced, so a crash or power cut never leaves a half-written blob under its final name and a
    /// row committed after this call never names a blob that is not on disk. Storing the same bytes twice
    /// writes once; either way the blob is kept from deletion for the grace period ([`FRESH_BLOB_GRACE`]).
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path_of(&sha)?;
        self.mark_fresh(&sha);
        if path.exists() {
            // The orphan sweep goes by age too: a blob named again is young again.
            let _ = fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(SystemTime::now()));
            return Ok(sha);
        }
        let sealed = self.key.seal(bytes, sha.as_bytes())?;
        let parent = path.parent().unwrap_or(&self.dir);
        if !parent.exists() {
            fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
            sync_dir(&self.dir).map_err(|e| StoreError::io(&self.dir, e))?;
        }
        let tmp = parent.join(format!(".{sha}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let write = |p: &Path| -> std::io::Result<()> {
            let mut f = fs::File::create(p)?;
            f.write_all(MAGIC)?;
            f.write_all(&sealed)?;
            f.sync_all()
        };
        if let Err(e) = write(&tmp).and_then(|()| fs::rename(&tmp, &path)).and_then(|()| sync_dir(parent)) {
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

    /// Deletes a blob that no row names; deleting one that is already gone is not an error. A blob `put`
    /// within the grace period is kept (false): a row about to name it may not have committed yet.
    pub fn remove(&self, sha: &str) -> Result<bool> {
        let path = self.path_of(sha)?;
        if self.is_fresh(sha) {
            return Ok(false);
        }
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    /// Every file in the blob folders, by name and path (a directory listing; nothing is read or stat'ed).
    fn files(&self) -> Result<Vec<(String, PathBuf)>> {
        let mut files = Vec::new();
        let top = fs::read_dir(&self.dir).map_err(|e| StoreError::io(&self.dir, e))?;
        for sub in top.flatten().filter(|e| e.path().is_dir()) {
            for entry in fs::read_dir(sub.path()).map_err(|e| StoreError::io(&sub.path(), e))?.flatten() {
                files.push((entry.file_name().to_string_lossy().to_string(), entry.path()));
            }
        }
        Ok(files)
    }

    /// The temporary files a crash left behind: written, never renamed, so nothing names them.
    pub(crate) fn temporary_files(&self) -> Result<Vec<PathBuf>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|(name, _)| name.starts_with('.') && name.ends_with(".tmp"))
            .map(|(_, p)| p)
            .collect())
    }

    /// Every blob on disk with its last write time (for the orphan sweep).
    pub(crate) fn blobs_with_age(&self) -> Result<Vec<(String, SystemTime)>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|(name, path)| self.path_of(name).is_ok_and(|p| p == *path))
            .map(|(name, path)| {
                let modified = fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|_| SystemTime::now());
                (name, modified)
            })
            .collect())
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
