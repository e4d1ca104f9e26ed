//! Walk-ins in the store: at the central, where a kiosk's walk-ins go and making one (once, for that kiosk only,
//! on its walk-in flow); at the kiosk, the kept walk-in flow and a walk-in started here, which no sync withdraws
//! and which waits to be made at the central until its first push.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::flow::{FlowRef, Step};
use vouch_core::{CaseStatus, Decision, Outcome, Scope};
use vouch_store::central::Pairing;
use vouch_store::clients::NewClient;
use vouch_store::sync::Pushed;
use vouch_store::walk_ins::{WalkInCase, WalkIns};
use vouch_store::{now, Store, StoreError};

fn central() -> (tempfile::TempDir, Store, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let new = NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    let bank = store.create_client(&new, "test").unwrap().client.id;
    store.save_flow("face", "Face at the desk", &[Step::Selfie {}, Step::Result {}], "admin:test", true).unwrap();
    let steps = [Step::Selfie {}, Step::Signature {}, Step::Result {}];
    store.save_flow("signing", "Signing", &steps, "admin:test", true).unwrap();
    let pair = |name: &str| {
        let code = store.create_pairing_code(name, Some("Tartu"), "admin:test").unwrap().code;
        store.pair_kiosk(&code).unwrap().kiosk.id
    };
    let (desk_1, desk_2) = (pair("Desk 1"), pair("Desk 2"));
    (dir, store, bank, desk_1, desk_2)
}

fn walk_in(flow: &str) -> WalkInCase {
    WalkInCase {
        case_id: vouch_core::CaseId::new(),
        flow: FlowRef { id: flow.into(), version: 1 },
        created_at: now() - time::Duration::hours(3),
        expires_at: now() - time::Duration::minutes(1),
    }
}

#[test]
fn a_central_makes_a_kiosks_walk_in_once_for_the_client_its_admin_named() {
    let (_dir, store, bank, desk_1, desk_2) = central();
    let to = |client: &str, flow: &str| WalkIns { client_id: client.into(), flow_id: flow.into() };
    for (bad, why) in
        [(to(&desk_2, "face"), "integrator"), (to(&bank, "nope"), "no flow"), (to(&bank, "signing"), "signature step")]
    {
        match store.set_kiosk_walk_ins(&desk_1, Some(&bad), "admin:test") {
            Err(StoreError::Invalid(msg)) => assert!(msg.contains(why), "{msg}"),
            other => panic!("{bad:?} was taken: {other:?}"),
        }
    }
    assert!(matches!(
        store.set_kiosk_walk_ins("no-such-kiosk", Some(&to(&bank, "face")), "t"),
        Err(StoreError::NotFound)
    ));
    let early = walk_in("face");
    match store.make_walk_in_case(&desk_1, &early) {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("no walk-ins"), "{msg}"),
        other => panic!("a kiosk without walk-ins made one: {other:?}"),
    }
    store.set_kiosk_walk_ins(&desk_1, Some(&to(&bank, "face")), "admin:test").unwrap();
    assert_eq!(store.kiosk(&desk_1).unwrap().unwrap().walk_ins, Some(to(&bank, "face")));
    assert_eq!(store.kiosk_walk_in_flow(&desk_1).unwrap().unwrap().id, "face");
    assert_eq!(store.kiosk_walk_in_flow(&desk_2).unwrap(), None);

    let made = walk_in("face");
    assert_eq!(store.make_walk_in_case(&desk_1, &made).unwrap(), Pushed::Applied);
    assert_eq!(store.make_walk_in_case(&desk_1, &made).unwrap(), Pushed::AlreadyApplied, "a repeated push");
    assert!(matches!(store.make_walk_in_case(&desk_2, &made), Err(StoreError::Conflict(_))), "another kiosk's id");
    let case = store.get_case(made.case_id).unwrap();
    assert_eq!(
        (case.client_id.as_str(), case.api.as_str(), case.branch.as_deref()),
        (bank.as_str(), "eeid", Some("Tartu"))
    );
    assert_eq!(case.status, CaseStatus::Pending, "made late, it stays open long enough for what was recorded");
    assert!(case.expires_at > now());
    assert_eq!(store.case_holder(made.case_id).unwrap().as_deref(), Some(desk_1.as_str()));
    match store.make_walk_in_case(&desk_1, &walk_in("signing")) {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("\"face\""), "{msg}"),
        other => panic!("a walk-in on another flow was made: {other:?}"),
    }
    store.revoke_client(&bank, "admin:test").unwrap();
    match store.make_walk_in_case(&desk_1, &walk_in("face")) {
        Err(StoreError::Conflict(msg)) => assert!(msg.contains("revoked"), "{msg}"),
        other => panic!("a walk-in was made for a revoked client: {other:?}"),
    }
    assert_eq!(store.make_walk_in_case(&desk_1, &made).unwrap(), Pushed::AlreadyApplied, "made before: still done");
    let actions: Vec<String> =
        store.audit_events(vouch_store::audit::CLIENTS_CHAIN).unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.iter().any(|a| a == "kiosk_walk_ins_set"), "{actions:?}");
}

