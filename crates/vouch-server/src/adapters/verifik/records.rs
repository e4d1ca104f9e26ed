//! Verifik's configuration records: projects (`/v2/projects`), project flows (`/v2/project-flows`) and webhooks
//! (`/v2/webhooks`), each created, listed, read, updated and deleted as Verifik documents them, owned by the
//! calling client. Vouch keeps them as Verifik's JSON (the fields it documents, checked; nested settings as
//! given). Biometric validations follow a project flow and send its webhooks' events ([`super::validations`]).

use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_store::api_records::{ApiRecord, RecordKind, RecordQuery};

use super::params::{Fields, QueryFields};
use super::{ok, precondition_failed, record_not_found, VerifikResult, API};
use crate::error::ApiError;
use crate::extract::Authed;
use crate::state::AppState;

/// Configuration records are small: larger bodies are refused before they are parsed.
pub const RECORD_BODY_LIMIT: usize = 64 * 1024;
const LIST_LIMIT_DEFAULT: u32 = 10;
const LIST_LIMIT_MAX: u32 = 100;

pub(super) type Object = Map<String, Value>;

/// One kind of record: its name in the store, how a body becomes the stored object (`existing` on an update),
/// and which query fields filter a list.
pub(super) struct Kind {
    pub(super) kind: &'static str,
    pub(super) build: fn(&Fields, Option<&Object>) -> Result<Object, ApiError>,
    pub(super) filters: &'static [&'static str],
}

pub(super) const PROJECT: Kind = Kind { kind: "project", build: project, filters: &["status"] };
pub(super) const PROJECT_FLOW: Kind =
    Kind { kind: "project_flow", build: project_flow, filters: &["type", "status", "project"] };
pub(super) const WEBHOOK: Kind = Kind { kind: "webhook", build: webhook, filters: &["url"] };

impl Kind {
    /// This kind's records of `client`.
    pub(super) fn of<'a>(&self, client: &'a str) -> RecordKind<'a> {
        RecordKind { api: API, kind: self.kind, client_id: client }
    }
}

fn of<'a>(kind: &Kind, client: &'a str) -> RecordKind<'a> {
    kind.of(client)
}

/// Starts from the stored object (or an empty one) and sets what the caller gave.
pub(super) fn start(existing: Option<&Map<String, Value>>) -> Map<String, Value> {
    existing.cloned().unwrap_or_default()
}

pub(super) fn set(body: &mut Map<String, Value>, name: &str, value: Option<Value>) {
    if let Some(value) = value {
        body.insert(name.to_string(), value);
    }
}

/// A field that must be there on a create (an update may leave it out).
pub(super) fn required(body: &Map<String, Value>, name: &str) -> Result<(), ApiError> {
    match body.contains_key(name) {
        true => Ok(()),
        false => Err(ApiError::invalid(format!("\"{name}\" is required"))),
    }
}

pub(super) fn strings(fields: &Fields, name: &str) -> Result<Option<Value>, ApiError> {
    Ok(fields.strings(name)?.map(|v| json!(v)))
}

fn project(fields: &Fields, existing: Option<&Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let mut body = start(existing);
    set(&mut body, "name", fields.text("name", 60)?.map(Value::String));
    set(&mut body, "allowedCountries", strings(fields, "allowedCountries")?);
    set(&mut body, "contactEmail", fields.email("contactEmail")?.map(Value::String));
    set(&mut body, "privacyUrl", fields.url("privacyUrl")?.map(Value::String));
    set(&mut body, "termsAndConditionsUrl", fields.url("termsAndConditionsUrl")?.map(Value::String));
    let status = fields.one_of("status", &["active", "inactive", "pending"])?.map(|s| s.to_ascii_lowercase());
    set(&mut body, "status", status.or(existing.is_none().then(|| "active".into())).map(Value::String));
    set(&mut body, "branding", fields.object("branding")?.map(Value::Object));
    set(&mut body, "settings", fields.object("settings")?.map(Value::Object));
    for name in ["name", "allowedCountries", "contactEmail", "privacyUrl", "termsAndConditionsUrl"] {
        required(&body, name)?;
    }
    Ok(body)
}

