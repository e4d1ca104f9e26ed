//! The kiosk's signing keys: the identity that seals signed PDFs and evidence manifests, and the escrow certificate
//! pen data is encrypted to. Each comes from, in order: `[signing]` in `vouch.toml` (the operator's), the admin's
//! choice in settings (a PKCS#12 and its password sealed under the data key; an escrow certificate), or generation
//! on first use into `<data dir>/signing/` (0600), the signing certificate labelled self-signed and the escrow key
//! kept beside it until an admin sets the escrow holder's certificate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use tokio::sync::RwLock;
use vouch_pki::x509::Certificate;
use vouch_signature::pki::{pem, pem_decode};
use vouch_signature::SigningIdentity;

use crate::AppError;

pub const KEY_FILE: &str = "kiosk-key.pem";
pub const CERT_FILE: &str = "kiosk-certificate.pem";
pub const ESCROW_KEY_FILE: &str = "escrow-key.pem";
pub const ESCROW_CERT_FILE: &str = "escrow-certificate.pem";

/// Where the operator's signing keys are (`[signing]` in `vouch.toml`); empty means the admin's choice in
/// settings, or keys generated on first use.
#[derive(Debug, Clone, Default)]
pub struct SigningConfig {
    /// PKCS#12 holding the key and certificate that seal signed PDFs and evidence manifests.
    pub pkcs12: Option<std::path::PathBuf>,
    /// Its password (`VOUCH_SIGNING_PASSWORD`).
    pub pkcs12_password: Option<String>,
    /// The escrow holder's certificate (PEM or DER) that pen data is encrypted to.
    pub escrow_certificate: Option<std::path::PathBuf>,
}

pub struct SigningKeys {
    pub identity: SigningIdentity,
    pub escrow: Certificate,
    /// Where the escrow certificate came from: a configured file, or generated here (its key on this kiosk).
    pub escrow_source: String,
    pub identity_source: String,
}

/// What the admin settings show about the keys.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SigningSummary {
    pub subject: String,
    pub self_signed: bool,
    pub fingerprint_sha256: String,
    pub not_after: String,
    pub source: String,
    pub escrow_subject: String,
    pub escrow_source: String,
}

impl SigningKeys {
    pub fn summary(&self) -> SigningSummary {
        SigningSummary {
            subject: self.identity.subject(),
            self_signed: self.identity.is_self_signed(),
            fingerprint_sha256: self.identity.fingerprint(),
            not_after: self.identity.not_after().to_string(),
            source: self.identity_source.clone(),
            escrow_subject: self.escrow.subject_text(),
            escrow_source: self.escrow_source.clone(),
        }
    }
}

pub struct SigningService {
    config: SigningConfig,
    store: vouch_store::Store,
    dir: PathBuf,
    keys: RwLock<Option<Arc<SigningKeys>>>,
    /// Settings another instance of a central service changed: the keys are loaded again after.
    changes: std::sync::Mutex<vouch_store::changes::Changes>,
}

/// What an admin sets in settings: a PKCS#12 with its password, an escrow certificate, or both.
pub struct AdminKeys {
    pub pkcs12: Option<(Vec<u8>, String)>,
    pub escrow_pem: Option<String>,
}

impl SigningService {
    pub fn new(config: SigningConfig, store: vouch_store::Store) -> SigningService {
        let dir = store.data_dir().join("signing");
        let changes = std::sync::Mutex::new(store.changes());
        SigningService { config, store, dir, keys: RwLock::new(None), changes }
    }

    /// The keys, loaded (or generated) on first use: starting a server never waits for RSA key generation.
    pub async fn keys(&self) -> Result<Arc<SigningKeys>, AppError> {
        let changed = self
            .changes
            .lock()
            .map_err(|_| AppError::internal("signing changes lock poisoned"))?
            .any_about(vouch_store::changes::SETTINGS);
        if changed {
            *self.keys.write().await = None;
        }
        if let Some(k) = self.keys.read().await.as_ref() {
            return Ok(k.clone());
        }
        let mut slot = self.keys.write().await;
        if let Some(k) = slot.as_ref() {
            return Ok(k.clone());
        }
        let (config, dir, store) = (self.config.clone(), self.dir.clone(), self.store.clone());
        let keys = Arc::new(
            tokio::task::spawn_blocking(move || load(&config, &store, &dir))
                .await
                .map_err(|e| AppError::task("signing keys", e))??,
        );
        tracing::info!(subject = %keys.identity.subject(), self_signed = keys.identity.is_self_signed(),
            escrow = %keys.escrow_source, "signing keys ready");
        *slot = Some(keys.clone());
        Ok(keys)
    }

