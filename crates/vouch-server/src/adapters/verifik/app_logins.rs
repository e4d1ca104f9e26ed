//! Verifik's app logins (`/verifik/v2/app-logins`): as Verifik documents them, nobody creates one; a login
//! validation that completes makes one (`type: faceLiveness`), written in the same transaction as its decision.
//! A login validation answered by `validate` carries the app login's token, with which the person opens their
//! next login validation (`POST /v2/biometric-validations/app-login`). An e-mail or phone `login` validation whose
//! code is right makes one too (`type: email` or `phone`, [`super::contact_validations`]). `POST
//! /v2/auth/project-login` turns an app login's token into the person's session ([`project_login`]).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::Client;
use vouch_store::api_records::{ApiRecord, NewRecord, RecordKind, RecordQuery};
use vouch_store::jwt::JwtCheck;

use super::params::{Fields, QueryFields};
use super::records::{self, Kind, Object};
use super::validations::{self, Asked};
use super::{ok, VerifikResult, API};
use crate::error::{ApiError, Code, Failure, Verifik};
use crate::extract::{bearer_token, Authed};
use crate::state::AppState;

const KIND: &str = "app_login";
const APP_LOGIN: Kind = Kind { kind: KIND, build: made_by_logins, filters: &["type", "project", "person"] };

fn made_by_logins(_: &Fields, _: Option<&Object>) -> Result<Object, ApiError> {
    Err(ApiError::invalid("an app login is made by a login that passes, not created"))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list)).routes(routes!(get_one))
}

/// The person's own routes, authorised by an app login's token.
pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login_validation)).routes(routes!(project_login))
}

/// An app login's token: the person's own (audience `verifik-app-login`), for their next validations.
pub const APP_LOGIN_AUDIENCE: &str = "verifik-app-login";
const TOKEN_TTL_SECS: u32 = 30 * 24 * 3600;

fn of(client: &str) -> RecordKind<'_> {
    RecordKind { api: API, kind: KIND, client_id: client }
}

/// The token of the app login the validation `case_id` made, if it made one.
pub async fn token_for(
    state: &AppState,
    client: &str,
    case_id: vouch_core::CaseId,
) -> Result<Option<String>, ApiError> {
    let found = made_by(state, client, "biometricValidation", &case_id.to_string()).await?;
    let Some(login) = found else { return Ok(None) };
    Ok(Some(token_of(state, client, &login.id).await?))
}

/// The app login whose `field` names validation `id`, if any.
async fn made_by(state: &AppState, client: &str, field: &str, id: &str) -> Result<Option<ApiRecord>, ApiError> {
    let query = RecordQuery { field: Some((field.into(), id.into())), limit: 1, ..RecordQuery::default() };
    let owner = client.to_string();
    let (found, _) = state.db(move |s| s.api_records(of(&owner), &query)).await?;
    Ok(found.into_iter().next())
}

async fn token_of(state: &AppState, client: &str, login: &str) -> Result<String, ApiError> {
    let (owner, login) = (client.to_string(), login.to_string());
    let token = state.db(move |s| s.issue_jwt(&owner, TOKEN_TTL_SECS, APP_LOGIN_AUDIENCE, Some(&login))).await?;
    Ok(token.token)
}

/// The app login an e-mail or phone validation (`field` its kind, `id` it) made, as answered, and its token.
pub(super) async fn login_by(
    state: &AppState,
    client: &Client,
    field: &str,
    id: &str,
) -> Result<(Value, String), ApiError> {
    let login = made_by(state, &client.id, field, id)
        .await?
        .ok_or_else(|| ApiError::internal("a validated login made no app login"))?;
    let token = token_of(state, &client.id, &login.id).await?;
    Ok((records::answer(login, &client.id), token))
}

/// The app login a validated e-mail or phone `login` (`validation`) makes: `type` email or phone, `field`
/// (`emailValidation` or `phoneValidation`) naming the validation.
pub(super) fn new_contact_login(client: &Client, validation: &ApiRecord, login_type: &str, field: &str) -> NewRecord {
    let text = |name: &str| validation.body.get(name).cloned().unwrap_or(Value::Null);
    let identifier = validation.body.get("email").or_else(|| validation.body.get("phone")).cloned();
    let mut body = Map::new();
    for (name, value) in [
        ("type", json!(login_type)),
        ("project", text("project")),
        ("projectFlow", text("projectFlow")),
        ("identifier", identifier.unwrap_or(Value::Null)),
        (field, json!(validation.id)),
        ("status", json!("validated")),
    ] {
        if !value.is_null() {
            body.insert(name.into(), value);
        }
    }
    NewRecord { api: API.into(), kind: KIND.into(), client_id: client.id.clone(), body }
}

/// A new login validation for the person of an app login (its token is the bearer): the same project flow,
/// the same person, verified again at the kiosk or by `validate`.
#[utoipa::path(post, path = "/verifik/v2/biometric-validations/app-login", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "expiresAt, redirectUrl, webhookUrl, language (all optional)"),
    responses((status = 200, description = "`{livenessSession, biometricValidation, token}` as create answers"),
              (status = 403, description = "token_not_right: not an app login's token"),
              (status = 404, description = "Project_not_found_or_featured_disabled")))]