fn paired_kiosk(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    let pairing = Pairing {
        url: "https://central.example".into(),
        client_id: "vouch-kiosk-1".into(),
        client_secret: "s".repeat(43),
        kiosk_id: "vouch-kiosk-1".into(),
        name: "Desk 1".into(),
        branch: Some("Tartu".into()),
        fingerprint: None,
    };
    store.link_central(&pairing, "admin:kiosk").unwrap();
    store
}

#[test]
fn a_walk_in_started_at_a_kiosk_stays_until_the_central_made_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = paired_kiosk(dir.path());
    let ttl = time::Duration::days(1);
    assert!(matches!(store.open_walk_in_case(ttl, "clerk:Maria"), Err(StoreError::Conflict(_))), "no walk-in flow");
    let flow = vouch_core::flow::FlowVersion {
        id: "face".into(),
        version: 4,
        name: "Face at the desk".into(),
        steps: vec![Step::Selfie {}, Step::Result {}],
        created_at: now(),
        created_by: "admin:central".into(),
    };
    store.keep_walk_in_flow(Some(&flow)).unwrap();
    store.keep_walk_in_flow(Some(&flow)).unwrap();
    assert_eq!(store.walk_in_flow().unwrap().unwrap().id, "central/face");
    assert_eq!(store.central_status().unwrap().walk_in_flow.as_deref(), Some("Face at the desk"));

    let case = store.open_walk_in_case(ttl, "clerk:Maria").unwrap();
    assert_eq!(case.flow, Some(FlowRef { id: "central/face".into(), version: 4 }));
    assert_eq!(case.branch.as_deref(), Some("Tartu"));
    let unmade = store.unmade_walk_in(case.id).unwrap().unwrap();
    assert_eq!(unmade.flow, FlowRef { id: "face".into(), version: 4 }, "the central's own flow id");
    assert_eq!(store.withdraw_unoffered_cases(&[]).unwrap(), 0, "a listing without it does not withdraw it");
    assert_eq!(store.get_case(case.id).unwrap().status, CaseStatus::Pending);
    store.note_central_claim(case.id).unwrap();
    assert_eq!(store.unmade_walk_in(case.id).unwrap(), None, "made at the central");

    let idle = store.open_walk_in_case(ttl, "clerk:Maria").unwrap();
    store.keep_walk_in_flow(None).unwrap();
    assert!(store.walk_in_flow().unwrap().is_none());
    assert!(matches!(store.open_walk_in_case(ttl, "clerk:Maria"), Err(StoreError::Conflict(_))), "stopped");
    // Unpairing is refused while the kiosk holds an open case there, and withdraws a walk-in nobody ran.
    assert!(store.unlink_central("admin:kiosk").is_err());
    let mut closed = store.get_case(case.id).unwrap();
    let previous = closed.status;
    let reason = "left the desk".to_string();
    let decision =
        Decision { outcome: Outcome::Rejected, actor: "clerk:Maria".into(), reason, decided_at: now(), identity: None };
    closed.decide(decision).unwrap();
    store.record_decision(&closed, previous, &[], &[], &[]).unwrap();
    for item in store.central_outbox(50).unwrap() {
        store.ack_central_item(item.seq).unwrap();
    }
    store.unlink_central("admin:kiosk").unwrap();
    assert_eq!(store.get_case(idle.id).unwrap().status, CaseStatus::Cancelled);
}
