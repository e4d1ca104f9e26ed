//! Vouch's embedded HTTP server: OAuth2 token endpoints, vendor-compatible adapters, Vouch's own API,
//! OpenAPI and docs, metrics, and the webhook dispatcher.

pub mod adapters;
mod central_client;
pub use vouch_app::camera;
pub use vouch_app::chip;
pub mod config;
pub mod config_file;
pub use vouch_app::document_reader;
pub mod error;
pub mod extract;
pub mod faces;
pub mod guard;
pub mod image_fetch;
pub mod kiosk;
pub use vouch_app::liveness_record;
pub mod load;
pub mod messages;
pub mod metrics;
pub use vouch_app::model_slot;
pub mod native;
pub mod native_flows;
pub mod oauth;
pub mod pages;
pub mod pairing;
pub mod proofs;
pub use vouch_app::proof;
pub mod reference_photo;
pub mod serve;
pub mod state;
pub mod sync;
pub mod tls;
pub mod trust_records;
pub mod ui;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::routing::any;
use axum::Router;
use tokio::sync::{oneshot, Notify};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use vouch_store::Store;

pub use config::{ServerConfig, WebhookConfig};
pub use state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vouch",
        description = "Offline-first identity verification kiosk. Each vendor-compatible API lives under its own prefix: \
point an integration's base URL at http://HOST:PORT/<prefix>.",
    ),
    tags(
        (name = "eeID", description = "eeID identification requests (prefix /eeid)"),
        (name = "DIS", description = "Innovatrics Digital Identity Service 1.52.0 (prefix /identity)"),
        (name = "DANAconnect", description = "DANAconnect biometric circuits (prefix /danaconnect)"),
        (name = "Verifik", description = "Verifik face recognition, persons and collections (prefix /verifik)"),
        (name = "MasStack", description = "MasStack Documents API v1, biometric and simple signatures (prefix /masstack)"),
        (name = "OAuth2", description = "RFC 6749 client-credentials tokens"),
        (name = "Vouch", description = "Vouch's own API (prefix /vouch/v1)"),
        (name = "Operations", description = "Probes, metrics and this documentation"),
        (name = "Kiosk", description = "Pages a person opens"),
    ),
    modifiers(&SecuritySchemes)
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// The whole HTTP surface, and the OpenAPI document generated from the same routes.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (api_router, mut openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(oauth::routes())
        .merge(adapters::eeid::routes(state.clone()))
        .merge(adapters::danaconnect::routes(state.clone()))
        .merge(adapters::masstack::routes(state.clone()))
        .merge(adapters::dis::routes(state.clone()))
        .merge(adapters::verifik::routes(state.clone()))
        .merge(native::routes(state.clone()))
        .merge(native_flows::routes(state.clone()))
        .merge(trust_records::routes(state.clone()))
        .merge(proofs::routes())
        .merge(reference_photo::routes(state.clone()))
        .merge(pairing::admin_routes(state.clone()))
        .merge(pairing::pair_routes())
        .merge(sync::routes(state.clone()))
        .merge(kiosk::routes())
        .merge(pages::routes())
        .split_for_parts();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_string();
    let _ = pages::OPENAPI.set(openapi.clone());
    let router = api_router
        .route("/identity/{*rest}", any(adapters::not_built::dis))
        .route("/eeid/{*rest}", any(adapters::not_built::eeid))
        .route("/verifik/{*rest}", any(adapters::not_built::verifik))
        .route("/danaconnect/{*rest}", any(adapters::not_built::danaconnect))
        .route("/masstack/{*rest}", any(adapters::not_built::masstack))
        .route("/kiosk", axum::routing::get(ui::index))
        .route("/kiosk/", axum::routing::get(ui::index))
        .route("/kiosk/{*path}", axum::routing::get(ui::asset))
        .fallback(adapters::not_built::unknown)
        .layer(axum::middleware::from_fn_with_state(state.clone(), load::time_limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard::check_host_and_origin))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .with_state(state);
    (router, openapi)
}

