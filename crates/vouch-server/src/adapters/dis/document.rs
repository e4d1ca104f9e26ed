//! The DIS customer document's chip: the active authentication challenge, the chip data upload (the
//! elementary files as one TLV stream, see `vouch_chip::chip_data`), the raw data and the chip portrait back,
//! document inspection (chip and MRZ), and deleting the document. Pages are [`super::pages`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use rand::RngCore;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_chip::chip_data::MAX_CHIP_DATA;
use vouch_chip::inspection::Inspection;

use super::faces::{content_type, load_customer, png_base64, DisResult, ImageCrop, Links, PREFIX};
use crate::chip::{decide, ChipDecision, ChipRejected};
use crate::error::{ApiError, Code};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateDocumentChipResponse {
    /// Base64 of 8 random bytes: the chip signs them with INTERNAL AUTHENTICATE; send the signature with the
    /// chip data (tag `DF41`). Used once.
    pub challenge: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDocumentChipDataResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Links>,
    /// LDS_PARSE_ERROR: the upload is not chip data, or its DG1 cannot be parsed. Nothing was stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentChipInspection {
    /// AUTHENTICATED, DENIED, INVALID_SOD_FILE, INVALID_COM_FILE or AUTHORITY_CERTIFICATES_NOT_PROVIDED.
    pub data_authentication: String,
    /// AUTHENTICATED, DENIED, NOT_SUPPORTED (no DG15) or NOT_PERFORMED (no signature over an issued challenge).
    pub chip_authentication: String,
    /// ACTIVE_AUTHENTICATION when the chip has an active authentication key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_authentication_type: Option<String>,
    /// BAC or PACE, as the reading client declared it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_control_protocol_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MrzInspection {
    pub valid: bool,
    /// Vouch's addition, where both a page MRZ and chip data exist: the page's MRZ fields that differ from the
    /// chip's (`documentNumber`, `surname`, `givenNames`, `dateOfBirth`, `dateOfExpiry`, `nationality`, `sex`);
    /// empty when they agree. The chip's values are the ones the customer shows first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inconsistent_with_chip: Option<Vec<&'static str>>,
}

/// The fields where the page's MRZ and the chip disagree, both read without their fillers.
fn page_against_chip(page: &vouch_core::mrz::Mrz, chip: &crate::chip::ChipHolder) -> Vec<&'static str> {
    let (page, chip) = (vouch_core::mrz::MrzHolder::of(page, vouch_app::today().year()), &chip.mrz);
    let pairs: [(&'static str, Option<&str>, Option<&str>); 7] = [
        ("documentNumber", Some(&page.document_number), Some(&chip.document_number)),
        ("surname", Some(&page.surname), Some(&chip.surname)),
        ("givenNames", Some(&page.given_names), Some(&chip.given_names)),
        ("dateOfBirth", page.date_of_birth.as_deref(), chip.date_of_birth.as_deref()),
        ("dateOfExpiry", page.date_of_expiry.as_deref(), chip.date_of_expiry.as_deref()),
        ("nationality", Some(&page.nationality), Some(&chip.nationality)),
        ("sex", Some(&page.sex), Some(&chip.sex)),
    ];
    pairs.into_iter().filter(|(_, a, b)| a.map(str::trim) != b.map(str::trim)).map(|(f, ..)| f).collect()
}

/// What Vouch checks of a page's appearance: only whether it lost its colour (a greyscale copy or scan).
/// Screenshots, text manipulation and print copies need a tampering model Vouch does not have: absent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageTamperingInspection {
    pub color_profile_change_detected: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreDisclose {
    pub score: f32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageTamperingInspectionDisclose {
    /// 1 for a page as colourful as a printed document, towards 0 as its colour is lost.
    pub color_profile_change_detected: ScoreDisclose,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInspectDiscloseResponse {
    /// By page type.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub page_tampering: std::collections::BTreeMap<String, PageTamperingInspectionDisclose>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentInspectResponse {
    /// Whether the document expired before today; from the chip's DG1, else the page MRZ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired: Option<bool>,
    /// The page MRZ's check digits and composite (the chip's DG1 where no page was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz_inspection: Option<MrzInspection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_inspection: Option<DocumentChipInspection>,
    /// By page type, for the pages photographed.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub page_tampering: std::collections::BTreeMap<String, PageTamperingInspection>,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(chip_challenge))
        .routes(routes!(put_chip_data, get_chip_data))
        .routes(routes!(chip_portrait))
        .routes(routes!(inspect_document))
        .routes(routes!(disclose_document_inspection))
        .routes(routes!(delete_document))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), super::sessions::bearer_or_session))
        .layer(crate::extract::body_limit(MAX_CHIP_DATA))
}