fn project_flow(fields: &Fields, existing: Option<&Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let mut body = start(existing);
    if existing.is_none() {
        set(&mut body, "project", fields.string("project")?.map(Value::String));
        let kind = fields.one_of("type", &["login", "onboarding"])?.map(|t| t.to_ascii_lowercase());
        set(&mut body, "type", kind.map(Value::String));
        body.insert("version".into(), json!(1));
    }
    set(&mut body, "name", fields.text("name", 200)?.map(Value::String));
    set(&mut body, "description", fields.text("description", 2000)?.map(Value::String));
    let status = fields.one_of("status", &["draft", "active", "paused"])?.map(|s| s.to_ascii_lowercase());
    set(&mut body, "status", status.or(existing.is_none().then(|| "draft".into())).map(Value::String));
    for name in ["configuration", "loginSettings", "onboardSettings", "security", "emailTemplates"] {
        set(&mut body, name, fields.object(name)?.map(Value::Object));
    }
    set(&mut body, "steps", fields.array("steps")?.map(Value::Array));
    for name in ["project", "type", "name", "configuration", "steps"] {
        required(&body, name)?;
    }
    Ok(body)
}

fn webhook(fields: &Fields, existing: Option<&Map<String, Value>>) -> Result<Map<String, Value>, ApiError> {
    let mut body = start(existing);
    set(&mut body, "url", fields.url("url")?.map(Value::String));
    set(&mut body, "name", fields.text("name", 200)?.map(Value::String));
    set(&mut body, "description", fields.text("description", 2000)?.map(Value::String));
    let active = fields.boolean("isActive")?.or(existing.is_none().then_some(true));
    set(&mut body, "isActive", active.map(Value::Bool));
    set(&mut body, "notification", fields.object("notification")?.map(Value::Object));
    let mut linked: Vec<String> = body
        .get("projectFlow")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    for flow in fields.strings("link")?.unwrap_or_default() {
        if !linked.contains(&flow) {
            linked.push(flow);
        }
    }
    let unlink = fields.strings("unlink")?.unwrap_or_default();
    linked.retain(|f| !unlink.contains(f));
    body.insert("projectFlow".into(), json!(linked));
    for name in ["url", "name"] {
        required(&body, name)?;
    }
    Ok(body)
}

/// The record as Verifik answers it: its fields, `_id`, `client`, the dates and `__v`.
/// A record about to be written (`id`, `body`), as a read will answer it: what the event announcing it carries.
pub(super) fn answer_new(id: &str, body: &Map<String, Value>, client: &str) -> Value {
    let now = time::OffsetDateTime::now_utc();
    answer(ApiRecord { id: id.to_string(), parent: None, body: body.clone(), created_at: now, updated_at: now }, client)
}

pub(super) fn answer(record: ApiRecord, client: &str) -> Value {
    let mut body = record.body;
    body.insert("_id".into(), json!(record.id));
    body.insert("client".into(), json!(client));
    body.insert("createdAt".into(), json!(crate::adapters::rfc3339(record.created_at)));
    body.insert("updatedAt".into(), json!(crate::adapters::rfc3339(record.updated_at)));
    body.insert("__v".into(), json!(0));
    Value::Object(body)
}

/// What a record refers to must be the caller's: a flow's project, a webhook's flows.
async fn check_references(
    state: &AppState,
    client: &str,
    kind: &Kind,
    body: &Map<String, Value>,
) -> Result<(), ApiError> {
    let refs: Vec<(&Kind, String, &str)> = match kind.kind {
        "project_flow" => body
            .get("project")
            .and_then(Value::as_str)
            .map(|p| vec![(&PROJECT, p.to_string(), "INVALID_PROJECT_ID")])
            .unwrap_or_default(),
        "webhook" => body
            .get("projectFlow")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|f| (&PROJECT_FLOW, f.to_string(), "INVALID_PROJECT_FLOW"))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for (target, id, word) in refs {
        let (client, target_kind) = (client.to_string(), target.kind);
        let found =
            state.db(move |s| s.api_record(RecordKind { api: API, kind: target_kind, client_id: &client }, &id)).await;
        if found.is_err() {
            return Err(precondition_failed(word));
        }
    }
    Ok(())
}

