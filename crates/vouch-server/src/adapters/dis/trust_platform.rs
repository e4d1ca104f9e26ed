//! DIS Trust Platform: `POST /customers/{id}/store` keeps the customer's onboarding as a signed, immutable record
//! that outlives the customer for the retention period (`vouch_app::trust_records`). This file gathers what DIS
//! shows of the customer (its view, selfie, liveness frames and evaluations, pages, chip data, both inspections)
//! exactly as the matching DIS calls answer it. Only the integrator's bearer token may store: a front end's session
//! token is refused (a record that survives deletion is the back end's decision).

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::trust_records::{Onboarding, RecordFile};
use vouch_core::image_header::{sniff, HeaderFormat};
use vouch_store::trust_records::OnboardingStatus;
use vouch_vision::active::LivenessType;

use super::faces::{blob, json_body, load_customer, DisResult};
use super::liveness::{assertion_of, EvaluateLivenessResponse};
use crate::error::{ApiError, Dis};
use crate::extract::{read_body, require_bearer, Authed};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StoreOnboardingStatus {
    InProgress,
    Finished,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerStoreRequest {
    /// The integrator's id for the customer: letters, digits, `.`, `_`, `-`, at most 64. The customer's id when
    /// absent.
    pub external_id: Option<String>,
    /// FINISHED only once every capture is in: a FINISHED record is the customer's last.
    pub onboarding_status: StoreOnboardingStatus,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(store_customer))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Dis>))
}

/// Stores the customer's onboarding as a record signed by the kiosk key, kept after the customer is deleted until
/// the retention period ends. Admins read records back with `GET /vouch/v1/trust-records` (docs/apis.md).
#[utoipa::path(post, path = "/identity/api/v1/customers/{id}/store", tag = "DIS", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CustomerStoreRequest,
    responses((status = 204), (status = 400, description = "INVALID_REQUEST_BODY"), (status = 401),
              (status = 404, description = "NOT_FOUND"),
              (status = 409, description = "CONFLICT: the customer is already stored as FINISHED")))]
async fn store_customer(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    req: Request,
) -> DisResult<StatusCode> {
    let body: CustomerStoreRequest = json_body(&read_body(req, &state).await?)?;
    let external_id = match body.external_id {
        Some(e) if valid_external_id(&e) => e,
        Some(_) => return Err(ApiError::invalid("externalId must be 1 to 64 letters, digits, '.', '_' or '-'").into()),
        None => id.clone(),
    };
    let status = match body.onboarding_status {
        StoreOnboardingStatus::InProgress => OnboardingStatus::InProgress,
        StoreOnboardingStatus::Finished => OnboardingStatus::Finished,
    };
    let files = onboarding_files(&state, &client.id, &id).await?;
    let onboarding = Onboarding { client_id: client.id.clone(), customer_id: id, external_id, status, files };
    vouch_app::trust_records::store(&state.app, onboarding).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DIS's pattern for `externalId`: `^[a-zA-Z\d._-]{1,64}$`.
fn valid_external_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn json_file(folder: &'static str, name: &str, value: &impl Serialize) -> Result<RecordFile, ApiError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(ApiError::internal)?;
    Ok(RecordFile { folder, name: name.into(), media_type: "application/json", bytes })
}

fn image_file(folder: &'static str, name: String, bytes: Vec<u8>) -> RecordFile {
    let media_type = match sniff(&bytes) {
        Some(HeaderFormat::Png) => "image/png",
        Some(HeaderFormat::Jpeg) => "image/jpeg",
        None => "application/octet-stream",
    };
    RecordFile { folder, name, media_type, bytes }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TypedEvaluation {
    liveness_type: LivenessType,
    #[serde(flatten)]
    evaluation: EvaluateLivenessResponse,
}

/// Everything DIS holds of the customer, as its own calls would answer. Not found for an unknown customer.
async fn onboarding_files(state: &AppState, client: &str, id: &str) -> Result<Vec<RecordFile>, ApiError> {
    let row = load_customer(state, client, id).await?;
    let (_, customer) = super::faces::customer_view(state, client, id).await?;
    let mut files = vec![json_file("customer", "customer.json", &customer)?];
    if let Some(face_id) = row.selfie_face_id {
        let c = client.to_string();
        let face = state.db(move |s| s.face(&c, &face_id)).await?;
        files.push(image_file("customer", "selfie".into(), blob(state, face.image_sha256).await?));
    }

    let (c, cid) = (client.to_string(), id.to_string());
    let frames = state.db(move |s| s.liveness_frames(&c, &cid)).await.unwrap_or_default();
    let mut kinds = Vec::new();
    for (n, frame) in frames.into_iter().enumerate() {
        let assertion = assertion_of(&frame)?;
        if !kinds.contains(&assertion.liveness_type()) {
            kinds.push(assertion.liveness_type());
        }
        let name = format!("frame-{:03}-{}", n + 1, frame.assertion.to_ascii_lowercase());
        files.push(image_file("liveness", name, blob(state, frame.image_sha256).await?));
    }
    let mut evaluations = Vec::with_capacity(kinds.len());
    for kind in kinds {
        let evaluation = super::liveness::evaluation(state, client, id, kind).await?;
        evaluations.push(TypedEvaluation { liveness_type: kind, evaluation });
    }
    if !evaluations.is_empty() {
        files.push(json_file("liveness", "evaluations.json", &evaluations)?);
    }

    let (c, cid) = (client.to_string(), id.to_string());
    let pages = state.db(move |s| s.pages(&c, &cid)).await.unwrap_or_default();
    for page in pages {
        files.push(image_file("document", format!("page-{}", page.page_type), blob(state, page.image_sha256).await?));
    }
    let (c, cid) = (client.to_string(), id.to_string());
    if let Some(chip) = state.db(move |s| s.chip_record(&c, &cid)).await? {
        files.push(RecordFile {
            folder: "document",
            name: "chip-data".into(),
            media_type: "application/octet-stream",
            bytes: chip.data,
        });
    }
    if let Some(inspection) = super::document::document_inspection(state, client, id).await? {
        files.push(json_file("document", "inspection.json", &inspection)?);
    }
    let inspection = super::inspect::customer_inspection(state, client, id).await?;
    files.push(json_file("customer", "inspection.json", &inspection)?);
    Ok(files)
}
