//! Verifik's app registrations (`/verifik/v2/app-registrations`): someone registering with an integrator's app,
//! known by an e-mail address or a phone number, who then proves their face. Creating one answers a token of the
//! registrant's own (audience `verifik-app-registration`), which `POST /v2/biometric-validations/app-registration`
//! takes with a photo: the photo runs an onboarding biometric validation of the project flow ([`super::validations`])
//! and, when it passes, the registrant is enrolled in the flow's collection. Registering again with the same
//! e-mail or phone in the same project answers the same registration with a new token.
//!
//! The registrant moves their registration through its steps with `PUT .../{id}/sync` ([`sync`]), and cannot
//! complete what the flow requires without doing it. Vouch sends no e-mail or text messages, so the e-mail and
//! phone validations of a registration and resending its link answer 501, as does its document validation.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::{CaseStatus, Client};
use vouch_store::api_records::{new_id, ApiRecord, NewRecord, RecordKind, RecordQuery, RecordWrite};

use super::params::{os, Fields, QueryFields};
use super::records::{self, Kind, Object};
use super::validations::{self, Asked};
use super::{conflict, ok, unauthorized, VerifikResult, API};
use crate::error::{ApiError, Failure, Verifik};
use crate::extract::{bearer_token, Authed};
use crate::state::AppState;

pub const REGISTRATION_AUDIENCE: &str = "verifik-app-registration";
const KIND: &str = "app_registration";
/// A registrant's token lasts a week, as a case does by default.
const TOKEN_TTL_SECS: u32 = 7 * 24 * 3600;

/// Registrations are made here, not through the generic record builder, which refuses.
const APP_REGISTRATION: Kind = Kind { kind: KIND, build: not_built_here, filters: &["status", "email", "phone"] };

fn not_built_here(_: &Fields, _: Option<&Object>) -> Result<Object, ApiError> {
    Err(ApiError::invalid("an app registration is created by POST /verifik/v2/app-registrations"))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(get_one)).routes(routes!(resend_link))
}

/// The photo step carries the registrant's token, so it is routed beside the JWT-protected routes.
pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(biometric)).routes(routes!(sync))
}

fn of(client: &str) -> RecordKind<'_> {
    RecordKind { api: API, kind: KIND, client_id: client }
}

/// The registrant's contact and names, checked as Verifik checks them.
fn registrant(fields: &Fields) -> Result<Map<String, Value>, ApiError> {
    let email = fields.email("email")?;
    let phone = fields.phone("phone")?;
    let country_code = fields.country_code("countryCode")?;
    if email.is_none() && phone.is_none() {
        return Err(ApiError::invalid("Needs an email or a phone at least"));
    }
    if phone.is_some() && country_code.is_none() {
        return Err(ApiError::invalid("missing countryCode"));
    }
    let mut out = Map::new();
    for (name, value) in [
        ("email", email),
        ("phone", phone),
        ("countryCode", country_code),
        ("fullName", fields.text("fullName", 200)?),
        ("firstName", fields.text("firstName", 100)?),
        ("lastName", fields.text("lastName", 100)?),
    ] {
        if let Some(value) = value {
            out.insert(name.into(), json!(value));
        }
    }
    let language = fields.one_of("language", &["en", "es"])?.unwrap_or_else(|| "en".into()).to_ascii_lowercase();
    out.insert("language".into(), json!(language));
    Ok(out)
}

/// The registration of this e-mail or phone in this project, if there is one.
pub(super) async fn existing(
    state: &AppState,
    client: &str,
    project: &str,
    who: &Map<String, Value>,
) -> Result<Option<ApiRecord>, ApiError> {
    for name in ["email", "phone"] {
        let Some(value) = who.get(name).and_then(Value::as_str) else { continue };
        let query = RecordQuery { field: Some((name.into(), value.into())), limit: 100, ..RecordQuery::default() };
        let owner = client.to_string();
        let (found, _) = state.db(move |s| s.api_records(of(&owner), &query)).await?;
        if let Some(found) = found.into_iter().find(|r| r.body.get("project").and_then(Value::as_str) == Some(project))
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

fn information(record: &ApiRecord) -> Value {
    let name = |n: &str| record.body.get(n).cloned().unwrap_or(Value::Null);
    json!({"_id": record.id, "fullName": name("fullName"), "firstName": name("firstName"), "lastName": name("lastName")})
}

/// Register someone: `{appRegistration, informationValidation, token}`; the token is the registrant's own.
#[utoipa::path(post, path = "/verifik/v2/app-registrations", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "project, projectFlow (required); email, or phone with countryCode (+ and 1 to 3 digits); fullName, firstName, lastName, language (en, es)"),
    responses((status = 200, description = "`{appRegistration, informationValidation, token}`"),
              (status = 409, description = "Needs an email or a phone at least; missing countryCode (MissingParameter)"),
              (status = 412, description = "INVALID_PROJECT_ID, INVALID_PROJECT_FLOW")))]
