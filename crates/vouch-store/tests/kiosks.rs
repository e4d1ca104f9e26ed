//! Pairing kiosks with a central service, on SQLite and on a real PostgreSQL: a code pairs one kiosk once, its
//! client has the kiosk scope and signs in, and codes that are unknown, used or expired pair nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::Scope;
use vouch_store::{BlobLocation, Store, StoreError};
use vouch_testkit::postgres::Postgres;

fn pairs_once(store: &Store) {
    let made = store.create_pairing_code("Desk 1", Some("Tallinn"), "admin:test").unwrap();
    assert_eq!(made.code.len(), 14, "ABCD-EFGH-JKLM: {}", made.code);
    let typed = made.code.to_lowercase().replace('-', " ");
    let paired = store.pair_kiosk(&typed).unwrap();
    assert_eq!((paired.kiosk.name.as_str(), paired.kiosk.branch.as_deref()), ("Desk 1", Some("Tallinn")));
    let client = &paired.credentials.client;
    assert_eq!((client.scope, client.id.as_str()), (Scope::Kiosk, paired.kiosk.id.as_str()));
    let signed_in = store.authenticate_client(&client.id, &paired.credentials.secret).unwrap().unwrap();
    assert!(signed_in.is_kiosk());
    assert!(matches!(store.pair_kiosk(&made.code), Err(StoreError::NotFound)), "used once");
    assert!(matches!(store.pair_kiosk("ABCD-EFGH-JKMN"), Err(StoreError::NotFound)), "an unknown code");
    assert!(matches!(store.pair_kiosk("not a code"), Err(StoreError::NotFound)));
    assert_eq!(store.kiosks().unwrap(), vec![paired.kiosk.clone()]);
    assert_eq!(store.kiosk(&client.id).unwrap(), Some(paired.kiosk));
    assert!(matches!(store.create_pairing_code(" ", None, "admin:test"), Err(StoreError::Invalid(_))));
    let events = store.audit_events(vouch_store::audit::CLIENTS_CHAIN).unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.ends_with(&["kiosk_pairing_code_made", "client_created", "kiosk_paired"]), "{actions:?}");
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains(&made.code.replace('-', "")), "the code is not in the audit log");
}

#[test]
fn a_code_pairs_one_kiosk_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    pairs_once(&Store::open(dir.path()).unwrap());
}

#[test]
fn a_code_pairs_one_kiosk_once_on_postgresql_whichever_instance_is_asked_first() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    let first = Store::open_postgres(&pg.url, &dir.path().join("a"), &BlobLocation::DataDir).unwrap();
    pairs_once(&first);
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    std::fs::copy(dir.path().join("a/data.key"), dir.path().join("b/data.key")).unwrap();
    let second = Store::open_postgres(&pg.url, &dir.path().join("b"), &BlobLocation::DataDir).unwrap();
    let code = first.create_pairing_code("Desk 2", None, "admin:test").unwrap().code;
    let racers: Vec<_> = [first.clone(), second.clone(), first, second]
        .into_iter()
        .map(|store| {
            let code = code.clone();
            std::thread::spawn(move || store.pair_kiosk(&code).is_ok())
        })
        .collect();
    let paired = racers.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
    assert_eq!(paired, 1, "four tries at one code at once pair one kiosk");
}
