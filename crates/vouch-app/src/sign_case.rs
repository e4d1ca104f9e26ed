//! Signing a case's documents, whichever way the signature arrives: drawn at the kiosk's signature step, or
//! supplied by the integrator's signer app (MasStack). Sequencing only: the signing itself is vouch-signature's,
//! the storage vouch-store's (blobs first, then one transaction).

use serde::Serialize;
use vouch_core::{CaseId, EvidenceKind};
use vouch_signature::ceremony::{self, Document, Handwriting};
use vouch_signature::{Drawn, SignatureError};
use vouch_store::flows::Capture;
use vouch_store::signing::{SignDocument, SignMethod, SignProcess, SignedVersion, Signer};
use vouch_store::sync::Pushed;
use vouch_store::Store;

use crate::signing::SigningKeys;
use crate::{App, AppCode, AppError};

pub const ISO_MEDIA_TYPE: &str = "application/vnd.iso.19794-7";
pub const ENVELOPE_MEDIA_TYPE: &str = "application/pkcs7-mime";
pub const SUPPLIED_MEDIA_TYPE: &str = "text/plain";

/// A case's signer and the process (documents, other signers) they belong to.
pub async fn signer_and_process(app: &App, case_id: CaseId) -> Result<(Signer, SignProcess), AppError> {
    app.db(move |s| {
        let signer = s.signer(case_id)?.ok_or(vouch_store::StoreError::NotFound)?;
        let process = s.sign_process(&signer.process_id)?;
        Ok((signer, process))
    })
    .await
}

/// A document's current version (with every signature so far).
pub async fn current_bytes(app: &App, doc: &SignDocument) -> Result<Vec<u8>, AppError> {
    let doc = doc.clone();
    app.db(move |s| Ok(current_bytes_in(s, &doc))).await?
}

/// The same, on a blocking thread. A document deleted by retention is not found, with the reason.
pub fn current_bytes_in(store: &Store, doc: &SignDocument) -> Result<Vec<u8>, AppError> {
    if let Some(at) = doc.purged_at {
        return Err(AppError::not_found(format!(
            "The document {:?} was deleted by the kiosk's retention policy on {}",
            doc.name,
            crate::rfc3339(at)
        )));
    }
    Ok(store.blobs().get(&doc.current_sha256)?)
}

/// Maps what vouch-signature refuses to what the caller sees: the person's or integrator's mistakes are 422 with
/// the reason; anything else is ours.
pub fn signature_error(e: SignatureError) -> AppError {
    match e {
        SignatureError::Empty => AppError::new(AppCode::SignatureEmpty, e.to_string()),
        SignatureError::TooShort => AppError::new(AppCode::SignatureTooShort, e.to_string()),
        SignatureError::TooLong => AppError::new(AppCode::SignatureTooLong, e.to_string()),
        SignatureError::Invalid(_) | SignatureError::MalformedIso(_) => AppError::invalid(e.to_string()),
        SignatureError::TooLarge(m) => AppError::new(AppCode::PayloadTooLarge, m),
        SignatureError::Pdf(p) => AppError::invalid(p.to_string()),
        other => AppError::internal(other),
    }
}

/// What the kiosk step records about a signature: measures, never the pen data.
#[derive(Debug, Serialize, ts_rs::TS)]
pub struct SigningOutcome {
    pub documents: usize,
    pub pointer: &'static str,
    pub ink: serde_json::Value,
    /// The drawing was taken here for a case of the central, which adds it to the documents with its keys.
    pub for_central: bool,
}

struct Prepared {
    signed: ceremony::Signed,
    versions: Vec<(u32, String)>,
}

