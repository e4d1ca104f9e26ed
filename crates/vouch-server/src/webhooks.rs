//! Delivers queued webhooks from the outbox: signed, timed out, retried with backoff, every attempt logged.
//! The queue lives in the database, so deliveries pending when the process dies go out after restart.
//!
//! Every delivery carries the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), signed with the client's webhook secret (`whsec_...`), which is separate from its
//! OAuth secret and rotates on its own. eeID deliveries also carry `X-HMAC-Signature`, HMAC-SHA256 of the
//! body under the client secret, exactly as eeID receivers verify it.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinSet;
use vouch_store::outbox::{AttemptResult, Delivery};

use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "X-HMAC-Signature";

/// The Standard Webhooks signature: `v1,` and base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the
/// secret's bytes (the base64 after `whsec_`). None for a secret that is not of that form.
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())))
}

/// What one delivery is signed with.
struct SigningKeys {
    /// The client secret, for an API that signs with it (eeID's `X-HMAC-Signature`); None for the others.
    client_secret: Option<Vec<u8>>,
    webhook_secret: String,
}

fn signing_keys(
    s: &vouch_store::Store,
    delivery: &Delivery,
    webhooks: &vouch_app::cases::CompletionWebhooks,
) -> vouch_store::Result<SigningKeys> {
    let client_secret = if webhooks.signed_with_client_secret(&s.delivery_api(delivery.id)?) {
        Some(s.client_signing_secret(&delivery.client_id)?)
    } else {
        None
    };
    Ok(SigningKeys { client_secret, webhook_secret: s.client_webhook_secret(&delivery.client_id)? })
}
/// How many deliveries go out at once; a slow receiver then cannot hold up the rest.
const CONCURRENCY: u32 = 8;

/// Hex HMAC-SHA256 of `body` under `secret`, as eeID receivers verify it.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => String::new(),
    }
}

/// Runs until `stop` turns true, sleeping until the next delivery is due or a new one is queued. Attempts
/// under way when it is told to stop finish and are recorded first, so none is sent without its result
/// being kept.
pub async fn run_dispatcher(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            tracing::info!("webhook dispatcher stopped");
            return;
        }
        let due = state.db(|s| s.due_deliveries(vouch_store::now(), CONCURRENCY)).await;
        let batch = match due {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e.message, "webhook dispatcher could not read the outbox");
                Vec::new()
            }
        };
        let full_batch = batch.len() as u32 >= CONCURRENCY;
        let mut set = JoinSet::new();
        for delivery in batch {
            set.spawn(attempt(state.clone(), delivery));
        }
        while set.join_next().await.is_some() {}
        if full_batch {
            continue;
        }
        let wait = match state.db(|s| s.next_delivery_due()).await {
            Ok(Some(at)) => {
                let until = (at - vouch_store::now()).whole_milliseconds().max(0);
                Duration::from_millis(u64::try_from(until).unwrap_or(0)).min(state.config.webhooks.poll)
            }
            _ => state.config.webhooks.poll,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.app.outbox_wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

async fn attempt(state: AppState, delivery: Delivery) {
    let for_keys = delivery.clone();
    let webhooks = state.app.completion_webhooks.clone();
    let keys = state.db(move |s| signing_keys(s, &for_keys, &webhooks)).await;
    let started = Instant::now();
    let at = vouch_store::now();
    // The same id on every attempt, so a receiver can drop a repeat it already handled.
    let message_id = format!("msg_{}_{}", delivery.case_id, delivery.id);
    let timestamp = at.unix_timestamp();
    let (http_status, error) = match keys {
        Err(e) => (None, Some(format!("cannot sign: {}", e.message))),
        Ok(keys) => {
            let mut request = state
                .http
                .post(&delivery.url)
                .timeout(state.config.webhooks.timeout)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("webhook-id", &message_id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("X-Vouch-Delivery", delivery.id.to_string());
            if let Some(signature) = standard_signature(&keys.webhook_secret, &message_id, timestamp, &delivery.body) {
                request = request.header("webhook-signature", signature);
            }
            if let Some(secret) = &keys.client_secret {
                request = request.header(SIGNATURE_HEADER, sign(secret, &delivery.body));
            }
            let sent = request.body(delivery.body.clone()).send().await;
            match sent {
                Ok(resp) => {
                    let code = resp.status().as_u16();
                    let ok = matches!(code, 200 | 201 | 204);
                    (Some(code), (!ok).then(|| format!("HTTP {code}")))
                }
                Err(e) if e.is_timeout() => (None, Some("no answer within the timeout".to_string())),
                Err(e) if e.is_connect() => (None, Some("connection failed".to_string())),
                Err(e) => (None, Some(format!("request failed: {e}"))),
            }
        }
    };
    let success = error.is_none();
    let result = AttemptResult {
        at,
        http_status,
        error,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        success,
    };
    let retry_at = at + state.config.webhooks.delay_after(delivery.attempts + 1);
    let id = delivery.id;
    match state.db(move |s| s.record_attempt(id, &result, retry_at)).await {
        Ok(d) => tracing::info!(
            delivery = d.id, case_id = %d.case_id, attempt = d.attempts, status = d.status.as_str(),
            http_status = ?http_status, "webhook attempt"
        ),
        Err(e) => tracing::error!(delivery = id, error = %e.message, "could not record a webhook attempt"),
    }
}
