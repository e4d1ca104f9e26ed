//! Bad input: a clear error in the vendor's format, and nothing stored changes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::kit::Kit;

const LIST: &str = "/eeid/api/ident/v1/identification_requests";

fn snapshot(kit: &Kit) -> (i64, i64, i64) {
    (kit.count("cases"), kit.count("audit_events"), kit.count("evidence"))
}

#[tokio::test]
async fn oversized_bodies_get_413_before_parsing_and_change_nothing() {
    let kit = Kit::start_with(|cfg| cfg.body_limit_bytes = 64 * 1024).await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let before = snapshot(&kit);
    let huge = json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "x".repeat(200_000)});
    let resp = kit.create_request(&token, huge).await;
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("limit"), "{body}");
    // Not even valid JSON: refused for its size, not its syntax, because the size is checked first.
    let resp = kit
        .http
        .post(kit.url(LIST))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body(vec![b'{'; 200_000])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(snapshot(&kit), before);
}

#[tokio::test]
async fn invalid_json_gets_400_in_each_vendor_format_and_changes_nothing() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let token = kit.eeid_token(&c).await;
    let created = kit.create_ok(&token, None).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let before = snapshot(&kit);
    for raw in ["{", "not json", "{\"claims_required\": [}", ""] {
        let resp = kit
            .http
            .post(kit.url(LIST))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{raw:?}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("not valid JSON"), "{body}");
    }
    let resp = kit
        .http
        .post(kit.url(&format!("/vouch/v1/cases/{}/complete", created["id"].as_str().unwrap())))
        .bearer_auth(&admin)
        .header("Content-Type", "application/json")
        .body("{\"outcome\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "malformed_body");
    assert_eq!(snapshot(&kit), before);
    let r: Value = kit.get(&token, &format!("{LIST}/{}", created["id"].as_str().unwrap())).await.json().await.unwrap();
    assert_eq!(r["status"], "pending");
}

#[tokio::test]
async fn a_non_json_content_type_is_415() {
    let kit = Kit::start().await;
    let token = kit.eeid_token(&kit.integrator()).await;
    let resp = kit
        .http
        .post(kit.url(LIST))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string());
    assert_eq!(kit.count("cases"), 0);
}
