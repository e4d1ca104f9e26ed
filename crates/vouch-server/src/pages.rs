//! Plain pages and probes: `/healthz`, `/docs`, and the kiosk link target.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::CaseId;

use crate::state::AppState;

/// The generated document, set once when the first router is built; identical for every instance.
pub static OPENAPI: std::sync::OnceLock<utoipa::openapi::OpenApi> = std::sync::OnceLock::new();

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(kiosk_request))
        .routes(routes!(openapi_json))
        .routes(routes!(docs))
        .routes(routes!(crate::metrics::metrics_endpoint))
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "Operations", responses((status = 200, content_type = "application/json", body = Object)))]
pub async fn openapi_json() -> axum::response::Response {
    use axum::response::IntoResponse;
    match OPENAPI.get() {
        Some(doc) => axum::Json(doc).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// Liveness: the process serves HTTP. Also the baseline route of `vouch bench`.
#[utoipa::path(get, path = "/healthz", tag = "Operations", responses((status = 200, body = String, example = "ok")))]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Human-readable API documentation, rendered from `/openapi.json` in the page itself (no CDN).
#[utoipa::path(get, path = "/docs", tag = "Operations", responses((status = 200, content_type = "text/html")))]
pub async fn docs() -> Html<&'static str> {
    Html(include_str!("../assets/docs.html"))
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Where an eeID `link` points. The self-service kiosk flow that will run here comes with the kiosk app;
/// until then the page says so plainly, with the request's status, and answers 501.
#[utoipa::path(get, path = "/kiosk/requests/{id}", tag = "Kiosk",
    params(("id" = String, Path)),
    responses((status = 501, content_type = "text/html", description = "the kiosk flow is not built yet"),
              (status = 404, content_type = "text/html")))]
pub async fn kiosk_request(State(state): State<AppState>, Path(id): Path<String>) -> (StatusCode, Html<String>) {
    let case = match CaseId::parse(&id) {
        Some(case_id) => state.db(move |s| s.get_case(case_id)).await.ok(),
        None => None,
    };
    let (status, body) = match case {
        None => (
            StatusCode::NOT_FOUND,
            "<h1>Unknown request</h1><p>This link does not belong to any identification request.</p>".to_string(),
        ),
        Some(case) => (
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "<h1>Identification request</h1><p>Status: <strong>{}</strong></p><p>{}</p>\
                 <p>The self-service kiosk flow is not built yet in this Vouch version. A clerk can complete \
                 this request from the admin API.</p>",
                case.status,
                escape_html(case.reason.as_deref().unwrap_or(""))
            ),
        ),
    };
    (
        status,
        Html(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vouch</title>\
             <style>body{{font:18px/1.5 system-ui,sans-serif;max-width:640px;margin:64px auto;padding:0 24px}}</style>\
             </head><body>{body}</body></html>"
        )),
    )
}
