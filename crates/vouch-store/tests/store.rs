#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
//! The store on a real SQLite file in a temporary data directory.

use std::os::unix::fs::PermissionsExt;

use rusqlite::Connection;
use vouch_core::{
    claims::validate_claims, Case, CaseId, CaseStatus, Decision, EvidenceKind, Outcome, Scope, VerifiedIdentity,
};
use vouch_store::cases::NewEvidence;
use vouch_store::clients::{AuthFailure, NewClient};
use vouch_store::outbox::{AttemptResult, DeliveryStatus, NewDelivery};
use vouch_store::{now, Store, StoreError, DB_FILE};

/// Tests purge what they stored a moment ago, so the grace that keeps a just-stored blob is off here
/// (`a_blob_being_named_is_not_deleted_under_it` checks it).
fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    store.blobs().set_fresh_grace(std::time::Duration::ZERO);
    (dir, store)
}

fn integrator(store: &Store) -> (String, String) {
    let created = store
        .create_client(
            &NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None },
            "test",
        )
        .unwrap();
    (created.client.id, created.secret)
}

fn new_case(client_id: &str, reference: Option<&str>) -> Case {
    let at = now();
    Case {
        reference: reference.map(Into::into),
        claims: validate_claims(&[("sub".into(), "EE30303039914".into())]).unwrap(),
        reason: Some("account opening".into()),
        ..Case::pending(client_id, "eeid", at, at + time::Duration::days(7))
    }
}

fn approve(case: &mut Case) {
    case.decide(Decision {
        outcome: Outcome::Approved,
        actor: "admin:test".into(),
        reason: "checked".into(),
        decided_at: now(),
        identity: Some(VerifiedIdentity {
            sub: Some("EE30303039914".into()),
            given_name: "OK".into(),
            family_name: "TESTNUMBER".into(),
            date_of_birth: None,
            country: Some("EE".into()),
            document_expires: None,
            authentication_type: "PASSPORT".into(),
            acr: "high".into(),
        }),
    })
    .unwrap();
}

#[test]
fn opens_with_wal_a_private_key_and_reopens_idempotently() {
    let (dir, store) = open();
    let data = dir.path().join("data");
    let mode = std::fs::metadata(data.join("data.key")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&data).unwrap().permissions().mode() & 0o777, 0o700);
    let conn = Connection::open(data.join(DB_FILE)).unwrap();
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(journal, "wal");
    let version = store.schema_version().unwrap();
    drop(store);
    let again = Store::open(&data).unwrap();
    assert_eq!(again.schema_version().unwrap(), version);
}

#[test]
fn refuses_a_key_file_others_can_read() {
    let (dir, store) = open();
    drop(store);
    let key = dir.path().join("data/data.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Store::open(&dir.path().join("data")).unwrap_err();
    assert!(matches!(err, StoreError::Insecure(_)), "{err}");
}

#[test]
fn client_secrets_authenticate_and_revocation_kills_tokens() {
    let (_dir, store) = open();
    let (id, secret) = integrator(&store);
    assert!(store.authenticate_client(&id, &secret).unwrap().is_ok());
    assert_eq!(store.authenticate_client(&id, "nope").unwrap().unwrap_err(), AuthFailure::WrongSecret);
    assert_eq!(store.authenticate_client("ghost", &secret).unwrap().unwrap_err(), AuthFailure::UnknownClient);

    let token = store.issue_token(&id, 60, None).unwrap();
    assert_eq!(store.client_for_token(&token.token, "eeid").unwrap().map(|c| c.id), Some(id.clone()));
    assert!(store.client_for_token("not-a-token", "eeid").unwrap().is_none());

    store.revoke_client(&id, "test").unwrap();
    assert!(store.client_for_token(&token.token, "eeid").unwrap().is_none());
    assert_eq!(store.authenticate_client(&id, &secret).unwrap().unwrap_err(), AuthFailure::Revoked);
    assert!(matches!(store.revoke_client(&id, "test"), Err(StoreError::Conflict(_))));

    // The secret is stored hashed and sealed, never in clear.
    let db = std::fs::read(store.data_dir().join(DB_FILE)).unwrap_or_default();
    let wal = std::fs::read(store.data_dir().join(format!("{DB_FILE}-wal"))).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
    assert_eq!(store.client_signing_secret(&id).unwrap(), secret.as_bytes());
}

#[test]
fn expired_tokens_do_not_resolve() {
    let (dir, store) = open();
    let (id, _) = integrator(&store);
    let _ = &dir;
    let token = store.issue_token(&id, 0, None).unwrap();
    assert!(store.client_for_token(&token.token, "eeid").unwrap().is_none());
    // Rotating the secret ends tokens that have not expired.
    let live = store.issue_token(&id, 60, None).unwrap();
    assert!(store.client_for_token(&live.token, "eeid").unwrap().is_some());
    store.rotate_client_secret(&id, "test").unwrap();
    assert!(store.client_for_token(&live.token, "eeid").unwrap().is_none());
    assert!(store.client_for_token(&store.issue_token(&id, 60, None).unwrap().token, "eeid").unwrap().is_some());
}

#[test]
fn references_are_unique_per_client() {
    let (_dir, store) = open();
    let (id, _) = integrator(&store);
    store.insert_case(&new_case(&id, Some("r-1")), "client").unwrap();
    let err = store.insert_case(&new_case(&id, Some("r-1")), "client").unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    store.insert_case(&new_case(&id, None), "client").unwrap();
    store.insert_case(&new_case(&id, None), "client").unwrap();
    assert_eq!(store.list_cases(&id, "eeid", 0, 10).unwrap().1, 3);
}

#[test]
fn a_decision_writes_status_evidence_audit_and_delivery_together() {
    let (_dir, store) = open();
    let (id, _) = integrator(&store);
    let mut case = new_case(&id, Some("r"));
    store.insert_case(&case, "client").unwrap();
    approve(&mut case);
    let sha = store.blobs().put(b"decision record").unwrap();
    let evidence =
        [NewEvidence { kind: EvidenceKind::Decision, sha256: sha, media_type: "application/json".into(), size: 15 }];
    let delivery = NewDelivery {
        client_id: id.clone(),
        url: "http://127.0.0.1:9/hook".into(),
        body: b"{}".to_vec(),
        max_attempts: 4,
    };
    store.record_decision(&case, CaseStatus::Pending, &evidence, std::slice::from_ref(&delivery), &[]).unwrap();

    assert_eq!(store.get_case(case.id).unwrap().status, CaseStatus::Completed);
    assert_eq!(store.case_evidence(case.id).unwrap().len(), 1);
    assert_eq!(store.outbox_backlog().unwrap(), 1);
    let actions: Vec<String> =
        store.audit_events(&case.id.to_string()).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["case_created", "case_decided"]);

    // Deciding again from a stale status is a conflict and writes nothing.
    let err =
        store.record_decision(&case, CaseStatus::Pending, &evidence, std::slice::from_ref(&delivery), &[]).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)));
    assert_eq!(store.case_evidence(case.id).unwrap().len(), 1);
    assert_eq!(store.outbox_backlog().unwrap(), 1);
    assert_eq!(store.audit_events(&case.id.to_string()).unwrap().len(), 2);
}

