//! A kiosk's side of the sync in its store: a case pulled from the central is kept once, what is recorded on it goes
//! to the outbox in the same transaction (a local case's does not), items come out in order, and retention keeps a
//! case's evidence until the central acknowledged every item of it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::claims::validate_claims;
use vouch_core::flow::{FlowRef, FlowVersion, Step, StepKind, StepOutcome};
use vouch_core::{Case, CaseId, Decision, EvidenceKind, Outcome};
use vouch_store::central::{OutboxBody, Pairing, PulledCase};
use vouch_store::flows::{Capture, NewStep};
use vouch_store::{now, Store};

fn pulled_case(flow_id: &str) -> PulledCase {
    let at = now();
    let case = Case {
        reference: Some("at-the-central".into()),
        claims: validate_claims(&[("sub".into(), "EE30303039914".into())]).unwrap(),
        reason: Some("account opening".into()),
        flow: Some(FlowRef { id: flow_id.into(), version: 3 }),
        ..Case::pending("the central's integrator", "eeid", at, at + time::Duration::days(7))
    };
    let flow = FlowVersion {
        id: flow_id.into(),
        version: 3,
        name: "Selfie at a desk".into(),
        steps: vec![Step::Selfie {}, Step::Result {}],
        created_at: at,
        created_by: "admin:central".into(),
    };
    PulledCase { case, code: "ABCD-EFGH".into(), flow, steps: Vec::new(), reference_photo: None, signing: None }
}

fn paired_store(dir: &std::path::Path) -> Store {
    let store = Store::open(dir).unwrap();
    store.blobs().set_fresh_grace(std::time::Duration::ZERO);
    let pairing = Pairing {
        url: "https://central.example".into(),
        client_id: "vouch-kiosk-1".into(),
        client_secret: "s".repeat(43),
        kiosk_id: "vouch-kiosk-1".into(),
        name: "Desk 1".into(),
        branch: None,
        fingerprint: None,
    };
    store.link_central(&pairing, "admin:kiosk").unwrap();
    store
}

fn reject(store: &Store, id: CaseId) {
    let mut case = store.get_case(id).unwrap();
    let previous = case.status;
    case.decide(Decision {
        outcome: Outcome::Rejected,
        actor: "clerk:Maria".into(),
        reason: "left the desk".into(),
        decided_at: now(),
        identity: None,
    })
    .unwrap();
    store.record_decision(&case, previous, &[], &[], &[]).unwrap();
}

#[test]
fn what_is_recorded_on_a_pulled_case_waits_in_order_and_is_kept_until_the_central_has_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = paired_store(dir.path());
    assert_eq!(store.central_secret().unwrap(), "s".repeat(43));
    assert!(store.link_central(&Pairing { url: "https://other".into(), ..paired_pairing() }, "x").is_err(), "once");

    let pulled = pulled_case("demo");
    let id = pulled.case.id;
    assert!(store.keep_pulled_case(&pulled, None, &[]).unwrap());
    assert!(!store.keep_pulled_case(&pulled, None, &[]).unwrap(), "kept once");
    let kept = store.get_case(id).unwrap();
    assert_eq!(kept.flow, Some(FlowRef { id: "central/demo".into(), version: 3 }), "never a local flow");
    assert_eq!(store.case_by_code("ABCDEFGH").unwrap(), id, "opened with the central's code");
    assert_eq!(store.central_case(id).unwrap(), Some(false), "pulled, not claimed");

    let selfie = b"the selfie's bytes".to_vec();
    let step = NewStep {
        case_id: id,
        index: 0,
        kind: StepKind::Selfie,
        outcome: StepOutcome::Passed,
        detail: serde_json::json!({}),
    };
    let capture = Capture { kind: EvidenceKind::Selfie, media_type: "image/jpeg", bytes: &selfie };
    store.record_step_with_captures(step, &[capture], "kiosk").unwrap();
    reject(&store, id);

    let items = store.central_outbox(10).unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i.item_id.as_str()).collect();
    assert_eq!(ids, [format!("{id}-step-0"), format!("{id}-decision")], "in the order recorded");
    let OutboxBody::Step(step) = &items[0].body else { panic!("a step first") };
    assert_eq!(store.blobs().get(&step.captures[0].sha256).unwrap(), selfie);
    let OutboxBody::Decision(decision) = &items[1].body else { panic!("then the decision") };
    assert_eq!((decision.outcome, decision.reason.as_str()), (Outcome::Rejected, "left the desk"));

    // A local case at the same kiosk is not the central's: nothing of it waits.
    let local = pulled_case("local");
    let mut local_case = local.case.clone();
    local_case.id = CaseId::new();
    local_case.flow = None;
    local_case.client_id = store.central_link().unwrap().unwrap().client_id;
    store.insert_case(&local_case, "admin:kiosk").unwrap();
    reject(&store, local_case.id);
    assert_eq!(store.central_outbox(10).unwrap().len(), 2);

    // Retention: the local case goes, the central's stays while anything of it waits, and goes once acknowledged.
    let later = now() + time::Duration::days(400);
    let report = store.purge_evidence(later, 90, "system", false).unwrap();
    assert_eq!(report.cases, 1, "only the local case");
    assert_eq!(store.blobs().get(&step.captures[0].sha256).unwrap(), selfie, "still here to go up");
    store.ack_central_item(items[0].seq).unwrap();
    assert_eq!(store.purge_evidence(later, 90, "system", false).unwrap().cases, 0, "the decision still waits");
    store.ack_central_item(items[1].seq).unwrap();
    assert!(store.central_outbox(10).unwrap().is_empty());
    assert_eq!(store.purge_evidence(later, 90, "system", false).unwrap().cases, 1);
    assert!(store.blobs().get(&step.captures[0].sha256).is_err(), "purged once the central has it");
    assert!(store.verify_audit(None).unwrap().is_intact());
}

fn paired_pairing() -> Pairing {
    Pairing {
        url: "https://central.example".into(),
        client_id: "vouch-kiosk-2".into(),
        client_secret: "t".repeat(43),
        kiosk_id: "vouch-kiosk-2".into(),
        name: "Desk 2".into(),
        branch: None,
        fingerprint: None,
    }
}

#[test]
fn a_refused_case_is_set_aside_and_the_others_still_go() {
    let dir = tempfile::tempdir().unwrap();
    let store = paired_store(dir.path());
    let (first, second) = (pulled_case("demo"), pulled_case("demo"));
    let second = PulledCase { code: "ABCD-EFGJ".into(), ..second };
    for pulled in [&first, &second] {
        store.keep_pulled_case(pulled, None, &[]).unwrap();
        reject(&store, pulled.case.id);
    }
    store.note_central_refusal(first.case.id, "another kiosk holds this case").unwrap();
    let waiting: Vec<CaseId> = store.central_outbox(10).unwrap().iter().map(|i| i.case_id).collect();
    assert_eq!(waiting, [second.case.id]);
    let status = store.central_status().unwrap();
    assert_eq!((status.waiting, status.pulled), (2, 2), "the refused case's item is kept, not sent");
    assert_eq!(status.refused[0].reason, "another kiosk holds this case");
}
