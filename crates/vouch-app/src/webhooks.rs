//! Delivers queued webhooks from the outbox: signed, timed out, retried with backoff, every attempt logged.
//! The queue lives in the database, so deliveries pending when the process dies go out after restart. The
//! HTTP request itself is the protocol layer's ([`WebhookTransport`]); what is sent, when, and what is
//! recorded is decided here.
//!
//! Every delivery carries the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature`), signed with the client's webhook secret (`whsec_...`), which is separate from its
//! OAuth secret and rotates on its own. eeID deliveries also carry `X-HMAC-Signature`, HMAC-SHA256 of the
//! body under the client secret, exactly as eeID receivers verify it.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::task::JoinSet;
use vouch_core::CaseId;
use vouch_store::outbox::{Attempt, AttemptResult, Delivery};

use crate::cases::CompletionWebhooks;
use crate::{App, AppError};

pub const SIGNATURE_HEADER: &str = "X-HMAC-Signature";

/// How deliveries are timed and retried.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// A receiver must answer within this (eeID: 10 s).
    pub timeout: Duration,
    /// Retries after the first attempt (eeID: 3).
    pub retries: u32,
    /// Delay before the first retry; each later retry waits four times longer.
    pub backoff: Duration,
    /// Upper bound on how long a due delivery can wait when no wake-up arrives.
    pub poll: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_secs(30),
            poll: Duration::from_secs(5),
        }
    }
}

impl WebhookConfig {
    /// Delay after the `attempt`-th failed attempt (1-based): backoff, 4×, 16×, capped at one hour.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 4u32.saturating_pow(attempt.saturating_sub(1));
        self.backoff.saturating_mul(factor).min(Duration::from_secs(3600))
    }
}

/// Why a request got no HTTP answer.
#[derive(Debug)]
pub enum TransportError {
    Timeout,
    Connect,
    Other(String),
}

/// Sends one signed POST and says which status came back.
pub trait WebhookTransport: Send + Sync + 'static {
    fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        timeout: Duration,
    ) -> impl Future<Output = Result<u16, TransportError>> + Send;
}

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

/// The operator's message relay: Vouch's e-mails and text messages to people (one-time codes, links) are POSTed
/// there as JSON, signed with the Standard Webhooks headers under its own secret, and the relay sends them by
/// whichever mail or SMS gateway the operator runs.
#[derive(Clone)]
pub struct MessageRelay {
    /// Where messages are POSTed: https, or http on loopback.
    pub url: String,
    /// The relay's `whsec_...` signing secret.
    pub secret: String,
}

impl std::fmt::Debug for MessageRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageRelay").field("url", &self.url).finish_non_exhaustive()
    }
}

/// What one delivery is signed with.
struct SigningSecrets {
    /// The client secret, for an API that signs with it (eeID's `X-HMAC-Signature`); None for the others.
    client_secret: Option<Vec<u8>>,
    webhook_secret: String,
}

/// What one attempt sends: the body (a message's opened) and its secrets (a message's are the relay's).
fn prepare(
    s: &vouch_store::Store,
    delivery: &Delivery,
    webhooks: &CompletionWebhooks,
    relay: Option<&MessageRelay>,
) -> vouch_store::Result<Result<(Vec<u8>, SigningSecrets), String>> {
    let body = s.delivery_body(delivery)?;
    if delivery.message {
        let Some(relay) = relay else { return Ok(Err("no message relay is configured".into())) };
        return Ok(Ok((body, SigningSecrets { client_secret: None, webhook_secret: relay.secret.clone() })));
    }
    let client_secret = if webhooks.signed_with_client_secret(&s.delivery_api(delivery.id)?) {
        Some(s.client_signing_secret(&delivery.client_id)?)
    } else {
        None
    };
    let webhook_secret = s.client_webhook_secret(&delivery.client_id)?;
    Ok(Ok((body, SigningSecrets { client_secret, webhook_secret })))
}

/// How many deliveries go out at once; a slow receiver then cannot hold up the rest.
const CONCURRENCY: u32 = 8;

/// Runs until `stop` turns true, sleeping until the next delivery is due or a new one is queued. Attempts
/// under way when it is told to stop finish and are recorded first, so none is sent without its result
/// being kept.
pub async fn run_dispatcher<T: WebhookTransport>(
    app: App,
    transport: Arc<T>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let poll = app.webhooks.poll;
    loop {
        if *stop.borrow() {
            tracing::info!("webhook dispatcher stopped");
            return;
        }
        // Claimed for longer than a batch can take (every request times out), so no other instance sends them
        // meanwhile; if this one dies, they fall due again when the lease ends.
        let lease = app.webhooks.timeout * 2 + Duration::from_secs(30);
        let batch = match app.db(move |s| s.claim_due_deliveries(vouch_store::now(), CONCURRENCY, lease)).await {
            Ok(batch) => batch,
            Err(e) => {
                tracing::error!(error = %e.message, "webhook dispatcher could not read the outbox");
                Vec::new()
            }
        };
        let full_batch = batch.len() as u32 >= CONCURRENCY;
        let mut set = JoinSet::new();
        for delivery in batch {
            set.spawn(attempt(app.clone(), transport.clone(), delivery));
        }
        while set.join_next().await.is_some() {}
        if full_batch {
            continue;
        }
        let wait = match app.db(|s| s.next_delivery_due()).await {
            Ok(Some(at)) => {
                let until = (at - vouch_store::now()).whole_milliseconds().max(0);
                Duration::from_millis(u64::try_from(until).unwrap_or(0)).min(poll)
            }
            _ => poll,
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.outbox_wake.notified() => {}
            // Told to stop, or whoever could tell it is gone: either way, no busy loop on a closed channel.
            changed = stop.changed() => if changed.is_err() {
                tracing::info!("webhook dispatcher stopped");
                return;
            },
        }
    }
}

