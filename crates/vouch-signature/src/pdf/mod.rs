//! PDFs to sign: checked before anything trusts them ([`check`]), then stamped with a visible signature block,
//! given the escrowed biometric data as an attachment, and signed PAdES B-B by one incremental update
//! ([`sign`]). The original bytes are never rewritten, so its earlier signatures and its hash stay valid.

pub mod check;
pub mod sign;
mod write;

pub use check::{check, PdfInfo, MAX_PAGES, MAX_PDF_BYTES};
pub use sign::{sign, SignOptions};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    #[error("the file is not a PDF")]
    NotPdf,
    #[error("the PDF is encrypted; send it unencrypted")]
    Encrypted,
    #[error("the PDF is damaged and cannot be read: {0}")]
    Broken(String),
    #[error("the PDF is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the PDF has {0} pages; at most {MAX_PAGES} can be signed")]
    TooManyPages(usize),
    #[error("the PDF has no pages")]
    NoPages,
    #[error("the PDF cannot be signed: {0}")]
    Unsupported(String),
    #[error("signing the PDF failed: {0}")]
    Signing(String),
}

#[cfg(test)]
pub(crate) mod tests;
