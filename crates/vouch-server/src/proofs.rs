//! `GET /vouch/v1/proofs/{id}`: the address printed (and in the QR code) on every proof-of-identity PDF. Anyone
//! holding a proof may ask it, so it needs no token and answers nothing about the person: only whether Vouch
//! issued a proof for the request, when, and the SHA-256 of the signed PDF, to compare with the file in hand.

use axum::extract::{Path, State};
use axum::Json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::proof::ProofCheck;

use crate::error::{ApiError, Failure, Native};
use crate::native::NativeError;
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(check_proof))
}

/// The OpenAPI document's picture of `vouch_app::proof::ProofCheck`.
#[derive(ToSchema)]
#[schema(as = ProofCheck)]
#[allow(dead_code)]
pub struct ProofCheckSchema {
    request_id: String,
    /// The SHA-256 (hex) of the proof PDF as issued, signature included.
    proof_sha256: String,
    issued_at: String,
    /// When retention deleted the stored copy; the hash still stands.
    purged_at: Option<String>,
}

/// Whether Vouch issued a proof of identity for the request, and the SHA-256 of the PDF it issued. Public.
#[utoipa::path(get, path = "/vouch/v1/proofs/{id}", tag = "Vouch",
    params(("id" = String, Path, description = "The request's id, as printed on the proof")),
    responses((status = 200, body = ProofCheckSchema), (status = 404, body = NativeError)))]
async fn check_proof(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProofCheck>, Failure<Native>> {
    let case_id = vouch_core::CaseId::parse(&id).ok_or_else(|| ApiError::not_found("No such proof of identity"))?;
    Ok(Json(vouch_app::proof::check(&state.app, case_id).await?))
}
