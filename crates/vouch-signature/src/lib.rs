//! Handwritten signatures: the pad's pen samples, their ISO/IEC 19794-7 record, the rendered picture, the
//! escrowed `biometric_data` that binds the pen data to the signed documents, and PDFs stamped and signed
//! (PAdES B-B) by incremental update.

pub mod ceremony;
pub mod envelope;
pub mod iso19794_7;
pub mod pdf;
pub mod pki;
pub mod render;
pub mod stroke;

pub use envelope::{BiometricPayload, SignedDocument};
pub use pki::SigningIdentity;
pub use stroke::{Drawn, InkStats, Pad, PenSample, PointerKind};

/// `biometric_data` at most (the base64 text), as the seed APIs limit it.
pub const MAX_BIOMETRIC_DATA_BYTES: usize = 300 * 1024;
/// `signature_image` at most (the base64 text).
pub const MAX_SIGNATURE_IMAGE_BYTES: usize = 500 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("nothing was drawn")]
    Empty,
    #[error("the signature is too short: sign with your full signature")]
    TooShort,
    #[error("the signature took longer than a minute")]
    TooLong,
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("{0}")]
    Invalid(String),
    #[error("ISO/IEC 19794-7 record: {0}")]
    MalformedIso(String),
    #[error("rendering the signature failed: {0}")]
    Render(String),
    #[error("{0}")]
    Pki(String),
    #[error("biometric envelope: {0}")]
    Envelope(String),
    #[error("{0}")]
    Pdf(#[from] pdf::PdfError),
}

/// `t` in UTC as the 14 digits `YYYYMMDDHHMMSS` that PDF dates and ASN.1 times are built from.
pub(crate) fn utc_digits(t: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year][month][day][hour][minute][second]");
    t.to_offset(time::UtcOffset::UTC).format(format).unwrap_or_default()
}
