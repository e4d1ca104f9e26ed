//! MasStack Documents API v1 (biometric and simple signatures) under `/masstack/v1/orgs/{org_id}`. Only part of the
//! vendor's spec is public; the paths it does not show are Vouch's and listed in docs/signatures.md. A sign process holds
//! the documents; each signer is a case whose id is the `sign_id`. Signer-side calls must carry
//! `x-installation_id` and `x-fingerprint` (and may carry `x-location`), which are recorded in the case's audit
//! trail. Errors are `{"errors": [{code, title, ref, details}]}`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::flow::{FlowRef, StepKind};
use vouch_core::{Case, CaseId, CaseStatus};
use vouch_signature::{MAX_BIOMETRIC_DATA_BYTES, MAX_SIGNATURE_IMAGE_BYTES};
use vouch_store::signing::{NewSignProcess, NewSigner, SignMethod, SignProcess, Signer};

use crate::adapters::rfc3339;
use crate::error::{ApiError, Code, Failure, MasStack};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::state::AppState;
use vouch_app::cases::required_text;
use vouch_app::sign_case::{self, Supplied};

pub const API: &str = "masstack";
pub const MAX_SIGNERS: usize = 10;
pub const MAX_DOCUMENTS: usize = 10;
pub const MAX_TOTAL_DOCUMENT_BYTES: usize = 40 * 1024 * 1024;
const MAX_HEADER_CHARS: usize = 200;

type MasResult<T> = Result<T, Failure<MasStack>>;

/// The error body, for the OpenAPI document.
#[derive(Serialize, ToSchema)]
pub struct MasStackErrors {
    pub errors: Vec<MasStackErrorItem>,
}

