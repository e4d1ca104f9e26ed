//! Verifik's 1:1 face endpoints: liveness, compare (plain, live, with liveness), detect and verify. Scores are
//! Vouch's similarity (0..1; 0.5 is the 1:1 match point at a false match rate of about 0.1 %); a pass is a
//! score strictly above the minimum, as Verifik decides. Each compare answers the documented flat fields and
//! the `result` mirror that Verifik's official client reads.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::dto::{round, FoundPersonDto};
use super::params::{os, search_mode, Fields};
use super::{ok, record_not_found, VerifikResult};
use crate::extract::Authed;
use crate::state::AppState;

/// Verifik's default and range of `compare_min_score`.
pub const COMPARE_MIN_SCORE: (f32, f32, f32) = (0.85, 0.67, 0.95);
/// Verifik's default liveness minimum where none is given.
pub const LIVENESS_MIN_SCORE: f32 = 0.6;
/// compare-live's default, as the official client sends it.
const LIVE_COMPARE_LIVENESS_MIN_SCORE: f32 = 0.65;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(liveness))
        .routes(routes!(liveness_score))
        .routes(routes!(compare))
        .routes(routes!(compare_live))
        .routes(routes!(compare_with_liveness))
        .routes(routes!(detect))
        .routes(routes!(verify))
}

#[derive(Serialize, ToSchema)]
pub struct LivenessDto {
    pub passed: bool,
    pub min_score: f64,
    pub liveness_score: f64,
}

impl LivenessDto {
    fn new(score: f32, min_score: f32) -> LivenessDto {
        LivenessDto { passed: score > min_score, min_score: round(min_score), liveness_score: round(score) }
    }
}

/// The mirror of a compare that Verifik's official client reads.
#[derive(Serialize, ToSchema)]
pub struct CompareResultDto {
    pub score: f64,
    pub passed: bool,
    /// compare-live's liveness, beside its score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liveness_score: Option<f64>,
}

/// A compare's answer: the documented flat fields and their `result` mirror.
#[derive(Serialize, ToSchema)]
pub struct CompareDto {
    pub score: f64,
    pub passed: bool,
    pub compare_min_score: f64,
    pub result: CompareResultDto,
}

fn compared(score: f32, min: f32) -> CompareDto {
    let passed = score > min;
    CompareDto {
        score: round(score),
        passed,
        compare_min_score: round(min),
        result: CompareResultDto { score: round(score), passed, liveness_score: None },
    }
}

#[derive(Serialize, ToSchema)]
pub struct CompareLiveDto {
    #[serde(flatten)]
    pub compare: CompareDto,
    pub liveness: LivenessDto,
    pub liveness_min_score: f64,
}

/// Liveness with its own `result` mirror, as compare-with-liveness answers it.
#[derive(Serialize, ToSchema)]
pub struct MirroredLivenessDto {
    #[serde(flatten)]
    pub liveness: LivenessDto,
    pub result: LivenessDto,
}

#[derive(Serialize, ToSchema)]
pub struct CompareWithLivenessDto {
    pub comparison: CompareDto,
    /// Null when the compare did not pass.
    pub liveness: Option<MirroredLivenessDto>,
}

/// `compare_min_score`, Verifik's default when absent.
fn compare_min(fields: &Fields) -> Result<f32, crate::error::ApiError> {
    let (default, lo, hi) = COMPARE_MIN_SCORE;
    Ok(fields.number("compare_min_score", lo, hi)?.unwrap_or(default))
}

async fn passive_liveness(state: &AppState, fields: Fields) -> VerifikResult<Response> {
    os(&fields)?;
    let min = fields.number("liveness_min_score", 0.5, 1.0)?.unwrap_or(LIVENESS_MIN_SCORE);
    let image = fields.image(state, "image").await?;
    let subject = state.recognition.subject(image).await?;
    Ok(ok(LivenessDto::new(subject.liveness, min)))
}

