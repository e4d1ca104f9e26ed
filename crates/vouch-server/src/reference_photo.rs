//! The reference photo an integrator supplies for a case, for the kiosk's face_match step to compare the
//! customer's face with (until document reading supplies the portrait). One per case; it is stored as
//! encrypted evidence like every capture.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_vision::geometry::Rect;

use crate::error::{Failure, Native};
use crate::extract::{require_bearer, Authed};
use crate::native::{parse_case_id, NativeError};
use crate::state::AppState;

type NativeResult<T> = Result<T, Failure<Native>>;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_reference_photo))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_images))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_bearer::<Native>))
        .layer(crate::extract::body_limit(state.config.image_body_limit_bytes))
}

#[derive(Serialize, ToSchema)]
pub struct ReferencePhotoView {
    pub evidence_id: String,
    /// SHA-256 of the stored photo, as in the case's evidence list and audit trail.
    pub sha256: String,
    /// The face found, in pixels.
    #[schema(value_type = Object)]
    pub face: Rect,
    /// Things that may lower the match score, such as FACE_TOO_SMALL.
    #[schema(value_type = Vec<String>)]
    pub warnings: Vec<vouch_vision::Warning>,
}

/// Attach the photo a face_match step compares the customer with: the raw JPEG or PNG as the body. The
/// photo must show exactly one face. The case's own client (or an admin) may add it, once, while the case is
/// open.
#[utoipa::path(put, path = "/vouch/v1/cases/{id}/reference-photo", tag = "Vouch",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "a JPEG or PNG photo"),
    responses((status = 200, body = ReferencePhotoView), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "the case already has one, or is closed"),
              (status = 413, body = NativeError), (status = 415, body = NativeError),
              (status = 422, body = NativeError, description = "not a decodable image, too large, or not exactly one face")))]
async fn put_reference_photo(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> NativeResult<Json<ReferencePhotoView>> {
    // Read through read_body, not the Bytes extractor, so an oversized photo gets Vouch's JSON error naming the limit.
    let body = crate::extract::read_body(request, &state).await?;
    let case_id = parse_case_id(&id)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let photo =
        vouch_app::reference_photo::add(&state.app, &state.faces, &client, case_id, body.to_vec(), content_type)
            .await?;
    Ok(Json(ReferencePhotoView {
        evidence_id: photo.evidence_id,
        sha256: photo.sha256,
        face: photo.face,
        warnings: photo.warnings,
    }))
}
