//! Configuration for `vouch serve` and the kiosk app: command-line flags, then environment variables, then
//! `vouch.toml`, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ServerConfig;
use anyhow::Context;
use serde::Deserialize;

/// `vouch.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub bind: Option<SocketAddr>,
    pub public_url: Option<String>,
    /// Replaced by TLS off loopback; kept only to explain that when an old file still says it.
    pub allow_non_loopback: Option<bool>,
    /// Plain HTTP off loopback (or, in the kiosk app, to a remote server): warned about at every start.
    pub insecure_no_tls: Option<bool>,
    /// The kiosk app against a remote server with a self-signed certificate: its SHA-256 fingerprint, as
    /// `vouch serve` printed it (or `VOUCH_REMOTE_FINGERPRINT`).
    pub remote_fingerprint: Option<String>,
    pub body_limit_bytes: Option<usize>,
    pub case_ttl_secs: Option<u64>,
    /// The built kiosk UI (`ui/dist`) that `vouch serve` serves at `/kiosk/`.
    pub ui_dir: Option<PathBuf>,
    /// The kiosk app: run against this Vouch server instead of the embedded one.
    pub remote_url: Option<String>,
    /// The kiosk app against a remote server: the pairing code that server printed (or `VOUCH_PAIRING_CODE`).
    pub pairing_code: Option<String>,
    /// The ONNX models folder (with `MODELS.md`).
    pub models_dir: Option<PathBuf>,
    /// Where the records are: `postgres://USER@HOST:PORT/DATABASE` (the password from `PGPASSWORD`, or in the URL);
    /// unset, SQLite in the data directory.
    pub database: Option<String>,
    /// Where evidence is kept: `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION` (S3-compatible object storage,
    /// credentials from `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`); unset, files in the data directory.
    pub blobs: Option<String>,
    /// Largest body of the image endpoints, in bytes.
    pub image_body_limit_bytes: Option<usize>,
    /// Largest body of the signing endpoints (DANAconnect, MasStack: base64 PDFs), in bytes.
    pub document_body_limit_bytes: Option<usize>,
    /// The kiosk camera: `none`, `webcam`, `webcam:NAME`, `webcam:/dev/videoN`, `synthetic` or `demo:PATH`
    /// (labelled DEMO everywhere). An admin's choice in settings overrides it.
    pub camera: Option<String>,
    /// A separate camera for documents (the document_scan step), in the same forms as `camera`; without it the
    /// kiosk camera reads documents too.
    pub document_camera: Option<String>,
    /// The webcam mode asked for, `WIDTHxHEIGHT@FPS` (default 640x480@30); the nearest offered mode is used.
    pub camera_mode: Option<String>,
    /// The kiosk's chip reader: `pcsc` (any reader, the default), `pcsc:READER NAME`, `none` or `demo` (an
    /// emulated TEST passport, labelled DEMO everywhere).
    pub chip: Option<String>,
    /// A folder of CSCA certificates (PEM or DER) and ICAO master lists; passive authentication anchors in it.
    pub csca_dir: Option<PathBuf>,
    #[serde(default)]
    pub webhooks: FileWebhooks,
    #[serde(default)]
    pub signing: FileSigning,
    #[serde(default)]
    pub image_url: FileImageUrl,
    /// More `Host` names the server answers to (a reverse proxy's), besides its address and public URL.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    #[serde(default)]
    pub limits: FileLimits,
    #[serde(default)]
    pub tls: FileTls,
    #[serde(default)]
    pub gallery: FileGallery,
    #[serde(default)]
    pub messages: FileMessages,
}

/// `[messages]`: the operator's message relay, through which Vouch sends people their one-time codes and links
/// (see docs/messages.md). `relay_url` is https, or http on loopback; `relay_secret_file` holds its `whsec_`
/// signing secret and must be readable by its owner only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileMessages {
    pub relay_url: Option<String>,
    pub relay_secret_file: Option<PathBuf>,
}

/// `[gallery]`: `index = "approximate"` searches a shortlist by binary sketches (`sketch_bits`, a multiple of 64
/// up to 512; `shortlist` templates scored exactly) instead of scanning every template.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileGallery {
    pub index: Option<String>,
    pub sketch_bits: Option<usize>,
    pub shortlist: Option<usize>,
}

