use std::sync::Arc;

use tokio::sync::Notify;
use vouch_store::{Store, StoreError};

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<ServerConfig>,
    /// Base of links handed out, without a trailing slash.
    pub public_url: Arc<str>,
    pub metrics: Arc<Metrics>,
    /// Wakes the webhook dispatcher when a delivery is queued.
    pub outbox_wake: Arc<Notify>,
    pub http: reqwest::Client,
    /// Staff sign-ins at the kiosk.
    pub kiosk: Arc<crate::kiosk::KioskSessions>,
    /// The face engine, loaded on first use.
    pub faces: Arc<crate::faces::FaceService>,
    /// The page reader, loaded on first use.
    pub documents: Arc<crate::document_reader::DocumentService>,
    /// The kiosk camera, started on first use.
    pub camera: Arc<crate::camera::CameraService>,
    /// The camera the document_scan step reads pages from: the kiosk camera itself unless a document camera is
    /// configured.
    pub document_camera: Arc<crate::camera::CameraService>,
    /// Document scans under way at the kiosk.
    pub scans: Arc<crate::kiosk::ScanRuns>,
    /// Liveness checks under way at the kiosk.
    pub captures: Arc<crate::kiosk::CaptureRuns>,
    /// The trust store and the kiosk's chip source.
    pub chip: Arc<crate::chip::ChipService>,
    /// Chip reads under way at the kiosk.
    pub chip_reads: Arc<crate::kiosk::ChipReads>,
    /// The signing key and escrow certificate, loaded or generated on first use.
    pub signing: Arc<crate::signing::SigningService>,
    /// Pairing, setup and preview codes of the kiosk bridge over HTTP.
    pub bridge: Arc<crate::kiosk::bridge::Bridge>,
    /// Places for heavy work, per kind.
    pub work: Arc<crate::load::WorkLimits>,
    /// The `Host` and `Origin` values this server answers to.
    pub hosts: Arc<crate::guard::AllowedHosts>,
    /// The webhook each API sends when one of its cases completes.
    pub completion_webhooks: crate::cases::CompletionWebhooks,
}

impl AppState {
    /// Runs blocking store work (SQLite, argon2, file I/O) off the async workers.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|e| ApiError::internal(format!("store task failed: {e}")))?
            .map_err(ApiError::from)
    }
}
