//! The single-use links of Verifik's e-mail and phone validations (`validationMethod: oneTimeLink` or
//! `magicLink`): the message sends the person to `/verifik/links/{id}?key=...`, a page of Vouch's own that asks
//! them to confirm with a button. Opening the link changes nothing, so a mail scanner that follows it does not use
//! it up; the button POSTs the key, which is checked as a code is (its hash, three tries, spent once). A confirmed
//! link validates the validation, makes the app login a `login` makes, and sends the person on to `redirectUrl`
//! (with the app login's `token` for a login), or says it is done.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::Client;
use vouch_store::api_records::ApiRecord;
use vouch_store::one_time_codes::CodeRefusal;

use super::contact_validations::{self as contact, Channel, Tried};
use crate::state::AppState;

const PATH: &str = "/verifik/links";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, confirm))
}

/// The link a message carries for validation `id`.
pub(super) fn url(public_url: &str, id: &str, key: &str) -> String {
    format!("{}{PATH}/{id}?key={key}", public_url.trim_end_matches('/'))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct Key {
    /// The link's key, as the message carried it.
    key: String,
}

/// The page a validation's link opens: a button that confirms it.
#[utoipa::path(get, path = "/verifik/links/{id}", tag = "Verifik", params(("id" = String, Path), Key),
    responses((status = 200, content_type = "text/html", description = "a page with a button that confirms the link"),
              (status = 404, content_type = "text/html")))]
async fn show(State(state): State<AppState>, Path(id): Path<String>, Query(key): Query<Key>) -> Response {
    let Some((_, _, record)) = find(&state, &id).await else { return page(StatusCode::NOT_FOUND, "en", Said::Unknown) };
    let language = language(&record);
    let form = format!(
        r#"<form method="post" action="{PATH}/{id}"><input type="hidden" name="key" value="{key}"><button type="submit">{label}</button></form>"#,
        id = escape(&id),
        key = escape(&key.key),
        label = if language == "es" { "Confirmar" } else { "Confirm" },
    );
    page_with(StatusCode::OK, language, Said::Ask, &form)
}

/// Confirms a validation's link: its key is checked as a code is, and the validation is validated.
#[utoipa::path(post, path = "/verifik/links/{id}", tag = "Verifik", params(("id" = String, Path)),
    request_body(content = String, content_type = "application/x-www-form-urlencoded", description = "key"),
    responses((status = 200, content_type = "text/html", description = "confirmed"),
              (status = 303, description = "confirmed: on to redirectUrl (with token=... for a login)"),
              (status = 403, content_type = "text/html", description = "not this link's key"),
              (status = 404, content_type = "text/html"), (status = 409, content_type = "text/html", description = "already used"),
              (status = 410, content_type = "text/html", description = "expired, or out of tries")))]
async fn confirm(State(state): State<AppState>, Path(id): Path<String>, axum::Form(key): axum::Form<Key>) -> Response {
    let Some((client, channel, record)) = find(&state, &id).await else {
        return page(StatusCode::NOT_FOUND, "en", Said::Unknown);
    };
    let language = language(&record);
    let now = time::OffsetDateTime::now_utc();
    let tried = match contact::try_code(&state, &client, channel, &id, key.key, now).await {
        Ok(tried) => tried,
        Err(e) => return failed(e, language),
    };
    let attempts = match tried {
        Tried::Matched { attempts } => attempts,
        Tried::Wrong => return page(StatusCode::FORBIDDEN, language, Said::WrongKey),
        Tried::Refused(CodeRefusal::Used) => return page(StatusCode::CONFLICT, language, Said::Used),
        Tried::Refused(_) => return page(StatusCode::GONE, language, Said::Gone),
    };
    let done = match contact::redeem(&state, &client, channel, &id, attempts, now, Vec::new()).await {
        Ok(done) => done,
        Err(e) if e.code == crate::error::Code::Conflict => return page(StatusCode::CONFLICT, language, Said::Used),
        Err(e) => return failed(e, language),
    };
    tracing::info!(id = %id, kind = channel.kind().kind, "Verifik contact validation confirmed by its link");
    match done.get("redirectUrl").and_then(Value::as_str) {
        Some(url) => {
            let onward = match done.get("token").and_then(Value::as_str) {
                Some(token) => format!("{url}{}token={token}", if url.contains('?') { '&' } else { '?' }),
                None => url.to_string(),
            };
            Redirect::to(&onward).into_response()
        }
        None => page(StatusCode::OK, language, Said::Done),
    }
}