async fn create(State(state): State<AppState>, Authed(client): Authed, fields: Fields) -> VerifikResult<Response> {
    let project = fields.required_string("project")?;
    let project_flow = fields.required_string("projectFlow")?;
    let who = registrant(&fields)?;
    validations::project_flow(&state, &client.id, &project, &project_flow).await?;
    let record = match existing(&state, &client.id, &project, &who).await? {
        Some(found) => found,
        None => {
            let mut body = who;
            for (name, value) in [
                ("project", json!(project)),
                ("projectFlow", json!(project_flow)),
                ("status", json!("STARTED")),
                ("currentStep", json!("1")),
            ] {
                body.insert(name.into(), value);
            }
            let (owner, retries) = (client.clone(), state.app.webhooks.retries);
            state
                .db(move |s| {
                    let id = new_id();
                    let data = records::answer_new(&id, &body, &owner.id);
                    let event = "app_registration_created";
                    let events = validations::record_events(s, &owner, retries, (&id, &body), event, &data)?;
                    let record = NewRecord { api: API.into(), kind: KIND.into(), client_id: owner.id.clone(), body };
                    s.write_api_records(&[RecordWrite::InsertAs(id.clone(), record)], &events)?;
                    s.api_record(of(&owner.id), &id)
                })
                .await?
        }
    };
    let token = registrant_token(&state, &client, &record.id, TOKEN_TTL_SECS).await?;
    let info = information(&record);
    tracing::info!(client_id = %client.id, "Verifik app registration started");
    Ok(ok(json!({"appRegistration": records::answer(record, &client.id), "informationValidation": info,
        "token": token})))
}

/// Page through the caller's registrations (by `status`, `email` or `phone`).
#[utoipa::path(get, path = "/verifik/v2/app-registrations", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, description = "`{docs, pagination}`")))]
async fn list(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    Ok(ok(records::list_value(&state, &client.id, &APP_REGISTRATION, &fields).await?))
}

#[utoipa::path(get, path = "/verifik/v2/app-registrations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_one(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(records::read_value(&state, &client.id, &APP_REGISTRATION, id).await?))
}

/// The registration a registrant's token names, and its client.
pub(super) async fn registration(state: &AppState, headers: &HeaderMap) -> Result<(Client, ApiRecord), ApiError> {
    let token = bearer_token(headers).map(str::to_owned).ok_or_else(unauthorized)?;
    let (client, id) = match state.db(move |s| s.check_jwt(&token, REGISTRATION_AUDIENCE)).await? {
        vouch_store::jwt::JwtCheck::Valid { client, session: Some(id) } => (client, id),
        vouch_store::jwt::JwtCheck::Expired => return Err(super::token_expired()),
        _ => return Err(unauthorized()),
    };
    let owner = client.id.clone();
    let record = state
        .db(move |s| s.api_record(of(&owner), &id))
        .await
        .map_err(|_| ApiError::not_found("appRegistration_not_found").with_vendor_code("NotFound"))?;
    Ok((client, record))
}

/// Why a registrant's photo did not pass, in Verifik's words.
fn refusal(done: &Value) -> ApiError {
    let step = |name: &str| done.pointer(&format!("/verificationResults/{name}"));
    let failed = |name: &str| step(name).and_then(|s| s.get("passed")) == Some(&Value::Bool(false));
    if failed("liveness") {
        let score = step("liveness").and_then(|s| s.get("liveness_score")).and_then(Value::as_f64).unwrap_or(0.0);
        return conflict(&format!("liveness_failed@{score:.2}"));
    }
    if failed("duplicateCheck") {
        return conflict("person_already_set");
    }
    conflict("biometric_validation_failed")
}

