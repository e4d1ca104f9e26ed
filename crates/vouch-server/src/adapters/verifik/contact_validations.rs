//! Verifik's e-mail and phone validations (`/verifik/v2/email-validations`, `/verifik/v2/phone-validations`): a
//! six-digit code that proves a person holds an address or a number.
//!
//! Vouch sends no e-mail or text messages. Creating a validation answers its code to the integrator, as Verifik's
//! own create answers `verificationCode`, and the integrator's mail or SMS gateway sends it. Vouch keeps only the
//! code's argon2id hash ([`vouch_store::one_time_codes`]). A code allows three tries and lasts ten minutes unless
//! `expiresAt` says otherwise. A `login` validation that passes makes an app login (`type: email` or `phone`) and
//! answers its token, with which the person opens a biometric login (`POST /v2/biometric-validations/app-login`).

use axum::extract::{Path, State};
use axum::response::Response;
use rand::Rng;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::Client;
use vouch_store::api_records::{new_id, ApiRecord, RecordQuery, RecordWrite};
use vouch_store::one_time_codes::{CodeRefusal, NewCodeRecord};

use super::params::{Fields, QueryFields};
use super::records::{self, Kind, Object, PROJECT, PROJECT_FLOW};
use super::{conflict, ok, precondition_failed, record_not_found, validations, VerifikResult, API};
use crate::error::{ApiError, Code};
use crate::extract::Authed;
use crate::state::AppState;

const MAX_ATTEMPTS: i64 = 3;
pub(super) const DEFAULT_TTL: time::Duration = time::Duration::minutes(10);
const LONGEST_TTL: time::Duration = time::Duration::days(7);
pub(super) const TYPES: [&str; 5] = ["validation", "login", "onboarding", "oneTimeLink", "register"];

/// Which kind of contact a validation proves.
#[derive(Clone, Copy)]
pub(super) enum Channel {
    Email,
    Phone,
}

const EMAIL: Kind =
    Kind { kind: "email_validation", build: made_here, filters: &["status", "email", "type", "project"] };
const PHONE: Kind =
    Kind { kind: "phone_validation", build: made_here, filters: &["status", "phone", "type", "project"] };

fn made_here(_: &Fields, _: Option<&Object>) -> Result<Object, ApiError> {
    Err(ApiError::invalid("a validation is created by its own POST"))
}

impl Channel {
    pub(super) fn kind(self) -> &'static Kind {
        match self {
            Channel::Email => &EMAIL,
            Channel::Phone => &PHONE,
        }
    }

    /// The address a message to the person goes to, from a validation's fields.
    pub(super) fn address(self, body: &Map<String, Value>) -> Option<String> {
        let text = |n: &str| body.get(n).and_then(Value::as_str);
        match self {
            Channel::Email => text("email").map(str::to_string),
            Channel::Phone => Some(format!("{} {}", text("countryCode")?, text("phone")?)),
        }
    }

    fn messages(self) -> crate::messages::Channel {
        match self {
            Channel::Email => crate::messages::Channel::Email,
            Channel::Phone => crate::messages::Channel::Sms,
        }
    }

    /// The app registration field that names a validation of this kind.
    pub(super) fn registration_field(self) -> &'static str {
        match self {
            Channel::Email => "emailValidation",
            Channel::Phone => "phoneValidation",
        }
    }

    /// The app login's `type`, and the app login field that names the validation.
    fn login(self) -> (&'static str, &'static str) {
        match self {
            Channel::Email => ("email", "emailValidation"),
            Channel::Phone => ("phone", "phoneValidation"),
        }
    }

    /// The contact the caller gave, checked, as (field, value) pairs to store; the first is the identifier.
    pub(super) fn contact(self, fields: &Fields) -> Result<Vec<(&'static str, String)>, ApiError> {
        match self {
            Channel::Email => {
                let email = fields.email("email")?.ok_or_else(|| missing("email"))?;
                // As Verifik does: spaces removed, lower case.
                let email: String = email.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
                Ok(vec![("email", email)])
            }
            Channel::Phone => {
                let phone = fields.phone("phone")?.ok_or_else(|| missing("phone"))?;
                let code = fields.country_code("countryCode")?.ok_or_else(|| missing("countryCode"))?;
                Ok(vec![("phone", phone), ("countryCode", code)])
            }
        }
    }
}

