//! The HTTP of a kiosk's sync with its central service: `vouch_app::central` decides what goes up and what is kept;
//! this speaks the central's pairing and sync API, with a token taken with the kiosk's own credentials (kept until
//! shortly before it lapses, and taken again when the central no longer accepts it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;
use vouch_app::central::{Central, CentralConnector, GalleryStepAnswer, LinkError, LinkFuture, UpCapture, PULL_LIMIT};
use vouch_core::flow::FlowVersion;
use vouch_core::{CaseId, Decision};
use vouch_store::central::{CentralLink, OutboxStep, Pairing, PulledCase};
use vouch_store::walk_ins::WalkInCase;

/// How long one call to the central may take: a push carries a step's captures.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// Reaches centrals over https (checked against the system's CAs, or pinned to one certificate's fingerprint), or
/// http on this machine. The central it connected to last is kept with its token, so that opening a case, a sync
/// now and the sync loop take one token between them, not one each.
#[derive(Default)]
pub struct HttpConnector {
    connected: std::sync::Mutex<Option<(String, Arc<HttpCentral>)>>,
}

fn client(url: &str, fingerprint: Option<&str>) -> Result<reqwest::Client, LinkError> {
    crate::tls::remote_client(url, fingerprint, false, CALL_TIMEOUT)
        .map_err(|e| LinkError::Refused { status: 0, message: format!("{e:#}") })
}

/// reqwest's own words ("error sending request") with the cause beneath them (refused, reset, timed out).
fn unreachable(e: reqwest::Error) -> LinkError {
    let e = e.without_url();
    let mut why = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        why = format!("{why}: {c}");
        cause = c.source();
    }
    LinkError::Unreachable(why)
}

/// The central's answer as a result: 2xx is fine; 5xx, 408 and 429 are for later; other refusals carry the
/// central's message.
async fn answer(resp: reqwest::Response) -> Result<reqwest::Response, LinkError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body: serde_json::Value = resp.json().await.unwrap_or_default();
    let message = body.get("message").and_then(|m| m.as_str()).unwrap_or("no reason given");
    let message: String = message.chars().take(300).collect();
    let code = status.as_u16();
    if status.is_server_error() || code == 408 || code == 429 || code == 401 {
        return Err(LinkError::Unreachable(format!("HTTP {code}: {message}")));
    }
    Err(LinkError::Refused { status: code, message })
}

#[derive(Deserialize)]
struct PairedView {
    kiosk_id: String,
    client_id: String,
    client_secret: String,
    name: String,
    branch: Option<String>,
}

impl CentralConnector for HttpConnector {
    fn pair<'a>(&'a self, url: &'a str, fingerprint: Option<&'a str>, code: &'a str) -> LinkFuture<'a, Pairing> {
        Box::pin(async move {
            let resp = client(url, fingerprint)?
                .post(format!("{url}/vouch/v1/kiosks/pair"))
                .json(&json!({"code": code}))
                .send()
                .await
                .map_err(unreachable)?;
            let paired: PairedView = answer(resp).await?.json().await.map_err(unreachable)?;
            Ok(Pairing {
                url: url.to_string(),
                client_id: paired.client_id,
                client_secret: paired.client_secret,
                kiosk_id: paired.kiosk_id,
                name: paired.name,
                branch: paired.branch,
                fingerprint: fingerprint.map(str::to_string),
            })
        })
    }

    fn connect(&self, link: &CentralLink, secret: String) -> Result<Arc<dyn Central>, LinkError> {
        // A new pairing is a new client id (with its own secret); a new pin is a new fingerprint: either is a new
        // connection.
        let key = format!("{} {} {}", link.url, link.client_id, link.fingerprint.as_deref().unwrap_or("-"));
        let mut connected = self.connected.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((k, central)) = connected.as_ref() {
            if *k == key {
                return Ok(central.clone());
            }
        }
        let central = Arc::new(HttpCentral {
            http: client(&link.url, link.fingerprint.as_deref())?,
            url: link.url.clone(),
            client_id: link.client_id.clone(),
            secret,
            token: Mutex::default(),
        });
        *connected = Some((key, central.clone()));
        Ok(central)
    }
}

struct HttpCentral {
    http: reqwest::Client,
    url: String,
    client_id: String,
    secret: String,
    token: Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct TokenView {
    access_token: String,
    expires_in: u64,
}

impl HttpCentral {
    async fn token(&self) -> Result<String, LinkError> {
        let mut held = self.token.lock().await;
        if let Some((token, until)) = held.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let resp = self
            .http
            .post(format!("{}/oauth/token", self.url))
            .basic_auth(&self.client_id, Some(&self.secret))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(unreachable)?;
        let view: TokenView = answer(resp).await?.json().await.map_err(unreachable)?;
        // Taken again a little before it lapses, so no call goes out on a token about to end.
        let until = Instant::now() + Duration::from_secs(view.expires_in.saturating_sub(30).max(1));
        *held = Some((view.access_token.clone(), until));
        Ok(view.access_token)
    }

