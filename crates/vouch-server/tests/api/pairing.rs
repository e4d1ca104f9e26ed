//! Pairing a kiosk with a central service over HTTP: an admin makes a one-time code, the kiosk exchanges it for
//! credentials of its own, and those reach no vendor API and no admin call.

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_testkit::server::Kit;

#[tokio::test]
async fn a_kiosk_pairs_once_with_an_admins_code_and_its_token_reaches_nothing_else() {
    let kit = Kit::start().await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let integrator = kit.oauth_token(&kit.integrator()).await;
    let request = json!({"name": "Desk 1", "branch": "Tallinn"});
    let refused = kit.post_json(&integrator, "/vouch/v1/kiosks/pairing-codes", &request).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "an integrator makes no pairing code");
    let made = kit.post_json(&admin, "/vouch/v1/kiosks/pairing-codes", &request).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let code = made.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();

    let pair = |code: String| {
        let http = kit.http.clone();
        let url = kit.url("/vouch/v1/kiosks/pair");
        async move { http.post(url).json(&json!({"code": code})).send().await.unwrap() }
    };
    let wrong = pair("ABCD-EFGH-JKMN".into()).await;
    assert_eq!(wrong.status(), StatusCode::NOT_FOUND);
    assert!(wrong.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("unknown, used or expired"));
    let paired = pair(code.to_lowercase()).await;
    assert_eq!(paired.status(), StatusCode::OK);
    let paired: Value = paired.json().await.unwrap();
    assert_eq!((paired["name"].as_str(), paired["branch"].as_str()), (Some("Desk 1"), Some("Tallinn")));
    assert_eq!(pair(code).await.status(), StatusCode::NOT_FOUND, "a code pairs once");

    let kiosk = vouch_testkit::api::Creds {
        id: paired["client_id"].as_str().unwrap().into(),
        secret: paired["client_secret"].as_str().unwrap().into(),
    };
    let token = kit.oauth_token(&kiosk).await;
    for path in ["/vouch/v1/kiosks", "/vouch/v1/webhooks/deliveries", "/eeid/api/ident/v1/identification_requests"] {
        assert_eq!(kit.get(&token, path).await.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let eeid = kit
        .http
        .post(kit.url("/eeid/api/auth/v1/token"))
        .basic_auth(&kiosk.id, Some(&kiosk.secret))
        .send()
        .await
        .unwrap();
    assert_eq!(eeid.status(), StatusCode::UNAUTHORIZED, "a vendor's token endpoint refuses a kiosk");

    let listed: Value = kit.get(&admin, "/vouch/v1/kiosks").await.json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["id"], paired["kiosk_id"]);
}

