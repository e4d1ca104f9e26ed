//! DANAconnect biometric circuits under `/danaconnect`. The vendor's exact paths are not public; these are
//! Vouch's, listed in docs/signatures.md. A circuit is a case (its id is the `circuitId`) running the flow named by the
//! `channel`, with one signer and the documents to sign. Errors are `{code, message}`, invalid input 400.

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::flow::{FlowRef, StepKind};
use vouch_core::{Case, CaseId, CaseStatus};
use vouch_store::signing::{NewSignProcess, NewSigner, SignMethod, SignProcess};

use crate::adapters::rfc3339;
use crate::error::{ApiError, Code, Danaconnect, Failure};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::native::NativeError;
use crate::state::AppState;

pub const API: &str = "danaconnect";
pub const MAX_DOCUMENTS: usize = 10;
/// All documents of a circuit together, decoded.
pub const MAX_TOTAL_DOCUMENT_BYTES: usize = 40 * 1024 * 1024;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DOCUMENT_NAME_CHARS: usize = 255;

type DanaResult<T> = Result<T, Failure<Danaconnect>>;

#[derive(Debug, Deserialize, ToSchema)]
pub struct CircuitSigner {
    #[schema(example = "María García López")]
    pub name: String,
    #[schema(example = "maria@example.com")]
    pub email: String,
    /// Spanish NIF: DNI, NIE or K/L/M, with its check letter.
    #[schema(example = "12345678Z")]
    pub nif: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CircuitDocument {
    #[schema(example = "contract.pdf")]
    pub name: String,
    /// The decoded length of `content`, in bytes.
    pub size: u64,
    /// The PDF, base64.
    pub content: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StartCircuitRequest {
    /// The integrator's own id for the circuit; unique per client.
    pub id: String,
    pub signer: CircuitSigner,
    pub docs: Vec<CircuitDocument>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StartCircuitResponse {
    pub circuit_id: String,
    /// The kiosk URL where the signer runs the circuit (or its case code at the kiosk).
    pub link: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitDocumentStatus {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub signed: bool,
    /// When the kiosk's retention policy deleted the file (the evidence package then lists it as purged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CircuitStatus {
    pub circuit_id: String,
    pub id: Option<String>,
    pub channel: Option<String>,
    /// pending, in_progress, completed, failed or expired.
    pub status: String,
    pub link: String,
    pub created_at: String,
    pub updated_at: String,
    pub expires_at: String,
    pub signed_at: Option<String>,
    pub completed_at: Option<String>,
    pub documents: Vec<CircuitDocumentStatus>,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_circuit))
        .routes(routes!(circuit_status))
        .routes(routes!(circuit_evidence))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_documents))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_bearer::<Danaconnect>))
        .layer(crate::extract::body_limit(state.config.document_body_limit_bytes))
}

/// DANAconnect's five states; a cancelled case reads as failed.
pub fn circuit_status_name(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Pending => "pending",
        CaseStatus::InProgress => "in_progress",
        CaseStatus::Completed => "completed",
        CaseStatus::Failed | CaseStatus::Cancelled => "failed",
        CaseStatus::Expired => "expired",
    }
}

fn check_email(email: &str) -> Result<String, ApiError> {
    let e = vouch_app::cases::required_text("signer.email", email, 254)?;
    let ok = e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
    }) && !e.contains(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(ApiError::invalid("signer.email is not an e-mail address"))
    }
}

/// Every document decoded and checked: `size` is the decoded length and the bytes are a PDF Vouch can sign.
fn decode_documents(docs: &[CircuitDocument]) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    if docs.is_empty() || docs.len() > MAX_DOCUMENTS {
        return Err(ApiError::invalid(format!("docs must hold 1 to {MAX_DOCUMENTS} documents")));
    }
    let declared: u64 = docs.iter().map(|d| d.size).sum();
    if declared > MAX_TOTAL_DOCUMENT_BYTES as u64 {
        return Err(ApiError::new(
            Code::PayloadTooLarge,
            format!("the documents together must not exceed {} MB", MAX_TOTAL_DOCUMENT_BYTES / (1024 * 1024)),
        ));
    }
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let field = format!("docs[{i}]");
        let name = vouch_app::cases::required_text(&format!("{field}.name"), &d.name, MAX_DOCUMENT_NAME_CHARS)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(d.content.trim())
            .map_err(|_| ApiError::invalid(format!("{field}.content is not base64")))?;
        if bytes.len() as u64 != d.size {
            return Err(ApiError::invalid(format!(
                "{field}.size is {} but the content decodes to {} bytes",
                d.size,
                bytes.len()
            )));
        }
        vouch_signature::pdf::check(&bytes).map_err(|e| ApiError::invalid(format!("{field} ({name}): {e}")))?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Start a circuit: the signer runs the flow named by `channel` at the kiosk, ending with the signature of every
