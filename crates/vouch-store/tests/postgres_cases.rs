//! Cases, their steps and evidence, DIS customers, the gallery, sign processes and retention on a real PostgreSQL
//! (started per test), through two instances of one central service.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::{claims::validate_claims, Case, Scope};
use vouch_store::case_codes::QueueFilter;
use vouch_store::clients::NewClient;
use vouch_store::postgres::PgDatabase;
use vouch_store::{now, BlobLocation, Store};
use vouch_testkit::postgres::Postgres;

fn two_instances(pg: &Postgres) -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = Store::open_postgres(&pg.url, &a, &BlobLocation::DataDir).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::copy(a.join("data.key"), b.join("data.key")).unwrap();
    // One blob store, as S3 would be: the second instance reads the first's files.
    std::fs::remove_dir_all(&b).ok();
    std::os::unix::fs::symlink(&a, &b).unwrap();
    let second = Store::open_postgres(&pg.url, &b, &BlobLocation::DataDir).unwrap();
    first.blobs().set_fresh_grace(std::time::Duration::ZERO);
    second.blobs().set_fresh_grace(std::time::Duration::ZERO);
    (dir, first, second)
}

fn integrator(store: &Store) -> String {
    let new = NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    store.create_client(&new, "test").unwrap().client.id
}

fn new_case(client_id: &str, reference: Option<&str>, flow: Option<vouch_core::flow::FlowRef>) -> Case {
    let at = now();
    Case {
        reference: reference.map(Into::into),
        claims: validate_claims(&[("sub".into(), "EE30303039914".into())]).unwrap(),
        reason: Some("account opening".into()),
        flow,
        ..Case::pending(client_id, "eeid", at, at + time::Duration::days(7))
    }
}

#[test]
fn cases_made_at_once_on_two_instances_are_numbered_once_and_queued() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let client = integrator(&first);
    let threads: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .map(|store| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    store.insert_case(&new_case(&client, None, None), "test").unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let (page, total) = second.list_cases(&client, "eeid", 0, 100).unwrap();
    assert_eq!((page.len(), total), (50, 50));
    let (page, _) = first.list_cases(&client, "eeid", 45, 10).unwrap();
    assert_eq!(page.len(), 5, "the last page");

    first.insert_case(&new_case(&client, Some("RefMixed"), None), "test").unwrap();
    assert!(matches!(
        second.insert_case(&new_case(&client, Some("RefMixed"), None), "test"),
        Err(vouch_store::StoreError::Conflict(_))
    ));
    let queue = second.case_queue(&QueueFilter { search: Some("ref-mix".into()), limit: 10, ..Default::default() });
    let queue = queue.unwrap();
    assert_eq!(queue.len(), 1, "the search ignores case, as on SQLite");
    let code = first.case_code(queue[0].case.id).unwrap();
    assert_eq!(second.case_by_code(&code).unwrap(), queue[0].case.id);
    assert_eq!(first.case_queue(&QueueFilter { limit: 100, ..Default::default() }).unwrap().len(), 51);
    assert!(second.verify_audit(None).unwrap().is_intact());
}

#[test]
fn dis_documents_pages_and_chips_run_on_postgresql() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let client = integrator(&first);
    first.create_customer(&client, "c1").unwrap();
    second.set_chip_challenge(&client, "c1", b"challenge").unwrap();
    assert_eq!(first.chip_challenge(&client, "c1").unwrap().as_deref(), Some(&b"challenge"[..]));
    first.set_chip_data(&client, "c1", b"chip", "{}").unwrap();
    assert_eq!(second.chip_record(&client, "c1").unwrap().unwrap().data, b"chip");
    second.create_document(&client, "c1", "{}").unwrap();
    for page_type in ["front", "back"] {
        let page = vouch_store::documents::NewPage {
            page_type,
            document_type: "passport",
            mrz_format: None,
            image: page_type.as_bytes(),
            portrait: None,
            reading: b"{}",
        };
        first.put_page(&client, "c1", page).unwrap();
    }
    let pages = second.pages(&client, "c1").unwrap();
    assert_eq!(pages.iter().map(|p| p.page_type.as_str()).collect::<Vec<_>>(), ["front", "back"]);
    second.delete_customer(&client, "c1").unwrap();
    assert!(first.pages(&client, "c1").is_err());
    let _ = PgDatabase::connect(&pg.url).unwrap();
}

