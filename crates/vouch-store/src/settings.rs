//! Kiosk settings an admin changes at the terminal. Each change is one audit event on the settings chain.

use serde::{Deserialize, Serialize};

use crate::audit;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::flows::SETTINGS_CHAIN;
use crate::{now, Store};

const SETTINGS_KEY: &str = "kiosk";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(default, deny_unknown_fields)]
pub struct KioskSettings {
    /// Days evidence of a closed case is kept before the purge job deletes it.
    pub retention_days: u32,
    /// The language the welcome screen starts in.
    #[ts(type = "Lang")]
    pub default_language: String,
    /// Seconds without a touch before the customer screens return to the start and forget what was shown.
    pub idle_timeout_secs: u32,
    /// The kiosk camera an admin chose: empty to use the one configured at startup (vouch.toml, `--camera`),
    /// `none`, `webcam` for the first webcam, or `webcam:NAME`. Demo sources are startup-only, so a demo cannot
    /// be switched on at a terminal by accident.
    pub camera: String,
}

impl Default for KioskSettings {
    fn default() -> Self {
        KioskSettings {
            retention_days: 90,
            default_language: "en".into(),
            idle_timeout_secs: 90,
            camera: String::new(),
        }
    }
}

impl KioskSettings {
    pub fn validate(&self) -> Result<()> {
        if !(1..=3650).contains(&self.retention_days) {
            return Err(StoreError::Invalid("Retention is 1 to 3650 days".into()));
        }
        if !vouch_core::flow::LANGUAGES.contains(&self.default_language.as_str()) {
            return Err(StoreError::Invalid(format!(
                "The language must be one of {}",
                vouch_core::flow::LANGUAGES.join(", ")
            )));
        }
        if !(15..=900).contains(&self.idle_timeout_secs) {
            return Err(StoreError::Invalid("The idle timeout is 15 to 900 seconds".into()));
        }
        let camera = self.camera.as_str();
        let webcam_name = camera.strip_prefix("webcam:").map(str::trim);
        let camera_ok = matches!(camera, "" | "none" | "webcam")
            || webcam_name.is_some_and(|n| !n.is_empty() && n.len() <= 200 && !n.chars().any(char::is_control));
        if !camera_ok {
            return Err(StoreError::Invalid(
                "The camera is empty (as configured at startup), none, webcam or webcam:NAME".into(),
            ));
        }
        Ok(())
    }
}

impl Store {
    pub fn kiosk_settings(&self) -> Result<KioskSettings> {
        let text = self.get_setting(SETTINGS_KEY)?;
        match text {
            Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::corrupt(format!("kiosk settings: {e}"))),
            None => Ok(KioskSettings::default()),
        }
    }

    pub fn save_kiosk_settings(&self, settings: &KioskSettings, actor: &str) -> Result<()> {
        settings.validate()?;
        let value = serde_json::to_value(settings).map_err(|e| StoreError::corrupt(e.to_string()))?;
        self.put_setting(SETTINGS_KEY, &value.to_string(), "settings_changed", &value, actor)
    }
}

const SIGNING_PKCS12_KEY: &str = "signing_pkcs12";
const SIGNING_ESCROW_KEY: &str = "signing_escrow_certificate";
const SIGNING_AAD: &[u8] = b"vouch signing pkcs12";

/// The signing PKCS#12 an admin chose in settings, with its password.
pub struct StoredPkcs12 {
    pub pkcs12: Vec<u8>,
    pub password: String,
}

impl Store {
    /// Keeps the admin's signing PKCS#12 and its password sealed under the data key (never in clear on disk),
    /// with an audit event naming the certificate (`what`: its subject and fingerprint, never the password).
    pub fn save_signing_pkcs12(
        &self,
        pkcs12: &[u8],
        password: &str,
        what: &serde_json::Value,
        actor: &str,
    ) -> Result<()> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let inner = serde_json::json!({"pkcs12": b64.encode(pkcs12), "password": password}).to_string();
        let sealed = b64.encode(self.key().seal(inner.as_bytes(), SIGNING_AAD)?);
        self.put_setting(SIGNING_PKCS12_KEY, &sealed, "signing_certificate_set", what, actor)
    }

    pub fn signing_pkcs12(&self) -> Result<Option<StoredPkcs12>> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let Some(sealed) = self.get_setting(SIGNING_PKCS12_KEY)? else { return Ok(None) };
        let bytes = b64.decode(sealed).map_err(|e| StoreError::corrupt(format!("signing pkcs12: {e}")))?;
        let inner: serde_json::Value = serde_json::from_slice(&self.key().open(&bytes, SIGNING_AAD)?)
            .map_err(|e| StoreError::corrupt(format!("signing pkcs12: {e}")))?;
        let field = |k: &str| inner.get(k).and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
        let pkcs12 = b64.decode(field("pkcs12")).map_err(|e| StoreError::corrupt(format!("signing pkcs12: {e}")))?;
        Ok(Some(StoredPkcs12 { pkcs12, password: field("password") }))
    }

    /// The escrow holder's certificate (PEM) an admin chose in settings; public, so kept as it is.
    pub fn save_signing_escrow(&self, pem: &str, what: &serde_json::Value, actor: &str) -> Result<()> {
        self.put_setting(SIGNING_ESCROW_KEY, pem, "escrow_certificate_set", what, actor)
    }

    pub fn signing_escrow(&self) -> Result<Option<String>> {
        self.get_setting(SIGNING_ESCROW_KEY)
    }

    /// A secret every instance of a central service must share (a generated signing key), made once: the stored
    /// one, or the one `make` makes when there is none, kept sealed under the data key. Instances asking at once
    /// take turns, so one makes it and the others read it.
    pub fn shared_secret(&self, name: &str, make: impl FnOnce() -> Result<String>) -> Result<String> {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let (key, aad) = (format!("shared_secret:{name}"), format!("vouch shared secret\0{name}"));
        let sealed = self.with(|conn| {
            conn.transaction(|tx| {
                tx.lock(&key)?;
                let stored = tx.query_opt("SELECT value FROM settings WHERE key = ?1", db_params![key])?;
                if let Some(row) = stored {
                    return row.get::<String>(0);
                }
                let sealed = b64.encode(self.key().seal(make()?.as_bytes(), aad.as_bytes())?);
                tx.execute("INSERT INTO settings (key, value) VALUES (?1, ?2)", db_params![key, sealed])?;
                Ok(sealed)
            })
        })?;
        let bytes = b64.decode(sealed).map_err(|_| StoreError::corrupt("a shared secret is not base64"))?;
        String::from_utf8(self.key().open(&bytes, aad.as_bytes())?)
            .map_err(|_| StoreError::corrupt("a shared secret is not text"))
    }

    fn get_setting(&self, key: &str) -> Result<Option<String>> {
        let row = self.with(|conn| conn.query_opt("SELECT value FROM settings WHERE key = ?1", db_params![key]))?;
        row.map(|r| r.get(0)).transpose()
    }

    /// Writes a setting and its audit event (`action`, `what`) in one transaction.
    fn put_setting(&self, key: &str, value: &str, action: &str, what: &serde_json::Value, actor: &str) -> Result<()> {
        let audit_key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                self.announce(tx, crate::changes::SETTINGS)?;
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    db_params![key, value],
                )?;
                audit::append_event(tx, audit_key, SETTINGS_CHAIN, now(), actor, action, what)
            })
        })
    }
}
