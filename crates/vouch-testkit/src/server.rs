//! A real Vouch server per test: `vouch_server::start` on a free loopback port, over a fresh data directory,
//! with a kiosk bridge session already paired.

use std::time::Duration;

use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{json, Value};
use vouch_core::Scope;
use vouch_server::{Running, ServerConfig};
use vouch_store::clients::NewClient;
use vouch_store::{Store, DB_FILE};

use crate::api::{Api, Creds};

/// The admin PIN `kiosk_admin` sets.
pub const ADMIN_PIN: &str = "482913";

pub struct Kit {
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// Requests to this server; the kit's request methods are the client's (`Deref`).
    pub api: Api,
    /// `vouch_bridge=...`: the kiosk bridge session this kit paired with the printed pairing code.
    pub bridge_cookie: String,
    /// Held so the server lives as long as the test.
    pub running: Running,
    /// The PostgreSQL the store runs on, when the kit runs on PostgreSQL ([`on_postgres`]); dropped last.
    pub postgres: Option<crate::postgres::Postgres>,
}

/// Whether kits run their store on PostgreSQL (`VOUCH_TEST_DATABASE=postgres`, a PostgreSQL started per kit) rather
/// than SQLite in their data directory: `make test` runs the API suite both ways.
pub fn on_postgres() -> bool {
    std::env::var("VOUCH_TEST_DATABASE").is_ok_and(|v| v == "postgres")
}

/// Quick retries and the checkout's models: what every kit's server starts from.
pub fn fast_config() -> ServerConfig {
    let mut cfg = ServerConfig { bind: ([127, 0, 0, 1], 0).into(), ..ServerConfig::default() };
    cfg.webhooks.backoff = Duration::from_millis(50);
    cfg.webhooks.poll = Duration::from_millis(50);
    cfg.webhooks.timeout = Duration::from_secs(2);
    cfg.models_dir = Some(crate::models_dir());
    cfg
}

impl std::ops::Deref for Kit {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Kit {
    pub async fn start() -> Kit {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Kit {
        Self::start_on(on_postgres(), tweak).await
    }

    /// A kit on SQLite whatever the run: for tests that read or alter the SQLite file itself ([`Kit::db`]).
    pub async fn sqlite() -> Kit {
        Self::start_on(false, |_| {}).await
    }

    /// [`Kit::sqlite`] with a configuration tweak.
    pub async fn sqlite_with(tweak: impl FnOnce(&mut ServerConfig)) -> Kit {
        Self::start_on(false, tweak).await
    }

    async fn start_on(postgres: bool, tweak: impl FnOnce(&mut ServerConfig)) -> Kit {
        let dir = tempfile::tempdir().unwrap();
        let postgres = postgres.then(crate::postgres::Postgres::start);
        let store = match &postgres {
            Some(pg) => {
                Store::open_postgres(&pg.url, &dir.path().join("data"), &vouch_store::BlobLocation::DataDir).unwrap()
            }
            None => Store::open(&dir.path().join("data")).unwrap(),
        };
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
            .json(&json!({"code": running.state.kiosk.bridge.pairing_code()}))
            .send()
            .await
            .unwrap();
        assert_eq!(paired.status(), StatusCode::OK);
        let set_cookie = paired.headers()["set-cookie"].to_str().unwrap().to_string();
        let bridge_cookie = set_cookie.split(';').next().unwrap().to_string();
        Kit { dir, store, api: Api::new(&base, http), bridge_cookie, running, postgres }
    }

    /// A kiosk command over the paired HTTP bridge, as the staff `session` (if any): its status and answer.
    pub async fn kiosk(&self, session: Option<&str>, command: &str, args: Value) -> (StatusCode, Value) {
        let mut req = self
            .http
            .post(self.url(&format!("/vouch/v1/kiosk/{command}")))
            .header("Cookie", &self.bridge_cookie)
            .json(&args);
        if let Some(s) = session {
            req = req.bearer_auth(s);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn kiosk_ok(&self, session: Option<&str>, command: &str, args: Value) -> Value {
        let (status, body) = self.kiosk(session, command, args).await;
        assert_eq!(status, StatusCode::OK, "{command}: {body}");
        body
    }

    /// First run: sets the admin PIN and returns the admin session.
    pub async fn kiosk_admin(&self) -> String {
        let setup_code = self.running.state.kiosk.bridge.setup_code();
        let body = self.kiosk_ok(None, "admin_setup", json!({"pin": ADMIN_PIN, "setup_code": setup_code})).await;
        body["session"].as_str().unwrap().to_string()
    }

    /// Saves a new flow of `steps` as the admin (`admin` is their kiosk session) and makes it the default, so the
    /// next case runs it.
    pub async fn default_flow(&self, admin: &str, flow_id: &str, steps: Value) {
        let flow = json!({"flow_id": flow_id, "name": flow_id, "create": true, "steps": steps});
        self.kiosk_ok(Some(admin), "flow_save", flow).await;
        self.kiosk_ok(Some(admin), "flow_set_default", json!({"flow_id": flow_id})).await;
    }

    /// What `step_submit` answers when the customer claims step `index`, of `kind`, passed.
    pub async fn claim_step(&self, case_id: &str, index: u32, kind: &str) -> StatusCode {
        let step = json!({"case_id": case_id, "index": index, "kind": kind, "outcome": "passed"});
        self.kiosk(None, "step_submit", step).await.0
    }

    /// The SQLite file under the kit's store; only a kit started with [`Kit::sqlite`] has one.
    pub fn db(&self) -> Connection {
        assert!(self.postgres.is_none(), "this test reads the SQLite file: start it with Kit::sqlite()");
        Connection::open(self.dir.path().join("data").join(DB_FILE)).unwrap()
    }

    /// The rows of a query of text columns, on either backend.
    pub fn text_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        match &self.postgres {
            Some(pg) => vouch_store::postgres::PgDatabase::connect(&pg.url).unwrap().text_rows(sql).unwrap(),
            None => {
                let db = self.db();
                let mut stmt = db.prepare(sql).unwrap();
                let columns = stmt.column_count();
                let rows = stmt.query_map([], |r| (0..columns).map(|i| r.get::<_, Option<String>>(i)).collect());
                rows.unwrap().map(Result::unwrap).collect()
            }
        }
    }

    /// Runs a statement without parameters (a test ageing its rows), on either backend.
    pub fn execute(&self, sql: &str) {
        match &self.postgres {
            Some(pg) => {
                let db = vouch_store::postgres::PgDatabase::connect(&pg.url).unwrap();
                db.text_rows(&format!("WITH changed AS ({sql} RETURNING 1) SELECT count(*)::text FROM changed"))
                    .unwrap();
            }
            None => {
                self.db().execute(sql, []).unwrap();
            }
        }
    }

    /// How many rows `table` holds, on either backend.
    pub fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table}");
        match &self.postgres {
            Some(pg) => {
                let db = vouch_store::postgres::PgDatabase::connect(&pg.url).unwrap();
                let rows = db.text_rows(&format!("SELECT count(*)::text FROM {table}")).unwrap();
                rows[0][0].as_deref().unwrap().parse().unwrap()
            }
            None => self.db().query_row(&sql, [], |r| r.get(0)).unwrap(),
        }
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
