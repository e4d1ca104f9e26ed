//! The front door: `Host` and `Origin` checks on every route, and every rejection as JSON in the dialect of
//! the API the path belongs to.

use reqwest::StatusCode;
use serde_json::Value;

use vouch_testkit::server::Kit;

/// A raw request, so that `Host` can be anything (reqwest sets it from the URL).
async fn raw(kit: &Kit, request: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = kit.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    stream.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

fn body_json(response: &str) -> Value {
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_rebinding_host_is_refused_on_every_route() {
    let kit = Kit::start().await;
    for path in ["/healthz", "/vouch/v1/kiosk/kiosk_status", "/identity/api/v1/customers", "/kiosk/"] {
        let (status, text) =
            raw(&kit, &format!("GET {path} HTTP/1.1\r\nHost: attacker.example:80\r\nConnection: close\r\n\r\n")).await;
        assert_eq!(status, 403, "{path}: {text}");
        assert!(text.contains("application/json"), "{path}: {text}");
    }
    let (status, text) = raw(&kit, "POST /vouch/v1/kiosk/admin_setup HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{\"pin\":\"482913\"}").await;
    assert_eq!(status, 403, "{text}");
    assert_eq!(body_json(&text)["code"], "forbidden");
    assert!(!kit.store.admin_pin_is_set().unwrap(), "a rebinding page must not choose the admin PIN");
    // The right host passes, by name too.
    let port = kit.base.rsplit(':').next().unwrap();
    let (status, _) =
        raw(&kit, &format!("GET /healthz HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_foreign_origin_is_refused_and_the_servers_own_is_not() {
    let kit = Kit::start().await;
    let resp = kit
        .http
        .post(kit.url("/vouch/v1/kiosk/kiosk_status"))
        .header("Origin", "http://evil.example")
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "forbidden");
    let resp = kit.http.get(kit.url("/healthz")).header("Origin", "null").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = kit.http.get(kit.url("/healthz")).header("Origin", &kit.base).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A vendor route refuses in its vendor's format.
    let resp = kit
        .http
        .get(kit.url("/identity/api/v1/customers/x"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.json::<Value>().await.unwrap()["errorCode"].is_string());
}

#[tokio::test]
async fn wrong_methods_and_bad_path_values_answer_json_in_the_vendors_format() {
    let kit = Kit::start().await;
    let token = kit.oauth_token(&kit.integrator()).await;
    // A wrong method: was an empty 405.
    let resp = kit.http.put(kit.url("/oauth/token")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.headers().contains_key("allow"));
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_request");
    let resp = kit.http.patch(kit.url("/eeid/api/ident/v1/identification_requests")).bearer_auth(&token).send().await;
    let resp = resp.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(resp.json::<Value>().await.unwrap()["error"].is_string(), "eeID's {{error}}");
    let resp = kit.http.delete(kit.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "method_not_allowed");
    // A path value that does not parse: was plain text.
    let resp = kit
        .http
        .post(kit.url("/vouch/v1/webhooks/deliveries/not-a-number/retry"))
        .bearer_auth(kit.oauth_token(&kit.admin()).await)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    assert!(resp.headers()["content-type"].to_str().unwrap().contains("json"), "{:?}", resp.headers());
    assert!(resp.json::<Value>().await.unwrap()["code"].is_string());
}

#[tokio::test]
async fn metrics_do_not_grow_with_invented_methods() {
    let kit = Kit::start().await;
    for i in 0..200 {
        let method = reqwest::Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
        let _ = kit.http.request(method, kit.url("/healthz")).send().await.unwrap();
    }
    let metrics = kit.http.get(kit.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("method=\"X1"), "invented methods are not labels");
    assert!(metrics.contains("method=\"OTHER\""));
    assert!(metrics.len() < 64 * 1024, "{} bytes of metrics", metrics.len());
}

/// 64 clients that never finish their headers are cut off after the header timeout, and serve nobody's
/// place meanwhile: normal requests still work.
#[tokio::test]
async fn half_sent_requests_are_dropped_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let kit = Kit::start_with(|cfg| cfg.header_read_timeout = std::time::Duration::from_secs(1)).await;
    let addr = kit.base.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for _ in 0..64 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: ").await.unwrap();
        slow.push(stream);
    }
    for _ in 0..5 {
        let resp = kit.http.get(kit.url("/healthz")).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "a normal request is served while 64 trickle");
    }
    for stream in slow {
        // The server closes it (after a 408 or without a word); a generous bound, not a timing assertion.
        let closed = vouch_testkit::server::closed_within(stream, std::time::Duration::from_secs(15)).await;
        assert!(closed, "a half-sent request was still held open");
    }
}

/// Heavy image requests beyond their places get 503 with Retry-After in DIS's format; light requests are
/// still served.
#[tokio::test]
async fn saturated_image_routes_answer_503_while_light_routes_still_work() {
    use tokio::io::AsyncWriteExt;
    let kit = Kit::start_with(|cfg| cfg.image_concurrency = 1).await;
    let token = kit.oauth_token(&kit.integrator()).await;
    let addr = kit.base.trim_start_matches("http://").to_string();
    // One image request holds the only place: its body arrives slowly.
    let mut holder = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /identity/api/v1/faces HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"image\":{{\"data\":\""
    );
    holder.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = kit
        .http
        .post(kit.url("/identity/api/v1/faces"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"image": {"data": "AAAA"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "1");
    assert!(busy.json::<Value>().await.unwrap()["errorCode"].is_string(), "in DIS's format");
    let light = kit.http.get(kit.url("/healthz")).send().await.unwrap();
    assert_eq!(light.status(), StatusCode::OK);
    let token_again = kit.oauth_token(&kit.integrator()).await;
    assert!(!token_again.is_empty(), "tokens are light work and still issued");
    drop(holder);
}