/// One of `allowed`, any case, spelt as Verifik spells it.
pub(super) fn canonical(fields: &Fields, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
    let given = fields.one_of(name, allowed)?;
    Ok(given.map(|g| allowed.iter().find(|a| a.eq_ignore_ascii_case(&g)).map_or(g, |a| (*a).to_string())))
}

pub(super) fn missing(name: &str) -> ApiError {
    ApiError::invalid(format!("\"{name}\" is required"))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_email, list_email))
        .routes(routes!(get_email))
        .routes(routes!(validate_email))
        .routes(routes!(validate_email_by_id))
        .routes(routes!(create_phone, list_phone))
        .routes(routes!(get_phone))
        .routes(routes!(validate_phone))
        .routes(routes!(validate_phone_by_id))
}

/// Create an e-mail validation: its code is in the answer (`verificationCode`), for your own mail to send.
#[utoipa::path(post, path = "/verifik/v2/email-validations", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "project, email, validationMethod (verificationCode), type, projectFlow, expiresAt, redirectUrl, webhookUrl, ipAddress, language"),
    responses((status = 200, description = "the validation, status new, with its verificationCode"),
              (status = 409, description = "MissingParameter"), (status = 412, description = "INVALID_PROJECT_ID"),
              (status = 501, description = "a link instead of a code (Vouch sends no messages)")))]
async fn create_email(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(create(&state, &client, Channel::Email, &fields).await?))
}

#[utoipa::path(get, path = "/verifik/v2/email-validations", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, description = "`{docs, pagination}`")))]
async fn list_email(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    Ok(ok(as_of_now(records::list_value(&state, &client.id, &EMAIL, &fields).await?)))
}

#[utoipa::path(get, path = "/verifik/v2/email-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_email(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(as_of_now(records::read_value(&state, &client.id, &EMAIL, id).await?)))
}

/// Validate an e-mail validation named by its address and project, as the official client sends it.
#[utoipa::path(post, path = "/verifik/v2/email-validations/validate", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "otp (or verificationCode), email, project, projectFlow, type"),
    responses((status = 200, description = "the validation, validated; for a login also token and appLogin"),
              (status = 400, description = "INVALID_CODE"), (status = 409, description = "CODE_EXPIRED"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 404)))]
async fn validate_email(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(validate(&state, &client, Channel::Email, None, &fields).await?))
}

#[utoipa::path(post, path = "/verifik/v2/email-validations/{id}/validate", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "verificationCode (or otp)"),
    responses((status = 200), (status = 400, description = "INVALID_CODE"), (status = 409, description = "CODE_EXPIRED"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 404)))]
async fn validate_email_by_id(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(validate(&state, &client, Channel::Email, Some(id), &fields).await?))
}

/// Create a phone validation: its code is in the answer (`verificationCode`), for your own SMS gateway to send.
#[utoipa::path(post, path = "/verifik/v2/phone-validations", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "project, phone, countryCode, validationMethod (verificationCode), type, projectFlow, expiresAt, redirectUrl, webhookUrl, ipAddress, language"),
    responses((status = 200, description = "the validation, status new, with its verificationCode"),
              (status = 409, description = "MissingParameter"), (status = 412, description = "INVALID_PROJECT_ID"),
              (status = 501, description = "a link instead of a code (Vouch sends no messages)")))]
async fn create_phone(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(create(&state, &client, Channel::Phone, &fields).await?))
}

#[utoipa::path(get, path = "/verifik/v2/phone-validations", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("limit" = Option<u32>, Query), ("status" = Option<String>, Query)),
    responses((status = 200, description = "`{docs, pagination}`")))]
async fn list_phone(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    Ok(ok(as_of_now(records::list_value(&state, &client.id, &PHONE, &fields).await?)))
}

