//! Verifik's app logins (`/verifik/v2/app-logins`): as Verifik documents them, nobody creates one; a login
//! validation that completes makes one (`type: faceLiveness`), written in the same transaction as its decision.
//! The e-mail and phone logins need one-time codes Vouch does not send (501).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::Client;
use vouch_store::api_records::NewRecord;

use super::params::{Fields, QueryFields};
use super::records::{self, Kind, Object};
use super::{ok, VerifikResult, API};
use crate::error::ApiError;
use crate::extract::Authed;
use crate::state::AppState;

const KIND: &str = "app_login";
const APP_LOGIN: Kind = Kind { kind: KIND, build: made_by_logins, filters: &["type", "project", "person"] };

fn made_by_logins(_: &Fields, _: Option<&Object>) -> Result<Object, ApiError> {
    Err(ApiError::invalid("an app login is made by a login that passes, not created"))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get_one))
}

/// The app login a completed login validation (`validation`, its answer `data`) makes.
pub fn new_login(client: &Client, validation: &Map<String, Value>, data: &Value) -> NewRecord {
    let field = |name: &str| validation.get(name).cloned().unwrap_or(Value::Null);
    let mut body = Map::new();
    for (name, value) in [
        ("type", json!("faceLiveness")),
        ("project", field("project")),
        ("projectFlow", field("projectFlow")),
        ("identifier", field("identifier")),
        ("biometricValidation", data.get("_id").cloned().unwrap_or(Value::Null)),
        ("person", data.get("person").cloned().unwrap_or(Value::Null)),
        ("status", json!("validated")),
    ] {
        body.insert(name.into(), value);
    }
    NewRecord { api: API.into(), kind: KIND.into(), client_id: client.id.clone(), body }
}

/// Page through the caller's app logins (by `type`, `project` or `person`), oldest first.
#[utoipa::path(get, path = "/verifik/v2/app-logins", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query), ("person" = Option<String>, Query)),
    responses((status = 200, description = "`{docs, pagination}`")))]
async fn list(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    Ok(ok(records::list_value(&state, &client.id, &APP_LOGIN, &fields).await?))
}

#[utoipa::path(get, path = "/verifik/v2/app-logins/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_one(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(records::read_value(&state, &client.id, &APP_LOGIN, id).await?))
}