#[derive(Serialize, ToSchema)]
pub struct MasStackErrorItem {
    #[schema(example = "MDOC_001")]
    pub code: String,
    #[schema(example = "INVALID_INPUT")]
    pub title: String,
    #[serde(rename = "ref")]
    pub reference: String,
    pub details: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignType {
    Biometric,
    Simple,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignerInput {
    pub name: String,
    pub email: Option<String>,
    /// A national id number, kept as given (shown to nobody but the integrator).
    pub document_number: Option<String>,
    /// biometric (default) or simple.
    #[serde(rename = "type", default)]
    pub sign_type: Option<SignType>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentInput {
    pub name: String,
    /// The PDF, base64.
    pub content: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignProcessRequest {
    pub signers: Vec<SignerInput>,
    pub documents: Vec<DocumentInput>,
    /// Vouch: the kiosk flow a signer runs when they open their `link` at the kiosk (it must have a signature
    /// step). Default: the kiosk's default flow if it has one; otherwise signs are made through this API only.
    pub flow: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignRef {
    pub sign_id: String,
    #[serde(rename = "type")]
    pub sign_type: SignType,
    pub signer_name: String,
    /// The kiosk URL that opens this sign's flow, when the process has one.
    pub link: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignProcessResponse {
    pub id: String,
    pub signs: Vec<SignRef>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignDocumentView {
    pub id: u32,
    pub name: String,
    pub size: u64,
    /// SHA-256 of the version this signer signs (with the earlier signers' signatures).
    pub sha256: String,
    /// The PDF to show the signer, base64.
    pub content: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignerView {
    pub name: String,
    pub email: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GetSignResponse {
    pub id: String,
    pub sign_process_id: String,
    #[serde(rename = "type")]
    pub sign_type: SignType,
    /// pending, previewed, signed, expired or cancelled.
    pub status: String,
    pub signer: SignerView,
    pub documents: Vec<SignDocumentView>,
    pub created_at: String,
    pub previewed_at: Option<String>,
    pub signed_at: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BiometricSignRequest {
    /// The signature's pen data as the signer app captured it (at most 300 KB).
    pub biometric_data: String,
    /// The signature picture, base64 PNG or JPEG (at most 500 KB).
    pub signature_image: String,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_sign_process))
        .routes(routes!(get_sign_process))
        .routes(routes!(get_biometric_sign))
        .routes(routes!(preview_biometric_sign))
        .routes(routes!(sign_biometric))
        .routes(routes!(get_simple_sign))
        .routes(routes!(preview_simple_sign))
        .routes(routes!(sign_simple))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::load::limit_documents))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), require_bearer::<MasStack>))
        .layer(crate::extract::body_limit(state.config.document_body_limit_bytes))
}

/// The signer app's headers: `x-installation_id` and `x-fingerprint` required, `x-location` ("lat,long") optional.
#[derive(Debug, Serialize)]
pub struct SignerDevice {
    pub installation_id: String,
    pub fingerprint: String,
    pub location: Option<String>,
}

fn signer_device(headers: &HeaderMap) -> Result<SignerDevice, ApiError> {
    let get = |name: &str| -> Result<Option<String>, ApiError> {
        match headers.get(name) {
            None => Ok(None),
            Some(v) => {
                let s = v.to_str().map_err(|_| ApiError::invalid(format!("the {name} header must be ASCII text")))?;
                Ok(Some(required_text(&format!("the {name} header"), s, MAX_HEADER_CHARS)?))
            }
        }
    };
    let required = |name: &str| -> Result<String, ApiError> {
        get(name)?.ok_or_else(|| ApiError::invalid(format!("the {name} header is required on signer calls")))
    };
    let installation_id = required("x-installation_id")?;
    let fingerprint = required("x-fingerprint")?;
    let location = get("x-location")?;
    if let Some(loc) = &location {
        let parsed: Option<(f64, f64)> =
            loc.split_once(',').and_then(|(a, b)| Some((a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?)));
        if !parsed.is_some_and(|(lat, long)| (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long)) {
            return Err(ApiError::invalid("the x-location header must be \"latitude,longitude\" in degrees"));
        }
    }
    Ok(SignerDevice { installation_id, fingerprint, location })
}

/// The flow signers run at the kiosk: the one asked for (it must have a signature step), else the default flow
/// when it has one, else none.
async fn signing_flow(state: &AppState, asked: Option<String>) -> Result<Option<FlowRef>, ApiError> {
    let explicit = asked.is_some();
    let flow = state
        .db(move |s| match asked.or(s.default_flow_id()?) {
            Some(id) => s.latest_flow(&id).map(Some),
            None => Ok(None),
        })
        .await
        .map_err(|e| {
            if e.code == Code::NotFound {
                ApiError::invalid("flow is not a flow configured at the kiosk")
            } else {
                e
            }
        })?;
    match flow {
        Some(f) if f.steps.iter().any(|s| s.kind() == StepKind::Signature) => {
            Ok(Some(FlowRef { id: f.id, version: f.version }))
        }
        Some(f) if explicit => Err(ApiError::invalid(format!("flow {:?} has no signature step", f.id))),
        _ => Ok(None),
    }
}

fn decode_documents(docs: &[DocumentInput]) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    if docs.is_empty() || docs.len() > MAX_DOCUMENTS {
        return Err(ApiError::invalid(format!("documents must hold 1 to {MAX_DOCUMENTS} documents")));
    }
    let mut total = 0usize;
    let mut out = Vec::with_capacity(docs.len());
    for (i, d) in docs.iter().enumerate() {
        let name = required_text(&format!("documents[{i}].name"), &d.name, 255)?;
        // Base64 is 4/3 of the bytes: refuse by the text's length before decoding anything too large.
        total = total.saturating_add(d.content.len() / 4 * 3);
        if total > MAX_TOTAL_DOCUMENT_BYTES {
            return Err(ApiError::new(Code::PayloadTooLarge, "the documents together must not exceed 40 MB"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(d.content.trim())
            .map_err(|_| ApiError::invalid(format!("documents[{i}].content is not base64")))?;
        vouch_signature::pdf::check(&bytes).map_err(|e| ApiError::invalid(format!("documents[{i}] ({name}): {e}")))?;
        out.push((name, bytes));
    }
    Ok(out)
}

/// Create a sign process: every signer gets a sign id (and a kiosk link when the process has a signing flow).
#[utoipa::path(post, path = "/masstack/v1/orgs/{org_id}/sign_process", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path),
           ("Vouch-Branch" = Option<String>, Header,
            description = "Vouch's own: at a central service, the branch whose paired kiosks may run the signers' flow (any kiosk when absent)"),
           ("Vouch-Kiosk" = Option<String>, Header,
            description = "Vouch's own: at a central service, the one paired kiosk (its id) that may run the signers' flow")),
    request_body = SignProcessRequest,
    responses((status = 201, body = SignProcessResponse), (status = 400, body = MasStackErrors),
              (status = 401, body = MasStackErrors), (status = 413, body = MasStackErrors)))]
async fn create_sign_process(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(org_id): Path<String>,
    headers: axum::http::HeaderMap,
    JsonBody(body, ..): JsonBody<SignProcessRequest, MasStack>,
) -> MasResult<(StatusCode, Json<SignProcessResponse>)> {
    let audience = crate::extract::requested_audience(&state, &headers).await?;
    let org_id = required_text("org_id", &org_id, 100)?;
    if body.signers.is_empty() || body.signers.len() > MAX_SIGNERS {
        return Err(ApiError::invalid(format!("signers must hold 1 to {MAX_SIGNERS} signers")).into());
    }
    let mut signers = Vec::with_capacity(body.signers.len());
    let flow = signing_flow(&state, body.flow).await?;
    for (i, s) in body.signers.iter().enumerate() {
        let name = required_text(&format!("signers[{i}].name"), &s.name, 200)?;
        let email = s.email.as_deref().map(|e| required_text(&format!("signers[{i}].email"), e, 254)).transpose()?;
        let number = s
            .document_number
            .as_deref()
            .map(|n| required_text(&format!("signers[{i}].document_number"), n, 40))
            .transpose()?;
        let method = match s.sign_type.unwrap_or(SignType::Biometric) {
            SignType::Biometric => SignMethod::Biometric,
            SignType::Simple => SignMethod::Simple,
        };
        let case = vouch_app::cases::signing_case(&state.app, &client.id, API, None, flow.clone(), audience.clone());
        signers.push(NewSigner { case, name, email, nif: number, method });
    }
    let documents = tokio::task::spawn_blocking(move || decode_documents(&body.documents))
        .await
        .map_err(|e| ApiError::internal(format!("document check failed: {e}")))??;
    let process_id = uuid::Uuid::new_v4().to_string();
    let actor = format!("client:{}", client.id);
    let client_id = client.id.clone();
    let process = state
        .db(move |s| {
            let docs: Vec<(String, &[u8])> = documents.iter().map(|(n, b)| (n.clone(), b.as_slice())).collect();
            let process = NewSignProcess { id: &process_id, client_id: &client_id, api: API, org_id: Some(&org_id) };
            s.create_sign_process(&process, &docs, &signers, &actor)
        })
        .await?;
    tracing::info!(process = %process.id, signers = process.signers.len(), "MasStack sign process created");
    let has_flow = flow.is_some();
    let signs = process
        .signers
        .iter()
        .map(|s| SignRef {
            sign_id: s.case_id.to_string(),
            sign_type: sign_type(s),
            signer_name: s.name.clone(),
            link: has_flow.then(|| vouch_app::kiosk::link(&state.app.public_url, s.case_id)),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(SignProcessResponse { id: process.id, signs })))
}

fn sign_type(s: &Signer) -> SignType {
    match s.method {
        SignMethod::Biometric => SignType::Biometric,
        SignMethod::Simple => SignType::Simple,
    }
}

const NO_SUCH_SIGN: &str = "Sign not found";

/// The sign if it exists in this organisation, belongs to the caller and is of `method`; 404 otherwise.
async fn own_sign(
    state: &AppState,
    client_id: &str,
    org_id: &str,
    sign_id: &str,
    method: SignMethod,
) -> Result<(Case, Signer, SignProcess), ApiError> {
    let case_id = CaseId::parse(sign_id).ok_or_else(|| ApiError::not_found(NO_SUCH_SIGN))?;
    let (case, signer, process) = state
        .db(move |s| {
            let case = s.get_case(case_id)?;
            let signer = s.signer(case_id)?.ok_or(vouch_store::StoreError::NotFound)?;
            let process = s.sign_process(&signer.process_id)?;
            Ok((case, signer, process))
        })
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_SIGN))?;
    if case.client_id != client_id
        || case.api != API
        || process.org_id.as_deref() != Some(org_id)
        || signer.method != method
    {
        return Err(ApiError::not_found(NO_SUCH_SIGN));
    }
    Ok((case, signer, process))
}