/// The gallery's index from `[gallery]` (or `VOUCH_GALLERY_INDEX`).
fn gallery_index(file: &FileGallery) -> anyhow::Result<vouch_app::gallery::IndexKind> {
    use vouch_app::gallery::{IndexKind, SketchParams};
    let env = std::env::var("VOUCH_GALLERY_INDEX").ok().filter(|v| !v.is_empty());
    match env.as_deref().or(file.index.as_deref()).unwrap_or("exact") {
        "exact" => Ok(IndexKind::Exact),
        "approximate" => {
            let default = SketchParams::default();
            let bits = file.sketch_bits.unwrap_or(default.bits);
            anyhow::ensure!(
                (64..=512).contains(&bits) && bits.is_multiple_of(64),
                "[gallery] sketch_bits must be 64, 128, ... or 512"
            );
            let shortlist = file.shortlist.unwrap_or(default.shortlist);
            anyhow::ensure!((1..=100_000).contains(&shortlist), "[gallery] shortlist must be 1 to 100000");
            Ok(IndexKind::Approximate(SketchParams { bits, shortlist }))
        }
        other => anyhow::bail!("[gallery] index must be \"exact\" or \"approximate\", not {other:?}"),
    }
}

/// `[tls]`: https on any address. Without it, Vouch serves https off loopback with a generated certificate.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileTls {
    /// https on loopback too (with the generated certificate unless `cert` and `key` are given).
    #[serde(default)]
    pub enabled: bool,
    /// A PEM certificate chain, leaf first.
    pub cert: Option<PathBuf>,
    /// Its PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

/// `[limits]`: the front door's bounds (docs/security.md#the-front-door). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub header_read_timeout_secs: Option<u64>,
    pub max_connections: Option<usize>,
    pub request_timeout_secs: Option<u64>,
    pub image_concurrency: Option<usize>,
    pub document_concurrency: Option<usize>,
    pub kiosk_concurrency: Option<usize>,
}

/// `[image_url]`: DIS `image.url` fetching. Off by default; when on, only https to these hosts, and only
/// when they resolve to public addresses.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileImageUrl {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

/// `[signing]`: the PKCS#12 password comes from `VOUCH_SIGNING_PASSWORD`, never from the file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSigning {
    pub pkcs12: Option<PathBuf>,
    pub escrow_certificate: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileWebhooks {
    pub timeout_secs: Option<u64>,
    pub retries: Option<u32>,
    pub backoff_secs: Option<f64>,
}

/// The data directory: `--data-dir`, else `VOUCH_DATA_DIR`, else `~/.local/share/vouch`.
pub fn data_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    if let Some(dir) = std::env::var_os("VOUCH_DATA_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .context("neither VOUCH_DATA_DIR nor HOME is set; pass --data-dir")?;
    Ok(base.join("vouch"))
}

/// Reads `path` (from `--config`/`VOUCH_CONFIG`) or `<data dir>/vouch.toml` if it exists.
pub fn load_file(explicit: Option<&Path>, data_dir: &Path) -> anyhow::Result<(FileConfig, Option<PathBuf>)> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => {
            let p = data_dir.join("vouch.toml");
            if !p.exists() {
                return Ok((FileConfig::default(), None));
            }
            p
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let cfg = toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    Ok((cfg, Some(path)))
}

/// Where the store keeps its blobs: `--blobs` (or `VOUCH_BLOBS`), else `blobs` in `vouch.toml`, else the data
/// directory.
pub fn blob_location(flag: Option<&str>, file: &FileConfig) -> anyhow::Result<vouch_store::BlobLocation> {
    match flag.filter(|f| !f.is_empty()).or(file.blobs.as_deref()) {
        Some(text) => Ok(vouch_store::BlobLocation::parse(text)?),
        None => Ok(vouch_store::BlobLocation::DataDir),
    }
}

/// Where the store keeps its records: `--database` (or `VOUCH_DATABASE`), else `database` in `vouch.toml`, else
/// SQLite in the data directory.
pub fn database_location(flag: Option<&str>, file: &FileConfig) -> anyhow::Result<vouch_store::DatabaseLocation> {
    match flag.filter(|f| !f.is_empty()).or(file.database.as_deref()) {
        Some(text) => Ok(vouch_store::DatabaseLocation::parse(text)?),
        None => Ok(vouch_store::DatabaseLocation::DataDir),
    }
}

