//! DIS customers captured at a kiosk, Vouch's own extension: `Vouch-Kiosk-Flow: FLOW` on `POST /customers` (or
//! `POST /customers/{id}`) makes, with the customer, a case that runs that saved flow at a kiosk (at a central
//! service, at its paired kiosks, narrowed by `Vouch-Branch` and `Vouch-Kiosk`). The answer names the case
//! (`Vouch-Case-Id`) and the code the customer types at the kiosk (`Vouch-Case-Code`). Once the case is over, the
//! first call that reads the customer takes the case's captures over as if the integrator had uploaded them: its
//! selfie, its document pages (read again) and its chip data (with the kiosk's inspection); each customer answer
//! carries `Vouch-Case-Status`. Deleting the customer cancels a case still open.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::Json;
use vouch_app::customer_captures::{self, NewCustomerCapture};
use vouch_core::flow::StepKind;
use vouch_core::{CaseId, Client, EvidenceKind};
use vouch_store::dis_sessions::DisSession;
use vouch_store::faces::CustomerRow;
use vouch_store::{Store, StoreError};

use super::faces::{links, CreateCustomerResponse, DisResult, PREFIX};
use crate::error::ApiError;
use crate::state::AppState;

/// The saved flow a kiosk runs to capture the customer.
pub const KIOSK_FLOW_HEADER: &str = "vouch-kiosk-flow";
/// The case that captures the customer.
pub const CASE_ID_HEADER: &str = "vouch-case-id";
/// The code the customer types (or scans) at the kiosk to open that case.
pub const CASE_CODE_HEADER: &str = "vouch-case-code";
/// Where that case stands: pending, in_progress, completed, failed, expired or cancelled.
pub const CASE_STATUS_HEADER: &str = "vouch-case-status";

/// The API a customer's case is presented as.
const API: &str = "dis";

/// The flow `Vouch-Kiosk-Flow` names, if any.
fn kiosk_flow(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(KIOSK_FLOW_HEADER) else { return Ok(None) };
    let flow = value.to_str().map(str::trim).unwrap_or_default();
    if flow.is_empty() || flow.len() > 100 || !flow.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::invalid("Vouch-Kiosk-Flow is the id of a saved flow (GET /vouch/v1/flows)"));
    }
    Ok(Some(flow.to_string()))
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), ApiError> {
    Ok((HeaderName::from_static(name), HeaderValue::from_str(value).map_err(ApiError::internal)?))
}

/// Creates the customer; with `Vouch-Kiosk-Flow`, with the case that captures it at a kiosk.
pub(crate) async fn create(
    state: &AppState,
    client: &Client,
    id: String,
    headers: &HeaderMap,
    session: Option<DisSession>,
) -> DisResult<(HeaderMap, Json<CreateCustomerResponse>)> {
    let made = made_for_kiosk(state, client, &id, headers).await?;
    // A session's front end made it: the session is this customer's from now on, unless the same session made
    // another first (two calls at once), in which case this one is undone.
    if let Some(session) = session {
        if !super::sessions::bind(state, &session, &id).await? {
            let (client_id, cid) = (client.id.clone(), id.clone());
            state.db(move |s| s.delete_customer(&client_id, &cid)).await?;
            return Err(ApiError::forbidden("This session already made its customer").into());
        }
    }
    Ok((made, Json(CreateCustomerResponse { links: links(format!("{PREFIX}/customers/{id}")), id })))
}

/// Makes the customer, with the case that captures it at a kiosk when `Vouch-Kiosk-Flow` asks; that case's
/// headers.
async fn made_for_kiosk(
    state: &AppState,
    client: &Client,
    id: &str,
    headers: &HeaderMap,
) -> Result<HeaderMap, ApiError> {
    let Some(flow_id) = kiosk_flow(headers)? else {
        let (client_id, row_id) = (client.id.clone(), id.to_string());
        state.db(move |s| s.create_customer(&client_id, &row_id)).await.map_err(already_exists)?;
        return Ok(HeaderMap::new());
    };
    let audience = crate::extract::requested_audience(state, headers).await?;
    let new = NewCustomerCapture { customer_id: id.to_string(), api: API, flow_id, audience };
    let case =
        customer_captures::create(&state.app, client, new).await.map_err(ApiError::from).map_err(already_exists)?;
    let code = state.db(move |s| s.case_code(case.id)).await?;
    let mut made = HeaderMap::new();
    for (name, value) in [
        header(CASE_ID_HEADER, &case.id.to_string())?,
        header(CASE_CODE_HEADER, &vouch_store::case_codes::format_code(&code))?,
        header(CASE_STATUS_HEADER, case.status.as_str())?,
    ] {
        made.insert(name, value);
    }
    Ok(made)
}

