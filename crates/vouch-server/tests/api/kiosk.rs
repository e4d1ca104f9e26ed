//! The kiosk bridge over HTTP: first-run PIN, access levels, lockout, the customer's steps, the clerk's
//! decision, admin settings, retention and the served UI.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_core::Scope;

use vouch_testkit::eventually;
use vouch_testkit::receiver::Receiver;
use vouch_testkit::server::Kit;

use vouch_testkit::server::ADMIN_PIN;

/// The HTTP bridge answers only a paired screen; pairing needs the code printed on the console.
#[tokio::test]
async fn the_http_bridge_answers_only_a_paired_screen() {
    let kit = Kit::start().await;
    let unpaired = kit.http.post(kit.url("/vouch/v1/kiosk/kiosk_status")).json(&json!({})).send().await.unwrap();
    assert_eq!(unpaired.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unpaired.json::<Value>().await.unwrap()["reason"], "bridge_unpaired");
    for cookie in ["vouch_bridge=forged", "other=1", ""] {
        let resp = kit
            .http
            .post(kit.url("/vouch/v1/kiosk/camera_status"))
            .header("Cookie", cookie)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{cookie}");
    }
    let wrong = kit.http.post(kit.url("/vouch/v1/kiosk/pair")).json(&json!({"code": "AAAAA-AAAAA"})).send().await;
    let wrong = wrong.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get("set-cookie").is_none());
    // The right code, typed loosely, pairs; the cookie is HttpOnly and SameSite=Strict.
    let code = kit.running.state.kiosk.bridge.pairing_code().to_lowercase().replace('-', " ");
    let ok = kit.http.post(kit.url("/vouch/v1/kiosk/pair")).json(&json!({"code": code})).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let set_cookie = ok.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie.split(';').next().unwrap();
    let resp = kit
        .http
        .post(kit.url("/vouch/v1/kiosk/kiosk_status"))
        .header("Cookie", cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The code is in the data directory for its owner only, never in an answer.
    let file = kit.dir.path().join("data").join("bridge-pairing-code");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
}

/// Whoever reaches the bridge first must not choose the admin PIN: over HTTP, first-run setup needs the
/// one-time setup code too.
#[tokio::test]
async fn first_run_over_http_needs_the_setup_code() {
    let kit = Kit::start().await;
    let status = kit.kiosk_ok(None, "kiosk_status", json!({})).await;
    assert_eq!(status["setup_code_required"], true);
    for code in [json!(null), json!("AAAAA-AAAAA")] {
        let (status, body) = kit.kiosk(None, "admin_setup", json!({"pin": "482913", "setup_code": code})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["reason"], "setup_code_wrong");
    }
    assert!(!kit.store.admin_pin_is_set().unwrap());
    let setup_file = kit.dir.path().join("data").join("setup-code");
    assert!(setup_file.exists());
    kit.kiosk_admin().await;
    assert!(!setup_file.exists(), "the setup code is spent");
    assert_eq!(kit.kiosk_ok(None, "kiosk_status", json!({})).await["setup_code_required"], false);
}