/// Opens the store with its key in `data_dir`, its records in `database` and its blobs at `blobs`, saying which
/// when it fails (never the database password).
pub fn open_store(
    data_dir: &Path,
    database: &vouch_store::DatabaseLocation,
    blobs: &vouch_store::BlobLocation,
) -> anyhow::Result<vouch_store::Store> {
    vouch_store::Store::open_at(data_dir, database, blobs).with_context(|| {
        format!("opening the store in {} on {database} with its evidence in {blobs}", data_dir.display())
    })
}

#[derive(Default)]
pub struct ServeOverrides {
    pub bind: Option<SocketAddr>,
    pub public_url: Option<String>,
    /// `--tls`: https on loopback too.
    pub tls: bool,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub insecure_no_tls: bool,
    pub ui_dir: Option<PathBuf>,
    pub models_dir: Option<PathBuf>,
    /// `none`, `webcam[:NAME]`, `synthetic` or `demo:PATH`.
    pub camera: Option<String>,
    /// A separate document camera, in the same forms as `camera`.
    pub document_camera: Option<String>,
    /// `pcsc`, `pcsc:READER`, `none` or `demo`.
    pub chip: Option<String>,
}

/// Where the `vouch-common` package installs the models and the built UI (docs/packages.md).
pub const INSTALLED_SHARE_DIR: &str = "/usr/share/vouch";

/// Where the built UI is when nobody said: `ui/dist` under the working directory, under the checkout that holds
/// this executable (`target/<profile>/vouch`), or where the package installs it.
pub fn default_ui_dir() -> Option<PathBuf> {
    let exe_checkout = std::env::current_exe().ok().and_then(|e| Some(e.parent()?.parent()?.parent()?.join("ui/dist")));
    let installed = Path::new(INSTALLED_SHARE_DIR).join("ui");
    [Some(PathBuf::from("ui/dist")), exe_checkout, Some(installed)]
        .into_iter()
        .flatten()
        .find(|d| d.join("kiosk/index.html").is_file())
}

/// Where the models are when nobody said: `VOUCH_MODELS_DIR`, else `models/` under the working directory, next to
/// the executable, in the checkout that holds it (`target/<profile>/vouch`), or where the package installs them.
pub fn default_models_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("VOUCH_MODELS_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let exe_dir = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf));
    let beside_exe = exe_dir.as_ref().map(|d| d.join("models"));
    let exe_checkout = exe_dir.as_ref().and_then(|d| Some(d.parent()?.parent()?.join("models")));
    let installed = Path::new(INSTALLED_SHARE_DIR).join("models");
    [Some(PathBuf::from("models")), beside_exe, exe_checkout, Some(installed)]
        .into_iter()
        .flatten()
        .find(|d| d.join("MODELS.md").is_file())
        .map(|d| d.canonicalize().unwrap_or(d))
}