/// Pairs a kiosk of `branch` with `kit` (made by its admin) and returns the kiosk's sync token and id.
async fn paired_kiosk_of(kit: &Kit, name: &str, branch: Option<&str>) -> (String, String) {
    let admin = kit.oauth_token(&kit.admin()).await;
    let made = kit.post_json(&admin, "/vouch/v1/kiosks/pairing-codes", &json!({"name": name, "branch": branch})).await;
    let code = made.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
    let paired: Value = kit
        .http
        .post(kit.url("/vouch/v1/kiosks/pair"))
        .json(&json!({"code": code}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let creds = vouch_testkit::api::Creds {
        id: paired["client_id"].as_str().unwrap().into(),
        secret: paired["client_secret"].as_str().unwrap().into(),
    };
    (kit.oauth_token(&creds).await, paired["kiosk_id"].as_str().unwrap().to_string())
}

async fn paired_kiosk(kit: &Kit, name: &str) -> (String, String) {
    paired_kiosk_of(kit, name, None).await
}

/// The ids of the cases the central offers a kiosk.
async fn offered(kit: &Kit, token: &str) -> Vec<String> {
    let listed: Value = kit.get(token, "/vouch/v1/sync/cases").await.json().await.unwrap();
    listed.as_array().unwrap().iter().map(|c| c["case"]["id"].as_str().unwrap().to_string()).collect()
}

/// An integrator names the branch whose kiosks may run a case with `Vouch-Branch` on the call that makes it: that
/// branch's kiosks are offered it and may claim it, others are not, and a case with no branch goes to every kiosk.
#[tokio::test]
async fn a_case_made_for_a_branch_is_offered_to_that_branchs_kiosks_only() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let create = |branch: String| {
        let (http, url, token) =
            (kit.http.clone(), kit.url("/eeid/api/ident/v1/identification_requests"), token.clone());
        async move {
            let body =
                json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "Account opening"});
            http.post(url).bearer_auth(token).header("Vouch-Branch", branch).json(&body).send().await.unwrap()
        }
    };
    let too_long = create("x".repeat(101)).await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = too_long.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("Vouch-Branch"), "in eeID's error format: {error}");
    let id = |resp: reqwest::Response| async move {
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_string()
    };
    let any = id(create(" ".into()).await).await;
    let tartu = id(create(" Tartu ".into()).await).await;
    let parnu = id(create("Pärnu".into()).await).await;
    assert_eq!(
        kit.store.get_case(vouch_core::CaseId::parse(&tartu).unwrap()).unwrap().branch.as_deref(),
        Some("Tartu")
    );

    let (tartu_kiosk, _) = paired_kiosk_of(&kit, "Tartu 1", Some("Tartu")).await;
    let (roaming, _) = paired_kiosk(&kit, "Bus").await;
    assert_eq!(offered(&kit, &tartu_kiosk).await, vec![any.clone(), tartu.clone()]);
    assert_eq!(offered(&kit, &roaming).await, vec![any.clone()]);
    let claim = kit.post_json(&tartu_kiosk, &format!("/vouch/v1/sync/cases/{parnu}/claim"), &json!({})).await;
    assert_eq!(claim.status(), StatusCode::CONFLICT);
    assert!(claim.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("another branch"));
    let claim = kit.post_json(&tartu_kiosk, &format!("/vouch/v1/sync/cases/{tartu}/claim"), &json!({})).await;
    assert_eq!(claim.status(), StatusCode::OK);

    // `Vouch-Kiosk` names the one kiosk that may run it: not another kiosk of its branch, not any kiosk.
    let (desk_2, desk_2_id) = paired_kiosk_of(&kit, "Tartu 2", Some("Tartu")).await;
    let for_kiosk = |kiosk: &str, branch: Option<&str>| {
        let (http, url, token) =
            (kit.http.clone(), kit.url("/eeid/api/ident/v1/identification_requests"), token.clone());
        let (kiosk, branch) = (kiosk.to_string(), branch.map(str::to_string));
        async move {
            let body =
                json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "Account opening"});
            let mut request = http.post(url).bearer_auth(token).header("Vouch-Kiosk", kiosk).json(&body);
            if let Some(branch) = branch {
                request = request.header("Vouch-Branch", branch);
            }
            request.send().await.unwrap()
        }
    };
    for (kiosk, branch, why) in [
        ("vouch-no-such-kiosk", None, "not a kiosk paired"),
        (desk_2_id.as_str(), Some("Pärnu"), "not a kiosk of the branch"),
        ("../etc", None, "paired kiosk's id"),
    ] {
        let refused = for_kiosk(kiosk, branch).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let error: Value = refused.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(why), "{why}: {error}");
    }
    let desk_2_only = id(for_kiosk(&desk_2_id, Some("Tartu")).await).await;
    let made = kit.store.get_case(vouch_core::CaseId::parse(&desk_2_only).unwrap()).unwrap();
    assert_eq!(made.for_kiosk.as_deref(), Some(desk_2_id.as_str()));
    assert!(offered(&kit, &desk_2).await.contains(&desk_2_only));
    assert!(!offered(&kit, &tartu_kiosk).await.contains(&desk_2_only), "not its branch's other kiosk");
    assert!(!offered(&kit, &roaming).await.contains(&desk_2_only));
    let claim = kit.post_json(&tartu_kiosk, &format!("/vouch/v1/sync/cases/{desk_2_only}/claim"), &json!({})).await;
    assert_eq!(claim.status(), StatusCode::CONFLICT);
    assert!(claim.json::<Value>().await.unwrap()["message"].as_str().unwrap().contains("another kiosk"));
    let claim = kit.post_json(&desk_2, &format!("/vouch/v1/sync/cases/{desk_2_only}/claim"), &json!({})).await;
    assert_eq!(claim.status(), StatusCode::OK);
}