fn to_dto(i: &Inspection) -> DocumentChipInspection {
    DocumentChipInspection {
        data_authentication: i.data_authentication.as_str().into(),
        chip_authentication: i.chip_authentication.as_str().into(),
        chip_authentication_type: i.chip_authentication_type.map(|t| t.as_str().into()),
        access_control_protocol_type: i.access_control_protocol_type.clone(),
    }
}

/// The customer's chip data decided again (cheap: parsing and a few signature checks) with the challenge
/// as stored; `None` when none was uploaded.
pub(crate) async fn stored_chip(
    state: &AppState,
    client: &str,
    id: &str,
) -> Result<Option<(ChipDecision, Inspection)>, ApiError> {
    let (client, cid) = (client.to_string(), id.to_string());
    let Some(record) =
        state.db(move |s| s.chip_record(&client, &cid)).await.map_err(|e| e.with_not_found("Customer not found"))?
    else {
        return Ok(None);
    };
    let inspection: Inspection = serde_json::from_str(&record.inspection).map_err(ApiError::internal)?;
    let trust = state.kiosk.chip.trust.clone();
    let decision = tokio::task::spawn_blocking(move || decide(&record.data, None, &trust, None))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(format!("stored chip data no longer parses: {e}")))?;
    Ok(Some((decision, inspection)))
}

/// Issues the active authentication challenge for the customer's next chip data.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/document/chip/challenge", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CreateDocumentChipResponse), (status = 404)))]
async fn chip_challenge(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<Json<CreateDocumentChipResponse>> {
    let mut challenge = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    state
        .db(move |s| s.set_chip_challenge(&client.id, &id, &challenge))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(Json(CreateDocumentChipResponse { challenge: base64::engine::general_purpose::STANDARD.encode(challenge) }))
}

/// Stores and checks the chip data: every elementary file as read from the chip, one after the other, plus
/// optionally the active authentication signature (`DF41`) and the access control used (`DF42`, `BAC` or
/// `PACE`). docs/apis.md documents the format.
#[utoipa::path(put, path = "/identity/api/v1/customers/{id}/document/chip/data", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = CreateDocumentChipDataResponse), (status = 400), (status = 404)))]
async fn put_chip_data(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<Json<CreateDocumentChipDataResponse>> {
    if content_type(&req) != "application/octet-stream" {
        return Err(ApiError::new(Code::UnsupportedMediaType, "Content-Type must be application/octet-stream").into());
    }
    let body = Bytes::from_request(req, &state).await.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::PayloadTooLarge, format!("Chip data is at most {MAX_CHIP_DATA} bytes"))
        } else {
            ApiError::new(Code::MalformedBody, "The request body could not be read")
        }
    })?;
    if body.is_empty() {
        return Err(ApiError::new(Code::MalformedBody, "The chip data is empty").into());
    }
    load_customer(&state, &client.id, &id).await?;
    let (cid, client_id) = (id.clone(), client.id.clone());
    let challenge = state.db(move |s| s.chip_challenge(&client_id, &cid)).await?;
    let trust = state.kiosk.chip.trust.clone();
    let data = body.to_vec();
    let decided = tokio::task::spawn_blocking(move || decide(&data, challenge.as_deref(), &trust, None))
        .await
        .map_err(ApiError::internal)?;
    let decision = match decided {
        Ok(d) => d,
        Err(e @ (ChipRejected::Format(_) | ChipRejected::Lds(_))) => {
            tracing::info!(customer = %id, reason = %e, "chip data refused: LDS_PARSE_ERROR");
            return Ok(Json(CreateDocumentChipDataResponse { links: None, error_code: Some("LDS_PARSE_ERROR") }));
        }
    };
    let inspection = serde_json::to_string(&decision.inspection).map_err(ApiError::internal)?;
    tracing::info!(
        customer = %id,
        data_authentication = ?decision.inspection.data_authentication,
        chip_authentication = ?decision.inspection.chip_authentication,
        "chip data stored"
    );
    let (cid, client_id) = (id.clone(), client.id.clone());
    state
        .db(move |s| s.set_chip_data(&client_id, &cid, &body, &inspection))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(Json(CreateDocumentChipDataResponse {
        links: Some(Links { self_link: format!("{PREFIX}/customers/{id}/document/chip/data") }),
        error_code: None,
    }))
}