pub(super) async fn create_value(
    state: &AppState,
    client: &str,
    kind: &'static Kind,
    fields: &Fields,
) -> Result<Value, ApiError> {
    let body = (kind.build)(fields, None)?;
    check_references(state, client, kind, &body).await?;
    let parent = body.get("project").and_then(Value::as_str).map(str::to_string);
    let owner = client.to_string();
    let record = state.db(move |s| s.create_api_record(of(kind, &owner), parent.as_deref(), &body)).await?;
    Ok(answer(record, client))
}

pub(super) async fn list_value(
    state: &AppState,
    client: &str,
    kind: &'static Kind,
    fields: &Fields,
) -> Result<Value, ApiError> {
    let page = fields.integer("page", 1, 1_000_000)?.unwrap_or(1);
    let limit = fields.integer("limit", 1, LIST_LIMIT_MAX)?.or(fields.integer("perPage", 1, LIST_LIMIT_MAX)?);
    let limit = limit.unwrap_or(LIST_LIMIT_DEFAULT);
    let mut filter = None;
    for name in kind.filters {
        let value = fields.string(name)?.or(fields.string(&format!("where_{name}"))?);
        if let Some(value) = value {
            filter = Some((name.to_string(), value));
        }
    }
    let offset = (page - 1).saturating_mul(limit);
    let query = RecordQuery { field: filter, offset, limit, ..RecordQuery::default() };
    let owner = client.to_string();
    let (records, total) = state.db(move |s| s.api_records(of(kind, &owner), &query)).await?;
    let data: Vec<Value> = records.into_iter().map(|r| answer(r, client)).collect();
    let pages = total.div_ceil(u64::from(limit));
    Ok(json!({"docs": data, "pagination": {"page": page, "limit": limit, "total": total, "pages": pages}}))
}

pub(super) async fn read_value(
    state: &AppState,
    client: &str,
    kind: &'static Kind,
    id: String,
) -> Result<Value, ApiError> {
    let owner = client.to_string();
    let record = state.db(move |s| s.api_record(of(kind, &owner), &id)).await.map_err(record_not_found)?;
    Ok(answer(record, client))
}

pub(super) async fn update_value(
    state: &AppState,
    client: &str,
    kind: &'static Kind,
    id: String,
    fields: &Fields,
) -> Result<Value, ApiError> {
    let (owner, key) = (client.to_string(), id.clone());
    let existing = state.db(move |s| s.api_record(of(kind, &owner), &key)).await.map_err(record_not_found)?;
    let body = (kind.build)(fields, Some(&existing.body))?;
    check_references(state, client, kind, &body).await?;
    let owner = client.to_string();
    let record =
        state.db(move |s| s.update_api_record(of(kind, &owner), &id, &body)).await.map_err(record_not_found)?;
    Ok(answer(record, client))
}

pub(super) async fn delete_value(
    state: &AppState,
    client: &str,
    kind: &'static Kind,
    id: String,
) -> Result<Value, ApiError> {
    let owner = client.to_string();
    let record = state.db(move |s| s.delete_api_record(of(kind, &owner), &id)).await.map_err(record_not_found)?;
    Ok(answer(record, client))
}

async fn create(state: AppState, client: String, kind: &'static Kind, fields: Fields) -> VerifikResult<Response> {
    Ok(ok(create_value(&state, &client, kind, &fields).await?))
}

async fn list(state: AppState, client: String, kind: &'static Kind, fields: Fields) -> VerifikResult<Response> {
    Ok(ok(list_value(&state, &client, kind, &fields).await?))
}

async fn read(state: AppState, client: String, kind: &'static Kind, id: String) -> VerifikResult<Response> {
    Ok(ok(read_value(&state, &client, kind, id).await?))
}

