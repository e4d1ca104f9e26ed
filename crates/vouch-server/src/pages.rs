//! Plain pages and probes: `/healthz`, `/docs`, and the kiosk link target.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
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

/// Where an eeID `link` points: the kiosk's self-service flow for that request. The page is the kiosk UI,
/// which opens the case from the id in its address. An unknown id is 404.
#[utoipa::path(get, path = "/kiosk/requests/{id}", tag = "Kiosk",
    params(("id" = String, Path)),
    responses((status = 200, content_type = "text/html", description = "the kiosk UI, opening this request"),
              (status = 404, content_type = "text/html"),
              (status = 503, content_type = "text/html", description = "the UI is not built")))]
pub async fn kiosk_request(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let known = match CaseId::parse(&id) {
        Some(case_id) => state.db(move |s| s.get_case(case_id)).await.is_ok(),
        None => false,
    };
    if known {
        return crate::ui::index_response(&state);
    }
    (
        StatusCode::NOT_FOUND,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vouch</title></head>\
             <body style=\"font:18px/1.5 system-ui,sans-serif;max-width:640px;margin:64px auto;padding:0 24px\">\
             <h1>Unknown request</h1><p>This link does not belong to any identification request. Check the link \
             you were sent, or ask at the desk.</p></body></html>",
        ),
    )
        .into_response()
}
