//! The application's context: what every use case needs, whichever protocol (a vendor API, the kiosk bridge,
//! the CLI) called it.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use vouch_store::{Store, StoreError};

use crate::cases::CompletionWebhooks;
use crate::signing::SigningService;
use crate::AppError;

#[derive(Clone)]
pub struct App {
    pub store: Store,
    /// Base of the links handed out (the kiosk's own address), without a trailing slash.
    pub public_url: Arc<str>,
    /// How long a new case stays open.
    pub case_ttl: Duration,
    /// How webhook deliveries are timed and retried.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// Wakes the webhook dispatcher when a delivery is queued.
    pub outbox_wake: Arc<Notify>,
    /// Where e-mails and text messages to people go; None: Vouch sends none, and what needs one answers 501.
    pub message_relay: Option<crate::webhooks::MessageRelay>,
    /// The webhook each API sends when one of its cases completes.
    pub completion_webhooks: CompletionWebhooks,
    /// The signing key and escrow certificate, loaded or generated on first use.
    pub signing: Arc<SigningService>,
}

impl App {
    /// Runs blocking store work (SQLite, argon2, file I/O) off the async workers.
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        on_store(&self.store, f).await
    }

    /// Who issues proofs of identity and evidence: this Vouch, at its address.
    pub fn issuer(&self) -> String {
        format!("Vouch {} at {}", env!("CARGO_PKG_VERSION"), self.public_url)
    }
}

/// Runs blocking store work (SQLite, argon2, file I/O) on `store` off the async workers: what [`App::db`] does, for
/// the services that hold a store without the whole context.
pub async fn on_store<T, F>(store: &Store, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
{
    let store = store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| AppError::task("store", e))?
        .map_err(AppError::from)
}
