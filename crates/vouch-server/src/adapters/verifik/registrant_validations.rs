//! An app registration's own e-mail and phone validations: the registrant, with their registration token, asks for
//! a code (`POST /verifik/v2/email-validations/app-registration`, and the same for phones), Vouch sends it to the
//! registration's address through the operator's message relay ([`crate::messages`]), and the registrant proves
//! they received it (`PUT /verifik/v2/email-validations/{id}`, or `POST .../app-registration/validate`). The code
//! never comes back to the registrant's token, which would prove nothing; without a relay these answer 501.
//! A validated code names its validation in the registration (`emailValidation`, `phoneValidation`), in the
//! transaction that spends it. Asking again while a validation of the same address waits sends it a fresh code
//! (`existing: true`, event `_resend`), at most four sends a validation and five validations an hour.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::Client;
use vouch_store::api_records::{ApiRecord, RecordQuery, RecordWrite};
use vouch_store::one_time_codes::CodeRefusal;

use super::contact_validations::{self as contact, Channel, Tried};
use super::params::Fields;
use super::{conflict, ok, records, VerifikResult, API};
use crate::error::{ApiError, Code, Failure, Verifik};
use crate::state::AppState;

/// At most this many codes for one registration and channel within [`SENDING_WINDOW`]: a registrant's token
/// cannot make Vouch flood an address.
const MOST_SENT: usize = 5;
const SENDING_WINDOW: time::Duration = time::Duration::hours(1);

pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_email))
        .routes(routes!(validate_email))
        .routes(routes!(validate_email_by_id))
        .routes(routes!(create_phone))
        .routes(routes!(validate_phone))
        .routes(routes!(validate_phone_by_id))
}

/// Send the registrant a code at their e-mail address.
#[utoipa::path(post, path = "/verifik/v2/email-validations/app-registration", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "email (the registration's), validationMethod (verificationCode), type, project, expiresAt, ipAddress; bearer: the registrant's token"),
    responses((status = 200, description = "the validation, status sent (no code)"), (status = 401),
              (status = 404, description = "project_not_found"), (status = 409, description = "MissingParameter, appRegistration_not_active"),
              (status = 429, description = "too many codes for this registration within an hour"),
              (status = 501, description = "no message relay is configured")))]
async fn create_email(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    create(state, headers, Channel::Email, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

#[utoipa::path(post, path = "/verifik/v2/phone-validations/app-registration", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "phone and countryCode (the registration's), validationMethod (verificationCode), type, project, expiresAt, ipAddress; bearer: the registrant's token"),
    responses((status = 200, description = "the validation, status sent (no code)"), (status = 401),
              (status = 404, description = "project_not_found"), (status = 409, description = "MissingParameter, appRegistration_not_active"),
              (status = 429, description = "too many codes for this registration within an hour"),
              (status = 501, description = "no message relay is configured")))]
async fn create_phone(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    create(state, headers, Channel::Phone, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

/// Check the code the registrant received, by the validation's id.
#[utoipa::path(put, path = "/verifik/v2/email-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "email, otp; bearer: the registrant's token"),
    responses((status = 200, description = "`{_id, status: validated, email, type, showFaceLivenessRecommendation}`"),
              (status = 403, description = "otp_does_not_match"), (status = 404, description = "email_validation_not_found"),
              (status = 409, description = "MissingParameter (missing_email_and_otp), already_validated"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 412, description = "emailValidation_has_expired")))]
async fn validate_email_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    validate(state, headers, Channel::Email, Some(id), fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

/// Check the code the registrant received, for their newest open e-mail validation.
#[utoipa::path(post, path = "/verifik/v2/email-validations/app-registration/validate", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "email, otp; bearer: the registrant's token"),
    responses((status = 200), (status = 403, description = "otp_does_not_match"), (status = 404, description = "email_validation_not_found"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 412, description = "emailValidation_has_expired")))]
async fn validate_email(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    validate(state, headers, Channel::Email, None, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

#[utoipa::path(put, path = "/verifik/v2/phone-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "phone, countryCode, otp; bearer: the registrant's token"),
    responses((status = 200, description = "`{_id, status: validated, phone, countryCode, type, showFaceLivenessRecommendation}`"),
              (status = 403, description = "otp_does_not_match"), (status = 404, description = "phone_validation_not_found"),
              (status = 409, description = "MissingParameter, already_validated"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 412, description = "phoneValidation_has_expired")))]
async fn validate_phone_by_id(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    fields: Fields,
) -> Response {
    validate(state, headers, Channel::Phone, Some(id), fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

#[utoipa::path(post, path = "/verifik/v2/phone-validations/app-registration/validate", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "phone, countryCode, otp; bearer: the registrant's token"),
    responses((status = 200), (status = 403, description = "otp_does_not_match"), (status = 404, description = "phone_validation_not_found"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 412, description = "phoneValidation_has_expired")))]
