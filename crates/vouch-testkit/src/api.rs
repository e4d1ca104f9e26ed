//! A client of a running Vouch (in this process or a `vouch serve` child): tokens from its OAuth endpoints and
//! the requests the tests send, over the HTTP client the test chose.

use base64::Engine;
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

/// An API client's id and secret.
pub struct Creds {
    pub id: String,
    pub secret: String,
}

impl Creds {
    /// `Authorization: Basic ...` for these credentials.
    pub fn basic(&self) -> String {
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", self.id, self.secret)))
    }
}

pub struct Api {
    /// The server's address, without a trailing slash.
    pub base: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, http: reqwest::Client) -> Api {
        Api { base: base.trim_end_matches('/').to_owned(), http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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
            .header("Authorization", c.basic())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
    }

    /// A bearer token from `/oauth/token`.
    pub async fn oauth_token(&self, c: &Creds) -> String {
        let resp = self.oauth("/oauth/token", Some(&c.basic()), "grant_type=client_credentials").await;
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