#[utoipa::path(get, path = "/verifik/v2/phone-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404)))]
async fn get_phone(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(as_of_now(records::read_value(&state, &client.id, &PHONE, id).await?)))
}

#[utoipa::path(post, path = "/verifik/v2/phone-validations/validate", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "otp (or verificationCode), phone, countryCode, project, projectFlow, type"),
    responses((status = 200, description = "the validation, validated; for a login also token and appLogin"),
              (status = 400, description = "INVALID_CODE"), (status = 409, description = "CODE_EXPIRED"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 404)))]
async fn validate_phone(
    State(state): State<AppState>,
    Authed(client): Authed,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(validate(&state, &client, Channel::Phone, None, &fields).await?))
}

#[utoipa::path(post, path = "/verifik/v2/phone-validations/{id}/validate", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), request_body(content = Object, description = "verificationCode (or otp)"),
    responses((status = 200), (status = 400, description = "INVALID_CODE"), (status = 409, description = "CODE_EXPIRED"),
              (status = 410, description = "MAX_ATTEMPTS_EXCEEDED"), (status = 404)))]
async fn validate_phone_by_id(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
    fields: Fields,
) -> VerifikResult<Response> {
    Ok(ok(validate(&state, &client, Channel::Phone, Some(id), &fields).await?))
}

/// Checks what a create asks for, keeps the hash of a new code with the validation, and answers both.
async fn create(state: &AppState, client: &Client, channel: Channel, fields: &Fields) -> Result<Value, ApiError> {
    if fields.boolean("requires2FA")? == Some(true) {
        return Err(ApiError::new(Code::NotImplemented, "requires2FA needs codes that this Vouch does not send"));
    }
    let method = canonical(fields, "validationMethod", &["verificationCode", "oneTimeLink", "magicLink"])?;
    let method = method.ok_or_else(|| missing("validationMethod"))?;
    let by_link = method != "verificationCode";
    if by_link {
        // A link proves the person opened the message, so it only ever goes to them: it needs the relay.
        crate::messages::relay(state.app.message_relay.as_ref())?;
    }
    let project = fields.required_string("project")?;
    let project_flow = fields.string("projectFlow")?;
    let contact = channel.contact(fields)?;
    let kind = canonical(fields, "type", &TYPES)?.unwrap_or_else(|| "validation".into());
    let now = time::OffsetDateTime::now_utc();
    let expires_at = fields.datetime("expiresAt")?.unwrap_or(now + DEFAULT_TTL);
    if expires_at <= now || expires_at > now + LONGEST_TTL {
        return Err(ApiError::invalid("\"expiresAt\" must be in the next 7 days"));
    }
    exists(state, client, &PROJECT, &project, "INVALID_PROJECT_ID").await?;
    if let Some(flow) = &project_flow {
        exists(state, client, &PROJECT_FLOW, flow, "INVALID_PROJECT_FLOW").await?;
    }
    let mut body = Map::new();
    for (name, value) in contact {
        body.insert(name.into(), json!(value));
    }
    for (name, value) in [
        ("project", Some(project)),
        ("projectFlow", project_flow),
        ("type", Some(kind)),
        ("validationMethod", Some(method)),
        ("status", Some("new".into())),
        ("expiresAt", Some(crate::adapters::rfc3339(expires_at))),
        ("redirectUrl", fields.url("redirectUrl")?),
        ("webhookUrl", fields.url("webhookUrl")?),
        ("ipAddress", fields.text("ipAddress", 64)?),
        ("language", fields.text("language", 5)?),
    ] {
        if let Some(value) = value {
            body.insert(name.into(), json!(value));
        }
    }
    if by_link {
        let (record, _link) = open_code(state, client, channel, body, expires_at, Proof::Link).await?;
        let mut answer = records::answer(record, &client.id);
        if let Some(object) = answer.as_object_mut() {
            object.insert("sent".into(), json!(true));
        }
        return Ok(answer);
    }
    // Where an operator runs a message relay, Vouch sends the code as Verifik does; the answer still carries it.
    let proof = if state.app.message_relay.is_some() { Proof::SentCode } else { Proof::Code };
    let (record, code) = open_code(state, client, channel, body, expires_at, proof).await?;
    let mut answer = records::answer(record, &client.id);
    if let Some(object) = answer.as_object_mut() {
        object.insert("verificationCode".into(), json!(code));
        object.insert("sent".into(), json!(proof == Proof::SentCode));
    }
    Ok(answer)
}

