//! Flows as versioned data, the demo flow, and a case walking its pinned flow.

use reqwest::StatusCode;
use serde_json::{json, Value};

use vouch_testkit::approval;
use vouch_testkit::server::Kit;

#[tokio::test]
async fn a_fresh_install_has_the_demo_flow_as_default() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let flows: Value = kit.get(&admin, "/vouch/v1/flows").await.json().await.unwrap();
    assert_eq!(flows.as_array().unwrap().len(), 1);
    assert_eq!(flows[0]["id"], "demo");
    assert_eq!(flows[0]["version"], 1);
    assert_eq!(flows[0]["is_default"], true);
    let kinds: Vec<&str> = flows[0]["steps"].as_array().unwrap().iter().map(|s| s["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["consent", "result"]);
    for lang in ["en", "es", "et"] {
        assert!(flows[0]["steps"][0]["text"][lang].is_string(), "{lang}");
    }
    let integrator = kit.oauth_token(&kit.integrator()).await;
    assert_eq!(kit.get(&integrator, "/vouch/v1/flows").await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn flows_are_validated() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    // Every step kind is built now, the signature step included.
    let signing = kit
        .post_json(
            &admin,
            "/vouch/v1/flows",
            &json!({"id": "kyc", "name": "KYC", "steps": [{"kind": "signature"}, {"kind": "result"}]}),
        )
        .await;
    assert_eq!(signing.status(), StatusCode::CREATED);
    for (body, why) in [
        (json!({"id": "x", "name": "X", "steps": [{"kind": "consent", "text": {"en": "ok"}}]}), "no result step"),
        (json!({"id": "Bad Id", "name": "X", "steps": [{"kind": "result"}]}), "id"),
        (json!({"id": "x", "name": "X", "steps": [{"kind": "teleport"}, {"kind": "result"}]}), "unknown kind"),
        (
            json!({"id": "x", "name": "X", "steps": [{"kind": "consent", "text": {"fr": "oui"}}, {"kind": "result"}]}),
            "language",
        ),
    ] {
        let resp = kit.post_json(&admin, "/vouch/v1/flows", &body).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    }
    let dup = kit
        .post_json(&admin, "/vouch/v1/flows", &json!({"id": "demo", "name": "again", "steps": [{"kind": "result"}]}))
        .await;
    assert_eq!(dup.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn editing_saves_a_new_version_and_running_cases_keep_theirs() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let before = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();

    let edit = json!({"name": "Demo with review", "steps": [
        {"kind": "consent", "text": {"en": "I agree."}}, {"kind": "clerk_review"}, {"kind": "result"}]});
    let resp = kit.put_json(&admin, "/vouch/v1/flows/demo", &edit).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap()["version"], 2);
    let v1: Value = kit.get(&admin, "/vouch/v1/flows/demo/versions/1").await.json().await.unwrap();
    assert_eq!(v1["steps"].as_array().unwrap().len(), 2, "version 1 is unchanged");
    assert_eq!(kit.put_json(&admin, "/vouch/v1/flows/nope", &edit).await.status(), StatusCode::NOT_FOUND);

    let after = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let old: Value = kit.get(&admin, &format!("/vouch/v1/cases/{before}/flow")).await.json().await.unwrap();
    let new: Value = kit.get(&admin, &format!("/vouch/v1/cases/{after}/flow")).await.json().await.unwrap();
    assert_eq!(old["flow"]["version"], 1);
    assert_eq!(new["flow"]["version"], 2);

    // A new default flow applies to cases created afterwards.
    let created = kit
        .post_json(
            &admin,
            "/vouch/v1/flows",
            &json!({"id": "review-only", "name": "Review", "steps": [{"kind": "clerk_review"}, {"kind": "result"}]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let resp = kit.http.post(kit.url("/vouch/v1/flows/review-only/default")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["is_default"], true);
    let third = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let flow: Value = kit.get(&admin, &format!("/vouch/v1/cases/{third}/flow")).await.json().await.unwrap();
    assert_eq!(flow["flow"]["id"], "review-only");
}

#[tokio::test]
async fn a_case_walks_its_flow_step_by_step_then_awaits_the_clerk() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let flow: Value = kit.get(&admin, &format!("/vouch/v1/cases/{id}/flow")).await.json().await.unwrap();
    assert_eq!(flow["next"]["state"], "step");
    assert_eq!(flow["next"]["index"], 0);
    assert_eq!(flow["next"]["step"]["kind"], "consent");

    let wrong = kit
        .post_json(&admin, &format!("/vouch/v1/cases/{id}/steps/1"), &json!({"kind": "result", "outcome": "passed"}))
        .await;
    assert_eq!(wrong.status(), StatusCode::CONFLICT, "no skipping");
    let consent = json!({"kind": "consent", "outcome": "passed", "detail": {"language": "et"}});
    let resp = kit.post_json(&admin, &format!("/vouch/v1/cases/{id}/steps/0"), &consent).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let flow: Value = resp.json().await.unwrap();
    assert_eq!(flow["next"], json!({"state": "awaiting_decision", "all_passed": true}));
    assert_eq!(flow["steps"][0]["detail"]["language"], "et");
    let again = kit.post_json(&admin, &format!("/vouch/v1/cases/{id}/steps/0"), &consent).await;
    assert_eq!(again.status(), StatusCode::CONFLICT, "no replay");

    // In progress reads as pending to eeID; the outcome is evidence with its audit event.
    let r: Value =
        kit.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{id}")).await.json().await.unwrap();
    assert_eq!(r["status"], "pending");
    let view: Value = kit.get(&admin, &format!("/vouch/v1/cases/{id}")).await.json().await.unwrap();
    assert_eq!(view["case"]["status"], "in_progress");
    assert_eq!(view["evidence"][0]["kind"], "step_outcome");
    let actions: Vec<&str> = view["audit"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["case_created", "case_started", "step_recorded"]);

    // The clerk decides; the proof's evidence manifest includes the step outcome.
    let done = kit.complete(&admin, &id, &approval()).await;
    assert_eq!(done.status(), StatusCode::OK);
    let kinds: Vec<String> = done.json::<Value>().await.unwrap()["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["step_outcome", "decision", "proof_of_identity"]);
    let late = kit.post_json(&admin, &format!("/vouch/v1/cases/{id}/steps/0"), &consent).await;
    assert_eq!(late.status(), StatusCode::CONFLICT, "a decided case takes no steps");
}

#[tokio::test]
async fn a_declined_consent_ends_the_flow() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let resp = kit
        .post_json(
            &admin,
            &format!("/vouch/v1/cases/{id}/steps/0"),
            &json!({"kind": "consent", "outcome": "failed", "detail": {"declined": true}}),
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["next"], json!({"state": "awaiting_decision", "all_passed": false}));
}

#[tokio::test]
async fn steps_the_kiosk_decides_from_its_devices_are_not_recorded_over_the_api() {
    let kit = Kit::start().await;
    let kiosk_admin = kit.kiosk_admin().await;
    for kind in ["document_chip", "document_scan", "selfie"] {
        kit.default_flow(&kiosk_admin, &kind.replace('_', "-"), json!([{"kind": kind}, {"kind": "result"}])).await;
        let admin = kit.oauth_token(&kit.admin()).await;
        let token = kit.eeid_token(&kit.integrator()).await;
        let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
        let step = json!({"kind": kind, "outcome": "passed"});
        let resp = kit.post_json(&admin, &format!("/vouch/v1/cases/{id}/steps/0"), &step).await;
        assert_eq!(resp.status(), StatusCode::CONFLICT, "{kind} is the kiosk's to decide");
        let flow: Value = kit.get(&admin, &format!("/vouch/v1/cases/{id}/flow")).await.json().await.unwrap();
        assert_eq!((flow["next"]["state"].as_str(), flow["next"]["index"].as_u64()), (Some("step"), Some(0)), "{flow}");
    }
}
