//! Verifik's biometric validations (`/verifik/v2/biometric-validations`): an integrator asks Vouch to check that
//! someone is the person enrolled (`validation`, `login`, `oneTimeLink`) or to enrol someone new
//! (`onboarding`), following a project flow. Each validation is a Vouch case opened for that person or the
//! flow's collection ([`vouch_app::subject_cases`]): its `url` opens it at the kiosk, and
//! `POST .../validate` with the validation's own token and a photo completes it from another device. Its steps
//! decide it; Verifik's events (`biometric_validation_new`, `_validated`, `_failed`, `_created_person`,
//! `_liveness_failed`) go out through the outbox with retries.
//!
//! Statuses: a case that is pending is `new`, in progress `pending`, completed `completed` (the event says
//! `validated`), failed `failed`, expired or cancelled `expired`.
//!
//! Webhooks go to the client's webhook URL, which an admin sets, and to the URLs the integrator names (a
//! validation's `webhookUrl`, the active `/v2/webhooks` linked to its project flow) only when they are on the
//! same origin as that URL: an API client cannot make Vouch post to any other address of its network.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_app::cases::DecisionEffects;
use vouch_app::subject_cases::{self, CaseFlow, NewSubjectCase};
use vouch_core::flow::{FaceReference, LivenessType, Step, StepKind, StepOutcome, StepRecord};
use vouch_core::{Case, CaseId, CaseStatus, Client};
use vouch_store::api_records::{RecordKind, RecordQuery, RecordWrite};
use vouch_store::case_subjects::CaseSubject;
use vouch_store::{Store, StoreError};

use super::params::{Fields, QueryFields};
use super::records::{PROJECT, PROJECT_FLOW, WEBHOOK};
use super::{envelope, ok, precondition_failed, record_not_found, unauthorized, VerifikResult, API};
use crate::error::{ApiError, Code, Failure, Verifik};
use crate::extract::{bearer_token, Authed};
use crate::state::AppState;

/// The audience of a validation's own token: accepted by `validate` only.
pub const SESSION_AUDIENCE: &str = "verifik-session";
/// The record kind Vouch keeps a validation's Verifik fields under (with the case's id).
const KIND: &str = "biometric_validation";
/// The 1:N score a face must reach to be the person, unless the project flow's `searchMinScore` says otherwise:
/// about 0.25 % false positives in a gallery of 1,000 (docs/benchmarks.md).
const DEFAULT_MATCH_SCORE: f64 = 0.75;
const TYPES: [&str; 4] = ["validation", "login", "onboarding", "oneTimeLink"];
const LIST_LIMIT_DEFAULT: u32 = 20;
const LIST_LIMIT_MAX: u32 = 100;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create, list)).routes(routes!(get_one))
}

/// `validate` carries its own token, so it is routed beside the JWT-protected routes, not under them.
pub fn session_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate))
}

fn of(client: &str) -> RecordKind<'_> {
    RecordKind { api: API, kind: KIND, client_id: client }
}

/// `scheme://host:port` of a URL, lower-cased, for the same-origin rule.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

/// Whether Vouch may post to `url` for `client`: the client's own webhook URL, or one on its origin.
fn allowed_target(client: &Client, url: &str) -> bool {
    match (&client.webhook_url, origin(url)) {
        (Some(own), Some(theirs)) => origin(own).is_some_and(|o| o == theirs),
        _ => false,
    }
}

/// The project flow a validation follows: the caller's, of the named project.
pub(super) async fn project_flow(
    state: &AppState,
    client: &str,
    project: &str,
    flow: &str,
) -> Result<Map<String, Value>, ApiError> {
    let (owner, project_id) = (client.to_string(), project.to_string());
    state
        .db(move |s| s.api_record(PROJECT.of(&owner), &project_id))
        .await
        .map_err(|_| precondition_failed("INVALID_PROJECT_ID"))?;
    let (owner, flow_id) = (client.to_string(), flow.to_string());
    let record = state
        .db(move |s| s.api_record(PROJECT_FLOW.of(&owner), &flow_id))
        .await
        .map_err(|_| precondition_failed("INVALID_PROJECT_FLOW"))?;
    if record.body.get("project").and_then(Value::as_str) != Some(project) {
        return Err(precondition_failed("INVALID_PROJECT_FLOW"));
    }
    Ok(record.body)
}

