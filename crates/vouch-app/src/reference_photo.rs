//! The reference photo an integrator supplies for a case, for the kiosk's face_match step to compare the
//! customer's face with (until document reading supplies the portrait). One per case; it is stored as
//! encrypted evidence like every capture.

use vouch_core::{CaseId, Client};
use vouch_vision::geometry::Rect;

use crate::cases::NO_SUCH_CASE;
use crate::faces::FaceService;
use crate::{App, AppCode, AppError};

/// A stored reference photo and the face found in it.
pub struct ReferencePhoto {
    pub evidence_id: String,
    /// SHA-256 of the stored photo, as in the case's evidence list and audit trail.
    pub sha256: String,
    /// The face found, in pixels.
    pub face: Rect,
    /// Things that may lower the match score, such as FACE_TOO_SMALL.
    pub warnings: Vec<vouch_vision::Warning>,
}

/// Adds `photo` (its `content_type` JPEG or PNG) to `client`'s open case. It must show exactly one face. Another
/// client's case is reported as missing (an admin client may add to any), so case ids cannot be probed.
pub async fn add(
    app: &App,
    faces: &FaceService,
    client: &Client,
    case_id: CaseId,
    photo: Vec<u8>,
    content_type: Option<&str>,
) -> Result<ReferencePhoto, AppError> {
    let case = app.db(move |s| s.get_case(case_id)).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    if case.client_id != client.id && !client.is_admin() {
        return Err(AppError::not_found(NO_SUCH_CASE));
    }
    let media_type = match content_type.map(str::trim) {
        Some(ct @ ("image/jpeg" | "image/png")) => ct.to_string(),
        _ => return Err(AppError::new(AppCode::UnsupportedMediaType, "Content-Type must be image/jpeg or image/png")),
    };
    let limits = faces.limits;
    let probe = photo.clone();
    let detection = faces
        .run(move |engine| {
            let img = vouch_vision::image_io::decode(&probe, limits)?;
            engine.detect(&img)
        })
        .await?;
    let face = match (detection.faces.len(), detection.subject) {
        (1, Some(face)) => face,
        (0, _) => return Err(AppError::new(AppCode::NoFace, "The photo shows no face")),
        _ => {
            return Err(AppError::new(
                AppCode::MultipleFaces,
                "The photo shows more than one face; a reference photo shows only the person",
            ))
        }
    };
    let actor = format!("client:{}", client.id);
    let evidence = app
        .db(move |s| s.add_reference_photo(case_id, &photo, &media_type, &actor))
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    tracing::info!(%case_id, "reference photo added");
    Ok(ReferencePhoto {
        evidence_id: evidence.id,
        sha256: evidence.sha256,
        face: face.rect,
        warnings: detection.warnings,
    })
}