fn prepare(
    store: &Store,
    keys: &SigningKeys,
    case_id: CaseId,
    handwriting: &Handwriting<'_>,
    reason: &str,
    location: Option<&str>,
) -> Result<(Signer, Prepared), AppError> {
    let signer = store.signer(case_id)?.ok_or_else(|| AppError::conflict("This case has nothing to sign"))?;
    if signer.signed_at.is_some() {
        return Err(AppError::conflict("The documents of this case are already signed"));
    }
    let process = store.sign_process(&signer.process_id)?;
    let mut files = Vec::with_capacity(process.documents.len());
    for d in &process.documents {
        files.push((d, current_bytes_in(store, d)?));
    }
    let documents: Vec<Document<'_>> = files.iter().map(|(d, b)| Document { name: &d.name, pdf: b }).collect();
    let case = case_id.to_string();
    let signed = ceremony::sign_documents(
        &documents,
        handwriting,
        &ceremony::Signer { name: &signer.name, case_id: &case, reason, location },
        &keys.identity,
        &keys.escrow,
        vouch_store::now(),
    )
    .map_err(signature_error)?;
    let versions = files.iter().map(|(d, _)| (d.position, d.current_sha256.clone())).collect();
    Ok((signer, Prepared { signed, versions }))
}

fn captures(signed: &ceremony::Signed) -> Vec<Capture<'_>> {
    let mut out = Vec::with_capacity(signed.documents.len() + 3);
    if let Some(iso) = &signed.iso19794_7 {
        out.push(Capture { kind: EvidenceKind::SignatureData, media_type: ISO_MEDIA_TYPE, bytes: iso });
    }
    if signed.biometric_file_name.is_some() {
        let media = if signed.iso19794_7.is_some() { ENVELOPE_MEDIA_TYPE } else { SUPPLIED_MEDIA_TYPE };
        out.push(Capture { kind: EvidenceKind::SignatureData, media_type: media, bytes: &signed.biometric_data });
        let image_media = match vouch_core::image_header::sniff(&signed.signature_image) {
            Some(vouch_core::image_header::HeaderFormat::Jpeg) => "image/jpeg",
            _ => "image/png",
        };
        out.push(Capture {
            kind: EvidenceKind::SignatureImage,
            media_type: image_media,
            bytes: &signed.signature_image,
        });
    }
    for d in &signed.documents {
        out.push(Capture { kind: EvidenceKind::SignedDocument, media_type: "application/pdf", bytes: d });
    }
    out
}

fn versions<'a>(prepared: &'a Prepared) -> Vec<SignedVersion<'a>> {
    prepared
        .versions
        .iter()
        .zip(&prepared.signed.documents)
        .map(|((position, previous), bytes)| SignedVersion {
            position: *position,
            previous_sha256: previous.clone(),
            bytes,
        })
        .collect()
}

/// The kiosk's signature step: check the drawing, sign every document, record the step with its captures.
pub async fn sign_at_kiosk(
    app: &App,
    case_id: CaseId,
    index: u32,
    drawn: Drawn,
    actor: String,
) -> Result<SigningOutcome, AppError> {
    let ink = drawn.check().map_err(signature_error)?;
    let keys = app.signing.keys().await?;
    app.db(move |s| {
        let result = (|| {
            let (signer, prepared) = prepare(
                s,
                &keys,
                case_id,
                &Handwriting::Drawn(&drawn),
                "Handwritten signature at the Vouch kiosk",
                None,
            )?;
            if signer.method != SignMethod::Biometric {
                return Err(AppError::conflict("This signer signs without a handwritten signature"));
            }
            let outcome = SigningOutcome {
                documents: prepared.signed.documents.len(),
                pointer: drawn.pad.pointer.as_str(),
                ink: serde_json::to_value(ink).unwrap_or_default(),
                for_central: false,
            };
            let detail = serde_json::to_value(&outcome).unwrap_or_default();
            s.record_signature_step(case_id, index, detail, &captures(&prepared.signed), &versions(&prepared), &actor)?;
            Ok(outcome)
        })();
        Ok(result)
    })
    .await?
}

/// The kiosk's signature step on a case of its central: the drawing is checked here and kept with the step (the
/// pen data, encrypted like any capture); the central signs the documents with it, with its own keys, when the step
/// goes up.
pub async fn sign_for_central(
    app: &App,
    case_id: CaseId,
    index: u32,
    drawn: Drawn,
    actor: String,
) -> Result<SigningOutcome, AppError> {
    let ink = drawn.check().map_err(signature_error)?;
    let pen = serde_json::to_vec(&drawn).map_err(AppError::internal)?;
    app.db(move |s| {
        let result = (|| {
            let signer = s.signer(case_id)?.ok_or_else(|| AppError::conflict("This case has nothing to sign"))?;
            if signer.method != SignMethod::Biometric {
                return Err(AppError::conflict("This signer signs without a handwritten signature"));
            }
            let outcome = SigningOutcome {
                documents: s.sign_process(&signer.process_id)?.documents.len(),
                pointer: drawn.pad.pointer.as_str(),
                ink: serde_json::to_value(ink).unwrap_or_default(),
                for_central: true,
            };
            let detail = serde_json::to_value(&outcome).unwrap_or_default();
            s.record_signature_for_central(case_id, index, detail, &pen, &actor)?;
            Ok(outcome)
        })();
        Ok(result)
    })
    .await?
}

