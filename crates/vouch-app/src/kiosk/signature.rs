//! The signature step: the customer reads each document, agrees, and signs on the pad. The server checks the
//! drawing, signs every document (stamp, escrowed pen data, PAdES) and records the step; a refused drawing
//! records nothing, so the customer can sign again.

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use ts_rs::TS;
use vouch_core::flow::StepKind;
use vouch_signature::{Drawn, Pad, PenSample};

use super::capture::{current_step, StepArgs};
use super::customer::CaseSession;
use super::Caller;
use super::Kiosk;
use crate::sign_case;
use crate::{AppCode, AppError};

#[derive(Serialize, TS)]
pub struct DocumentEntry {
    pub position: u32,
    pub name: String,
    pub size: u64,
    pub pages: usize,
}

/// The documents of the signature step, how the signer signs, and whether they already have.
#[derive(Serialize, TS)]
pub struct SignatureDocuments {
    pub documents: Vec<DocumentEntry>,
    pub method: vouch_store::signing::SignMethod,
    pub signed: bool,
}

/// One document to read, as base64 PDF.
#[derive(Serialize, TS)]
pub struct SignatureDocument {
    pub position: u32,
    pub name: String,
    pub pdf: String,
}

/// What signing answers: what the step recorded (measures, never the pen data) and the case as it now stands.
#[derive(Serialize, TS)]
pub struct SignatureSubmitted {
    pub signed: crate::sign_case::SigningOutcome,
    pub session: CaseSession,
}

/// The documents the current signature step signs (names, sizes, page counts); no personal data.
pub async fn signature_documents(state: &Kiosk, args: StepArgs) -> Result<SignatureDocuments, AppError> {
    let (case_id, _) = current_step(state, &args, StepKind::Signature).await?;
    let (signer, process) = sign_case::signer_and_process(&state.app, case_id)
        .await
        .map_err(|e| e.with_not_found("This case has no documents to sign"))?;
    let mut documents = Vec::with_capacity(process.documents.len());
    for d in &process.documents {
        let bytes = sign_case::current_bytes(&state.app, d).await?;
        let pages = tokio::task::spawn_blocking(move || vouch_signature::pdf::check(&bytes).map(|i| i.pages))
            .await
            .map_err(AppError::internal)?
            .map_err(|e| AppError::invalid(e.to_string()))?;
        documents.push(DocumentEntry { position: d.position, name: d.name.clone(), size: d.size, pages });
    }
    Ok(SignatureDocuments { documents, method: signer.method, signed: signer.signed_at.is_some() })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct DocumentArgs {
    pub case_id: String,
    pub index: u32,
    pub position: u32,
}

/// One document to read, as base64 PDF (the UI renders it with pdf.js). Each viewing is audited.
pub async fn signature_document(
    state: &Kiosk,
    caller: &Caller,
    args: DocumentArgs,
) -> Result<SignatureDocument, AppError> {
    let step = StepArgs { case_id: args.case_id, index: args.index };
    let (case_id, _) = current_step(state, &step, StepKind::Signature).await?;
    let (_, process) = sign_case::signer_and_process(&state.app, case_id).await?;
    let doc = process
        .documents
        .iter()
        .find(|d| d.position == args.position)
        .ok_or_else(|| AppError::not_found("This case has no such document"))?;
    let bytes = sign_case::current_bytes(&state.app, doc).await?;
    let actor = caller.actor();
    let detail = json!({"document": args.position + 1, "sha256": doc.current_sha256});
    state.db(move |s| s.mark_previewed(case_id, &actor, &detail)).await?;
    Ok(SignatureDocument {
        position: doc.position,
        name: doc.name.clone(),
        pdf: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct SignatureSubmitArgs {
    pub case_id: String,
    pub index: u32,
    pub pad: Pad,
    pub samples: Vec<PenSample>,
    /// The customer ticked "I have read the documents and sign them"; without it nothing is signed.
    pub agreed: bool,
}

/// Signs every document with the drawing and records the step. A refused drawing is 422 with the reason.
pub async fn signature_submit(
    state: &Kiosk,
    caller: &Caller,
    args: SignatureSubmitArgs,
) -> Result<SignatureSubmitted, AppError> {
    if !args.agreed {
        return Err(AppError::invalid("Please confirm that you have read the documents before signing"));
    }
    let step = StepArgs { case_id: args.case_id, index: args.index };
    let (case_id, _) = current_step(state, &step, StepKind::Signature).await?;
    let (signer, _) = sign_case::signer_and_process(&state.app, case_id)
        .await
        .map_err(|e| e.with_not_found("This case has no documents to sign"))?;
    if signer.signed_at.is_some() {
        return Err(AppError::new(AppCode::Conflict, "The documents of this case are already signed"));
    }
    let drawn = Drawn { pad: args.pad, samples: args.samples };
    // A case of the central is signed there, with its keys, when the step goes up.
    let outcome = if state.db(move |s| s.central_case(case_id)).await?.is_some() {
        sign_case::sign_for_central(&state.app, case_id, step.index, drawn, caller.actor()).await?
    } else {
        sign_case::sign_at_kiosk(&state.app, case_id, step.index, drawn, caller.actor()).await?
    };
    tracing::info!(%case_id, step = step.index + 1, documents = outcome.documents, pointer = outcome.pointer,
        "documents signed at the kiosk");
    Ok(SignatureSubmitted { signed: outcome, session: crate::steps::case_session(&state.app, case_id).await? })
}
