//! Every DIS request body as its handler reads it, from bytes to the values the handler acts on, without a
//! server, a store or models: the `dis_json` fuzz target drives this, so a body that would panic a handler
//! panics here first.

use base64::Engine as _;
use vouch_vision::active::Assertion;

use super::faces::{json_body, CreateFaceRequest, CreateSelfieRequest, FaceSimilarityRequest, ImageDto};
use super::liveness::{CreateLivenessSelfieRequest, LivenessTypeRequest};
use super::pages::{CreateDocumentPageRequest, CreateDocumentRequest};
use crate::error::ApiError;

/// The JSON bodies DIS routes take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisBody {
    /// `POST /faces`
    Face,
    /// `PUT /customers/{id}/selfie`
    Selfie,
    /// `POST /faces/{id}/similarity`
    Similarity,
    /// `PUT /customers/{id}/liveness`, `POST .../liveness/evaluation`, `PUT .../liveness/records/challenge`
    LivenessType,
    /// `POST /customers/{id}/liveness/selfies`
    LivenessSelfie,
    /// `PUT /customers/{id}/document`
    Document,
    /// `PUT /customers/{id}/document/pages`
    DocumentPage,
}

impl DisBody {
    pub const ALL: [DisBody; 7] = [
        DisBody::Face,
        DisBody::Selfie,
        DisBody::Similarity,
        DisBody::LivenessType,
        DisBody::LivenessSelfie,
        DisBody::Document,
        DisBody::DocumentPage,
    ];
}

/// The largest decoded image the fuzz run accepts (the server's default is 16 MiB).
const IMAGE_LIMIT: usize = 1 << 20;

fn image(image: Option<ImageDto>) -> Result<(), ApiError> {
    if let Some(data) = image.and_then(|i| i.data) {
        let bytes = crate::faces::decode_base64_image(&data, IMAGE_LIMIT)?;
        for format in [vouch_core::image_header::HeaderFormat::Png, vouch_core::image_header::HeaderFormat::Jpeg] {
            let _ = vouch_core::image_header::dimensions(&bytes, format);
        }
    }
    Ok(())
}

/// Reads `body` as the handler for `kind` does, up to the point where it needs the store or a model.
pub fn read(kind: DisBody, body: &[u8]) -> Result<(), ApiError> {
    match kind {
        DisBody::Face => image(json_body::<CreateFaceRequest>(body)?.image),
        DisBody::Selfie => image(json_body::<CreateSelfieRequest>(body)?.image),
        DisBody::Similarity => {
            let request: FaceSimilarityRequest = json_body(body)?;
            if let Some(template) = request.reference_face_template {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(template.trim())
                    .map_err(|_| ApiError::invalid("referenceFaceTemplate is not valid base64"))?;
                let _ = vouch_vision::template::FaceTemplate::from_bytes(&bytes, b"fuzz-tag");
            }
            Ok(())
        }
        DisBody::LivenessType => json_body::<LivenessTypeRequest>(body).map(drop),
        DisBody::LivenessSelfie => {
            let request: CreateLivenessSelfieRequest = json_body(body)?;
            let _ = Assertion::parse(&request.assertion);
            image(request.image)
        }
        DisBody::Document => json_body::<CreateDocumentRequest>(body).map(drop),
        DisBody::DocumentPage => {
            let request: CreateDocumentPageRequest = json_body(body)?;
            let _ = request.advice.and_then(|a| a.classification).map(|c| c.page_types);
            image(request.image)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bodies_read_and_broken_ones_are_refused() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\n");
        let face = format!(r#"{{"image":{{"data":"{png}"}},"detection":{{"mode":"STRICT"}}}}"#);
        assert!(read(DisBody::Face, face.as_bytes()).is_ok());
        assert!(read(DisBody::LivenessType, br#"{"type":"PASSIVE_LIVENESS"}"#).is_ok());
        assert!(read(DisBody::LivenessType, br#"{"type":"NO_SUCH"}"#).is_err());
        assert!(read(DisBody::Similarity, br#"{"referenceFaceTemplate":"@@"}"#).is_err());
        assert!(read(DisBody::Document, b"[").is_err());
        for kind in DisBody::ALL {
            assert!(read(kind, b"\xff\xfe").is_err(), "{kind:?}");
        }
    }
}
