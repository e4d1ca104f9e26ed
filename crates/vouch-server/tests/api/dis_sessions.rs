//! DIS sessions over HTTP: a client opens one, its front end calls DIS with `x-inn-session-token`, reaching the
//! one customer it made and nothing else, until the session expires or the client closes it.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use vouch_testkit::server::Kit;

/// A call with the session token instead of a bearer token; its status and JSON answer (or null).
async fn with_session(kit: &Kit, token: &str, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut req = kit.http.request(method, kit.url(path)).header("x-inn-session-token", token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().await.unwrap();
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

async fn open_session(kit: &Kit, bearer: &str, timeout: Value) -> (StatusCode, Value) {
    let resp = kit.post_json(bearer, "/identity/api/v1/sessions", &json!({"timeout": timeout})).await;
    (resp.status(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_session_token_reaches_the_one_customer_it_made_until_it_is_closed_or_expires() {
    let kit = Kit::start().await;
    let bearer = kit.oauth_token(&kit.integrator()).await;
    let other_customer = kit.dis_customer(&bearer).await;

    let anonymous = kit.http.post(kit.url("/identity/api/v1/sessions")).json(&json!({"timeout": 600})).send().await;
    assert_eq!(anonymous.unwrap().status(), StatusCode::UNAUTHORIZED);
    for bad in [json!(0), json!(86_401), json!("soon")] {
        let (status, body) = open_session(&kit, &bearer, bad.clone()).await;
        assert_eq!(
            (status, body["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_REQUEST_BODY")),
            "{bad}"
        );
    }
    let (status, opened) = open_session(&kit, &bearer, json!(600)).await;
    assert_eq!(status, StatusCode::OK, "{opened}");
    let token = opened["token"].as_str().unwrap().to_string();
    assert!(token.len() >= 43, "256 random bits: {token}");

    // Before it made a customer, a session reaches nothing but making one.
    let (status, _) =
        with_session(&kit, &token, Method::GET, &format!("/identity/api/v1/customers/{other_customer}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_session(&kit, &token, Method::POST, "/identity/api/v1/faces", Some(json!({}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) =
        with_session(&kit, &token, Method::POST, "/identity/api/v1/sessions", Some(json!({"timeout": 60}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a session opens no session");

    // Two calls at once: one customer is made, the other call is refused and leaves nothing.
    let before = kit.count("dis_customers");
    let make = || with_session(&kit, &token, Method::POST, "/identity/api/v1/customers", None);
    let (a, b) = tokio::join!(make(), make());
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::FORBIDDEN], "{a:?} {b:?}");
    assert_eq!(kit.count("dis_customers"), before + 1);
    let mine = [a, b].into_iter().find(|(s, _)| *s == StatusCode::OK).unwrap().1["id"].as_str().unwrap().to_string();

    // Then its customer, and only it.
    let selfie = json!({"image": {"data": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, vouch_testkit::fixture("faces/fr_obama.jpg"))}});
    let (status, body) =
        with_session(&kit, &token, Method::PUT, &format!("/identity/api/v1/customers/{mine}/selfie"), Some(selfie))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) =
        with_session(&kit, &token, Method::GET, &format!("/identity/api/v1/customers/{mine}"), None).await;
    assert_eq!(status, StatusCode::OK);
    for (method, path) in [
        (Method::GET, format!("/identity/api/v1/customers/{other_customer}")),
        (Method::DELETE, format!("/identity/api/v1/customers/{other_customer}")),
        (Method::POST, "/identity/api/v1/customers".to_string()),
    ] {
        let (status, body) = with_session(&kit, &token, method.clone(), &path, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {body}");
    }
    // The client itself still reaches both with its bearer token.
    assert_eq!(kit.get(&bearer, &format!("/identity/api/v1/customers/{mine}")).await.status(), StatusCode::OK);

    // Another client cannot close it; its own client can, and the token is refused from then on.
    let stranger = kit.oauth_token(&kit.integrator()).await;
    let close = |bearer: String| {
        let req = kit
            .http
            .delete(kit.url("/identity/api/v1/sessions"))
            .bearer_auth(bearer)
            .header("x-inn-session-token", &token);
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(close(stranger).await, StatusCode::NO_CONTENT);
    let (status, _) =
        with_session(&kit, &token, Method::GET, &format!("/identity/api/v1/customers/{mine}"), None).await;
    assert_eq!(status, StatusCode::OK, "a stranger's close changed nothing");
    assert_eq!(close(bearer.clone()).await, StatusCode::NO_CONTENT);
    let (status, body) =
        with_session(&kit, &token, Method::GET, &format!("/identity/api/v1/customers/{mine}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");

    // A session past its timeout is refused too.
    let (_, opened) = open_session(&kit, &bearer, json!(60)).await;
    let late = opened["token"].as_str().unwrap().to_string();
    let (status, _) = with_session(&kit, &late, Method::POST, "/identity/api/v1/customers", None).await;
    assert_eq!(status, StatusCode::OK);
    kit.execute("UPDATE dis_sessions SET expires_at = 0");
    let (status, _) = with_session(&kit, &late, Method::POST, "/identity/api/v1/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(kit.count("dis_sessions"), 2);
    let (status, _) = with_session(&kit, "not-a-session", Method::POST, "/identity/api/v1/customers", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
