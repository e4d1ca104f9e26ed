//! The evidence package of a signing case: one ZIP with the signed PDFs, the handwritten signature (ISO/IEC
//! 19794-7, picture, escrowed structure), every capture the case holds, the hash-chained audit trail, and a
//! manifest of every file's SHA-256, signed by the kiosk key (detached CMS) so the package cannot be edited unseen.
//!
//! Entry names are built by Vouch from fixed folders and [`safe_file_name`]: no integrator-supplied text reaches
//! a path unfiltered, so no entry can climb out of the folder it is unpacked into.

use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};
use vouch_core::{Case, EvidenceKind};
use vouch_store::signing::SignProcess;
use vouch_store::Store;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::signing::{certificate_pem, SigningKeys};
use crate::AppError;

pub const FORMAT: &str = "vouch.evidence.v1";
pub const MANIFEST: &str = "manifest.json";
pub const MANIFEST_SIGNATURE: &str = "manifest.json.p7s";
pub const CERTIFICATE: &str = "kiosk-certificate.pem";
const MAX_NAME_CHARS: usize = 80;

#[derive(Debug, Serialize)]
pub struct ManifestEntry {
    pub name: String,
    pub sha256: String,
    pub size: u64,
    pub media_type: String,
}

#[derive(Debug, Serialize)]
pub struct Manifest {
    pub format: &'static str,
    pub case_id: String,
    pub reference: Option<String>,
    pub status: String,
    pub created_at: String,
    pub signed_by: String,
    pub kiosk_certificate_sha256: String,
    pub files: Vec<ManifestEntry>,
    /// Captures that retention already deleted: named here so their absence is explained, not hidden.
    pub purged: Vec<String>,
    /// The case's audit chain head when the package was built, signed with the rest of the manifest: a later
    /// rewrite of the kiosk's database no longer matches it.
    pub audit_checkpoint: AuditCheckpoint,
}

#[derive(Debug, Serialize)]
pub struct AuditCheckpoint {
    pub chain: String,
    pub seq: i64,
    /// Hex of the newest event's keyed hash.
    pub hash: String,
}

/// A file name safe inside a ZIP: the last path component only, ASCII letters, digits, `.`, `-`, `_`; no leading
/// dot; at most 80 characters; ending in `extension`.
pub fn safe_file_name(name: &str, extension: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut cleaned: String =
        last.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    while cleaned.contains("..") {
        cleaned = cleaned.replace("..", ".");
    }
    let without_extension = cleaned
        .strip_suffix(&format!(".{extension}"))
        .or_else(|| cleaned.strip_suffix(&format!(".{}", extension.to_ascii_uppercase())))
        .unwrap_or(&cleaned);
    let stem = without_extension.trim_start_matches(['.', '_', '-']);
    let mut stem: String = stem.chars().take(MAX_NAME_CHARS.saturating_sub(extension.len() + 1)).collect();
    if stem.trim_matches(['.', '_', '-']).is_empty() {
        stem = "document".into();
    }
    format!("{stem}.{extension}")
}

pub(crate) fn extension_for(media_type: &str) -> &'static str {
    match media_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "application/json" => "json",
        "application/pdf" => "pdf",
        "application/pkcs7-mime" => "p7m",
        "text/plain" => "txt",
        crate::sign_case::ISO_MEDIA_TYPE => "iso19794-7",
        _ => "bin",
    }
}

fn folder_for(kind: EvidenceKind) -> Option<&'static str> {
    match kind {
        EvidenceKind::Selfie => Some("captures/selfie"),
        EvidenceKind::LivenessFrames => Some("captures/liveness"),
        EvidenceKind::DocumentPage => Some("captures/document-page"),
        EvidenceKind::ChipData => Some("captures/chip"),
        EvidenceKind::DocumentReading => Some("captures/document-reading"),
        EvidenceKind::ReferencePhoto => Some("captures/reference-photo"),
        EvidenceKind::SignatureData | EvidenceKind::SignatureImage => Some("signature"),
        EvidenceKind::Decision => Some("decision"),
        EvidenceKind::ProofOfIdentity => Some("decision"),
        EvidenceKind::StepOutcome => Some("steps"),
        // The signed PDFs come from the process's current versions, named after the documents.
        EvidenceKind::SignedDocument => None,
    }
}

/// A ZIP whose every file is listed, with its SHA-256, in a manifest that the kiosk key signs: the evidence package
/// and the DIS Trust Platform record are both written with it.
pub(crate) struct Writer {
    zip: zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
    entries: Vec<ManifestEntry>,
}

impl Writer {
    pub(crate) fn new() -> Writer {
        Writer { zip: zip::ZipWriter::new(std::io::Cursor::new(Vec::new())), entries: Vec::new() }
    }

    /// The entries added so far, for the manifest.
    pub(crate) fn take_entries(&mut self) -> Vec<ManifestEntry> {
        std::mem::take(&mut self.entries)
    }