/// The collection the project flow's persons are in: the one it names (`assignedCollection`), or a new one
/// named after the flow, which the flow then names.
async fn assigned_collection(
    state: &AppState,
    client: &str,
    flow_id: &str,
    flow: &Map<String, Value>,
) -> Result<vouch_store::gallery_persons::GalleryCollection, ApiError> {
    if let Some(id) = flow.get("assignedCollection").and_then(Value::as_str) {
        return state.recognition.collection(client, id).await.map_err(|_| precondition_failed("INVALID_COLLECTION"));
    }
    let name = flow.get("name").and_then(Value::as_str).unwrap_or("Project flow").to_string();
    let collection = state
        .recognition
        .create_collection(client, name, format!("The persons of project flow {flow_id}"), None)
        .await?;
    let mut body = flow.clone();
    body.insert("assignedCollection".into(), json!(collection.id));
    body.insert("collectionCode".into(), json!(collection.code));
    let (owner, id) = (client.to_string(), flow_id.to_string());
    state.db(move |s| s.update_api_record(PROJECT_FLOW.of(&owner), &id, &body)).await?;
    Ok(collection)
}

/// The steps a validation of `kind` runs under the project flow's login settings.
fn steps_for(kind: &str, flow: &Map<String, Value>) -> Vec<Step> {
    let settings = flow.get("loginSettings").and_then(Value::as_object);
    let liveness = settings.and_then(|s| s.get("faceLiveness")).and_then(Value::as_bool).unwrap_or(true);
    let threshold = settings
        .and_then(|s| s.get("searchMinScore"))
        .and_then(Value::as_f64)
        .filter(|t| (0.5..=1.0).contains(t))
        .unwrap_or(DEFAULT_MATCH_SCORE);
    let capture = if liveness { Step::Liveness { liveness_type: LivenessType::Passive } } else { Step::Selfie {} };
    let check = if kind == "onboarding" {
        Step::DuplicateCheck { threshold, collection: None }
    } else {
        Step::FaceMatch { threshold, reference: FaceReference::Enrolled }
    };
    vec![capture, check, Step::Result {}]
}

/// Verifik's word for a case's status.
fn status_word(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Pending => "new",
        CaseStatus::InProgress => "pending",
        CaseStatus::Completed => "completed",
        CaseStatus::Failed => "failed",
        CaseStatus::Expired | CaseStatus::Cancelled => "expired",
    }
}

/// What the validation's steps found, by the names Verifik's results use.
fn verification_results(steps: &[StepRecord]) -> Value {
    let mut results = Map::new();
    for step in steps {
        let passed = step.outcome == StepOutcome::Passed;
        let score = step.detail.get("score").or_else(|| step.detail.get("best_score")).cloned().unwrap_or(Value::Null);
        let (name, mut value) = match step.kind {
            StepKind::Liveness => ("liveness", json!({"passed": passed, "liveness_score": score})),
            StepKind::FaceMatch => ("faceMatch", json!({"passed": passed, "score": score})),
            StepKind::DuplicateCheck => ("duplicateCheck", json!({"passed": passed, "best_score": score})),
            StepKind::Selfie => ("selfie", json!({"passed": passed})),
            _ => continue,
        };
        if let (Some(reason), Some(obj)) = (step.detail.get("reason"), value.as_object_mut()) {
            obj.insert("reason".into(), reason.clone());
        }
        results.insert(name.into(), value);
    }
    Value::Object(results)
}

