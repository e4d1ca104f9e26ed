use std::net::SocketAddr;
use std::time::Duration;

/// How the server runs. `vouch serve` fills it from flags, environment and `vouch.toml`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    /// Base URL that links handed to integrators start with (eeID `link`). Defaults to `http://<bind>`.
    pub public_url: Option<String>,
    /// Where the TLS certificate comes from; by default https off loopback and plain HTTP on it.
    pub tls: crate::tls::TlsSetting,
    /// Plain HTTP off loopback (`--insecure-no-tls`): warned about at every start.
    pub insecure_no_tls: bool,
    /// Largest request body accepted, checked before anything is parsed.
    pub body_limit_bytes: usize,
    /// How long an identification request stays open (eeID: 7 days).
    pub case_ttl: Duration,
    /// How often open cases past their expiry are moved to `expired` in the background.
    pub expiry_sweep: Duration,
    pub webhooks: WebhookConfig,
    /// The built kiosk UI (`ui/dist`, holding `kiosk/index.html`), served at `/kiosk/`. None: not served.
    pub ui_dir: Option<std::path::PathBuf>,
    /// How often the retention job looks for evidence past its retention period.
    pub retention_sweep: Duration,
    /// How often a kiosk paired with a central service syncs with it.
    pub central_sync_every: Duration,
    /// The ONNX models and their `MODELS.md`. None: face endpoints answer that no models are configured.
    pub models_dir: Option<std::path::PathBuf>,
    /// Intra-op threads per face model.
    pub face_threads: usize,
    /// Largest body accepted by the image endpoints (DIS faces and selfies), checked before parsing.
    pub image_body_limit_bytes: usize,
    /// Largest body of the calls that upload documents to sign (DANAconnect circuits, MasStack sign processes).
    pub document_body_limit_bytes: usize,
    /// The kiosk camera. None by default: a demo source is only used when configured.
    pub camera: crate::camera::CameraSource,
    /// The camera that looks at documents (a document camera over the tray), when it is not the kiosk camera.
    /// None: the document_scan step uses the kiosk camera.
    pub document_camera: Option<crate::camera::CameraSource>,
    /// The webcam mode for a webcam an admin picks in settings.
    pub camera_mode: vouch_capture::ModeRequest,
    /// The kiosk's chip reader: PC/SC (any reader) by default.
    pub chip: crate::chip::ChipSource,
    /// CSCA certificates and ICAO master lists for passive authentication.
    pub csca_dir: Option<std::path::PathBuf>,
    pub signing: SigningConfig,
    /// More `Host` names the server answers to (`host` or `host:port`), e.g. a reverse proxy's. The bound
    /// address, `localhost` on loopback and the public URL's host are always allowed.
    pub allowed_hosts: Vec<String>,
    /// A request's headers must arrive within this long (slow-loris clients are cut off).
    pub header_read_timeout: Duration,
    /// Open connections at once.
    pub max_connections: usize,
    /// Every request is answered within this long, or 503.
    pub request_timeout: Duration,
    /// On SIGTERM, requests and webhook attempts in flight get this long to finish.
    pub drain: Duration,
    /// Places for image requests (decoding, face models) at once.
    pub image_concurrency: usize,
    /// Places for requests that take documents to sign at once.
    pub document_concurrency: usize,
    /// Places for the kiosk's heavy commands (capture, inference, signing, PIN checks) at once.
    pub kiosk_concurrency: usize,
    /// DIS `image.url` fetching: off unless enabled, then https to allowlisted public hosts only.
    pub image_url: crate::image_fetch::ImageUrlConfig,
    /// How the gallery (Verifik's persons, the duplicate check) is searched: exactly (the default), or with a
    /// shortlist by binary sketches first for galleries beyond a million templates.
    pub gallery_index: vouch_app::gallery::IndexKind,
    /// Where e-mails and text messages to people go (`[messages]`). None: Vouch sends none, and what needs one
    /// answers 501.
    pub message_relay: Option<vouch_app::webhooks::MessageRelay>,
}

pub use vouch_app::signing::SigningConfig;
pub use vouch_app::webhooks::WebhookConfig;

pub const DEFAULT_PORT: u16 = 8270;

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)),
            public_url: None,
            tls: crate::tls::TlsSetting::Auto,
            insecure_no_tls: false,
            body_limit_bytes: 1024 * 1024,
            case_ttl: Duration::from_secs(7 * 24 * 3600),
            expiry_sweep: Duration::from_secs(60),
            webhooks: WebhookConfig::default(),
            ui_dir: None,
            retention_sweep: Duration::from_secs(6 * 3600),
            central_sync_every: Duration::from_secs(5),
            models_dir: None,
            face_threads: 2,
            image_body_limit_bytes: 16 * 1024 * 1024,
            // 40 MB of documents, base64, with room for the JSON around them.
            document_body_limit_bytes: 56 * 1024 * 1024,
            camera: crate::camera::CameraSource::None,
            document_camera: None,
            camera_mode: vouch_capture::ModeRequest::default(),
            chip: crate::chip::ChipSource::default(),
            csca_dir: None,
            signing: SigningConfig::default(),
            allowed_hosts: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            request_timeout: Duration::from_secs(120),
            drain: Duration::from_secs(10),
            // Two cores: a few at once keeps the CPU busy without letting a burst take every worker.
            image_concurrency: 4,
            document_concurrency: 2,
            kiosk_concurrency: 4,
            image_url: crate::image_fetch::ImageUrlConfig::default(),
            gallery_index: vouch_app::gallery::IndexKind::Exact,
            message_relay: None,
        }
    }
}

/// The log filter when `VOUCH_LOG` is unset. ONNX Runtime logs every arena reservation at INFO (hundreds of lines per
/// model load); its warnings still show.
pub const DEFAULT_LOG_FILTER: &str = "info,ort=warn";
