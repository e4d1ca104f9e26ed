//! The webhook dispatcher's HTTP: `vouch_app::webhooks` decides what is sent, when and what is recorded; this
//! sends it with the server's HTTP client (no redirects followed, Vouch's user agent).

use std::time::Duration;

use vouch_app::webhooks::{TransportError, WebhookTransport};

pub struct ReqwestTransport(pub reqwest::Client);

impl WebhookTransport for ReqwestTransport {
    async fn post(
        &self,
        url: &str,
        headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<u16, TransportError> {
        let mut request = self.0.post(url).timeout(timeout);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        match request.body(body).send().await {
            Ok(resp) => Ok(resp.status().as_u16()),
            Err(e) if e.is_timeout() => Err(TransportError::Timeout),
            Err(e) if e.is_connect() => Err(TransportError::Connect),
            Err(e) => Err(TransportError::Other(e.to_string())),
        }
    }
}
