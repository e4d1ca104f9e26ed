//! Bad input: a clear error in the vendor's format, and nothing stored changes.

use reqwest::StatusCode;
use serde_json::{json, Value};

use vouch_testkit::server::Kit;

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

#[tokio::test]
async fn each_route_group_refuses_past_its_own_limit_and_names_that_limit() {
    let kit = Kit::start_with(|cfg| {
        cfg.body_limit_bytes = 64 * 1024;
        cfg.image_body_limit_bytes = 256 * 1024;
        cfg.document_body_limit_bytes = 512 * 1024;
    })
    .await;
    let client = kit.integrator();
    let token = kit.oauth_token(&client).await;
    let eeid = kit.eeid_token(&client).await;
    let case = kit.create_ok(&eeid, None).await;
    let before = snapshot(&kit);
    let json_of = |n: usize| json!({"image": {"data": "A".repeat(n)}, "x": "y"}).to_string().into_bytes();
    for (method, path, content_type, body, limit) in [
        (reqwest::Method::POST, "/identity/api/v1/faces".to_string(), "application/json", json_of(300_000), 262_144),
        (
            reqwest::Method::PUT,
            format!("/vouch/v1/cases/{}/reference-photo", case["id"].as_str().unwrap()),
            "image/jpeg",
            vec![0xFF; 300_000],
            262_144,
        ),
        (
            reqwest::Method::POST,
            "/danaconnect/api/biometric/start_circuit/contract".to_string(),
            "application/json",
            json_of(600_000),
            524_288,
        ),
        (reqwest::Method::POST, LIST.to_string(), "application/json", json_of(100_000), 65_536),
    ] {
        let token = if path == LIST { &eeid } else { &token };
        let (status, body) = kit.send_bytes(method, token, &path, content_type, body).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{path}: {body}");
        assert!(body.to_string().contains(&format!("limit of {limit} bytes")), "{path}: {body}");
    }
    // Under their own limits (though over the global one) the same routes read the body: a DIS face of 100 KB of
    // bad base64 is refused for what it is, not for its size.
    let (status, body) = kit
        .send_bytes(reqwest::Method::POST, &token, "/identity/api/v1/faces", "application/json", json_of(100_000))
        .await;
    assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(snapshot(&kit), before);
}