/// The registrant's face: a photo (and the device it came from) with the registrant's token. It runs an
/// onboarding biometric validation of the registration's project flow and, when it passes, the registrant is
/// enrolled in the flow's collection and named in the registration (`person`, `biometricValidation`).
#[utoipa::path(post, path = "/verifik/v2/biometric-validations/app-registration", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image (base64 or data URI), os (DESKTOP, IOS, ANDROID)"),
    responses((status = 200, description = "The registration, with its person"), (status = 401), (status = 404, description = "appRegistration_not_found"),
              (status = 409, description = "liveness_failed@SCORE, person_already_set, a registration no longer open")))]
async fn biometric(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    biometric_inner(state, headers, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn biometric_inner(state: AppState, headers: HeaderMap, fields: Fields) -> VerifikResult<Response> {
    let (client, record) = registration(&state, &headers).await?;
    let body = &record.body;
    if !matches!(body.get("status").and_then(Value::as_str), Some("STARTED" | "ONGOING")) {
        return Err(conflict("appRegistration_not_active"))?;
    }
    if body.get("person").is_some_and(Value::is_string) && fields.boolean("force")? != Some(true) {
        return Err(conflict("person_already_set"))?;
    }
    let photo = fields.image(&state, "image").await?;
    os(&fields)?;
    let text = |n: &str| body.get(n).and_then(Value::as_str).map(str::to_string);
    let identifier = text("email").or_else(|| text("phone")).unwrap_or_else(|| record.id.clone());
    let joined = [text("firstName"), text("lastName")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let name = text("fullName").or_else(|| (!joined.is_empty()).then_some(joined));
    let mut validation = Map::new();
    for (field, value) in [
        ("project", text("project")),
        ("projectFlow", text("projectFlow")),
        ("identifier", Some(identifier.clone())),
        ("type", Some("onboarding".into())),
        ("language", text("language")),
        ("appRegistration", Some(record.id.clone())),
    ] {
        validation.insert(field.into(), json!(value));
    }
    let asked = Asked {
        project: text("project").unwrap_or_default(),
        project_flow: text("projectFlow").unwrap_or_default(),
        kind: "onboarding".into(),
        identifier,
        person: None,
        name,
        expires_at: None,
        record: validation,
        audience: vouch_app::cases::Audience::default(),
    };
    let (case, _, _) = validations::open(&state, &client, asked).await?;
    let actor = format!("verifik-app-registration:{}", client.id);
    let decided = vouch_app::subject_cases::complete_with_photo(
        &state.app,
        &state.faces,
        &state.recognition,
        case.id,
        photo,
        actor,
    )
    .await?;
    if decided.status != CaseStatus::Completed {
        let done = validations::own(&state, &client.id, &case.id.to_string()).await?;
        return Err(refusal(&done))?;
    }
    // The decision wrote the registration's progress ([`progress`]) in its own transaction.
    let (owner, id) = (client.id.clone(), record.id.clone());
    let saved = state.db(move |s| s.api_record(of(&owner), &id)).await?;
    tracing::info!(case_id = %case.id, "Verifik app registration enrolled its registrant");
    Ok(ok(records::answer(saved, &client.id)))
}

/// What a completed validation (`validation`, its answer `data`) sets on the app registration it was made for,
/// written in the decision's transaction: the registrant's person, the validation and the collection, and the
/// next step. `None` for a validation of no registration.
pub fn progress(client: &Client, validation: &Map<String, Value>, data: &Value) -> Option<RecordWrite> {
    let registration = validation.get("appRegistration").and_then(Value::as_str)?;
    let mut fields = Map::new();
    for (name, value) in [
        ("person", data.get("person").cloned().unwrap_or(Value::Null)),
        ("biometricValidation", data.get("_id").cloned().unwrap_or(Value::Null)),
        ("assignedCollection", data.get("assignedCollection").cloned().unwrap_or(Value::Null)),
        ("status", json!("ONGOING")),
        ("currentStep", json!("2")),
    ] {
        // A null in a merge would remove the field (RFC 7396): what the validation did not say is left as it is.
        if !value.is_null() {
            fields.insert(name.into(), value);
        }
    }
    Some(RecordWrite::Merge {
        api: API.into(),
        kind: KIND.into(),
        client_id: client.id.clone(),
        id: registration.to_string(),
        fields,
    })
}

/// The project flow a registration follows.
async fn flow_of(state: &AppState, client: &Client, record: &ApiRecord) -> Result<Map<String, Value>, ApiError> {
    let text = |n: &str| record.body.get(n).and_then(Value::as_str).unwrap_or_default().to_string();
    validations::project_flow(state, &client.id, &text("project"), &text("projectFlow")).await
}

/// A token of the registrant of registration `id`, for `ttl` seconds.
async fn registrant_token(state: &AppState, client: &Client, id: &str, ttl: u32) -> Result<String, ApiError> {
    let (owner, sid) = (client.id.clone(), id.to_string());
    Ok(state.db(move |s| s.issue_jwt(&owner, ttl, REGISTRATION_AUDIENCE, Some(&sid))).await?.token)
}

/// A resumed registration's token lasts 30 minutes, as Verifik's continuation token does.
const RESUME_TTL_SECS: u32 = 30 * 60;

/// A fresh registrant token for an unfinished registration, by the integrator that owns it, so that the registrant
/// resumes where they were instead of registering again. Vouch hosts no sign-up page and sends no e-mail: `link`
/// is null and `sendEmail: true` is 501; the integrator's app continues with the token.
#[utoipa::path(post, path = "/verifik/v2/app-registrations/{id}/resend-link", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "sendEmail (false; true is 501)"),
    responses((status = 200, description = "`{token, link: null, firstName, lastName, fullName, email, step, steps, appRegistrationId, status, expiresAt, accessType, issuedAt, emailSent: null}`"),
              (status = 404, description = "AppRegistration_not_found"),
              (status = 409, description = "cannot_resend_link_for_this_status"), (status = 501, description = "sendEmail")))]
async fn resend_link(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    if fields.boolean("sendEmail")? == Some(true) {
        return Err(ApiError::new(
            crate::error::Code::NotImplemented,
            "sendEmail needs e-mail, which this Vouch does not send: hand the token to the registrant yourself",
        ))?;
    }
    let owner = client.id.clone();
    let record = state
        .db(move |s| s.api_record(of(&owner), &id))
        .await
        .map_err(|_| ApiError::not_found("AppRegistration_not_found").with_vendor_code("NotFound"))?;
    let body = &record.body;
    let text = |n: &str| body.get(n).and_then(Value::as_str).map(str::to_string);
    if !matches!(text("status").as_deref(), Some("STARTED" | "ONGOING" | "NEEDS_MANUAL_VERIFICATION")) {
        return Err(conflict("cannot_resend_link_for_this_status"))?;
    }
    let flow = flow_of(&state, &client, &record).await?;
    let token = registrant_token(&state, &client, &record.id, RESUME_TTL_SECS).await?;
    let issued = time::OffsetDateTime::now_utc();
    let expires = issued + time::Duration::seconds(i64::from(RESUME_TTL_SECS));
    let name = |n: &str| body.get(n).cloned().unwrap_or(Value::Null);
    tracing::info!(client_id = %client.id, "Verifik app registration resumed with a new token");
    Ok(ok(json!({"token": token, "link": null, "firstName": name("firstName"), "lastName": name("lastName"),
        "fullName": name("fullName"), "email": name("email"), "step": name("step"), "steps": kyc_steps(&flow),
        "appRegistrationId": record.id, "status": name("status"), "expiresAt": crate::adapters::rfc3339(expires),
        "accessType": "app_registration_initiated", "issuedAt": issued.unix_timestamp(), "emailSent": null})))
}

/// The steps of a registration that can be mandatory, and which statuses each may be synced to.
const SYNC_STEPS: [(&str, &[&str]); 8] = [
    ("skipKYC", &["COMPLETED_WITHOUT_KYC"]),
    ("instructions", &["ONGOING"]),
    ("signUpForm", &["ONGOING"]),
    ("basicInformation", &["ONGOING"]),
    ("document", &["ONGOING"]),
    ("liveness", &["ONGOING"]),
    ("form", &["ONGOING"]),
    ("end", &["COMPLETED", "FAILED", "NEEDS_MANUAL_VERIFICATION"]),
];
const KYC_STEPS: [&str; 5] = ["signUpForm", "basicInformation", "document", "liveness", "form"];

/// Which KYC steps the project flow makes mandatory (`onboardSettings.steps`, `mandatory` or `skip`). A flow
/// that does not say makes liveness mandatory: a Vouch registration proves its registrant's face.
fn kyc_steps(flow: &Map<String, Value>) -> Map<String, Value> {
    let set = flow.get("onboardSettings").and_then(|o| o.get("steps")).and_then(Value::as_object);
    KYC_STEPS
        .iter()
        .map(|step| {
            let default = if *step == "liveness" { "mandatory" } else { "skip" };
            let value = set.and_then(|s| s.get(*step)).and_then(Value::as_str).unwrap_or(default);
            ((*step).to_string(), json!(value))
        })
        .collect()
}

/// Moves a registration to a step, by the registrant's own token. The registrant cannot complete what the flow
/// requires without doing it: `end` with `COMPLETED` needs the face proven (its `person` set), `skipKYC` a flow
/// with no mandatory KYC step. Answers a new registrant token, as Verifik's `end` answers the user's token.
#[utoipa::path(put, path = "/verifik/v2/app-registrations/{id}/sync", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content = Object, description = "step (skipKYC, instructions, signUpForm, basicInformation, document, liveness, form, end), status (as the step allows)"),
    responses((status = 200, description = "`{token, firstName, lastName, fullName, step, steps, appRegistrationId, status}`"),
              (status = 401), (status = 404, description = "AppRegistration_not_found"),
              (status = 409, description = "a step or status not allowed, liveness_validation_not_passed, kyc_steps_mandatory, appRegistration_not_active")))]
