//! Starts a real server per test, on a free loopback port, over a fresh data directory.

use std::time::Duration;

use base64::Engine;
use reqwest::{Response, StatusCode};
use rusqlite::Connection;
use serde_json::{json, Value};
use vouch_core::Scope;
use vouch_server::{Running, ServerConfig};
use vouch_store::clients::NewClient;
use vouch_store::{Store, DB_FILE};

pub struct Kit {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub base: String,
    pub http: reqwest::Client,
    /// `vouch_bridge=...`: the kiosk bridge session this kit paired with the printed pairing code.
    pub bridge_cookie: String,
    /// Held so the server lives as long as the test.
    pub running: Running,
}

pub struct Creds {
    pub id: String,
    pub secret: String,
}

pub fn fast_config() -> ServerConfig {
    let mut cfg = ServerConfig { bind: ([127, 0, 0, 1], 0).into(), ..ServerConfig::default() };
    cfg.webhooks.backoff = Duration::from_millis(50);
    cfg.webhooks.poll = Duration::from_millis(50);
    cfg.webhooks.timeout = Duration::from_secs(2);
    cfg.models_dir = Some(vouch_testkit::models_dir());
    cfg
}

impl Kit {
    pub async fn start() -> Kit {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("data")).unwrap();
        // Tests purge what they stored a moment ago (the store's own tests check the grace).
        store.blobs().set_fresh_grace(Duration::ZERO);
        let mut cfg = fast_config();
        tweak(&mut cfg);
        let running = vouch_server::start(cfg, store.clone()).await.unwrap();
        let base = running.public_url.clone();
        // Over https the kit trusts exactly the certificate the server serves, as a kiosk in remote mode does.
        let fingerprint = running.tls_fingerprint.map(|f| f.to_string());
        let http =
            vouch_server::tls::remote_client(&base, fingerprint.as_deref(), false, Duration::from_secs(60)).unwrap();
        let paired = http
            .post(format!("{base}/vouch/v1/kiosk/pair"))
            .json(&json!({"code": running.state.bridge.pairing_code()}))
            .send()
            .await
            .unwrap();
        assert_eq!(paired.status(), StatusCode::OK);
        let set_cookie = paired.headers()["set-cookie"].to_str().unwrap().to_string();
        let bridge_cookie = set_cookie.split(';').next().unwrap().to_string();
        Kit { dir, store, base, http, bridge_cookie, running }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn db(&self) -> Connection {
        Connection::open(self.dir.path().join("data").join(DB_FILE)).unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        self.db().query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    pub fn client(&self, scope: Scope, webhook: Option<&str>, ttl: Option<u32>) -> Creds {
        let c = self
            .store
            .create_client(
                &NewClient { name: "test".into(), scope, token_ttl_secs: ttl, webhook_url: webhook.map(Into::into) },
                "test",
            )
            .unwrap();
        Creds { id: c.client.id, secret: c.secret }
    }

    pub fn integrator(&self) -> Creds {
        self.client(Scope::Integrator, None, None)
    }

    pub fn admin(&self) -> Creds {
        self.client(Scope::Admin, None, None)
    }

    pub fn basic(c: &Creds) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", c.id, c.secret)))
    }

    pub async fn oauth(&self, path: &str, auth: Option<&str>, form: &str) -> Response {
        let mut req = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form.to_string());
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        req.send().await.unwrap()
    }

    /// A bearer token from the eeID token endpoint.
    pub async fn eeid_token(&self, c: &Creds) -> String {
        let resp = self
            .http
            .post(self.url("/eeid/api/auth/v1/token"))
            .header("Authorization", Self::basic(c))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
    }

    /// A bearer token from `/oauth/token`.
    pub async fn oauth_token(&self, c: &Creds) -> String {
        let resp = self.oauth("/oauth/token", Some(&Self::basic(c)), "grant_type=client_credentials").await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Response {
        self.http.post(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    pub async fn put_json(&self, token: &str, path: &str, body: &Value) -> Response {
        self.http.put(self.url(path)).bearer_auth(token).json(body).send().await.unwrap()
    }

    /// A JSON body by `method`; the status and the JSON answer (or null).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &Value,
    ) -> (StatusCode, Value) {
        self.send_bytes(method, token, path, "application/json", serde_json::to_vec(body).unwrap()).await
    }

    /// A new DIS customer's id.
    pub async fn dis_customer(&self, token: &str) -> String {
        let resp = self.post_json(token, "/identity/api/v1/customers", &serde_json::json!({})).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
    }

    /// A raw body (an image, a record) with its content type; the status and the JSON answer (or null).
    pub async fn send_bytes(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let resp = self
            .http
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn create_request(&self, token: &str, body: Value) -> Response {
        self.post_json(token, "/eeid/api/ident/v1/identification_requests", &body).await
    }

    pub async fn create_ok(&self, token: &str, reference: Option<&str>) -> Value {
        let mut body =
            json!({"claims_required": [{"type": "sub", "value": "EE30303039914"}], "reason": "Account opening"});
        if let Some(r) = reference {
            body["reference"] = json!(r);
        }
        let resp = self.create_request(token, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    pub async fn complete(&self, admin_token: &str, id: &str, body: &Value) -> Response {
        self.post_json(admin_token, &format!("/vouch/v1/cases/{id}/complete"), body).await
    }
}

pub fn approval() -> Value {
    json!({
        "outcome": "approved",
        "reason": "Passport checked at the desk",
        "identity": {
            "sub": "EE30303039914", "given_name": "Mari-Liis", "family_name": "Männik",
            "date_of_birth": "1903-03-03", "country": "EE", "document_expires": "2031-05-01",
            "authentication_type": "PASSPORT", "acr": "high"
        }
    })
}

/// Polls until `check` holds, for at most `limit`: waiting on background work without asserting its speed.
pub async fn eventually<F: FnMut() -> bool>(limit: Duration, mut check: F) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    check()
}

/// Whether the server closes `stream` (reading what it sends until then) within `limit`.
pub async fn closed_within(mut stream: tokio::net::TcpStream, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 256];
    tokio::time::timeout(limit, async {
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 {
                return;
            }
        }
    })
    .await
    .is_ok()
}
