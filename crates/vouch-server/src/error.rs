//! Every error leaves the server through here. Domain and store errors become an [`ApiError`] (a kind
//! and a message); each vendor dialect renders that in its own body format.

use std::marker::PhantomData;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use vouch_core::CoreError;
use vouch_store::StoreError;

/// What went wrong, independent of any vendor's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    /// The body is not valid JSON or not the expected encoding.
    MalformedBody,
    /// Well-formed, but the values break a rule.
    InvalidInput,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    MethodNotAllowed,
    NotImplemented,
    /// Too many wrong PINs or case codes: wait, then try again.
    TooManyAttempts,
    /// The server is at its limit for this kind of work: try again after `Retry-After`.
    Busy,
    Internal,
}

impl Code {
    pub fn status(self) -> StatusCode {
        match self {
            Code::MalformedBody => StatusCode::BAD_REQUEST,
            Code::InvalidInput => StatusCode::UNPROCESSABLE_ENTITY,
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::Conflict => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Code::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Code::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    /// A finer code where there is one (DIS: INVALID_IMAGE, CORRUPTED_TEMPLATE, ...; the kiosk: signature_empty,
    /// ...): DIS answers it as its errorCode, Vouch's own format as `reason`, the others go by `code`.
    pub vendor_code: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), vendor_code: None }
    }
    pub fn invalid(message: impl Into<String>) -> ApiError {
        Self::new(Code::InvalidInput, message)
    }
    pub fn not_found(message: impl Into<String>) -> ApiError {
        Self::new(Code::NotFound, message)
    }
    pub fn unauthorized() -> ApiError {
        Self::new(Code::Unauthorized, "Unauthorized")
    }
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        Self::new(Code::Forbidden, message)
    }
    /// Gives a not-found error the caller's own wording (each vendor phrases it differently);
    /// any other error passes through unchanged.
    pub fn with_not_found(self, message: &str) -> ApiError {
        if self.code == Code::NotFound {
            ApiError::not_found(message)
        } else {
            self
        }
    }
    pub fn with_vendor_code(mut self, vendor_code: &'static str) -> ApiError {
        self.vendor_code = Some(vendor_code);
        self
    }
    /// Logged in full, answered with a generic message so internals do not leak.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error");
        Self::new(Code::Internal, "An error occurred")
    }
}

/// The application's errors in Vouch's generic codes; the vendors' finer codes (DIS's) ride along as the vendor
/// code each dialect may show.
impl From<vouch_app::AppError> for ApiError {
    fn from(e: vouch_app::AppError) -> Self {
        use vouch_app::AppCode;
        let invalid = |vendor_code| ApiError::invalid(e.message.clone()).with_vendor_code(vendor_code);
        match e.code {
            AppCode::InvalidInput => ApiError::invalid(e.message),
            AppCode::NotFound => ApiError::not_found(e.message),
            AppCode::Conflict => ApiError::new(Code::Conflict, e.message),
            AppCode::TooManyAttempts => ApiError::new(Code::TooManyAttempts, e.message),
            AppCode::Unauthorized => ApiError::new(Code::Unauthorized, e.message),
            AppCode::Forbidden => ApiError::forbidden(e.message),
            AppCode::SetupCodeWrong => ApiError::forbidden(e.message).with_vendor_code("setup_code_wrong"),
            AppCode::Busy => ApiError::new(Code::Busy, e.message),
            AppCode::NotImplemented => ApiError::new(Code::NotImplemented, e.message),
            AppCode::PayloadTooLarge => ApiError::new(Code::PayloadTooLarge, e.message),
            AppCode::UnsupportedMediaType => ApiError::new(Code::UnsupportedMediaType, e.message),
            // The kiosk translates these for the customer by their reason, never by the English message.
            AppCode::SignatureEmpty => invalid("signature_empty"),
            AppCode::SignatureTooShort => invalid("signature_too_short"),
            AppCode::SignatureTooLong => invalid("signature_too_long"),
            AppCode::InvalidImage => invalid("INVALID_IMAGE"),
            AppCode::NoFace => invalid("NO_FACE_DETECTED"),
            AppCode::MultipleFaces => invalid("MULTIPLE_FACES_DETECTED"),
            AppCode::CorruptedTemplate => invalid("CORRUPTED_TEMPLATE"),
            AppCode::IncompatibleTemplate => invalid("INCOMPATIBLE_TEMPLATE"),
            AppCode::UnsupportedTemplateVersion => invalid("UNSUPPORTED_VERSION_TEMPLATE"),
            AppCode::ModelsUnavailable | AppCode::SigningKeysUnavailable => ApiError::new(Code::Internal, e.message),
            AppCode::CentralUnreachable => ApiError::new(Code::Busy, e.message).with_vendor_code("central_unreachable"),
            AppCode::Internal => ApiError::new(Code::Internal, "An error occurred"),
        }
    }
}