#[test]
fn a_failed_write_rolls_back_the_whole_decision() {
    let (dir, store) = open();
    let (id, _) = integrator(&store);
    let mut case = new_case(&id, None);
    store.insert_case(&case, "client").unwrap();
    approve(&mut case);
    // Make the outbox insert fail inside the transaction: the case update before it must roll back.
    let conn = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER refuse BEFORE INSERT ON webhook_deliveries BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
    )
    .unwrap();
    let delivery = NewDelivery { client_id: id, url: "http://127.0.0.1:9/".into(), body: vec![], max_attempts: 4 };
    assert!(store.record_decision(&case, CaseStatus::Pending, &[], std::slice::from_ref(&delivery), &[]).is_err());
    let stored = store.get_case(case.id).unwrap();
    assert_eq!(stored.status, CaseStatus::Pending);
    assert!(stored.decision.is_none());
    assert_eq!(store.audit_events(&case.id.to_string()).unwrap().len(), 1);
    assert!(store.verify_audit(None).unwrap().is_intact());
}

#[test]
fn expiry_moves_only_due_open_cases() {
    let (_dir, store) = open();
    let (id, _) = integrator(&store);
    let due = new_case(&id, Some("due"));
    let mut later = new_case(&id, Some("later"));
    later.expires_at += time::Duration::days(1);
    store.insert_case(&due, "client").unwrap();
    store.insert_case(&later, "client").unwrap();
    assert_eq!(store.expire_due_cases(due.expires_at).unwrap(), 1);
    assert_eq!(store.get_case(due.id).unwrap().status, CaseStatus::Expired);
    assert_eq!(store.get_case(later.id).unwrap().status, CaseStatus::Pending);
    assert_eq!(store.expire_due_cases(due.expires_at).unwrap(), 0);
}

#[test]
fn audit_verification_detects_an_edited_a_deleted_and_a_truncated_event() {
    let (dir, store) = open();
    let (id, _) = integrator(&store);
    let mut case = new_case(&id, None);
    store.insert_case(&case, "client").unwrap();
    approve(&mut case);
    store.record_decision(&case, CaseStatus::Pending, &[], &[], &[]).unwrap();
    let report = store.verify_audit(None).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events, 3, "client_created + case_created + case_decided");

    let conn = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let chain = case.id.to_string();

    // An edit to one row's content.
    conn.execute("UPDATE audit_events SET actor = 'admin:mallory' WHERE chain = ?1 AND seq = 2", [&chain]).unwrap();
    let report = store.verify_audit(None).unwrap();
    assert_eq!(report.breaks.len(), 1);
    assert_eq!(report.breaks[0].chain, chain);
    assert_eq!(report.breaks[0].seq, 2);
    conn.execute("UPDATE audit_events SET actor = 'admin:test' WHERE chain = ?1 AND seq = 2", [&chain]).unwrap();
    assert!(store.verify_audit(None).unwrap().is_intact());

    // Removing the newest event, even with a consistent prefix left behind.
    conn.execute("DELETE FROM audit_events WHERE chain = ?1 AND seq = 2", [&chain]).unwrap();
    let report = store.verify_audit(Some(&chain)).unwrap();
    assert!(!report.is_intact());
    assert!(report.breaks[0].problem.contains("removed"), "{:?}", report.breaks);
}

#[test]
fn outbox_retries_until_success_or_exhaustion_and_logs_each_attempt() {
    let (_dir, store) = open();
    let (id, _) = integrator(&store);
    let mut case = new_case(&id, None);
    store.insert_case(&case, "client").unwrap();
    approve(&mut case);
    let delivery =
        NewDelivery { client_id: id, url: "http://127.0.0.1:9/".into(), body: b"{}".to_vec(), max_attempts: 2 };
    store.record_decision(&case, CaseStatus::Pending, &[], std::slice::from_ref(&delivery), &[]).unwrap();
    let lease = std::time::Duration::from_secs(60);
    let due = store.claim_due_deliveries(now(), 10, lease).unwrap();
    assert_eq!(due.len(), 1);
    assert!(
        store.claim_due_deliveries(now(), 10, lease).unwrap().is_empty(),
        "a claimed delivery is not handed out twice"
    );
    let after_lease = now() + time::Duration::seconds(61);
    let due = store.claim_due_deliveries(after_lease, 10, lease).unwrap();
    assert_eq!(due.len(), 1, "a dispatcher that died with it leaves it due again once its lease ends");
    let fail = AttemptResult {
        at: now(),
        http_status: Some(500),
        error: Some("HTTP 500".into()),
        duration_ms: 3,
        success: false,
    };
    let later = now() + time::Duration::hours(1);
    let d = store.record_attempt(due[0].id, &fail, later).unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 1));
    assert!(store.claim_due_deliveries(now(), 10, lease).unwrap().is_empty(), "not due before its backoff");
    let d = store.record_attempt(d.id, &fail, later).unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Failed, 2));
    assert_eq!(store.failed_deliveries().unwrap(), 1);
    assert!(store.record_attempt(d.id, &fail, later).is_err(), "a failed delivery takes no more attempts");

    let d = store.retry_delivery(d.id, 1).unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    let ok = AttemptResult { at: now(), http_status: Some(204), error: None, duration_ms: 2, success: true };
    let d = store.record_attempt(d.id, &ok, later).unwrap();
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Delivered, 3));
    let log = store.delivery_attempts(d.id).unwrap();
    assert_eq!(log.iter().map(|a| a.success).collect::<Vec<_>>(), [false, false, true]);
    assert_eq!(store.outbox_backlog().unwrap(), 0);
}

mod flows {
    use super::*;
    use vouch_core::flow::{FlowRef, Next, Step, StepKind, StepOutcome};
    use vouch_store::flows::NewStep;

    fn steps_with_review() -> Vec<Step> {
        vec![
            Step::ClerkReview {},
            Step::Consent { text: [("en".to_string(), "ok".to_string())].into() },
            Step::Result {},
        ]
    }

    #[test]
    fn the_demo_flow_is_created_once_and_is_the_default() {
        let (_dir, store) = open();
        store.ensure_demo_flow().unwrap();
        store.ensure_demo_flow().unwrap();
        assert_eq!(store.list_flows().unwrap().len(), 1);
        assert_eq!(store.default_flow_id().unwrap().as_deref(), Some("demo"));
        assert!(store.verify_audit(Some("settings")).unwrap().is_intact());
    }

    #[test]
    fn versions_are_immutable_and_invalid_flows_refused() {
        let (_dir, store) = open();
        let v1 = store.save_flow("kyc", "KYC", &steps_with_review(), "admin:a", true).unwrap();
        let v2 = store.save_flow("kyc", "KYC v2", &[Step::Result {}], "admin:a", false).unwrap();
        assert_eq!((v1.version, v2.version), (1, 2));
        assert_eq!(store.flow_version("kyc", 1).unwrap().steps.len(), 3);
        assert_eq!(store.latest_flow("kyc").unwrap().name, "KYC v2");
        assert!(matches!(store.save_flow("kyc", "x", &[Step::Result {}], "a", true), Err(StoreError::Conflict(_))));
        assert!(matches!(store.save_flow("new", "x", &[Step::Result {}], "a", false), Err(StoreError::NotFound)));
        let err = store.save_flow("sign", "x", &[Step::Result {}, Step::Signature {}], "a", true).unwrap_err();
        assert!(err.to_string().contains("result step must be the last"), "{err}");
        assert_eq!(store.list_flows().unwrap().len(), 1);
        store.save_flow("sign", "x", &[Step::Signature {}, Step::Result {}], "a", true).unwrap();
    }