fn sign_status(case: &Case, signer: &Signer) -> &'static str {
    match (signer.signed_at, case.status) {
        (Some(_), _) => "signed",
        (None, CaseStatus::Expired) => "expired",
        (None, CaseStatus::Failed | CaseStatus::Cancelled) => "cancelled",
        (None, _) if signer.previewed_at.is_some() => "previewed",
        (None, _) => "pending",
    }
}

/// Each document's current version (with every signature so far), as the signer app shows it.
async fn document_views(state: &AppState, process: &SignProcess) -> Result<Vec<SignDocumentView>, ApiError> {
    let mut documents = Vec::with_capacity(process.documents.len());
    for d in &process.documents {
        let bytes = sign_case::current_bytes(&state.app, d).await?;
        documents.push(SignDocumentView {
            id: d.position + 1,
            name: d.name.clone(),
            size: bytes.len() as u64,
            sha256: d.current_sha256.clone(),
            content: base64::engine::general_purpose::STANDARD.encode(bytes),
        });
    }
    Ok(documents)
}

async fn sign_view(
    state: &AppState,
    client_id: &str,
    org_id: &str,
    sign_id: &str,
    method: SignMethod,
) -> Result<GetSignResponse, ApiError> {
    let (case, signer, process) = own_sign(state, client_id, org_id, sign_id, method).await?;
    let documents = document_views(state, &process).await?;
    Ok(GetSignResponse {
        id: case.id.to_string(),
        sign_process_id: process.id.clone(),
        sign_type: sign_type(&signer),
        status: sign_status(&case, &signer).to_string(),
        signer: SignerView { name: signer.name.clone(), email: signer.email.clone() },
        documents,
        created_at: rfc3339(case.created_at),
        previewed_at: signer.previewed_at.map(rfc3339),
        signed_at: signer.signed_at.map(rfc3339),
    })
}

