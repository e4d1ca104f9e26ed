use std::path::PathBuf;

/// Everything the face engine can refuse or fail at. Input errors (`Image*`, `Template*`) are the caller's;
/// model and runtime errors are the installation's and name the file to fix.
#[derive(Debug, thiserror::Error)]
pub enum VisionError {
    #[error("model file {file} is missing from {dir}: copy it from the release's models/ folder")]
    ModelMissing { file: String, dir: PathBuf },
    #[error("model file {file} is corrupt: its sha256 is {actual}, models/MODELS.md expects {expected}")]
    ModelCorrupt { file: String, expected: String, actual: String },
    #[error("model file {file} has no sha256 in {manifest}: every shipped model must be listed there")]
    ModelNotListed { file: String, manifest: PathBuf },
    #[error("model manifest {0} cannot be read")]
    ManifestMissing(PathBuf),
    #[error("ONNX Runtime could not be loaded from {path}: {reason}")]
    Runtime { path: String, reason: String },
    #[error("model {file} failed: {reason}")]
    Inference { file: &'static str, reason: String },
    #[error(
        "the image is {width}×{height} pixels; the limit is {max_side} pixels a side and {max_pixels} pixels in all"
    )]
    ImageTooLarge { width: u32, height: u32, max_side: u32, max_pixels: u64 },
    #[error("the image is {width}×{height} pixels; at least {min_side} pixels a side are needed")]
    ImageTooSmall { width: u32, height: u32, min_side: u32 },
    #[error("the data is not a PNG, JPEG or JPEG 2000 image")]
    ImageFormat,
    #[error("the image cannot be decoded: {0}")]
    ImageDecode(String),
    #[error("the face template is corrupt: {0}")]
    TemplateCorrupt(&'static str),
    #[error("the face template was made by another model ({found}); this engine makes {expected}")]
    TemplateIncompatible { found: String, expected: String },
    #[error("the face template has version {0}, which this engine cannot read")]
    TemplateVersion(u8),
}

pub type Result<T> = std::result::Result<T, VisionError>;

impl VisionError {
    pub(crate) fn inference(file: &'static str, err: impl std::fmt::Display) -> VisionError {
        VisionError::Inference { file, reason: err.to_string() }
    }

    /// True when the caller sent something unusable, false when the installation is at fault.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            VisionError::ImageTooLarge { .. }
                | VisionError::ImageTooSmall { .. }
                | VisionError::ImageFormat
                | VisionError::ImageDecode(_)
                | VisionError::TemplateCorrupt(_)
                | VisionError::TemplateIncompatible { .. }
                | VisionError::TemplateVersion(_)
        )
    }
}
