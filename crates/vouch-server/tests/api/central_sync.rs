//! A kiosk and its central service, both real servers: the kiosk is paired from its settings, pulls a case an
//! integrator made at the central, runs it with the demo camera and the real face models while its link is cut,
//! and syncs it when the link returns; the central then completes the case and sends the integrator's webhook.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_app::camera::CameraSource;
use vouch_core::{CaseId, EvidenceKind, Scope};
use vouch_testkit::relay::Relay;
use vouch_testkit::server::Kit;

const WAIT: Duration = Duration::from_secs(30);

/// A central reached through `links`, whose default flow is a selfie, with an integrator that has a webhook, and
/// an eeID token.
async fn central_with_selfie_flow(hook: &str, links: &[&Relay]) -> (Kit, String) {
    let central = Kit::start_with(|c| c.allowed_hosts = links.iter().map(|l| l.authority()).collect()).await;
    for link in links {
        link.forward_to(&central.base);
    }
    let admin = central.kiosk_admin().await;
    central.default_flow(&admin, "face", json!([{"kind": "selfie"}, {"kind": "result"}])).await;
    let integrator = central.client(Scope::Integrator, Some(hook), None);
    let token = central.eeid_token(&integrator).await;
    (central, token)
}

/// A kiosk on its own SQLite with the demo camera, syncing every 100 ms once paired.
async fn kiosk() -> (Kit, String) {
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kiosk = Kit::sqlite_with(|c| {
        c.camera = CameraSource::Demo(demo);
        c.central_sync_every = Duration::from_millis(100);
    })
    .await;
    let admin = kiosk.kiosk_admin().await;
    (kiosk, admin)
}

async fn pairing_code(central: &Kit, name: &str) -> String {
    let admin = central.oauth_token(&central.admin()).await;
    let made = central.post_json(&admin, "/vouch/v1/kiosks/pairing-codes", &json!({"name": name})).await;
    assert_eq!(made.status(), StatusCode::CREATED);
    made.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string()
}

fn identity() -> Value {
    json!({"sub": "EE30303039914", "given_name": "Mari-Liis", "family_name": "Männik", "date_of_birth": "1903-03-03", "country": "EE",
           "document_type": "PASSPORT", "document_expires": "2031-05-01"})
}

fn evidence(kit: &Kit, case: CaseId, kind: EvidenceKind) -> Vec<String> {
    kit.store.case_evidence(case).unwrap().into_iter().filter(|e| e.kind == kind).map(|e| e.sha256).collect()
}