async fn login_validation(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    login_inner(state, headers, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn login_inner(state: AppState, headers: HeaderMap, fields: Fields) -> VerifikResult<Response> {
    let token = bearer_token(&headers).map(str::to_owned).ok_or_else(super::unauthorized)?;
    let (client, id) = match state.db(move |s| app_login_token(s, &token)).await? {
        Ok(found) => found,
        Err(refused) => return Err(refused)?,
    };
    let owner = client.id.clone();
    let login = state.db(move |s| s.api_record(of(&owner), &id)).await.map_err(|_| not_found())?;
    let text = |name: &str| login.body.get(name).and_then(Value::as_str).map(str::to_string);
    let mut record = Map::new();
    for (name, value) in [
        ("project", text("project")),
        ("projectFlow", text("projectFlow")),
        ("identifier", text("identifier")),
        ("type", Some("login".into())),
        ("appLogin", Some(login.id.clone())),
        ("language", fields.one_of("language", &["en", "es"])?.or(Some("en".into()))),
        ("redirectUrl", fields.url("redirectUrl")?),
        ("webhookUrl", fields.url("webhookUrl")?),
    ] {
        if let Some(value) = value {
            record.insert(name.into(), json!(value));
        }
    }
    let expires_at = fields.datetime("expiresAt")?;
    let asked = Asked {
        project: text("project").unwrap_or_default(),
        project_flow: text("projectFlow").unwrap_or_default(),
        kind: "login".into(),
        identifier: text("identifier").unwrap_or_default(),
        person: text("person"),
        name: None,
        expires_at,
        record,
        audience: vouch_app::cases::Audience::default(),
    };
    let created = validations::created(&state, &client, asked).await.map_err(|e| {
        if e.vendor_code == Some("PreconditionFailed") && e.message.starts_with("INVALID_PROJECT") {
            not_found()
        } else {
            e
        }
    })?;
    Ok(ok(created))
}

/// The person's session in the integrator's app, from the token a login answered (an e-mail, phone or biometric
/// login's app login token): a fresh token of the same app login (30 days), and the person's app registration in
/// the project, if they registered. The official client calls this after an e-mail login's `validate`.
#[utoipa::path(post, path = "/verifik/v2/auth/project-login", tag = "Verifik", security(("bearer" = [])),
    responses((status = 200, description = "`{accessToken, tokenType: bearer, appRegistration}`"),
              (status = 401), (status = 403, description = "token_not_right: not an app login's token")))]
async fn project_login(State(state): State<AppState>, headers: HeaderMap) -> Response {
    project_login_inner(state, headers).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn project_login_inner(state: AppState, headers: HeaderMap) -> VerifikResult<Response> {
    let token = bearer_token(&headers).map(str::to_owned).ok_or_else(super::unauthorized)?;
    let (client, id) = match state.db(move |s| app_login_token(s, &token)).await? {
        Ok(found) => found,
        Err(refused) => return Err(refused)?,
    };
    let owner = client.id.clone();
    let login = state.db(move |s| s.api_record(of(&owner), &id)).await.map_err(|_| super::unauthorized())?;
    let text = |name: &str| login.body.get(name).and_then(Value::as_str).map(str::to_string);
    let mut who = Map::new();
    if let Some(identifier) = text("identifier") {
        let field = if identifier.contains('@') { "email" } else { "phone" };
        who.insert(field.into(), json!(identifier));
    }
    let project = text("project").unwrap_or_default();
    let registration = super::app_registrations::existing(&state, &client.id, &project, &who).await?;
    let fresh = token_of(&state, &client.id, &login.id).await?;
    tracing::info!(client_id = %client.id, "Verifik project login");
    Ok(ok(json!({"accessToken": fresh, "tokenType": "bearer",
        "appRegistration": registration.map(|r| records::answer(r, &client.id))})))
}

/// The app login an app login's token names; a genuine token of another kind (a client's, a validation's, a
/// registrant's) is 403 `token_not_right`, anything else 401.
fn app_login_token(
    store: &vouch_store::Store,
    token: &str,
) -> Result<Result<(vouch_core::Client, String), ApiError>, vouch_store::StoreError> {
    match store.check_jwt(token, APP_LOGIN_AUDIENCE)? {
        JwtCheck::Valid { client, session: Some(id) } => return Ok(Ok((client, id))),
        JwtCheck::Expired => return Ok(Err(super::token_expired())),
        _ => {}
    }
    let other_kinds = [API, validations::SESSION_AUDIENCE, super::app_registrations::REGISTRATION_AUDIENCE];
    for audience in other_kinds {
        if matches!(store.check_jwt(token, audience)?, JwtCheck::Valid { .. }) {
            return Ok(Err(ApiError::new(Code::Forbidden, "token_not_right").with_vendor_code("FORBIDDEN")));
        }
    }
    Ok(Err(super::unauthorized()))
}

fn not_found() -> ApiError {
    ApiError::not_found("Project_not_found_or_featured_disabled").with_vendor_code("NotFound")
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
