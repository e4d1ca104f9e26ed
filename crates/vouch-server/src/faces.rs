//! The face engine as the server uses it (a `ModelSlot`: loaded on first use, run off the async workers), and
//! the mapping of vision errors to API errors.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use vouch_vision::{EngineConfig, FaceEngine, ImageLimits, VisionError};

use crate::error::ApiError;
use crate::model_slot::ModelSlot;

pub struct FaceService {
    models: ModelSlot<FaceEngine>,
    pub limits: ImageLimits,
}

impl FaceService {
    pub fn new(models_dir: Option<PathBuf>, threads: usize) -> FaceService {
        FaceService {
            models: ModelSlot::new("face engine", models_dir, threads, |dir, threads| {
                FaceEngine::load(&EngineConfig { models_dir: dir.to_path_buf(), threads })
            }),
            limits: ImageLimits::default(),
        }
    }

    /// The loaded engine. A failed load is not cached: once the admin restores the file, the next call works.
    pub async fn engine(&self) -> Result<Arc<FaceEngine>, ApiError> {
        self.models.get().await
    }

    /// Runs `f` on the engine in the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&FaceEngine) -> Result<T, VisionError> + Send + 'static,
    {
        self.models.run(f).await
    }
}

/// Maps the face engine's errors to API errors (see [`vision_error_in`]).
pub fn vision_error(e: VisionError) -> ApiError {
    vision_error_in("face engine", e)
}

/// Maps an error of a set of models (`what`: "face engine", "page reader") to an API error: the caller's image or
/// template is 422 with DIS's finer code; anything else is the installation's (see `models_unavailable`).
pub fn vision_error_in(what: &str, e: VisionError) -> ApiError {
    let code = match &e {
        VisionError::ImageTooLarge { .. }
        | VisionError::ImageTooSmall { .. }
        | VisionError::ImageFormat
        | VisionError::ImageDecode(_) => "INVALID_IMAGE",
        VisionError::TemplateCorrupt(_) => "CORRUPTED_TEMPLATE",
        VisionError::TemplateIncompatible { .. } => "INCOMPATIBLE_TEMPLATE",
        VisionError::TemplateVersion(_) => "UNSUPPORTED_VERSION_TEMPLATE",
        _ => {
            tracing::error!(error = %e, "{what} failed");
            return crate::model_slot::models_unavailable(what, &e.to_string());
        }
    };
    ApiError::invalid(e.to_string()).with_vendor_code(code)
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
