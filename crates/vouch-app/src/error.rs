//! Vouch's application error: one enum of machine codes that every protocol maps (`vouch-server` renders it
//! in each vendor's dialect with one `From<AppError>`), and the engines' errors mapped into it here, in one
//! place.

use serde::Serialize;
use vouch_core::CoreError;
use vouch_store::StoreError;
use vouch_vision::VisionError;

/// What went wrong, as a protocol needs to know it to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppCode {
    /// Well-formed, but the values break a rule (the message says which).
    InvalidInput,
    /// No such case, document or record (or the caller may not see it).
    NotFound,
    /// The thing exists but is not in a state that allows this (a case already decided, a document already
    /// signed).
    Conflict,
    /// Too many wrong PINs or codes: wait, then try again.
    TooManyAttempts,
    /// The caller has not shown who they are, or their sign-in has lapsed.
    Unauthorized,
    /// The caller may not do this (a customer confirming a clerk's step).
    Forbidden,
    /// First-run setup over the HTTP bridge without the setup code printed on the console.
    SetupCodeWrong,
    /// No place was free for this kind of heavy work: try again in a moment.
    Busy,
    /// This Vouch cannot do it yet.
    NotImplemented,
    /// Bigger than Vouch accepts.
    PayloadTooLarge,
    /// The content is of a type this call does not take (the message names the ones it does).
    UnsupportedMediaType,
    /// The caller's image is not one Vouch reads: not PNG or JPEG, damaged, too large or too small.
    InvalidImage,
    /// A photo that should show one face shows none.
    NoFace,
    /// A photo that should show only the person shows more than one face.
    MultipleFaces,
    /// A face template that is damaged.
    CorruptedTemplate,
    /// A face template of another model or size.
    IncompatibleTemplate,
    /// A face template of a format version Vouch does not know.
    UnsupportedTemplateVersion,
    /// The handwritten signature has no strokes.
    SignatureEmpty,
    /// The handwritten signature is too short to be one.
    SignatureTooShort,
    /// The handwritten signature took longer than a signature does.
    SignatureTooLong,
    /// Models are missing, altered, or failed to load or run: the installation's to fix, not the caller's.
    ModelsUnavailable,
    /// The kiosk's signing keys are missing or unreadable: the operator's to fix (the detail is in the log).
    SigningKeysUnavailable,
    /// The central service this kiosk syncs with could not be reached: nothing is lost, try again later.
    CentralUnreachable,
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

    pub fn invalid(message: impl Into<String>) -> AppError {
        AppError::new(AppCode::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(AppCode::NotFound, message)
    }

    pub fn conflict(message: impl Into<String>) -> AppError {
        AppError::new(AppCode::Conflict, message)
    }

    pub fn forbidden(message: impl Into<String>) -> AppError {
        AppError::new(AppCode::Forbidden, message)
    }

    /// Gives a not-found error the caller's own wording (each protocol phrases it differently); any other
    /// error passes through unchanged.
    pub fn with_not_found(self, message: &str) -> AppError {
        if self.code == AppCode::NotFound {
            AppError::not_found(message)
        } else {
            self
        }
    }

    /// Logged in full, answered with a generic message so internals do not leak.
    pub fn internal(detail: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %detail, "internal error");
        AppError::new(AppCode::Internal, "An error occurred")
    }

    /// Blocking work that did not finish; what went wrong is logged, not shown.
    pub fn task(what: &str, e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "{what} task failed");
        AppError::new(AppCode::Internal, format!("The {what} task failed"))
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::IllegalTransition { from, .. } => {
                AppError::conflict(format!("the case is {from} and can no longer change that way"))
            }
            CoreError::InvalidClaims(m) | CoreError::InvalidDecision(m) | CoreError::InvalidFlow(m) => {
                AppError::invalid(m)
            }
            e @ CoreError::ClaimNotSatisfied { .. } => AppError::invalid(e.to_string()),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::not_found("Not found"),
            StoreError::Conflict(m) => AppError::conflict(m),
            StoreError::Invalid(m) => AppError::invalid(m),
            StoreError::Locked { retry_after_secs } => AppError::new(
                AppCode::TooManyAttempts,
                format!("Too many wrong PINs. Try again in {} minute(s).", retry_after_secs.div_ceil(60)),
            ),
            StoreError::Core(c) => c.into(),
            other => AppError::internal(other),
        }
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

    #[test]
    fn store_errors_keep_what_the_caller_can_act_on_and_hide_the_rest() {
        assert_eq!(AppError::from(StoreError::NotFound).code, AppCode::NotFound);
        assert_eq!(AppError::from(StoreError::Conflict("taken".into())).message, "taken");
        let locked = AppError::from(StoreError::Locked { retry_after_secs: 61 });
        assert_eq!(
            (locked.code, locked.message.as_str()),
            (AppCode::TooManyAttempts, "Too many wrong PINs. Try again in 2 minute(s).")
        );
        let corrupt = AppError::from(StoreError::Corrupt("page 7 of cases".into()));
        assert_eq!((corrupt.code, corrupt.message.as_str()), (AppCode::Internal, "An error occurred"));
    }
}
