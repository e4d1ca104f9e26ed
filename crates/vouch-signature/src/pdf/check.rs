//! What a PDF must be before Vouch shows it to a signer: a PDF by its header and trailer, within the size and
//! page limits, readable throughout its cross-reference chain, and not encrypted.

use lopdf::Document;

use super::PdfError;

/// One document at most; DANAconnect and MasStack documents are contracts, not scans of books.
pub const MAX_PDF_BYTES: usize = 20 * 1024 * 1024;
pub const MAX_PAGES: usize = 500;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdfInfo {
    pub pages: usize,
    pub version: String,
    /// Signature fields already in the document (earlier signatures stay valid: Vouch only appends).
    pub signature_fields: usize,
}

/// Checks `bytes` and returns what was read. Size and magic are checked before the parser sees anything.
pub fn check(bytes: &[u8]) -> Result<PdfInfo, PdfError> {
    if bytes.len() > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge(MAX_PDF_BYTES));
    }
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
    if !head.windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::NotPdf);
    }
    let tail = bytes.get(bytes.len().saturating_sub(1024)..).unwrap_or_default();
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(PdfError::Broken("it has no end-of-file marker (truncated?)".into()));
    }
    last_xref(bytes)?;
    let doc = load(bytes)?;
    let pages = doc.get_pages().len();
    if pages == 0 {
        return Err(PdfError::NoPages);
    }
    if pages > MAX_PAGES {
        return Err(PdfError::TooManyPages(pages));
    }
    Ok(PdfInfo { pages, version: doc.version.clone(), signature_fields: signature_fields(&doc) })
}

pub(crate) fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    let doc = match Document::load_mem(bytes) {
        Ok(doc) => doc,
        // lopdf gives up on some encryption handlers before it can say the file was encrypted.
        Err(_) if bytes.windows(8).any(|w| w == b"/Encrypt") => return Err(PdfError::Encrypted),
        Err(e) => return Err(PdfError::Broken(e.to_string())),
    };
    if doc.was_encrypted() || doc.is_encrypted() {
        return Err(PdfError::Encrypted);
    }
    Ok(doc)
}

fn signature_fields(doc: &Document) -> usize {
    let fields = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .and_then(|form| form.get(b"Fields").ok())
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_array().ok().cloned())
        .unwrap_or_default();
    fields
        .iter()
        .filter_map(|f| doc.dereference(f).ok())
        .filter_map(|(_, o)| o.as_dict().ok())
        .filter(|d| d.get(b"FT").ok().and_then(|n| n.as_name().ok()) == Some(b"Sig".as_slice()))
        .count()
}

/// The original's last `startxref` offset, and whether it points at a classic table.
pub(crate) fn last_xref(original: &[u8]) -> Result<(usize, bool), PdfError> {
    let tail_start = original.len().saturating_sub(2048);
    let tail = original.get(tail_start..).unwrap_or_default();
    let at = tail.windows(9).rposition(|w| w == b"startxref").ok_or_else(|| PdfError::Broken("no startxref".into()))?;
    let digits: String = tail
        .get(at + 9..)
        .unwrap_or_default()
        .iter()
        .map(|b| *b as char)
        .skip_while(|c| c.is_ascii_whitespace())
        .take_while(char::is_ascii_digit)
        .collect();
    let offset: usize = digits.parse().map_err(|_| PdfError::Broken("startxref is not a number".into()))?;
    let rest = original.get(offset..).unwrap_or_default();
    let classic = rest.starts_with(b"xref");
    // Otherwise it must be a cross-reference stream object: "N G obj << /Type /XRef ...".
    let head = rest.get(..rest.len().min(256)).unwrap_or_default();
    let is_stream = head.first().is_some_and(u8::is_ascii_digit)
        && head.windows(3).any(|w| w == b"obj")
        && head.windows(5).any(|w| w == b"/XRef");
    if !classic && !is_stream {
        return Err(PdfError::Broken("startxref does not point at a cross-reference section".into()));
    }
    Ok((offset, classic))
}