#[tokio::test]
async fn first_run_sets_the_admin_pin_once_and_refuses_weak_ones() {
    let kit = Kit::sqlite().await;
    assert_eq!(kit.kiosk_ok(None, "kiosk_status", json!({})).await["first_run"], true);
    let setup_code = kit.running.state.kiosk.bridge.setup_code();
    let (status, body) = kit.kiosk(None, "admin_setup", json!({"pin": "123456", "setup_code": setup_code})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["code"], "invalid_input");
    let admin = kit.kiosk_admin().await;
    assert_eq!(kit.kiosk_ok(Some(&admin), "whoami", json!({})).await["role"], "admin");
    let (status, _) = kit.kiosk(None, "admin_setup", json!({"pin": "738291"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "a second first-run must not replace the PIN");
    assert_eq!(kit.kiosk_ok(None, "kiosk_status", json!({})).await["first_run"], false);
    let hash: String =
        kit.db().query_row("SELECT value FROM settings WHERE key = 'admin_pin'", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$"), "the PIN is stored as an argon2id hash");
}

#[tokio::test]
async fn customers_reach_no_staff_command_and_clerks_no_admin_command() {
    let kit = Kit::start().await;
    let admin = kit.kiosk_admin().await;
    let (status, body) = kit.kiosk(None, "queue", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthorized");
    let (status, _) = kit.kiosk(Some("forged-session"), "clients_list", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let clerk = kit.kiosk_ok(Some(&admin), "clerk_add", json!({"name": "Maria Tamm", "pin": "583016"})).await;
    let signed =
        kit.kiosk_ok(None, "sign_in", json!({"role": "clerk", "clerk_id": clerk["id"], "pin": "583016"})).await;
    let clerk_session = signed["session"].as_str().unwrap();
    kit.kiosk_ok(Some(clerk_session), "queue", json!({})).await;
    for command in ["clients_list", "client_create", "settings_save", "purge_now", "exit_app"] {
        let (status, body) = kit.kiosk(Some(clerk_session), command, json!({})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{command}: {body}");
    }
    kit.kiosk_ok(Some(clerk_session), "sign_out", json!({})).await;
    let (status, _) = kit.kiosk(Some(clerk_session), "queue", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a signed-out session is dead");
    let (status, _) = kit.kiosk(None, "no_such_command", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_pins_lock_the_sign_in_even_for_the_right_pin_and_survive_a_restart() {
    let kit = Kit::sqlite().await;
    kit.kiosk_admin().await;
    for _ in 0..5 {
        let (status, body) = kit.kiosk(None, "sign_in", json!({"role": "admin", "pin": "000001"})).await;
        assert!(status == StatusCode::UNAUTHORIZED || status == StatusCode::TOO_MANY_REQUESTS, "{body}");
    }
    let (status, body) = kit.kiosk(None, "sign_in", json!({"role": "admin", "pin": ADMIN_PIN})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "too_many_attempts");
    let locked: Option<i64> =
        kit.db().query_row("SELECT locked_until FROM pin_attempts WHERE subject = 'admin'", [], |r| r.get(0)).unwrap();
    assert!(locked.is_some(), "the lockout is in the database, so a restart keeps it");
    let audit = kit.store.audit_events("settings").unwrap();
    assert!(audit.iter().any(|e| e.action == "pin_locked"));
}

#[tokio::test]
async fn a_customer_opens_the_eeid_link_walks_the_steps_and_a_clerk_approves_with_a_reason() {
    let kit = Kit::start().await;
    let receiver = Receiver::start(&[]).await;
    let url = receiver.url.clone();
    let integrator = kit.client(Scope::Integrator, Some(&url), None);
    let token = kit.eeid_token(&integrator).await;
    let request = kit.create_ok(&token, Some("loan-7")).await;
    let link = request["link"].as_str().unwrap();

    // The customer scans the link; nothing personal comes back.
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": link})).await;
    assert_eq!(opened["status"], "pending");
    assert_eq!(opened["next"]["state"], "step");
    assert_eq!(opened["next"]["step"]["kind"], "consent");
    assert!(!opened.to_string().contains("EE30303039914"), "the customer view holds no claim values");
    let code = opened["code"].as_str().unwrap().to_string();
    let by_code = kit.kiosk_ok(None, "case_open", json!({"code": code.to_lowercase().replace('-', " ")})).await;
    assert_eq!(by_code["case_id"], opened["case_id"]);

    // A camera, chip or pad step cannot be claimed; the clerk-only step needs a clerk.
    let case_id = opened["case_id"].as_str().unwrap();
    let status = kit.claim_step(case_id, 0, "selfie").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let status = kit.claim_step(case_id, 0, "document_chip").await;
    assert_eq!(status, StatusCode::CONFLICT, "the chip reader decides that step, not the customer");
    let status = kit.claim_step(case_id, 0, "document_scan").await;
    assert_eq!(status, StatusCode::CONFLICT, "the camera decides that step, not the customer");
    let status = kit.claim_step(case_id, 0, "signature").await;
    assert_eq!(status, StatusCode::CONFLICT, "the signature pad decides that step, not a submitted outcome");
    let status = kit.claim_step(case_id, 0, "clerk_review").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let after = kit
        .kiosk_ok(
            None,
            "step_submit",
            json!({"case_id": case_id, "index": 0, "kind": "consent", "outcome": "passed", "detail": {"language": "et"}}),
        )
        .await;
    assert_eq!(after["status"], "in_progress");
    assert_eq!(after["next"], json!({"state": "awaiting_decision", "all_passed": true}));

    // The clerk finds it in the queue by code, and must give a reason.
    let admin = kit.kiosk_admin().await;
    let clerk = kit.kiosk_ok(Some(&admin), "clerk_add", json!({"name": "Maria Tamm", "pin": "583016"})).await;
    let clerk_session = kit
        .kiosk_ok(None, "sign_in", json!({"role": "clerk", "clerk_id": clerk["id"], "pin": "583016"}))
        .await["session"]
        .as_str()
        .unwrap()
        .to_string();
    let queue = kit.kiosk_ok(Some(&clerk_session), "queue", json!({"search": &code[..4]})).await;
    assert_eq!(queue.as_array().unwrap().len(), 1);
    assert_eq!(queue[0]["reference"], "loan-7");
    let identity = json!({"sub": "EE30303039914", "given_name": "Mari-Liis", "family_name": "Männik",
                          "date_of_birth": "1903-03-03", "country": "ee", "document_type": "id_card"});
    let (status, _) = kit
        .kiosk(
            Some(&clerk_session),
            "case_decide",
            json!({"case_id": case_id, "outcome": "approved", "reason": "  ", "identity": identity}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "the reason is mandatory");
    let decided = kit
        .kiosk_ok(
            Some(&clerk_session),
            "case_decide",
            json!({"case_id": case_id, "outcome": "approved", "reason": "ID card checked at the desk", "identity": identity}),
        )
        .await;
    assert_eq!(decided["case"]["status"], "completed");
    let last = decided["audit"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], format!("clerk:{}:Maria Tamm", clerk["id"]));

    // The integrator sees it completed, and its webhook arrives.
    let got: Value =
        kit.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case_id}")).await.json().await.unwrap();
    assert_eq!(got["status"], "completed");
    assert_eq!(got["result"]["authentication_type"], "ID_CARD");
    assert!(eventually(Duration::from_secs(10), || !receiver.received.lock().unwrap().is_empty()).await);
    let status = kit.claim_step(case_id, 0, "consent").await;
    assert_eq!(status, StatusCode::CONFLICT, "a decided case takes no more steps");
}

#[tokio::test]
async fn guessing_codes_is_slowed_down() {
    let kit = Kit::start().await;
    for i in 0..10 {
        let (status, body) = kit.kiosk(None, "case_open", json!({"code": format!("AAAA-AAA{}", i % 8 + 2)})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(body["message"].as_str().unwrap().contains("Check the code"));
    }
    let (status, body) = kit.kiosk(None, "case_open", json!({"code": "AAAA-AAAA"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
}

#[tokio::test]
async fn an_api_client_created_in_settings_works_at_once_and_its_secret_is_shown_once() {
    let kit = Kit::start().await;
    let admin = kit.kiosk_admin().await;
    let (status, _) = kit.kiosk(Some(&admin), "client_create", json!({"name": "bank", "webhook_url": "ftp://x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let created = kit.kiosk_ok(Some(&admin), "client_create", json!({"name": "bank backend"})).await;
    let creds = vouch_testkit::api::Creds {
        id: created["client"]["id"].as_str().unwrap().into(),
        secret: created["secret"].as_str().unwrap().into(),
    };
    let token = kit.eeid_token(&creds).await;
    kit.create_ok(&token, None).await;
    let list = kit.kiosk_ok(Some(&admin), "clients_list", json!({})).await;
    assert!(!list.to_string().contains(&creds.secret), "the list never shows a secret");

    let rotated = kit.kiosk_ok(Some(&admin), "client_rotate_secret", json!({"client_id": creds.id})).await;
    let resp = kit.get(&token, "/eeid/api/ident/v1/identification_requests").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "rotating the secret ends the old tokens");
    let new = vouch_testkit::api::Creds { id: creds.id.clone(), secret: rotated["secret"].as_str().unwrap().into() };
    kit.eeid_token(&new).await;
    kit.kiosk_ok(Some(&admin), "client_revoke", json!({"client_id": creds.id})).await;
    let resp = kit.oauth("/eeid/api/auth/v1/token", Some(&new.basic()), "").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn flows_saved_in_settings_are_validated_and_become_the_default() {
    let kit = Kit::start().await;
    let admin = kit.kiosk_admin().await;
    let listed = kit.kiosk_ok(Some(&admin), "flows_list", json!({})).await;
    let kinds = listed["step_kinds"].as_array().unwrap();
    assert!(kinds.iter().any(|k| k["kind"] == "signature" && k["missing"].is_null()));
    assert!(kinds.iter().any(|k| k["kind"] == "document_scan" && k["missing"].is_null()));
    assert!(kinds.iter().any(|k| k["kind"] == "document_chip" && k["missing"].is_null()));
    assert!(kinds.iter().any(|k| k["kind"] == "selfie" && k["missing"].is_null()));
    let (status, body) = kit
        .kiosk(
            Some(&admin),
            "flow_save",
            json!({"flow_id": "desk", "name": "Desk", "create": true, "steps": [{"kind": "result"}, {"kind": "result"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "one result step, last: {body}");
    let steps = json!([{"kind": "consent", "text": {"en": "I agree", "es": "Acepto", "et": "Nõustun"}},
                       {"kind": "clerk_review"}, {"kind": "result"}]);
    let saved = kit
        .kiosk_ok(Some(&admin), "flow_save", json!({"flow_id": "desk", "name": "Desk", "create": true, "steps": steps}))
        .await;
    assert_eq!(saved["version"], 1);
    let listed = kit.kiosk_ok(Some(&admin), "flow_set_default", json!({"flow_id": "desk"})).await;
    assert_eq!(listed["default"], "desk");
}

#[tokio::test]
async fn the_purge_deletes_old_evidence_of_closed_cases_and_is_audited() {
    let kit = Kit::sqlite().await;
    let admin = kit.kiosk_admin().await;
    let integrator = kit.integrator();
    let token = kit.eeid_token(&integrator).await;
    let old = kit.create_ok(&token, Some("old")).await;
    let open = kit.create_ok(&token, Some("open")).await;
    for req in [&old, &open] {
        let id = req["id"].as_str().unwrap();
        kit.kiosk_ok(None, "step_submit", json!({"case_id": id, "index": 0, "kind": "consent", "outcome": "passed"}))
            .await;
    }
    let old_id = old["id"].as_str().unwrap();
    kit.kiosk_ok(
        Some(&admin),
        "case_decide",
        json!({"case_id": old_id, "outcome": "rejected", "reason": "no document"}),
    )
    .await;
    let settings = kit.kiosk_ok(Some(&admin), "settings_get", json!({})).await;
    assert_eq!(settings["retention_days"], 90);
    kit.kiosk_ok(
        Some(&admin),
        "settings_save",
        json!({"retention_days": 30, "default_language": "et", "idle_timeout_secs": 60}),
    )
    .await;
    let (status, _) = kit
        .kiosk(
            Some(&admin),
            "settings_save",
            json!({"retention_days": 0, "default_language": "et", "idle_timeout_secs": 60}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let nothing = kit.kiosk_ok(Some(&admin), "purge_now", json!({})).await;
    assert_eq!(nothing["cases"], 0, "a case closed today is within retention");
    let forty_days_ago = vouch_store::to_ms(vouch_store::now()) - 40 * 24 * 3600 * 1000;
    kit.db().execute("UPDATE cases SET updated_at = ?1 WHERE reference = 'old'", [forty_days_ago]).unwrap();
    let shas: Vec<String> = {
        let db = kit.db();
        let mut stmt = db
            .prepare("SELECT e.sha256 FROM evidence e JOIN cases c ON c.id = e.case_id WHERE c.reference = 'old'")
            .unwrap();
        stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    };
    assert_eq!(shas.len(), 2, "the consent step and the decision");
    let purged = kit.kiosk_ok(Some(&admin), "purge_now", json!({})).await;
    assert_eq!(purged["cases"], 1);
    assert_eq!(purged["evidence"], 2);
    for sha in &shas {
        assert!(!kit.store.blobs().raw_path(sha).unwrap().exists(), "the blob is gone");
    }
    let open_id = vouch_core::CaseId::parse(open["id"].as_str().unwrap()).unwrap();
    let open_evidence = kit.store.case_evidence(open_id).unwrap();
    assert!(kit.store.blobs().get(&open_evidence[0].sha256).is_ok(), "open cases keep their evidence");
    let case_audit = kit.store.audit_events(old_id).unwrap();
    assert_eq!(case_audit.last().unwrap().action, "evidence_purged");
    let settings_audit = kit.store.audit_events("settings").unwrap();
    assert!(settings_audit.iter().any(|e| e.action == "retention_purge" && e.detail["cases"] == 1));
    assert!(kit.store.verify_audit(None).unwrap().is_intact());
}

#[tokio::test]
async fn devices_report_what_was_found_and_why_not() {
    let kit = Kit::start().await;
    let admin = kit.kiosk_admin().await;
    let devices = kit.kiosk_ok(Some(&admin), "devices", json!({})).await;
    assert!(devices["cameras"].is_array());
    let readers = &devices["card_readers"];
    assert!(readers["ok"] == true || readers["error"].as_str().unwrap().contains("pcscd"), "{readers}");
}

#[tokio::test]
async fn the_ui_is_served_for_a_known_link_and_stays_inside_its_folder() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ui.path().join("kiosk/assets")).unwrap();
    std::fs::write(ui.path().join("kiosk/index.html"), "<!doctype html><title>kiosk</title>").unwrap();
    std::fs::write(ui.path().join("kiosk/assets/app-1.js"), "console.log(1)").unwrap();
    std::fs::write(ui.path().join("secret.txt"), "outside").unwrap();
    let dir = ui.path().to_path_buf();
    let kit = Kit::start_with(move |c| c.ui_dir = Some(dir)).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let link = kit.create_ok(&token, None).await["link"].as_str().unwrap().to_string();
    let resp = kit.http.get(&link).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(resp.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'self'"));
    assert!(resp.text().await.unwrap().contains("<title>kiosk</title>"));
    let resp = kit.http.get(kit.url("/kiosk/assets/app-1.js")).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/javascript; charset=utf-8");
    let resp = kit.http.get(kit.url(&format!("/kiosk/requests/{}", vouch_core::CaseId::new()))).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    for path in ["/kiosk/..%2Fsecret.txt", "/kiosk/assets/..%2F..%2Fsecret.txt"] {
        let resp = kit.http.get(kit.url(path)).send().await.unwrap();
        assert!(!resp.text().await.unwrap().contains("outside"), "{path}");
    }

    let bare = Kit::start().await;
    let resp = bare.http.get(bare.url("/kiosk/")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.text().await.unwrap().contains("make ui"));
}