pub fn server_config(file: FileConfig, flags: ServeOverrides) -> anyhow::Result<ServerConfig> {
    let mut cfg = ServerConfig::default();
    let mode = match &file.camera_mode {
        Some(m) => vouch_capture::ModeRequest::parse(m).map_err(anyhow::Error::msg)?,
        None => vouch_capture::ModeRequest::default(),
    };
    if let Some(camera) = flags.camera.or(file.camera) {
        cfg.camera = crate::camera::CameraSource::parse(&camera, mode).map_err(anyhow::Error::msg)?;
    }
    if let Some(camera) = flags.document_camera.or(file.document_camera) {
        cfg.document_camera = Some(crate::camera::CameraSource::parse(&camera, mode).map_err(anyhow::Error::msg)?);
    }
    cfg.camera_mode = mode;
    if let Some(chip) = flags.chip.or(file.chip) {
        cfg.chip = crate::chip::ChipSource::parse(&chip).map_err(anyhow::Error::msg)?;
    }
    cfg.csca_dir = std::env::var_os("VOUCH_CSCA_DIR").filter(|d| !d.is_empty()).map(PathBuf::from).or(file.csca_dir);
    cfg.image_url = crate::image_fetch::ImageUrlConfig {
        enabled: file.image_url.enabled,
        allowed_hosts: file.image_url.allowed_hosts,
    };
    cfg.allowed_hosts = file.allowed_hosts;
    cfg.gallery_index = gallery_index(&file.gallery)?;
    let limits = &file.limits;
    let positive = |name: &str, v: u64| -> anyhow::Result<u64> {
        anyhow::ensure!(v > 0, "[limits] {name} must be at least 1");
        Ok(v)
    };
    if let Some(s) = limits.header_read_timeout_secs {
        cfg.header_read_timeout = Duration::from_secs(positive("header_read_timeout_secs", s)?);
    }
    if let Some(s) = limits.request_timeout_secs {
        cfg.request_timeout = Duration::from_secs(positive("request_timeout_secs", s)?);
    }
    for (name, value, slot) in [
        ("max_connections", limits.max_connections, &mut cfg.max_connections),
        ("image_concurrency", limits.image_concurrency, &mut cfg.image_concurrency),
        ("document_concurrency", limits.document_concurrency, &mut cfg.document_concurrency),
        ("kiosk_concurrency", limits.kiosk_concurrency, &mut cfg.kiosk_concurrency),
    ] {
        if let Some(v) = value {
            *slot = usize::try_from(positive(name, v as u64)?)?;
        }
    }
    cfg.signing = crate::config::SigningConfig {
        pkcs12: file.signing.pkcs12,
        pkcs12_password: std::env::var("VOUCH_SIGNING_PASSWORD").ok(),
        escrow_certificate: file.signing.escrow_certificate,
    };
    if let Some(bind) = flags.bind.or(file.bind) {
        cfg.bind = bind;
    }
    cfg.public_url = flags.public_url.or(file.public_url);
    anyhow::ensure!(
        file.allow_non_loopback.is_none(),
        "allow_non_loopback is gone: off loopback Vouch serves https with a generated certificate (or [tls] cert \
         and key); to serve plain HTTP there anyway, say insecure_no_tls = true"
    );
    cfg.tls = match (flags.tls_cert.or(file.tls.cert), flags.tls_key.or(file.tls.key)) {
        (Some(cert), Some(key)) => crate::tls::TlsSetting::Files { cert, key },
        (None, None) if flags.tls || file.tls.enabled => crate::tls::TlsSetting::SelfSigned,
        (None, None) => crate::tls::TlsSetting::Auto,
        _ => anyhow::bail!(
            "a TLS certificate needs both its cert and its key ([tls] cert and key, or --tls-cert and --tls-key)"
        ),
    };
    cfg.insecure_no_tls = flags.insecure_no_tls || file.insecure_no_tls.unwrap_or(false);
    cfg.ui_dir = flags.ui_dir.or(file.ui_dir).or_else(default_ui_dir);
    cfg.models_dir = flags.models_dir.or(file.models_dir).or_else(default_models_dir);
    if let Some(limit) = file.image_body_limit_bytes {
        cfg.image_body_limit_bytes = limit;
    }
    if let Some(limit) = file.document_body_limit_bytes {
        cfg.document_body_limit_bytes = limit;
    }
    if let Some(limit) = file.body_limit_bytes {
        cfg.body_limit_bytes = limit;
    }
    if let Some(ttl) = file.case_ttl_secs {
        cfg.case_ttl = Duration::from_secs(ttl);
    }
    if let Some(t) = file.webhooks.timeout_secs {
        cfg.webhooks.timeout = Duration::from_secs(t);
    }
    if let Some(r) = file.webhooks.retries {
        cfg.webhooks.retries = r;
    }
    if let Some(b) = file.webhooks.backoff_secs.filter(|b| b.is_finite() && *b >= 0.0) {
        cfg.webhooks.backoff = Duration::from_secs_f64(b);
        cfg.webhooks.poll = cfg.webhooks.poll.min(cfg.webhooks.backoff.max(Duration::from_millis(50)));
    }
    cfg.message_relay = message_relay(&file.messages)?;
    Ok(cfg)
}

