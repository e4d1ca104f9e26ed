//! Kiosk settings an admin changes at the terminal. Each change is one audit event on the settings chain.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::error::{Result, StoreError};
use crate::flows::SETTINGS_CHAIN;
use crate::{now, Store};

const SETTINGS_KEY: &str = "kiosk";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KioskSettings {
    /// Days evidence of a closed case is kept before the purge job deletes it.
    pub retention_days: u32,
    /// The language the welcome screen starts in.
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
        let text: Option<String> = self
            .conn()?
            .query_row("SELECT value FROM settings WHERE key = ?1", [SETTINGS_KEY], |r| r.get(0))
            .optional()?;
        match text {
            Some(t) => serde_json::from_str(&t).map_err(|e| StoreError::corrupt(format!("kiosk settings: {e}"))),
            None => Ok(KioskSettings::default()),
        }
    }

    pub fn save_kiosk_settings(&self, settings: &KioskSettings, actor: &str) -> Result<()> {
        settings.validate()?;
        let value = serde_json::to_value(settings).map_err(|e| StoreError::corrupt(e.to_string()))?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![SETTINGS_KEY, value.to_string()],
        )?;
        audit::append(&tx, SETTINGS_CHAIN, now(), actor, "settings_changed", &value)?;
        tx.commit()?;
        Ok(())
    }
}
