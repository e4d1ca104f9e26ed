//! What Vouch's tests share: where the checkout and its folders are, where the shared test data lies
//! (`../shared` beside the checkout, never copied into it), and fixtures read by name. A test that cannot find
//! its fixture fails saying which file, which is why this crate may panic: it only ever runs inside tests.
//!
//! With the `server` feature: a real server on port 0 with a fresh data directory ([`server::Kit`]), a client of
//! any running Vouch with its tokens ([`api::Api`]), a webhook receiver ([`receiver::Receiver`]), and the
//! waits and bodies tests share. Always: a real PostgreSQL ([`postgres::Postgres`]) and a real
//! S3-compatible server ([`seaweedfs::SeaweedFs`]), each started per test and stopped after.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

#[cfg(feature = "server")]
pub mod api;
pub mod pades;
pub mod postgres;
#[cfg(feature = "server")]
pub mod receiver;
#[cfg(feature = "server")]
pub mod relay;
pub mod seaweedfs;
#[cfg(feature = "server")]
pub mod server;

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

/// An admin's approval of an eeID case, with the identity the desk checked.
#[cfg(feature = "server")]
pub fn approval() -> serde_json::Value {
    serde_json::json!({
        "outcome": "approved",
        "reason": "Passport checked at the desk",
        "identity": {
            "sub": "EE30303039914", "given_name": "Mari-Liis", "family_name": "Männik",
            "date_of_birth": "1903-03-03", "country": "EE", "document_expires": "2031-05-01",
            "authentication_type": "PASSPORT", "acr": "high"
        }
    })
}

/// Polls until `check` holds, for at most `limit`: waiting on background work without asserting its speed.
#[cfg(feature = "server")]
pub async fn eventually<F: FnMut() -> bool>(limit: std::time::Duration, mut check: F) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    check()
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