    #[test]
    fn steps_are_recorded_in_order_and_a_reopened_store_resumes() {
        let (dir, store) = open();
        store.save_flow("kyc", "KYC", &steps_with_review(), "admin:a", true).unwrap();
        let (id, _) = integrator(&store);
        let mut case = new_case(&id, None);
        case.flow = Some(FlowRef { id: "kyc".into(), version: 1 });
        store.insert_case(&case, "client").unwrap();

        let step =
            |index, kind, detail| NewStep { case_id: case.id, index, kind, outcome: StepOutcome::Passed, detail };
        let err = store.record_step(step(1, StepKind::Consent, serde_json::Value::Null), "k");
        assert!(matches!(err, Err(StoreError::Conflict(_))), "not the expected step");
        store.record_step(step(0, StepKind::ClerkReview, serde_json::json!({"clerk": "ann"})), "clerk:ann").unwrap();
        assert_eq!(store.get_case(case.id).unwrap().status, CaseStatus::InProgress);
        assert_eq!(store.case_evidence(case.id).unwrap()[0].kind, EvidenceKind::StepOutcome);

        // The process restarts: a new Store on the same directory continues where the case stopped.
        drop(store);
        let store = Store::open(&dir.path().join("data")).unwrap();
        let flow = store.flow_version("kyc", 1).unwrap();
        let records = store.case_steps(case.id).unwrap();
        assert!(matches!(vouch_core::flow::next_step(&flow.steps, &records), Next::Step { index: 1, .. }));
        store.record_step(step(1, StepKind::Consent, serde_json::Value::Null), "kiosk").unwrap();
        let records = store.case_steps(case.id).unwrap();
        assert_eq!(vouch_core::flow::next_step(&flow.steps, &records), Next::AwaitingDecision { all_passed: true });
        let actions: Vec<String> =
            store.audit_events(&case.id.to_string()).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["case_created", "case_started", "step_recorded", "step_recorded"]);
        assert!(store.verify_audit(None).unwrap().is_intact());
    }
}

#[test]
fn liveness_frames_keep_their_order_and_go_with_the_customer() {
    use vouch_store::liveness::{NewFrame, NewRecord, MAX_FRAMES};
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    store.create_customer(&client, "cust-1").unwrap();
    // No liveness yet: frames are refused, nothing is written.
    let frame = |id: &'static str, assertion: &'static str, image: &'static [u8]| NewFrame {
        id,
        assertion,
        image,
        detection: None,
        is_record_selfie: false,
    };
    assert!(matches!(
        store.add_liveness_frames(&client, "cust-1", None, &[frame("f0", "NONE", b"img-0")]),
        Err(StoreError::NotFound)
    ));
    store.create_liveness(&client, "cust-1").unwrap();
    store.create_liveness(&client, "cust-1").unwrap();
    store.add_liveness_frames(&client, "cust-1", None, &[frame("f1", "NONE", b"img-1")]).unwrap();
    store.set_liveness_challenge(&client, "cust-1", r#"["TOP_LEFT","BOTTOM_RIGHT"]"#).unwrap();
    store
        .add_liveness_frames(
            &client,
            "cust-1",
            Some(NewRecord { id: "r1", liveness_type: "EYE_GAZE_LIVENESS" }),
            &[frame("f2", "EYE_GAZE_TOP_LEFT", b"img-2"), frame("f3", "EYE_GAZE_BOTTOM_RIGHT", b"img-3")],
        )
        .unwrap();
    // The record consumed its challenge.
    assert_eq!(store.liveness_challenge(&client, "cust-1").unwrap(), None);
    let frames = store.liveness_frames(&client, "cust-1").unwrap();
    let order: Vec<_> = frames.iter().map(|f| (f.id.as_str(), f.record_id.as_deref())).collect();
    assert_eq!(order, [("f1", None), ("f2", Some("r1")), ("f3", Some("r1"))]);
    // Another client sees nothing.
    let (other, _) = integrator(&store);
    assert!(matches!(store.liveness_frames(&other, "cust-1"), Err(StoreError::NotFound)));

    // Too many frames at once: refused whole.
    let many: Vec<NewFrame<'_>> = (0..MAX_FRAMES).map(|_| frame("x", "NONE", b"img-x")).collect();
    assert!(matches!(store.add_liveness_frames(&client, "cust-1", None, &many), Err(StoreError::Invalid(_))));
    assert_eq!(store.liveness_frames(&client, "cust-1").unwrap().len(), 3);

    // Deleting the customer removes its frames and their blobs.
    let shas: Vec<String> = frames.iter().map(|f| f.image_sha256.clone()).collect();
    store.delete_customer(&client, "cust-1").unwrap();
    for sha in shas {
        assert!(store.blobs().get(&sha).is_err(), "blob {sha} outlived its frame");
    }
    assert!(matches!(store.liveness_frames(&client, "cust-1"), Err(StoreError::NotFound)));
}

#[test]
fn chip_data_replaces_uses_the_challenge_and_goes_with_the_customer() {
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    store.create_customer(&client, "cust").unwrap();
    assert!(!store.has_document(&client, "cust").unwrap());
    assert!(store.set_chip_challenge(&client, "nobody", &[1]).is_err(), "an unknown customer gets no document");
    store.set_chip_challenge(&client, "cust", &[1, 2, 3]).unwrap();
    assert_eq!(store.chip_challenge(&client, "cust").unwrap(), Some(vec![1, 2, 3]));
    store.set_chip_data(&client, "cust", b"first", "{}").unwrap();
    assert_eq!(store.chip_challenge(&client, "cust").unwrap(), None, "a challenge is used once");
    store.set_chip_data(&client, "cust", b"second", "{\"a\":1}").unwrap();
    let record = store.chip_record(&client, "cust").unwrap().unwrap();
    assert_eq!((record.data.as_slice(), record.inspection.as_str()), (&b"second"[..], "{\"a\":1}"));
    let first = vouch_store::blobs::sha256_hex(b"first");
    assert!(store.blobs().get(&first).is_err(), "the replaced chip data is deleted");
    let second = vouch_store::blobs::sha256_hex(b"second");
    assert!(std::fs::read(store.blobs().raw_path(&second).unwrap()).unwrap().windows(6).all(|w| w != b"second"));
    store.delete_customer(&client, "cust").unwrap();
    assert!(store.blobs().get(&second).is_err(), "the chip data goes with the customer");
    assert!(store.chip_record(&client, "cust").is_err());
}

