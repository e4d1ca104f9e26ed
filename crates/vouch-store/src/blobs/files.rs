//! Blobs as files: `<data dir>/blobs/ab/abcdef…`, each written to a temporary file, synced and renamed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Result, StoreError};

#[derive(Debug, Clone)]
pub(crate) struct FileBlobs {
    dir: PathBuf,
}

/// Makes a rename or a new file in `dir` durable: on Linux the directory entry is only on disk once the
/// directory itself is synced.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

impl FileBlobs {
    pub(crate) fn open(dir: PathBuf) -> Result<FileBlobs> {
        fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
        Ok(FileBlobs { dir })
    }

    /// `name` is a checked blob name (lowercase hex, 64 characters).
    pub(crate) fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name.get(..2).unwrap_or_default()).join(name)
    }

    /// True when the blob is already there; its write time is then renewed, since the orphan sweep goes by age
    /// and a blob named again is young again.
    pub(crate) fn renew(&self, name: &str) -> bool {
        let path = self.path_of(name);
        if !path.exists() {
            return false;
        }
        let _ = fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(SystemTime::now()));
        true
    }

    /// Written to a temporary file, synced, renamed, and the directory synced: a crash or power cut never leaves
    /// a half-written blob under its final name.
    pub(crate) fn write(&self, name: &str, stored: &[u8]) -> Result<()> {
        let path = self.path_of(name);
        let parent = path.parent().unwrap_or(&self.dir);
        if !parent.exists() {
            fs::create_dir_all(parent).map_err(|e| StoreError::io(parent, e))?;
            sync_dir(&self.dir).map_err(|e| StoreError::io(&self.dir, e))?;
        }
        let tmp = parent.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let write = |p: &Path| -> std::io::Result<()> {
            let mut f = fs::File::create(p)?;
            f.write_all(stored)?;
            f.sync_all()
        };
        if let Err(e) = write(&tmp).and_then(|()| fs::rename(&tmp, &path)).and_then(|()| sync_dir(parent)) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(&path, e));
        }
        Ok(())
    }

    pub(crate) fn read(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path_of(name);
        match fs::read(&path) {
            Ok(raw) => Ok(Some(raw)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StoreError::io(&path, e)),
        }
    }

    pub(crate) fn delete(&self, name: &str) -> Result<()> {
        let path = self.path_of(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
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

    /// Every file that `is_name` accepts, where a blob of that name belongs, with its last write time.
    pub(crate) fn list(&self, is_name: impl Fn(&str) -> bool) -> Result<Vec<(String, SystemTime)>> {
        Ok(self
            .files()?
            .into_iter()
            .filter(|(name, path)| is_name(name) && self.path_of(name) == *path)
            .map(|(name, path)| {
                let modified = fs::metadata(&path).and_then(|m| m.modified()).unwrap_or_else(|_| SystemTime::now());
                (name, modified)
            })
            .collect())
    }
}