#[test]
fn a_case_takes_one_reference_photo_whichever_instances_race_to_add_it() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let client = integrator(&first);
    let case = new_case(&client, None, None);
    first.insert_case(&case, "test").unwrap();
    let threads: Vec<_> = (0..8)
        .map(|n| {
            let store = if n % 2 == 0 { first.clone() } else { second.clone() };
            std::thread::spawn(move || store.add_reference_photo(case.id, &[n as u8; 64], "image/jpeg", "test").is_ok())
        })
        .collect();
    let added = threads.into_iter().map(|t| t.join().unwrap()).filter(|ok| *ok).count();
    assert_eq!(added, 1, "one photo, the others refused");
    let evidence = second.case_evidence(case.id).unwrap();
    assert_eq!(evidence.len(), 1);
    assert!(first.verify_audit(Some(&case.id.to_string())).unwrap().is_intact());
}

/// Two kiosks claiming one case at once through two instances: one holds it. The same step pushed at once through
/// both instances, as a kiosk retrying after a dropped connection would, is recorded once.
#[test]
fn one_kiosk_holds_a_case_and_a_step_pushed_twice_at_once_is_recorded_once() {
    use vouch_core::flow::{StepKind, StepOutcome};
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let client = integrator(&first);
    first.ensure_demo_flow().unwrap();
    let flow = first.latest_flow(&first.default_flow_id().unwrap().unwrap()).unwrap();
    let case = new_case(&client, None, Some(vouch_core::flow::FlowRef { id: flow.id.clone(), version: flow.version }));
    first.insert_case(&case, "test").unwrap();
    let kiosks: Vec<String> = ["Desk 1", "Desk 2"]
        .iter()
        .map(|name| {
            let code = first.create_pairing_code(name, None, "admin:test").unwrap().code;
            second.pair_kiosk(&code).unwrap().kiosk.id
        })
        .collect();
    let claims: Vec<_> = (0..8)
        .map(|n| {
            let store = if n % 2 == 0 { first.clone() } else { second.clone() };
            let kiosk = kiosks[n % 2].clone();
            std::thread::spawn(move || store.claim_case(&kiosk, case.id).is_ok().then_some(kiosk))
        })
        .collect();
    let winners: std::collections::BTreeSet<String> = claims.into_iter().filter_map(|t| t.join().unwrap()).collect();
    assert_eq!(winners.len(), 1, "one kiosk holds the case: {winners:?}");
    let holder = winners.into_iter().next().unwrap();
    assert_eq!(second.case_holder(case.id).unwrap().as_deref(), Some(holder.as_str()));

    let kind = flow.steps[0].kind();
    let pushes: Vec<_> = [first.clone(), second.clone(), first, second.clone()]
        .into_iter()
        .map(|store| {
            let holder = holder.clone();
            std::thread::spawn(move || {
                let step = vouch_store::flows::NewStep {
                    case_id: case.id,
                    index: 0,
                    kind,
                    outcome: StepOutcome::Passed,
                    detail: serde_json::json!({}),
                };
                store.push_kiosk_step(&holder, "desk-step-0", step, &[]).unwrap().0
            })
        })
        .collect();
    let pushed: Vec<_> = pushes.into_iter().map(|t| t.join().unwrap()).collect();
    let applied = pushed.iter().filter(|p| **p == vouch_store::sync::Pushed::Applied).count();
    assert_eq!(applied, 1, "{pushed:?}");
    assert_eq!(second.case_steps(case.id).unwrap().len(), 1);
    assert_ne!(kind, StepKind::Result);
    assert!(second.verify_audit(Some(&case.id.to_string())).unwrap().is_intact());
}