#[tokio::test]
async fn a_kiosk_runs_a_central_case_offline_and_the_central_completes_it_when_the_link_returns() {
    let receiver = vouch_testkit::receiver::Receiver::start(&[200]).await;
    let relay = Relay::bind().await;
    let (central, token) = central_with_selfie_flow(&receiver.url, &[&relay]).await;
    let (kiosk, admin) = kiosk().await;

    // Pairing from the kiosk's settings: a wrong code is the central's refusal, the right one pairs once.
    let (status, wrong) =
        kiosk.kiosk(Some(&admin), "central_pair", json!({"url": relay.url, "code": "ABCD-EFGH-JKMN"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong}");
    assert!(wrong["message"].as_str().unwrap().contains("refused"), "{wrong}");
    let (status, insecure) =
        kiosk.kiosk(Some(&admin), "central_pair", json!({"url": "http://192.0.2.1:8270", "code": "x"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "plain http off this machine: {insecure}");
    let code = pairing_code(&central, "Desk 1").await;
    let paired = kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": relay.url, "code": code})).await;
    assert_eq!(paired["link"]["name"], "Desk 1", "{paired}");
    let (status, _) = kiosk.kiosk(None, "central_status", json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "only the admin sees the central link");
    let id = paired["link"]["kiosk_id"].as_str().unwrap();
    let sealed = kiosk.text_rows("SELECT hex(secret_sealed) FROM central_link")[0][0].clone().unwrap();
    let secret = kiosk.store.central_secret().unwrap();
    assert!(secret.len() >= 32 && !sealed.contains(&hex(&secret)), "the kiosk's secret is sealed at rest");

    // An integrator makes a case at the central; the kiosk pulls it with its flow and code.
    let made = central.create_ok(&token, Some("walk-to-desk-1")).await;
    let case = CaseId::parse(made["id"].as_str().unwrap()).unwrap();
    let pulled = vouch_testkit::eventually(WAIT, || kiosk.store.central_case(case).unwrap().is_some()).await;
    assert!(pulled, "the kiosk pulled the central's case");
    let code = vouch_store::case_codes::format_code(&central.store.case_code(case).unwrap());

    // The link goes down; the customer comes anyway and the kiosk runs the case on what it has.
    relay.cut();
    let opened = kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
    assert_eq!(opened["case_id"], case.to_string());
    let selfie = kiosk.kiosk_ok(None, "selfie_capture", json!({"case_id": case.to_string(), "index": 0})).await;
    assert_eq!(selfie["session"]["done"][0]["outcome"], "passed", "{selfie}");
    let decision = json!({"case_id": case.to_string(), "outcome": "approved", "reason": "Passport checked at the desk",
                          "identity": identity()});
    kiosk.kiosk_ok(Some(&admin), "case_decide", decision).await;
    let (status, offline) = kiosk.kiosk(Some(&admin), "central_sync_now", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{offline}");
    let waiting = kiosk.kiosk_ok(Some(&admin), "central_status", json!({})).await;
    assert_eq!(waiting["waiting"], 2, "the selfie step and the decision wait: {waiting}");
    assert!(waiting["link"]["last_error"].as_str().is_some(), "{waiting}");
    assert_eq!(central.store.get_case(case).unwrap().status.as_str(), "pending", "nothing reached the central");
    let (status, kept) = kiosk.kiosk(Some(&admin), "central_unpair", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "not while work waits to go up: {kept}");

    // The link returns: the kiosk claims the case, pushes the step with its selfie and the decision, in order.
    relay.restore();
    let done =
        vouch_testkit::eventually(WAIT, || central.store.get_case(case).unwrap().status.as_str() == "completed").await;
    assert!(done, "the central completed the case");
    let caught_up = vouch_testkit::eventually(WAIT, || {
        let status = kiosk.store.central_status().unwrap();
        status.waiting == 0 && status.link.is_some_and(|l| l.last_error.is_none())
    })
    .await;
    assert!(caught_up, "the kiosk's next round finishes, with nothing left to send");
    assert_eq!(central.store.case_holder(case).unwrap().as_deref(), Some(id), "the kiosk holds the case there");
    let taken = evidence(&kiosk, case, EvidenceKind::Selfie);
    assert!((1..=3).contains(&taken.len()), "the selfie step keeps up to three frames: {taken:?}");
    assert_eq!(evidence(&central, case, EvidenceKind::Selfie), taken, "the same frames, in order, byte for byte");
    let at_central = central.store.blobs().get(&taken[0]).unwrap();
    assert_eq!(at_central, kiosk.store.blobs().get(&taken[0]).unwrap());

    let sent = vouch_testkit::eventually(WAIT, || receiver.received.lock().unwrap().len() == 1).await;
    assert!(sent, "the central sent the integrator's webhook");
    let read: Value =
        central.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case}")).await.json().await.unwrap();
    assert_eq!(read["status"], "completed", "{read}");
    assert!(central.store.verify_audit(Some(&case.to_string())).unwrap().is_intact());
    let kinds: Vec<String> =
        central.store.audit_events(&case.to_string()).unwrap().into_iter().map(|e| e.action).collect();
    for action in ["case_claimed", "step_recorded", "case_decided"] {
        assert!(kinds.iter().any(|k| k == action), "{action} in {kinds:?}");
    }
    assert!(kiosk.store.verify_audit(Some(&case.to_string())).unwrap().is_intact());

    // Everything reached the central: the kiosk may be unpaired, and pairs again with a new code.
    let unpaired = kiosk.kiosk_ok(Some(&admin), "central_unpair", json!({})).await;
    assert!(unpaired["link"].is_null(), "{unpaired}");
    let code = pairing_code(&central, "Desk 1 again").await;
    let again = kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": relay.url, "code": code})).await;
    assert_eq!(again["link"]["name"], "Desk 1 again");
}

#[tokio::test]
async fn two_kiosks_run_the_same_case_offline_and_the_second_is_told_the_first_holds_it() {
    let receiver = vouch_testkit::receiver::Receiver::start(&[200]).await;
    let (first_link, second_link) = (Relay::bind().await, Relay::bind().await);
    let (central, token) = central_with_selfie_flow(&receiver.url, &[&first_link, &second_link]).await;
    let ((first, first_admin), (second, second_admin)) = (kiosk().await, kiosk().await);
    for (kiosk, admin, link, name) in
        [(&first, &first_admin, &first_link, "Desk 1"), (&second, &second_admin, &second_link, "Desk 2")]
    {
        let code = pairing_code(&central, name).await;
        kiosk.kiosk_ok(Some(admin), "central_pair", json!({"url": link.url, "code": code})).await;
    }
    let made = central.create_ok(&token, None).await;
    let case = CaseId::parse(made["id"].as_str().unwrap()).unwrap();
    for kiosk in [&first, &second] {
        let pulled = vouch_testkit::eventually(WAIT, || kiosk.store.central_case(case).unwrap().is_some()).await;
        assert!(pulled);
    }
    // The second is offline while it runs the case; the first opens it online, which claims it there.
    second_link.cut();
    let code = vouch_store::case_codes::format_code(&central.store.case_code(case).unwrap());
    for (kiosk, admin) in [(&first, &first_admin), (&second, &second_admin)] {
        kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
        kiosk.kiosk_ok(None, "selfie_capture", json!({"case_id": case.to_string(), "index": 0})).await;
        let decision = json!({"case_id": case.to_string(), "outcome": "rejected", "reason": "left the desk"});
        kiosk.kiosk_ok(Some(admin), "case_decide", decision).await;
    }
    let done =
        vouch_testkit::eventually(WAIT, || central.store.get_case(case).unwrap().status.as_str() == "failed").await;
    assert!(done, "the first kiosk's decision stands");
    second_link.restore();
    let told = vouch_testkit::eventually(WAIT, || !second.store.central_status().unwrap().refused.is_empty()).await;
    assert!(told, "the second kiosk learns that another kiosk holds the case");
    let status = second.kiosk_ok(Some(&second_admin), "central_status", json!({})).await;
    assert_eq!(status["refused"][0]["case_id"], case.to_string(), "{status}");
    assert!(status["refused"][0]["reason"].as_str().unwrap().contains("another kiosk"), "{status}");
    assert_eq!(central.store.case_steps(case).unwrap().len(), 1, "only the first kiosk's step");
    assert_eq!(first.store.central_case(case).unwrap(), Some(true), "claimed when it was opened");

    // Online, a kiosk that does not hold a case is told so when a person opens it.
    let third = central.create_ok(&token, None).await;
    let third = CaseId::parse(third["id"].as_str().unwrap()).unwrap();
    for kiosk in [&first, &second] {
        assert!(vouch_testkit::eventually(WAIT, || kiosk.store.central_case(third).unwrap().is_some()).await);
    }
    let code = vouch_store::case_codes::format_code(&central.store.case_code(third).unwrap());
    first.kiosk_ok(None, "case_open", json!({"code": code})).await;
    let (status, body) = second.kiosk(None, "case_open", json!({"code": code})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["message"].as_str().unwrap().contains("another desk"), "{body}");
    let withdrawn = vouch_testkit::eventually(WAIT, || {
        second.store.get_case(third).unwrap().status == vouch_core::CaseStatus::Cancelled
    })
    .await;
    assert!(withdrawn, "a case the central no longer offers leaves the other kiosk's queue");
    assert_eq!(first.store.get_case(third).unwrap().status, vouch_core::CaseStatus::Pending, "the holder keeps it");
    let decided_by = central.store.get_case(case).unwrap().decision.unwrap().actor;
    let first_id = first.store.central_link().unwrap().unwrap().client_id;
    assert_eq!(decided_by, format!("kiosk:{first_id}"));
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}

#[tokio::test]
async fn a_kiosk_pairs_over_tls_with_a_central_whose_generated_certificate_it_pins() {
    let central = Kit::start_with(|c| c.tls = vouch_server::tls::TlsSetting::SelfSigned).await;
    assert!(central.base.starts_with("https://"), "{}", central.base);
    let fingerprint = central.running.tls_fingerprint.unwrap().to_string();
    let (kiosk, admin) = kiosk().await;
    let code = pairing_code(&central, "Desk 1").await;
    let pair = |fingerprint: Option<String>| {
        let args = json!({"url": central.base, "fingerprint": fingerprint, "code": code});
        kiosk.kiosk(Some(&admin), "central_pair", args)
    };
    let (status, unknown) = pair(None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no CA vouches for it: {unknown}");
    assert!(unknown["message"].as_str().unwrap().contains("certificate"), "{unknown}");
    let other = "AA:".repeat(31) + "AA";
    let (status, wrong) = pair(Some(other)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "another certificate's fingerprint: {wrong}");
    let (status, paired) = pair(Some(fingerprint.clone())).await;
    assert_eq!(status, StatusCode::OK, "{paired}");
    assert_eq!(paired["link"]["fingerprint"], fingerprint.as_str());

    let integrator = central.client(Scope::Integrator, None, None);
    let token = central.eeid_token(&integrator).await;
    let made = central.create_ok(&token, None).await;
    let case = CaseId::parse(made["id"].as_str().unwrap()).unwrap();
    let pulled = vouch_testkit::eventually(WAIT, || kiosk.store.central_case(case).unwrap().is_some()).await;
    assert!(pulled, "pulled over TLS from the pinned central");
}

#[tokio::test]
async fn a_pulled_case_brings_the_integrators_reference_photo() {
    let central = Kit::start().await;
    let admin = central.kiosk_admin().await;
    let steps = json!([{"kind": "selfie"}, {"kind": "face_match", "threshold": 0.5}, {"kind": "result"}]);
    central.default_flow(&admin, "face", steps).await;
    let integrator = central.client(Scope::Integrator, None, None);
    let token = central.eeid_token(&integrator).await;
    let photo = vouch_testkit::fixture("faces/fr_obama.jpg");
    let upload = |case: CaseId| {
        let (central, token, photo) = (&central, token.clone(), photo.clone());
        async move {
            let path = format!("/vouch/v1/cases/{case}/reference-photo");
            central.send_bytes(reqwest::Method::PUT, &token, &path, "image/jpeg", photo).await
        }
    };
    let early = CaseId::parse(central.create_ok(&token, None).await["id"].as_str().unwrap()).unwrap();
    assert_eq!(upload(early).await.0, StatusCode::OK);
    let (kiosk, kiosk_admin) = kiosk().await;
    let code = pairing_code(&central, "Desk 1").await;
    kiosk.kiosk_ok(Some(&kiosk_admin), "central_pair", json!({"url": central.base, "code": code})).await;
    let late = CaseId::parse(central.create_ok(&token, None).await["id"].as_str().unwrap()).unwrap();
    assert!(vouch_testkit::eventually(WAIT, || kiosk.store.central_case(late).unwrap().is_some()).await);
    assert_eq!(upload(late).await.0, StatusCode::OK, "the photo comes after the kiosk pulled the case");
    for case in [early, late] {
        let arrived = vouch_testkit::eventually(WAIT, || {
            kiosk.store.latest_evidence_bytes(case, EvidenceKind::ReferencePhoto).unwrap().is_some()
        })
        .await;
        assert!(arrived, "the reference photo reached the kiosk");
        let (_, bytes) = kiosk.store.latest_evidence_bytes(case, EvidenceKind::ReferencePhoto).unwrap().unwrap();
        assert_eq!(bytes, photo);
    }
}

/// A person walks in without a case: the clerk starts one at the kiosk while its link is down, on the flow the
/// central's admin set for this kiosk's walk-ins; when the link returns, the central makes it as the integrator's
/// identification request, completes it with the kiosk's work and sends the integrator's webhook.
#[tokio::test]
async fn a_walk_in_started_offline_becomes_the_integrators_case_at_the_central() {
    let receiver = vouch_testkit::receiver::Receiver::start(&[200]).await;
    let relay = Relay::bind().await;
    let (central, token) = central_with_selfie_flow(&receiver.url, &[&relay]).await;
    let integrator = central.store.list_clients().unwrap().into_iter().find(|c| c.scope == Scope::Integrator).unwrap();
    let (kiosk, admin) = kiosk().await;
    let code = pairing_code(&central, "Desk 1").await;
    let paired = kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": relay.url, "code": code})).await;
    let kiosk_id = paired["link"]["kiosk_id"].as_str().unwrap().to_string();
    let none = kiosk.kiosk_ok(Some(&admin), "walk_ins", json!({})).await;
    assert!(none["flow_name"].is_null(), "no walk-ins until the central's admin sets them up: {none}");
    let (status, refused) = kiosk.kiosk(Some(&admin), "walk_in_open", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");

    let central_admin = central.oauth_token(&central.admin()).await;
    let walk_ins = format!("/vouch/v1/kiosks/{kiosk_id}/walk-ins");
    let put = |body: Value| {
        let (http, url, token) = (central.http.clone(), central.url(&walk_ins), central_admin.clone());
        async move { http.put(url).bearer_auth(token).json(&body).send().await.unwrap() }
    };
    let wrong = put(json!({"client_id": kiosk_id, "flow_id": "face"})).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY, "walk-ins go to an integrator, not a kiosk");
    let set = put(json!({"client_id": integrator.id, "flow_id": "face"})).await;
    assert_eq!(set.status(), StatusCode::OK);
    let kept = vouch_testkit::eventually(WAIT, || kiosk.store.walk_in_flow().unwrap().is_some()).await;
    assert!(kept, "the kiosk keeps the walk-in flow at its next sync");

    // Offline, the clerk starts the walk-in and runs it with the person.
    relay.cut();
    let opened = kiosk.kiosk_ok(Some(&admin), "walk_in_open", json!({})).await;
    let case = CaseId::parse(opened["case_id"].as_str().unwrap()).unwrap();
    let selfie = kiosk.kiosk_ok(None, "selfie_capture", json!({"case_id": case.to_string(), "index": 0})).await;
    assert_eq!(selfie["session"]["done"][0]["outcome"], "passed", "{selfie}");
    let decision = json!({"case_id": case.to_string(), "outcome": "approved", "reason": "Passport checked at the desk",
                          "identity": identity()});
    kiosk.kiosk_ok(Some(&admin), "case_decide", decision).await;
    assert!(matches!(central.store.get_case(case), Err(vouch_store::StoreError::NotFound)), "not there yet");
    // A round while the link is down withdraws nothing: the walk-in is this kiosk's own.
    let (status, _) = kiosk.kiosk(Some(&admin), "central_sync_now", json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    relay.restore();
    let done = vouch_testkit::eventually(WAIT, || {
        central.store.get_case(case).is_ok_and(|c| c.status == vouch_core::CaseStatus::Completed)
    })
    .await;
    assert!(done, "the central made the walk-in and completed it");
    let made = central.store.get_case(case).unwrap();
    assert_eq!((made.client_id.as_str(), made.api.as_str()), (integrator.id.as_str(), "eeid"));
    assert_eq!(central.store.case_holder(case).unwrap().as_deref(), Some(kiosk_id.as_str()));
    assert_eq!(evidence(&central, case, EvidenceKind::Selfie), evidence(&kiosk, case, EvidenceKind::Selfie));
    let sent = vouch_testkit::eventually(WAIT, || receiver.received.lock().unwrap().len() == 1).await;
    assert!(sent, "the integrator is told of the walk-in as of any request");
    let read: Value =
        central.get(&token, &format!("/eeid/api/ident/v1/identification_requests/{case}")).await.json().await.unwrap();
    assert_eq!(read["status"], "completed", "{read}");
    let actions: Vec<String> =
        central.store.audit_events(&case.to_string()).unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions.first().map(String::as_str), Some("case_created"), "{actions:?}");
    assert!(central.store.verify_audit(Some(&case.to_string())).unwrap().is_intact());
    assert_eq!(kiosk.store.get_case(case).unwrap().status, vouch_core::CaseStatus::Completed, "kept, not withdrawn");

    // The admin stops the kiosk's walk-ins: the kiosk learns it at its next sync.
    let stopped = central.http.delete(central.url(&walk_ins)).bearer_auth(&central_admin).send().await.unwrap();
    assert_eq!(stopped.status(), StatusCode::OK);
    let gone = vouch_testkit::eventually(WAIT, || kiosk.store.walk_in_flow().unwrap().is_none()).await;
    assert!(gone);
    let (status, _) = kiosk.kiosk(Some(&admin), "walk_in_open", json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

/// Verifik onboardings made at the central run at a kiosk, whose own gallery is empty: the kiosk captures the face
/// (offline too), and the central searches its gallery when the kiosk reaches the duplicate check. The first
/// onboards the face there; the same face onboarding again under another name is refused, at the kiosk as at the
/// central.
#[tokio::test]
async fn verifik_onboardings_run_at_a_kiosk_and_the_central_searches_its_own_gallery() {
    use crate::verifik::{login_flow, record, token};
    let relay = Relay::bind().await;
    let central = Kit::start_with(|c| c.allowed_hosts = vec![relay.authority()]).await;
    relay.forward_to(&central.base);
    let jwt = token(&central, &central.client(Scope::Integrator, None, None)).await;
    let (project, flow) = login_flow(&central, &jwt).await;
    let (kiosk, admin) = kiosk().await;
    let code = pairing_code(&central, "Desk 1").await;
    kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": relay.url, "code": code})).await;
    let onboard = |name: &str| {
        let body = json!({"project": project, "projectFlow": flow, "identifier": "barack@example.com",
                          "type": "onboarding", "name": name});
        let (central, jwt) = (&central, jwt.clone());
        async move {
            let (status, body) = record(central, reqwest::Method::POST, &jwt, "/biometric-validations", body).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            CaseId::parse(body["data"]["biometricValidation"]["_id"].as_str().unwrap()).unwrap()
        }
    };
    let read = |case: CaseId| {
        let (central, jwt) = (&central, jwt.clone());
        async move {
            let path = format!("/biometric-validations/{case}");
            record(central, reqwest::Method::GET, &jwt, &path, json!({})).await.1["data"].clone()
        }
    };
    // Runs the validation at the kiosk with the demo camera (Obama); the link is cut while the face is captured. The
    // duplicate check waits for the link; then the customer retries, or (`left`) the kiosk's next round runs it.
    let run_at_kiosk = |case: CaseId, left: bool| {
        let (kiosk, central, relay) = (&kiosk, &central, &relay);
        async move {
            assert!(vouch_testkit::eventually(WAIT, || kiosk.store.central_case(case).unwrap().is_some()).await);
            let code = vouch_store::case_codes::format_code(&central.store.case_code(case).unwrap());
            relay.cut();
            let opened = kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
            assert_eq!(opened["next"]["step"]["kind"], "liveness", "{opened}");
            let at = |index: u32| json!({"case_id": case.to_string(), "index": index});
            kiosk.kiosk_ok(None, "liveness_begin", at(0)).await;
            let live = kiosk.kiosk_ok(None, "liveness_frame", at(0)).await;
            assert_eq!(live["passed"], true, "{live}");
            let (status, offline) = kiosk.kiosk(None, "duplicate_check_run", at(1)).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{offline}");
            assert_eq!(offline["reason"], "central_unreachable", "{offline}");
            assert_eq!(kiosk.store.case_steps(case).unwrap().len(), 1, "the check waits, nothing recorded");
            relay.restore();
            if left {
                let ran = vouch_testkit::eventually(WAIT, || kiosk.store.case_steps(case).unwrap().len() == 2).await;
                assert!(ran, "the kiosk's sync had the central run the waiting check");
                kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await
            } else {
                kiosk.kiosk_ok(None, "duplicate_check_run", at(1)).await["session"].clone()
            }
        }
    };

    let first = onboard("Barack H. Obama").await;
    let session = run_at_kiosk(first, false).await;
    assert_eq!(session["done"][1]["outcome"], "passed", "nobody with this face at the central: {session}");
    assert_eq!(session["status"], "completed", "decided by its steps at the central, and kept here: {session}");
    let done = read(first).await;
    assert_eq!(done["status"], "completed", "{done}");
    let person = done["person"].as_str().unwrap().to_string();
    let found: Value =
        central.get(&jwt, &format!("/verifik/v2/face-recognition/persons/{person}")).await.json().await.unwrap();
    assert_eq!(found["data"]["name"], "Barack H. Obama", "the kiosk's capture enrolled him at the central");
    assert_eq!(
        evidence(&central, first, EvidenceKind::LivenessFrames),
        evidence(&kiosk, first, EvidenceKind::LivenessFrames),
        "the central searched with the face the kiosk captured"
    );

    let second = onboard("Not Obama").await;
    let session = run_at_kiosk(second, true).await;
    assert_eq!(session["done"][1]["outcome"], "failed", "{session}");
    assert_eq!(session["status"], "failed", "{session}");
    let refused = read(second).await;
    assert_eq!(refused["status"], "failed", "{refused}");
    assert_eq!(refused["verificationResults"]["duplicateCheck"]["passed"], false, "{refused}");

    // A liveness the kiosk failed (as its camera records it after three failed tries) ends the flow: the central
    // decides the validation when that step arrives, and the kiosk keeps its decision rather than ask a clerk.
    let spoof = onboard("Spoof").await;
    assert!(vouch_testkit::eventually(WAIT, || kiosk.store.central_case(spoof).unwrap().is_some()).await);
    let code = vouch_store::case_codes::format_code(&central.store.case_code(spoof).unwrap());
    kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
    let failed = vouch_store::flows::NewStep {
        case_id: spoof,
        index: 0,
        kind: vouch_core::flow::StepKind::Liveness,
        outcome: vouch_core::flow::StepOutcome::Failed,
        detail: json!({"reason": "spoof"}),
    };
    kiosk.store.record_step(failed, "kiosk").unwrap();
    let kept = vouch_testkit::eventually(WAIT, || {
        kiosk.store.get_case(spoof).unwrap().status == vouch_core::CaseStatus::Failed
    })
    .await;
    assert!(kept, "the kiosk keeps the central's decision");
    assert_eq!(read(spoof).await["status"], "failed");
    let decided = kiosk.store.get_case(spoof).unwrap().decision.unwrap();
    assert_eq!(decided.actor, vouch_app::subject_cases::STEPS_ACTOR, "{decided:?}");

    // Each step is recorded once at the central: the check the central ran is not sent back up.
    for case in [first, second] {
        let steps = central.store.case_steps(case).unwrap();
        assert_eq!(steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(), ["liveness", "duplicate_check"]);
        assert!(central.store.verify_audit(Some(&case.to_string())).unwrap().is_intact());
        assert!(kiosk.store.verify_audit(Some(&case.to_string())).unwrap().is_intact());
    }
    let status = kiosk.kiosk_ok(Some(&admin), "central_sync_now", json!({})).await;
    assert_eq!((status["refused"].clone(), status["waiting"].clone()), (json!([]), json!(0)), "{status}");
}

/// A DANAconnect circuit made at the central is signed at a paired kiosk while its link is down: the signer reads the
/// documents the kiosk took down with the case and draws; when the link returns, the central signs the documents
/// with its own keys and completes the circuit with the clerk's decision.
#[tokio::test]
async fn a_circuit_from_the_central_is_signed_at_a_kiosk_offline_and_the_central_signs_its_documents() {
    use crate::signing::{doc, drawn, pdf, signer, signing_flow, start, zip_files};
    let relay = Relay::bind().await;
    let central = Kit::start_with(|c| c.allowed_hosts = vec![relay.authority()]).await;
    relay.forward_to(&central.base);
    signing_flow(&central, &central.kiosk_admin().await).await;
    let creds = central.client(Scope::Integrator, Some("http://127.0.0.1:9/hook"), None);
    let grant = "grant_type=client_credentials";
    let token: Value =
        central.oauth("/danaconnect/oauth2/token", Some(&creds.basic()), grant).await.json().await.unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    let (contract, annex) = (pdf("Loan contract"), pdf("Annex I: repayment schedule"));
    let body = json!({"id": "loan-78", "signer": signer(),
                      "docs": [doc("Contract.pdf", &contract), doc("Annex.pdf", &annex)]});
    let (status, started) = start(&central, &token, &body).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let circuit = CaseId::parse(started["circuitId"].as_str().unwrap()).unwrap();

    let (kiosk, admin) = kiosk().await;
    let code = pairing_code(&central, "Desk 1").await;
    kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": relay.url, "code": code})).await;
    assert!(vouch_testkit::eventually(WAIT, || kiosk.store.central_case(circuit).unwrap().is_some()).await);
    let code = vouch_store::case_codes::format_code(&central.store.case_code(circuit).unwrap());

    relay.cut();
    let case_id = circuit.to_string();
    kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
    let consent = json!({"case_id": case_id, "index": 0, "kind": "consent", "outcome": "passed"});
    kiosk.kiosk_ok(None, "step_submit", consent).await;
    let listed = kiosk.kiosk_ok(None, "signature_documents", json!({"case_id": case_id, "index": 1})).await;
    let names: Vec<&str> =
        listed["documents"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Contract.pdf", "Annex.pdf"], "{listed}");
    let shown =
        kiosk.kiosk_ok(None, "signature_document", json!({"case_id": case_id, "index": 1, "position": 0})).await;
    use base64::Engine;
    let shown = base64::engine::general_purpose::STANDARD.decode(shown["pdf"].as_str().unwrap()).unwrap();
    assert_eq!(shown, contract, "the signer reads the central's document, offline");
    let d = drawn();
    let sign = json!({"case_id": case_id, "index": 1, "pad": d["pad"], "samples": d["samples"], "agreed": true});
    let signed = kiosk.kiosk_ok(None, "signature_submit", sign.clone()).await;
    assert_eq!(
        (signed["signed"]["documents"].clone(), signed["signed"]["for_central"].clone()),
        (json!(2), json!(true))
    );
    assert_eq!(signed["session"]["next"]["state"], "awaiting_decision");
    let (status, _) = kiosk.kiosk(None, "signature_submit", sign).await;
    assert_eq!(status, StatusCode::CONFLICT, "signed once");
    let decision = json!({"case_id": case_id, "outcome": "approved", "reason": "Passport checked at the desk",
                          "identity": identity()});
    kiosk.kiosk_ok(Some(&admin), "case_decide", decision).await;
    let local = kiosk.store.sign_process(&format!("central-{circuit}")).unwrap();
    assert!(local.documents.iter().all(|d| d.current_sha256 == d.original_sha256), "the kiosk signs nothing itself");
    assert_eq!(central.store.get_case(circuit).unwrap().status.as_str(), "pending", "nothing reached the central");

    relay.restore();
    let done = vouch_testkit::eventually(WAIT, || {
        central.store.get_case(circuit).unwrap().status == vouch_core::CaseStatus::Completed
    })
    .await;
    assert!(done, "the central signed the documents and took the clerk's decision");
    let path = format!("/danaconnect/api/biometric/circuits/{circuit}");
    let state: Value = central.get(&token, &path).await.json().await.unwrap();
    assert_eq!(state["status"], "completed", "{state}");
    assert!(state["signedAt"].is_string() && state["documents"][1]["signed"] == true, "{state}");
    let zip = central.get(&token, &format!("{path}/evidence")).await;
    assert_eq!(zip.status(), StatusCode::OK);
    let files = zip_files(&zip.bytes().await.unwrap());
    let contract_signed = &files["documents/01-Contract.pdf"];
    assert!(contract_signed.starts_with(&contract) && contract_signed.len() > contract.len(), "signed incrementally");
    let iso = vouch_signature::iso19794_7::SignRecord::decode(&files["signature/signature-data-1.iso19794-7"]).unwrap();
    assert!(iso.points.len() > 12, "the pen data the kiosk drew");
    let signed_there = central.store.signer(circuit).unwrap().unwrap();
    assert!(signed_there.signed_at.is_some() && signed_there.previewed_at.is_some(), "{signed_there:?}");
    let pen = vouch_store::signing::PEN_MEDIA_TYPE;
    let raw_pen_at_central = central.store.case_evidence(circuit).unwrap().into_iter().any(|e| e.media_type == pen);
    assert!(!raw_pen_at_central, "the central keeps the pen data as the ceremony does, escrowed, not raw");
    assert!(central.store.verify_audit(Some(&case_id)).unwrap().is_intact());
    assert!(kiosk.store.verify_audit(Some(&case_id)).unwrap().is_intact());
    let caught_up = vouch_testkit::eventually(WAIT, || kiosk.store.central_status().unwrap().waiting == 0).await;
    assert!(caught_up && kiosk.store.central_status().unwrap().refused.is_empty());
}