/// document. The flow must have a signature step.
#[utoipa::path(post, path = "/danaconnect/api/biometric/start_circuit/{channel}", tag = "DANAconnect",
    security(("bearer" = [])),
    params(("channel" = String, Path, description = "a flow id configured at the kiosk"),
           ("Vouch-Branch" = Option<String>, Header,
            description = "Vouch's own: at a central service, the branch whose paired kiosks may run the circuit (any kiosk when absent)"),
           ("Vouch-Kiosk" = Option<String>, Header,
            description = "Vouch's own: at a central service, the one paired kiosk (its id) that may run the circuit")),
    request_body = StartCircuitRequest,
    responses((status = 200, body = StartCircuitResponse),
              (status = 400, body = NativeError, description = "not a PDF, size mismatch, missing signer fields, bad NIF check letter, unknown channel"),
              (status = 401, body = NativeError), (status = 409, body = NativeError, description = "the id was used before"),
              (status = 413, body = NativeError)))]
async fn start_circuit(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(channel): Path<String>,
    headers: axum::http::HeaderMap,
    JsonBody(body, ..): JsonBody<StartCircuitRequest, Danaconnect>,
) -> DanaResult<Json<StartCircuitResponse>> {
    let audience = crate::extract::requested_audience(&state, &headers).await?;
    let reference = vouch_app::cases::required_text("id", &body.id, vouch_app::cases::MAX_REFERENCE_LEN)?;
    let name = vouch_app::cases::required_text("signer.name", &body.signer.name, MAX_NAME_CHARS)?;
    let email = check_email(&body.signer.email)?;
    let nif = vouch_core::nif::validate(&body.signer.nif)
        .map_err(|e| ApiError::invalid(format!("signer.nif {:?}: {e}", body.signer.nif.trim())))?;
    let documents = tokio::task::spawn_blocking(move || decode_documents(&body.docs))
        .await
        .map_err(|e| ApiError::internal(format!("document check failed: {e}")))??;

    let flow_id = channel.clone();
    let flow = state
        .db(move |s| s.latest_flow(&flow_id))
        .await
        .map_err(|e| e.with_not_found(&format!("channel {channel:?} is not a flow configured at the kiosk")))
        .map_err(|e| if e.code == Code::NotFound { ApiError::invalid(e.message) } else { e })?;
    if !flow.steps.iter().any(|s| s.kind() == StepKind::Signature) {
        return Err(ApiError::invalid(format!(
            "channel {channel:?} has no signature step; add one to the flow in the kiosk settings"
        ))
        .into());
    }
    let flow_ref = FlowRef { id: flow.id.clone(), version: flow.version };
    let case = vouch_app::cases::signing_case(&state.app, &client.id, API, Some(reference), Some(flow_ref), audience);
    let case_id = case.id;
    let signer = NewSigner { case, name, email: Some(email), nif: Some(nif), method: SignMethod::Biometric };
    let actor = format!("client:{}", client.id);
    let client_id = client.id.clone();
    state
        .db(move |s| {
            let docs: Vec<(String, &[u8])> = documents.iter().map(|(n, b)| (n.clone(), b.as_slice())).collect();
            let id = case_id.to_string();
            let process = NewSignProcess { id: &id, client_id: &client_id, api: API, org_id: None };
            s.create_sign_process(&process, &docs, &[signer], &actor)
        })
        .await
        .map_err(|e| {
            if e.code == Code::Conflict {
                ApiError::new(Code::Conflict, "a circuit with this id already exists")
            } else {
                e
            }
        })?;
    tracing::info!(%case_id, client_id = %client.id, channel = %flow.id, "circuit started");
    Ok(Json(StartCircuitResponse {
        circuit_id: case_id.to_string(),
        link: vouch_app::kiosk::link(&state.app.public_url, case_id),
    }))
}

