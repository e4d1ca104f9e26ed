//! Verifik's 1:N searches over the caller's gallery (one collection, by its `code` or `_id`, or all of the
//! caller's persons): by photos, by a live face (with passive liveness), as an active user, and by small face
//! crops. See docs/verifik.md for what `min_score` means against a gallery of a given size.

use axum::extract::State;
use axum::response::Response;
use serde_json::json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::dto::{round, FoundPersonDto, ScoredIdDto};
use super::params::{os, search_mode, Fields};
use super::{conflict, ok, record_not_found, VerifikResult};
use crate::error::ApiError;
use crate::extract::Authed;
use crate::state::AppState;
use vouch_app::recognition::{PersonMatch, Subject};
use vouch_vision::FaceTemplate;

/// How many persons a search answers when `max_results` is absent.
const MAX_RESULTS_DEFAULT: u32 = 5;
/// `detect`'s minimum when it searches without one.
pub const SEARCH_MIN_SCORE_DEFAULT: f32 = 0.85;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(search_live_face))
        .routes(routes!(search_active_user))
        .routes(routes!(search_crops))
}

/// What every search asks: `min_score` (from `lowest` to 1), `search_mode`, and `max_results`.
struct Asked {
    min_score: f32,
    max: usize,
}

fn asked(fields: &Fields, lowest: f32) -> Result<Asked, ApiError> {
    let min_score = fields.required_number("min_score", lowest, 1.0)?;
    search_mode(fields)?;
    let max = fields.integer("max_results", 1, 100)?.unwrap_or(MAX_RESULTS_DEFAULT) as usize;
    Ok(Asked { min_score, max })
}

async fn run(
    state: &AppState,
    client: &str,
    fields: &Fields,
    probes: &[FaceTemplate],
    asked: &Asked,
) -> Result<Vec<PersonMatch>, ApiError> {
    let collection = fields.string("collection_id")?;
    state
        .recognition
        .search_templates(client, collection.as_deref(), probes, asked.max, asked.min_score)
        .await
        .map_err(|e| record_not_found(e.into()))
}

/// The faces of `photos`, for searching.
async fn probes(state: &AppState, photos: Vec<Vec<u8>>) -> Result<Vec<FaceTemplate>, ApiError> {
    Ok(state.recognition.templates(photos).await?)
}

fn scored_ids(found: &[PersonMatch]) -> Vec<ScoredIdDto> {
    found.iter().map(|m| ScoredIdDto { id: m.person.id.clone(), score: round(m.score) }).collect()
}

/// The persons most like the photos (1 to 3 of one person), best first.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/search", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "images [base64, 1-3], collection_id (code or _id), min_score (0.2-1), search_mode, max_results"),
    responses((status = 200, body = [FoundPersonDto]), (status = 404), (status = 409), (status = 412)))]
async fn search(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> VerifikResult<Response> {
    let asked = asked(&fields, 0.2)?;
    let images = fields.images(&state, "images", 3).await?;
    let found = run(&state, &client.id, &fields, &probes(&state, images).await?, &asked).await?;
    Ok(ok(found.iter().map(|m| FoundPersonDto::new(&m.person, m.score)).collect::<Vec<_>>()))
}

/// 409 `liveness_failed` unless the face's liveness is above `liveness_min_score`.
pub fn require_live(subject: &Subject, min: f32) -> Result<(), ApiError> {
    match subject.liveness > min {
        true => Ok(()),
        false => Err(conflict("liveness_failed")),
    }
}

/// The face `image` presents, when it is live.
async fn live_face(state: &AppState, image: Vec<u8>, min: f32) -> Result<Subject, ApiError> {
    let subject = state.recognition.subject(image).await?;
    require_live(&subject, min)?;
    Ok(subject)
}

/// A live face searched: `{persons: [...], liveness_score}`; 409 `liveness_failed` when it is not live.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/search-live-face", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image (base64), os, liveness_min_score (0.5-1), min_score (0.5-1), search_mode, collection_id"),
    responses((status = 200, description = "{persons: [{id, name, score, ...}], liveness_score}"), (status = 409), (status = 412)))]
async fn search_live_face(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    os(&fields)?;
    let liveness_min = fields.required_number("liveness_min_score", 0.5, 1.0)?;
    let asked = asked(&fields, 0.5)?;
    let image = fields.image(&state, "image").await?;
    let live = live_face(&state, image, liveness_min).await?;
    let probe = state.recognition.template_of(&live).await?;
    let found = run(&state, &client.id, &fields, &[probe], &asked).await?;
    let persons: Vec<FoundPersonDto> = found.iter().map(|m| FoundPersonDto::new(&m.person, m.score)).collect();
    Ok(ok(json!({"persons": persons, "liveness_score": round(live.liveness)})))
}

/// Who is at the camera: `[{id, score}]`; with `liveness_min_score`, only a live face is searched.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/search-active-user", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image (base64), os, min_score (0.5-1), search_mode, collection_id, liveness_min_score (optional)"),
    responses((status = 200, body = [ScoredIdDto]), (status = 409), (status = 412)))]
async fn search_active_user(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    os(&fields)?;
    let asked = asked(&fields, 0.5)?;
    let liveness_min = fields.number("liveness_min_score", 0.5, 1.0)?;
    let image = fields.image(&state, "image").await?;
    let subject = match liveness_min {
        Some(liveness_min) => live_face(&state, image, liveness_min).await?,
        None => state.recognition.subject(image).await?,
    };
    let probe = state.recognition.template_of(&subject).await?;
    let found = run(&state, &client.id, &fields, &[probe], &asked).await?;
    Ok(ok(scored_ids(&found)))
}

/// Small face crops (about 120×120) searched: `[{id, score}]`.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/search/crops", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "images [base64 crops, 1-3], min_score (0.5-1), search_mode, collection_id, max_results"),
    responses((status = 200, body = [ScoredIdDto]), (status = 409), (status = 412)))]
async fn search_crops(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    let asked = asked(&fields, 0.5)?;
    let crops = fields.images(&state, "images", 3).await?;
    let mut photos = Vec::with_capacity(crops.len());
    for crop in crops {
        photos.push(vouch_app::recognition::framed_crop(crop, state.faces.limits).await?);
    }
    let found = run(&state, &client.id, &fields, &probes(&state, photos).await?, &asked).await?;
    Ok(ok(scored_ids(&found)))
}