/// Signing cases name their branch the same way (DANAconnect circuits, MasStack processes), and come to that
/// branch's kiosks with their documents to read; another kiosk cannot fetch them.
#[tokio::test]
async fn signing_cases_made_for_a_branch_come_to_its_kiosks_with_their_documents() {
    use crate::signing::{doc, pdf, signer, signing_flow, B64};
    use base64::Engine;
    let kit = Kit::start().await;
    signing_flow(&kit, &kit.kiosk_admin().await).await;
    let creds = kit.integrator();
    let grant = "grant_type=client_credentials";
    let dana: Value = kit.oauth("/danaconnect/oauth2/token", Some(&creds.basic()), grant).await.json().await.unwrap();
    let dana = dana["access_token"].as_str().unwrap().to_string();
    let contract = pdf("Loan contract");
    let circuit = json!({"id": "loan-9", "signer": signer(), "docs": [doc("Contract.pdf", &contract)]});
    let started = kit
        .http
        .post(kit.url("/danaconnect/api/biometric/start_circuit/contract"))
        .bearer_auth(&dana)
        .header("Vouch-Branch", "Tartu")
        .json(&circuit)
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::OK);
    let circuit_id = started.json::<Value>().await.unwrap()["circuitId"].as_str().unwrap().to_string();
    let masstack = kit.oauth_token(&creds).await;
    let process = json!({"flow": "contract", "signers": [{"name": "Ana Ruiz"}],
                         "documents": [{"name": "agreement.pdf", "content": B64.encode(&contract)}]});
    let make = |branch: String| {
        let (http, url, token, body) =
            (kit.http.clone(), kit.url("/masstack/v1/orgs/bank/sign_process"), masstack.clone(), process.clone());
        async move { http.post(url).bearer_auth(token).header("Vouch-Branch", branch).json(&body).send().await.unwrap() }
    };
    let refused = make("x".repeat(101)).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let errors: Value = refused.json().await.unwrap();
    assert!(errors["errors"][0]["details"].as_str().unwrap().contains("Vouch-Branch"), "MasStack's format: {errors}");
    let made = make("Pärnu".into()).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let sign_id = made.json::<Value>().await.unwrap()["signs"][0]["sign_id"].as_str().unwrap().to_string();

    let (tartu, _) = paired_kiosk_of(&kit, "Tartu 1", Some("Tartu")).await;
    let (parnu, _) = paired_kiosk_of(&kit, "Pärnu 1", Some("Pärnu")).await;
    assert_eq!(offered(&kit, &tartu).await, vec![circuit_id.clone()]);
    assert_eq!(offered(&kit, &parnu).await, vec![sign_id]);
    let listed: Value = kit.get(&tartu, "/vouch/v1/sync/cases").await.json().await.unwrap();
    let signing = &listed[0]["signing"];
    assert_eq!(
        (signing["signer_name"].as_str(), signing["method"].as_str()),
        (Some("María García López"), Some("biometric"))
    );
    assert_eq!(signing["documents"][0]["name"], "Contract.pdf");
    let path = format!("/vouch/v1/sync/cases/{circuit_id}/documents/0");
    assert_eq!(kit.get(&parnu, &path).await.status(), StatusCode::NOT_FOUND, "not for Pärnu's kiosks");
    let fetched = kit.get(&tartu, &path).await;
    assert_eq!(fetched.headers()["content-type"], "application/pdf");
    let bytes = fetched.bytes().await.unwrap();
    assert_eq!(signing["documents"][0]["sha256"].as_str().unwrap(), vouch_store::sha256_hex(&bytes));
    assert_eq!(
        kit.get(&tartu, &format!("/vouch/v1/sync/cases/{circuit_id}/documents/1")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Once Tartu's kiosk holds the circuit, no other kiosk reads its documents.
    let claim = kit.post_json(&tartu, &format!("/vouch/v1/sync/cases/{circuit_id}/claim"), &json!({})).await;
    assert_eq!(claim.status(), StatusCode::OK);
    assert_eq!(kit.get(&parnu, &path).await.status(), StatusCode::NOT_FOUND);
}

/// A case an integrator made at the central is seen by two kiosks, claimed by one, run there and pushed back step
/// by step (a step pushed twice is applied once), and decided there: the central then sends the integrator's
/// webhook, once, and the case's audit chain holds the kiosk's work.
#[tokio::test]
async fn a_case_made_at_the_central_is_claimed_run_and_decided_by_one_kiosk() {
    let (receiver, hook) = {
        let r = vouch_testkit::receiver::Receiver::start(&[200]).await;
        let url = r.url.clone();
        (r, url)
    };
    let kit = Kit::start().await;
    let integrator = kit.client(vouch_core::Scope::Integrator, Some(&hook), None);
    let token = kit.eeid_token(&integrator).await;
    let case = kit.create_ok(&token, Some("branch-1")).await["id"].as_str().unwrap().to_string();
    let ((desk_1, _), (desk_2, _)) = (paired_kiosk(&kit, "Desk 1").await, paired_kiosk(&kit, "Desk 2").await);

    let listed: Value = kit.get(&desk_2, "/vouch/v1/sync/cases").await.json().await.unwrap();
    assert_eq!(listed[0]["case"]["id"], case.as_str(), "every kiosk sees an unclaimed case: {listed}");
    // The steps the kiosk records: all but the closing result screen.
    let steps: Vec<String> = listed[0]["flow"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap().to_string())
        .filter(|kind| kind != "result")
        .collect();
    assert!(!steps.is_empty());

    let claim = format!("/vouch/v1/sync/cases/{case}/claim");
    assert_eq!(kit.post_json(&desk_1, &claim, &json!({})).await.status(), StatusCode::OK);
    assert_eq!(kit.post_json(&desk_1, &claim, &json!({})).await.status(), StatusCode::OK, "its own claim again");
    assert_eq!(kit.post_json(&desk_2, &claim, &json!({})).await.status(), StatusCode::CONFLICT, "one kiosk at a time");
    let listed: Value = kit.get(&desk_2, "/vouch/v1/sync/cases").await.json().await.unwrap();
    assert!(listed.as_array().unwrap().is_empty(), "another kiosk's case is not listed: {listed}");

    let push = format!("/vouch/v1/sync/cases/{case}/steps");
    let photo = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"a selfie's bytes");
    for (index, kind) in steps.iter().enumerate() {
        let captures = if kind == "selfie" {
            json!([{"kind": "selfie", "media_type": "image/jpeg", "data": photo}])
        } else {
            json!([])
        };
        let step = json!({"item_id": format!("desk-1-step-{index}"), "index": index, "kind": kind,
                          "outcome": "passed", "detail": {}, "captures": captures});
        let refused = kit.post_json(&desk_2, &push, &step).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT, "a kiosk that does not hold the case pushes nothing");
        let first = kit.post_json(&desk_1, &push, &step).await;
        assert_eq!(first.status(), StatusCode::OK, "{kind}: {}", first.text().await.unwrap());
        let again: Value = kit.post_json(&desk_1, &push, &step).await.json().await.unwrap();
        assert_eq!(again["applied_now"], false, "pushed again after a dropped connection: applied once");
    }
    let recorded = kit.store.case_steps(vouch_core::CaseId::parse(&case).unwrap()).unwrap();
    assert_eq!(recorded.len(), steps.len());

    let mut decision = vouch_testkit::approval();
    decision["item_id"] = json!("desk-1-decision");
    let decide = format!("/vouch/v1/sync/cases/{case}/decision");
    assert_eq!(kit.post_json(&desk_2, &decide, &decision).await.status(), StatusCode::CONFLICT);
    let decided: Value = kit.post_json(&desk_1, &decide, &decision).await.json().await.unwrap();
    assert_eq!(decided["applied_now"], true, "{decided}");
    let again: Value = kit.post_json(&desk_1, &decide, &decision).await.json().await.unwrap();
    assert_eq!(again["applied_now"], false);
    let done: Value =
        kit.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case}")).await.json().await.unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    let sent =
        vouch_testkit::eventually(std::time::Duration::from_secs(20), || receiver.received.lock().unwrap().len() == 1)
            .await;
    assert!(sent, "the central sent the integrator's webhook");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 1, "once");

    let audit = kit.store.audit_events(&case).unwrap();
    let by_kiosk = audit.iter().filter(|e| e.actor.starts_with("kiosk:")).count();
    assert!(by_kiosk >= steps.len() + 2, "claimed, every step and the decision: {by_kiosk}");
    assert!(kit.store.verify_audit(Some(&case)).unwrap().is_intact());
}
