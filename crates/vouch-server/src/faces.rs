//! The face engine as the server uses it (`vouch_app::faces::FaceService`), vision errors as API errors, and
//! base64 image data read within its limit.

use base64::Engine as _;
pub use vouch_app::faces::FaceService;
use vouch_app::AppError;
use vouch_vision::VisionError;

use crate::error::ApiError;

/// Maps the face engine's errors to API errors (see [`vision_error_in`]).
pub fn vision_error(e: VisionError) -> ApiError {
    vision_error_in("face engine", e)
}

/// Maps an error of a set of models (`what`: "face engine", "page reader") to an API error
/// ([`AppError::vision`]): the caller's image or template is 422 with DIS's finer code; anything else is the
/// installation's.
pub fn vision_error_in(what: &str, e: VisionError) -> ApiError {
    AppError::vision(what, e).into()
}

/// Decodes base64 image data after checking its length, so an oversized upload costs no allocation.
pub fn decode_base64_image(data: &str, max_bytes: usize) -> Result<Vec<u8>, ApiError> {
    let max_encoded = max_bytes.div_ceil(3) * 4 + 4;
    if data.len() > max_encoded {
        return Err(ApiError::invalid(format!("The image is larger than the limit of {max_bytes} bytes"))
            .with_vendor_code("INVALID_IMAGE"));
    }
    let cleaned: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let cleaned = cleaned.split_once("base64,").map(|(_, b)| b.to_string()).unwrap_or(cleaned);
    base64::engine::general_purpose::STANDARD
        .decode(cleaned.as_bytes())
        .map_err(|_| ApiError::invalid("The image data is not valid base64").with_vendor_code("INVALID_IMAGE"))
}