    /// The admin's choice in settings: checked (the PKCS#12 opens with its password and holds an RSA key; the
    /// certificate parses), kept in the store, and used from the next signature on. What `vouch.toml` sets wins.
    pub async fn install(&self, admin: AdminKeys, actor: &str) -> Result<Arc<SigningKeys>, AppError> {
        if admin.pkcs12.is_some() && self.config.pkcs12.is_some() {
            return Err(AppError::conflict(
                "The signing certificate is set in vouch.toml ([signing] pkcs12); change it there",
            ));
        }
        if admin.escrow_pem.is_some() && self.config.escrow_certificate.is_some() {
            return Err(AppError::conflict(
                "The escrow certificate is set in vouch.toml ([signing] escrow_certificate); change it there",
            ));
        }
        let mut slot = self.keys.write().await;
        let store = self.store.clone();
        let actor = actor.to_string();
        tokio::task::spawn_blocking(move || {
            if let Some((bytes, password)) = &admin.pkcs12 {
                let id = SigningIdentity::from_pkcs12(bytes, password).map_err(|e| AppError::invalid(e.to_string()))?;
                let what = serde_json::json!({"subject": id.subject(), "fingerprint_sha256": id.fingerprint(),
                    "self_signed": id.is_self_signed()});
                store.save_signing_pkcs12(bytes, password, &what, &actor)?;
            }
            if let Some(pem_text) = &admin.escrow_pem {
                let der = pem_decode(pem_text, "CERTIFICATE").map_err(|e| AppError::invalid(e.to_string()))?;
                let cert = Certificate::parse(&der)
                    .map_err(|e| AppError::invalid(format!("the escrow certificate does not parse: {e}")))?;
                vouch_signature::pki::rsa_public_key(&cert)
                    .map_err(|_| AppError::invalid("the escrow certificate must hold an RSA key"))?;
                store.save_signing_escrow(
                    &pem("CERTIFICATE", &der),
                    &serde_json::json!({"subject": cert.subject_text()}),
                    &actor,
                )?;
            }
            Ok::<_, AppError>(())
        })
        .await
        .map_err(|e| AppError::task("signing keys", e))??;
        // Reloaded on next use, from what was just stored.
        *slot = None;
        drop(slot);
        self.keys().await
    }
}

/// A misconfigured or unreadable key is the operator's to fix: the detail goes to the log, not to integrators.
fn unavailable(detail: String) -> AppError {
    tracing::error!(%detail, "signing keys unavailable");
    AppError::new(
        crate::AppCode::SigningKeysUnavailable,
        "The kiosk's signing keys are not available (see the server log)",
    )
}

fn load(config: &SigningConfig, store: &vouch_store::Store, dir: &Path) -> Result<SigningKeys, AppError> {
    let (identity, identity_source) = match &config.pkcs12 {
        Some(path) => {
            let bytes = std::fs::read(path)
                .map_err(|e| unavailable(format!("the signing PKCS#12 {} cannot be read: {e}", path.display())))?;
            let password = config.pkcs12_password.as_deref().unwrap_or("");
            let identity = SigningIdentity::from_pkcs12(&bytes, password)
                .map_err(|e| unavailable(format!("the signing PKCS#12 {}: {e}", path.display())))?;
            (identity, format!("configured PKCS#12 {}", path.display()))
        }
        None => match store.signing_pkcs12()? {
            Some(p12) => {
                let identity = SigningIdentity::from_pkcs12(&p12.pkcs12, &p12.password)
                    .map_err(|e| unavailable(format!("the PKCS#12 chosen in settings: {e}")))?;
                (identity, "PKCS#12 chosen in settings".to_string())
            }
            None => generated_identity(store, dir, KEY_FILE, CERT_FILE, "Vouch kiosk")?,
        },
    };
    let chosen_escrow = if config.escrow_certificate.is_none() { store.signing_escrow()? } else { None };
    let (escrow, escrow_source) = match (&config.escrow_certificate, chosen_escrow) {
        (Some(path), _) => {
            let text = std::fs::read(path)
                .map_err(|e| unavailable(format!("the escrow certificate {} cannot be read: {e}", path.display())))?;
            let der = pem_decode(&String::from_utf8_lossy(&text), "CERTIFICATE").unwrap_or(text);
            let cert = Certificate::parse(&der)
                .map_err(|e| unavailable(format!("the escrow certificate {}: {e}", path.display())))?;
            (cert, format!("configured certificate {}", path.display()))
        }
        (None, Some(text)) => {
            let der = pem_decode(&text, "CERTIFICATE").map_err(|e| unavailable(e.to_string()))?;
            let cert = Certificate::parse(&der).map_err(|e| unavailable(format!("the escrow certificate: {e}")))?;
            (cert, "certificate chosen in settings".to_string())
        }
        (None, None) => {
            let (escrow, kept) =
                generated_identity(store, dir, ESCROW_KEY_FILE, ESCROW_CERT_FILE, "Vouch local escrow")?;
            (
                escrow.certificate().clone(),
                format!("{kept}, with its private key (configure the escrow holder's certificate)"),
            )
        }
    };
    Ok(SigningKeys { identity, escrow, escrow_source, identity_source })
}

