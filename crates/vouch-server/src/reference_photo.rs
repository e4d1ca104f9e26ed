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

use crate::error::{ApiError, Code, Failure, Native};
use crate::extract::{require_bearer, Authed};
use crate::native::{parse_case_id, NativeError, NO_SUCH_CASE};
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
    let case = state.db(move |s| s.get_case(case_id)).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    // Another client's case is reported as missing, so case ids cannot be probed.
    if case.client_id != client.id && !client.is_admin() {
        return Err(ApiError::not_found(NO_SUCH_CASE).into());
    }
    let media_type = match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::trim) {
        Some(ct @ ("image/jpeg" | "image/png")) => ct.to_string(),
        _ => {
            return Err(ApiError::new(Code::UnsupportedMediaType, "Content-Type must be image/jpeg or image/png").into())
        }
    };
    let limits = state.faces.limits;
    let photo = body.clone();
    let detection = state
        .faces
        .run(move |engine| {
            let img = vouch_vision::image_io::decode(&photo, limits)?;
            engine.detect(&img)
        })
        .await?;
    let face = match (detection.faces.len(), detection.subject) {
        (1, Some(face)) => face,
        (0, _) => return Err(ApiError::invalid("The photo shows no face").with_vendor_code("NO_FACE_DETECTED").into()),
        _ => {
            return Err(ApiError::invalid(
                "The photo shows more than one face; a reference photo shows only the person",
            )
            .with_vendor_code("MULTIPLE_FACES_DETECTED")
            .into())
        }
    };
    let actor = format!("client:{}", client.id);
    let evidence = state
        .db(move |s| s.add_reference_photo(case_id, &body, &media_type, &actor))
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    tracing::info!(%case_id, "reference photo added");
    Ok(Json(ReferencePhotoView {
        evidence_id: evidence.id,
        sha256: evidence.sha256,
        face: face.rect,
        warnings: detection.warnings,
    }))
}