/// The validation as Verifik answers it: its fields, its case's status and what its steps found.
fn dto(case: &Case, record: &Map<String, Value>, subject: Option<&CaseSubject>, steps: &[StepRecord]) -> Value {
    let mut body = record.clone();
    let completed = case.status.is_terminal().then(|| crate::adapters::rfc3339(case.updated_at));
    let person = subject
        .and_then(|s| s.enrolled_person_id.clone().or_else(|| s.person_id.clone()))
        .or_else(|| case.decision.as_ref().and_then(|d| d.identity.as_ref()).and_then(|i| i.sub.clone()));
    for (name, value) in [
        ("_id", json!(case.id)),
        ("client", json!(case.client_id)),
        ("status", json!(status_word(case.status))),
        ("verificationResults", verification_results(steps)),
        ("person", json!(person)),
        ("completedAt", json!(completed)),
        ("createdAt", json!(crate::adapters::rfc3339(case.created_at))),
        ("updatedAt", json!(crate::adapters::rfc3339(case.updated_at))),
        ("expiresAt", json!(crate::adapters::rfc3339(case.expires_at))),
    ] {
        body.insert(name.into(), value);
    }
    Value::Object(body)
}

/// The e-mail that hands the person their validation's `url`, when it was asked for (`sendViaEmail`).
async fn link_by_email(
    state: &AppState,
    client: &Client,
    record: &Map<String, Value>,
    case_id: CaseId,
    url: &str,
    expires_at: time::OffsetDateTime,
) -> Result<Vec<vouch_store::outbox::RecordEvent>, ApiError> {
    if record.get("sendViaEmail") != Some(&Value::Bool(true)) {
        return Ok(Vec::new());
    }
    let relay = crate::messages::relay(state.app.message_relay.as_ref())?;
    let (owner, of) = (client.id.clone(), record.clone());
    let sender = state.db(move |s| Ok(super::contact_validations::project_name(s, &owner, &of))).await?;
    let text = |name: &str| record.get(name).and_then(Value::as_str).unwrap_or_default();
    let message = crate::messages::Message {
        channel: crate::messages::Channel::Email,
        to: text("email"),
        language: text("language"),
        sender: sender.as_deref(),
        content: crate::messages::Content::ValidationLink { url, expires_at },
    };
    Ok(vec![message.queued(relay, API, &case_id.to_string(), &client.id, state.app.webhooks.retries)])
}

/// The webhooks that announce `event` of record `id` (one of Verifik's own records that is no case: an e-mail
/// validation, an app registration; `data` as answered), to the same targets as a biometric validation's.
pub(super) fn record_events(
    store: &Store,
    client: &Client,
    retries: u32,
    (id, record): (&str, &Map<String, Value>),
    event: &str,
    data: &Value,
) -> Result<Vec<vouch_store::outbox::RecordEvent>, StoreError> {
    let body = event_body(event, data);
    Ok(targets(store, client, record)?
        .into_iter()
        .map(|url| {
            let delivery = vouch_store::outbox::NewDelivery {
                client_id: client.id.clone(),
                url,
                body: body.clone(),
                max_attempts: retries + 1,
            };
            vouch_store::outbox::RecordEvent::event(API, id, delivery)
        })
        .collect())
}

fn event_body(event: &str, data: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({"event": event, "data": data})).unwrap_or_default()
}

/// Where a validation's events go: the client's URL, the validation's own, and the active webhooks linked to
/// its project flow; integrator-named URLs only on the client's origin.
fn targets(store: &Store, client: &Client, record: &Map<String, Value>) -> Result<Vec<String>, StoreError> {
    let mut urls: Vec<String> = client.webhook_url.iter().cloned().collect();
    let flow = record.get("projectFlow").and_then(Value::as_str).unwrap_or_default();
    let query = RecordQuery { limit: 100, ..RecordQuery::default() };
    let (hooks, _) = store.api_records(WEBHOOK.of(&client.id), &query)?;
    let linked = hooks.iter().filter(|h| h.body.get("isActive").and_then(Value::as_bool).unwrap_or(true)).filter(|h| {
        h.body.get("projectFlow").and_then(Value::as_array).is_some_and(|a| a.iter().any(|f| f.as_str() == Some(flow)))
    });
    let named = record.get("webhookUrl").and_then(Value::as_str).map(str::to_string);
    for url in
        named.into_iter().chain(linked.filter_map(|h| h.body.get("url").and_then(Value::as_str).map(str::to_string)))
    {
        if allowed_target(client, &url) && !urls.contains(&url) {
            urls.push(url);
        }
    }
    Ok(urls)
}