async fn preview(
    state: &AppState,
    client_id: &str,
    org_id: &str,
    sign_id: &str,
    method: SignMethod,
    headers: &HeaderMap,
) -> Result<StatusCode, ApiError> {
    let device = signer_device(headers)?;
    let (case, _, _) = own_sign(state, client_id, org_id, sign_id, method).await?;
    if case.status.is_terminal() {
        return Err(ApiError::new(Code::Conflict, format!("The sign is {} and can no longer be viewed", case.status)));
    }
    let actor = format!("client:{client_id}");
    let detail = serde_json::json!({"via": "masstack", "device": device});
    state.db(move |s| s.mark_previewed(case.id, &actor, &detail)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A biometric sign: the documents to sign, the signer and the status.
#[utoipa::path(get, path = "/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header),
           ("x-location" = Option<String>, Header, description = "lat,long")),
    responses((status = 200, body = GetSignResponse), (status = 400, body = MasStackErrors),
              (status = 401, body = MasStackErrors), (status = 404, body = MasStackErrors)))]
async fn get_biometric_sign(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
) -> MasResult<Json<GetSignResponse>> {
    signer_device(&headers)?;
    Ok(Json(sign_view(&state, &client.id, &org_id, &sign_id, SignMethod::Biometric).await?))
}

/// The signer has seen the documents (recorded with the device headers).
#[utoipa::path(post, path = "/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}/preview", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header),
           ("x-location" = Option<String>, Header, description = "lat,long")),
    responses((status = 204), (status = 400, body = MasStackErrors), (status = 401, body = MasStackErrors),
              (status = 404, body = MasStackErrors), (status = 409, body = MasStackErrors)))]
async fn preview_biometric_sign(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
) -> MasResult<StatusCode> {
    Ok(preview(&state, &client.id, &org_id, &sign_id, SignMethod::Biometric, &headers).await?)
}

/// Sign every document of the process with the signer app's handwritten signature: the picture is stamped, the
/// `biometric_data` embedded, and each PDF PAdES-signed by the kiosk key.
#[utoipa::path(post, path = "/masstack/v1/orgs/{org_id}/biometric_signs/{sign_id}/sign", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header),
           ("x-location" = Option<String>, Header, description = "lat,long")),
    request_body = BiometricSignRequest,
    responses((status = 204), (status = 400, body = MasStackErrors, description = "missing headers, oversize or malformed fields"),
              (status = 401, body = MasStackErrors), (status = 404, body = MasStackErrors),
              (status = 409, body = MasStackErrors, description = "already signed, or expired")))]
async fn sign_biometric(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
    JsonBody(body, ..): JsonBody<BiometricSignRequest, MasStack>,
) -> MasResult<StatusCode> {
    let device = signer_device(&headers)?;
    // Limits on the text as sent, before anything is decoded.
    if body.biometric_data.len() > MAX_BIOMETRIC_DATA_BYTES {
        return Err(ApiError::invalid(format!(
            "biometric_data is {} bytes; the limit is {MAX_BIOMETRIC_DATA_BYTES} (300 KB)",
            body.biometric_data.len()
        ))
        .into());
    }
    if body.signature_image.len() > MAX_SIGNATURE_IMAGE_BYTES {
        return Err(ApiError::invalid(format!(
            "signature_image is {} bytes; the limit is {MAX_SIGNATURE_IMAGE_BYTES} (500 KB)",
            body.signature_image.len()
        ))
        .into());
    }
    if body.biometric_data.trim().is_empty() {
        return Err(ApiError::invalid("biometric_data is required").into());
    }
    let image = base64::engine::general_purpose::STANDARD
        .decode(body.signature_image.trim())
        .map_err(|_| ApiError::invalid("signature_image is not base64"))?;
    if vouch_core::image_header::sniff(&image).is_none() {
        return Err(ApiError::invalid("signature_image is not a PNG or JPEG image").into());
    }
    let (case, _, _) = own_sign(&state, &client.id, &org_id, &sign_id, SignMethod::Biometric).await?;
    let location = device.location.clone();
    let detail = serde_json::json!({"via": "masstack", "method": "biometric", "device": device});
    let supplied = Supplied::Biometric { biometric_data: body.biometric_data.into_bytes(), signature_image: image };
    sign_case::sign_supplied(&state.app, case.id, supplied, format!("client:{}", client.id), detail, location).await?;
    tracing::info!(sign_id = %case.id, "MasStack biometric sign recorded");
    Ok(StatusCode::NO_CONTENT)
}