/// The headers of one attempt: the Standard Webhooks ones, and eeID's where the API signs with the client
/// secret.
fn headers(delivery: &Delivery, body: &[u8], secrets: &SigningSecrets, timestamp: i64) -> Vec<(&'static str, String)> {
    // The same id on every attempt, so a receiver can drop a repeat it already handled.
    let message_id = format!("msg_{}_{}", delivery.case_id, delivery.id);
    let mut headers = vec![
        ("content-type", "application/json".to_string()),
        ("webhook-id", message_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("X-Vouch-Delivery", delivery.id.to_string()),
    ];
    if let Some(signature) = standard_signature(&secrets.webhook_secret, &message_id, timestamp, body) {
        headers.push(("webhook-signature", signature));
    }
    if let Some(secret) = &secrets.client_secret {
        headers.push((SIGNATURE_HEADER, sign(secret, body)));
    }
    headers
}

async fn attempt<T: WebhookTransport>(app: App, transport: Arc<T>, delivery: Delivery) {
    let for_secrets = delivery.clone();
    let (webhooks, relay) = (app.completion_webhooks.clone(), app.message_relay.clone());
    let prepared = app.db(move |s| prepare(s, &for_secrets, &webhooks, relay.as_ref())).await;
    let started = Instant::now();
    let at = vouch_store::now();
    let (http_status, error) = match prepared {
        Err(e) => (None, Some(format!("cannot sign: {}", e.message))),
        Ok(Err(why)) => (None, Some(why)),
        Ok(Ok((body, secrets))) => {
            let headers = headers(&delivery, &body, &secrets, at.unix_timestamp());
            match transport.post(&delivery.url, headers, body, app.webhooks.timeout).await {
                Ok(code) => {
                    // A relay may answer 202: it has queued the message with its own gateway.
                    let ok = matches!(code, 200 | 201 | 204) || (delivery.message && (200..300).contains(&code));
                    (Some(code), (!ok).then(|| format!("HTTP {code}")))
                }
                Err(TransportError::Timeout) => (None, Some("no answer within the timeout".to_string())),
                Err(TransportError::Connect) => (None, Some("connection failed".to_string())),
                Err(TransportError::Other(e)) => (None, Some(format!("request failed: {e}"))),
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
    let retry_at = at + app.webhooks.delay_after(delivery.attempts + 1);
    let id = delivery.id;
    match app.db(move |s| s.record_attempt(id, &result, retry_at)).await {
        Ok(d) => tracing::info!(
            delivery = d.id, case_id = %d.case_id, attempt = d.attempts, status = d.status.as_str(),
            http_status = ?http_status, to_relay = d.message, "webhook attempt"
        ),
        Err(e) => tracing::error!(delivery = id, error = %e.message, "could not record a webhook attempt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_four_times_longer_each_time_up_to_an_hour() {
        let config = WebhookConfig { backoff: Duration::from_secs(30), ..WebhookConfig::default() };
        let waits: Vec<u64> = (1..=5).map(|n| config.delay_after(n).as_secs()).collect();
        assert_eq!(waits, [30, 120, 480, 1920, 3600]);
    }

    #[test]
    fn the_standard_signature_needs_a_whsec_secret() {
        assert!(standard_signature("not-a-webhook-secret", "msg_1", 0, b"{}").is_none());
        let a = standard_signature("whsec_c2VjcmV0", "msg_1", 1_700_000_000, b"{}").unwrap();
        let b = standard_signature("whsec_c2VjcmV0", "msg_1", 1_700_000_001, b"{}").unwrap();
        assert!(a.starts_with("v1,") && a != b, "{a} {b}");
    }
}

/// A webhook delivery with every attempt at it, as the admin's delivery log shows it.
#[derive(Debug, serde::Serialize, ts_rs::TS)]
pub struct DeliveryView {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// The delivery log, newest first, each delivery with its attempts (the admin API and admin settings).
pub async fn delivery_views(app: &App, case_id: Option<CaseId>, limit: u32) -> Result<Vec<DeliveryView>, AppError> {
    app.db(move |s| {
        s.list_deliveries(case_id, limit)?
            .into_iter()
            .map(|d| Ok(DeliveryView { attempts: s.delivery_attempts(d.id)?, delivery: d }))
            .collect::<Result<Vec<_>, vouch_store::StoreError>>()
    })
    .await
}

/// Queues a failed delivery for a fresh round of attempts and wakes the dispatcher.
pub async fn retry(app: &App, id: i64) -> Result<DeliveryView, AppError> {
    let attempts = app.webhooks.retries + 1;
    let delivery = app.db(move |s| s.retry_delivery(id, attempts)).await?;
    app.outbox_wake.notify_one();
    let attempts = app.db(move |s| s.delivery_attempts(id)).await?;
    Ok(DeliveryView { delivery, attempts })
}
