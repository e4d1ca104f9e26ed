//! A real receiver on loopback checks signatures and scripts its answers.

use std::time::Duration;

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use reqwest::StatusCode as RStatus;
use serde_json::{json, Value};
use sha2::Sha256;
use vouch_core::Scope;

use vouch_testkit::receiver::Receiver;
use vouch_testkit::server::Kit;
use vouch_testkit::{approval, eventually};

/// Serves a receiver on 127.0.0.1:0 and returns it with its URL.
async fn start_receiver(answers: &[u16]) -> (Receiver, String) {
    let receiver = Receiver::start(answers).await;
    let url = receiver.url.clone();
    (receiver, url)
}

fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The status of the test's only delivery, read from the database.
fn delivery_status(kit: &Kit) -> String {
    kit.text_rows("SELECT status FROM webhook_deliveries")[0][0].clone().unwrap()
}

/// An admin's retry of delivery `id`.
async fn retry(kit: &Kit, admin: &str, id: i64) -> reqwest::Response {
    let url = kit.url(&format!("/vouch/v1/webhooks/deliveries/{id}/retry"));
    kit.http.post(url).bearer_auth(admin).send().await.unwrap()
}

async fn deliveries(kit: &Kit, admin: &str, case_id: &str) -> Value {
    kit.get(admin, &format!("/vouch/v1/webhooks/deliveries?case_id={case_id}")).await.json().await.unwrap()
}

