//! DIS customer liveness under `/identity/api/v1/customers/{id}/liveness`: the four types (passive,
//! eye-gaze, smile, MagnifEye), fed by single selfies or by Vouch liveness records, evaluated locally.
//! Scores and their 0.5 threshold are documented in `vouch_vision::active`; the record format in
//! `crate::liveness_record`.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_store::liveness::{FrameRow, NewFrame, NewRecord};
use vouch_vision::active::{Assertion, Corner, EvaluationError, LivenessType};
use vouch_vision::engine::image_warnings;
use vouch_vision::{Face, Warning};

use super::faces::{
    blob, content_type, detection_dto, image_or_origin, json_body, links, DisResult, FaceDetection, ImageCrop,
    ImageDto, Links, Origin, PREFIX,
};
use crate::error::{ApiError, Code};
use crate::extract::{read_body, Authed};
use crate::liveness_record;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateCustomerLivenessResponse {
    pub links: Links,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LivenessTypeRequest {
    /// EYE_GAZE_LIVENESS, PASSIVE_LIVENESS, SMILE_LIVENESS or MAGNIFEYE_LIVENESS.
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub liveness_type: LivenessType,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChallengeDetails {
    /// The corners the head must turn to, in order (eye-gaze only; empty otherwise, but present: the swagger's
    /// schema requires it).
    #[schema(value_type = Vec<String>)]
    pub corners: Vec<Corner>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LivenessChallengeResponse {
    pub details: ChallengeDetails,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateLivenessSelfieRequest {
    pub image: Option<ImageDto>,
    pub selfie_origin: Option<Origin>,
    /// EYE_GAZE_TOP_LEFT … EYE_GAZE_BOTTOM_RIGHT, SMILE, NEUTRAL or NONE (passive).
    pub assertion: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateLivenessSelfieResponse {
    /// NO_FACE_DETECTED (the selfie is not kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// MULTIPLE_FACES_DETECTED, LOW_QUALITY.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LivenessSelfie {
    pub assertion: &'static str,
    /// Base64 of the image as uploaded.
    pub data: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetrieveLivenessSelfiesResponse {
    pub selfies: Vec<LivenessSelfie>,
    pub record_selfies: Vec<LivenessSelfie>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SelfieFromLivenessRecord {
    pub detection: FaceDetection,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LivenessRecordLinks {
    pub selfie: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateLivenessRecordResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selfie: Option<SelfieFromLivenessRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<LivenessRecordLinks>,
    /// INVALID_DATA: not a Vouch liveness record, not following the challenge, or no face in any frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateLivenessResponse {
    /// 0..1; 0.5 is the threshold for every type (see docs/apis.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// NOT_ENOUGH_DATA or INVALID_DATA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_liveness, delete_liveness))
        .routes(routes!(challenge))
        .routes(routes!(create_selfie))
        .routes(routes!(retrieve_selfies))
        .routes(routes!(create_record))
        .routes(routes!(record_selfie))
        .routes(routes!(evaluate))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::sessions::bearer_or_session))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes))
}

fn liveness_link(customer: &str) -> String {
    format!("{PREFIX}/customers/{customer}/liveness")
}

fn not_created(e: ApiError) -> ApiError {
    e.with_not_found("The customer has no liveness: PUT /customers/{id}/liveness first")
}

pub(crate) fn assertion_of(row: &FrameRow) -> Result<Assertion, ApiError> {
    Assertion::parse(&row.assertion).ok_or_else(|| ApiError::internal("stored liveness assertion unreadable"))
}

/// Creates the customer's liveness (idempotent: an existing one keeps its frames).
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/liveness", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CreateCustomerLivenessResponse), (status = 404)))]
async fn create_liveness(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<Json<CreateCustomerLivenessResponse>> {
    let cid = id.clone();
    state.db(move |s| s.create_liveness(&client.id, &cid)).await.map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(Json(CreateCustomerLivenessResponse { links: links(liveness_link(&id)) }))
}

/// Deletes the liveness with all its selfies and records. Idempotent.
#[utoipa::path(delete, path = "/identity/api/v1/customers/{id}/liveness", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204)))]
async fn delete_liveness(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> DisResult<StatusCode> {
    state.db(move |s| s.delete_liveness(&client.id, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Issues the challenge the next record must follow: random corners for eye-gaze; the other types need none
/// and get empty details.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/liveness/records/challenge", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = LivenessTypeRequest,
    responses((status = 200, body = LivenessChallengeResponse), (status = 400), (status = 404)))]
async fn challenge(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<LivenessChallengeResponse>> {
    let body: LivenessTypeRequest = json_body(&read_body(req, &state).await?)?;
    let corners =
        if body.liveness_type == LivenessType::EyeGazeLiveness { Corner::random_challenge() } else { Vec::new() };
    let json = serde_json::to_string(&corners).map_err(ApiError::internal)?;
    state.db(move |s| s.set_liveness_challenge(&client.id, &id, &json)).await.map_err(not_created)?;
    Ok(Json(LivenessChallengeResponse { details: ChallengeDetails { corners } }))
}

/// A frame's face: the subject, or None; with DIS's selfie warnings. Detection and the image checks only:
/// the template and passive liveness are computed when the liveness is evaluated.
fn detect_frame(
    engine: &vouch_vision::FaceEngine,
    bytes: &[u8],
    limits: vouch_vision::ImageLimits,
) -> vouch_vision::Result<(Option<Face>, Vec<&'static str>)> {
    let img = vouch_vision::decode(bytes, limits)?;
    let detection = engine.detect(&img)?;
    let Some(face) = detection.subject else {
        return Ok((None, Vec::new()));
    };
    let (found, _) = image_warnings(&img, &face, detection.warnings);
    let mut warnings = Vec::new();
    if found.contains(&Warning::MultipleFacesDetected) {
        warnings.push("MULTIPLE_FACES_DETECTED");
    }
    if found.iter().any(|w| *w != Warning::MultipleFacesDetected) {
        warnings.push("LOW_QUALITY");
    }
    Ok((Some(face), warnings))
}

fn face_json(face: &Option<Face>) -> Result<Option<String>, ApiError> {
    face.as_ref().map(serde_json::to_string).transpose().map_err(ApiError::internal)
}

/// Adds one liveness selfie with what it was asked to show.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/liveness/selfies", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateLivenessSelfieRequest,
    responses((status = 200, body = CreateLivenessSelfieResponse), (status = 400, description = "INVALID_IMAGE, INVALID_REQUEST_BODY"), (status = 404)))]
async fn create_selfie(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateLivenessSelfieResponse>> {
    if content_type(&req) != "application/json" {
        return Err(ApiError::new(Code::UnsupportedMediaType, "Content-Type must be application/json").into());
    }
    let body: CreateLivenessSelfieRequest = json_body(&read_body(req, &state).await?)?;
    let assertion = Assertion::parse(&body.assertion).filter(|a| *a != Assertion::Magnifeye).ok_or_else(|| {
        ApiError::invalid(format!("assertion {:?} is not a liveness selfie assertion", body.assertion))
    })?;
    let bytes = image_or_origin(&state, &client.id, body.image, body.selfie_origin, "selfieOrigin").await?;
    // An unknown customer or a missing liveness is refused before the models run.
    let (cid, client_id) = (id.clone(), client.id.clone());
    state.db(move |s| s.liveness_challenge(&client_id, &cid)).await.map_err(not_created)?;
    let limits = state.faces.limits;
    let (face, warnings, bytes) = state
        .faces
        .run(move |engine| {
            let (face, warnings) = detect_frame(engine, &bytes, limits)?;
            Ok((face, warnings, bytes))
        })
        .await?;
    if face.is_none() {
        return Ok(Json(CreateLivenessSelfieResponse { error_code: Some("NO_FACE_DETECTED"), warnings: Vec::new() }));
    }
    let detection = face_json(&face)?;
    let frame_id = uuid::Uuid::new_v4().to_string();
    state
        .db(move |s| {
            let frame = NewFrame {
                id: &frame_id,
                assertion: assertion.as_str(),
                image: &bytes,
                detection: detection.as_deref(),
                is_record_selfie: false,
            };
            s.add_liveness_frames(&client.id, &id, None, &[frame])
        })
        .await
        .map_err(not_created)?;
    Ok(Json(CreateLivenessSelfieResponse { error_code: None, warnings }))
}

/// The selfies and record frames of one liveness type, as uploaded.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/liveness/selfies/retrieve", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = LivenessTypeRequest,
    responses((status = 200, body = RetrieveLivenessSelfiesResponse), (status = 404)))]
async fn retrieve_selfies(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<RetrieveLivenessSelfiesResponse>> {
    let body: LivenessTypeRequest = json_body(&read_body(req, &state).await?)?;
    let frames = state.db(move |s| s.liveness_frames(&client.id, &id)).await.map_err(not_created)?;
    let mut out = RetrieveLivenessSelfiesResponse { selfies: Vec::new(), record_selfies: Vec::new() };
    for row in frames {
        let assertion = assertion_of(&row)?;
        if assertion.liveness_type() != body.liveness_type {
            continue;
        }
        let data = base64::engine::general_purpose::STANDARD.encode(blob(&state, row.image_sha256.clone()).await?);
        let selfie = LivenessSelfie { assertion: assertion.as_str(), data };
        if row.record_id.is_some() {
            out.record_selfies.push(selfie);
        } else {
            out.selfies.push(selfie);
        }
    }
    Ok(Json(out))
}

fn invalid_record(why: &str) -> Json<CreateLivenessRecordResponse> {
    tracing::info!(why, "DIS liveness record refused");
    Json(CreateLivenessRecordResponse { selfie: None, links: None, error_code: Some("INVALID_DATA") })
}

/// Adds a Vouch liveness record (`application/octet-stream`; the format is in docs/apis.md). An eye-gaze record
/// must follow the corners of the last challenge, which it then uses up.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/liveness/records", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = CreateLivenessRecordResponse), (status = 400), (status = 404)))]
async fn create_record(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateLivenessRecordResponse>> {
    if content_type(&req) != "application/octet-stream" {
        return Err(ApiError::new(Code::UnsupportedMediaType, "Content-Type must be application/octet-stream").into());
    }
    let body = read_body(req, &state).await?;
    let (cid, client_id) = (id.clone(), client.id.clone());
    let challenge = state.db(move |s| s.liveness_challenge(&client_id, &cid)).await.map_err(not_created)?;
    let record = match liveness_record::parse(&body) {
        Ok(r) => r,
        Err(why) => return Ok(invalid_record(&why)),
    };
    if record.liveness_type == LivenessType::EyeGazeLiveness {
        let issued: Vec<Corner> = challenge.as_deref().and_then(|c| serde_json::from_str(c).ok()).unwrap_or_default();
        let shown: Vec<Corner> = record.frames.iter().filter_map(|f| f.assertion.corner()).collect();
        if issued.is_empty() || shown != issued {
            return Ok(invalid_record("the eye-gaze frames do not follow the issued challenge"));
        }
    }
    let limits = state.faces.limits;
    let (record, faces) = state
        .faces
        .run(move |engine| {
            let faces = record
                .frames
                .iter()
                .map(|f| detect_frame(engine, &f.image, limits).map(|(face, _)| face))
                .collect::<vouch_vision::Result<Vec<_>>>()?;
            Ok((record, faces))
        })
        .await?;
    // The record's selfie: its passive or neutral frame when it has a face, else the first frame with one.
    let preferred = |a: Assertion| matches!(a, Assertion::None | Assertion::Neutral);
    let selfie = record
        .frames
        .iter()
        .zip(&faces)
        .position(|(f, face)| preferred(f.assertion) && face.is_some())
        .or_else(|| faces.iter().position(Option::is_some));
    let Some(selfie) = selfie else {
        return Ok(invalid_record("no frame of the record shows a face"));
    };
    let detections = faces.iter().map(face_json).collect::<Result<Vec<_>, _>>()?;
    let selfie_face = faces.get(selfie).copied().flatten();
    let record_id = uuid::Uuid::new_v4().to_string();
    let (rid, cid) = (record_id.clone(), id.clone());
    state
        .db(move |s| {
            let ids: Vec<String> = record.frames.iter().map(|_| uuid::Uuid::new_v4().to_string()).collect();
            let frames: Vec<NewFrame<'_>> = record
                .frames
                .iter()
                .zip(&detections)
                .zip(&ids)
                .enumerate()
                .map(|(i, ((f, detection), fid))| NewFrame {
                    id: fid,
                    assertion: f.assertion.as_str(),
                    image: &f.image,
                    detection: detection.as_deref(),
                    is_record_selfie: i == selfie,
                })
                .collect();
            let record_row = NewRecord { id: &rid, liveness_type: record.liveness_type.as_str() };
            s.add_liveness_frames(&client.id, &cid, Some(record_row), &frames)
        })
        .await
        .map_err(not_created)?;
    tracing::info!(customer = %id, record = %record_id, "DIS liveness record stored");
    Ok(Json(CreateLivenessRecordResponse {
        selfie: selfie_face.map(|f| SelfieFromLivenessRecord { detection: detection_dto(&f) }),
        links: Some(LivenessRecordLinks { selfie: format!("{}/records/{record_id}/selfie", liveness_link(&id)) }),
        error_code: None,
    }))
}

/// The selfie a record offered, cropped like the customer selfie.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/liveness/records/{record_id}/selfie", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path), ("record_id" = String, Path), super::pages::CropSize),
    responses((status = 200, body = ImageCrop), (status = 400), (status = 404)))]
async fn record_selfie(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path((id, record_id)): Path<(String, String)>,
    axum::extract::Query(size): axum::extract::Query<super::pages::CropSize>,
) -> DisResult<Json<ImageCrop>> {
    size.target(1, 1)?;
    let frames = state.db(move |s| s.liveness_frames(&client.id, &id)).await.map_err(not_created)?;
    let row = frames
        .into_iter()
        .find(|f| f.is_record_selfie && f.record_id.as_deref() == Some(record_id.as_str()))
        .ok_or_else(|| ApiError::not_found("No such liveness record"))?;
    let face: Face = row
        .detection
        .as_deref()
        .and_then(|d| serde_json::from_str(d).ok())
        .ok_or_else(|| ApiError::internal("stored record selfie has no readable detection"))?;
    let bytes = blob(&state, row.image_sha256).await?;
    let limits = state.faces.limits;
    let data = state
        .faces
        .run(move |_| {
            let img = vouch_vision::decode(&bytes, limits)?;
            let target = super::faces::portrait_target(&size, &face, img.width(), img.height()).unwrap_or(None);
            super::faces::sized_portrait_png(&img, &face, target, f32::INFINITY)
        })
        .await?;
    Ok(Json(ImageCrop { data }))
}

/// Evaluates one liveness type over the frames given so far (selfies and records, in capture order).
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/liveness/evaluation", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = LivenessTypeRequest,
    responses((status = 200, body = EvaluateLivenessResponse), (status = 400), (status = 404)))]
async fn evaluate(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<EvaluateLivenessResponse>> {
    let body: LivenessTypeRequest = json_body(&read_body(req, &state).await?)?;
    Ok(Json(evaluation(&state, &client.id, &id, body.liveness_type).await?))
}

/// One liveness type evaluated over the customer's frames, as `POST /liveness/evaluation` answers it.
pub(crate) async fn evaluation(
    state: &AppState,
    client: &str,
    id: &str,
    kind: LivenessType,
) -> Result<EvaluateLivenessResponse, ApiError> {
    let (c, cid) = (client.to_string(), id.to_string());
    let rows = state.db(move |s| s.liveness_frames(&c, &cid)).await.map_err(not_created)?;
    let mut frames = Vec::new();
    for row in rows {
        let assertion = assertion_of(&row)?;
        // Passive also reads the NONE frames that came with active records; the rest only their own kind.
        if assertion.liveness_type() == kind {
            frames.push((assertion, blob(state, row.image_sha256).await?));
        }
    }
    let limits = state.faces.limits;
    let evaluation = state
        .faces
        .run(move |engine| {
            engine
                .evaluate_liveness(kind, frames.iter().map(|(a, bytes)| Ok((*a, vouch_vision::decode(bytes, limits)?))))
        })
        .await?;
    tracing::info!(customer = %id, kind = ?kind, score = evaluation.score, reason = %evaluation.reason, "DIS liveness evaluated");
    Ok(match evaluation.error {
        Some(e) => EvaluateLivenessResponse {
            score: None,
            error_code: Some(match e {
                EvaluationError::NotEnoughData => "NOT_ENOUGH_DATA",
                EvaluationError::InvalidData => "INVALID_DATA",
            }),
        },
        None => EvaluateLivenessResponse { score: Some(f64::from(evaluation.score)), error_code: None },
    })
}
