//! Flows and case steps on Vouch's own API (admin). Flows are versioned: a PUT saves the next version and
//! cases already running keep the version they pinned.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::flow::{self, FlowVersion, Next, Step, StepKind, StepOutcome, StepRecord};
use vouch_core::CaseId;
use vouch_store::flows::NewStep;

use crate::error::{ApiError, Failure, Native};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::native::{parse_case_id, NativeError, NO_SUCH_CASE};
use crate::state::AppState;

type NativeResult<T> = Result<T, Failure<Native>>;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_flows, create_flow))
        .routes(routes!(get_flow, update_flow))
        .routes(routes!(get_flow_version))
        .routes(routes!(set_default_flow))
        .routes(routes!(case_flow))
        .routes(routes!(record_step))
        .route_layer(axum::middleware::from_fn(crate::native::admin_only))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Native>))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewFlow {
    /// Slug: lower-case letters, digits, '-' and '_'.
    pub id: String,
    pub name: String,
    /// Ordered steps, each `{"kind": ..., settings...}`; the last is `{"kind": "result"}`.
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowEdit {
    pub name: String,
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<Step>,
}

#[derive(Serialize, ToSchema)]
pub struct FlowView {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub flow: FlowVersion,
    pub is_default: bool,
}

async fn view(state: &AppState, flow: FlowVersion) -> Result<FlowView, ApiError> {
    let default = state.db(|s| s.default_flow_id()).await?;
    Ok(FlowView { is_default: default.as_deref() == Some(flow.id.as_str()), flow })
}

fn flow_not_found(e: ApiError) -> ApiError {
    e.with_not_found("No flow has this id (or version)")
}

/// All flows, newest version of each.
#[utoipa::path(get, path = "/vouch/v1/flows", tag = "Vouch", security(("bearer" = [])),
    responses((status = 200, body = Vec<FlowView>), (status = 403, body = NativeError)))]
async fn list_flows(State(state): State<AppState>) -> NativeResult<Json<Vec<FlowView>>> {
    let flows = state.db(|s| s.list_flows()).await?;
    let mut out = Vec::with_capacity(flows.len());
    for f in flows {
        out.push(view(&state, f).await?);
    }
    Ok(Json(out))
}

/// Create a flow (version 1). Steps whose capability is not built yet are refused with 422.
#[utoipa::path(post, path = "/vouch/v1/flows", tag = "Vouch", security(("bearer" = [])), request_body = NewFlow,
    responses((status = 201, body = FlowView), (status = 409, body = NativeError), (status = 422, body = NativeError)))]
async fn create_flow(
    State(state): State<AppState>,
    Authed(client): Authed,
    JsonBody(body, ..): JsonBody<NewFlow, Native>,
) -> NativeResult<(StatusCode, Json<FlowView>)> {
    let actor = format!("admin:{}", client.id);
    let saved = state.db(move |s| s.save_flow(&body.id, &body.name, &body.steps, &actor, true)).await?;
    Ok((StatusCode::CREATED, Json(view(&state, saved).await?)))
}

/// The newest version of a flow.
#[utoipa::path(get, path = "/vouch/v1/flows/{id}", tag = "Vouch", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = FlowView), (status = 404, body = NativeError)))]
async fn get_flow(State(state): State<AppState>, Path(id): Path<String>) -> NativeResult<Json<FlowView>> {
    let flow = state.db(move |s| s.latest_flow(&id)).await.map_err(flow_not_found)?;
    Ok(Json(view(&state, flow).await?))
}

/// Edit a flow: saves the next version. Running cases keep the version they started with.
#[utoipa::path(put, path = "/vouch/v1/flows/{id}", tag = "Vouch", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = FlowEdit,
    responses((status = 200, body = FlowView), (status = 404, body = NativeError), (status = 422, body = NativeError)))]