/// A signature step a paired kiosk pushed: the drawing is checked again and every document signed with this
/// service's keys, recorded with the kiosk's item as applied. Pushed again, it answers that it was applied.
pub async fn sign_pushed(
    app: &App,
    kiosk_id: String,
    item_id: String,
    case_id: CaseId,
    index: u32,
    drawn: Drawn,
) -> Result<Pushed, AppError> {
    let ink = drawn.check().map_err(signature_error)?;
    let keys = app.signing.keys().await?;
    app.db(move |s| {
        let result = (|| {
            if s.kiosk_item_applied(&item_id)? {
                return Ok(Pushed::AlreadyApplied);
            }
            if s.case_holder(case_id)?.as_deref() != Some(kiosk_id.as_str()) {
                return Err(AppError::conflict("claim the case before pushing its steps"));
            }
            let handwriting = Handwriting::Drawn(&drawn);
            let reason = "Handwritten signature at a Vouch kiosk";
            let (signer, prepared) = prepare(s, &keys, case_id, &handwriting, reason, None)?;
            if signer.method != SignMethod::Biometric {
                return Err(AppError::conflict("This signer signs without a handwritten signature"));
            }
            let outcome = SigningOutcome {
                documents: prepared.signed.documents.len(),
                pointer: drawn.pad.pointer.as_str(),
                ink: serde_json::to_value(ink).unwrap_or_default(),
                for_central: false,
            };
            let detail = serde_json::to_value(&outcome).unwrap_or_default();
            let (captures, versions) = (captures(&prepared.signed), versions(&prepared));
            Ok(s.push_kiosk_signature(&kiosk_id, &item_id, case_id, index, detail, &captures, &versions)?)
        })();
        Ok(result)
    })
    .await?
}

/// What the integrator's signer app sent (MasStack's sign calls).
pub enum Supplied {
    /// Opaque `biometric_data` and the signature's picture.
    Biometric { biometric_data: Vec<u8>, signature_image: Vec<u8> },
    /// A simple signature: no biometrics; the block shows the signer's name and the time.
    Simple,
}

/// A signature from the integrator's signer app (MasStack's sign calls), recorded outside the kiosk flow.
pub async fn sign_supplied(
    app: &App,
    case_id: CaseId,
    supplied: Supplied,
    actor: String,
    audit_detail: serde_json::Value,
    location: Option<String>,
) -> Result<(), AppError> {
    let keys = app.signing.keys().await?;
    app.db(move |s| {
        let result = (|| {
            let (handwriting, method) = match &supplied {
                Supplied::Biometric { biometric_data, signature_image } => {
                    (Handwriting::Supplied { biometric_data, signature_image }, SignMethod::Biometric)
                }
                Supplied::Simple => (Handwriting::Simple, SignMethod::Simple),
            };
            let expected = s.signer(case_id)?.map(|signer| signer.method);
            if expected.is_some_and(|m| m != method) {
                return Err(AppError::conflict(format!(
                    "This sign is a {} signature; use its own endpoint",
                    method_other(method)
                )));
            }
            let (_, prepared) = prepare(
                s,
                &keys,
                case_id,
                &handwriting,
                "Signature received through the MasStack API",
                location.as_deref(),
            )?;
            s.record_signature(case_id, &captures(&prepared.signed), &versions(&prepared), &actor, &audit_detail)?;
            Ok(())
        })();
        Ok(result)
    })
    .await?
}

fn method_other(asked: SignMethod) -> &'static str {
    match asked {
        SignMethod::Biometric => "simple",
        SignMethod::Simple => "biometric",
    }
}