/// Store and domain errors are mapped once, in `vouch_app::error`, and rendered as any application error.
impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        vouch_app::AppError::from(e).into()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        vouch_app::AppError::from(e).into()
    }
}

/// A vendor's error body format.
pub trait Dialect: Send + Sync + 'static {
    /// The API this dialect speaks for: a bearer token issued by one vendor's token endpoint is accepted
    /// only by that vendor's routes and by Vouch's own (see `Store::client_for_token`).
    const API: &'static str;
    fn body(err: &ApiError) -> serde_json::Value;
    /// Some vendors use other statuses for some codes.
    fn status(code: Code) -> StatusCode {
        code.status()
    }
    /// The status of one error: by its code, unless the dialect also reads its vendor code.
    fn status_of(err: &ApiError) -> StatusCode {
        Self::status(err.code)
    }
    /// The `WWW-Authenticate` challenge sent with a 401.
    fn challenge() -> &'static str {
        "Bearer realm=\"vouch\""
    }
}

/// eeID: `{"error": "..."}`. Malformed JSON is 400, rule violations 422 (as the spec's create call).
pub struct Eeid;
impl Dialect for Eeid {
    const API: &'static str = "eeid";
    fn body(err: &ApiError) -> serde_json::Value {
        serde_json::json!({ "error": err.message })
    }
}

/// Innovatrics DIS: `{"errorCode": ENUM, "errorMessage": "..."}`; it has no 422, bad input is 400.
pub struct Dis;
impl Dialect for Dis {
    const API: &'static str = "dis";
    fn body(err: &ApiError) -> serde_json::Value {
        let code = match err.code {
            Code::MalformedBody | Code::InvalidInput | Code::UnsupportedMediaType | Code::PayloadTooLarge => {
                "INVALID_REQUEST_BODY"
            }
            Code::NotFound => "NOT_FOUND",
            Code::Conflict => "CONFLICT",
            Code::MethodNotAllowed => "INVALID_REQUEST_METHOD",
            Code::Unauthorized
            | Code::Forbidden
            | Code::NotImplemented
            | Code::TooManyAttempts
            | Code::Busy
            | Code::Internal => "UNEXPECTED_ERROR",
        };
        serde_json::json!({ "errorCode": err.vendor_code.unwrap_or(code), "errorMessage": err.message })
    }
    fn status(code: Code) -> StatusCode {
        match code {
            Code::InvalidInput => StatusCode::BAD_REQUEST,
            other => other.status(),
        }
    }
    /// A customer id already taken is DIS's one 422.
    fn status_of(err: &ApiError) -> StatusCode {
        match err.vendor_code {
            Some(ALREADY_EXISTS) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => Self::status(err.code),
        }
    }
}

/// DIS's error code for a customer id already taken (`POST /customers/{id}`), answered 422.
pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";

/// Vouch's own API: `{"code": Code, "message": "..."}`; the UI matches on `code`.
pub struct Native;
impl Dialect for Native {
    const API: &'static str = "vouch";
    fn body(err: &ApiError) -> serde_json::Value {
        match err.vendor_code {
            // The finer reason, for programs (the kiosk UI translates by it): NO_FACE_DETECTED, signature_empty, ...
            Some(reason) => serde_json::json!({ "code": err.code, "message": err.message, "reason": reason }),
            None => serde_json::json!({ "code": err.code, "message": err.message }),
        }
    }
}

/// The sync API paired kiosks call: Vouch's own format, for the tokens of kiosks' clients only.
pub struct KioskSync;
impl Dialect for KioskSync {
    const API: &'static str = vouch_store::kiosks::SYNC_API;
    fn body(err: &ApiError) -> serde_json::Value {
        Native::body(err)
    }
}

