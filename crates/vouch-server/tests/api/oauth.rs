use reqwest::StatusCode;
use serde_json::Value;
use vouch_core::Scope;

use vouch_testkit::api::Creds;
use vouch_testkit::server::Kit;

const GRANT: &str = "grant_type=client_credentials";

async fn assert_invalid_client(resp: reqwest::Response) {
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn oauth_token_with_basic_or_body_credentials() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    for (auth, form) in
        [(Some(c.basic()), GRANT.to_string()), (None, format!("{GRANT}&client_id={}&client_secret={}", c.id, c.secret))]
    {
        let resp = kit.oauth("/oauth/token", auth.as_deref(), &form).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        let token = body["access_token"].as_str().unwrap();
        assert!(token.len() >= 43, "at least 256 bits of base64url");
        let list = kit.get(token, "/eeid/api/ident/v1/identification_requests").await;
        assert_eq!(list.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn wrong_secret_unknown_and_revoked_clients_are_invalid_client() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let wrong = Creds { id: c.id.clone(), secret: "not-the-secret".into() };
    let ghost = Creds { id: "vouch-ghost".into(), secret: c.secret.clone() };
    for creds in [&wrong, &ghost] {
        assert_invalid_client(kit.oauth("/oauth/token", Some(&creds.basic()), GRANT).await).await;
        assert_invalid_client(kit.oauth("/danaconnect/oauth2/token", Some(&creds.basic()), GRANT).await).await;
    }
    let token = kit.oauth_token(&c).await;
    kit.store.revoke_client(&c.id, "test").unwrap();
    assert_invalid_client(kit.oauth("/oauth/token", Some(&c.basic()), GRANT).await).await;
    // A token issued before revocation stops working at once.
    let resp = kit.get(&token, "/eeid/api/ident/v1/identification_requests").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let eeid =
        kit.http.post(kit.url("/eeid/api/auth/v1/token")).header("Authorization", c.basic()).send().await.unwrap();
    assert_eq!(eeid.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    let kit = Kit::start().await;
    let c = kit.client(vouch_core::Scope::Integrator, None, Some(1));
    let token = kit.oauth_token(&c).await;
    assert_eq!(kit.get(&token, "/eeid/api/ident/v1/identification_requests").await.status(), StatusCode::OK);
    // The token lives one second (the client's lifetime); nothing stored can be edited to end it sooner.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let resp = kit.get(&token, "/eeid/api/ident/v1/identification_requests").await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "Unauthorized");
}

#[tokio::test]
async fn malformed_token_requests_get_rfc6749_errors() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let basic = c.basic();
    let cases: &[(Option<&str>, &str, &str, StatusCode)] = &[
        (Some(&basic), "", "invalid_request", StatusCode::BAD_REQUEST),
        (Some(&basic), "grant_type=password", "unsupported_grant_type", StatusCode::BAD_REQUEST),
        (
            Some(&basic),
            "grant_type=client_credentials&grant_type=client_credentials",
            "invalid_request",
            StatusCode::BAD_REQUEST,
        ),
        (None, GRANT, "invalid_client", StatusCode::UNAUTHORIZED),
        (Some("Basic !!!not-base64"), GRANT, "invalid_client", StatusCode::UNAUTHORIZED),
        (Some("Basic Zm9v"), GRANT, "invalid_client", StatusCode::UNAUTHORIZED),
        (Some("Bearer abc"), GRANT, "invalid_client", StatusCode::UNAUTHORIZED),
    ];
    for (auth, form, code, status) in cases {
        let resp = kit.oauth("/oauth/token", *auth, form).await;
        assert_eq!(resp.status(), *status, "{auth:?} {form}");
        assert_eq!(resp.headers()["cache-control"], "no-store");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], *code, "{auth:?} {form}");
    }
    // Both authentication methods at once.
    let both = format!("{GRANT}&client_id={}&client_secret={}", c.id, c.secret);
    let resp = kit.oauth("/oauth/token", Some(&basic), &both).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    // Not a form.
    let resp = kit
        .http
        .post(kit.url("/oauth/token"))
        .header("Authorization", &basic)
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn danaconnect_defaults_to_1799_seconds_and_clients_can_override() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let body: Value = kit.oauth("/danaconnect/oauth2/token", Some(&c.basic()), GRANT).await.json().await.unwrap();
    assert_eq!(body["expires_in"], 1799);
    assert_eq!(body["token_type"], "Bearer");
    let custom = kit.client(Scope::Integrator, None, Some(600));
    let body: Value = kit.oauth("/danaconnect/oauth2/token", Some(&custom.basic()), GRANT).await.json().await.unwrap();
    assert_eq!(body["expires_in"], 600);
}

#[tokio::test]
async fn eeid_token_is_basic_only_201_and_120_seconds() {
    let kit = Kit::start().await;
    let c = kit.integrator();
    let url = kit.url("/eeid/api/auth/v1/token");
    let resp = kit.http.post(&url).header("Authorization", c.basic()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 120);

    let wrong = Creds { id: c.id.clone(), secret: "x".into() };
    let attempts = [
        kit.http.post(&url).header("Authorization", wrong.basic()).send().await.unwrap(),
        kit.http.post(&url).send().await.unwrap(),
        kit.http.post(&url).header("Authorization", "Basic").send().await.unwrap(),
        kit.http.post(&url).header("Authorization", "Bearer whatever").send().await.unwrap(),
        // Credentials in a form body are not eeID's scheme.
        kit.http
            .post(&url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("client_id={}&client_secret={}", c.id, c.secret))
            .send()
            .await
            .unwrap(),
    ];
    for resp in attempts {
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.json::<Value>().await.unwrap(), serde_json::json!({"error": "Invalid credentials"}));
    }
}

#[tokio::test]
async fn protected_routes_refuse_missing_and_malformed_bearer_headers() {
    let kit = Kit::start().await;
    let path = kit.url("/eeid/api/ident/v1/identification_requests");
    for header in
        [None, Some("Bearer"), Some("Bearer "), Some("Basic abc"), Some("Bearer not-a-real-token"), Some("Bearer a b")]
    {
        let mut req = kit.http.get(&path);
        if let Some(h) = header {
            req = req.header("Authorization", h);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{header:?}");
        assert!(resp.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
        assert_eq!(resp.json::<Value>().await.unwrap(), serde_json::json!({"error": "Unauthorized"}));
    }
    let resp = kit.http.get(kit.url("/vouch/v1/audit/verify")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.json::<Value>().await.unwrap()["code"], "unauthorized");
}

#[tokio::test]
async fn secrets_and_tokens_are_stored_only_hashed() {
    let kit = Kit::sqlite().await;
    let c = kit.integrator();
    let token = kit.oauth_token(&c).await;
    let hash: String =
        kit.db().query_row("SELECT secret_hash FROM clients WHERE id = ?1", [&c.id], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("hmac-sha256$"), "a keyed SHA-256, not a slow hash an attacker can make us compute");
    let data = kit.dir.path().join("data");
    for file in ["vouch.db", "vouch.db-wal"] {
        let bytes = std::fs::read(data.join(file)).unwrap_or_default();
        for needle in [c.secret.as_bytes(), token.as_bytes()] {
            assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{file} holds a secret in clear");
        }
    }
}