/// Stores chip data a kiosk read for the customer, with the inspection the kiosk made as it read it (only the kiosk
/// knew its active authentication challenge), else the data's own; false, with nothing stored, when the data no
/// longer parses.
pub(crate) async fn store_kiosk_chip_data(
    state: &AppState,
    client_id: &str,
    id: &str,
    data: Vec<u8>,
    read_at_the_kiosk: Option<Inspection>,
) -> Result<bool, ApiError> {
    let trust = state.kiosk.chip.trust.clone();
    let checked = data.clone();
    let decided =
        tokio::task::spawn_blocking(move || decide(&checked, None, &trust, None)).await.map_err(ApiError::internal)?;
    let Ok(decision) = decided else {
        tracing::warn!(customer = %id, "the chip data a kiosk read does not parse; not taken over");
        return Ok(false);
    };
    let inspection = read_at_the_kiosk.unwrap_or(decision.inspection);
    let inspection = serde_json::to_string(&inspection).map_err(ApiError::internal)?;
    let (client_id, cid) = (client_id.to_string(), id.to_string());
    state
        .db(move |s| s.set_chip_data(&client_id, &cid, &data, &inspection))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(true)
}

/// The chip data as uploaded, base64.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/chip/data", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ImageCrop), (status = 404)))]
async fn get_chip_data(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<Json<ImageCrop>> {
    let record = state
        .db(move |s| s.chip_record(&client.id, &id))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?
        .ok_or_else(|| ApiError::not_found("The customer's document has no chip data"))?;
    Ok(Json(ImageCrop { data: base64::engine::general_purpose::STANDARD.encode(record.data) }))
}

/// The portrait from the chip's DG2 (JPEG or JPEG 2000 on the chip), as a base64 PNG.
#[utoipa::path(get, path = "/identity/api/v1/customers/{id}/document/chip/portrait", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ImageCrop), (status = 404)))]
async fn chip_portrait(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<Json<ImageCrop>> {
    let (decision, _) = stored_chip(&state, &client.id, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("The customer's document has no chip data"))?;
    let portrait =
        decision.portrait().ok_or_else(|| ApiError::not_found("The chip data has no portrait (no DG2)"))?.to_vec();
    let limits = state.faces.limits;
    let data = tokio::task::spawn_blocking(move || {
        let img = vouch_vision::image_io::decode(&portrait, limits)?;
        png_base64(&img)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::new(Code::NotFound, format!("The chip portrait cannot be decoded: {e}")))?;
    Ok(Json(ImageCrop { data }))
}

/// Each photographed page's colour-profile score (`colour::colour_profile_score` of the flattened page).
async fn page_colour_scores(state: &AppState, client: &str, id: &str) -> Result<Vec<(String, f32)>, ApiError> {
    let (client_id, cid) = (client.to_string(), id.to_string());
    let pages = state.db(move |s| s.pages(&client_id, &cid)).await?;
    let mut scores = Vec::with_capacity(pages.len());
    for page in pages {
        let png = super::faces::blob(state, page.image_sha256).await?;
        let limits = state.faces.limits;
        let score = tokio::task::spawn_blocking(move || {
            vouch_vision::decode(&png, limits).map(|img| vouch_vision::document::colour::colour_profile_score(&img))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        scores.push((page.page_type, score));
    }
    Ok(scores)
}

/// Inspects the document: expiry and MRZ validity from the page MRZ (where a page was read) or else the chip's
/// DG1, the chip inspection (data authentication, chip authentication, access control), and per page whether
/// it lost its colour (`pageTampering.colorProfileChangeDetected`: a greyscale copy or scan). Visual-zone
/// consistency, the portrait's age and gender, screenshots, text manipulation and print copies are not checked
/// (no VIZ OCR, a weak age and gender model, no tampering model): those parts are absent.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/document/inspect", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DocumentInspectResponse), (status = 404)))]
async fn inspect_document(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<Json<DocumentInspectResponse>> {
    match document_inspection(&state, &client.id, &id).await? {
        Some(inspection) => Ok(Json(inspection)),
        None => {
            Err(ApiError::not_found("The customer has no document to inspect (upload a page or chip data first)")
                .into())
        }
    }
}

/// The document inspection as `POST /customers/{id}/document/inspect` answers it; `None` without a page or chip.
pub(crate) async fn document_inspection(
    state: &AppState,
    client: &str,
    id: &str,
) -> Result<Option<DocumentInspectResponse>, ApiError> {
    let chip = stored_chip(state, client, id).await?;
    let pages = super::pages::stored_readings(state, client, id).await?;
    let page_mrz = pages.iter().find_map(|(_, reading)| reading.mrz.clone());
    let page_parsed = super::pages::page_mrz(&pages);
    let inconsistent_with_chip = match (&page_parsed, &chip) {
        (Some(page), Some((decision, _))) => Some(page_against_chip(page, &decision.holder)),
        _ => None,
    };
    if chip.is_none() && pages.is_empty() {
        return Ok(None);
    }
    let page_valid = page_mrz.as_deref().map(|m| vouch_core::mrz::parse(m).is_ok_and(|p| p.checks.all_valid()));
    let chip_valid = chip.as_ref().map(|(d, _)| d.holder.mrz_check_digits_valid);
    let expired = chip
        .as_ref()
        .and_then(|(d, _)| d.expired())
        .or_else(|| page_mrz.as_deref().and_then(super::pages::mrz_expired));
    let page_tampering = page_colour_scores(state, client, id)
        .await?
        .into_iter()
        .map(|(page, score)| {
            let changed = score < vouch_vision::document::colour::COLOUR_PROFILE_CHANGED_BELOW;
            (page, PageTamperingInspection { color_profile_change_detected: changed })
        })
        .collect();
    Ok(Some(DocumentInspectResponse {
        expired,
        mrz_inspection: page_valid.or(chip_valid).map(|valid| MrzInspection { valid, inconsistent_with_chip }),
        chip_inspection: chip.as_ref().map(|(_, inspection)| to_dto(inspection)),
        page_tampering,
    }))
}

/// The scores behind the document inspection's page-tampering verdicts.
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/document/inspect/disclose", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = DocumentInspectDiscloseResponse), (status = 404)))]
async fn disclose_document_inspection(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<Json<DocumentInspectDiscloseResponse>> {
    let (client_id, cid) = (client.id.clone(), id.clone());
    let has_document = state
        .db(move |s| s.document_request(&client_id, &cid))
        .await
        .map_err(|e| e.with_not_found("Customer not found"))?;
    let chip = stored_chip(&state, &client.id, &id).await?;
    let scores = page_colour_scores(&state, &client.id, &id).await?;
    if has_document.is_none() && chip.is_none() && scores.is_empty() {
        return Err(
            ApiError::not_found("The customer has no document to inspect (upload a page or chip data first)").into()
        );
    }
    let page_tampering = scores
        .into_iter()
        .map(|(page, score)| {
            (page, PageTamperingInspectionDisclose { color_profile_change_detected: ScoreDisclose { score } })
        })
        .collect();
    Ok(Json(DocumentInspectDiscloseResponse { page_tampering }))
}

/// Deletes the customer's document with its chip data.
#[utoipa::path(delete, path = "/identity/api/v1/customers/{id}/document", tag = "DIS",
    security(("bearer" = [])), params(("id" = String, Path)), responses((status = 204), (status = 404)))]
async fn delete_document(
    State(state): State<AppState>,
    crate::extract::Authed(client): crate::extract::Authed,
    Path(id): Path<String>,
) -> DisResult<StatusCode> {
    state.db(move |s| s.delete_document(&client.id, &id)).await.map_err(|e| e.with_not_found("Customer not found"))?;
    Ok(StatusCode::NO_CONTENT)
}