async fn update(
    state: AppState,
    client: String,
    kind: &'static Kind,
    id: String,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(update_value(&state, &client, kind, id, &fields).await?))
}

async fn delete(state: AppState, client: String, kind: &'static Kind, id: String) -> VerifikResult<Response> {
    Ok(ok(delete_value(&state, &client, kind, id).await?))
}

/// The five documented operations of one kind of record, each with its OpenAPI entry.
macro_rules! record_routes {
    ($module:ident, $kind:expr, $path:literal, $item:literal, $what:literal) => {
        mod $module {
            use super::*;

            #[utoipa::path(post, path = $path, operation_id = concat!(stringify!($module), "_create"), tag = "Verifik", security(("bearer" = [])),
                request_body(content = Object, description = $what),
                responses((status = 200, description = "The record in `data`"), (status = 409, description = "a missing or bad field"), (status = 412)))]
            pub async fn create_record(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> VerifikResult<Response> {
                create(state, client.id, &$kind, fields).await
            }

            #[utoipa::path(get, path = $path, operation_id = concat!(stringify!($module), "_list"), tag = "Verifik", security(("bearer" = [])),
                params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "At most 100; 10 when absent")),
                responses((status = 200, description = "`{docs, pagination: {page, limit, total, pages}}`")))]
            pub async fn list_records(State(state): State<AppState>, Authed(client): Authed, QueryFields(fields): QueryFields) -> VerifikResult<Response> {
                list(state, client.id, &$kind, fields).await
            }

            #[utoipa::path(get, path = $item, operation_id = concat!(stringify!($module), "_get"), tag = "Verifik", security(("bearer" = [])),
                params(("id" = String, Path)), responses((status = 200), (status = 404)))]
            pub async fn get_record(State(state): State<AppState>, Authed(client): Authed, Path(id): Path<String>) -> VerifikResult<Response> {
                read(state, client.id, &$kind, id).await
            }

            #[utoipa::path(put, path = $item, operation_id = concat!(stringify!($module), "_update"), tag = "Verifik", security(("bearer" = [])),
                params(("id" = String, Path)), request_body(content = Object, description = "Any of the fields; the rest stay"),
                responses((status = 200), (status = 404), (status = 409), (status = 412)))]
            pub async fn update_record(State(state): State<AppState>, Authed(client): Authed, Path(id): Path<String>, fields: Fields) -> VerifikResult<Response> {
                update(state, client.id, &$kind, id, fields).await
            }

            #[utoipa::path(delete, path = $item, operation_id = concat!(stringify!($module), "_delete"), tag = "Verifik", security(("bearer" = [])),
                params(("id" = String, Path)), responses((status = 200, description = "The deleted record"), (status = 404)))]
            pub async fn delete_record(State(state): State<AppState>, Authed(client): Authed, Path(id): Path<String>) -> VerifikResult<Response> {
                delete(state, client.id, &$kind, id).await
            }

            pub fn routes() -> OpenApiRouter<AppState> {
                OpenApiRouter::new()
                    .routes(routes!(create_record, list_records))
                    .routes(routes!(get_record, update_record, delete_record))
            }
        }
    };
}

record_routes!(
    projects,
    PROJECT,
    "/verifik/v2/projects",
    "/verifik/v2/projects/{id}",
    "name (at most 60), allowedCountries, contactEmail, privacyUrl, termsAndConditionsUrl (required); status, branding, settings"
);
record_routes!(
    project_flows,
    PROJECT_FLOW,
    "/verifik/v2/project-flows",
    "/verifik/v2/project-flows/{id}",
    "project, type (login, onboarding), name, configuration, steps (required); description, status (draft, active, paused), loginSettings, onboardSettings, security"
);
record_routes!(
    webhooks,
    WEBHOOK,
    "/verifik/v2/webhooks",
    "/verifik/v2/webhooks/{id}",
    "url, name (required); description, isActive, notification, link and unlink (project flow ids)"
);

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(projects::routes()).merge(project_flows::routes()).merge(webhooks::routes())
}
