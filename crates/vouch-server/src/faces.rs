//! The face engine as the server uses it: loaded on first use (a server that never sees a face never pays
//! for the models), run off the async workers, its errors mapped to API errors in one place.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use vouch_vision::{EngineConfig, FaceEngine, ImageLimits, VisionError};

use crate::error::{ApiError, Code};

pub struct FaceService {
    config: Option<EngineConfig>,
    engine: tokio::sync::Mutex<Option<Arc<FaceEngine>>>,
    pub limits: ImageLimits,
}

impl FaceService {
    pub fn new(models_dir: Option<PathBuf>, threads: usize) -> FaceService {
        FaceService {
            config: models_dir.map(|models_dir| EngineConfig { models_dir, threads }),
            engine: tokio::sync::Mutex::new(None),
            limits: ImageLimits::default(),
        }
    }

    /// The loaded engine. A failed load is not cached: once the admin restores the file, the next call works.
    pub async fn engine(&self) -> Result<Arc<FaceEngine>, ApiError> {
        let mut slot = self.engine.lock().await;
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let Some(config) = self.config.clone() else {
            return Err(model_error("no models folder is configured (set VOUCH_MODELS_DIR or models_dir)"));
        };
        let loaded = tokio::task::spawn_blocking(move || FaceEngine::load(&config))
            .await
            .map_err(|e| ApiError::internal(format!("face engine load task failed: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "face engine could not load");
                model_error(&e.to_string())
            })?;
        let engine = Arc::new(loaded);
        *slot = Some(engine.clone());
        Ok(engine)
    }

    /// Runs `f` on the engine in the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&FaceEngine) -> Result<T, VisionError> + Send + 'static,
    {
        let engine = self.engine().await?;
        tokio::task::spawn_blocking(move || f(&engine))
            .await
            .map_err(|e| ApiError::internal(format!("face task failed: {e}")))?
            .map_err(vision_error)
    }
}

/// A broken installation is the operator's to fix, so the message names the file (it holds no secret).
fn model_error(message: &str) -> ApiError {
    ApiError::new(Code::Internal, format!("The face engine is not available: {message}"))
}

pub fn vision_error(e: VisionError) -> ApiError {
    let code = match &e {
        VisionError::ImageTooLarge { .. }
        | VisionError::ImageTooSmall { .. }
        | VisionError::ImageFormat
        | VisionError::ImageDecode(_) => "INVALID_IMAGE",
        VisionError::TemplateCorrupt(_) => "CORRUPTED_TEMPLATE",
        VisionError::TemplateIncompatible { .. } => "INCOMPATIBLE_TEMPLATE",
        VisionError::TemplateVersion(_) => "UNSUPPORTED_VERSION_TEMPLATE",
        _ => {
            tracing::error!(error = %e, "face engine failed");
            return model_error(&e.to_string());
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
