//! The store with its evidence in a real S3-compatible server (SeaweedFS, started per test): blobs sealed before
//! they leave the process, read back and checked, swept when nothing names them, and a wrong endpoint or key
//! refused when the store opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::{claims::validate_claims, Case, Scope};
use vouch_store::clients::NewClient;
use vouch_store::{now, BlobLocation, S3Location, Store, StoreError};
use vouch_testkit::seaweedfs::SeaweedFs;

fn location(s3: &SeaweedFs, prefix: &str) -> BlobLocation {
    let mut at = S3Location::parse(&s3.url(prefix)).unwrap();
    at.credentials = Some((s3.access_key.clone(), s3.secret_key.clone()));
    BlobLocation::S3(at)
}

fn open(s3: &SeaweedFs, prefix: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_with_blobs(&dir.path().join("data"), &location(s3, prefix)).unwrap();
    store.blobs().set_fresh_grace(std::time::Duration::ZERO);
    (dir, store)
}

fn case_of(store: &Store) -> Case {
    let client = store
        .create_client(
            &NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None },
            "test",
        )
        .unwrap()
        .client
        .id;
    let at = now();
    let case = Case {
        claims: validate_claims(&[("sub".into(), "EE30303039914".into())]).unwrap(),
        ..Case::pending(&client, "eeid", at, at + time::Duration::days(7))
    };
    store.insert_case(&case, "test").unwrap();
    case
}

#[test]
fn evidence_goes_to_object_storage_sealed_and_comes_back_checked() {
    let s3 = SeaweedFs::start();
    let (dir, store) = open(&s3, "kiosk-a");
    let case = case_of(&store);
    let photo = b"a reference photo, say".repeat(50);
    let sha = store.add_reference_photo(case.id, &photo, "image/jpeg", "test").unwrap().sha256;
    assert_eq!(store.blobs().get(&sha).unwrap(), photo);
    let stored = store.blobs().raw(&sha).unwrap();
    assert!(!stored.windows(22).any(|w| w == b"a reference photo, say"), "plaintext reached the object store");
    assert!(
        !dir.path().join("data/blobs").exists(),
        "nothing is written to the data directory's blob folder when blobs are in object storage"
    );
    assert!(store.blobs().raw_path(&sha).is_err());
    assert!(matches!(store.blobs().get(&"0".repeat(64)), Err(StoreError::NotFound)));
    assert!(matches!(store.blobs().get("../../etc/passwd"), Err(StoreError::Corrupt(_))));

    // Another store with another data key on the same bucket and prefix cannot open it.
    let (_other_dir, other) = open(&s3, "kiosk-a");
    assert!(matches!(other.blobs().get(&sha), Err(StoreError::Crypto(_))));
    // Another prefix does not see it.
    let (_third_dir, third) = open(&s3, "kiosk-b");
    assert!(matches!(third.blobs().get(&sha), Err(StoreError::NotFound)));
}

#[test]
fn the_orphan_sweep_lists_the_bucket_and_keeps_what_rows_name() {
    let s3 = SeaweedFs::start();
    let (_dir, store) = open(&s3, "sweep");
    let case = case_of(&store);
    let named = store.add_reference_photo(case.id, b"named photo", "image/jpeg", "test").unwrap().sha256;
    let orphan = store.blobs().put(b"orphan").unwrap();
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::from_secs(3600)).unwrap(), 0, "young orphans stay");
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::ZERO).unwrap(), 1);
    assert!(matches!(store.blobs().get(&orphan), Err(StoreError::NotFound)));
    assert_eq!(store.blobs().get(&named).unwrap(), b"named photo");
    assert!(store.blobs().remove(&orphan).unwrap(), "removing what is gone is not an error");
}

#[test]
fn a_wrong_endpoint_or_key_is_refused_when_the_store_opens() {
    let s3 = SeaweedFs::start();
    let dir = tempfile::tempdir().unwrap();
    let BlobLocation::S3(mut wrong_key) = location(&s3, "x") else { unreachable!() };
    wrong_key.credentials = Some((s3.access_key.clone(), "not-the-secret".into()));
    let refused = Store::open_with_blobs(&dir.path().join("data"), &BlobLocation::S3(wrong_key));
    assert!(matches!(refused, Err(StoreError::ObjectStorage(_))), "{refused:?}");
    let closed = S3Location::parse("s3://vouch-evidence?endpoint=http://127.0.0.1:9").unwrap();
    let refused = Store::open_with_blobs(&dir.path().join("data"), &BlobLocation::S3(closed));
    match refused {
        Err(StoreError::ObjectStorage(message)) => assert!(message.contains("127.0.0.1:9"), "{message}"),
        other => panic!("{other:?}"),
    }
}