async fn sync(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<String>, fields: Fields) -> Response {
    sync_inner(state, headers, id, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn sync_inner(state: AppState, headers: HeaderMap, id: String, fields: Fields) -> VerifikResult<Response> {
    let (client, record) = registration(&state, &headers).await?;
    if record.id != id {
        // A registrant's token is for their own registration only.
        return Err(ApiError::not_found("AppRegistration_not_found").with_vendor_code("NotFound"))?;
    }
    let step = fields.required_string("step")?;
    let status = fields.required_string("status")?;
    let Some((_, allowed)) = SYNC_STEPS.iter().find(|(s, _)| *s == step) else {
        return Err(conflict("step_not_supported"))?;
    };
    if !allowed.contains(&status.as_str()) {
        return Err(conflict(&format!("status_not_allowed_for_{step}")))?;
    }
    let body = &record.body;
    let text = |n: &str| body.get(n).and_then(Value::as_str).map(str::to_string);
    if !matches!(text("status").as_deref(), Some("STARTED" | "ONGOING")) {
        return Err(conflict("appRegistration_not_active"))?;
    }
    let flow = flow_of(&state, &client, &record).await?;
    let steps = kyc_steps(&flow);
    let mandatory = |s: &str| steps.get(s).and_then(Value::as_str) == Some("mandatory");
    if step == "skipKYC" && KYC_STEPS.iter().any(|s| mandatory(s)) {
        return Err(conflict("kyc_steps_mandatory"))?;
    }
    if status == "COMPLETED" && mandatory("liveness") && !body.get("person").is_some_and(Value::is_string) {
        return Err(conflict("liveness_validation_not_passed"))?;
    }
    let new_status = if step == "end" || step == "skipKYC" { status.clone() } else { "ONGOING".into() };
    let mut fields = Map::new();
    fields.insert("status".into(), json!(new_status));
    fields.insert("step".into(), json!(step));
    let merge = RecordWrite::Merge {
        api: API.into(),
        kind: KIND.into(),
        client_id: client.id.clone(),
        id: record.id.clone(),
        fields,
    };
    let (owner, retries, event) =
        (client.clone(), state.app.webhooks.retries, format!("app_registration_{}", new_status.to_lowercase()));
    let mut changed = record.clone();
    changed.body.insert("status".into(), json!(new_status));
    changed.body.insert("step".into(), json!(step));
    state
        .db(move |s| {
            let (id, body) = (changed.id.clone(), changed.body.clone());
            let data = records::answer(changed, &owner.id);
            let events = validations::record_events(s, &owner, retries, (&id, &body), &event, &data)?;
            s.write_api_records(std::slice::from_ref(&merge), &events)
        })
        .await?;
    let token = registrant_token(&state, &client, &record.id, TOKEN_TTL_SECS).await?;
    tracing::info!(client_id = %client.id, status = %new_status, "Verifik app registration synced");
    let name = |n: &str| body.get(n).cloned().unwrap_or(Value::Null);
    Ok(ok(json!({"token": token, "firstName": name("firstName"), "lastName": name("lastName"),
        "fullName": name("fullName"), "step": step, "steps": steps, "appRegistrationId": record.id,
        "status": new_status})))
}