/// DANAconnect: `{"code": Code, "message": "..."}` like Vouch's own, but invalid input is 400 as the vendor answers.
pub struct Danaconnect;
impl Dialect for Danaconnect {
    const API: &'static str = "danaconnect";
    fn body(err: &ApiError) -> serde_json::Value {
        Native::body(err)
    }
    fn status(code: Code) -> StatusCode {
        match code {
            Code::InvalidInput => StatusCode::BAD_REQUEST,
            other => other.status(),
        }
    }
}

/// MasStack: `{"errors": [{"code": "MDOC_00x", "title": "INVALID_INPUT", "ref": "<uuid>", "details": "..."}]}`.
/// The public spec shows the shape and the titles, not the numbers: the MDOC numbers are Vouch's (docs/signatures.md).
/// `ref` is logged with the error, so a support call can find it.
pub struct MasStack;
impl MasStack {
    pub fn code_and_title(code: Code) -> (&'static str, &'static str) {
        match code {
            Code::MalformedBody | Code::InvalidInput | Code::UnsupportedMediaType => ("MDOC_001", "INVALID_INPUT"),
            Code::Unauthorized => ("MDOC_002", "UNAUTHORIZED"),
            Code::Forbidden => ("MDOC_003", "FORBIDDEN"),
            Code::NotFound => ("MDOC_004", "RESOURCE_NOT_FOUND"),
            Code::Conflict => ("MDOC_005", "CONFLICT"),
            Code::PayloadTooLarge => ("MDOC_006", "PAYLOAD_TOO_LARGE"),
            Code::MethodNotAllowed => ("MDOC_007", "METHOD_NOT_ALLOWED"),
            Code::TooManyAttempts => ("MDOC_008", "TOO_MANY_REQUESTS"),
            Code::NotImplemented => ("MDOC_501", "NOT_IMPLEMENTED"),
            Code::Busy => ("MDOC_503", "SERVICE_UNAVAILABLE"),
            Code::Internal => ("MDOC_500", "INTERNAL_ERROR"),
        }
    }
}
impl Dialect for MasStack {
    const API: &'static str = "masstack";
    fn body(err: &ApiError) -> serde_json::Value {
        let (code, title) = MasStack::code_and_title(err.code);
        let reference = uuid::Uuid::new_v4().to_string();
        tracing::info!(code, title, %reference, "MasStack error answered");
        serde_json::json!({"errors": [{"code": code, "title": title, "ref": reference, "details": err.message}]})
    }
    fn status(code: Code) -> StatusCode {
        match code {
            Code::InvalidInput => StatusCode::BAD_REQUEST,
            other => other.status(),
        }
    }
}

/// Verifik: `{"message": "...", "code": "..."}` with restify's codes: bad values are 409 `MissingParameter` (the
/// message in Joi's words), a refusal of what was sent 412 `PreconditionFailed` (the message a word such as
/// `only_images_in_base64`), a missing or bad token 401 `UNAUTHORIZED`, an expired one 403 `FORBIDDEN`.
pub struct Verifik;
impl Verifik {
    /// Vendor codes that are Verifik's own, with their status.
    const OWN: [(&'static str, StatusCode); 12] = [
        ("PreconditionFailed", StatusCode::PRECONDITION_FAILED),
        ("Conflict", StatusCode::CONFLICT),
        ("FORBIDDEN", StatusCode::FORBIDDEN),
        ("NotFound", StatusCode::NOT_FOUND),
        // The e-mail and phone validations' code checks.
        ("INVALID_CODE", StatusCode::BAD_REQUEST),
        ("CODE_EXPIRED", StatusCode::CONFLICT),
        ("MAX_ATTEMPTS_EXCEEDED", StatusCode::GONE),
        // The same checks by a registrant, as the app registration's validations answer them.
        ("otp_does_not_match", StatusCode::FORBIDDEN),
        ("email_validation_not_found", StatusCode::NOT_FOUND),
        ("phone_validation_not_found", StatusCode::NOT_FOUND),
        ("emailValidation_has_expired", StatusCode::PRECONDITION_FAILED),
        ("phoneValidation_has_expired", StatusCode::PRECONDITION_FAILED),
    ];

    fn code(err: &ApiError) -> &'static str {
        if let Some(own) = err.vendor_code.filter(|c| Self::OWN.iter().any(|(o, _)| o == c)) {
            return own;
        }
        if err.vendor_code.is_some() {
            // The engines' finer refusals (an unreadable image, no face) are about what was sent.
            return "PreconditionFailed";
        }
        match err.code {
            Code::MalformedBody => "InvalidContent",
            Code::InvalidInput => "MissingParameter",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NotFound",
            Code::Conflict => "Conflict",
            Code::PayloadTooLarge => "PayloadTooLarge",
            Code::UnsupportedMediaType => "UnsupportedMediaType",
            Code::MethodNotAllowed => "MethodNotAllowed",
            Code::NotImplemented => "NotImplemented",
            Code::TooManyAttempts => "TooManyRequests",
            Code::Busy => "ServiceUnavailable",
            Code::Internal => "ERROR",
        }
    }
}
impl Dialect for Verifik {
    const API: &'static str = "verifik";
    fn body(err: &ApiError) -> serde_json::Value {
        let message = if err.code == Code::Internal { "internal_error" } else { err.message.as_str() };
        serde_json::json!({ "message": message, "code": Self::code(err) })
    }
    fn status(code: Code) -> StatusCode {
        match code {
            Code::InvalidInput => StatusCode::CONFLICT,
            other => other.status(),
        }
    }
    fn status_of(err: &ApiError) -> StatusCode {
        let code = Self::code(err);
        match Self::OWN.iter().find(|(own, _)| *own == code) {
            Some((_, status)) => *status,
            None => Self::status(err.code),
        }
    }
}

