//! Vouch's own API under `/vouch/v1`. The routes here are for admins: deciding cases (the same call the
//! clerk override will use), the webhook delivery log and retry, and audit verification. An integrator's
//! token gets 403.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::{CaseId, Outcome, VerifiedIdentity};
use vouch_store::audit::{AuditEvent, VerifyReport};
use vouch_store::outbox::{Attempt, Delivery};

use crate::error::{ApiError, Failure, Native};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::state::AppState;
use vouch_app::cases::{self, DecisionInput};
use vouch_app::webhooks::{self, DeliveryView};

type NativeResult<T> = Result<T, Failure<Native>>;

#[derive(Serialize, ToSchema)]
pub struct NativeError {
    pub code: crate::error::Code,
    pub message: String,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(complete_case))
        .routes(routes!(get_case))
        .routes(routes!(list_deliveries))
        .routes(routes!(retry_delivery))
        .routes(routes!(verify_audit))
        // Layers run outside-in: the bearer check first, then the admin check, both before any body is read.
        .route_layer(axum::middleware::from_fn(admin_only))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Native>))
}

pub(crate) async fn admin_only(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let authed = req.extensions().get::<crate::extract::Authed>().map(|a| a.0.clone());
    match authed.as_ref().map(require_admin) {
        Some(Ok(())) => next.run(req).await,
        Some(Err(e)) => crate::error::render::<Native>(&e),
        None => crate::error::render::<Native>(&ApiError::unauthorized()),
    }
}

fn require_admin(client: &vouch_core::Client) -> Result<(), ApiError> {
    if client.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden("This call needs an admin client; integrator tokens cannot decide cases"))
    }
}

pub(crate) use vouch_app::cases::NO_SUCH_CASE;

pub(crate) fn parse_case_id(id: &str) -> Result<CaseId, ApiError> {
    Ok(cases::parse_case_id(id)?)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentityInput {
    /// Country-prefixed personal or document number; must equal a required `sub` claim.
    pub sub: Option<String>,
    pub given_name: String,
    pub family_name: String,
    /// YYYY-MM-DD
    pub date_of_birth: Option<String>,
    /// ISO 3166-1 alpha-2
    pub country: Option<String>,
    /// YYYY-MM-DD: when the document used stops being valid.
    pub document_expires: Option<String>,
    /// How the identity was established: PASSPORT, ID_CARD, RESIDENCE_PERMIT, CLERK_REVIEW, ...
    pub authentication_type: String,
    /// low, substantial (default) or high.
    pub acr: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteCaseRequest {
    /// approved completes the case; rejected fails it.
    #[schema(value_type = String, example = "approved")]
    pub outcome: Outcome,
    /// Why: mandatory, recorded in the audit log.
    pub reason: String,
    /// The verified person; required for an approval.
    pub identity: Option<IdentityInput>,
}

#[derive(Serialize, ToSchema)]
pub struct CaseView {
    #[schema(value_type = Object)]
    pub case: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub evidence: Vec<vouch_core::Evidence>,
    #[schema(value_type = Vec<Object>)]
    pub audit: Vec<AuditEvent>,
}

impl IdentityInput {
    /// The person as Vouch keeps them: names trimmed, an empty `sub` none, dates read, `acr` substantial unless said.
    pub(crate) fn verified(self) -> Result<VerifiedIdentity, ApiError> {
        Ok(VerifiedIdentity {
            sub: self.sub.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            given_name: self.given_name.trim().to_string(),
            family_name: self.family_name.trim().to_string(),
            date_of_birth: date("date_of_birth", self.date_of_birth)?,
            country: self.country,
            document_expires: date("document_expires", self.document_expires)?,
            authentication_type: self.authentication_type,
            acr: self.acr.unwrap_or_else(|| "substantial".to_string()),
        })
    }
}

/// An optional `YYYY-MM-DD` field of a decision's identity.
pub(crate) fn date(field: &str, value: Option<String>) -> Result<Option<time::Date>, ApiError> {
    Ok(cases::optional_date(field, value)?)
}

async fn case_view(state: &AppState, id: CaseId) -> Result<CaseView, ApiError> {
    state
        .db(move |s| {
            let case = s.get_case(id)?;
            Ok(CaseView {
                case: serde_json::to_value(&case).unwrap_or_default(),
                evidence: s.case_evidence(id)?,
                audit: s.audit_events(&id.to_string())?,
            })
        })
        .await
}

/// Decide a case: approve (completed) or reject (failed), with a mandatory reason. Admin only.
/// An approval stores a proof-of-identity PDF and queues the client's webhook.
#[utoipa::path(post, path = "/vouch/v1/cases/{id}/complete", tag = "Vouch",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body = CompleteCaseRequest,
    responses((status = 200, body = CaseView), (status = 401, body = NativeError), (status = 403, body = NativeError),
              (status = 404, body = NativeError), (status = 409, body = NativeError, description = "the case is already decided or expired"),
              (status = 422, body = NativeError)))]