#[test]
fn pages_need_a_document_replace_by_type_and_go_with_the_document() {
    use vouch_store::documents::NewPage;
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    store.create_customer(&client, "cust").unwrap();
    let page = |page_type: &'static str, image: &'static [u8]| NewPage {
        page_type,
        document_type: "passport",
        mrz_format: Some("TD3"),
        image,
        portrait: Some(b"portrait"),
        reading: b"{\"mrz\":\"P<UTO\"}",
    };
    assert!(matches!(store.put_page(&client, "cust", page("front", b"a")), Err(StoreError::NotFound)));
    store.create_document(&client, "cust", "{\"sources\":[\"MRZ\"]}").unwrap();
    assert_eq!(store.document_request(&client, "cust").unwrap().as_deref(), Some("{\"sources\":[\"MRZ\"]}"));
    store.put_page(&client, "cust", page("front", b"first front")).unwrap();
    store.put_page(&client, "cust", page("front", b"second front")).unwrap();
    store.put_page(&client, "cust", page("back", b"back")).unwrap();
    let pages = store.pages(&client, "cust").unwrap();
    assert_eq!(pages.iter().map(|p| p.page_type.as_str()).collect::<Vec<_>>(), ["front", "back"]);
    assert!(store.blobs().get(&vouch_store::blobs::sha256_hex(b"first front")).is_err(), "the replaced page is gone");
    assert_eq!(store.blobs().get(&pages[0].image_sha256).unwrap(), b"second front");
    // The reading holds the MRZ: encrypted at rest like every blob.
    let raw = std::fs::read(store.blobs().raw_path(&pages[0].reading_sha256).unwrap()).unwrap();
    assert!(raw.windows(5).all(|w| w != b"P<UTO"));
    // Another client sees nothing.
    let (other, _) = integrator(&store);
    assert!(store.pages(&other, "cust").is_err());
    // A new document starts without pages; deleting it removes every blob.
    store.create_document(&client, "cust", "{}").unwrap();
    assert!(store.pages(&client, "cust").unwrap().is_empty());
    assert!(store.blobs().get(&pages[1].image_sha256).is_err());
    store.put_page(&client, "cust", page("front", b"third")).unwrap();
    let sha = store.pages(&client, "cust").unwrap()[0].image_sha256.clone();
    store.delete_document(&client, "cust").unwrap();
    assert!(store.blobs().get(&sha).is_err());
    assert!(store.pages(&client, "cust").unwrap().is_empty());
}

#[test]
fn retention_erases_signers_then_their_documents_and_old_dis_data_keeping_shared_blobs() {
    use vouch_store::faces::NewFace;
    use vouch_store::signing::{NewSignProcess, NewSigner, SignMethod};
    let (dir, store) = open();
    let (client, _) = integrator(&store);
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let days_ago = |d: i64| vouch_store::to_ms(now() - time::Duration::days(d));
    let cutoff = now() - time::Duration::days(30);
    let signer = |case: &Case, name: &str| NewSigner {
        case: case.clone(),
        name: name.into(),
        email: Some(format!("{name}@example.com")),
        nif: Some("12345678Z".into()),
        method: SignMethod::Biometric,
    };
    let (first, second) = (new_case(&client, Some("s1")), new_case(&client, Some("s2")));
    let process = NewSignProcess { id: "proc-1", client_id: &client, api: "masstack", org_id: Some("org") };
    let pdf: &[u8] = b"%PDF-1.7 contract";
    store
        .create_sign_process(
            &process,
            &[("contract.pdf".into(), pdf)],
            &[signer(&first, "ana"), signer(&second, "luis")],
            "test",
        )
        .unwrap();
    let pdf_sha = vouch_store::blobs::sha256_hex(pdf);
    // DIS: an old customer with a selfie, a new one, an old stand-alone face whose image is the same bytes as the
    // contract (content addressing shares the file), and a new stand-alone face.
    for (customer, face) in [("old-cust", "old-selfie"), ("new-cust", "new-selfie")] {
        store.create_customer(&client, customer).unwrap();
        let nf = NewFace { id: face, client_id: &client, image: face.as_bytes(), template: b"t1", detection: "{}" };
        store.set_customer_selfie(&client, customer, nf).unwrap();
    }
    for (face, image) in [("old-face", pdf), ("new-face", &b"fresh"[..])] {
        store.insert_face(NewFace { id: face, client_id: &client, image, template: b"t2", detection: "{}" }).unwrap();
    }
    db.execute("UPDATE dis_customers SET created_at = ?1 WHERE id = 'old-cust'", [days_ago(40)]).unwrap();
    db.execute("UPDATE dis_faces SET created_at = ?1 WHERE id IN ('old-selfie', 'old-face')", [days_ago(40)]).unwrap();
    db.execute("UPDATE sign_processes SET created_at = ?1", [days_ago(50)]).unwrap();
    // The first signer's case closed 40 days ago; the second signer is still signing.
    db.execute("UPDATE cases SET status = 'completed', updated_at = ?1 WHERE reference = 's1'", [days_ago(40)])
        .unwrap();
    let announced = "INSERT INTO webhook_deliveries (case_id, client_id, url, body, status, attempts, max_attempts, next_attempt_at, created_at)
                     VALUES (?1, ?2, 'http://x', CAST('{\"given_name\":\"Ana\"}' AS BLOB), 'delivered', 1, 4, 0, 0)";
    for case in [&first, &second] {
        db.execute(announced, rusqlite::params![case.id.to_string(), client]).unwrap();
    }

    let report = store.purge_evidence(cutoff, 30, "test", false).unwrap();
    assert_eq!((report.cases, report.signers, report.sign_processes), (1, 1, 0), "{report:?}");
    assert_eq!((report.dis_customers, report.dis_faces), (1, 1), "{report:?}");
    let bodies: Vec<(String, usize)> = db
        .prepare("SELECT case_id, length(body) FROM webhook_deliveries ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(bodies, [(first.id.to_string(), 0), (second.id.to_string(), 20)], "a purged case's webhook is emptied");
    db.execute("UPDATE webhook_deliveries SET status = 'failed'", []).unwrap();
    let ids: Vec<i64> = db
        .prepare("SELECT id FROM webhook_deliveries ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(matches!(store.retry_delivery(ids[0], 3), Err(StoreError::Conflict(_))), "nothing left to send");
    assert!(store.retry_delivery(ids[1], 3).is_ok());
    let ana = store.signer(first.id).unwrap().unwrap();
    assert_eq!((ana.name.as_str(), ana.email, ana.nif), ("", None, None), "the purged signer's details are erased");
    assert_eq!(store.signer(second.id).unwrap().unwrap().name, "luis", "an open case keeps its signer");
    assert_eq!(store.blobs().get(&pdf_sha).unwrap(), pdf, "the contract stays while a signer is still signing");
    assert!(store.sign_process("proc-1").unwrap().documents[0].purged_at.is_none());
    assert!(store.customer(&client, "old-cust").is_err() && store.face(&client, "old-face").is_err());
    assert!(store.face(&client, "old-selfie").is_err(), "the old customer's selfie went with it");
    assert!(store.blobs().get(&vouch_store::blobs::sha256_hex(b"old-selfie")).is_err());
    assert!(store.customer(&client, "new-cust").is_ok() && store.face(&client, "new-face").is_ok());
    assert!(store.face(&client, "new-selfie").is_ok());

    // Once the last signer's case is closed and old, the process's documents go too.
    db.execute("UPDATE cases SET status = 'cancelled', updated_at = ?1 WHERE reference = 's2'", [days_ago(35)])
        .unwrap();
    let report = store.purge_evidence(cutoff, 30, "test", false).unwrap();
    assert_eq!((report.cases, report.signers, report.sign_processes, report.sign_documents), (1, 1, 1, 1));
    assert!(store.blobs().get(&pdf_sha).is_err(), "the contract is deleted");
    let purged = store.sign_process("proc-1").unwrap();
    assert!(purged.documents[0].purged_at.is_some());
    assert_eq!(purged.documents[0].original_sha256, pdf_sha, "the row and its hash stay for the audit trail");
    let audit = store.audit_events(&first.id.to_string()).unwrap();
    assert_eq!(audit.last().unwrap().action, "evidence_purged");
    assert!(audit.last().unwrap().detail["personal_data"].as_str().unwrap().contains("NIF"));
    let runs: Vec<_> =
        store.audit_events("settings").unwrap().into_iter().filter(|e| e.action == "retention_purge").collect();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1].detail["sign_documents"], 1);

    // Nothing is left to purge, and a timer run that finds nothing is not audited.
    assert_eq!(store.purge_evidence(cutoff, 30, "test", false).unwrap(), Default::default());
    assert_eq!(store.audit_events("settings").unwrap().iter().filter(|e| e.action == "retention_purge").count(), 2);
    assert!(store.verify_audit(None).unwrap().is_intact());
}