/// What a validation's person proves they received.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Proof {
    /// A six-digit code, answered to the caller only.
    Code,
    /// A six-digit code, also sent to the person through the relay.
    SentCode,
    /// A single-use link to Vouch's confirmation page ([`super::links`]), sent to the person only.
    Link,
}

/// A link's key: 256 random bits, URL-safe.
fn link_key() -> String {
    use base64::Engine;
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

/// Stores a new validation (`body`) with the hash of a fresh code (or link key), the events that announce it and,
/// unless the proof is a code for the caller only, the message that carries it to the person, in one transaction;
/// the validation as stored, and its code (or key).
pub(super) async fn open_code(
    state: &AppState,
    client: &Client,
    channel: Channel,
    mut body: Map<String, Value>,
    expires_at: time::OffsetDateTime,
    proof: Proof,
) -> Result<(ApiRecord, String), ApiError> {
    let send = proof != Proof::Code;
    body.insert("attempts".into(), json!(0));
    body.insert("maxAttempts".into(), json!(MAX_ATTEMPTS));
    if send {
        body.insert("sends".into(), json!(1));
    }
    let relay = if send { Some(crate::messages::relay(state.app.message_relay.as_ref())?.clone()) } else { None };
    let to = channel.address(&body).ok_or_else(|| missing(channel.login().0))?;
    let code =
        if proof == Proof::Link { link_key() } else { format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32)) };
    let (owner, secret, retries) = (client.clone(), code.clone(), state.app.webhooks.retries);
    let kind = channel.kind();
    let id = new_id();
    let link = super::links::url(&state.app.public_url, &id, &code);
    let record = state
        .db(move |s| {
            // The event carries the validation as a read answers it: never its code.
            let data = records::answer_new(&id, &body, &owner.id);
            let event = format!("{}_created", kind.kind);
            let mut events = validations::record_events(s, &owner, retries, (&id, &body), &event, &data)?;
            if let Some(relay) = &relay {
                let sender = project_name(s, &owner.id, &body);
                let from = (to.as_str(), sender.as_deref());
                let content = if proof == Proof::Link {
                    crate::messages::Content::ConfirmLink { url: &link, expires_at }
                } else {
                    crate::messages::Content::VerificationCode { code: &secret, expires_at }
                };
                let message = message_to(channel, &body, from, content);
                events.push(message.queued(relay, API, &id, &owner.id, retries));
            }
            let new = NewCodeRecord { id: &id, body: &body, code: &secret, max_attempts: MAX_ATTEMPTS, expires_at };
            s.create_code_record(kind.of(&owner.id), &new, &events)
        })
        .await?;
    if send {
        state.app.outbox_wake.notify_one();
    }
    tracing::info!(id = %record.id, kind = kind.kind, sent = send, "Verifik contact validation created");
    Ok((record, code))
}

/// The message that carries `content` (a code, a link) to `to`, in the validation's language, from its project.
fn message_to<'a>(
    channel: Channel,
    body: &'a Map<String, Value>,
    (to, sender): (&'a str, Option<&'a str>),
    content: crate::messages::Content<'a>,
) -> crate::messages::Message<'a> {
    let language = body.get("language").and_then(Value::as_str).unwrap_or("en");
    crate::messages::Message { channel: channel.messages(), to, language, sender, content }
}

/// The name of the project a validation (`body`) belongs to, that its messages come from.
pub(super) fn project_name(s: &vouch_store::Store, client: &str, body: &Map<String, Value>) -> Option<String> {
    let project = body.get("project").and_then(Value::as_str)?;
    let record = s.api_record(PROJECT.of(client), project).ok()?;
    record.body.get("name").and_then(Value::as_str).map(str::to_string)
}