/// A customer id already taken, as DIS answers it: 422 `ALREADY_EXISTS`.
fn already_exists(e: ApiError) -> ApiError {
    if e.code == crate::error::Code::Conflict {
        ApiError::new(crate::error::Code::Conflict, "A customer with this id already exists")
            .with_vendor_code(crate::error::ALREADY_EXISTS)
    } else {
        e
    }
}

/// `Vouch-Case-Status` for a customer captured at a kiosk; nothing for another.
pub(crate) async fn case_status(state: &AppState, row: &CustomerRow) -> Result<HeaderMap, ApiError> {
    let mut headers = HeaderMap::new();
    if let Some(capture) = &row.kiosk_capture {
        let case_id = case_id(&capture.case_id)?;
        let case = state.db(move |s| s.get_case(case_id)).await?;
        let (name, value) = header(CASE_STATUS_HEADER, case.status.as_str())?;
        headers.insert(name, value);
    }
    Ok(headers)
}

fn case_id(text: &str) -> Result<CaseId, ApiError> {
    CaseId::parse(text).ok_or_else(|| ApiError::internal("a customer names a case id that does not parse"))
}

/// What a kiosk captured in a case: its newest selfie, its document pages in the order taken, and its newest chip
/// data with the inspection its step recorded.
#[derive(Default)]
struct Captures {
    selfie: Option<Vec<u8>>,
    pages: Vec<Vec<u8>>,
    chip: Option<(Vec<u8>, Option<vouch_chip::inspection::Inspection>)>,
}

fn captures_of(store: &Store, case_id: CaseId) -> Result<Captures, StoreError> {
    let mut captures = Captures::default();
    let mut chip = None;
    for evidence in store.case_evidence(case_id)?.into_iter().filter(|e| e.purged_at.is_none()) {
        match evidence.kind {
            EvidenceKind::Selfie => captures.selfie = Some(store.blobs().get(&evidence.sha256)?),
            EvidenceKind::DocumentPage => captures.pages.push(store.blobs().get(&evidence.sha256)?),
            EvidenceKind::ChipData => chip = Some(store.blobs().get(&evidence.sha256)?),
            _ => {}
        }
    }
    if let Some(data) = chip {
        let inspection = store
            .case_steps(case_id)?
            .into_iter()
            .rev()
            .find(|s| s.kind == StepKind::DocumentChip)
            .and_then(|s| serde_json::from_value(s.detail.get("inspection")?.clone()).ok());
        captures.chip = Some((data, inspection));
    }
    Ok(captures)
}

/// The customer, with its kiosk case's captures taken over if that case is over and they were not yet. Taking
/// them is what uploading them would do; two readers at once may both take them, each replacing the same.
pub(crate) async fn with_kiosk_captures(state: &AppState, row: CustomerRow) -> Result<CustomerRow, ApiError> {
    let Some(capture) = row.kiosk_capture.as_ref().filter(|c| !c.taken) else { return Ok(row) };
    let case_id = case_id(&capture.case_id)?;
    let case = state.db(move |s| s.get_case(case_id)).await?;
    if !case.status.is_terminal() {
        return Ok(row);
    }
    let captures = state.db(move |s| captures_of(s, case_id)).await?;
    let (client, id) = (row.client_id.as_str(), row.id.as_str());
    if let Some(selfie) = captures.selfie {
        let stored = super::faces::store_selfie(state, client, id, selfie).await?;
        if let Some(code) = stored.error_code {
            tracing::warn!(customer = %id, %case_id, code, "the kiosk's selfie was not taken over");
        }
    }
    if !captures.pages.is_empty() || captures.chip.is_some() {
        super::pages::ensure_document(state, client, id).await?;
    }
    for page in captures.pages {
        let Json(read) = super::pages::read_page(state, client, id, page, None).await.map_err(|f| f.0)?;
        if let Some(code) = read.error_code {
            tracing::warn!(customer = %id, %case_id, code, "a page the kiosk scanned was not taken over");
        }
    }
    if let Some((data, inspection)) = captures.chip {
        super::document::store_kiosk_chip_data(state, client, id, data, inspection).await?;
    }
    let (client, id) = (row.client_id.clone(), row.id.clone());
    let taken = state
        .db(move |s| {
            s.mark_kiosk_captures_taken(&client, &id)?;
            s.customer(&client, &id)
        })
        .await?;
    tracing::info!(customer = %taken.id, %case_id, status = case.status.as_str(), "a kiosk's captures taken over");
    Ok(taken)
}
