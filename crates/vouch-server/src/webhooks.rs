//! Delivers queued webhooks from the outbox: signed, timed out, retried with backoff, every attempt logged.
//! The queue lives in the database, so deliveries pending when the process dies go out after restart.

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinSet;
use vouch_store::outbox::{AttemptResult, Delivery};

use crate::state::AppState;

pub const SIGNATURE_HEADER: &str = "X-HMAC-Signature";
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

/// Runs until the process ends, sleeping until the next delivery is due or a new one is queued.
pub async fn run_dispatcher(state: AppState) {
    loop {
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
            _ = state.outbox_wake.notified() => {}
        }
    }
}

async fn attempt(state: AppState, delivery: Delivery) {
    let client_id = delivery.client_id.clone();
    let secret = state.db(move |s| s.client_signing_secret(&client_id)).await;
    let started = Instant::now();
    let at = vouch_store::now();
    let (http_status, error) = match secret {
        Err(e) => (None, Some(format!("cannot sign: {}", e.message))),
        Ok(secret) => {
            let signature = sign(&secret, &delivery.body);
            let sent = state
                .http
                .post(&delivery.url)
                .timeout(state.config.webhooks.timeout)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, signature)
                .header("X-Vouch-Delivery", delivery.id.to_string())
                .body(delivery.body.clone())
                .send()
                .await;
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
