//! DIS customers captured at a kiosk (`Vouch-Kiosk-Flow`): an integrator makes a customer with a flow, a kiosk
//! runs that flow with the demo cameras, the DEMO chip and the real models, and the integrator then reads the
//! customer through DIS as if it had uploaded the selfie, the pages and the chip data itself. At a kiosk on its
//! own, and at a central service whose paired kiosk captures the customer.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use vouch_app::camera::CameraSource;
use vouch_core::{CaseId, EvidenceKind};
use vouch_server::chip::ChipSource;
use vouch_testkit::server::Kit;

use super::kiosk_document::{chip_done, scan_until_captured, write_clip};

const WAIT: Duration = Duration::from_secs(60);

/// Makes a customer, with `headers`; the status, the answer and the Vouch-Case-Id and Vouch-Case-Code headers.
async fn create_customer(
    kit: &Kit,
    token: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Value, Option<(String, String)>) {
    let mut req = kit.http.post(kit.url("/identity/api/v1/customers")).bearer_auth(token);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.unwrap();
    let header = |name: &str| resp.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    let case = header("vouch-case-id").zip(header("vouch-case-code"));
    (resp.status(), resp.json().await.unwrap_or(Value::Null), case)
}

/// The customer as DIS answers it, with its Vouch-Case-Status.
async fn customer(kit: &Kit, token: &str, id: &str) -> (Value, Option<String>) {
    let resp = kit.get(token, &format!("/identity/api/v1/customers/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let status = resp.headers().get("vouch-case-status").map(|v| v.to_str().unwrap().to_string());
    (resp.json::<Value>().await.unwrap()["customer"].clone(), status)
}

fn identity() -> Value {
    json!({"sub": "UTOL898902C3", "given_name": "Anna Maria", "family_name": "Eriksson", "date_of_birth": "1974-08-12",
           "country": "UT", "document_type": "PASSPORT", "document_expires": "2034-04-15"})
}

#[tokio::test]
async fn a_customer_made_with_a_kiosk_flow_is_captured_at_the_kiosk_and_read_back_through_dis() {
    let demo = vouch_testkit::repo_path("assets/demo-camera");
    let kit = Kit::sqlite_with(|c| c.camera = CameraSource::Demo(demo)).await;
    let admin = kit.kiosk_admin().await;
    let selfie_flow = json!({"flow_id": "selfie", "name": "Selfie", "create": true,
                             "steps": [{"kind": "selfie"}, {"kind": "result"}]});
    kit.kiosk_ok(Some(&admin), "flow_save", selfie_flow).await;
    let signing = json!({"flow_id": "sign", "name": "Sign", "create": true, "steps": [{"kind": "signature"}, {"kind": "result"}]});
    kit.kiosk_ok(Some(&admin), "flow_save", signing).await;
    let integrator = kit.integrator();
    let token = kit.oauth_token(&integrator).await;

    // Without the header a customer is DIS's own, with no case; a flow that is not there, or signs documents, is
    // refused and makes no customer.
    let (status, plain, case) = create_customer(&kit, &token, &[]).await;
    assert_eq!((status, case), (StatusCode::OK, None), "{plain}");
    let (_, plain_status) = customer(&kit, &token, plain["id"].as_str().unwrap()).await;
    assert_eq!(plain_status, None);
    for (flow, why) in [("nope", "no flow"), ("sign", "signature step"), ("two words", "saved flow")] {
        let (status, body, _) = create_customer(&kit, &token, &[("Vouch-Kiosk-Flow", flow)]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{flow}: {body}");
        assert!(body.to_string().contains(why), "{flow}: {body}");
    }
    assert_eq!(kit.count("dis_customers"), 1);

    let (status, made, case) = create_customer(&kit, &token, &[("Vouch-Kiosk-Flow", "selfie")]).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (case_id, code) = case.expect("the case and its code");
    let id = made["id"].as_str().unwrap().to_string();
    let (before, status) = customer(&kit, &token, &id).await;
    assert_eq!(status.as_deref(), Some("pending"));
    assert!(before["age"].is_null(), "nothing captured yet: {before}");
    let selfie = kit.get(&token, &format!("/identity/api/v1/customers/{id}/selfie")).await;
    assert_eq!(selfie.status(), StatusCode::NOT_FOUND);

    // The customer types the code at the kiosk and takes the selfie; the clerk approves.
    let opened = kit.kiosk_ok(None, "case_open", json!({"code": code})).await;
    assert_eq!(opened["case_id"], case_id);
    let taken = kit.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 0})).await;
    assert_eq!(taken["session"]["done"][0]["outcome"], "passed", "{taken}");
    let (_, status) = customer(&kit, &token, &id).await;
    assert_eq!(status.as_deref(), Some("in_progress"), "nothing is taken over before the case is over");
    let decision =
        json!({"case_id": case_id, "outcome": "approved", "reason": "Seen at the desk", "identity": identity()});
    kit.kiosk_ok(Some(&admin), "case_decide", decision).await;

    // The next read takes the selfie over as DIS's own: age and gender measured, the selfie cropped, comparable.
    let (after, status) = customer(&kit, &token, &id).await;
    assert_eq!(status.as_deref(), Some("completed"));
    assert!(after["age"]["selfie"].as_str().unwrap().parse::<u32>().is_ok(), "{after}");
    assert!(after["gender"]["selfie"].is_string(), "{after}");
    let selfie = kit.get(&token, &format!("/identity/api/v1/customers/{id}/selfie")).await;
    assert_eq!(selfie.status(), StatusCode::OK);
    let row = kit.store.customer(&integrator.id, &id).unwrap();
    let face = kit.store.face(&row.client_id, row.selfie_face_id.as_deref().unwrap()).unwrap();
    let case = CaseId::parse(&case_id).unwrap();
    let kept = kit.store.latest_evidence_bytes(case, EvidenceKind::Selfie).unwrap().unwrap().1;
    assert_eq!(kit.store.blobs().get(&face.image_sha256).unwrap(), kept, "the kiosk's selfie, byte for byte");
    assert!(row.kiosk_capture.unwrap().taken);
    // Taken once: a second read changes nothing.
    customer(&kit, &token, &id).await;
    assert_eq!(kit.store.customer(&row.client_id, &id).unwrap().selfie_face_id, row.selfie_face_id);

    // Deleting a customer whose case is still open cancels the case: no kiosk captures a deleted customer.
    let (_, _, case) = create_customer(&kit, &token, &[("Vouch-Kiosk-Flow", "selfie")]).await;
    let (other, _) = case.unwrap();
    let other_id =
        kit.text_rows(&format!("SELECT id FROM dis_customers WHERE kiosk_case_id = '{other}'"))[0][0].clone().unwrap();
    let deleted = kit
        .http
        .delete(kit.url(&format!("/identity/api/v1/customers/{other_id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let other = CaseId::parse(&other).unwrap();
    assert_eq!(kit.store.get_case(other).unwrap().status.as_str(), "cancelled");
    assert!(kit.store.verify_audit(Some(&other.to_string())).unwrap().is_intact());
}

#[tokio::test]
async fn a_customer_made_at_the_central_is_captured_at_its_kiosk_with_page_and_chip_and_read_there_through_dis() {
    let central = Kit::start().await;
    let central_admin = central.kiosk_admin().await;
    let steps = json!([{"kind": "document_scan"}, {"kind": "document_chip"}, {"kind": "selfie"}, {"kind": "result"}]);
    let flow = json!({"flow_id": "onboard", "name": "Onboard", "create": true, "steps": steps});
    central.kiosk_ok(Some(&central_admin), "flow_save", flow).await;
    let token = central.oauth_token(&central.integrator()).await;

    let dir = tempfile::tempdir().unwrap();
    let (clip, _) = write_clip(dir.path(), |_| true);
    let faces = vouch_testkit::repo_path("assets/demo-camera");
    let kiosk = Kit::sqlite_with(|c| {
        c.camera = CameraSource::Demo(faces);
        c.document_camera = Some(CameraSource::Demo(clip));
        c.chip = ChipSource::Demo;
        c.central_sync_every = Duration::from_millis(100);
    })
    .await;
    let admin = kiosk.kiosk_admin().await;
    let pairing = central.oauth_token(&central.admin()).await;
    let made = central
        .post_json(&pairing, "/vouch/v1/kiosks/pairing-codes", &json!({"name": "Desk 1", "branch": "Tartu"}))
        .await;
    let code = made.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_string();
    kiosk.kiosk_ok(Some(&admin), "central_pair", json!({"url": central.base, "code": code})).await;

    // A kiosk of another branch is not this one: the customer is made for Tartu's kiosks.
    let (status, refused, _) =
        create_customer(&central, &token, &[("Vouch-Kiosk-Flow", "onboard"), ("Vouch-Kiosk", "no-such-kiosk")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let (status, made, case) =
        create_customer(&central, &token, &[("Vouch-Kiosk-Flow", "onboard"), ("Vouch-Branch", "Tartu")]).await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let (case_id, code) = case.unwrap();
    let id = made["id"].as_str().unwrap().to_string();
    let case = CaseId::parse(&case_id).unwrap();
    let pulled = vouch_testkit::eventually(WAIT, || kiosk.store.central_case(case).unwrap().is_some()).await;
    assert!(pulled, "the kiosk pulled the customer's case");

    // At the kiosk: the page, the chip its MRZ opens, the selfie; the clerk approves.
    kiosk.kiosk_ok(None, "case_open", json!({"code": code})).await;
    let views = scan_until_captured(&kiosk, &case_id, 0).await;
    assert_eq!(views.last().unwrap()["outcome"], "passed");
    kiosk.kiosk_ok(None, "chip_read_begin", json!({"case_id": case_id, "index": 1})).await;
    let chip = chip_done(&kiosk, &case_id, 1).await;
    assert_eq!(chip["outcome"], "passed", "{chip}");
    let selfie = kiosk.kiosk_ok(None, "selfie_capture", json!({"case_id": case_id, "index": 2})).await;
    assert_eq!(selfie["captured"], true, "{selfie}");
    let decision =
        json!({"case_id": case_id, "outcome": "approved", "reason": "Passport checked", "identity": identity()});
    kiosk.kiosk_ok(Some(&admin), "case_decide", decision).await;
    let done =
        vouch_testkit::eventually(WAIT, || central.store.get_case(case).unwrap().status.as_str() == "completed").await;
    assert!(done, "the central completed the case");

    // The integrator reads the customer at the central: the page's MRZ and the chip's holder, the selfie's age.
    let (read, status) = customer(&central, &token, &id).await;
    assert_eq!(status.as_deref(), Some("completed"));
    assert!(read["age"]["selfie"].is_string(), "{read}");
    assert_eq!(
        (read["surname"]["mrz"].as_str(), read["surname"]["chip"].as_str()),
        (Some("ERIKSSON"), Some("ERIKSSON")),
        "{read}"
    );
    assert_eq!(read["document"]["documentNumber"]["mrz"], "L898902C3", "{read}");
    assert_eq!(read["document"]["pageTypes"], json!(["front"]), "{read}");
    for path in ["selfie", "document/pages/front", "document/chip/data"] {
        let got = central.get(&token, &format!("/identity/api/v1/customers/{id}/{path}")).await;
        assert_eq!(got.status(), StatusCode::OK, "{path}");
    }
    let inspected =
        central.post_json(&token, &format!("/identity/api/v1/customers/{id}/document/inspect"), &json!({})).await;
    assert_eq!(inspected.status(), StatusCode::OK);
    let inspected: Value = inspected.json().await.unwrap();
    assert!(inspected.to_string().contains("chip"), "{inspected}");
}