async fn validate_phone(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    validate(state, headers, Channel::Phone, None, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

fn text(body: &Map<String, Value>, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}

/// Verifik's `404:<word>`-style refusals of a registrant's validation.
fn word(status: &str, word: &str) -> ApiError {
    let code = match status {
        "403" => Code::Forbidden,
        "404" => Code::NotFound,
        _ => Code::InvalidInput,
    };
    ApiError::new(code, format!("{status}:{word}")).with_vendor_code(word_code(word))
}

/// The vendor code of `word`, one of [`crate::error::Verifik`]'s own.
fn word_code(word: &str) -> &'static str {
    match word {
        "otp_does_not_match" => "otp_does_not_match",
        "email_validation_not_found" => "email_validation_not_found",
        "phone_validation_not_found" => "phone_validation_not_found",
        "emailValidation_has_expired" => "emailValidation_has_expired",
        "phoneValidation_has_expired" => "phoneValidation_has_expired",
        _ => "NotFound",
    }
}

fn not_found(channel: Channel) -> ApiError {
    word("404", &format!("{}_not_found", channel.kind().kind))
}

/// The contact given, which must be the registration's own where it has one.
fn own_contact(
    channel: Channel,
    fields: &Fields,
    registration: &ApiRecord,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let contact = channel.contact(fields)?;
    for (name, value) in &contact {
        if text(&registration.body, name).is_some_and(|own| own != *value) {
            return Err(ApiError::invalid(format!("\"{name}\" is not the one this registration was made with")));
        }
    }
    Ok(contact)
}

async fn create(state: AppState, headers: HeaderMap, channel: Channel, fields: Fields) -> VerifikResult<Response> {
    let (client, registration) = super::app_registrations::registration(&state, &headers).await?;
    let reg = &registration.body;
    if !matches!(text(reg, "status").as_deref(), Some("STARTED" | "ONGOING")) {
        return Err(conflict("appRegistration_not_active"))?;
    }
    crate::messages::relay(state.app.message_relay.as_ref())?;
    let method = contact::canonical(&fields, "validationMethod", &["verificationCode", "manual"])?;
    match method.as_deref() {
        None => return Err(contact::missing("validationMethod"))?,
        Some("manual") => {
            return Err(ApiError::new(
                Code::NotImplemented,
                "manual validation is a person's review, which Vouch does not do: use verificationCode",
            ))?
        }
        Some(_) => {}
    }
    let kind = contact::canonical(&fields, "type", &contact::TYPES)?.ok_or_else(|| contact::missing("type"))?;
    if fields.string("project")?.is_some_and(|p| Some(p) != text(reg, "project")) {
        return Err(ApiError::not_found("404:project_not_found").with_vendor_code("NotFound"))?;
    }
    let found = own_contact(channel, &fields, &registration)?;
    let now = time::OffsetDateTime::now_utc();
    let expires_at = fields.datetime("expiresAt")?.unwrap_or(now + contact::DEFAULT_TTL);
    if expires_at <= now || expires_at > now + contact::DEFAULT_TTL * 6 {
        return Err(ApiError::invalid("\"expiresAt\" must be within the next hour"))?;
    }
    // An open validation of the same address and type is sent a fresh code instead of a new one, as Verifik does.
    if let Some(open) = open_one(&state, &client, channel, &registration.id, &found, &kind, now).await? {
        if let Some(resent) = contact::resend_code(&state, &client, channel, open, expires_at).await? {
            let mut answer = records::answer(resent, &client.id);
            if let Some(object) = answer.as_object_mut() {
                object.insert("existing".into(), json!(true));
                object.insert("sent".into(), json!(true));
            }
            return Ok(ok(answer));
        }
    }
    if sent_lately(&state, &client, channel, &registration.id, now).await? >= MOST_SENT {
        return Err(ApiError::new(
            Code::TooManyAttempts,
            "too many codes for this registration within an hour: use the last one",
        ))?;
    }
    let mut body = Map::new();
    for (name, value) in found {
        body.insert(name.into(), json!(value));
    }
    for (name, value) in [
        ("project", text(reg, "project")),
        ("projectFlow", text(reg, "projectFlow")),
        ("appRegistration", Some(registration.id.clone())),
        ("type", Some(kind)),
        ("validationMethod", Some("verificationCode".into())),
        ("status", Some("sent".into())),
        ("expiresAt", Some(crate::adapters::rfc3339(expires_at))),
        ("ipAddress", fields.text("ipAddress", 64)?),
        ("language", text(reg, "language")),
    ] {
        if let Some(value) = value {
            body.insert(name.into(), json!(value));
        }
    }
    let (record, _code) =
        contact::open_code(&state, &client, channel, body, expires_at, contact::Proof::SentCode).await?;
    let mut answer = records::answer(record, &client.id);
    if let Some(object) = answer.as_object_mut() {
        object.insert("existing".into(), json!(false));
        object.insert("sent".into(), json!(true));
    }
    Ok(ok(answer))
}

/// The registration's newest validation on `channel` that still waits for its code, of the same address and type.
async fn open_one(
    state: &AppState,
    client: &Client,
    channel: Channel,
    registration: &str,
    contact: &[(&'static str, String)],
    kind: &str,
    now: time::OffsetDateTime,
) -> Result<Option<ApiRecord>, ApiError> {
    let Ok(newest) = find(state, client, channel, registration, None).await else { return Ok(None) };
    let body = &newest.body;
    let same = contact.iter().all(|(name, value)| text(body, name).as_deref() == Some(value.as_str()))
        && text(body, "type").as_deref() == Some(kind);
    let due = text(body, "expiresAt")
        .and_then(|t| time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok());
    Ok((same && due.is_some_and(|due| due > now)).then_some(newest))
}

/// How many codes this registration was sent on `channel` within the last [`SENDING_WINDOW`].
async fn sent_lately(
    state: &AppState,
    client: &Client,
    channel: Channel,
    registration: &str,
    now: time::OffsetDateTime,
) -> Result<usize, ApiError> {
    let query = RecordQuery {
        field: Some(("appRegistration".into(), registration.into())),
        limit: 100,
        newest_first: true,
        ..RecordQuery::default()
    };
    let owner = client.id.clone();
    let (found, _) = state.db(move |s| s.api_records(channel.kind().of(&owner), &query)).await?;
    Ok(found.iter().filter(|r| r.created_at > now - SENDING_WINDOW).count())
}

async fn validate(
    state: AppState,
    headers: HeaderMap,
    channel: Channel,
    id: Option<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    let (client, registration) = super::app_registrations::registration(&state, &headers).await?;
    let code = fields.text("otp", 12)?.or(fields.text("verificationCode", 12)?);
    let given = channel.contact(&fields).ok();
    let (Some(code), Some(given)) = (code, given) else {
        let what = match channel {
            Channel::Email => "missing_email_and_otp",
            Channel::Phone => "missing_phone_and_otp",
        };
        return Err(ApiError::invalid(what))?;
    };
    if !matches!(text(&registration.body, "status").as_deref(), Some("STARTED" | "ONGOING")) {
        return Err(conflict("appRegistration_not_active"))?;
    }
    let validation = find(&state, &client, channel, &registration.id, id).await?;
    // Someone else's validation, or another address, reads as none.
    if given.iter().any(|(name, value)| text(&validation.body, name).as_deref() != Some(value)) {
        return Err(not_found(channel))?;
    }
    let now = time::OffsetDateTime::now_utc();
    let attempts = match contact::try_code(&state, &client, channel, &validation.id, code, now).await? {
        Tried::Matched { attempts } => attempts,
        Tried::Wrong => return Err(word("403", "otp_does_not_match"))?,
        Tried::Refused(CodeRefusal::Expired) => {
            let kind = match channel {
                Channel::Email => "emailValidation_has_expired",
                Channel::Phone => "phoneValidation_has_expired",
            };
            return Err(word("412", kind))?;
        }
        Tried::Refused(refusal) => return Err(contact::refused(refusal))?,
    };
    let mut progress = Map::new();
    progress.insert(channel.registration_field().into(), json!(validation.id));
    if text(&registration.body, "status").as_deref() == Some("STARTED") {
        progress.insert("status".into(), json!("ONGOING"));
    }
    let more = vec![RecordWrite::Merge {
        api: API.into(),
        kind: "app_registration".into(),
        client_id: client.id.clone(),
        id: registration.id.clone(),
        fields: progress,
    }];
    let done = contact::redeem(&state, &client, channel, &validation.id, attempts, now, more).await?;
    tracing::info!(client_id = %client.id, kind = channel.kind().kind, "Verifik app registration contact validated");
    let field = |n: &str| done.get(n).cloned().unwrap_or(Value::Null);
    let mut answer = json!({"_id": field("_id"), "status": field("status"), "type": field("type"),
        "showFaceLivenessRecommendation": registration.body.get("person").is_none_or(Value::is_null)});
    if let Some(object) = answer.as_object_mut() {
        for name in ["email", "phone", "countryCode"] {
            if let Some(value) = done.get(name) {
                object.insert(name.into(), value.clone());
            }
        }
    }
    Ok(ok(answer))
}

/// The registration's validation `id`, or its newest one still waiting for its code.
async fn find(
    state: &AppState,
    client: &Client,
    channel: Channel,
    registration: &str,
    id: Option<String>,
) -> Result<ApiRecord, ApiError> {
    let owner = client.id.clone();
    let found = match id {
        Some(id) => match state.db(move |s| s.api_record(channel.kind().of(&owner), &id)).await {
            Ok(found) => Some(found),
            Err(e) if e.code == Code::NotFound => None,
            Err(e) => return Err(e),
        },
        None => {
            let query = RecordQuery {
                field: Some(("appRegistration".into(), registration.into())),
                limit: 100,
                newest_first: true,
                ..RecordQuery::default()
            };
            let (found, _) = state.db(move |s| s.api_records(channel.kind().of(&owner), &query)).await?;
            // A wrong try leaves a validation `new`, as Verifik's are while they wait for their code.
            found.into_iter().find(|r| matches!(text(&r.body, "status").as_deref(), Some("sent" | "new")))
        }
    };
    found
        .filter(|r| text(&r.body, "appRegistration").as_deref() == Some(registration))
        .ok_or_else(|| not_found(channel))
}
