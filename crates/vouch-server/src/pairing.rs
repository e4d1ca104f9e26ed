//! Pairing kiosks with this central service: an admin makes a one-time code for a kiosk (its name and branch);
//! the kiosk exchanges the code for client credentials of its own, of the scope `kiosk`, whose tokens reach the
//! sync API and nothing else (docs/central.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{Failure, Native};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::native::NativeError;
use crate::state::AppState;

type NativeResult<T> = Result<T, Failure<Native>>;

/// The admin's routes: making codes and listing the kiosks.
pub fn admin_routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_pairing_code))
        .routes(routes!(list_kiosks))
        .routes(routes!(set_walk_ins, stop_walk_ins))
        .route_layer(axum::middleware::from_fn(crate::native::admin_only))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Native>))
}

/// The kiosk's route: the code is its credential.
pub fn pair_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(pair))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairingCodeRequest {
    /// The kiosk's name, as the admin will see it in the list of kiosks (1 to 100 characters).
    pub name: String,
    /// The branch the kiosk serves, if any.
    pub branch: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct PairingCodeView {
    /// `ABCD-EFGH-JKLM`: shown this once; the admin types it in the kiosk's settings.
    pub code: String,
    /// RFC 3339; the code pairs nothing after it.
    pub expires_at: String,
    pub name: String,
    pub branch: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct KioskView {
    /// The id of the kiosk's client.
    pub id: String,
    pub name: String,
    pub branch: Option<String>,
    pub paired_at: String,
    pub last_seen_at: Option<String>,
    /// Where its walk-ins go, if it takes any.
    #[schema(value_type = Option<WalkInsRequest>)]
    pub walk_ins: Option<vouch_store::walk_ins::WalkIns>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WalkInsRequest {
    /// The integrator client whose eeID identification requests the kiosk's walk-ins become: its webhook is told of
    /// them and its API reads them.
    pub client_id: String,
    /// The flow they run (its newest version; one a kiosk can run).
    pub flow_id: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    /// The pairing code the central's admin made, in any case, with or without its dashes.
    pub code: String,
}

#[derive(Serialize, ToSchema)]
pub struct PairedView {
    pub kiosk_id: String,
    /// The kiosk's client credentials: it takes tokens for the sync API with them at `token_url`. The secret is
    /// shown this once.
    pub client_id: String,
    pub client_secret: String,
    pub token_url: String,
    pub name: String,
    pub branch: Option<String>,
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn kiosk_view(k: vouch_store::kiosks::Kiosk) -> KioskView {
    KioskView {
        id: k.id,
        name: k.name,
        branch: k.branch,
        paired_at: rfc3339(k.paired_at),
        last_seen_at: k.last_seen_at.map(rfc3339),
        walk_ins: k.walk_ins,
    }
}

/// Make a one-time code with which a kiosk pairs with this central service, within 24 hours. Admin only.
#[utoipa::path(post, path = "/vouch/v1/kiosks/pairing-codes", tag = "Vouch",
    security(("bearer" = [])),
    request_body = PairingCodeRequest,
    responses((status = 201, body = PairingCodeView), (status = 401, body = NativeError),
              (status = 403, body = NativeError), (status = 422, body = NativeError)))]
async fn create_pairing_code(
    State(state): State<AppState>,
    Authed(client): Authed,
    JsonBody(body, ..): JsonBody<PairingCodeRequest, Native>,
) -> NativeResult<(StatusCode, Json<PairingCodeView>)> {
    let actor = format!("admin:{}", client.id);
    let (name, branch) = (body.name.trim().to_string(), body.branch.map(|b| b.trim().to_string()));
    let (n, b) = (name.clone(), branch.clone());
    let made = state.db(move |s| s.create_pairing_code(&n, b.as_deref(), &actor)).await?;
    let view = PairingCodeView { code: made.code, expires_at: rfc3339(made.expires_at), name, branch };
    Ok((StatusCode::CREATED, Json(view)))
}

/// The kiosks paired with this central service, oldest first. Admin only.
#[utoipa::path(get, path = "/vouch/v1/kiosks", tag = "Vouch",
    security(("bearer" = [])),
    responses((status = 200, body = Vec<KioskView>), (status = 401, body = NativeError), (status = 403, body = NativeError)))]
