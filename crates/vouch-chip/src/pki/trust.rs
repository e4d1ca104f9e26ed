//! The CSCA trust store: a directory of CSCA certificates (PEM or DER) and ICAO master lists (CMS SignedData
//! holding a CscaMasterList). Files that cannot be read are reported, not fatal: one bad file must not take
//! passive authentication down for every document.

use std::path::Path;

use base64::Engine;
use serde::Serialize;

use crate::asn1::{self, Cursor};
use crate::tlv;

use super::cms;
use super::x509::Certificate;

pub const CSCA_MASTER_LIST: &str = "2.23.136.1.1.2";
/// Germany's master list is about 1 MB; nothing legitimate comes near this.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
const MAX_FILES: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Certificate>,
    pub sources: Vec<TrustSource>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrustSource {
    pub file: String,
    pub certificates: usize,
    /// For master lists: whether its signature verified against a CSCA in the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

impl TrustStore {
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    pub fn load_dir(dir: &Path) -> std::io::Result<TrustStore> {
        let mut store = TrustStore::default();
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for path in entries.into_iter().filter(|p| p.is_file()).take(MAX_FILES) {
            let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(u64::MAX);
            let source = if size > MAX_FILE_BYTES {
                TrustSource { file, certificates: 0, signature_verified: None, problem: Some("file too large".into()) }
            } else {
                match std::fs::read(&path) {
                    Ok(bytes) => store.add_file(&file, &bytes),
                    Err(e) => {
                        TrustSource { file, certificates: 0, signature_verified: None, problem: Some(e.to_string()) }
                    }
                }
            };
            store.sources.push(source);
        }
        Ok(store)
    }

    /// One file: PEM certificates, a DER certificate, or a master list.
    pub fn add_file(&mut self, file: &str, bytes: &[u8]) -> TrustSource {
        let mut source =
            TrustSource { file: file.to_string(), certificates: 0, signature_verified: None, problem: None };
        if bytes.starts_with(b"-----BEGIN") {
            for der in pem_blocks(bytes) {
                match Certificate::parse(&der) {
                    Ok(cert) => {
                        self.anchors.push(cert);
                        source.certificates += 1;
                    }
                    Err(e) => source.problem = Some(e.to_string()),
                }
            }
            return source;
        }
        if let Ok(cert) = Certificate::parse(bytes) {
            self.anchors.push(cert);
            source.certificates = 1;
            return source;
        }
        match master_list(bytes) {
            Ok((certs, verified)) => {
                source.certificates = certs.len();
                source.signature_verified = Some(verified);
                self.anchors.extend(certs);
            }
            Err(e) => source.problem = Some(format!("neither a certificate nor a master list: {e}")),
        }
        source
    }
}

fn pem_blocks(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE") {
            current = Some(String::new());
        } else if line.starts_with("-----END") {
            if let Some(b64) = current.take() {
                if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(b64) {
                    out.push(der);
                }
            }
        } else if let Some(b64) = current.as_mut() {
            b64.push_str(line);
        }
    }
    out
}

/// The CSCA certificates of a master list, and whether its signer (a CSCA in the list signed the signer's
/// certificate, and the signer signed the list) checks out.
fn master_list(bytes: &[u8]) -> Result<(Vec<Certificate>, bool), String> {
    let signed = cms::parse(bytes).map_err(|e| e.to_string())?;
    if signed.content_type != CSCA_MASTER_LIST {
        return Err("the CMS content is not a CscaMasterList".into());
    }
    let (list, _) = tlv::expect(&signed.content, asn1::SEQUENCE).map_err(|e| e.to_string())?;
    let mut c = Cursor::new(list.value).map_err(|e| e.to_string())?;
    let _version = c.next(asn1::INTEGER, "CscaMasterList version").map_err(|e| e.to_string())?;
    let set = c.next(asn1::SET, "certList").map_err(|e| e.to_string())?;
    let mut certs = Vec::new();
    for cert in set.children().map_err(|e| e.to_string())? {
        // A malformed entry is skipped; the others stay usable.
        if let Ok(cert) = Certificate::parse(&asn1::reencode(&cert)) {
            certs.push(cert);
        }
    }
    let verified = signed.signers.iter().any(|signer| {
        signed.signer_certificate(signer).is_some_and(|signer_cert| {
            signed.verify_signer(signer, signer_cert).is_ok()
                && certs.iter().any(|csca| signer_cert.names_issuer(csca) && signer_cert.verify_signed_by(csca).is_ok())
        })
    });
    Ok((certs, verified))
}
