use std::sync::Arc;

use vouch_store::{Store, StoreError};

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    /// The use cases' context: the store, the signing keys, the completion webhooks, ...
    pub app: vouch_app::App,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
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
    /// Pairing, setup and preview codes of the kiosk bridge over HTTP.
    pub bridge: Arc<crate::kiosk::bridge::Bridge>,
    /// Places for heavy work, per kind.
    pub work: Arc<crate::load::WorkLimits>,
    /// The `Host` and `Origin` values this server answers to.
    pub hosts: Arc<crate::guard::AllowedHosts>,
}

impl AppState {
    /// Runs blocking store work (SQLite, argon2, file I/O) off the async workers.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        Ok(self.app.db(f).await?)
    }
}
