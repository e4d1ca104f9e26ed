//! DIS Trust Platform over HTTP: `POST /customers/{id}/store` keeps a signed record of the customer's onboarding
//! (real selfie, liveness selfie and specimen page, real models) that outlives the customer until retention, and
//! admins read it back from `/vouch/v1/trust-records`.

use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vouch_testkit::server::Kit;

use crate::signing::{openssl_verifies, zip_files};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

async fn store(kit: &Kit, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    kit.send_json(Method::POST, token, &format!("/identity/api/v1/customers/{id}/store"), &body).await
}

async fn records(kit: &Kit, admin: &str, query: &str) -> Vec<Value> {
    let resp = kit.get(admin, &format!("/vouch/v1/trust-records?{query}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Vec<Value>>().await.unwrap()
}

/// A customer with a selfie, a passive liveness selfie and a specimen passport page.
pub(crate) async fn onboarded_customer(kit: &Kit, token: &str) -> (String, Vec<u8>) {
    let id = kit.dis_customer(token).await;
    let base = format!("/identity/api/v1/customers/{id}");
    let selfie = vouch_testkit::fixture("faces/fr_obama.jpg");
    let (status, body) =
        kit.send_json(Method::PUT, token, &format!("{base}/selfie"), &json!({"image": {"data": b64(&selfie)}})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = kit.send_json(Method::PUT, token, &format!("{base}/liveness"), &json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = kit
        .send_json(
            Method::POST,
            token,
            &format!("{base}/liveness/selfies"),
            &json!({"image": {"data": b64(&selfie)}, "assertion": "NONE"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        kit.send_json(Method::PUT, token, &format!("{base}/document"), &json!({"sources": ["MRZ"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = vouch_testkit::read(&vouch_testkit::shared_testdata("documents_dev/fastmrz/td3.jpg"));
    let (status, body) =
        kit.send_bytes(Method::PUT, token, &format!("{base}/document/pages"), "application/octet-stream", page).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (id, selfie)
}

#[tokio::test]
async fn a_stored_customer_is_a_signed_record_that_outlives_the_customer_until_retention() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let (id, selfie) = onboarded_customer(&kit, &token).await;

    // What DIS refuses, and what it leaves.
    for bad in [
        json!({}),
        json!({"onboardingStatus": "DONE"}),
        json!({"onboardingStatus": "FINISHED", "externalId": "has spaces"}),
        json!({"onboardingStatus": "FINISHED", "externalId": "x".repeat(65)}),
    ] {
        let (status, body) = store(&kit, &token, &id, bad.clone()).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST_BODY")),
            "{bad}"
        );
    }
    let (status, body) = store(&kit, &token, "no-such-customer", json!({"onboardingStatus": "IN_PROGRESS"})).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::NOT_FOUND, Some("NOT_FOUND")), "{body}");
    let anonymous = kit
        .http
        .post(kit.url(&format!("/identity/api/v1/customers/{id}/store")))
        .json(&json!({"onboardingStatus": "IN_PROGRESS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let other = kit.oauth_token(&kit.integrator()).await;
    let (status, _) = store(&kit, &other, &id, json!({"onboardingStatus": "IN_PROGRESS"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another client's customer is not found");
    assert_eq!(kit.count("trust_records"), 0);

    // In progress, then finished; a finished record is the last.
    let (status, body) = store(&kit, &token, &id, json!({"onboardingStatus": "IN_PROGRESS"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) =
        store(&kit, &token, &id, json!({"onboardingStatus": "FINISHED", "externalId": "crm-42.a_b"})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = store(&kit, &token, &id, json!({"onboardingStatus": "IN_PROGRESS"})).await;
    assert_eq!((status, body["errorCode"].as_str()), (StatusCode::CONFLICT, Some("CONFLICT")), "{body}");

    // Integrators cannot read records; admins can, after the customer is gone.
    assert_eq!(
        kit.get(&token, &format!("/vouch/v1/trust-records?customer_id={id}")).await.status(),
        StatusCode::FORBIDDEN
    );
    let resp = kit.send_json(Method::DELETE, &token, &format!("/identity/api/v1/customers/{id}"), &json!({})).await;
    assert_eq!(resp.0, StatusCode::NO_CONTENT);
    let listed = records(&kit, &admin, &format!("customer_id={id}")).await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["onboarding_status"], "FINISHED");
    assert_eq!(listed[0]["external_id"], "crm-42.a_b");
    assert_eq!(listed[1]["external_id"], id.as_str(), "the customer's id without an externalId");
    assert_eq!(records(&kit, &admin, "external_id=crm-42.a_b").await.len(), 1);
    let resp = kit.get(&admin, "/vouch/v1/trust-records").await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "a customer or an external id is needed");

    let record_id = listed[0]["id"].as_str().unwrap().to_string();
    let resp = kit.get(&admin, &format!("/vouch/v1/trust-records/{record_id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let zip = resp.bytes().await.unwrap().to_vec();
    let files = zip_files(&zip);
    assert_eq!(files["customer/selfie.jpg"], selfie, "the selfie byte for byte");
    let customer: Value = serde_json::from_slice(&files["customer/customer.json"]).unwrap();
    assert_eq!(customer["customer"]["surname"]["mrz"], "ERIKSSON", "{customer}");
    let inspection: Value = serde_json::from_slice(&files["customer/inspection.json"]).unwrap();
    // The specimen passport shows another person than the selfie: the record keeps that verdict.
    assert_eq!(inspection["selfieInspection"]["similarityWith"]["documentPortrait"], false, "{inspection}");
    let document: Value = serde_json::from_slice(&files["document/inspection.json"]).unwrap();
    assert_eq!(document["mrzInspection"]["valid"], true, "{document}");
    let evaluations: Value = serde_json::from_slice(&files["liveness/evaluations.json"]).unwrap();
    assert_eq!(evaluations[0]["livenessType"], "PASSIVE_LIVENESS", "{evaluations}");
    assert!(files.contains_key("liveness/frame-001-none.jpg"), "{:?}", files.keys());
    assert!(
        files.contains_key("document/page-front.png") || files.contains_key("document/page-front.jpg"),
        "{:?}",
        files.keys()
    );

    // Every file is in the signed manifest with its hash, and the signature holds.
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    assert_eq!(manifest["format"], "vouch.trust-record.v1");
    assert_eq!(manifest["onboarding_status"], "FINISHED");
    let listed_files = manifest["files"].as_array().unwrap();
    assert_eq!(listed_files.len(), files.len() - 2, "all but the manifest and its signature");
    for f in listed_files {
        let bytes = &files[f["name"].as_str().unwrap()];
        assert_eq!(f["sha256"].as_str().unwrap(), hex::encode(<sha2::Sha256 as sha2::Digest>::digest(bytes)));
    }
    assert_eq!(
        listed[0]["manifest_sha256"].as_str().unwrap(),
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&files["manifest.json"]))
    );
    let dir = tempfile::tempdir().unwrap();
    let (manifest_bytes, signature, cert) =
        (&files["manifest.json"], &files["manifest.json.p7s"], &files["kiosk-certificate.pem"]);
    assert!(openssl_verifies(dir.path(), manifest_bytes, signature, cert));
    let mut edited = manifest_bytes.clone();
    edited.extend_from_slice(b" ");
    assert!(!openssl_verifies(dir.path(), &edited, signature, cert), "an edited manifest fails");

    // Records are never changed, not even by the database's own users.
    let sha = listed[0]["record_sha256"].as_str().unwrap();
    for sql in [
        format!("UPDATE trust_records SET onboarding_status = 'IN_PROGRESS' WHERE id = '{record_id}'"),
        format!("DELETE FROM trust_records WHERE id = '{record_id}'"),
    ] {
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| kit.execute(&sql)));
        assert!(refused.is_err(), "{sql}");
    }

    // Retention: past the period, the bytes go and the row stays.
    let admin_session = kit.kiosk_admin().await;
    let nothing = kit.kiosk_ok(Some(&admin_session), "purge_now", json!({})).await;
    assert_eq!(nothing["trust_records"], 0, "a record stored today is within retention");
    assert!(kit.store.blobs().get(sha).is_ok());
    kit.store.purge_evidence(vouch_store::now() + time::Duration::days(2), 1, "test", true).unwrap();
    let listed = records(&kit, &admin, &format!("customer_id={id}")).await;
    assert!(listed.iter().all(|r| r["purged_at"].is_string()), "{listed:?}");
    assert!(kit.store.blobs().get(sha).is_err(), "the record's bytes are gone");
    let resp = kit.get(&admin, &format!("/vouch/v1/trust-records/{record_id}")).await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(resp.text().await.unwrap().contains("retention"));
}
