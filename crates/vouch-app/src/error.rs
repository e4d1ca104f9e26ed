//! Vouch's application error: one enum of machine codes that every protocol maps (`vouch-server` renders it
//! in each vendor's dialect with one `From<AppError>`), and the engines' errors mapped into it here, in one
//! place.

use serde::Serialize;
use vouch_vision::VisionError;

/// What went wrong, as a protocol needs to know it to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppCode {
    /// The caller's image is not one Vouch reads: not PNG or JPEG, damaged, too large or too small.
    InvalidImage,
    /// A face template that is damaged.
    CorruptedTemplate,
    /// A face template of another model or size.
    IncompatibleTemplate,
    /// A face template of a format version Vouch does not know.
    UnsupportedTemplateVersion,
    /// Models are missing, altered, or failed to load or run: the installation's to fix, not the caller's.
    ModelsUnavailable,
    /// Work off the async workers did not finish (it panicked or was cancelled).
    Internal,
}

/// An application error: its code, and a message for the caller (never a secret or personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub code: AppCode,
    pub message: String,
}

impl AppError {
    pub fn new(code: AppCode, message: impl Into<String>) -> AppError {
        AppError { code, message: message.into() }
    }

    /// An error of a set of models (`what`: "face engine", "page reader"): the caller's image or template,
    /// or else the installation's.
    pub fn vision(what: &str, e: VisionError) -> AppError {
        let code = match &e {
            VisionError::ImageTooLarge { .. }
            | VisionError::ImageTooSmall { .. }
            | VisionError::ImageFormat
            | VisionError::ImageDecode(_) => AppCode::InvalidImage,
            VisionError::TemplateCorrupt(_) => AppCode::CorruptedTemplate,
            VisionError::TemplateIncompatible { .. } => AppCode::IncompatibleTemplate,
            VisionError::TemplateVersion(_) => AppCode::UnsupportedTemplateVersion,
            _ => {
                tracing::error!(error = %e, "{what} failed");
                return AppError::models_unavailable(what, &e.to_string());
            }
        };
        AppError::new(code, e.to_string())
    }

    /// A broken installation is the operator's to fix, so the message names the models and the file (it holds
    /// no secret).
    pub fn models_unavailable(what: &str, message: &str) -> AppError {
        AppError::new(AppCode::ModelsUnavailable, format!("The {what} is not available: {message}"))
    }

    /// Blocking work that did not finish; what went wrong is logged, not shown.
    pub fn task(what: &str, e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "{what} task failed");
        AppError::new(AppCode::Internal, format!("The {what} task failed"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_input_and_the_installation_are_told_apart() {
        assert_eq!(AppError::vision("face engine", VisionError::ImageFormat).code, AppCode::InvalidImage);
        assert_eq!(
            AppError::vision("face engine", VisionError::TemplateCorrupt("too short")).code,
            AppCode::CorruptedTemplate
        );
        let missing = VisionError::ModelMissing { file: "mrz_ocr.onnx".into(), dir: "/opt/vouch/models".into() };
        let missing = AppError::vision("page reader", missing);
        assert_eq!(missing.code, AppCode::ModelsUnavailable);
        assert!(missing.message.starts_with("The page reader is not available"), "{}", missing.message);
    }
}
