//! Verifik's v3 projects (`/verifik/v3/projects`): the same projects as v2's (one record each, so a v2 project
//! flow or validation can name a v3 project), created with v3's fields (a data protection officer, a default
//! language, demo mode, an embedded project flow) and answered as v3 answers: `{"data": ...}`, 201 on create,
//! errors `{message, code, status, timestamp}`. A new v3 project is a `draft` of `version` 2.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use rand::Rng;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::params::{Fields, QueryFields};
use super::records::{self, required, set, start, strings, Kind, Object};
use crate::error::{ApiError, Failure, VerifikV3};
use crate::extract::Authed;
use crate::state::AppState;

type V3Result<T> = Result<T, Failure<VerifikV3>>;

const PROJECT_V3: Kind = Kind { kind: "project", build: project, filters: &["status"] };

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(show, update, delete))
}

fn joi(message: impl Into<String>) -> ApiError {
    ApiError::invalid(message)
}

/// A nested object's text field: present, a string of 1 to `max` characters.
fn nested_text(object: &Map<String, Value>, path: &str, name: &str, max: usize) -> Result<String, ApiError> {
    match object.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() && s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(joi(format!("\"{path}.{name}\" must have 1 to {max} characters"))),
        Some(_) => Err(joi(format!("\"{path}.{name}\" must be a string"))),
        None => Err(joi(format!("\"{path}.{name}\" is required"))),
    }
}

/// `dataProtection`: the data protection officer, every field but `address2` required.
fn data_protection(given: &Map<String, Value>) -> Result<Value, ApiError> {
    let path = "dataProtection";
    let mut out = Map::new();
    for name in ["name", "address", "city", "country"] {
        out.insert(name.into(), json!(nested_text(given, path, name, 200)?));
    }
    let email = nested_text(given, path, "email", 254)?;
    if !email.split_once('@').is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.contains('@')) {
        return Err(joi("\"dataProtection.email\" must be a valid email"));
    }
    out.insert("email".into(), json!(email));
    let postal = nested_text(given, path, "postalCode", 12)?;
    let postal_ok = postal.len() >= 3 && postal.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-');
    if !postal_ok {
        return Err(joi("\"dataProtection.postalCode\" must be 3 to 12 letters, digits, spaces or hyphens"));
    }
    out.insert("postalCode".into(), json!(postal));
    let address2 = match given.get("address2") {
        Some(Value::String(s)) if s.chars().count() <= 200 => s.clone(),
        None => String::new(),
        Some(_) => return Err(joi("\"dataProtection.address2\" must be a string of at most 200 characters")),
    };
    out.insert("address2".into(), json!(address2));
    Ok(Value::Object(out))
}

/// A number of `object` in `lo..=hi`, when given.
fn score_in(object: &Map<String, Value>, path: &str, lo: f64, hi: f64) -> Result<(), ApiError> {
    let Some((name, value)) = path.rsplit_once('.').and_then(|(_, name)| object.get(name).map(|v| (name, v))) else {
        return Ok(());
    };
    match value.as_f64() {
        Some(v) if (lo..=hi).contains(&v) => Ok(()),
        _ => Err(joi(format!("\"{path}\" must be a number from {lo} to {hi} ({name})"))),
    }
}

/// The embedded `projectFlow`: its target and type, and its liveness scores in v3's ranges.
fn project_flow(flow: &Map<String, Value>, flow_type: Option<&str>) -> Result<(), ApiError> {
    if flow_type.is_none() {
        return Err(joi("\"projectFlowType\" is required with a projectFlow"));
    }
    for (name, allowed) in [("target", ["personal"].as_slice()), ("type", ["onboarding", "login"].as_slice())] {
        match flow.get(name).and_then(Value::as_str) {
            Some(v) if allowed.contains(&v) => {}
            Some(_) => return Err(joi(format!("\"projectFlow.{name}\" must be one of [{}]", allowed.join(", ")))),
            None => return Err(joi(format!("\"projectFlow.{name}\" is required"))),
        }
    }
    if let Some(liveness) = flow.get("liveness").and_then(Value::as_object) {
        score_in(liveness, "projectFlow.liveness.minScore", 0.52, 0.9)?;
        score_in(liveness, "projectFlow.liveness.searchMinScore", 0.7, 0.95)?;
    }
    Ok(())
}

/// Six random digits: the demo OTP when demo mode is asked without one.
fn demo_otp() -> String {
    format!("{:06}", rand::thread_rng().gen_range(0..1_000_000))
}