/// Verifik's v3 routes (`/verifik/v3/projects`): v2's codes with the status and a timestamp in the body,
/// `{"message", "code", "status", "timestamp"}`; a missing or bad token is `Forbidden` (401), as Verifik's v3
/// documents it.
pub struct VerifikV3;
impl Dialect for VerifikV3 {
    const API: &'static str = "verifik";
    fn body(err: &ApiError) -> serde_json::Value {
        let mut body = Verifik::body(err);
        if let Some(obj) = body.as_object_mut() {
            if err.code == Code::Unauthorized {
                obj.insert("code".into(), "Forbidden".into());
            }
            obj.insert("status".into(), Verifik::status_of(err).as_u16().into());
            let now = time::OffsetDateTime::now_utc();
            obj.insert("timestamp".into(), crate::adapters::rfc3339(now).into());
        }
        body
    }
    fn status(code: Code) -> StatusCode {
        Verifik::status(code)
    }
    fn status_of(err: &ApiError) -> StatusCode {
        Verifik::status_of(err)
    }
}

/// RFC 6749 §5.2 token errors, used by `/oauth/token` and `/danaconnect/oauth2/token`.
pub struct OAuth;
impl Dialect for OAuth {
    const API: &'static str = "oauth";
    fn body(err: &ApiError) -> serde_json::Value {
        let code = match err.code {
            Code::Unauthorized => "invalid_client",
            Code::NotImplemented => "unsupported_grant_type",
            _ => "invalid_request",
        };
        serde_json::json!({ "error": code, "error_description": err.message })
    }
    fn status(code: Code) -> StatusCode {
        match code {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
    fn challenge() -> &'static str {
        "Basic realm=\"vouch\""
    }
}

/// An [`ApiError`] on its way out in dialect `D`. Handlers return `Result<_, Failure<D>>` and use `?`.
pub struct Failure<D: Dialect>(pub ApiError, PhantomData<D>);

impl<D: Dialect, E: Into<ApiError>> From<E> for Failure<D> {
    fn from(e: E) -> Self {
        Failure(e.into(), PhantomData)
    }
}

impl<D: Dialect> IntoResponse for Failure<D> {
    fn into_response(self) -> Response {
        render::<D>(&self.0)
    }
}

pub fn render<D: Dialect>(err: &ApiError) -> Response {
    let mut resp = (D::status_of(err), Json(D::body(err))).into_response();
    if err.code == Code::Unauthorized {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(D::challenge()));
    }
    if err.code == Code::Busy {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(BUSY_RETRY_AFTER_SECS));
    }
    resp
}

/// How long a caller turned away as busy is asked to wait.
pub const BUSY_RETRY_AFTER_SECS: &str = "1";
