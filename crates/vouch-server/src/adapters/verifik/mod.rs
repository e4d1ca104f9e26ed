//! Verifik under `/verifik`, as `shared/specs/VERIFIK-SURFACE.md` and `verifik-docs-digest.md` describe it:
//! face recognition (compare, liveness, detect, verify, 1:N search) and its collections and persons, on
//! Vouch's face engine and gallery. Every answer is Verifik's envelope `{id, data, signature}`; every error its
//! `{message, code}` (see [`crate::error::Verifik`]). The bearer is a JWT that Vouch signs ([`auth`]), accepted
//! here and nowhere else. Collections, persons and searches see only the calling client's own.
//!
//! Projects, project flows and webhooks are kept as configuration records ([`records`]); biometric validations
//! run as Vouch cases ([`validations`]); v3 projects ([`projects_v3`]) are the same projects, in v3's shapes.
//! App registrations ([`app_registrations`]) enrol a registrant's face through a biometric validation; a login
//! that passes makes an app login ([`app_logins`]). E-mail and phone validations ([`contact_validations`]) answer
//! their code to the integrator, who sends it: Vouch sends no messages. What is not built answers 501 in
//! Verifik's format.

mod app_logins;
mod app_registrations;
mod auth;
mod collections;
mod contact_validations;
mod document_validations;
mod dto;
mod faces;
mod links;
mod params;
mod persons;
mod projects_v3;
mod records;
mod registrant_validations;
mod search;
mod validations;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;

use crate::error::{render, ApiError, Code, Dialect, Failure, Verifik, VerifikV3};
use crate::extract::{bearer_token, Authed};
use crate::state::AppState;

pub const API: &str = Verifik::API;
pub use validations::decision_webhooks;

type VerifikResult<T> = Result<T, Failure<Verifik>>;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    // Photos take one of the places for image work; the jwt check runs first.
    let image_work = OpenApiRouter::new()
        .merge(faces::routes())
        .merge(search::routes())
        .merge(persons::routes())
        .merge(validations::routes())
        .merge(app_registrations::routes())
        .merge(app_logins::routes())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images));
    let records = records::routes()
        .merge(contact_validations::routes())
        .merge(document_validations::routes())
        .layer(crate::extract::body_limit(records::RECORD_BODY_LIMIT));
    let protected = OpenApiRouter::new()
        .merge(image_work)
        .merge(collections::routes())
        .merge(records)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_jwt::<Verifik>))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes));
    let v3 = projects_v3::routes()
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_jwt::<VerifikV3>))
        .layer(crate::extract::body_limit(records::RECORD_BODY_LIMIT));
    // A validation's own token completes it; it carries a photo, so it takes a place for image work too.
    let sessions = validations::session_routes()
        .merge(app_registrations::session_routes())
        .merge(document_validations::session_routes())
        .merge(app_logins::session_routes())
        .merge(registrant_validations::session_routes())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes));
    OpenApiRouter::new().merge(auth::routes()).merge(links::routes()).merge(sessions).merge(protected).merge(v3)
}

/// Verifik's success envelope: a short random id, the data, and a dated signature line.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Envelope<T: Serialize> {
    /// Five characters that name this answer.
    pub id: String,
    pub data: T,
    /// How many match in all, where a list says (`persons/lookup`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    pub signature: Signature,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Signature {
    /// `Certified by Vouch`: Vouch does not speak in Verifik's name.
    pub message: &'static str,
    /// When the answer was made, as Verifik writes it: `January 16, 2024 3:44 PM` (UTC).
    #[serde(rename = "dateTime")]
    pub date_time: String,
}

fn answer_id() -> String {
    const LETTERS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..5).map(|_| char::from(LETTERS.get(rng.gen_range(0..LETTERS.len())).copied().unwrap_or(b'A'))).collect()
}

fn date_time(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!(
        "[month repr:long] [day padding:none], [year] [hour repr:12 padding:none]:[minute] [period]"
    );
    t.format(&format).unwrap_or_default()
}

pub fn envelope<T: Serialize>(data: T) -> Envelope<T> {
    Envelope {
        id: answer_id(),
        data,
        total: None,
        signature: Signature { message: "Certified by Vouch", date_time: date_time(time::OffsetDateTime::now_utc()) },
    }
}

/// 200 with `data` in the envelope.
pub fn ok<T: Serialize>(data: T) -> Response {
    Json(envelope(data)).into_response()
}

/// The error a missing, malformed or foreign token gets.
fn unauthorized() -> ApiError {
    ApiError::new(Code::Unauthorized, "Authentication required")
}

/// The error a genuine but expired token gets (Verifik's 403 `token_expired`).
fn token_expired() -> ApiError {
    ApiError::new(Code::Forbidden, "token_expired").with_vendor_code("FORBIDDEN")
}

/// Every protected route: a JWT this Vouch signed for Verifik, unexpired, of an active client whose secret has
/// not been rotated since. A liveness session's token is not accepted here. Refusals in `D`'s words (v2 or v3).
pub async fn require_jwt<D: Dialect>(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(token) = bearer_token(req.headers()).map(str::to_owned) else {
        return render::<D>(&unauthorized());
    };
    match state.db(move |s| s.check_jwt(&token, API)).await {
        Ok(vouch_store::jwt::JwtCheck::Valid { client, session: None }) => {
            req.extensions_mut().insert(Authed(client));
            next.run(req).await
        }
        Ok(vouch_store::jwt::JwtCheck::Expired) => render::<D>(&token_expired()),
        Ok(_) => render::<D>(&unauthorized()),
        Err(e) => render::<D>(&e),
    }
}

/// Verifik's refusal of what was sent: 412 `PreconditionFailed` with `word` as the message.
pub fn precondition_failed(word: &str) -> ApiError {
    ApiError::new(Code::InvalidInput, word).with_vendor_code("PreconditionFailed")
}

/// Verifik's 409 `Conflict` with `word` as the message (`duplicated_person`, `liveness_failed`).
pub fn conflict(word: &str) -> ApiError {
    ApiError::new(Code::Conflict, word).with_vendor_code("Conflict")
}

/// Verifik's 404: `{"code": "NotFound", "message": "Record not found."}`.
pub fn record_not_found(e: ApiError) -> ApiError {
    if e.code == Code::NotFound {
        ApiError::not_found("Record not found.").with_vendor_code("NotFound")
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_dated_as_verifik_writes_it() {
        let t = time::macros::datetime!(2024-01-16 15:44 UTC);
        assert_eq!(date_time(t), "January 16, 2024 3:44 PM");
        let id = answer_id();
        assert_eq!(id.len(), 5);
        assert!(id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }
}
