//! Serves the built kiosk UI (Vite's output) at `/kiosk/`, so the same UI that runs in the Tauri window
//! runs in any browser against `vouch serve`. Paths the UI routes itself (`/kiosk/requests/{id}`) get
//! `index.html`.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::state::AppState;

/// The UI is static and same-origin: nothing else may load, run or frame it.
const CSP: &str = "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; \
                   style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn not_built() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Vouch</title></head>\
             <body style=\"font:18px/1.5 system-ui,sans-serif;max-width:640px;margin:64px auto\">\
             <h1>The kiosk screens are not built</h1><p>Run <code>make ui</code> (or <code>make run</code>) in the \
             Vouch checkout, or start <code>vouch serve --ui-dir PATH/TO/ui/dist</code>.</p></body></html>",
        ),
    )
        .into_response()
}

fn file_response(path: &Path, cache: bool) -> Option<Response> {
    let bytes = std::fs::read(path).ok()?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Vite names assets by content hash, so they never change; index.html must always be fresh.
    let cache_control = if cache { "public, max-age=31536000, immutable" } else { "no-store" };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    Some(resp)
}

fn kiosk_dir(state: &AppState) -> Option<PathBuf> {
    state.config.ui_dir.as_ref().map(|d| d.join("kiosk")).filter(|d| d.join("index.html").is_file())
}

pub(crate) fn index_response(state: &AppState) -> Response {
    kiosk_dir(state).and_then(|d| file_response(&d.join("index.html"), false)).unwrap_or_else(not_built)
}

pub async fn index(State(state): State<AppState>) -> Response {
    index_response(&state)
}

pub async fn asset(State(state): State<AppState>, UrlPath(path): UrlPath<String>) -> Response {
    let Some(dir) = kiosk_dir(&state) else {
        return not_built();
    };
    let rel = Path::new(&path);
    let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
    if safe && rel.extension().is_some() {
        let cache = path.starts_with("assets/");
        return file_response(&dir.join(rel), cache).unwrap_or_else(|| StatusCode::NOT_FOUND.into_response());
    }
    // No extension: a screen the UI routes itself.
    index_response(&state)
}