/// Passive liveness of one photo: passed when `liveness_score > liveness_min_score`.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/liveness", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "os (ANDROID, IOS, DESKTOP), image (base64), liveness_min_score (0.5-1, default 0.6), collection_id"),
    responses((status = 200, body = LivenessDto), (status = 401), (status = 403), (status = 409), (status = 412)))]
async fn liveness(State(state): State<AppState>, _: Authed, fields: Fields) -> VerifikResult<Response> {
    passive_liveness(&state, fields).await
}

/// The same as `liveness` (Verifik bills it apart).
#[utoipa::path(post, path = "/verifik/v2/face-recognition/liveness-score", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "as /liveness"),
    responses((status = 200, body = LivenessDto), (status = 409), (status = 412)))]
async fn liveness_score(State(state): State<AppState>, _: Authed, fields: Fields) -> VerifikResult<Response> {
    passive_liveness(&state, fields).await
}

/// The best similarity between a face of `probe` and a face of `gallery`.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/compare", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "probe [base64], gallery [base64], search_mode (FAST, ACCURATE), compare_min_score (0.67-0.95, default 0.85)"),
    responses((status = 200, description = "{score, passed, compare_min_score, result: {score, passed}}"), (status = 409), (status = 412)))]
async fn compare(State(state): State<AppState>, _: Authed, fields: Fields) -> VerifikResult<Response> {
    search_mode(&fields)?;
    let min = compare_min(&fields)?;
    let probe = fields.images(&state, "probe", 3).await?;
    let gallery = fields.images(&state, "gallery", 10).await?;
    let score = state.recognition.compare(probe, gallery).await?;
    Ok(ok(compared(score, min)))
}

/// A live capture compared with the gallery, and its passive liveness.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/compare-live", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "probe (base64), gallery [base64], os, search_mode, liveness_min_score (0.52-1, default 0.65), compare_min_score"),
    responses((status = 200, description = "{score, passed, compare_min_score, liveness: {liveness_score, min_score, passed}, liveness_min_score, result: {score, passed, liveness_score}}"), (status = 409), (status = 412)))]
async fn compare_live(State(state): State<AppState>, _: Authed, fields: Fields) -> VerifikResult<Response> {
    os(&fields)?;
    search_mode(&fields)?;
    let liveness_min = fields.number("liveness_min_score", 0.52, 1.0)?.unwrap_or(LIVE_COMPARE_LIVENESS_MIN_SCORE);
    let min = compare_min(&fields)?;
    let probe = fields.image(&state, "probe").await?;
    let gallery = fields.images(&state, "gallery", 10).await?;
    let live = state.recognition.subject(probe).await?;
    let score = state.recognition.compare_subject(&live, gallery).await?;
    let liveness = LivenessDto::new(live.liveness, liveness_min);
    let mut compare = compared(score, min);
    compare.result.liveness_score = Some(liveness.liveness_score);
    Ok(ok(CompareLiveDto { compare, liveness, liveness_min_score: round(liveness_min) }))
}

/// Compare first; liveness only when the compare passed (`liveness` is null otherwise), as Verifik does.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/compare-with-liveness", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "probe (base64), gallery [base64], search_mode, liveness_min_score (0.5-1, default 0.6), compare_min_score"),
    responses((status = 200, description = "{comparison: {score, passed, result}, liveness: {liveness_score, min_score, passed, result} | null}"), (status = 409), (status = 412)))]
async fn compare_with_liveness(State(state): State<AppState>, _: Authed, fields: Fields) -> VerifikResult<Response> {
    search_mode(&fields)?;
    let liveness_min = fields.number("liveness_min_score", 0.5, 1.0)?.unwrap_or(LIVENESS_MIN_SCORE);
    let min = compare_min(&fields)?;
    let probe = fields.image(&state, "probe").await?;
    let gallery = fields.images(&state, "gallery", 10).await?;
    let live = state.recognition.subject(probe).await?;
    let score = state.recognition.compare_subject(&live, gallery).await?;
    // Both come from one pass of the engine; liveness is answered only after a passing compare, as Verifik does.
    let liveness = (score > min).then(|| MirroredLivenessDto {
        liveness: LivenessDto::new(live.liveness, liveness_min),
        result: LivenessDto::new(live.liveness, liveness_min),
    });
    Ok(ok(CompareWithLivenessDto { comparison: compared(score, min), liveness }))
}