/// More cases than one batch: every one is purged, in batches whose transactions leave the store to other callers
/// in between, and the run is audited once.
#[test]
fn retention_purges_in_batches_until_nothing_is_due() {
    let (dir, store) = open();
    let (client, _) = integrator(&store);
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let due = 2 * vouch_store::retention::PURGE_BATCH + 7;
    for i in 0..due {
        store.insert_case(&new_case(&client, Some(&format!("r{i}"))), "client").unwrap();
    }
    let kept = new_case(&client, Some("open"));
    store.insert_case(&kept, "client").unwrap();
    let long_ago = vouch_store::to_ms(now() - time::Duration::days(40));
    db.execute("UPDATE cases SET status = 'completed', updated_at = ?1 WHERE reference LIKE 'r%'", [long_ago]).unwrap();
    let report = store.purge_evidence(now() - time::Duration::days(30), 30, "test", false).unwrap();
    assert_eq!(report.cases, due, "{report:?}");
    let left: i64 = db
        .query_row("SELECT count(*) FROM cases WHERE reference LIKE 'r%' AND purged_at IS NULL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    let open_purged: Option<i64> =
        db.query_row("SELECT purged_at FROM cases WHERE reference = 'open'", [], |r| r.get(0)).unwrap();
    assert!(open_purged.is_none(), "an open case is not touched");
    let runs = store.audit_events("settings").unwrap().into_iter().filter(|e| e.action == "retention_purge").count();
    assert_eq!(runs, 1, "one run, one run event, however many batches");
    assert!(store.verify_audit(None).unwrap().is_intact());
}

const ADMIN_PIN: &str = "482913";

/// 20 wrong PINs at once: each attempt is counted before it is checked, so only the first MAX_FAILURES
/// are evaluated and the rest are refused as locked without an argon2 verification.
#[test]
fn parallel_wrong_pins_cannot_outrun_the_lockout() {
    let (_dir, store) = open();
    store.set_first_admin_pin(ADMIN_PIN, "test").unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(20));
    let results: Vec<_> = (0..20)
        .map(|i| {
            let (store, barrier) = (store.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                store.check_pin(None, &format!("90{i:04}"))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    let evaluated = results.iter().filter(|r| matches!(r, Ok(None))).count();
    let locked = results.iter().filter(|r| matches!(r, Err(StoreError::Locked { .. }))).count();
    assert_eq!(evaluated + locked, 20, "{results:?}");
    assert!(evaluated <= vouch_store::pins::MAX_FAILURES as usize, "{evaluated} wrong PINs were evaluated");
    assert!(matches!(store.check_pin(None, ADMIN_PIN), Err(StoreError::Locked { .. })), "the right PIN waits too");
    // Someone with the data directory lifts it.
    store.unlock_pins("cli:test").unwrap();
    assert_eq!(store.check_pin(None, ADMIN_PIN).unwrap(), Some(vouch_store::pins::PinHolder::Admin));
}

#[test]
fn a_right_pin_gives_its_reservation_back_and_wrong_pins_decay_after_a_day() {
    let (dir, store) = open();
    store.set_first_admin_pin(ADMIN_PIN, "test").unwrap();
    for _ in 0..4 {
        assert_eq!(store.check_pin(None, "739105").unwrap(), None);
    }
    // A right PIN clears the count: four more wrong ones do not lock.
    assert!(store.check_pin(None, ADMIN_PIN).unwrap().is_some());
    for _ in 0..4 {
        assert_eq!(store.check_pin(None, "739105").unwrap(), None);
    }
    // A day later the four failures are forgotten: four more still do not lock.
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    db.execute("UPDATE pin_attempts SET last_failure_at = last_failure_at - 86400001", []).unwrap();
    for _ in 0..4 {
        assert_eq!(store.check_pin(None, "739105").unwrap(), None);
    }
    assert!(matches!(store.check_pin(None, "739105"), Ok(None)), "the fifth in a row is still checked");
    assert!(matches!(store.check_pin(None, ADMIN_PIN), Err(StoreError::Locked { .. })));
}

/// Guessing spread over many clerk ids runs into one budget for every subject.
#[test]
fn wrong_pins_over_many_subjects_share_one_budget() {
    let (_dir, store) = open();
    store.set_first_admin_pin(ADMIN_PIN, "test").unwrap();
    let budget = vouch_store::pins::GLOBAL_FAILURES_PER_WINDOW;
    for id in 0..budget {
        assert_eq!(store.check_pin(Some(1000 + id), "739105").unwrap(), None, "attempt {id}");
    }
    match store.check_pin(None, ADMIN_PIN) {
        Err(StoreError::Locked { retry_after_secs }) => assert!(retry_after_secs > 0 && retry_after_secs <= 15 * 60),
        other => panic!("expected the global budget to be spent: {other:?}"),
    }
}

#[test]
fn clerk_pins_have_six_digits_and_the_admin_pin_can_be_reset_offline() {
    let (_dir, store) = open();
    assert!(matches!(store.add_clerk("Maria", "5830", "test"), Err(StoreError::Invalid(_))));
    store.add_clerk("Maria", "583016", "test").unwrap();
    store.reset_admin_pin("610274", "cli:test").unwrap();
    assert_eq!(store.check_pin(None, "610274").unwrap(), Some(vouch_store::pins::PinHolder::Admin));
    assert!(matches!(store.reset_admin_pin("123456", "cli:test"), Err(StoreError::Invalid(_))));
}

/// Clients made when secrets were argon2id hashes keep working: at open, each is rewritten as a keyed
/// SHA-256 from its sealed secret.
#[test]
fn argon2_client_secrets_are_upgraded_to_keyed_macs_at_open() {
    let (dir, store) = open();
    let (id, secret) = integrator(&store);
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let legacy = vouch_store::credentials::hash_secret(&secret).unwrap();
    db.execute("UPDATE clients SET secret_hash = ?1 WHERE id = ?2", [&legacy, &id]).unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("data")).unwrap();
    let stored: String = db.query_row("SELECT secret_hash FROM clients WHERE id = ?1", [&id], |r| r.get(0)).unwrap();
    assert!(stored.starts_with("hmac-sha256$"), "{stored}");
    assert!(store.authenticate_client(&id, &secret).unwrap().is_ok());
    assert_eq!(store.authenticate_client(&id, "wrong").unwrap().unwrap_err(), AuthFailure::WrongSecret);
}

#[test]
fn a_vendor_token_works_only_at_its_vendor_and_at_vouchs_own_api() {
    let (_dir, store) = open();
    let (id, _) = integrator(&store);
    let eeid = store.issue_token(&id, 60, Some("eeid")).unwrap().token;
    assert!(store.client_for_token(&eeid, "eeid").unwrap().is_some());
    assert!(store.client_for_token(&eeid, "vouch").unwrap().is_some());
    assert!(store.client_for_token(&eeid, "dis").unwrap().is_none());
    assert!(store.client_for_token(&eeid, "danaconnect").unwrap().is_none());
    let any = store.issue_token(&id, 60, None).unwrap().token;
    assert!(store.client_for_token(&any, "dis").unwrap().is_some());
}

/// The dedup/delete race: bytes stored again for a new row, while retention finds the old copy unnamed, must
/// not be deleted before the new row commits.
#[test]
fn a_blob_being_named_is_not_deleted_under_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    let sha = store.blobs().put(b"a selfie that a new row is about to name").unwrap();
    // Nothing names it yet (the row has not committed): a deletion now is refused.
    assert!(!store.blobs().remove(&sha).unwrap());
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::ZERO).unwrap(), 0);
    assert!(store.blobs().get(&sha).is_ok());
    // Past the grace it goes.
    store.blobs().set_fresh_grace(std::time::Duration::ZERO);
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::ZERO).unwrap(), 1);
    assert!(matches!(store.blobs().get(&sha), Err(StoreError::NotFound)));
}