/// What a decided validation makes (see [`vouch_app::cases::CompletionWebhook::OnDecision`]): its events, and
/// for a completed `login` the app login it stands for.
pub fn decision_webhooks(store: &Store, case: &Case, client: &Client) -> Result<DecisionEffects, StoreError> {
    let record = match store.api_record(of(&client.id), &case.id.to_string()) {
        Ok(record) => record.body,
        Err(StoreError::NotFound) => return Ok(DecisionEffects::default()),
        Err(e) => return Err(e),
    };
    let steps = store.case_steps(case.id)?;
    let subject = store.case_subject(case.id)?;
    let data = dto(case, &record, subject.as_ref(), &steps);
    let mut events = vec![if case.status == CaseStatus::Completed {
        "biometric_validation_validated"
    } else {
        "biometric_validation_failed"
    }];
    if steps.iter().any(|s| s.kind == StepKind::Liveness && s.outcome == StepOutcome::Failed) {
        events.push("biometric_validation_liveness_failed");
    }
    if subject.as_ref().is_some_and(|s| s.enrolled_person_id.is_some()) {
        events.push("biometric_validation_created_person");
    }
    let urls = targets(store, client, &record)?;
    let deliveries = events
        .iter()
        .flat_map(|e| {
            let body = event_body(e, &data);
            urls.iter().map(move |u| (u.clone(), body.clone()))
        })
        .collect();
    let mut records = Vec::new();
    if case.status == CaseStatus::Completed {
        if record.get("type").and_then(Value::as_str) == Some("login") {
            records.push(RecordWrite::Insert(super::app_logins::new_login(client, &record, &data)));
        }
        records.extend(super::app_registrations::progress(client, &record, &data));
    }
    Ok(DecisionEffects { deliveries, records })
}

/// The validation's Verifik fields from a create request, checked.
pub(super) struct Asked {
    pub(super) project: String,
    pub(super) project_flow: String,
    pub(super) kind: String,
    pub(super) identifier: String,
    pub(super) person: Option<String>,
    pub(super) name: Option<String>,
    pub(super) expires_at: Option<time::OffsetDateTime>,
    pub(super) record: Map<String, Value>,
    /// `Vouch-Kiosk`, `Vouch-Branch`: which paired kiosks may run it at a central.
    pub(super) audience: vouch_app::cases::Audience,
}

fn asked(fields: &Fields) -> Result<Asked, ApiError> {
    if fields.boolean("requires2FA")? == Some(true) {
        return Err(ApiError::new(
            Code::NotImplemented,
            "requires2FA (a code by e-mail after the face) is not built: use an e-mail validation before or after",
        ));
    }
    let project = fields.required_string("project")?;
    let project_flow = fields.required_string("projectFlow")?;
    let identifier = fields.text("identifier", 200)?.ok_or_else(|| ApiError::invalid("\"identifier\" is required"))?;
    let kind = fields.one_of("type", &TYPES)?.unwrap_or_else(|| "validation".into());
    let kind = TYPES.iter().find(|t| t.eq_ignore_ascii_case(&kind)).map_or(kind, |t| (*t).to_string());
    let expires_at = fields.datetime("expiresAt")?;
    let mut record = Map::new();
    record.insert("project".into(), json!(project));
    record.insert("projectFlow".into(), json!(project_flow));
    record.insert("identifier".into(), json!(identifier));
    record.insert("type".into(), json!(kind));
    let language = fields.one_of("language", &["en", "es"])?.unwrap_or_else(|| "en".into()).to_ascii_lowercase();
    record.insert("language".into(), json!(language));
    for (name, value) in [
        ("redirectUrl", fields.url("redirectUrl")?),
        ("webhookUrl", fields.url("webhookUrl")?),
        ("email", fields.email("email")?),
        ("ipAddress", fields.text("ipAddress", 64)?),
    ] {
        if let Some(value) = value {
            record.insert(name.into(), json!(value));
        }
    }
    if fields.boolean("sendViaEmail")? == Some(true) {
        if !record.contains_key("email") {
            return Err(ApiError::invalid("\"email\" is required when sendViaEmail is true"));
        }
        record.insert("sendViaEmail".into(), json!(true));
    }
    Ok(Asked {
        project,
        project_flow,
        kind,
        identifier,
        person: fields.string("person")?,
        name: fields.text("name", 200)?,
        expires_at,
        record,
        audience: vouch_app::cases::Audience::default(),
    })
}

