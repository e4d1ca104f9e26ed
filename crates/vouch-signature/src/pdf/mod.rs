//! PDFs to sign: checked before anything trusts them, then stamped and signed by incremental update.

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("{0}")]
    Invalid(String),
}