/// A running server. Dropping it does not stop it; call [`Running::shutdown`].
pub struct Running {
    pub addr: SocketAddr,
    pub public_url: String,
    /// The same state the HTTP handlers use, for in-process callers (the kiosk app's IPC bridge).
    pub state: AppState,
    /// The SHA-256 fingerprint of the certificate served, when serving https: the admin confirms it.
    pub tls_fingerprint: Option<tls::Fingerprint>,
    /// Whether that certificate is the one Vouch generated.
    pub tls_self_signed: bool,
    shutdown: Option<oneshot::Sender<()>>,
    /// Tells the webhook dispatcher to finish the attempts under way and stop.
    dispatcher_stop: tokio::sync::watch::Sender<bool>,
    server: Option<tokio::task::JoinHandle<()>>,
    dispatcher: Option<tokio::task::JoinHandle<()>>,
    /// The expiry and retention sweeps: cut off at shutdown (each run is one transaction).
    sweeps: Vec<tokio::task::JoinHandle<()>>,
}

/// Waits for a task that stops by itself, up to `limit`; then cuts it off.
async fn join_within(task: Option<tokio::task::JoinHandle<()>>, limit: std::time::Duration) {
    let Some(task) = task else { return };
    let abort = task.abort_handle();
    if tokio::time::timeout(limit, task).await.is_err() {
        abort.abort();
    }
}

impl Running {
    /// Stops accepting connections and lets requests in flight finish (up to the drain time), lets the
    /// webhook attempts under way finish and record their result, then stops the background tasks.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = self.dispatcher_stop.send(true);
        let limit = self.state.config.drain + std::time::Duration::from_secs(1);
        join_within(self.server.take(), limit).await;
        join_within(self.dispatcher.take(), limit).await;
        for task in self.sweeps.drain(..) {
            task.abort();
            let _ = task.await;
        }
    }

    /// Waits until the server stops (it stops on its own only if the listener fails).
    pub async fn wait(&mut self) {
        // Awaited in place, so that a caller who stops waiting (a signal) still holds it for `shutdown`.
        if let Some(server) = self.server.as_mut() {
            let _ = server.await;
            self.server = None;
        }
    }
}

/// `https://ADDR` or `http://ADDR`; an unspecified bind (`0.0.0.0`) is named by this machine's host name, which
/// the generated certificate covers.
fn default_public_url(addr: SocketAddr, tls: bool) -> String {
    let scheme = if tls { "https" } else { "http" };
    if let Some(host) = tls::host_name().filter(|_| addr.ip().is_unspecified()) {
        return format!("{scheme}://{host}:{}", addr.port());
    }
    format!("{scheme}://{addr}")
}