fn project(fields: &Fields, existing: Option<&Object>) -> Result<Object, ApiError> {
    let mut body = start(existing);
    set(&mut body, "name", fields.text("name", 60)?.map(Value::String));
    set(&mut body, "allowedCountries", strings(fields, "allowedCountries")?);
    set(&mut body, "contactEmail", fields.email("contactEmail")?.map(Value::String));
    set(&mut body, "privacyUrl", fields.url("privacyUrl")?.map(Value::String));
    set(&mut body, "termsAndConditionsUrl", fields.url("termsAndConditionsUrl")?.map(Value::String));
    if let Some(given) = fields.object("dataProtection")? {
        body.insert("dataProtection".into(), data_protection(&given)?);
    }
    let language = fields.one_of("defaultLanguage", &["en", "es"])?.map(|l| l.to_ascii_lowercase());
    set(&mut body, "defaultLanguage", language.or(existing.is_none().then(|| "en".into())).map(Value::String));
    set(&mut body, "identifier", fields.text("identifier", 200)?.map(Value::String));
    for name in ["currentStep", "lastStep"] {
        set(&mut body, name, fields.integer(name, 0, 100)?.map(|n| json!(n)));
    }
    if let Some(otp) = fields.string("demoOTP")? {
        if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(joi("\"demoOTP\" must be 6 digits"));
        }
        body.insert("demoOTP".into(), json!(otp));
    }
    if let Some(demo) = fields.boolean("demoMode")? {
        body.insert("demoMode".into(), json!(demo));
        if demo && !body.get("demoOTP").is_some_and(Value::is_string) {
            body.insert("demoOTP".into(), json!(demo_otp()));
        }
    }
    set(&mut body, "branding", fields.object("branding")?.map(Value::Object));
    let flow_type = fields.one_of("projectFlowType", &["onboarding", "login"])?;
    if let Some(flow) = fields.object("projectFlow")? {
        project_flow(&flow, flow_type.as_deref())?;
        body.insert("projectFlow".into(), Value::Object(flow));
    }
    set(&mut body, "projectFlowType", flow_type.map(Value::String));
    if existing.is_none() {
        for (name, value) in [("status", json!("draft")), ("version", json!(2)), ("currentStep", json!(0))] {
            body.entry(name).or_insert(value);
        }
        body.entry("lastStep").or_insert(json!(0));
        body.entry("demoMode").or_insert(json!(false));
        body.entry("demoOTP").or_insert(Value::Null);
        body.entry("identifier").or_insert(Value::Null);
    }
    for name in ["name", "allowedCountries", "contactEmail", "privacyUrl", "termsAndConditionsUrl", "dataProtection"] {
        required(&body, name)?;
    }
    Ok(body)
}

fn data(value: Value) -> Json<Value> {
    Json(json!({ "data": value }))
}

/// Create a project (v3): 201 with the project, a `draft` of version 2.
#[utoipa::path(post, path = "/verifik/v3/projects", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "name (at most 60), allowedCountries, contactEmail, privacyUrl, termsAndConditionsUrl, dataProtection {name, email, address, city, country, postalCode} (required); defaultLanguage, identifier, currentStep, lastStep, demoMode, demoOTP, branding, projectFlow with projectFlowType"),
    responses((status = 201, description = "`{data: project}`"), (status = 401, description = "`{message, code: Forbidden, status, timestamp}`"),
              (status = 409, description = "a missing or bad field (MissingParameter)")))]
async fn create(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> V3Result<Response> {
    let project = records::create_value(&state, &client.id, &PROJECT_V3, &fields).await?;
    Ok((StatusCode::CREATED, data(project)).into_response())
}

/// List the caller's projects (v2's and v3's), oldest first.
#[utoipa::path(get, path = "/verifik/v3/projects", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query, description = "At most 100; 10 when absent"),
           ("status" = Option<String>, Query)),
    responses((status = 200, description = "`{data: {docs, pagination}}`")))]
async fn list(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> V3Result<Response> {
    Ok(data(records::list_value(&state, &client.id, &PROJECT_V3, &fields).await?).into_response())
}

#[utoipa::path(get, path = "/verifik/v3/projects/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn show(State(state): State<AppState>, Authed(client): Authed, Path(id): Path<String>) -> V3Result<Response> {
    Ok(data(records::read_value(&state, &client.id, &PROJECT_V3, id).await?).into_response())
}

#[utoipa::path(put, path = "/verifik/v3/projects/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "Any of the fields; the rest stay"),
    responses((status = 200), (status = 404), (status = 409)))]
async fn update(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> V3Result<Response> {
    Ok(data(records::update_value(&state, &client.id, &PROJECT_V3, id, &fields).await?).into_response())
}

#[utoipa::path(delete, path = "/verifik/v3/projects/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "The deleted project"), (status = 404)))]
async fn delete(State(state): State<AppState>, Authed(client): Authed, Path(id): Path<String>) -> V3Result<Response> {
    Ok(data(records::delete_value(&state, &client.id, &PROJECT_V3, id).await?).into_response())
}
