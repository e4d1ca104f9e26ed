//! The authorization matrix, generated from the served `/openapi.json`: every documented route is called with
//! no token, a garbage token, an expired token and a revoked client's token, and admin routes with an
//! integrator's token. A new route joins the matrix by being documented.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use vouch_core::Scope;

use vouch_testkit::server::Kit;

/// Routes that answer without a bearer token by design, and why.
const PUBLIC: &[(&str, &str)] = &[
    ("/healthz", "liveness probe"),
    ("/identity/api/v1/health", "DIS documents it without security"),
    ("/identity/api/v1/info", "DIS documents it without security"),
    ("/openapi.json", "the API's own description"),
    ("/docs", "the API's own description"),
    ("/metrics", "counters without personal data, for the operator's scraper on loopback"),
    ("/oauth/token", "token endpoint: client credentials instead"),
    ("/danaconnect/oauth2/token", "token endpoint: client credentials instead"),
    ("/eeid/api/auth/v1/token", "token endpoint: client credentials instead"),
    ("/kiosk/requests/{id}", "the kiosk page a customer's link opens"),
    ("/verifik/links/{id}", "a validation link's page: the key the message carried instead (verifik_messages.rs)"),
    ("/vouch/v1/kiosk/pair", "pairing: the console's pairing code instead"),
    ("/vouch/v1/kiosks/pair", "a kiosk pairing with a central service: the admin's one-time code instead (pairing.rs)"),
    ("/vouch/v1/kiosk/{command}", "the kiosk bridge: a paired session cookie instead (kiosk.rs)"),
    ("/vouch/v1/kiosk/camera/preview", "a short-lived preview token instead (kiosk_camera.rs)"),
    ("/vouch/v1/proofs/{id}", "printed on a proof for whoever holds it: a hash and a date, nothing personal (eeid.rs)"),
];

fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "00000000-0000-4000-8000-000000000000" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

async fn call(kit: &Kit, method: &Method, path: &str, token: Option<&str>) -> StatusCode {
    let mut req = kit.http.request(method.clone(), kit.url(&concrete(path))).json(&serde_json::json!({}));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().status()
}

#[tokio::test]
async fn every_documented_route_refuses_bad_tokens_and_admin_routes_refuse_integrators() {
    let kit = Kit::start().await;
    let openapi: Value = kit.http.get(kit.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let expiring = kit.client(Scope::Admin, None, Some(1));
    let expired = kit.oauth_token(&expiring).await;
    let revoked_client = kit.admin();
    let revoked = kit.oauth_token(&revoked_client).await;
    kit.store.revoke_client(&revoked_client.id, "test").unwrap();
    let integrator = kit.oauth_token(&kit.integrator()).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let bad: [(&str, Option<&str>); 4] = [
        ("no token", None),
        ("a garbage token", Some("garbage")),
        ("an expired token", Some(&expired)),
        ("a revoked client's token", Some(&revoked)),
    ];
    let mut checked = 0;
    for (path, item) in openapi["paths"].as_object().unwrap() {
        if PUBLIC.iter().any(|(p, _)| p == path) {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let Ok(method) = Method::from_bytes(method.to_uppercase().as_bytes()) else { continue };
            for (what, token) in &bad {
                let status = call(&kit, &method, path, *token).await;
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with {what}");
                checked += 1;
            }
            let kiosks_only = path.starts_with("/vouch/v1/sync/");
            let admin_only = path.starts_with("/vouch/v1/") && !path.ends_with("/reference-photo") && !kiosks_only;
            if admin_only {
                let status = call(&kit, &method, path, Some(&integrator)).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path} with an integrator's token");
            }
            if kiosks_only {
                // The sync API knows only kiosks' tokens: an integrator's or an admin's is no token there.
                for other in [&integrator, &admin] {
                    let status = call(&kit, &method, path, Some(other)).await;
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path} with another client's token");
                }
            }
        }
    }
    assert!(checked > 100, "the matrix covered only {checked} calls");
}
