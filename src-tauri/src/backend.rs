//! Where the kiosk's commands go: the embedded server in this process (default), or a remote Vouch
//! server's `/vouch/v1/kiosk/{command}` when `VOUCH_REMOTE_URL` (or `remote_url` in vouch.toml) is set.

use serde::Serialize;
use serde_json::Value;
use vouch_server::config_file::{self, ServeOverrides};
use vouch_server::{AppState, Running};

/// The error the UI receives: the same `{code, message, reason?}` the HTTP bridge sends.
#[derive(Debug, Serialize)]
pub struct BridgeError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<vouch_server::error::ApiError> for BridgeError {
    fn from(e: vouch_server::error::ApiError) -> Self {
        let code = serde_json::to_value(e.code).ok().and_then(|v| v.as_str().map(str::to_owned));
        BridgeError {
            code: code.unwrap_or_else(|| "internal".into()),
            message: e.message,
            reason: e.vendor_code.map(str::to_owned),
        }
    }
}

pub enum Backend {
    // Boxed: the running server is large and held only to keep it alive.
    Embedded { state: AppState, _running: Box<Running> },
    Remote { base: String, http: reqwest::Client },
}

impl Backend {
    pub async fn from_environment() -> anyhow::Result<Backend> {
        let data_dir = config_file::data_dir(None)?;
        let explicit = std::env::var_os("VOUCH_CONFIG").map(std::path::PathBuf::from);
        let (file, _) = config_file::load_file(explicit.as_deref(), &data_dir)?;
        let remote = std::env::var("VOUCH_REMOTE_URL").ok().filter(|u| !u.is_empty()).or(file.remote_url.clone());
        if let Some(base) = remote {
            let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
            return Ok(Backend::Remote { base: base.trim_end_matches('/').to_string(), http });
        }
        let bind = match std::env::var("VOUCH_BIND") {
            Ok(b) if !b.is_empty() => Some(b.parse()?),
            _ => None,
        };
        let public_url = std::env::var("VOUCH_PUBLIC_URL").ok().filter(|u| !u.is_empty());
        let camera = std::env::var("VOUCH_CAMERA").ok().filter(|c| !c.is_empty());
        let document_camera = std::env::var("VOUCH_DOCUMENT_CAMERA").ok().filter(|c| !c.is_empty());
        let chip = std::env::var("VOUCH_CHIP").ok().filter(|c| !c.is_empty());
        let cfg = config_file::server_config(
            file,
            ServeOverrides {
                bind,
                public_url,
                allow_non_loopback: false,
                ui_dir: None,
                models_dir: None,
                camera,
                document_camera,
                chip,
            },
        )?;
        let store = vouch_store::Store::open(&data_dir)?;
        let running = vouch_server::start(cfg, store).await?;
        println!("Vouch kiosk: embedded server on {} (data: {})", running.public_url, data_dir.display());
        Ok(Backend::Embedded { state: running.state.clone(), _running: Box::new(running) })
    }

    pub fn describe(&self) -> String {
        match self {
            Backend::Embedded { state, .. } => format!("embedded at {}", state.public_url),
            Backend::Remote { base, .. } => format!("remote at {base}"),
        }
    }

    pub async fn call(&self, command: &str, args: Value, session: Option<&str>) -> Result<Value, BridgeError> {
        match self {
            Backend::Embedded { state, .. } => Ok(vouch_server::kiosk::call(state, session, command, args).await?),
            Backend::Remote { base, http } => {
                let mut req = http.post(format!("{base}/vouch/v1/kiosk/{command}")).json(&args);
                if let Some(s) = session {
                    req = req.bearer_auth(s);
                }
                let unreachable = |e: reqwest::Error| BridgeError {
                    code: "unreachable".into(),
                    message: e.to_string(),
                    reason: None,
                };
                let resp = req.send().await.map_err(unreachable)?;
                let ok = resp.status().is_success();
                let body: Value = resp.json().await.map_err(unreachable)?;
                if ok {
                    Ok(body)
                } else {
                    Err(BridgeError {
                        code: body.get("code").and_then(Value::as_str).unwrap_or("internal").to_string(),
                        message: body
                            .get("message")
                            .and_then(Value::as_str)
                            .unwrap_or("The Vouch server refused the request")
                            .to_string(),
                        reason: body.get("reason").and_then(Value::as_str).map(str::to_owned),
                    })
                }
            }
        }
    }
}