/// A simple sign (no biometrics): the documents to sign, the signer and the status.
#[utoipa::path(get, path = "/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header)),
    responses((status = 200, body = GetSignResponse), (status = 400, body = MasStackErrors),
              (status = 401, body = MasStackErrors), (status = 404, body = MasStackErrors)))]
async fn get_simple_sign(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
) -> MasResult<Json<GetSignResponse>> {
    signer_device(&headers)?;
    Ok(Json(sign_view(&state, &client.id, &org_id, &sign_id, SignMethod::Simple).await?))
}

#[utoipa::path(post, path = "/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}/preview", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header)),
    responses((status = 204), (status = 400, body = MasStackErrors), (status = 404, body = MasStackErrors)))]
async fn preview_simple_sign(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
) -> MasResult<StatusCode> {
    Ok(preview(&state, &client.id, &org_id, &sign_id, SignMethod::Simple, &headers).await?)
}

/// Sign every document without biometrics: the block shows the signer's name and the time, PAdES-signed.
#[utoipa::path(post, path = "/masstack/v1/orgs/{org_id}/simple_signs/{sign_id}/sign", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("sign_id" = String, Path),
           ("x-installation_id" = String, Header), ("x-fingerprint" = String, Header),
           ("x-location" = Option<String>, Header, description = "lat,long")),
    responses((status = 204), (status = 400, body = MasStackErrors), (status = 404, body = MasStackErrors),
              (status = 409, body = MasStackErrors)))]
async fn sign_simple(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    Path((org_id, sign_id)): Path<(String, String)>,
) -> MasResult<StatusCode> {
    let device = signer_device(&headers)?;
    let (case, _, _) = own_sign(&state, &client.id, &org_id, &sign_id, SignMethod::Simple).await?;
    let location = device.location.clone();
    let detail = serde_json::json!({"via": "masstack", "method": "simple", "device": device});
    sign_case::sign_supplied(&state.app, case.id, Supplied::Simple, format!("client:{}", client.id), detail, location)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignProcessView {
    pub id: String,
    pub created_at: String,
    pub signs: Vec<SignRef>,
    /// Each document's current version (with every signature so far).
    pub documents: Vec<SignDocumentView>,
}

/// A sign process with its signs and current documents (Vouch's path; the public spec does not show one).
#[utoipa::path(get, path = "/masstack/v1/orgs/{org_id}/sign_process/{process_id}", tag = "MasStack",
    security(("bearer" = [])),
    params(("org_id" = String, Path), ("process_id" = String, Path)),
    responses((status = 200, body = SignProcessView), (status = 401, body = MasStackErrors), (status = 404, body = MasStackErrors)))]
async fn get_sign_process(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path((org_id, process_id)): Path<(String, String)>,
) -> MasResult<Json<SignProcessView>> {
    const NOT_FOUND: &str = "Sign process not found";
    let pid = process_id.clone();
    let process = state.db(move |s| s.sign_process(&pid)).await.map_err(|e| e.with_not_found(NOT_FOUND))?;
    if process.client_id != client.id || process.api != API || process.org_id.as_deref() != Some(org_id.as_str()) {
        return Err(ApiError::not_found(NOT_FOUND).into());
    }
    let documents = document_views(&state, &process).await?;
    let mut signs = Vec::with_capacity(process.signers.len());
    for s in &process.signers {
        let case_id = s.case_id;
        let case = state.db(move |st| st.get_case(case_id)).await?;
        signs.push(SignRef {
            sign_id: s.case_id.to_string(),
            sign_type: sign_type(s),
            signer_name: s.name.clone(),
            link: case.flow.is_some().then(|| vouch_app::kiosk::link(&state.app.public_url, s.case_id)),
        });
    }
    Ok(Json(SignProcessView { id: process.id, created_at: rfc3339(process.created_at), signs, documents }))
}
