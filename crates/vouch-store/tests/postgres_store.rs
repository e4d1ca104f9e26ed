//! The `Store` itself on a real PostgreSQL (started per test): two instances on one database see each other's
//! settings and clients, take each other's tokens, write one audit chain between them and share the outbox.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_core::Scope;
use vouch_store::clients::{AuthFailure, NewClient};
use vouch_store::settings::KioskSettings;
use vouch_store::{BlobLocation, Store, StoreError};
use vouch_testkit::postgres::Postgres;

/// Two instances of one central service: one database, one data key (copied, as an operator deploys it).
fn two_instances(pg: &Postgres) -> (tempfile::TempDir, Store, Store) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = Store::open_postgres(&pg.url, &a, &BlobLocation::DataDir).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    std::fs::copy(a.join("data.key"), b.join("data.key")).unwrap();
    let second = Store::open_postgres(&pg.url, &b, &BlobLocation::DataDir).unwrap();
    (dir, first, second)
}

#[test]
fn instances_on_one_database_share_settings_and_one_audit_chain() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    first.ping().unwrap();
    assert_eq!(second.kiosk_settings().unwrap(), KioskSettings::default());

    let threads: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .enumerate()
        .map(|(n, store)| {
            std::thread::spawn(move || {
                for days in 1..=20 {
                    let settings = KioskSettings { retention_days: days * 10 + n as u32, ..KioskSettings::default() };
                    store.save_kiosk_settings(&settings, &format!("admin:{n}")).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let seen_by_first = first.kiosk_settings().unwrap();
    assert_eq!(seen_by_first, second.kiosk_settings().unwrap(), "one truth");
    assert!([200, 201].contains(&seen_by_first.retention_days));

    let report = second.verify_audit(None).unwrap();
    assert!(report.is_intact(), "{:?}", report.breaks);
    assert_eq!((report.chains, report.events), (1, 40), "both instances' changes in one chain");
    assert_eq!(first.outbox_backlog().unwrap(), 0);
}

#[test]
fn a_client_made_on_one_instance_signs_in_and_is_revoked_on_the_other() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let new = NewClient { name: "bank".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    let created = first.create_client(&new, "admin").unwrap();
    let id = created.client.id.clone();
    assert_eq!(second.list_clients().unwrap().len(), 1);
    assert_eq!(second.authenticate_client(&id, &created.secret).unwrap().unwrap().id, id);
    assert_eq!(second.authenticate_client(&id, "wrong").unwrap(), Err(AuthFailure::WrongSecret));

    let token = first.issue_token(&id, 300, Some("eeid")).unwrap().token;
    assert_eq!(second.client_for_token(&token, "eeid").unwrap().map(|c| c.id), Some(id.clone()));
    assert_eq!(second.client_webhook_secret(&id).unwrap(), first.client_webhook_secret(&id).unwrap(), "made once");

    let rotated = second.rotate_client_secret(&id, "admin").unwrap();
    assert!(first.client_for_token(&token, "eeid").unwrap().is_none(), "rotating ends the old tokens everywhere");
    assert!(first.authenticate_client(&id, &rotated).unwrap().is_ok());
    second.revoke_client(&id, "admin").unwrap();
    assert_eq!(first.authenticate_client(&id, &rotated).unwrap(), Err(AuthFailure::Revoked));
    assert!(matches!(first.revoke_client(&id, "admin"), Err(StoreError::Conflict(_))));
    let report = first.verify_audit(Some("clients")).unwrap();
    assert!(report.is_intact() && report.events == 3, "{report:?}");
}

#[test]
fn a_verifik_token_renewed_on_one_instance_is_refused_on_the_other() {
    use vouch_store::jwt::JwtCheck;
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let new = NewClient { name: "app".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    let id = first.create_client(&new, "admin").unwrap().client.id;
    let token = first.issue_jwt(&id, 600, "verifik", None).unwrap().token;
    assert!(matches!(second.check_jwt(&token, "verifik").unwrap(), JwtCheck::Valid { .. }));
    let renewed = second.renew_and_revoke_jwt(&token, "verifik", None).unwrap().unwrap().token;
    assert!(matches!(first.renew_and_revoke_jwt(&token, "verifik", None).unwrap(), Err(JwtCheck::Invalid)));
    assert!(
        matches!(first.check_jwt(&token, "verifik").unwrap(), JwtCheck::Invalid),
        "the old one is revoked everywhere"
    );
    assert!(matches!(first.check_jwt(&renewed, "verifik").unwrap(), JwtCheck::Valid { .. }));
}

#[test]
fn wrong_pins_on_both_instances_count_together_and_lock_on_both() {
    use vouch_store::pins::{PinHolder, MAX_FAILURES};
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    first.set_first_admin_pin("482913", "setup").unwrap();
    assert!(matches!(second.set_first_admin_pin("593024", "setup"), Err(StoreError::Conflict(_))), "set once");
    assert_eq!(second.check_pin(None, "482913").unwrap(), Some(PinHolder::Admin));
    // Wrong PINs tried at once from both instances: the count is one, so the lock comes after MAX_FAILURES.
    let guesses: Vec<_> = (0..2 * MAX_FAILURES)
        .map(|n| {
            let store = if n % 2 == 0 { first.clone() } else { second.clone() };
            std::thread::spawn(move || store.check_pin(None, &format!("{:06}", 100_000 + n * 7919)))
        })
        .collect();
    let answers: Vec<_> = guesses.into_iter().map(|g| g.join().unwrap()).collect();
    let checked = answers.iter().filter(|a| matches!(a, Ok(None))).count();
    let locked = answers.iter().filter(|a| matches!(a, Err(StoreError::Locked { .. }))).count();
    assert_eq!((checked, locked), (MAX_FAILURES as usize, MAX_FAILURES as usize), "{answers:?}");
    assert!(matches!(first.check_pin(None, "482913"), Err(StoreError::Locked { .. })), "locked on both");
    assert!(matches!(second.check_pin(None, "482913"), Err(StoreError::Locked { .. })));
    assert_eq!(second.unlock_pins("operator").unwrap(), 1);
    assert_eq!(first.check_pin(None, "482913").unwrap(), Some(PinHolder::Admin));
    let clerk = first.add_clerk("Ana", "750319", "admin").unwrap();
    assert_eq!(second.list_clerks().unwrap().len(), 1);
    assert_eq!(
        second.check_pin(Some(clerk.id), "750319").unwrap(),
        Some(PinHolder::Clerk { id: clerk.id, name: "Ana".into() })
    );
    assert!(second.verify_audit(None).unwrap().is_intact());
}

#[test]
fn flows_saved_on_one_instance_run_on_the_other() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    // Both instances start at once on an empty database: the demo flow is made once, and neither fails.
    let starts: Vec<_> = [first.clone(), second.clone()]
        .into_iter()
        .map(|store| std::thread::spawn(move || store.ensure_demo_flow()))
        .collect();
    for start in starts {
        start.join().unwrap().unwrap();
    }
    assert_eq!(second.list_flows().unwrap().len(), 1, "the demo flow is made once");
    let steps = vouch_core::flow::demo_steps();
    let saved = second.save_flow("desk", "Desk check", &steps, "admin", true).unwrap();
    assert!(matches!(first.save_flow("desk", "Again", &steps, "admin", true), Err(StoreError::Conflict(_))));
    let edited = first.save_flow("desk", "Desk check v2", &steps, "admin", false).unwrap();
    assert_eq!((saved.version, edited.version), (1, 2));
    first.set_default_flow("desk", "admin").unwrap();
    assert_eq!(second.default_flow_id().unwrap().as_deref(), Some("desk"));
    assert_eq!(second.latest_flow("desk").unwrap().name, "Desk check v2");
    assert_eq!(second.flow_version("desk", 1).unwrap().name, "Desk check");
    assert!(matches!(second.flow_version("desk", 3), Err(StoreError::NotFound)));
    assert!(first.verify_audit(None).unwrap().is_intact());
}

#[test]
fn api_records_and_their_codes_behave_alike_on_both_instances() {
    use vouch_store::api_records::{RecordKind, RecordQuery, RecordWrite};
    use vouch_store::one_time_codes::{CodeRefusal, NewCodeRecord};
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let new = NewClient { name: "app".into(), scope: Scope::Integrator, token_ttl_secs: None, webhook_url: None };
    let client = first.create_client(&new, "admin").unwrap().client.id;
    let of = RecordKind { api: "verifik", kind: "email_validation", client_id: &client };
    let body: serde_json::Map<String, serde_json::Value> = serde_json::from_value(
        serde_json::json!({"email": "ana@example.org", "status": "SENT", "nested": {"a": 1, "b": 2}}),
    )
    .unwrap();
    let id = vouch_store::api_records::new_id();
    let later = vouch_store::now() + time::Duration::minutes(10);
    let code = NewCodeRecord { id: &id, body: &body, code: "424242", max_attempts: 3, expires_at: later };
    first.create_code_record(of, &code, &[]).unwrap();

    // Fields merge in SQL as SQLite's json_patch does: nested objects merge, a null removes a key.
    let fields =
        serde_json::from_value(serde_json::json!({"status": "VALIDATED", "nested": {"b": null, "c": 3}})).unwrap();
    let merge = RecordWrite::Merge {
        api: "verifik".into(),
        kind: "email_validation".into(),
        client_id: client.clone(),
        id: id.clone(),
        fields,
    };
    second.write_api_records(&[merge], &[]).unwrap();
    let merged = first.api_record(of, &id).unwrap().body;
    assert_eq!(
        serde_json::Value::Object(merged),
        serde_json::json!({"email": "ana@example.org", "status": "VALIDATED", "nested": {"a": 1, "c": 3}})
    );
    let query =
        RecordQuery { field: Some(("email".into(), "ana@example.org".into())), limit: 10, ..RecordQuery::default() };
    let (page, total) = second.api_records(of, &query).unwrap();
    assert_eq!((page.len(), total), (1, 1));
    let none =
        RecordQuery { field: Some(("email".into(), "bob@example.org".into())), limit: 10, ..RecordQuery::default() };
    assert_eq!(second.api_records(of, &none).unwrap().1, 0);

    // Tries are counted wherever they are made; the limit holds across instances.
    let at = vouch_store::now();
    let tries: Vec<_> = (0..6)
        .map(|n| {
            let (store, client, id) =
                (if n % 2 == 0 { first.clone() } else { second.clone() }, client.clone(), id.clone());
            std::thread::spawn(move || store.take_code_try(&client, &id, at).unwrap())
        })
        .collect();
    let answers: Vec<_> = tries.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(answers.iter().filter(|a| a.is_ok()).count(), 3, "{answers:?}");
    assert!(answers.iter().filter(|a| a.is_err()).all(|a| *a == Err(CodeRefusal::TooManyTries)));
    assert_eq!(second.code_owner(&id).unwrap(), client);
}

#[test]
fn the_signing_certificate_chosen_on_one_instance_signs_on_the_other() {
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let what = serde_json::json!({"subject": "CN=Bank", "sha256": "ab"});
    first.save_signing_pkcs12(b"pkcs12 bytes", "secret password", &what, "admin").unwrap();
    let stored = second.signing_pkcs12().unwrap().unwrap();
    assert_eq!((stored.pkcs12.as_slice(), stored.password.as_str()), (&b"pkcs12 bytes"[..], "secret password"));
    second.save_signing_escrow("-----BEGIN CERTIFICATE-----", &what, "admin").unwrap();
    assert_eq!(first.signing_escrow().unwrap().as_deref(), Some("-----BEGIN CERTIFICATE-----"));
    let events = first.audit_events("settings").unwrap();
    assert!(events.iter().all(|e| !e.detail.to_string().contains("secret password")), "the password is not audited");
}

/// An instance hears what another changed (at commit), not what it changed itself, and after a lost connection
/// to the database it hears that anything may have changed.
#[test]
fn instances_hear_each_others_changes_and_a_lost_link_means_everything() {
    use vouch_store::changes::{GALLERY, SETTINGS};
    let pg = Postgres::start();
    let (_dir, first, second) = two_instances(&pg);
    let (mut heard_by_first, mut heard_by_second) = (first.changes(), second.changes());
    first.save_kiosk_settings(&KioskSettings::default(), "admin").unwrap();
    let heard = |changes: &mut vouch_store::changes::Changes, topic: &str| {
        (0..100).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(50));
            changes.any_about(topic)
        })
    };
    assert!(heard(&mut heard_by_second, SETTINGS), "the other instance hears the setting");
    assert!(!heard_by_first.any_about(SETTINGS), "an instance does not hear itself");
    assert!(!heard_by_second.any_about(GALLERY), "nor a topic nobody announced");

    pg.restart();
    assert!(heard(&mut heard_by_first, GALLERY), "after the restart, everything may have changed");
}
