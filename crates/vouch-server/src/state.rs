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
    /// The kiosk's commands' context: its devices, engines, sign-ins and bridge codes.
    pub kiosk: vouch_app::kiosk::Kiosk,
    /// The face engine, loaded on first use (the kiosk's, shared).
    pub faces: Arc<crate::faces::FaceService>,
    /// The page reader, loaded on first use (the kiosk's, shared).
    pub documents: Arc<crate::document_reader::DocumentService>,
    /// Face recognition for integrators: photos compared and searched, persons in collections (Verifik's).
    pub recognition: Arc<vouch_app::recognition::Recognition>,
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