/// Create a biometric validation: a case at the kiosk (`url`) and a token that completes it from another
/// device (`validate`).
#[utoipa::path(post, path = "/verifik/v2/biometric-validations", tag = "Verifik", security(("bearer" = [])),
    params(("Vouch-Branch" = Option<String>, Header,
            description = "Vouch's own: at a central service, the branch whose paired kiosks may run the validation (any kiosk when absent)"),
           ("Vouch-Kiosk" = Option<String>, Header,
            description = "Vouch's own: at a central service, the one paired kiosk (its id) that may run the validation")),
    request_body(content = Object, description = "project, projectFlow, identifier (required); type (validation, login, onboarding, oneTimeLink; validation when absent), expiresAt, redirectUrl, webhookUrl (on the origin of the client's webhook URL), email, ipAddress, language (en, es); Vouch's own: person (the enrolled person to verify), name (the name an onboarding enrols)"),
    responses((status = 200, description = "`{livenessSession, biometricValidation, token}`"),
              (status = 409, description = "a missing or bad field (MissingParameter)"),
              (status = 412, description = "INVALID_PROJECT_ID, INVALID_PROJECT_FLOW, INVALID_PERSON, webhook_url_not_allowed"),
              (status = 501, description = "requires2FA; sendViaEmail without a message relay")))]
async fn create(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
    fields: Fields,
) -> VerifikResult<Response> {
    let mut asked = asked(&fields)?;
    asked.audience = crate::extract::requested_audience(&state, &headers).await?;
    Ok(ok(created(&state, &client, asked).await?))
}

/// Opens a validation and answers it as create does: `{livenessSession, biometricValidation, token}`.
pub(super) async fn created(state: &AppState, client: &Client, asked: Asked) -> Result<Value, ApiError> {
    let (case, stored, subject) = open(state, client, asked).await?;
    let session_ttl = u32::try_from((case.expires_at - vouch_store::now()).whole_seconds().max(1)).unwrap_or(u32::MAX);
    let (owner, sid) = (client.id.clone(), case.id.to_string());
    let token = state.db(move |s| s.issue_jwt(&owner, session_ttl, SESSION_AUDIENCE, Some(&sid))).await?;
    let validation = dto(&case, &stored, Some(&subject), &[]);
    let session = json!({
        "_id": case.id, "identifier": stored.get("identifier"), "status": "new",
        "expiresAt": crate::adapters::rfc3339(case.expires_at), "biometricValidation": case.id,
    });
    tracing::info!(case_id = %case.id, client_id = %client.id, "Verifik biometric validation created");
    Ok(json!({"livenessSession": session, "biometricValidation": validation, "token": token.token}))
}