async fn update_flow(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    JsonBody(body, ..): JsonBody<FlowEdit, Native>,
) -> NativeResult<Json<FlowView>> {
    let actor = format!("admin:{}", client.id);
    let saved =
        state.db(move |s| s.save_flow(&id, &body.name, &body.steps, &actor, false)).await.map_err(flow_not_found)?;
    Ok(Json(view(&state, saved).await?))
}

/// One saved version of a flow.
#[utoipa::path(get, path = "/vouch/v1/flows/{id}/versions/{version}", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path), ("version" = u32, Path)),
    responses((status = 200, body = FlowView), (status = 404, body = NativeError)))]
async fn get_flow_version(
    State(state): State<AppState>,
    Path((id, version)): Path<(String, u32)>,
) -> NativeResult<Json<FlowView>> {
    let flow = state.db(move |s| s.flow_version(&id, version)).await.map_err(flow_not_found)?;
    Ok(Json(view(&state, flow).await?))
}

/// Make this flow the one new cases run.
#[utoipa::path(post, path = "/vouch/v1/flows/{id}/default", tag = "Vouch", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = FlowView), (status = 404, body = NativeError)))]
async fn set_default_flow(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> NativeResult<Json<FlowView>> {
    let actor = format!("admin:{}", client.id);
    let flow = state
        .db(move |s| {
            s.set_default_flow(&id, &actor)?;
            s.latest_flow(&id)
        })
        .await
        .map_err(flow_not_found)?;
    Ok(Json(view(&state, flow).await?))
}

#[derive(Serialize, ToSchema)]
pub struct CaseFlow {
    #[schema(value_type = Object)]
    pub flow: FlowVersion,
    #[schema(value_type = Vec<Object>)]
    pub steps: Vec<StepRecord>,
    /// `{"state": "step", "index", "step"}` or `{"state": "awaiting_decision", "all_passed"}`.
    #[schema(value_type = Object)]
    pub next: Next,
}

async fn case_flow_view(state: &AppState, case_id: CaseId) -> Result<CaseFlow, ApiError> {
    let (flow, steps) = state
        .db(move |s| {
            let case = s.get_case(case_id)?;
            let flow_ref =
                case.flow.ok_or_else(|| vouch_store::StoreError::Conflict("this case has no flow".into()))?;
            Ok((s.flow_version(&flow_ref.id, flow_ref.version)?, s.case_steps(case_id)?))
        })
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    let next = flow::next_step(&flow.steps, &steps);
    Ok(CaseFlow { flow, steps, next })
}

/// Where a case is in its flow: the pinned flow version, the recorded steps, and what comes next.
#[utoipa::path(get, path = "/vouch/v1/cases/{id}/flow", tag = "Vouch", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = CaseFlow), (status = 404, body = NativeError), (status = 409, body = NativeError)))]
async fn case_flow(State(state): State<AppState>, Path(id): Path<String>) -> NativeResult<Json<CaseFlow>> {
    Ok(Json(case_flow_view(&state, parse_case_id(&id)?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// Must be the kind of the step at this index.
    #[schema(value_type = String, example = "consent")]
    pub kind: StepKind,
    #[schema(value_type = String, example = "passed")]
    pub outcome: StepOutcome,
    /// What the step observed, e.g. `{"language": "et"}` for consent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// Record the outcome of the step the engine expects now (0-based index). Out-of-order or repeated steps are 409.
#[utoipa::path(post, path = "/vouch/v1/cases/{id}/steps/{index}", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path), ("index" = u32, Path)), request_body = StepInput,
    responses((status = 200, body = CaseFlow), (status = 404, body = NativeError), (status = 409, body = NativeError)))]
async fn record_step(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path((id, index)): Path<(String, u32)>,
    JsonBody(body, ..): JsonBody<StepInput, Native>,
) -> NativeResult<Json<CaseFlow>> {
    let case_id = parse_case_id(&id)?;
    let step = NewStep { case_id, index, kind: body.kind, outcome: body.outcome, detail: body.detail };
    vouch_app::steps::record_reported(&state.app, format!("admin:{}", client.id), step).await?;
    Ok(Json(case_flow_view(&state, case_id).await?))
}