/// How many times one validation's code is sent at most (the first time and resends).
pub(super) const MOST_SENDS: i64 = 4;

/// Sends open validation `record` a fresh code until `expires_at`, as Verifik resends an active validation instead
/// of making another: the new code's hash, the validation's new expiry and send count, its `_resend` event and the
/// message, in one transaction. None when it is no longer open (spent, expired, out of tries) or was sent
/// [`MOST_SENDS`] times.
pub(super) async fn resend_code(
    state: &AppState,
    client: &Client,
    channel: Channel,
    record: ApiRecord,
    expires_at: time::OffsetDateTime,
) -> Result<Option<ApiRecord>, ApiError> {
    let sends = record.body.get("sends").and_then(Value::as_i64).unwrap_or(1);
    if sends >= MOST_SENDS {
        return Ok(None);
    }
    let relay = crate::messages::relay(state.app.message_relay.as_ref())?.clone();
    let to = channel.address(&record.body).ok_or_else(|| missing(channel.login().0))?;
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000u32));
    let changes = json!({"sends": sends + 1, "status": "sent", "expiresAt": crate::adapters::rfc3339(expires_at)});
    let write = merge_write(client, channel.kind(), &record.id, changes.clone());
    let (owner, retries, kind) = (client.clone(), state.app.webhooks.retries, channel.kind());
    let mut resent = record;
    resent.body.extend(changes.as_object().cloned().unwrap_or_default());
    resent.updated_at = time::OffsetDateTime::now_utc();
    let renewed = state
        .db(move |s| {
            let (id, body) = (resent.id.clone(), resent.body.clone());
            let data = records::answer(resent.clone(), &owner.id);
            let event = format!("{}_resend", kind.kind);
            let mut events = validations::record_events(s, &owner, retries, (&id, &body), &event, &data)?;
            let sender = project_name(s, &owner.id, &body);
            let content = crate::messages::Content::VerificationCode { code: &code, expires_at };
            let message = message_to(channel, &body, (&to, sender.as_deref()), content);
            events.push(message.queued(&relay, API, &id, &owner.id, retries));
            let renewed = s.renew_code(&owner.id, &id, &code, expires_at, std::slice::from_ref(&write), &events)?;
            Ok(renewed.then_some(resent))
        })
        .await?;
    if renewed.is_some() {
        state.app.outbox_wake.notify_one();
    }
    Ok(renewed)
}

async fn exists(state: &AppState, client: &Client, kind: &'static Kind, id: &str, word: &str) -> Result<(), ApiError> {
    let (owner, id) = (client.id.clone(), id.to_string());
    match state.db(move |s| s.api_record(kind.of(&owner), &id)).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == Code::NotFound => Err(precondition_failed(word)),
        Err(e) => Err(e),
    }
}

/// Checks a code: counts the try, compares, and on a match spends the code and writes what it proves.
async fn validate(
    state: &AppState,
    client: &Client,
    channel: Channel,
    id: Option<String>,
    fields: &Fields,
) -> Result<Value, ApiError> {
    let code = fields.text("verificationCode", 12)?.or(fields.text("otp", 12)?).ok_or_else(|| missing("otp"))?;
    let id = match id {
        Some(id) => id,
        None => named(state, client, channel, fields).await?,
    };
    let now = time::OffsetDateTime::now_utc();
    match try_code(state, client, channel, &id, code, now).await.map_err(record_not_found)? {
        Tried::Matched { attempts } => redeem(state, client, channel, &id, attempts, now, Vec::new()).await,
        Tried::Wrong => Err(invalid_code()),
        Tried::Refused(refusal) => Err(refused(refusal)),
    }
}

/// What a try at a validation's code came to.
pub(super) enum Tried {
    Matched {
        attempts: i64,
    },
    /// A wrong code with tries left.
    Wrong,
    /// Expired, spent, or out of tries (the last wrong code among them).
    Refused(CodeRefusal),
}