/// Opens a validation: its case, following the project flow, with its record, its subject and its `new` event.
pub(super) async fn open(
    state: &AppState,
    client: &Client,
    asked: Asked,
) -> Result<(Case, Map<String, Value>, CaseSubject), ApiError> {
    if let Some(url) = asked.record.get("webhookUrl").and_then(Value::as_str) {
        if !allowed_target(client, url) {
            return Err(precondition_failed(
                "webhook_url_not_allowed: webhookUrl must be on the origin of the webhook URL an admin set for this client",
            ));
        }
    }
    let flow = project_flow(state, &client.id, &asked.project, &asked.project_flow).await?;
    let collection = assigned_collection(state, &client.id, &asked.project_flow, &flow).await?;
    let onboarding = asked.kind == "onboarding";
    if let Some(person) = asked.person.as_deref().filter(|_| !onboarding) {
        state.recognition.person(&client.id, person).await.map_err(|_| precondition_failed("INVALID_PERSON"))?;
    }
    let ttl = time::Duration::try_from(state.app.case_ttl).unwrap_or(time::Duration::days(7));
    let expires_at = asked.expires_at.unwrap_or_else(|| vouch_store::now() + ttl);
    let mut record = asked.record;
    record.insert("assignedCollection".into(), json!(collection.id));
    record.insert("collectionCode".into(), json!(collection.code));
    let flow_name = flow.get("name").and_then(Value::as_str).unwrap_or("project flow");
    let case_id = CaseId::new();
    let url = vouch_app::kiosk::link(&state.app.public_url, case_id);
    record.insert("url".into(), json!(url));
    let messages = link_by_email(state, client, &record, case_id, &url, expires_at).await?;
    let subject = CaseSubject {
        collection_id: Some(collection.id.clone()),
        person_id: asked.person.filter(|_| !onboarding),
        enrol_as: onboarding.then(|| asked.name.unwrap_or_else(|| asked.identifier.clone())),
        decided_by_steps: true,
        enrolled_person_id: None,
    };
    let new = NewSubjectCase {
        id: case_id,
        api: API,
        reference: None,
        reason: None,
        expires_at,
        flow: CaseFlow {
            id: format!("verifik-{}-{}", asked.project_flow, asked.kind.to_ascii_lowercase()),
            name: format!("Verifik {}: {flow_name}", asked.kind),
            steps: steps_for(&asked.kind, &flow),
        },
        subject: subject.clone(),
        record: Some((KIND, record.clone())),
        messages,
        audience: asked.audience,
    };
    let (announcer, announced) = (client.clone(), record.clone());
    let announce: subject_cases::Announce = Box::new(move |store, case| {
        let data = dto(case, &announced, None, &[]);
        let body = event_body("biometric_validation_new", &data);
        Ok(targets(store, &announcer, &announced)?.into_iter().map(|url| (url, body.clone())).collect())
    });
    let case = subject_cases::create(&state.app, client, new, announce).await?;
    Ok((case, record, subject))
}

/// Page through the caller's validations, newest first.
#[utoipa::path(get, path = "/verifik/v2/biometric-validations", tag = "Verifik", security(("bearer" = [])),
    params(("page" = Option<u32>, Query), ("perPage" = Option<u32>, Query, description = "At most 100; 20 when absent")),
    responses((status = 200, description = "`{data: [...], pagination: {page, perPage, total, pages}}` in the envelope")))]
async fn list(
    State(state): State<AppState>,
    Authed(client): Authed,
    QueryFields(fields): QueryFields,
) -> VerifikResult<Response> {
    let page = fields.integer("page", 1, 1_000_000)?.unwrap_or(1);
    let limit = fields.integer("perPage", 1, LIST_LIMIT_MAX)?.or(fields.integer("limit", 1, LIST_LIMIT_MAX)?);
    let limit = limit.unwrap_or(LIST_LIMIT_DEFAULT);
    let owner = client.id.clone();
    let offset = u64::from(page - 1) * u64::from(limit);
    let (items, total) = state
        .db(move |s| {
            let (cases, total) = s.list_cases(&owner, API, offset, u64::from(limit))?;
            let mut items = Vec::with_capacity(cases.len());
            for case in cases {
                items.push(read(s, &owner, case)?);
            }
            Ok((items, total))
        })
        .await?;
    let mut answer = serde_json::to_value(envelope(items)).unwrap_or_default();
    if let Some(obj) = answer.as_object_mut() {
        let pages = total.div_ceil(u64::from(limit));
        obj.insert("pagination".into(), json!({"page": page, "perPage": limit, "total": total, "pages": pages}));
    }
    Ok(Json(answer).into_response())
}