async fn complete_case(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    JsonBody(body, ..): JsonBody<CompleteCaseRequest, Native>,
) -> NativeResult<Json<CaseView>> {
    let case_id = parse_case_id(&id)?;
    let identity = body.identity.map(IdentityInput::verified).transpose()?;
    let input = DecisionInput { outcome: body.outcome, reason: body.reason, identity };
    cases::decide(&state.app, case_id, input, format!("admin:{}", client.id))
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    Ok(Json(case_view(&state, case_id).await?))
}

/// A case with its evidence list and audit trail. Admin only.
#[utoipa::path(get, path = "/vouch/v1/cases/{id}", tag = "Vouch",
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 403, body = NativeError), (status = 404, body = NativeError)))]
async fn get_case(State(state): State<AppState>, Path(id): Path<String>) -> NativeResult<Json<CaseView>> {
    let case_id = parse_case_id(&id)?;
    Ok(Json(case_view(&state, case_id).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?))
}

#[derive(Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// Only deliveries for this case.
    pub case_id: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    pub limit: Option<u32>,
}

/// The OpenAPI document's picture of `vouch_app::webhooks::DeliveryView` (vouch-app knows no OpenAPI).
#[derive(ToSchema)]
#[schema(as = DeliveryView)]
#[allow(dead_code)]
pub struct DeliveryViewSchema {
    #[schema(value_type = Object)]
    delivery: Delivery,
    #[schema(value_type = Vec<Object>)]
    attempts: Vec<Attempt>,
}

/// The webhook delivery log: each delivery with its status and every attempt. Admin only.
#[utoipa::path(get, path = "/vouch/v1/webhooks/deliveries", tag = "Vouch",
    security(("bearer" = [])),
    params(DeliveryQuery),
    responses((status = 200, body = Vec<DeliveryViewSchema>), (status = 403, body = NativeError)))]
async fn list_deliveries(
    State(state): State<AppState>,
    Query(q): Query<DeliveryQuery>,
) -> NativeResult<Json<Vec<DeliveryView>>> {
    let case_id = q.case_id.as_deref().map(parse_case_id).transpose()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(webhooks::delivery_views(&state.app, case_id, limit).await?))
}

/// Queue a failed delivery again for a fresh round of attempts. Admin only.
#[utoipa::path(post, path = "/vouch/v1/webhooks/deliveries/{id}/retry", tag = "Vouch",
    security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = DeliveryViewSchema), (status = 403, body = NativeError), (status = 404, body = NativeError),
              (status = 409, body = NativeError, description = "only failed deliveries can be retried")))]
async fn retry_delivery(State(state): State<AppState>, Path(id): Path<i64>) -> NativeResult<Json<DeliveryView>> {
    Ok(Json(webhooks::retry(&state.app, id).await?))
}

/// Recompute every audit hash chain and report any break. Admin only.
#[utoipa::path(get, path = "/vouch/v1/audit/verify", tag = "Vouch",
    security(("bearer" = [])),
    responses((status = 200, body = Object, description = "{chains, events, breaks[]}"), (status = 403, body = NativeError)))]
async fn verify_audit(State(state): State<AppState>) -> NativeResult<Json<VerifyReport>> {
    Ok(Json(state.db(|s| s.verify_audit(None)).await?))
}