#[test]
fn temporary_blob_files_left_by_a_crash_are_removed_at_open_and_old_orphans_swept() {
    let (dir, store) = open();
    let orphan = store.blobs().put(b"orphan").unwrap();
    let (client, _) = integrator(&store);
    let case = new_case(&client, None);
    store.insert_case(&case, "test").unwrap();
    let named = store.add_reference_photo(case.id, b"named photo", "image/jpeg", "test").unwrap().sha256;
    let tmp = store.blobs().raw_path(&named).unwrap().parent().unwrap().join(format!(".{named}.dead.tmp"));
    std::fs::write(&tmp, b"half").unwrap();
    drop(store);
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert!(!tmp.exists(), "the crash's temporary file is gone");
    store.blobs().set_fresh_grace(std::time::Duration::ZERO);
    // Young orphans stay; old ones go; named blobs always stay.
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::from_secs(3600)).unwrap(), 0);
    assert_eq!(store.sweep_orphan_blobs(std::time::Duration::ZERO).unwrap(), 1);
    assert!(matches!(store.blobs().get(&orphan), Err(StoreError::NotFound)));
    assert!(store.blobs().get(&named).is_ok());
}

/// Someone who rewrites vouch.db without the data key edits an event and recomputes the chain as plain
/// SHA-256 (the formula the log used to have): the keyed verification still finds it.
#[test]
fn a_rewritten_audit_chain_without_the_key_is_detected() {
    use sha2::{Digest, Sha256};
    let (dir, store) = open();
    let (id, _) = integrator(&store);
    store.revoke_client(&id, "test").unwrap();
    assert!(store.verify_audit(None).unwrap().is_intact());
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let rows: Vec<(i64, i64, String, String, String)> = db
        .prepare("SELECT seq, at, actor, action, detail FROM audit_events WHERE chain = 'clients' ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = vec![0u8; 32];
    for (seq, at, actor, action, detail) in rows {
        let detail = detail.replace("integrator", "admin");
        let mut h = Sha256::new();
        h.update(&prev);
        for f in [
            b"clients".to_vec(),
            seq.to_be_bytes().to_vec(),
            at.to_be_bytes().to_vec(),
            actor.into_bytes(),
            action.into_bytes(),
            detail.clone().into_bytes(),
        ] {
            h.update((f.len() as u64).to_be_bytes());
            h.update(&f);
        }
        let hash = h.finalize().to_vec();
        db.execute(
            "UPDATE audit_events SET detail = ?1, prev_hash = ?2, hash = ?3 WHERE chain = 'clients' AND seq = ?4",
            rusqlite::params![detail, prev, hash, seq],
        )
        .unwrap();
        db.execute("UPDATE audit_heads SET hash = ?1, seq = ?2 WHERE chain = 'clients'", rusqlite::params![hash, seq])
            .unwrap();
        prev = hash;
    }
    let report = store.verify_audit(Some("clients")).unwrap();
    assert!(!report.is_intact(), "a chain recomputed without the key must not verify");
    // Reopening does not launder it: the chains were keyed once, and a broken chain is never re-keyed.
    drop(store);
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert!(!store.verify_audit(Some("clients")).unwrap().is_intact());
}

/// A store whose chains predate the key: at open each intact chain is re-keyed and verifies; one that was
/// already broken is left as it was and still fails.
#[test]
fn legacy_chains_are_rekeyed_once_only_when_intact() {
    let (dir, store) = open();
    let (id, _) = integrator(&store);
    store.revoke_client(&id, "test").unwrap();
    store.set_first_admin_pin("482913", "test").unwrap();
    drop(store);
    // Turn the store back into one from before the key: plain SHA-256 hashes and no mark.
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    for chain in ["clients", "settings"] {
        let rows: Vec<(i64, i64, String, String, String)> = db
            .prepare("SELECT seq, at, actor, action, detail FROM audit_events WHERE chain = ?1 ORDER BY seq")
            .unwrap()
            .query_map([chain], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut prev = vec![0u8; 32];
        for (seq, at, actor, action, detail) in rows {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            h.update(&prev);
            for f in [
                chain.as_bytes().to_vec(),
                seq.to_be_bytes().to_vec(),
                at.to_be_bytes().to_vec(),
                actor.into_bytes(),
                action.into_bytes(),
                detail.into_bytes(),
            ] {
                h.update((f.len() as u64).to_be_bytes());
                h.update(&f);
            }
            let hash = h.finalize().to_vec();
            db.execute(
                "UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE chain = ?3 AND seq = ?4",
                rusqlite::params![prev, hash, chain, seq],
            )
            .unwrap();
            db.execute("UPDATE audit_heads SET hash = ?1 WHERE chain = ?2", rusqlite::params![hash, chain]).unwrap();
            prev = hash;
        }
    }
    // The settings chain was tampered with before the upgrade.
    db.execute("UPDATE audit_events SET actor = 'someone else' WHERE chain = 'settings' AND seq = 1", []).unwrap();
    db.execute("DELETE FROM settings WHERE key = 'audit_chain_keyed'", []).unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    assert!(store.verify_audit(Some("clients")).unwrap().is_intact(), "an intact legacy chain is re-keyed");
    assert!(!store.verify_audit(Some("settings")).unwrap().is_intact(), "a broken one stays broken");
}

#[test]
fn gallery_templates_are_sealed_to_their_row_and_removed_by_subject() {
    let (dir, store) = open();
    let keys = store.add_gallery_templates("branch", "ann", &[b"first".to_vec(), b"second".to_vec()]).unwrap();
    let bob = store.add_gallery_templates("branch", "bob", &[b"bob's".to_vec()]).unwrap();
    store.add_gallery_templates("other", "ann", &[b"elsewhere".to_vec()]).unwrap();
    assert_eq!(store.gallery_template(keys[1]).unwrap().as_deref(), Some(&b"second"[..]));
    assert_eq!(store.gallery_templates().unwrap().len(), 4);

    // A sealed template moved to another row does not open there.
    let db = Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    db.execute(
        "UPDATE gallery_templates SET template = (SELECT template FROM gallery_templates WHERE key = ?1) WHERE key = ?2",
        [bob[0] as i64, keys[0] as i64],
    )
    .unwrap();
    assert!(matches!(store.gallery_template(keys[0]), Err(StoreError::Crypto(_))));

    // Removing from one collection leaves the subject's templates elsewhere.
    assert_eq!(store.remove_gallery_subject(Some("branch"), "ann").unwrap(), keys);
    assert_eq!(store.gallery_template(keys[1]).unwrap(), None);
    let left: Vec<(String, String)> =
        store.gallery_templates().unwrap().into_iter().map(|t| (t.collection, t.subject)).collect();
    assert_eq!(left, [("branch".to_string(), "bob".to_string()), ("other".to_string(), "ann".to_string())]);
    assert_eq!(store.remove_gallery_subject(None, "ann").unwrap().len(), 1);
}

#[test]
fn a_subject_case_is_written_with_its_record_and_webhooks_or_not_at_all() {
    use vouch_store::api_records::RecordKind;
    use vouch_store::case_subjects::{CaseRecord, CaseSubject};
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    let case = new_case(&client, None);
    let subject = CaseSubject {
        collection_id: Some("c1".into()),
        person_id: Some("p1".into()),
        decided_by_steps: true,
        ..CaseSubject::default()
    };
    let body = serde_json::json!({"type": "login"}).as_object().cloned().unwrap();
    let of = RecordKind { api: "verifik", kind: "biometric_validation", client_id: &client };
    let delivery = NewDelivery {
        client_id: client.clone(),
        url: "http://127.0.0.1:9/hook".into(),
        body: b"{}".to_vec(),
        max_attempts: 3,
    };
    let record = || Some(CaseRecord { of, body: &body });
    store.insert_subject_case(&case, "test", &subject, record(), std::slice::from_ref(&delivery), &[]).unwrap();
    assert_eq!(store.case_subject(case.id).unwrap(), Some(subject.clone()));
    assert_eq!(store.api_record(of, &case.id.to_string()).unwrap().body, body);
    assert_eq!(store.case_subject(CaseId::new()).unwrap(), None);

    // The same case again fails on its first row, and nothing of the second try is kept.
    let again = store.insert_subject_case(&case, "test", &subject, record(), std::slice::from_ref(&delivery), &[]);
    assert!(again.is_err());
    let db = Connection::open(store.data_dir().join(DB_FILE)).unwrap();
    let count =
        |table: &str| db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(
        (count("cases"), count("case_subjects"), count("api_records"), count("webhook_deliveries")),
        (1, 1, 1, 1)
    );

    // A case whose record cannot be written (its id is taken) is not written at all: no case, subject or webhook.
    let other = new_case(&client, None);
    db.execute(
        "INSERT INTO api_records (id, api, kind, client_id, body, created_at, updated_at) VALUES (?1, 'x', 'y', 'z', '{}', 0, 0)",
        [other.id.to_string()],
    )
    .unwrap();
    assert!(store
        .insert_subject_case(&other, "test", &subject, record(), std::slice::from_ref(&delivery), &[])
        .is_err());
    assert!(matches!(store.get_case(other.id), Err(StoreError::NotFound)));
    assert_eq!((count("case_subjects"), count("webhook_deliveries")), (1, 1));

    // The person a case onboards is enrolled and named in its subject together, once; for a case without a
    // subject nobody is enrolled.
    use vouch_store::gallery_persons::{EnrolledFace, PersonCreated, PersonFacts};
    let face = EnrolledFace { template: b"template".to_vec(), thumbnail_jpeg: b"jpeg".to_vec() };
    let enrol = |case_id, name: &str| {
        let facts = PersonFacts { name: name.into(), ..PersonFacts::default() };
        store.create_gallery_person_for_case(case_id, &client, &facts, &[], std::slice::from_ref(&face), "test")
    };
    let Ok(PersonCreated::Created(person, _)) = enrol(case.id, "Ann") else { panic!("not enrolled") };
    assert_eq!(store.case_subject(case.id).unwrap().unwrap().enrolled_person_id, Some(person.id.clone()));
    assert!(matches!(enrol(case.id, "Bo"), Err(StoreError::NotFound)));
    assert!(matches!(enrol(other.id, "Cy"), Err(StoreError::NotFound)));
    let every = vouch_store::gallery_persons::PersonQuery { limit: 10, ..Default::default() };
    let (persons, total) = store.gallery_persons(&client, &every).unwrap();
    assert_eq!((persons[0].id.as_str(), total), (person.id.as_str(), 1));
}

#[test]
fn a_decision_sets_fields_on_an_api_record_in_its_transaction_or_is_not_written() {
    use vouch_store::api_records::{RecordKind, RecordWrite};
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    let of = RecordKind { api: "verifik", kind: "app_registration", client_id: &client };
    let body = serde_json::json!({"status": "STARTED", "email": "a@example.com"}).as_object().cloned().unwrap();
    let registration = store.create_api_record(of, None, &body).unwrap();
    let merge = |id: &str| RecordWrite::Merge {
        api: "verifik".into(),
        kind: "app_registration".into(),
        client_id: client.clone(),
        id: id.into(),
        fields: serde_json::json!({"status": "ONGOING", "person": "p1"}).as_object().cloned().unwrap(),
    };

    // A merge that names no record fails the decision, and nothing of it is written.
    let mut case = new_case(&client, None);
    store.insert_case(&case, "client").unwrap();
    approve(&mut case);
    assert!(matches!(
        store.record_decision(&case, CaseStatus::Pending, &[], &[], &[merge("missing")]),
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.get_case(case.id).unwrap().status, CaseStatus::Pending);

    // One that names it sets its fields and keeps the others.
    store.record_decision(&case, CaseStatus::Pending, &[], &[], &[merge(&registration.id)]).unwrap();
    let saved = store.api_record(of, &registration.id).unwrap().body;
    assert_eq!(
        serde_json::Value::Object(saved),
        serde_json::json!({"status": "ONGOING", "email": "a@example.com", "person": "p1"})
    );
}

#[test]
fn a_one_time_code_counts_parallel_tries_and_is_spent_once() {
    use vouch_store::api_records::{RecordKind, RecordWrite};
    use vouch_store::one_time_codes::{CodeRefusal, NewCodeRecord};
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    let of = RecordKind { api: "verifik", kind: "email_validation", client_id: &client };
    let body = serde_json::json!({"status": "new"}).as_object().cloned().unwrap();
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let code = |id: &'static str, code: &'static str, expires_at| NewCodeRecord {
        id,
        body: &body,
        code,
        max_attempts: 3,
        expires_at,
    };
    let record = store.create_code_record(of, &code("code-1", "123456", later), &[]).unwrap();
    let hash: String = Connection::open(store.data_dir().join(DB_FILE))
        .unwrap()
        .query_row("SELECT code_hash FROM one_time_codes WHERE id = ?1", [&record.id], |r| r.get(0))
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains("123456"));

    // Eight tries at once: three are counted, five refused, whatever the interleaving.
    let now = time::OffsetDateTime::now_utc();
    let counted = std::thread::scope(|s| {
        let tries: Vec<_> =
            (0..8).map(|_| s.spawn(|| store.take_code_try(&client, &record.id, now).unwrap())).collect();
        tries.into_iter().map(|t| t.join().unwrap()).collect::<Vec<_>>()
    });
    assert_eq!(counted.iter().filter(|c| c.is_ok()).count(), 3);
    assert!(counted.iter().filter(|c| c.is_err()).all(|c| *c == Err(CodeRefusal::TooManyTries)));
    assert!(vouch_store::credentials::verify_secret("123456", &counted.iter().flatten().next().unwrap().hash));

    // Another code: expired after its time; spent once, the second redemption conflicts; another client's is none.
    let soon = store.create_code_record(of, &code("code-2", "654321", now + time::Duration::seconds(5)), &[]).unwrap();
    let after = now + time::Duration::seconds(6);
    assert_eq!(store.take_code_try(&client, &soon.id, after).unwrap(), Err(CodeRefusal::Expired));
    assert!(store.take_code_try(&client, &soon.id, now).unwrap().is_ok());
    let validated = RecordWrite::Merge {
        api: "verifik".into(),
        kind: "email_validation".into(),
        client_id: client.clone(),
        id: soon.id.clone(),
        fields: serde_json::json!({"status": "validated"}).as_object().cloned().unwrap(),
    };
    store.redeem_code(&client, &soon.id, now, std::slice::from_ref(&validated), &[]).unwrap();
    assert!(matches!(store.redeem_code(&client, &soon.id, now, &[validated], &[]), Err(StoreError::Conflict(_))));
    assert_eq!(store.take_code_try(&client, &soon.id, now).unwrap(), Err(CodeRefusal::Used));
    assert_eq!(store.api_record(of, &soon.id).unwrap().body["status"], "validated");
    assert!(matches!(store.take_code_try("someone-else", &soon.id, now), Err(StoreError::NotFound)));

    // A code renewed while open: the old one no longer matches, the tries made still count. Out of tries, spent
    // or someone else's, it is not renewed.
    let open = store.create_code_record(of, &code("code-3", "111111", later), &[]).unwrap();
    assert!(store.take_code_try(&client, &open.id, now).unwrap().is_ok());
    assert!(store.renew_code(&client, &open.id, "222222", later, &[], &[]).unwrap());
    let counted = store.take_code_try(&client, &open.id, now).unwrap().unwrap();
    assert_eq!(counted.attempts, 2);
    assert!(vouch_store::credentials::verify_secret("222222", &counted.hash));
    assert!(!vouch_store::credentials::verify_secret("111111", &counted.hash));
    assert!(!store.renew_code(&client, &record.id, "333333", later, &[], &[]).unwrap(), "out of tries");
    assert!(!store.renew_code(&client, &soon.id, "333333", later, &[], &[]).unwrap(), "spent");
    assert!(!store.renew_code("someone-else", &open.id, "333333", later, &[], &[]).unwrap());
}

#[test]
fn a_message_is_sealed_at_rest_and_emptied_once_the_relay_has_it() {
    use vouch_store::api_records::RecordKind;
    use vouch_store::one_time_codes::NewCodeRecord;
    use vouch_store::outbox::{AttemptResult, NewDelivery, RecordEvent};
    let (_dir, store) = open();
    let (client, _) = integrator(&store);
    let of = RecordKind { api: "verifik", kind: "email_validation", client_id: &client };
    let body = serde_json::json!({"status": "new"}).as_object().cloned().unwrap();
    let text = br#"{"to":"ana@example.com","code":"424242"}"#.to_vec();
    let delivery = NewDelivery {
        client_id: client.clone(),
        url: "https://relay.example/messages".into(),
        body: text.clone(),
        max_attempts: 2,
    };
    let message = RecordEvent::message("verifik", "code-9", delivery.clone());
    let event = RecordEvent::event("verifik", "code-9", NewDelivery { body: b"{\"event\":1}".to_vec(), ..delivery });
    let later = time::OffsetDateTime::now_utc() + time::Duration::minutes(10);
    let new = NewCodeRecord { id: "code-9", body: &body, code: "424242", max_attempts: 3, expires_at: later };
    store.create_code_record(of, &new, &[event, message]).unwrap();

    let db = Connection::open(store.data_dir().join(DB_FILE)).unwrap();
    let stored: Vec<(Vec<u8>, bool)> = db
        .prepare("SELECT body, message FROM webhook_deliveries ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!((stored[0].0.as_slice(), stored[0].1), (&b"{\"event\":1}"[..], false));
    let sealed = &stored[1].0;
    assert!(stored[1].1 && !sealed.windows(6).any(|w| w == b"424242") && !sealed.windows(3).any(|w| w == b"ana"));

    let due =
        store.claim_due_deliveries(time::OffsetDateTime::now_utc(), 10, std::time::Duration::from_secs(60)).unwrap();
    let message = due.iter().find(|d| d.message).unwrap();
    assert_eq!(store.delivery_body(message).unwrap(), text);
    // Moved to another client's name, the seal no longer opens.
    let forged = vouch_store::outbox::Delivery { client_id: "someone-else".into(), ..message.clone() };
    assert!(store.delivery_body(&forged).is_err());

    let at = time::OffsetDateTime::now_utc();
    let sent = AttemptResult { at, http_status: Some(202), error: None, duration_ms: 3, success: true };
    let delivered = store.record_attempt(message.id, &sent, at).unwrap();
    assert!(delivered.message && delivered.body.is_empty());
    let event = due.iter().find(|d| !d.message).unwrap();
    assert_eq!(store.record_attempt(event.id, &sent, at).unwrap().body, b"{\"event\":1}");

    // One that fails every try is emptied too, and cannot be retried.
    let message =
        RecordEvent::message("verifik", "code-10", NewDelivery { max_attempts: 1, ..event_delivery(&client) });
    let new = NewCodeRecord { id: "code-10", body: &body, code: "535353", max_attempts: 3, expires_at: later };
    store.create_code_record(of, &new, &[message]).unwrap();
    let due =
        store.claim_due_deliveries(time::OffsetDateTime::now_utc(), 10, std::time::Duration::from_secs(60)).unwrap();
    let failed =
        AttemptResult { at, http_status: Some(500), error: Some("HTTP 500".into()), duration_ms: 3, success: false };
    let gone = store.record_attempt(due[0].id, &failed, at).unwrap();
    assert_eq!((gone.status, gone.body.len()), (vouch_store::outbox::DeliveryStatus::Failed, 0));
    assert!(matches!(store.retry_delivery(gone.id, 3), Err(StoreError::Conflict(_))));
}

fn event_delivery(client: &str) -> vouch_store::outbox::NewDelivery {
    vouch_store::outbox::NewDelivery {
        client_id: client.to_string(),
        url: "https://relay.example/messages".into(),
        body: br#"{"to":"bo@example.com","code":"535353"}"#.to_vec(),
        max_attempts: 3,
    }
}