async fn list_kiosks(State(state): State<AppState>) -> NativeResult<Json<Vec<KioskView>>> {
    let kiosks = state.db(|s| s.kiosks()).await?;
    Ok(Json(kiosks.into_iter().map(kiosk_view).collect()))
}

/// Let a kiosk take walk-ins: the cases its clerks start for people who came without one become the client's eeID
/// identification requests, on the flow given. Admin only.
#[utoipa::path(put, path = "/vouch/v1/kiosks/{id}/walk-ins", tag = "Vouch",
    security(("bearer" = [])), params(("id" = String, Path, description = "the kiosk's id")),
    request_body = WalkInsRequest,
    responses((status = 200, body = KioskView), (status = 401, body = NativeError), (status = 403, body = NativeError),
              (status = 404, body = NativeError), (status = 422, body = NativeError)))]
async fn set_walk_ins(
    State(state): State<AppState>,
    Authed(client): Authed,
    axum::extract::Path(id): axum::extract::Path<String>,
    JsonBody(body, ..): JsonBody<WalkInsRequest, Native>,
) -> NativeResult<Json<KioskView>> {
    let walk_ins = vouch_store::walk_ins::WalkIns { client_id: body.client_id, flow_id: body.flow_id };
    kiosk_walk_ins(&state, format!("admin:{}", client.id), id, Some(walk_ins)).await
}

/// Stop a kiosk's walk-ins (those started already still go up). Admin only.
#[utoipa::path(delete, path = "/vouch/v1/kiosks/{id}/walk-ins", tag = "Vouch",
    security(("bearer" = [])), params(("id" = String, Path, description = "the kiosk's id")),
    responses((status = 200, body = KioskView), (status = 401, body = NativeError), (status = 403, body = NativeError),
              (status = 404, body = NativeError)))]
async fn stop_walk_ins(
    State(state): State<AppState>,
    Authed(client): Authed,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> NativeResult<Json<KioskView>> {
    kiosk_walk_ins(&state, format!("admin:{}", client.id), id, None).await
}

async fn kiosk_walk_ins(
    state: &AppState,
    actor: String,
    id: String,
    walk_ins: Option<vouch_store::walk_ins::WalkIns>,
) -> NativeResult<Json<KioskView>> {
    let kiosk = state
        .db(move |s| {
            s.set_kiosk_walk_ins(&id, walk_ins.as_ref(), &actor)?;
            s.kiosk(&id)?.ok_or(vouch_store::StoreError::NotFound)
        })
        .await
        .map_err(|e| e.with_not_found("There is no kiosk with this id"))?;
    Ok(Json(kiosk_view(kiosk)))
}

/// Pair a kiosk: exchange a pairing code, once and before it expires, for the kiosk's own client credentials.
#[utoipa::path(post, path = "/vouch/v1/kiosks/pair", tag = "Vouch",
    request_body = PairRequest,
    responses((status = 200, body = PairedView), (status = 404, body = NativeError, description = "the code is unknown, used or expired"),
              (status = 422, body = NativeError)))]
async fn pair(
    State(state): State<AppState>,
    JsonBody(body, ..): JsonBody<PairRequest, Native>,
) -> NativeResult<Json<PairedView>> {
    let paired = state.db(move |s| s.pair_kiosk(&body.code)).await.map_err(|e| {
        e.with_not_found("This pairing code is unknown, used or expired: ask the central service's admin for a new one")
    })?;
    tracing::info!(kiosk = %paired.kiosk.id, "a kiosk paired");
    let credentials = paired.credentials;
    Ok(Json(PairedView {
        kiosk_id: paired.kiosk.id,
        client_id: credentials.client.id,
        client_secret: credentials.secret,
        token_url: "/oauth/token".into(),
        name: paired.kiosk.name,
        branch: paired.kiosk.branch,
    }))
}
