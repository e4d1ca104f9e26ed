//! What Vouch's tests share: where the checkout and its folders are, where the shared test data lies
//! (`../shared` beside the checkout, never copied into it), and fixtures read by name. A test that cannot find
//! its fixture fails saying which file, which is why this crate may panic: it only ever runs inside tests.
//!
//! The real server on port 0 with a fresh data directory and a client is `vouch-server`'s `tests/api/kit.rs`.
#![allow(clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// The checkout's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A path below the checkout's root, such as `testdata/faces/fr_obama.jpg` or `assets/demo-camera`.
pub fn repo_path(relative: &str) -> PathBuf {
    repo_root().join(relative)
}

/// The ONNX models the tests load (`models/`, with `MODELS.md`).
pub fn models_dir() -> PathBuf {
    repo_path("models")
}

/// The shared test data beside the checkout: `../shared/testdata/<relative>`.
pub fn shared_testdata(relative: &str) -> PathBuf {
    repo_root().join("../shared/testdata").join(relative)
}

/// The bytes of `testdata/<relative>`.
pub fn fixture(relative: &str) -> Vec<u8> {
    read(&repo_path("testdata").join(relative))
}

/// The bytes of a file, or a failure naming it.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("reading the fixture {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folders_are_the_checkouts() {
        assert!(repo_path("Cargo.toml").is_file());
        assert!(models_dir().join("MODELS.md").is_file());
        assert!(!fixture("faces/fr_obama.jpg").is_empty());
    }
}
