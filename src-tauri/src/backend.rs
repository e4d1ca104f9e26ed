//! Where the kiosk's commands go: the embedded server in this process (default), or a remote Vouch
//! server's `/vouch/v1/kiosk/{command}` when `VOUCH_REMOTE_URL` (or `remote_url` in vouch.toml) is set.

use serde::Serialize;
use serde_json::Value;
use vouch_server::config_file::{self, ServeOverrides};
use vouch_server::Running;

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
    Embedded {
        kiosk: Box<vouch_app::kiosk::Kiosk>,
        _running: Box<Running>,
    },
    /// `pairing_code` is exchanged for the remote server's bridge cookie on the first call, and again
    /// whenever the server says the pairing has lapsed.
    Remote {
        base: String,
        http: reqwest::Client,
        pairing_code: Option<String>,
        cookie: tokio::sync::Mutex<Option<String>>,
    },
}

fn unreachable(e: reqwest::Error) -> BridgeError {
    BridgeError { code: "unreachable".into(), message: e.to_string(), reason: None }
}

fn refused(body: &Value) -> BridgeError {
    BridgeError {
        code: body.get("code").and_then(Value::as_str).unwrap_or("internal").to_string(),
        message: body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("The Vouch server refused the request")
            .to_string(),
        reason: body.get("reason").and_then(Value::as_str).map(str::to_owned),
    }
}

impl Backend {
    pub async fn from_environment() -> anyhow::Result<Backend> {
        let data_dir = config_file::data_dir(None)?;
        let explicit = std::env::var_os("VOUCH_CONFIG").map(std::path::PathBuf::from);
        let (file, _) = config_file::load_file(explicit.as_deref(), &data_dir)?;
        let remote = std::env::var("VOUCH_REMOTE_URL").ok().filter(|u| !u.is_empty()).or(file.remote_url.clone());
        if let Some(base) = remote {
            let fingerprint = std::env::var("VOUCH_REMOTE_FINGERPRINT")
                .ok()
                .filter(|f| !f.is_empty())
                .or(file.remote_fingerprint.clone());
            let insecure = std::env::var("VOUCH_INSECURE_NO_TLS").is_ok_and(|v| v == "1" || v == "true")
                || file.insecure_no_tls.unwrap_or(false);
            let http = vouch_server::tls::remote_client(
                &base,
                fingerprint.as_deref(),
                insecure,
                std::time::Duration::from_secs(30),
            )?;
            let pairing_code =
                std::env::var("VOUCH_PAIRING_CODE").ok().filter(|c| !c.is_empty()).or(file.pairing_code.clone());
            if pairing_code.is_none() {
                tracing::warn!(
                    "remote mode without a pairing code: set VOUCH_PAIRING_CODE to the code the server printed"
                );
            }
            return Ok(Backend::Remote {
                base: base.trim_end_matches('/').to_string(),
                http,
                pairing_code,
                cookie: tokio::sync::Mutex::default(),
            });
        }
        let bind = match std::env::var("VOUCH_BIND") {
            Ok(b) if !b.is_empty() => Some(b.parse()?),
            _ => None,
        };
        let public_url = std::env::var("VOUCH_PUBLIC_URL").ok().filter(|u| !u.is_empty());
        let camera = std::env::var("VOUCH_CAMERA").ok().filter(|c| !c.is_empty());
        let document_camera = std::env::var("VOUCH_DOCUMENT_CAMERA").ok().filter(|c| !c.is_empty());
        let chip = std::env::var("VOUCH_CHIP").ok().filter(|c| !c.is_empty());
        let blobs = config_file::blob_location(std::env::var("VOUCH_BLOBS").ok().as_deref(), &file)?;
        let database = config_file::database_location(std::env::var("VOUCH_DATABASE").ok().as_deref(), &file)?;
        let cfg = config_file::server_config(
            file,
            ServeOverrides {
                bind,
                public_url,
                ui_dir: None,
                models_dir: None,
                camera,
                document_camera,
                chip,
                ..ServeOverrides::default()
            },
        )?;
        let store = config_file::open_store(&data_dir, &database, &blobs)?;
        let running = vouch_server::start(cfg, store).await?;
        println!("Vouch kiosk: embedded server on {} (data: {})", running.public_url, data_dir.display());
        if let Some(fingerprint) = running.tls_fingerprint {
            println!("  TLS certificate SHA-256 fingerprint: {fingerprint}");
        }
        Ok(Backend::Embedded { kiosk: Box::new(running.state.kiosk.clone()), _running: Box::new(running) })
    }

    pub fn describe(&self) -> String {
        match self {
            Backend::Embedded { kiosk, .. } => format!("embedded at {}", kiosk.app.public_url),
            Backend::Remote { base, .. } => format!("remote at {base}"),
        }
    }

    pub async fn call(&self, command: &str, args: Value, session: Option<&str>) -> Result<Value, BridgeError> {
        match self {
            Backend::Embedded { kiosk, .. } => {
                // IPC answers in the same error shape as the HTTP bridge, so the UI reads one.
                vouch_app::kiosk::call(kiosk, vouch_app::kiosk::Transport::Ipc, session, command, args)
                    .await
                    .map_err(|e| vouch_server::error::ApiError::from(e).into())
            }
            Backend::Remote { .. } => match self.remote_call(command, &args, session).await {
                Err(e) if e.reason.as_deref() == Some("bridge_unpaired") => {
                    self.pair().await?;
                    self.remote_call(command, &args, session).await
                }
                other => other,
            },
        }
    }

    /// Exchanges the configured pairing code for the remote server's bridge cookie.
    async fn pair(&self) -> Result<(), BridgeError> {
        let Backend::Remote { base, http, pairing_code, cookie } = self else { return Ok(()) };
        let Some(code) = pairing_code else {
            return Err(BridgeError {
                code: "unauthorized".into(),
                message: "Set VOUCH_PAIRING_CODE to the pairing code the Vouch server printed".into(),
                reason: Some("bridge_unpaired".into()),
            });
        };
        let resp = http
            .post(format!("{base}/vouch/v1/kiosk/pair"))
            .json(&serde_json::json!({"code": code}))
            .send()
            .await
            .map_err(unreachable)?;
        if !resp.status().is_success() {
            return Err(refused(&resp.json().await.unwrap_or(Value::Null)));
        }
        let set = resp
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(str::to_owned);
        *cookie.lock().await = set;
        Ok(())
    }

    async fn remote_call(&self, command: &str, args: &Value, session: Option<&str>) -> Result<Value, BridgeError> {
        let Backend::Remote { base, http, cookie, .. } = self else { return Err(refused(&Value::Null)) };
        if cookie.lock().await.is_none() {
            self.pair().await?;
        }
        let mut req = http.post(format!("{base}/vouch/v1/kiosk/{command}")).json(args);
        if let Some(c) = cookie.lock().await.clone() {
            req = req.header(reqwest::header::COOKIE, c);
        }
        if let Some(s) = session {
            req = req.bearer_auth(s);
        }
        let resp = req.send().await.map_err(unreachable)?;
        let ok = resp.status().is_success();
        let body: Value = resp.json().await.map_err(unreachable)?;
        if ok {
            Ok(body)
        } else {
            Err(refused(&body))
        }
    }
}
