//! Content-addressed, encrypted blobs named by the plaintext's SHA-256: files in the data directory
//! (`<data dir>/blobs/ab/abcdef…`, the default) or objects in S3-compatible storage (central deployments). Either
//! way a blob is sealed with the data key before it leaves the process.

mod files;
mod objects;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

pub use objects::S3Location;

use crate::error::{Result, StoreError};
use crate::keys::DataKey;
use files::FileBlobs;
use objects::ObjectBlobs;

const MAGIC: &[u8; 4] = b"VBL1";

/// A blob stored (or found already there) this recently may be about to be named by a row that has not
/// committed yet: deleting it now would leave that row pointing nowhere, so deletions skip it.
pub const FRESH_BLOB_GRACE: Duration = Duration::from_secs(15 * 60);

/// Where a store keeps its blobs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum BlobLocation {
    /// Files in the data directory's `blobs/`.
    #[default]
    DataDir,
    S3(S3Location),
}

impl BlobLocation {
    /// `s3://…` (see [`S3Location::parse`]); anything else is refused.
    pub fn parse(text: &str) -> Result<BlobLocation> {
        S3Location::parse(text).map(BlobLocation::S3)
    }
}

impl std::fmt::Display for BlobLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobLocation::DataDir => f.write_str("the data directory"),
            BlobLocation::S3(at) => write!(f, "{at}"),
        }
    }
}

#[derive(Debug)]
enum Backend {
    Files(FileBlobs),
    Objects(ObjectBlobs),
}

#[derive(Debug, Clone)]
pub struct BlobStore {
    backend: Arc<Backend>,
    key: DataKey,
    /// Blobs handed out by `put` in this process and when, for the grace period.
    fresh: Arc<Mutex<HashMap<String, Instant>>>,
    /// [`FRESH_BLOB_GRACE`] unless set otherwise (tests that purge what they just stored set zero).
    grace_ms: Arc<std::sync::atomic::AtomicU64>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

fn checked(name: &str) -> Result<&str> {
    if is_blob_name(name) {
        Ok(name)
    } else {
        Err(StoreError::corrupt("invalid blob name"))
    }
}

impl BlobStore {
    /// Blob files in `dir`.
    pub fn open(dir: PathBuf, key: DataKey) -> Result<BlobStore> {
        Ok(BlobStore::with_backend(Backend::Files(FileBlobs::open(dir)?), key))
    }

    /// Blobs at `location`; `data_dir` serves [`BlobLocation::DataDir`].
    pub fn open_at(location: &BlobLocation, data_dir: &Path, key: DataKey) -> Result<BlobStore> {
        match location {
            BlobLocation::DataDir => BlobStore::open(data_dir.join("blobs"), key),
            BlobLocation::S3(at) => Ok(BlobStore::with_backend(Backend::Objects(ObjectBlobs::open(at)?), key)),
        }
    }

    fn with_backend(backend: Backend, key: DataKey) -> BlobStore {
        let grace_ms = u64::try_from(FRESH_BLOB_GRACE.as_millis()).unwrap_or(u64::MAX);
        BlobStore { backend: Arc::new(backend), key, fresh: Arc::default(), grace_ms: Arc::new(grace_ms.into()) }
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

    /// Stores `bytes` and returns their SHA-256. The blob is whole under its name before this returns, so a row
    /// committed after this call never names a blob that is not stored. Storing the same bytes twice keeps one;
    /// either way the blob is kept from deletion for the grace period ([`FRESH_BLOB_GRACE`]).
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha = sha256_hex(bytes);
        self.mark_fresh(&sha);
        if let Backend::Files(files) = &*self.backend {
            if files.renew(&sha) {
                return Ok(sha);
            }
        }
        let mut stored = MAGIC.to_vec();
        stored.extend_from_slice(&self.key.seal(bytes, sha.as_bytes())?);
        match &*self.backend {
            Backend::Files(files) => files.write(&sha, &stored)?,
            Backend::Objects(objects) => objects.write(&sha, &stored)?,
        }
        Ok(sha)
    }

    /// Reads and decrypts a blob, and checks it still hashes to its name.
    pub fn get(&self, sha: &str) -> Result<Vec<u8>> {
        let raw = self.raw(sha)?;
        let sealed = raw
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| StoreError::corrupt(format!("blob {sha} has no header")))?;
        let plain = self.key.open(sealed, sha.as_bytes())?;
        if sha256_hex(&plain) != sha {
            return Err(StoreError::corrupt(format!("blob {sha} does not match its hash")));
        }
        Ok(plain)
    }

    /// The blob as stored: sealed, with its header.
    pub fn raw(&self, sha: &str) -> Result<Vec<u8>> {
        let name = checked(sha)?;
        let raw = match &*self.backend {
            Backend::Files(files) => files.read(name)?,
            Backend::Objects(objects) => objects.read(name)?,
        };
        raw.ok_or(StoreError::NotFound)
    }

    /// Deletes a blob that no row names; deleting one that is already gone is not an error. A blob `put`
    /// within the grace period is kept (false): a row about to name it may not have committed yet.
    pub fn remove(&self, sha: &str) -> Result<bool> {
        let name = checked(sha)?;
        if self.is_fresh(sha) {
            return Ok(false);
        }
        match &*self.backend {
            Backend::Files(files) => files.delete(name)?,
            Backend::Objects(objects) => objects.delete(name)?,
        }
        Ok(true)
    }

    /// The temporary files a crash left behind (blob files only: an object is written whole or not at all).
    pub(crate) fn temporary_files(&self) -> Result<Vec<PathBuf>> {
        match &*self.backend {
            Backend::Files(files) => files.temporary_files(),
            Backend::Objects(_) => Ok(Vec::new()),
        }
    }

    /// Every blob stored with its last write time (for the orphan sweep).
    pub(crate) fn blobs_with_age(&self) -> Result<Vec<(String, SystemTime)>> {
        match &*self.backend {
            Backend::Files(files) => files.list(is_blob_name),
            Backend::Objects(objects) => objects.list(is_blob_name),
        }
    }

    /// The file of a blob in the data directory (tests read and damage it); an error for object storage.
    pub fn raw_path(&self, sha: &str) -> Result<PathBuf> {
        match &*self.backend {
            Backend::Files(files) => Ok(files.path_of(checked(sha)?)),
            Backend::Objects(_) => Err(StoreError::Invalid("blobs are in object storage, not in files".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
