//! The instances of a central service on one PostgreSQL: what an instance would generate for itself, it shares.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_app::signing::{SigningConfig, SigningService};
use vouch_store::{BlobLocation, Store};

/// Two instances starting at once with no signing key configured sign with one generated key and escrow to one
/// generated certificate, kept sealed in the database, nothing of it in their data directories; a kiosk keeps its
/// own in its data directory.
#[tokio::test]
async fn instances_sign_and_escrow_with_one_generated_key() {
    let pg = vouch_testkit::postgres::Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = Store::open_postgres(&pg.url, &a, &BlobLocation::DataDir).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::copy(a.join("data.key"), b.join("data.key")).unwrap();
    let second = Store::open_postgres(&pg.url, &b, &BlobLocation::DataDir).unwrap();
    let (one, two) =
        (SigningService::new(SigningConfig::default(), first), SigningService::new(SigningConfig::default(), second));
    let (keys_one, keys_two) = tokio::join!(one.keys(), two.keys());
    let (keys_one, keys_two) = (keys_one.unwrap(), keys_two.unwrap());
    assert_eq!(keys_one.identity.fingerprint(), keys_two.identity.fingerprint(), "one signing key");
    assert_eq!(keys_one.escrow.fingerprint(), keys_two.escrow.fingerprint(), "one escrow certificate");
    assert!(keys_one.identity_source.contains("database"), "{}", keys_one.identity_source);
    assert!(!a.join("signing").exists() && !b.join("signing").exists(), "no key file on an instance");

    let kiosk_dir = tempfile::tempdir().unwrap();
    let kiosk = SigningService::new(SigningConfig::default(), Store::open(kiosk_dir.path()).unwrap());
    let kiosk_keys = kiosk.keys().await.unwrap();
    assert_ne!(kiosk_keys.identity.fingerprint(), keys_one.identity.fingerprint());
    assert!(kiosk_dir.path().join("signing").is_dir(), "a kiosk keeps its generated keys in its data directory");
}
