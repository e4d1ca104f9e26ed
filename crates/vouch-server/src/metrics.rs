//! Prometheus metrics: request counts and latency histograms per route, plus the outbox backlog.
//! A handful of series, so a mutex-guarded map is plenty and keeps dependencies down.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Upper bounds in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m.entry((method.to_string(), route.to_string())).or_default();
            for (slot, bound) in h.counts.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *slot += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    pub fn render(&self, backlog: u64, failed: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP vouch_http_requests_total HTTP requests by method, route and status.");
        let _ = writeln!(out, "# TYPE vouch_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "vouch_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(out, "# HELP vouch_http_request_duration_seconds HTTP request latency by method and route.");
        let _ = writeln!(out, "# TYPE vouch_http_request_duration_seconds histogram");
        if let Ok(m) = self.latency.lock() {
            for ((method, route), h) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                for (count, bound) in h.counts.iter().zip(BUCKETS) {
                    let _ =
                        writeln!(out, "vouch_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
                }
                let _ = writeln!(out, "vouch_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "vouch_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "vouch_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        let _ = writeln!(out, "# HELP vouch_webhook_outbox_backlog Webhook deliveries waiting to be delivered.");
        let _ = writeln!(out, "# TYPE vouch_webhook_outbox_backlog gauge");
        let _ = writeln!(out, "vouch_webhook_outbox_backlog {backlog}");
        let _ = writeln!(out, "# HELP vouch_webhook_deliveries_failed Webhook deliveries that used up their attempts.");
        let _ = writeln!(out, "# TYPE vouch_webhook_deliveries_failed gauge");
        let _ = writeln!(out, "vouch_webhook_deliveries_failed {failed}");
        out
    }
}

/// The standard methods by name, anything else as `OTHER`: a caller inventing methods must not grow the
/// series (and the process's memory) without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Records metrics and writes one log line per request. The route template is logged, never the
/// query string or headers, which may carry credentials.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method()).to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed);
    tracing::info!(target: "vouch::http", method = %method, route = %route, status, ms = elapsed * 1000.0, "request");
    resp
}

/// Prometheus metrics: request counts and latency per route, webhook outbox backlog and failures.
#[utoipa::path(get, path = "/metrics", tag = "Operations", responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics_endpoint(State(state): State<AppState>) -> Response {
    let counts = state.db(|s| Ok((s.outbox_backlog()?, s.failed_deliveries()?))).await;
    let (backlog, failed) = match counts {
        Ok(c) => c,
        Err(e) => return crate::error::render::<crate::error::Native>(&e),
    };
    let mut resp = state.metrics.render(backlog, failed).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    resp
}
