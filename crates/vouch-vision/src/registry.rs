//! The model registry: every model is loaded from the models folder only after its sha256 matches the one
//! recorded in `MODELS.md`, so a truncated download or a swapped file fails loudly and by name.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Result, VisionError};

pub const MANIFEST: &str = "MODELS.md";

#[derive(Debug, Clone)]
pub struct ModelRegistry {
    dir: PathBuf,
    manifest: PathBuf,
    sha256: HashMap<String, String>,
}

impl ModelRegistry {
    /// Reads `dir/MODELS.md`. Rows of its tables that name a `.onnx` file and hold a 64-hex-digit cell
    /// give that file's expected digest.
    pub fn open(dir: &Path) -> Result<ModelRegistry> {
        let manifest = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&manifest).map_err(|_| VisionError::ManifestMissing(manifest.clone()))?;
        Ok(ModelRegistry { dir: dir.to_path_buf(), manifest, sha256: parse_manifest(&text) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The path of `file` once its digest is checked.
    pub fn verified_path(&self, file: &str) -> Result<PathBuf> {
        let expected = self
            .sha256
            .get(file)
            .ok_or_else(|| VisionError::ModelNotListed { file: file.into(), manifest: self.manifest.clone() })?;
        let path = self.dir.join(file);
        let bytes =
            std::fs::read(&path).map_err(|_| VisionError::ModelMissing { file: file.into(), dir: self.dir.clone() })?;
        let actual = hex::encode(Sha256::digest(&bytes));
        if &actual != expected {
            return Err(VisionError::ModelCorrupt { file: file.into(), expected: expected.clone(), actual });
        }
        Ok(path)
    }

    /// The recorded digest of `file`, if listed.
    pub fn sha256(&self, file: &str) -> Option<&str> {
        self.sha256.get(file).map(String::as_str)
    }
}

fn parse_manifest(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(|c| c.trim().trim_matches('`')).collect();
        let file = cells.iter().find(|c| c.ends_with(".onnx") && !c.contains(' '));
        let digest = cells.iter().find(|c| c.len() == 64 && c.chars().all(|ch| ch.is_ascii_hexdigit()));
        if let (Some(file), Some(digest)) = (file, digest) {
            out.insert((*file).to_string(), digest.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn finds_digests_in_markdown_tables_and_checks_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.onnx"), b"model a").unwrap();
        std::fs::write(dir.path().join("b.onnx"), b"tampered").unwrap();
        let digest_a = hex::encode(Sha256::digest(b"model a"));
        let digest_b = hex::encode(Sha256::digest(b"model b"));
        let md = format!(
            "# Models\n\n| file | sha256 |\n|---|---|\n| `a.onnx` | `{digest_a}` |\n| `b.onnx` | `{digest_b}` |\n| `c.onnx` | `{digest_b}` |\n"
        );
        std::fs::write(dir.path().join(MANIFEST), md).unwrap();
        let reg = ModelRegistry::open(dir.path()).unwrap();
        assert!(reg.verified_path("a.onnx").is_ok());
        assert!(matches!(reg.verified_path("b.onnx"), Err(VisionError::ModelCorrupt { .. })));
        assert!(matches!(reg.verified_path("c.onnx"), Err(VisionError::ModelMissing { .. })));
        assert!(matches!(reg.verified_path("d.onnx"), Err(VisionError::ModelNotListed { .. })));
        let msg = reg.verified_path("c.onnx").unwrap_err().to_string();
        assert!(msg.contains("c.onnx"), "{msg}");
    }
}