#[derive(Serialize, ToSchema)]
pub struct DetectedFaceDto {
    /// Pixels: left, top, width, height.
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    pub confidence: f64,
    /// The persons this face matches, when a collection or a minimum score was given.
    pub matches: Vec<super::dto::ScoredIdDto>,
}

/// Every face of a photo, largest first, each searched in the gallery when asked.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/detect", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image (base64); collection_id, min_score (0.5-1), max_results to search each face"),
    responses((status = 200, description = "{faces: [{x, y, width, height, confidence, matches: [{id, score}]}]}"), (status = 409), (status = 412)))]
async fn detect(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> VerifikResult<Response> {
    fields.one_of("search_mode", &["FAST", "ACCURATE"])?;
    let min_score = fields.number("min_score", 0.5, 1.0)?;
    let collection = fields.string("collection_id")?;
    let max = fields.integer("max_results", 1, 100)?.unwrap_or(5) as usize;
    let image = fields.image(&state, "image").await?;
    let faces = state.recognition.all_faces(image).await?;
    let tag = state.faces.engine().await?.template_tag();
    let search = min_score.is_some() || collection.is_some();
    let mut out = Vec::with_capacity(faces.len());
    for face in faces {
        let mut matches = Vec::new();
        if search {
            let template = vouch_vision::FaceTemplate::from_bytes(&face.template, &tag)
                .map_err(|e| vouch_app::AppError::vision("face engine", e))?;
            let min = min_score.unwrap_or(super::search::SEARCH_MIN_SCORE_DEFAULT);
            let found = state
                .recognition
                .search_templates(&client.id, collection.as_deref(), &[template], max, min)
                .await
                .map_err(|e| record_not_found(e.into()))?;
            matches =
                found.into_iter().map(|m| super::dto::ScoredIdDto { id: m.person.id, score: round(m.score) }).collect();
        }
        out.push(DetectedFaceDto {
            x: round(face.rect.x0),
            y: round(face.rect.y0),
            width: round(face.rect.width()),
            height: round(face.rect.height()),
            confidence: round(face.confidence),
            matches,
        });
    }
    Ok(ok(json!({ "faces": out })))
}

/// 1:1 against an enrolled person: `{match: {id, name, score, ...}, passed}`.
#[utoipa::path(post, path = "/verifik/v2/face-recognition/verify", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "id (the person's _id), images [base64, 1-3], min_score (0.5-1), search_mode, collection_id"),
    responses((status = 200, description = "{match: {id, name, score, gender, date_of_birth, thumbnails, collections}, passed, min_score}"), (status = 404), (status = 409), (status = 412)))]
async fn verify(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> VerifikResult<Response> {
    let id = fields.required_string("id")?;
    let min = fields.required_number("min_score", 0.5, 1.0)?;
    search_mode(&fields)?;
    let images = fields.images(&state, "images", 3).await?;
    let found = state.recognition.verify(&client.id, &id, images).await.map_err(|e| record_not_found(e.into()))?;
    if let Some(collection) = fields.string("collection_id")? {
        let collection =
            state.recognition.collection(&client.id, &collection).await.map_err(|e| record_not_found(e.into()))?;
        if !found.person.collections.contains(&collection.id) {
            return Err(record_not_found(crate::error::ApiError::not_found("not in the collection")).into());
        }
    }
    let person = FoundPersonDto::new(&found.person, found.score);
    let passed = found.score > min;
    Ok(ok(json!({"match": person, "passed": passed, "min_score": round(min)})))
}