/// Counts a try at validation `id`'s code and compares it. A wrong code and an expiry are written to the
/// validation with their events; a match is left for [`redeem`] to spend. `NotFound` when there is no such code.
pub(super) async fn try_code(
    state: &AppState,
    client: &Client,
    channel: Channel,
    id: &str,
    code: String,
    now: time::OffsetDateTime,
) -> Result<Tried, ApiError> {
    let kind = channel.kind();
    let (owner, key) = (client.id.clone(), id.to_string());
    let counted = match state.db(move |s| s.take_code_try(&owner, &key, now)).await? {
        Ok(counted) => counted,
        Err(refusal) => {
            if refusal == CodeRefusal::Expired {
                change(state, client, kind, id, json!({"status": "expired"}), &["expired"]).await?;
            }
            return Ok(Tried::Refused(refusal));
        }
    };
    // argon2 compares in constant time; it runs off the async workers.
    let hash = counted.hash.clone();
    let matched = state.db(move |_| Ok(vouch_store::credentials::verify_secret(&code, &hash))).await?;
    if matched {
        return Ok(Tried::Matched { attempts: counted.attempts });
    }
    let exhausted = counted.attempts >= counted.max_attempts;
    let status = if exhausted { "failed" } else { "new" };
    let events: &[&str] = if exhausted { &["otp_incorect", "status"] } else { &["otp_incorect"] };
    change(state, client, kind, id, json!({"attempts": counted.attempts, "status": status}), events).await?;
    tracing::info!(id = %id, attempts = counted.attempts, "Verifik contact validation: a wrong code");
    Ok(if exhausted { Tried::Refused(CodeRefusal::TooManyTries) } else { Tried::Wrong })
}

/// Spends the code and writes the validation's new status, with the app login a `login` makes and the `more`
/// writes of the caller, in one transaction; the validation as answered, with the app login and its token for a
/// login.
pub(super) async fn redeem(
    state: &AppState,
    client: &Client,
    channel: Channel,
    id: &str,
    attempts: i64,
    at: time::OffsetDateTime,
    more: Vec<RecordWrite>,
) -> Result<Value, ApiError> {
    let kind = channel.kind();
    let (owner, key) = (client.id.clone(), id.to_string());
    let record = state.db(move |s| s.api_record(kind.of(&owner), &key)).await.map_err(record_not_found)?;
    let fields = json!({"status": "validated", "attempts": attempts, "validatedAt": crate::adapters::rfc3339(at)});
    let mut writes = vec![merge_write(client, kind, id, fields.clone())];
    writes.extend(more);
    let login = record.body.get("type").and_then(Value::as_str) == Some("login");
    let (login_type, login_field) = channel.login();
    if login {
        writes.push(RecordWrite::Insert(super::app_logins::new_contact_login(
            client,
            &record,
            login_type,
            login_field,
        )));
    }
    let (owner, key, retries) = (client.clone(), id.to_string(), state.app.webhooks.retries);
    let mut validated = record.clone();
    validated.body.extend(fields.as_object().cloned().unwrap_or_default());
    validated.updated_at = at;
    // The answer is the validation as this transaction writes it, so it is not read again.
    let body = validated.body.clone();
    let mut answer = records::answer(validated, &client.id);
    let data = answer.clone();
    state
        .db(move |s| {
            let event = format!("{}_status", kind.kind);
            let events = validations::record_events(s, &owner, retries, (&key, &body), &event, &data)?;
            s.redeem_code(&owner.id, &key, at, &writes, &events)
        })
        .await
        .map_err(|e| if e.code == Code::Conflict { conflict("already_validated") } else { e })?;
    tracing::info!(id = %id, kind = kind.kind, "Verifik contact validation validated");
    if login {
        let (app_login, token) = super::app_logins::login_by(state, client, login_field, id).await?;
        if let Some(object) = answer.as_object_mut() {
            object.insert("token".into(), json!(token));
            object.insert("appLogin".into(), app_login);
        }
    }
    Ok(answer)
}