/// Loads a PEM key and certificate pair from `dir`, generating and writing both (0600) the first time.
/// A key pair generated for want of a configured one, and where it is kept: in the data directory of a kiosk, or,
/// for the instances of a central service, once in their shared store, so that all of them sign with one key and
/// escrow to one key.
fn generated_identity(
    store: &vouch_store::Store,
    dir: &Path,
    key_file: &str,
    cert_file: &str,
    label: &str,
) -> Result<(SigningIdentity, String), AppError> {
    if !store.is_shared() {
        return Ok((local_identity(dir, key_file, cert_file, label)?, format!("generated in {}", dir.display())));
    }
    let pems = store.shared_secret(key_file, || {
        let identity = SigningIdentity::generate_self_signed(label, vouch_store::now())
            .map_err(|e| vouch_store::StoreError::Invalid(format!("generating the {label} key: {e}")))?;
        let (key_pem, cert_pem) = identity.to_pem().map_err(|e| vouch_store::StoreError::Invalid(e.to_string()))?;
        tracing::warn!(
            label,
            "generated a self-signed key pair for every instance; configure [signing] for production"
        );
        Ok(serde_json::json!({"key": key_pem, "certificate": cert_pem}).to_string())
    })?;
    let pems: serde_json::Value =
        serde_json::from_str(&pems).map_err(|e| unavailable(format!("the {label} key: {e}")))?;
    let text = |field: &str| pems.get(field).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let (key, cert) = (text("key"), text("certificate"));
    let identity = SigningIdentity::from_pem(&key, &cert).map_err(|e| unavailable(format!("the {label} key: {e}")))?;
    Ok((identity, "generated once for every instance, kept sealed in the database".to_string()))
}

fn local_identity(dir: &Path, key_file: &str, cert_file: &str, label: &str) -> Result<SigningIdentity, AppError> {
    use std::os::unix::fs::OpenOptionsExt;
    let (key_path, cert_path) = (dir.join(key_file), dir.join(cert_file));
    if key_path.is_file() && cert_path.is_file() {
        let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| unavailable(format!("{}: {e}", p.display())));
        return SigningIdentity::from_pem(&read(&key_path)?, &read(&cert_path)?)
            .map_err(|e| unavailable(format!("{}: {e}", key_path.display())));
    }
    std::fs::create_dir_all(dir).map_err(|e| unavailable(format!("{}: {e}", dir.display())))?;
    let identity = SigningIdentity::generate_self_signed(label, vouch_store::now())
        .map_err(|e| unavailable(format!("generating the {label} key: {e}")))?;
    let (key_pem, cert_pem) = identity.to_pem().map_err(|e| unavailable(e.to_string()))?;
    for (path, text) in [(&key_path, key_pem), (&cert_path, cert_pem)] {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
        f.write_all(text.as_bytes()).map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    }
    tracing::warn!(label, dir = %dir.display(), "generated a self-signed key pair; configure [signing] for production");
    Ok(identity)
}

/// The kiosk certificate as PEM, for evidence packages.
pub fn certificate_pem(identity: &SigningIdentity) -> String {
    pem("CERTIFICATE", identity.certificate_der())
}