/// A validation as the API answers it, from its case, record, subject and steps.
fn read(store: &Store, client: &str, case: Case) -> Result<Value, StoreError> {
    let record = store.api_record(of(client), &case.id.to_string()).map(|r| r.body).unwrap_or_default();
    let subject = store.case_subject(case.id)?;
    let steps = store.case_steps(case.id)?;
    Ok(dto(&case, &record, subject.as_ref(), &steps))
}

/// The caller's validation `id`.
pub(super) async fn own(state: &AppState, client: &str, id: &str) -> Result<Value, ApiError> {
    let case_id = CaseId::parse(id).ok_or_else(|| record_not_found(ApiError::not_found("")))?;
    let owner = client.to_string();
    state
        .db(move |s| {
            let case = s.get_case(case_id)?;
            if case.client_id != owner || case.api != API {
                return Err(StoreError::NotFound);
            }
            read(s, &owner, case)
        })
        .await
        .map_err(record_not_found)
}

/// One validation: its status (new, pending, completed, failed, expired) and what its steps found.
#[utoipa::path(get, path = "/verifik/v2/biometric-validations/{id}", tag = "Verifik", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200), (status = 404, description = "Record not found.")))]
async fn get_one(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> VerifikResult<Response> {
    Ok(ok(own(&state, &client.id, &id).await?))
}

/// The validation a session token names, and its client.
async fn session(state: &AppState, headers: &HeaderMap) -> Result<(Client, CaseId), ApiError> {
    let token = bearer_token(headers).map(str::to_owned).ok_or_else(unauthorized)?;
    match state.db(move |s| s.check_jwt(&token, SESSION_AUDIENCE)).await? {
        vouch_store::jwt::JwtCheck::Valid { client, session: Some(sid) } => {
            let case_id = CaseId::parse(&sid).ok_or_else(unauthorized)?;
            Ok((client, case_id))
        }
        vouch_store::jwt::JwtCheck::Expired => Err(super::token_expired()),
        _ => Err(unauthorized()),
    }
}

/// Complete a validation from another device: a photo of the person, with the validation's own token (the
/// `token` its create answered) as the bearer. Its steps run on the photo and decide it.
#[utoipa::path(post, path = "/verifik/v2/biometric-validations/validate", tag = "Verifik", security(("bearer" = [])),
    request_body(content = Object, description = "image (base64 or data URI)"),
    responses((status = 200, description = "The validation, decided"), (status = 401), (status = 403, description = "token_expired"),
              (status = 409, description = "the validation is decided or expired, or a step needs the kiosk")))]
async fn validate(State(state): State<AppState>, headers: HeaderMap, fields: Fields) -> Response {
    validate_inner(state, headers, fields).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn validate_inner(state: AppState, headers: HeaderMap, fields: Fields) -> VerifikResult<Response> {
    let (client, case_id) = session(&state, &headers).await?;
    let photo = fields.image(&state, "image").await?;
    let actor = format!("verifik-session:{}", client.id);
    subject_cases::complete_with_photo(&state.app, &state.faces, &state.recognition, case_id, photo, actor).await?;
    let mut answer = own(&state, &client.id, &case_id.to_string()).await?;
    // A login that passed made an app login; its token is the person's, for their next validations.
    if let Some(token) = super::app_logins::token_for(&state, &client.id, case_id).await? {
        let redirect = answer.get("redirectUrl").and_then(Value::as_str).map(|url| {
            let joint = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joint}token={token}")
        });
        if let Some(obj) = answer.as_object_mut() {
            obj.insert("token".into(), json!(token));
            if let Some(redirect) = redirect {
                obj.insert("redirectUrl".into(), json!(redirect));
            }
        }
    }
    Ok(ok(answer))
}