/// The newest open validation of the contact (and project, and type) the body names, among its 100 newest.
async fn named(state: &AppState, client: &Client, channel: Channel, fields: &Fields) -> Result<String, ApiError> {
    let contact = channel.contact(fields)?;
    let (field, value) = contact.first().cloned().ok_or_else(|| missing("email"))?;
    let project = fields.string("project")?;
    let kind_asked = canonical(fields, "type", &TYPES)?;
    let query =
        RecordQuery { field: Some((field.into(), value)), limit: 100, newest_first: true, ..RecordQuery::default() };
    let (owner, kind) = (client.id.clone(), channel.kind());
    let (found, _) = state.db(move |s| s.api_records(kind.of(&owner), &query)).await?;
    let text = |r: &ApiRecord, name: &str| r.body.get(name).and_then(Value::as_str).map(str::to_string);
    found
        .into_iter()
        .filter(|r| text(r, "status").as_deref() == Some("new"))
        .filter(|r| project.is_none() || text(r, "project") == project)
        .find(|r| kind_asked.is_none() || text(r, "type") == kind_asked)
        .map(|r| r.id)
        .ok_or_else(|| ApiError::not_found("Record not found.").with_vendor_code("NotFound"))
}

/// A validation (or a list's `docs`) as it stands now: one still `new` past its `expiresAt` reads `expired`, before
/// anyone tries its code (which writes it so).
fn as_of_now(mut answer: Value) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let expire = |v: &mut Value| {
        let due = v
            .get("expiresAt")
            .and_then(Value::as_str)
            .and_then(|t| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok());
        if v.get("status").and_then(Value::as_str) == Some("new") && due.is_some_and(|due| due <= now) {
            if let Some(object) = v.as_object_mut() {
                object.insert("status".into(), json!("expired"));
            }
        }
    };
    match answer.get_mut("docs").and_then(Value::as_array_mut) {
        Some(docs) => docs.iter_mut().for_each(expire),
        None => expire(&mut answer),
    }
    answer
}

pub(super) fn merge_write(client: &Client, kind: &Kind, id: &str, fields: Value) -> RecordWrite {
    RecordWrite::Merge {
        api: API.into(),
        kind: kind.kind.into(),
        client_id: client.id.clone(),
        id: id.to_string(),
        fields: fields.as_object().cloned().unwrap_or_default(),
    }
}

/// Sets fields of validation `id` and queues `events` (suffixes of its kind's event names) that announce it as it
/// is then, in one transaction.
async fn change(
    state: &AppState,
    client: &Client,
    kind: &'static Kind,
    id: &str,
    fields: Value,
    events: &'static [&'static str],
) -> Result<(), ApiError> {
    let (owner, key, retries) = (client.clone(), id.to_string(), state.app.webhooks.retries);
    let write = merge_write(client, kind, id, fields.clone());
    state
        .db(move |s| {
            let mut record = s.api_record(kind.of(&owner.id), &key)?;
            record.body.extend(fields.as_object().cloned().unwrap_or_default());
            let body = record.body.clone();
            let data = records::answer(record, &owner.id);
            let mut announced = Vec::new();
            for suffix in events {
                let event = format!("{}_{suffix}", kind.kind);
                announced.extend(validations::record_events(s, &owner, retries, (&key, &body), &event, &data)?);
            }
            s.write_api_records(std::slice::from_ref(&write), &announced)
        })
        .await
}

fn invalid_code() -> ApiError {
    ApiError::new(Code::InvalidInput, "Invalid verification code").with_vendor_code("INVALID_CODE")
}

pub(super) fn refused(refusal: CodeRefusal) -> ApiError {
    match refusal {
        CodeRefusal::Expired => {
            ApiError::new(Code::Conflict, "Verification code expired").with_vendor_code("CODE_EXPIRED")
        }
        CodeRefusal::TooManyTries => {
            ApiError::new(Code::TooManyAttempts, "Maximum attempts exceeded").with_vendor_code("MAX_ATTEMPTS_EXCEEDED")
        }
        CodeRefusal::Used => conflict("already_validated"),
    }
}