    /// Adds the manifest and its detached CMS signature by the kiosk key (the two files the manifest cannot list)
    /// and closes the ZIP; its bytes and the manifest's SHA-256 (hex).
    pub(crate) fn seal(mut self, manifest: &impl Serialize, keys: &SigningKeys) -> Result<(Vec<u8>, String), AppError> {
        let manifest_bytes = serde_json::to_vec_pretty(manifest).map_err(AppError::internal)?;
        let digest: [u8; 32] = Sha256::digest(&manifest_bytes).into();
        let signature = keys.identity.sign_detached(&digest, Some(vouch_store::now())).map_err(AppError::internal)?;
        for (name, bytes) in [(MANIFEST, &manifest_bytes), (MANIFEST_SIGNATURE, &signature)] {
            let options =
                SimpleFileOptions::default().compression_method(CompressionMethod::Stored).unix_permissions(0o644);
            self.zip.start_file(name, options).map_err(AppError::internal)?;
            self.zip.write_all(bytes).map_err(AppError::internal)?;
        }
        let cursor = self.zip.finish().map_err(AppError::internal)?;
        Ok((cursor.into_inner(), hex::encode(digest)))
    }

    pub(crate) fn add(&mut self, name: &str, media_type: &str, bytes: &[u8]) -> Result<(), AppError> {
        // PDFs, pictures and encrypted data do not shrink; deflating them only costs time.
        let method = match media_type {
            "application/json" | "text/plain" | crate::sign_case::ISO_MEDIA_TYPE => CompressionMethod::Deflated,
            _ => CompressionMethod::Stored,
        };
        let options = SimpleFileOptions::default().compression_method(method).unix_permissions(0o644);
        self.zip.start_file(name, options).map_err(AppError::internal)?;
        self.zip.write_all(bytes).map_err(AppError::internal)?;
        self.entries.push(ManifestEntry {
            name: name.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
            media_type: media_type.to_string(),
        });
        Ok(())
    }
}

/// Builds the package. Blocking (store reads, hashing, RSA): run it on a blocking thread.
pub fn build(store: &Store, keys: &SigningKeys, case: &Case, process: &SignProcess) -> Result<Vec<u8>, AppError> {
    let mut w = Writer::new();
    let mut purged = Vec::new();
    for d in &process.documents {
        let name = format!("documents/{:02}-{}", d.position + 1, safe_file_name(&d.name, "pdf"));
        if d.purged_at.is_some() {
            purged.push(name);
            continue;
        }
        w.add(&name, "application/pdf", &store.blobs().get(&d.current_sha256)?)?;
    }
    let mut counters = std::collections::BTreeMap::<String, u32>::new();
    for e in store.case_evidence(case.id)? {
        let Some(folder) = folder_for(e.kind) else { continue };
        let ext = extension_for(&e.media_type);
        let n = counters.entry(format!("{folder}/{}", e.kind.as_str())).or_insert(0);
        *n += 1;
        let name = format!("{folder}/{}-{}.{ext}", e.kind.as_str().replace('_', "-"), n);
        if e.purged_at.is_some() {
            purged.push(name);
            continue;
        }
        let bytes = store.blobs().get(&e.sha256)?;
        w.add(&name, &e.media_type, &bytes)?;
    }
    let events = store.audit_chain(&case.id.to_string())?;
    let audit_checkpoint = AuditCheckpoint {
        chain: case.id.to_string(),
        seq: events.last().map_or(0, |e| e.seq),
        hash: events.last().map(|e| e.hash.clone()).unwrap_or_default(),
    };
    let audit = serde_json::json!({
        "chain": case.id.to_string(),
        "hash": "HMAC-SHA256 under the kiosk's audit key of (prev_hash || for each of chain, seq (i64 BE), \
                 at_ms (i64 BE), actor, action, detail: its length as u64 BE, then its bytes); the first prev_hash \
                 is 32 zero bytes. Each event names the previous one's hash; the newest is the signed manifest's \
                 audit_checkpoint",
        "events": events,
    });
    w.add("audit.json", "application/json", &serde_json::to_vec_pretty(&audit).map_err(AppError::internal)?)?;
    let cert_pem = certificate_pem(&keys.identity);
    w.add(CERTIFICATE, "application/x-pem-file", cert_pem.as_bytes())?;

    let manifest = Manifest {
        format: FORMAT,
        case_id: case.id.to_string(),
        reference: case.reference.clone(),
        status: case.status.as_str().to_string(),
        created_at: crate::rfc3339(vouch_store::now()),
        signed_by: keys.identity.subject(),
        kiosk_certificate_sha256: keys.identity.fingerprint(),
        files: w.take_entries(),
        purged,
        audit_checkpoint,
    };
    Ok(w.seal(&manifest, keys)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_their_folder() {
        for (input, expected) in [
            ("contract.pdf", "contract.pdf"),
            ("Contract FINAL.PDF", "Contract_FINAL.pdf"),
            ("../../etc/passwd", "passwd.pdf"),
            ("..\\..\\windows\\system32.pdf", "system32.pdf"),
            ("/abs/path/x.pdf", "x.pdf"),
            ("....pdf", "document.pdf"),
            ("", "document.pdf"),
            ("a..b.pdf", "a.b.pdf"),
            (".hidden.pdf", "hidden.pdf"),
            ("contrato año 2026.pdf", "contrato_a_o_2026.pdf"),
            ("x\u{0}y.pdf", "x_y.pdf"),
        ] {
            assert_eq!(safe_file_name(input, "pdf"), expected, "{input:?}");
        }
        let long = safe_file_name(&"a".repeat(500), "pdf");
        assert!(long.len() <= MAX_NAME_CHARS && long.ends_with(".pdf"), "{long}");
    }
}