/// The message relay `[messages]` names, checked: its URL carries codes, so it is https unless on loopback, and
/// its secret file is the owner's alone.
fn message_relay(file: &FileMessages) -> anyhow::Result<Option<vouch_app::webhooks::MessageRelay>> {
    use std::os::unix::fs::PermissionsExt;
    let (url, secret_file) = match (&file.relay_url, &file.relay_secret_file) {
        (None, None) => return Ok(None),
        (Some(url), Some(secret)) => (url, secret),
        _ => anyhow::bail!("[messages] needs both relay_url and relay_secret_file"),
    };
    let parsed = reqwest::Url::parse(url).with_context(|| format!("[messages] relay_url {url:?} is not a URL"))?;
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
        anyhow::bail!("[messages] relay_url must be https (or http on loopback): it carries codes and links");
    }
    let mode = std::fs::metadata(secret_file)
        .with_context(|| format!("reading {}", secret_file.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "{} has mode {:o}; it must be readable by its owner only (chmod 600)",
            secret_file.display(),
            mode & 0o777
        );
    }
    let secret = std::fs::read_to_string(secret_file).with_context(|| format!("reading {}", secret_file.display()))?;
    let secret = secret.trim().to_string();
    if vouch_app::webhooks::standard_signature(&secret, "check", 0, b"").is_none() {
        anyhow::bail!("{} must hold a whsec_ secret (whsec_ and base64)", secret_file.display());
    }
    Ok(Some(vouch_app::webhooks::MessageRelay { url: url.clone(), secret }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(text: &str) -> anyhow::Result<ServerConfig> {
        server_config(toml::from_str(text)?, ServeOverrides::default())
    }

    #[test]
    fn the_front_door_limits_and_image_url_rules_come_from_the_file() {
        let cfg = from(
            "allowed_hosts = [\"kiosk.example\"]\n[limits]\nheader_read_timeout_secs = 5\nimage_concurrency = 8\n\
             [image_url]\nenabled = true\nallowed_hosts = [\"images.example\"]\n",
        )
        .unwrap();
        assert_eq!(cfg.header_read_timeout, Duration::from_secs(5));
        assert_eq!(cfg.image_concurrency, 8);
        assert_eq!(cfg.max_connections, ServerConfig::default().max_connections);
        assert!(cfg.image_url.enabled);
        assert_eq!(cfg.allowed_hosts, ["kiosk.example"]);
        assert!(from("[limits]\nmax_connections = 0\n").is_err(), "a limit of zero would serve nobody");
        assert!(from("[limits]\nunknown = 1\n").is_err());
        assert!(!from("").unwrap().image_url.enabled, "image URLs are off by default");
    }

    #[test]
    fn tls_comes_from_the_file_and_the_old_plain_http_switch_explains_itself() {
        use crate::tls::TlsSetting;
        assert_eq!(from("").unwrap().tls, TlsSetting::Auto);
        assert_eq!(from("[tls]\nenabled = true\n").unwrap().tls, TlsSetting::SelfSigned);
        let files = from("[tls]\ncert = \"/etc/vouch/cert.pem\"\nkey = \"/etc/vouch/key.pem\"\n").unwrap();
        assert!(matches!(files.tls, TlsSetting::Files { .. }));
        assert!(from("[tls]\ncert = \"/etc/vouch/cert.pem\"\n").is_err(), "a certificate without its key");
        assert!(from("insecure_no_tls = true\n").unwrap().insecure_no_tls);
        let old = from("allow_non_loopback = true\n").unwrap_err().to_string();
        assert!(old.contains("insecure_no_tls"), "{old}");
    }

    #[test]
    fn the_gallery_is_scanned_exactly_unless_the_file_asks_for_the_approximate_index() {
        use vouch_app::gallery::{IndexKind, SketchParams};
        assert_eq!(from("").unwrap().gallery_index, IndexKind::Exact);
        let approximate = from("[gallery]\nindex = \"approximate\"\nshortlist = 500\n").unwrap();
        assert_eq!(approximate.gallery_index, IndexKind::Approximate(SketchParams { bits: 256, shortlist: 500 }));
        assert!(from("[gallery]\nindex = \"approximate\"\nsketch_bits = 100\n").is_err());
        assert!(from("[gallery]\nindex = \"hnsw\"\n").is_err());
    }

    #[test]
    fn the_message_relay_needs_https_off_loopback_and_a_secret_only_its_owner_reads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("relay.secret");
        std::fs::write(&secret, "whsec_cmVsYXktc2VjcmV0\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let with = |url: &str| from(&format!("[messages]\nrelay_url = \"{url}\"\nrelay_secret_file = {:?}\n", secret));
        assert!(from("").unwrap().message_relay.is_none(), "no relay unless configured");
        let relay = with("https://relay.example/messages").unwrap().message_relay.unwrap();
        assert_eq!(
            (relay.url.as_str(), relay.secret.as_str()),
            ("https://relay.example/messages", "whsec_cmVsYXktc2VjcmV0")
        );
        assert!(with("http://127.0.0.1:9000/messages").is_ok(), "plain http on loopback");
        assert!(with("http://relay.example/messages").is_err(), "codes never cross a network in clear");
        assert!(from("[messages]\nrelay_url = \"https://relay.example\"\n").is_err(), "a relay without its secret");
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(with("https://relay.example/messages").unwrap_err().to_string().contains("chmod 600"));
        std::fs::write(&secret, "not-a-secret").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(with("https://relay.example/messages").is_err(), "a secret that signs nothing");
    }
}
