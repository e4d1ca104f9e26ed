use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::case::CaseId;

/// Every kind of evidence a case can hold. Later capabilities fill the capture kinds;
/// the kinds that exist from the start are the decision record and the proof document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Selfie,
    LivenessFrames,
    DocumentPage,
    ChipData,
    SignatureData,
    SignatureImage,
    SignedDocument,
    /// The recorded decision: who completed or rejected the case, why, and the identity they confirmed.
    Decision,
    /// The proof-of-identity PDF handed to the integrator.
    ProofOfIdentity,
    /// A flow step's recorded outcome (what was shown, what the person or clerk did).
    StepOutcome,
    /// A photo of the person the integrator supplied, for a face_match step to compare with.
    ReferencePhoto,
    /// What a document_scan step read off the page (or a clerk typed): the MRZ or the CAN, which later opens the
    /// chip. Personal data, encrypted like every blob; never in a step's detail or a log.
    DocumentReading,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 12] = [
        EvidenceKind::Selfie,
        EvidenceKind::LivenessFrames,
        EvidenceKind::DocumentPage,
        EvidenceKind::ChipData,
        EvidenceKind::SignatureData,
        EvidenceKind::SignatureImage,
        EvidenceKind::SignedDocument,
        EvidenceKind::Decision,
        EvidenceKind::ProofOfIdentity,
        EvidenceKind::StepOutcome,
        EvidenceKind::ReferencePhoto,
        EvidenceKind::DocumentReading,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Selfie => "selfie",
            EvidenceKind::LivenessFrames => "liveness_frames",
            EvidenceKind::DocumentPage => "document_page",
            EvidenceKind::ChipData => "chip_data",
            EvidenceKind::SignatureData => "signature_data",
            EvidenceKind::SignatureImage => "signature_image",
            EvidenceKind::SignedDocument => "signed_document",
            EvidenceKind::Decision => "decision",
            EvidenceKind::ProofOfIdentity => "proof_of_identity",
            EvidenceKind::StepOutcome => "step_outcome",
            EvidenceKind::ReferencePhoto => "reference_photo",
            EvidenceKind::DocumentReading => "document_reading",
        }
    }

    pub fn parse(s: &str) -> Option<EvidenceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One piece of evidence: a pointer to an encrypted, content-addressed blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Evidence {
    pub id: String,
    pub case_id: CaseId,
    pub kind: EvidenceKind,
    /// SHA-256 of the plaintext, hex. Also the blob's name in the store.
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    /// Set once retention deleted the blob; the row and its hash stay for the audit trail.
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub purged_at: Option<OffsetDateTime>,
}

/// The digest that a proof document quotes: SHA-256 over each evidence item's kind and hash, in order.
/// It is defined here, not in the store, so every producer and verifier computes the same thing.
pub fn manifest_lines<'a>(items: impl IntoIterator<Item = (EvidenceKind, &'a str)>) -> String {
    let mut out = String::new();
    for (kind, sha) in items {
        out.push_str(kind.as_str());
        out.push(' ');
        out.push_str(sha);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in EvidenceKind::ALL {
            assert_eq!(EvidenceKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EvidenceKind::parse("nonsense"), None);
    }

    #[test]
    fn manifest_is_one_line_per_item_in_order() {
        let m = manifest_lines([(EvidenceKind::Decision, "aa"), (EvidenceKind::Selfie, "bb")]);
        assert_eq!(m, "decision aa\nselfie bb\n");
    }
}