/// Binds, then serves the API and runs the webhook dispatcher and the expiry sweep in the background.
pub async fn start(config: ServerConfig, store: Store) -> anyhow::Result<Running> {
    let decision = tls::decide(config.bind, &config.tls, config.insecure_no_tls)?;
    if decision == tls::Decision::PlainInsecure {
        tracing::warn!(
            bind = %config.bind,
            "INSECURE: serving plain HTTP off loopback (--insecure-no-tls): faces, documents, PINs and tokens \
             cross the network readable and changeable by anyone on it"
        );
    }
    let names = tls::certificate_names(config.bind, config.public_url.as_deref(), &config.allowed_hosts);
    let server_tls = tls::server_tls(&decision, store.data_dir(), &names)?;
    // First run: one demo flow, so a fresh kiosk can run a case end to end.
    store.ensure_demo_flow().context("creating the demo flow")?;
    let listener =
        tokio::net::TcpListener::bind(config.bind).await.with_context(|| format!("binding {}", config.bind))?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url.clone().unwrap_or_else(|| default_public_url(addr, server_tls.is_some()));
    let public_url = public_url.trim_end_matches('/').to_string();
    if let Some(tls) = &server_tls {
        tracing::info!(
            fingerprint = %tls.fingerprint,
            self_signed = tls.self_signed,
            cert = %tls.cert_path.display(),
            "serving https"
        );
    }
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Vouch/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the webhook HTTP client")?;
    let (config_models_dir, face_threads) = (config.models_dir.clone(), config.face_threads);
    let (signing_config, signing_store) = (config.signing.clone(), store.clone());
    let chosen_camera = store.kiosk_settings().context("reading kiosk settings")?.camera;
    let config_camera = camera::effective_source(&config.camera, &chosen_camera, config.camera_mode);
    let camera = Arc::new(camera::CameraService::new(config_camera));
    let document_camera = match &config.document_camera {
        Some(source) => Arc::new(camera::CameraService::new(source.clone())),
        None => camera.clone(),
    };
    let chip = chip::ChipService::new(config.chip.clone(), config.csca_dir.as_ref())?;
    let hosts = Arc::new(guard::AllowedHosts::new(addr, &public_url, &config.allowed_hosts));
    let work = Arc::new(load::WorkLimits::new(config.image_concurrency, config.document_concurrency));
    let needs_setup = !store.admin_pin_is_set().context("reading whether the admin PIN is set")?;
    let bridge = Arc::new(
        vouch_app::kiosk::bridge::Bridge::start(store.data_dir(), needs_setup)
            .context("writing the kiosk bridge's codes")?,
    );
    let app = vouch_app::App {
        store,
        public_url: public_url.clone().into(),
        case_ttl: config.case_ttl,
        webhooks: config.webhooks.clone(),
        outbox_wake: Arc::new(Notify::new()),
        message_relay: config.message_relay.clone(),
        completion_webhooks: adapters::completion_webhooks(),
        signing: Arc::new(vouch_app::signing::SigningService::new(signing_config, signing_store)),
    };
    let faces = Arc::new(faces::FaceService::new(config_models_dir.clone(), face_threads));
    let documents = Arc::new(document_reader::service(config_models_dir, face_threads));
    let recognition = Arc::new(vouch_app::recognition::Recognition::with_index(
        app.store.clone(),
        faces.clone(),
        config.face_threads,
        config.gallery_index,
    ));
    let kiosk = vouch_app::kiosk::Kiosk {
        app: app.clone(),
        sessions: Arc::default(),
        bridge,
        faces: faces.clone(),
        recognition: recognition.clone(),
        documents: documents.clone(),
        camera,
        document_camera,
        startup_camera: config.camera.clone(),
        camera_mode: config.camera_mode,
        chip: Arc::new(chip),
        scans: Arc::default(),
        captures: Arc::default(),
        chip_reads: Arc::default(),
        places: Arc::new(tokio::sync::Semaphore::new(config.kiosk_concurrency.max(1))),
        central: Arc::new(central_client::HttpConnector::default()),
    };
    let config = Arc::new(config);
    let state =
        AppState { app, config, metrics: Arc::default(), http, kiosk, faces, documents, recognition, hosts, work };
    let (router, _) = router(state.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let limits = serve::ConnectionLimits {
        header_read_timeout: state.config.header_read_timeout,
        max_connections: state.config.max_connections,
        drain: state.config.drain,
    };
    let tls_fingerprint = server_tls.as_ref().map(|t| t.fingerprint);
    let tls_self_signed = server_tls.as_ref().is_some_and(|t| t.self_signed);
    let acceptor = server_tls.map(|t| t.acceptor);
    let server = tokio::spawn(serve::run(listener, acceptor, router, limits, rx));
    let (dispatcher_stop, stop_rx) = tokio::sync::watch::channel(false);
    let transport = Arc::new(webhooks::ReqwestTransport(state.http.clone()));
    let dispatcher = tokio::spawn(vouch_app::webhooks::run_dispatcher(state.app.clone(), transport, stop_rx));
    let sweeper = {
        let state = state.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = vouch_app::cases::expire_due(&state.app).await {
                    tracing::error!(error = %e.message, "expiry sweep failed");
                }
                tokio::time::sleep(state.config.expiry_sweep).await;
            }
        })
    };
    let retention = tokio::spawn(vouch_app::retention::run(state.app.clone(), state.config.retention_sweep));
    // Idle until this kiosk is paired with a central service; cut off at shutdown, as a push is applied once.
    let central_sync = tokio::spawn(vouch_app::central::run(
        state.app.clone(),
        state.kiosk.central.clone(),
        state.config.central_sync_every,
        dispatcher_stop.subscribe(),
    ));
    tracing::info!(%addr, %public_url, "Vouch is serving");
    tracing::info!(
        file = %state.kiosk.bridge.pairing_code_file().display(),
        "a browser pairs with the kiosk bridge using the code printed on the console (also in this file)"
    );
    if needs_setup {
        tracing::info!(
            "first run: setting the admin PIN over HTTP needs the setup code printed on the console (also in {}/{})",
            state.app.store.data_dir().display(),
            vouch_app::kiosk::bridge::SETUP_CODE_FILE
        );
    }
    Ok(Running {
        addr,
        public_url,
        state,
        tls_fingerprint,
        tls_self_signed,
        shutdown: Some(tx),
        dispatcher_stop,
        server: Some(server),
        dispatcher: Some(dispatcher),
        sweeps: vec![sweeper, retention, central_sync],
    })
}
