//! What a central service offers its paired kiosks, on SQLite and on a real PostgreSQL: the open cases for any kiosk
//! and those for the kiosk's own branch, oldest first, never another branch's (nor may a kiosk claim one), never
//! those without a flow, however many of them are older, and never one past its expiry.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::claims::validate_claims;
use vouch_core::flow::{FlowRef, Step};
use vouch_core::{Case, CaseId, Scope};
use vouch_store::clients::NewClient;
use vouch_store::{now, BlobLocation, Store, StoreError};
use vouch_testkit::postgres::Postgres;

fn case(client_id: &str, flow: &FlowRef, branch: Option<&str>, age_secs: i64) -> Case {
    let at = now() - time::Duration::seconds(age_secs);
    Case {
        claims: validate_claims(&[("sub".into(), "EE30303039914".into())]).unwrap(),
        flow: Some(flow.clone()),
        branch: branch.map(Into::into),
        ..Case::pending(client_id, "eeid", at, now() + time::Duration::days(7))
    }
}

fn flow(store: &Store, id: &str, steps: &[Step]) -> FlowRef {
    let saved = store.save_flow(id, id, steps, "admin:test", true).unwrap();
    FlowRef { id: saved.id, version: saved.version }
}

fn kiosk(store: &Store, name: &str, branch: Option<&str>) -> String {
    let code = store.create_pairing_code(name, branch, "admin:test").unwrap().code;
    store.pair_kiosk(&code).unwrap().kiosk.id
}

fn offered(store: &Store, kiosk: &str) -> Vec<CaseId> {
    store.cases_for_kiosk(kiosk, 10).unwrap().into_iter().map(|o| o.case.id).collect()
}

fn offers_by_branch(store: &Store) {
    let new = NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    let client = store.create_client(&new, "test").unwrap().client.id;
    let selfie = flow(store, "selfie", &[Step::Selfie {}, Step::Result {}]);
    // More cases without a flow (driven through their API, never at a kiosk) than one listing returns, all older
    // than the rest.
    for n in 0..250 {
        store.insert_case(&Case { flow: None, ..case(&client, &selfie, None, 10_000 + n) }, "test").unwrap();
    }
    let any = case(&client, &selfie, None, 300);
    let north = case(&client, &selfie, Some("Tartu"), 200);
    let south = case(&client, &selfie, Some("Pärnu"), 100);
    let mut overdue = case(&client, &selfie, None, 400);
    overdue.expires_at = now() - time::Duration::seconds(1);
    for c in [&any, &north, &south, &overdue] {
        store.insert_case(c, "test").unwrap();
    }
    assert_eq!(store.get_case(north.id).unwrap().branch.as_deref(), Some("Tartu"));
    let (tartu, parnu, roaming) =
        (kiosk(store, "Tartu 1", Some("Tartu")), kiosk(store, "Pärnu 1", Some("Pärnu")), kiosk(store, "Bus", None));
    assert_eq!(offered(store, &tartu), vec![any.id, north.id]);
    assert_eq!(offered(store, &parnu), vec![any.id, south.id]);
    assert_eq!(offered(store, &roaming), vec![any.id]);

    match store.claim_case(&tartu, south.id) {
        Err(StoreError::Conflict(why)) => assert!(why.contains("another branch"), "{why}"),
        other => panic!("a kiosk claimed another branch's case: {other:?}"),
    }
    assert!(store.claim_case(&roaming, north.id).is_err(), "a kiosk of no branch runs no branch's case");
    store.claim_case(&tartu, north.id).unwrap();
    store.claim_case(&parnu, any.id).unwrap();
    assert_eq!(offered(store, &tartu), vec![north.id], "held elsewhere: no longer offered");
    let listed = store.cases_for_kiosk(&tartu, 10).unwrap();
    assert!(listed[0].claimed && listed[0].steps.is_empty() && listed[0].reference_photo.is_none());
    assert_eq!(listed[0].code, store.case_code(north.id).unwrap());
    assert_eq!((listed[0].flow.id.as_str(), listed[0].case.branch.as_deref()), ("selfie", Some("Tartu")));
    let any_listed = store.cases_for_kiosk(&roaming, 10).unwrap();
    assert!(any_listed.is_empty(), "the case for any kiosk is held by Pärnu's now");
    assert_eq!(offered(store, &parnu), vec![any.id, south.id], "its own claim still offered");
}

#[test]
fn a_central_offers_each_kiosk_its_branchs_cases_and_any_kiosks_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    offers_by_branch(&Store::open(dir.path()).unwrap());
}

#[test]
fn a_central_offers_each_kiosk_its_branchs_cases_and_any_kiosks_on_postgresql() {
    let pg = Postgres::start();
    let dir = tempfile::tempdir().unwrap();
    offers_by_branch(&Store::open_postgres(&pg.url, dir.path(), &BlobLocation::DataDir).unwrap());
}

#[test]
fn gallery_and_signing_cases_made_before_kiosks_ran_them_are_offered_once_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (gallery_case, signing_case, flowless) = {
        let store = Store::open(&data).unwrap();
        let new = NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
        let client = store.create_client(&new, "test").unwrap().client.id;
        let gallery = [Step::Selfie {}, Step::DuplicateCheck { threshold: 0.5, collection: None }, Step::Result {}];
        let gallery_case = case(&client, &flow(&store, "gallery", &gallery), None, 60);
        let signing_case = case(&client, &flow(&store, "signing", &[Step::Signature {}, Step::Result {}]), None, 30);
        let flowless = Case { flow: None, ..case(&client, &flow(&store, "x", &[Step::Result {}]), None, 90) };
        for c in [&gallery_case, &signing_case, &flowless] {
            store.insert_case(c, "test").unwrap();
        }
        (gallery_case.id, signing_case.id, flowless.id)
    };
    // As migration 0023 left them: cases only the central ran.
    let db = rusqlite::Connection::open(data.join(vouch_store::DB_FILE)).unwrap();
    // The schema as of migration 0024, for 0025 to 0029 to run again.
    db.execute_batch(
        "UPDATE cases SET at_kiosks = 0;
         DROP INDEX cases_for_one_kiosk; DROP INDEX cases_for_kiosks; ALTER TABLE cases DROP COLUMN for_kiosk;
         CREATE INDEX cases_for_kiosks ON cases(branch, created_at, id)
          WHERE status IN ('pending', 'in_progress') AND at_kiosks = 1;
         ALTER TABLE dis_customers DROP COLUMN kiosk_case_id;
         ALTER TABLE dis_customers DROP COLUMN kiosk_captures_taken_at;
         DROP TABLE dis_sessions;
         DROP TABLE trust_records;
         PRAGMA user_version = 24;",
    )
    .unwrap();
    drop(db);
    let store = Store::open(&data).unwrap();
    let desk = kiosk(&store, "Desk 1", None);
    assert_eq!(offered(&store, &desk), vec![gallery_case, signing_case], "not {flowless}");
}