fn failed(e: crate::error::ApiError, language: &str) -> Response {
    if e.code == crate::error::Code::NotFound {
        return page(StatusCode::NOT_FOUND, language, Said::Unknown);
    }
    tracing::error!(error = %e.message, "a validation link could not be confirmed");
    page(StatusCode::INTERNAL_SERVER_ERROR, language, Said::Broken)
}

/// The validation a link names, with its client and channel: only one made to be confirmed by a link.
async fn find(state: &AppState, id: &str) -> Option<(Client, Channel, ApiRecord)> {
    let key = id.to_string();
    let owner = state.db(move |s| s.code_owner(&key)).await.ok()?;
    let who = owner.clone();
    let client = state.db(move |s| s.get_client(&who)).await.ok()?;
    for channel in [Channel::Email, Channel::Phone] {
        let (owner, key) = (owner.clone(), id.to_string());
        if let Ok(record) = state.db(move |s| s.api_record(channel.kind().of(&owner), &key)).await {
            let method = record.body.get("validationMethod").and_then(Value::as_str);
            return matches!(method, Some("oneTimeLink" | "magicLink")).then_some((client, channel, record));
        }
    }
    None
}

fn language(record: &ApiRecord) -> &'static str {
    if record.body.get("language").and_then(Value::as_str) == Some("es") {
        "es"
    } else {
        "en"
    }
}

/// What a page tells the person.
#[derive(Clone, Copy)]
enum Said {
    Ask,
    Done,
    WrongKey,
    Used,
    Gone,
    Unknown,
    Broken,
}

fn words(said: Said, spanish: bool) -> &'static str {
    match (said, spanish) {
        (Said::Ask, false) => "Confirm that this address is yours.",
        (Said::Ask, true) => "Confirma que esta dirección es tuya.",
        (Said::Done, false) => "Thank you: your address is confirmed. You can close this page.",
        (Said::Done, true) => "Gracias: tu dirección está confirmada. Puedes cerrar esta página.",
        (Said::WrongKey, false) => "This link is not complete. Open it again from the message you received.",
        (Said::WrongKey, true) => "Este enlace no está completo. Ábrelo de nuevo desde el mensaje que recibiste.",
        (Said::Used, false) => "This link was used already.",
        (Said::Used, true) => "Este enlace ya se usó.",
        (Said::Gone, false) => "This link is no longer valid. Ask for a new one.",
        (Said::Gone, true) => "Este enlace ya no es válido. Pide uno nuevo.",
        (Said::Unknown, false) => "This link is not known here.",
        (Said::Unknown, true) => "Este enlace no se conoce aquí.",
        (Said::Broken, false) => "Something went wrong. Try again in a moment.",
        (Said::Broken, true) => "Algo salió mal. Inténtalo de nuevo en un momento.",
    }
}

fn page(status: StatusCode, language: &str, said: Said) -> Response {
    page_with(status, language, said, "")
}

/// A small page of its own: no script, no outside resource, never framed or cached.
fn page_with(status: StatusCode, language: &str, said: Said, form: &str) -> Response {
    let text = words(said, language == "es");
    let html = format!(
        "<!doctype html><html lang=\"{language}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>Vouch</title></head><body><main><p>{text}</p>{form}</main></body></html>"
    );
    let mut resp = (status, Html(html)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp
}

/// Text safe inside an HTML attribute.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            other => other.to_string(),
        })
        .collect()
}
