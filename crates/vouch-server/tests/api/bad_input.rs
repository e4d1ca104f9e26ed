//! A corpus of bad input over every documented route that takes a body or a path value: random bytes, truncated
//! and bomb images, deep JSON, overflowing numbers, invalid UTF-8 in paths. No answer is a 5xx (but a documented
//! 501), every answer is JSON, and the server stays up.

use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

use vouch_testkit::server::Kit;

fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut bomb = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bomb.extend_from_slice(&30000u32.to_be_bytes());
    bomb.extend_from_slice(&30000u32.to_be_bytes());
    bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    let truncated_jpeg = std::fs::read(vouch_testkit::repo_path("assets/demo-camera/frame-000.jpg"))
        .unwrap()
        .into_iter()
        .take(700)
        .collect::<Vec<u8>>();
    let random: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let deep = format!("{}{}", "[".repeat(20000), "]".repeat(20000)).into_bytes();
    let image = |bytes: &[u8]| json!({"image": {"data": b64.encode(bytes)}}).to_string().into_bytes();
    vec![
        ("random bytes as JSON", "application/json", random.clone()),
        ("random bytes", "application/octet-stream", random.clone()),
        ("random bytes as a PDF", "application/pdf", random),
        ("deep JSON", "application/json", deep),
        (
            "overflowing numbers",
            "application/json",
            br#"{"limit": 1e999999, "offset": -99999999999999999999999, "index": 18446744073709551616, "threshold": 1e308, "token_ttl_secs": -1}"#.to_vec(),
        ),
        ("a decode bomb", "application/json", image(&bomb)),
        ("a bomb as raw bytes", "image/png", bomb),
        ("a truncated JPEG", "application/json", image(&truncated_jpeg)),
        ("a truncated JPEG as raw bytes", "image/jpeg", truncated_jpeg),
        ("not UTF-8 JSON", "application/json", vec![b'{', b'"', 0xFF, 0xFE, b'"', b':', b'1', b'}']),
        ("chip data garbage", "application/octet-stream", vec![0x77, 0x82, 0xFF, 0xFF, 0x00]),
    ]
}

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "00000000-0000-4000-8000-000000000000" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn bad_input_on_every_route_is_answered_in_json_without_a_server_error() {
    let kit = Kit::start().await;
    let openapi: Value = kit.http.get(kit.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let admin = kit.oauth_token(&kit.admin()).await;
    let corpus = corpus();
    let mut sent = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            if method == Method::GET || method == Method::DELETE {
                continue;
            }
            for (what, content_type, body) in &corpus {
                let resp = kit
                    .http
                    .request(method.clone(), kit.url(&concrete(path)))
                    .bearer_auth(&admin)
                    .header("Cookie", &kit.bridge_cookie)
                    .header("Content-Type", *content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{method} {path} with {what}: the connection failed: {e}"));
                let status = resp.status();
                let json =
                    resp.headers().get("content-type").is_some_and(|v| v.to_str().unwrap_or("").contains("json"));
                // A route that takes no body (DIS customer creation) may succeed; none may fail inside.
                assert!(
                    !status.is_server_error() || status == reqwest::StatusCode::NOT_IMPLEMENTED,
                    "{method} {path} with {what}: {status}"
                );
                assert!(json, "{method} {path} with {what}: {status} is not JSON");
                sent += 1;
            }
        }
    }
    assert!(sent > 300, "only {sent} bad requests were sent");
    // Invalid UTF-8 and overflowing numbers in path values.
    for path in [
        "/vouch/v1/cases/%FF%FE/complete",
        "/vouch/v1/webhooks/deliveries/99999999999999999999999/retry",
        "/vouch/v1/cases/00000000-0000-4000-8000-000000000000/steps/18446744073709551616",
        "/identity/api/v1/customers/%FF",
    ] {
        let resp = kit.http.post(kit.url(path)).bearer_auth(&admin).json(&json!({})).send().await.unwrap();
        assert!(resp.status().is_client_error(), "{path}: {}", resp.status());
        assert!(resp.headers()["content-type"].to_str().unwrap().contains("json"), "{path}");
    }
    assert_eq!(kit.http.get(kit.url("/healthz")).send().await.unwrap().status(), reqwest::StatusCode::OK);
}