#[tokio::test]
async fn completion_webhook_is_signed_retried_and_recorded_once() {
    let kit = Kit::start().await;
    let (receiver, url) = start_receiver(&[500, 503, 200]).await;
    let c = kit.client(Scope::Integrator, Some(&url), None);
    let token = kit.eeid_token(&c).await;
    let id = kit.create_ok(&token, Some("order 42")).await["id"].as_str().unwrap().to_string();
    let admin = kit.oauth_token(&kit.admin()).await;
    assert_eq!(kit.complete(&admin, &id, &approval()).await.status(), RStatus::OK);

    let got = eventually(Duration::from_secs(20), || receiver.received.lock().unwrap().len() >= 3).await;
    assert!(got, "three attempts should arrive");
    let received = receiver.received.lock().unwrap().clone();
    for (headers, body) in &received {
        let signature = headers["x-hmac-signature"].to_str().unwrap();
        // As the eeID spec's Ruby example: HMAC over the raw body.
        assert_eq!(signature, hmac_hex(&c.secret, body));
        // As internetee/registry: HMAC over the body with all whitespace removed.
        let stripped: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        assert_eq!(signature, hmac_hex(&c.secret, &stripped));
        assert_eq!(headers["content-type"], "application/json");
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v, json!({"identification_request_id": id, "client_id": c.id, "reference": "order 42"}));
    }
    assert_eq!(received.len(), 3, "no attempt after the success");

    // Exactly one success, after three attempts, in the delivery log.
    let ok = eventually(Duration::from_secs(5), || delivery_status(&kit) == "delivered").await;
    assert!(ok);
    let log = deliveries(&kit, &admin, &id).await;
    assert_eq!(log.as_array().unwrap().len(), 1);
    assert_eq!(log[0]["delivery"]["status"], "delivered");
    assert_eq!(log[0]["delivery"]["attempts"], 3);
    let attempts = log[0]["attempts"].as_array().unwrap();
    let statuses: Vec<i64> = attempts.iter().map(|a| a["http_status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, [500, 503, 200]);
    assert_eq!(attempts.iter().filter(|a| a["success"] == true).count(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 3, "a delivered webhook is not sent again");
}

#[tokio::test]
async fn a_failing_receiver_exhausts_retries_visibly_and_an_admin_can_retry() {
    let kit = Kit::start().await;
    let (receiver, url) = start_receiver(&[500, 500, 500, 500]).await;
    let c = kit.client(Scope::Integrator, Some(&url), None);
    let token = kit.eeid_token(&c).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    let admin = kit.oauth_token(&kit.admin()).await;
    kit.complete(&admin, &id, &approval()).await;

    let failed = eventually(Duration::from_secs(20), || delivery_status(&kit) == "failed").await;
    assert!(failed, "the delivery should fail after 1 + 3 attempts");
    assert_eq!(receiver.received.lock().unwrap().len(), 4);
    let log = deliveries(&kit, &admin, &id).await;
    assert_eq!(log[0]["delivery"]["attempts"], 4);
    assert_eq!(log[0]["delivery"]["last_error"], "HTTP 500");
    let metrics = kit.http.get(kit.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("vouch_webhook_deliveries_failed 1"), "{metrics}");

    let delivery_id = log[0]["delivery"]["id"].as_i64().unwrap();
    let resp = retry(&kit, &admin, delivery_id).await;
    assert_eq!(resp.status(), RStatus::OK);
    let delivered = eventually(Duration::from_secs(20), || delivery_status(&kit) == "delivered").await;
    assert!(delivered);
    assert_eq!(receiver.received.lock().unwrap().len(), 5);
    let resp = retry(&kit, &admin, delivery_id).await;
    assert_eq!(resp.status(), RStatus::CONFLICT, "a delivered webhook cannot be retried");
}

#[tokio::test]
async fn no_webhook_without_a_url_or_for_a_rejection() {
    let kit = Kit::start().await;
    let (receiver, url) = start_receiver(&[]).await;
    let with_hook = kit.client(Scope::Integrator, Some(&url), None);
    let without = kit.integrator();
    let admin = kit.oauth_token(&kit.admin()).await;
    let t1 = kit.eeid_token(&with_hook).await;
    let t2 = kit.eeid_token(&without).await;
    let rejected = kit.create_ok(&t1, None).await["id"].as_str().unwrap().to_string();
    let silent = kit.create_ok(&t2, None).await["id"].as_str().unwrap().to_string();
    kit.complete(&admin, &rejected, &json!({"outcome": "rejected", "reason": "no show"})).await;
    kit.complete(&admin, &silent, &approval()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kit.count("webhook_deliveries"), 0);
    assert!(receiver.received.lock().unwrap().is_empty());
}

/// Standard Webhooks: `webhook-signature` is `v1,` base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under
/// the bytes of the client's `whsec_` secret, which is not its OAuth secret.
fn standard_signature_ok(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let id = headers["webhook-id"].to_str().unwrap();
    let ts = headers["webhook-timestamp"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    headers["webhook-signature"].to_str().unwrap().split(' ').any(|s| s == expected)
}

#[tokio::test]
async fn webhooks_carry_standard_webhooks_headers_under_a_separate_rotatable_secret() {
    let kit = Kit::start().await;
    let (receiver, url) = start_receiver(&[500, 200, 200]).await;
    let c = kit.client(Scope::Integrator, Some(&url), None);
    let token = kit.eeid_token(&c).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let first = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    kit.complete(&admin, &first, &approval()).await;
    assert!(eventually(Duration::from_secs(20), || receiver.received.lock().unwrap().len() >= 2).await);
    let secret = kit.store.client_webhook_secret(&c.id).unwrap();
    assert!(secret.starts_with("whsec_") && secret != c.secret);
    let received = receiver.received.lock().unwrap().clone();
    for (headers, body) in &received {
        assert!(standard_signature_ok(&secret, headers, body), "{headers:?}");
        assert!(!standard_signature_ok(&format!("whsec_{}", "A".repeat(44)), headers, body));
        // eeID's own signature is still there, unchanged.
        assert_eq!(headers["x-hmac-signature"].to_str().unwrap(), hmac_hex(&c.secret, body));
    }
    let ids: Vec<_> = received.iter().map(|(h, _)| h["webhook-id"].clone()).collect();
    assert_eq!(ids[0], ids[1], "a retry keeps its message id, so receivers can drop repeats");

    // Rotation: the next webhook verifies with the new secret only; the OAuth secret still works.
    let rotated = kit.store.rotate_webhook_secret(&c.id, "test").unwrap();
    assert_ne!(rotated, secret);
    let second = kit.create_ok(&kit.eeid_token(&c).await, None).await["id"].as_str().unwrap().to_string();
    kit.complete(&admin, &second, &approval()).await;
    assert!(eventually(Duration::from_secs(20), || receiver.received.lock().unwrap().len() >= 3).await);
    let (headers, body) = receiver.received.lock().unwrap()[2].clone();
    assert!(standard_signature_ok(&rotated, &headers, &body));
    assert!(!standard_signature_ok(&secret, &headers, &body));
}

#[tokio::test]
async fn revoking_a_client_stops_its_pending_webhooks() {
    let mut cfg_backoff = None;
    let kit = Kit::sqlite_with(|cfg| {
        // Slow retries, so the revocation lands while the delivery is still pending.
        cfg.webhooks.backoff = Duration::from_secs(2);
        cfg_backoff = Some(cfg.webhooks.backoff);
    })
    .await;
    let (receiver, url) = start_receiver(&[500, 500, 500, 500]).await;
    let c = kit.client(Scope::Integrator, Some(&url), None);
    let token = kit.eeid_token(&c).await;
    let admin = kit.oauth_token(&kit.admin()).await;
    let id = kit.create_ok(&token, None).await["id"].as_str().unwrap().to_string();
    kit.complete(&admin, &id, &approval()).await;
    assert!(eventually(Duration::from_secs(20), || receiver.received.lock().unwrap().len() == 1).await);
    kit.store.revoke_client(&c.id, "test").unwrap();
    let last_error = kit.text_rows("SELECT last_error FROM webhook_deliveries")[0][0].clone();
    assert_eq!(delivery_status(&kit), "failed");
    assert_eq!(last_error.as_deref(), Some("the client was revoked"));
    tokio::time::sleep(cfg_backoff.unwrap() * 2).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 1, "nothing more is sent for a revoked client");
    let delivery_id: i64 =
        kit.text_rows("SELECT CAST(id AS TEXT) FROM webhook_deliveries")[0][0].as_deref().unwrap().parse().unwrap();
    let resp = retry(&kit, &admin, delivery_id).await;
    assert_eq!(resp.status(), RStatus::CONFLICT, "an admin cannot resend to a revoked client");
}