const NO_SUCH_CIRCUIT: &str = "Circuit not found";

/// The circuit if it exists and belongs to the caller; 404 otherwise, so other clients' ids reveal nothing.
async fn own_circuit(state: &AppState, client_id: &str, id: &str) -> Result<(Case, SignProcess), ApiError> {
    let case_id = CaseId::parse(id).ok_or_else(|| ApiError::not_found(NO_SUCH_CIRCUIT))?;
    let (case, process) = state
        .db(move |s| {
            let case = s.get_case(case_id)?;
            let process = s.sign_process(&case_id.to_string())?;
            Ok((case, process))
        })
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CIRCUIT))?;
    if case.client_id != client_id || case.api != API {
        return Err(ApiError::not_found(NO_SUCH_CIRCUIT));
    }
    Ok((case, process))
}

/// A circuit's state and its documents.
#[utoipa::path(get, path = "/danaconnect/api/biometric/circuits/{circuitId}", tag = "DANAconnect",
    security(("bearer" = [])),
    params(("circuitId" = String, Path)),
    responses((status = 200, body = CircuitStatus), (status = 401, body = NativeError), (status = 404, body = NativeError)))]
async fn circuit_status(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(circuit_id): Path<String>,
) -> DanaResult<Json<CircuitStatus>> {
    let (case, process) = own_circuit(&state, &client.id, &circuit_id).await?;
    let signed_at = process.signers.first().and_then(|s| s.signed_at);
    let completed_at = case.decision.as_ref().filter(|_| case.status == CaseStatus::Completed).map(|d| d.decided_at);
    Ok(Json(CircuitStatus {
        circuit_id: case.id.to_string(),
        id: case.reference.clone(),
        channel: case.flow.as_ref().map(|f| f.id.clone()),
        status: circuit_status_name(case.status).to_string(),
        link: vouch_app::kiosk::link(&state.app.public_url, case.id),
        created_at: rfc3339(case.created_at),
        updated_at: rfc3339(case.updated_at),
        expires_at: rfc3339(case.expires_at),
        signed_at: signed_at.map(rfc3339),
        completed_at: completed_at.map(rfc3339),
        documents: process
            .documents
            .iter()
            .map(|d| CircuitDocumentStatus {
                name: d.name.clone(),
                size: d.size,
                sha256: d.original_sha256.clone(),
                signed: d.current_sha256 != d.original_sha256,
                purged_at: d.purged_at.map(rfc3339),
            })
            .collect(),
    }))
}

/// The evidence package of a completed circuit (ZIP): signed PDFs, the handwritten signature (ISO/IEC 19794-7,
/// PNG, escrowed structure), every capture, `audit.json`, and `manifest.json` with `manifest.json.p7s`, its
/// detached CMS signature by the kiosk key. 404 while the circuit is not completed.
#[utoipa::path(get, path = "/danaconnect/api/biometric/circuits/{circuitId}/evidence", tag = "DANAconnect",
    security(("bearer" = [])),
    params(("circuitId" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 401, body = NativeError),
              (status = 404, body = NativeError, description = "unknown, or not completed")))]
async fn circuit_evidence(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(circuit_id): Path<String>,
) -> DanaResult<Response> {
    let (case, process) = own_circuit(&state, &client.id, &circuit_id).await?;
    if case.status != CaseStatus::Completed {
        return Err(ApiError::not_found(format!(
            "The circuit is {} and has no evidence until it is completed",
            circuit_status_name(case.status)
        ))
        .into());
    }
    let keys = state.app.signing.keys().await?;
    let case_id = case.id;
    let zip = state.db(move |s| Ok(vouch_app::evidence_package::build(s, &keys, &case, &process))).await??;
    tracing::info!(%case_id, bytes = zip.len(), "evidence package served");
    let mut resp = zip.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"circuit-{case_id}-evidence.zip\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The completion webhook body, signed by the outbox like every webhook.
pub fn completion_webhook_body(case: &Case) -> Vec<u8> {
    let completed_at = case.decision.as_ref().map(|d| rfc3339(d.decided_at));
    serde_json::to_vec(&serde_json::json!({
        "event": "circuit.completed",
        "circuitId": case.id.to_string(),
        "id": case.reference,
        "status": circuit_status_name(case.status),
        "completedAt": completed_at,
    }))
    .unwrap_or_default()
}