    /// Sends a call with the current token; if the central no longer accepts it, once more with a new one.
    async fn call(
        &self,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, LinkError> {
        for _ in 0..2 {
            let token = self.token().await?;
            let resp = make(&self.http).bearer_auth(token).send().await.map_err(unreachable)?;
            if resp.status() == reqwest::StatusCode::UNAUTHORIZED {
                *self.token.lock().await = None;
                continue;
            }
            return answer(resp).await;
        }
        Err(LinkError::Unreachable("the central does not accept this kiosk's credentials".into()))
    }

    fn case_url(&self, case_id: CaseId, what: &str) -> String {
        format!("{}/vouch/v1/sync/cases/{case_id}/{what}", self.url)
    }
}

fn date(d: Option<time::Date>) -> Option<String> {
    d.map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
}

impl Central for HttpCentral {
    fn cases(&self) -> LinkFuture<'_, Vec<PulledCase>> {
        Box::pin(async move {
            let url = format!("{}/vouch/v1/sync/cases?limit={PULL_LIMIT}", self.url);
            self.call(|h| h.get(&url)).await?.json().await.map_err(unreachable)
        })
    }

    fn claim(&self, case_id: CaseId) -> LinkFuture<'_, ()> {
        Box::pin(async move {
            let url = self.case_url(case_id, "claim");
            self.call(|h| h.post(&url)).await.map(drop)
        })
    }

    fn reference_photo(&self, case_id: CaseId) -> LinkFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let url = self.case_url(case_id, "reference-photo");
            let resp = self.call(|h| h.get(&url)).await?;
            Ok(resp.bytes().await.map_err(unreachable)?.to_vec())
        })
    }

    fn push_step<'a>(
        &'a self,
        case_id: CaseId,
        item_id: &'a str,
        step: &'a OutboxStep,
        captures: Vec<UpCapture>,
    ) -> LinkFuture<'a, Option<Decision>> {
        Box::pin(async move {
            let b64 = base64::engine::general_purpose::STANDARD;
            let captures: Vec<_> = captures
                .iter()
                .map(|c| {
                    json!({"kind": c.capture.kind.as_str(), "media_type": c.capture.media_type,
                           "data": b64.encode(&c.bytes)})
                })
                .collect();
            let body = json!({"item_id": item_id, "index": step.index, "kind": step.kind, "outcome": step.outcome,
                              "detail": step.detail, "captures": captures});
            #[derive(Deserialize)]
            struct Pushed {
                #[serde(default)]
                decision: Option<Decision>,
            }
            let url = self.case_url(case_id, "steps");
            Ok(self.call(|h| h.post(&url).json(&body)).await?.json::<Pushed>().await.map_err(unreachable)?.decision)
        })
    }

    fn push_decision<'a>(&'a self, case_id: CaseId, item_id: &'a str, decision: &'a Decision) -> LinkFuture<'a, ()> {
        Box::pin(async move {
            let identity = decision.identity.as_ref().map(|i| {
                json!({"sub": i.sub, "given_name": i.given_name, "family_name": i.family_name,
                       "date_of_birth": date(i.date_of_birth), "country": i.country,
                       "document_expires": date(i.document_expires),
                       "authentication_type": i.authentication_type, "acr": i.acr})
            });
            let body = json!({"item_id": item_id, "outcome": decision.outcome, "reason": decision.reason,
                              "identity": identity});
            let url = self.case_url(case_id, "decision");
            self.call(|h| h.post(&url).json(&body)).await.map(drop)
        })
    }

    fn document_to_sign(&self, case_id: CaseId, position: u32) -> LinkFuture<'_, Vec<u8>> {
        Box::pin(async move {
            let url = self.case_url(case_id, &format!("documents/{position}"));
            Ok(self.call(|h| h.get(&url)).await?.bytes().await.map_err(unreachable)?.to_vec())
        })
    }

    fn run_gallery_step(&self, case_id: CaseId, index: u32) -> LinkFuture<'_, GalleryStepAnswer> {
        Box::pin(async move {
            let url = self.case_url(case_id, &format!("steps/{index}/run"));
            self.call(|h| h.post(&url)).await?.json::<GalleryStepAnswer>().await.map_err(unreachable)
        })
    }

    fn walk_in_flow(&self) -> LinkFuture<'_, Option<FlowVersion>> {
        Box::pin(async move {
            #[derive(serde::Deserialize)]
            struct View {
                flow: FlowVersion,
            }
            let url = format!("{}/vouch/v1/sync/walk-in-flow", self.url);
            match self.call(|h| h.get(&url)).await {
                Ok(resp) => Ok(Some(resp.json::<View>().await.map_err(unreachable)?.flow)),
                Err(LinkError::Refused { status: 404, .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn make_walk_in<'a>(&'a self, walk_in: &'a WalkInCase) -> LinkFuture<'a, ()> {
        Box::pin(async move {
            let url = format!("{}/vouch/v1/sync/walk-ins", self.url);
            self.call(|h| h.post(&url).json(walk_in)).await.map(drop)
        })
    }
}
