//! eeID identification requests under `/eeid`, as `shared/specs/eeid-ident-api.yaml` specifies.
//!
//! Vouch statuses map onto eeID's three: pending and in_progress are `pending`; completed is
//! `completed`; expired, failed and cancelled are `expired` (the link can no longer be used and
//! there is no result). A request is visible only to the client that created it; others get 404.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_core::{Case, CaseId, CaseStatus, EvidenceKind, Outcome};

use crate::adapters::rfc3339;
use crate::error::{ApiError, Eeid, Failure};
use crate::extract::{require_bearer, Authed, JsonBody};
use crate::oauth::EeidError;
use crate::state::AppState;
use vouch_app::cases::{self, NewIdentification};

pub const API: &str = "eeid";
pub const MAX_PAGE_SIZE: u64 = 100;
const DEFAULT_PAGE_SIZE: u64 = 10;

type EeidResult<T> = Result<T, Failure<Eeid>>;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ClaimDto {
    /// sub, name, birthdate or country.
    #[serde(rename = "type")]
    #[schema(example = "sub")]
    pub claim_type: String,
    #[schema(example = "EE30303039914")]
    pub value: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ReasonTranslations {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub et: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ru: Option<String>,
    /// Any other language is refused with 422.
    #[serde(flatten)]
    #[schema(ignore)]
    pub other: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateIdentificationRequest {
    /// A unique reference for the request (unique per client).
    pub reference: Option<String>,
    /// Must include a `sub` claim with a non-empty value.
    pub claims_required: Vec<ClaimDto>,
    #[schema(example = "Test Reason")]
    pub reason: Option<String>,
    pub reason_translations: Option<ReasonTranslations>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentificationResult {
    /// eIDAS level of assurance.
    #[schema(example = "high")]
    pub acr: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// Unix time of the identification.
    pub auth_time: i64,
    pub given_name: String,
    pub family_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Unix time the document used stops being valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<i64>,
    #[schema(example = "ID_CARD")]
    pub authentication_type: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentificationRequest {
    pub id: String,
    /// The kiosk URL where the person completes this request.
    pub link: String,
    pub link_expires_at: String,
    pub claims_required: Vec<ClaimDto>,
    pub completed_at: Option<String>,
    /// pending, completed or expired.
    pub status: String,
    pub created_at: String,
    /// `{}` until the request is completed.
    #[schema(value_type = Object)]
    pub result: serde_json::Value,
    pub client_id: String,
    /// Absent when the request has none: the spec types it as a string, never `null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub reason_translations: ReasonTranslations,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentificationRequestList {
    pub page: u64,
    pub page_size: u64,
    pub total: u64,
    pub items: Vec<IdentificationRequest>,
}

pub fn eeid_status(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Pending | CaseStatus::InProgress => "pending",
        CaseStatus::Completed => "completed",
        CaseStatus::Expired | CaseStatus::Failed | CaseStatus::Cancelled => "expired",
    }
}

fn to_dto(case: &Case, public_url: &str) -> IdentificationRequest {
    let approved =
        case.decision.as_ref().filter(|d| d.outcome == Outcome::Approved && case.status == CaseStatus::Completed);
    let result = approved
        .and_then(|d| d.identity.as_ref().map(|id| (d, id)))
        .map(|(d, id)| {
            serde_json::to_value(IdentificationResult {
                acr: id.acr.clone(),
                sub: id.sub.clone(),
                auth_time: d.decided_at.unix_timestamp(),
                given_name: id.given_name.clone(),
                family_name: id.family_name.clone(),
                date_of_birth: id.date_of_birth.map(|d| d.to_string()),
                expiration_time: id.document_expires.map(|d| d.midnight().assume_utc().unix_timestamp()),
                authentication_type: id.authentication_type.clone(),
            })
            .unwrap_or_default()
        })
        .unwrap_or_else(|| serde_json::json!({}));
    let tr = |lang: &str| case.reason_translations.get(lang).cloned();
    IdentificationRequest {
        id: case.id.to_string(),
        link: vouch_app::kiosk::link(public_url, case.id),
        link_expires_at: rfc3339(case.expires_at),
        claims_required: case
            .claims
            .iter()
            .map(|c| ClaimDto { claim_type: c.claim_type.as_str().to_string(), value: c.value.clone() })
            .collect(),
        completed_at: approved.map(|d| rfc3339(d.decided_at)),
        status: eeid_status(case.status).to_string(),
        created_at: rfc3339(case.created_at),
        result,
        client_id: case.client_id.clone(),
        reference: case.reference.clone(),
        reason: case.reason.clone(),
        reason_translations: ReasonTranslations { en: tr("en"), et: tr("et"), ru: tr("ru"), other: BTreeMap::new() },
    }
}

/// The webhook body: compact JSON with no whitespace anywhere, so receivers that strip whitespace
/// before checking the HMAC (as internetee/registry does) compute the same signature.
pub fn completion_webhook_body(case: &Case) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        identification_request_id: String,
        client_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        reference: Option<&'a str>,
    }
    let body = Body {
        identification_request_id: case.id.to_string(),
        client_id: &case.client_id,
        reference: case.reference.as_deref(),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    // Compact JSON has whitespace only inside strings, and serde_json already escapes every ASCII
    // whitespace character except the space. Escaping spaces as \u0020 keeps values identical
    // when parsed while leaving no whitespace in the raw bytes.
    let mut out = Vec::with_capacity(bytes.len());
    for b in bytes {
        if b == b' ' {
            out.extend_from_slice(b"\\u0020");
        } else {
            out.push(b);
        }
    }
    out
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_requests, create_request))
        .routes(routes!(get_request))
        .routes(routes!(proof_of_identity))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Eeid>))
}

fn parse_paging(query: Option<&str>) -> Result<(u64, u64), ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|_| ApiError::invalid("The query string could not be parsed"))?;
    let mut page = 1;
    let mut page_size = DEFAULT_PAGE_SIZE;
    for (key, value) in pairs {
        let parse = |name: &str| {
            value
                .parse::<u64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::invalid(format!("{name} must be a positive integer")))
        };
        match key.as_str() {
            "page" => page = parse("page")?,
            "page_size" => page_size = parse("page_size")?.min(MAX_PAGE_SIZE),
            _ => {}
        }
    }
    Ok((page, page_size))
}

/// List this client's identification requests, newest first. `page` is 1-based; `page_size` is capped at 100.
#[utoipa::path(get, path = "/eeid/api/ident/v1/identification_requests", tag = "eeID",
    security(("bearer" = [])),
    params(("page" = Option<u64>, Query, description = "1-based page number, default 1"),
           ("page_size" = Option<u64>, Query, description = "items per page, default 10, at most 100")),
    responses((status = 200, body = IdentificationRequestList), (status = 401, body = EeidError), (status = 422, body = EeidError)))]
async fn list_requests(
    State(state): State<AppState>,
    Authed(client): Authed,
    RawQuery(query): RawQuery,
) -> EeidResult<Json<IdentificationRequestList>> {
    let (page, page_size) = parse_paging(query.as_deref())?;
    let offset = (page - 1).saturating_mul(page_size);
    let client_id = client.id.clone();
    let (items, total) = state.db(move |s| s.list_cases(&client_id, API, offset, page_size)).await?;
    let items = items.iter().map(|c| to_dto(c, &state.app.public_url)).collect();
    Ok(Json(IdentificationRequestList { page, page_size, total, items }))
}

/// Create an identification request. Claims are validated; a `sub` claim is required.
#[utoipa::path(post, path = "/eeid/api/ident/v1/identification_requests", tag = "eeID",
    security(("bearer" = [])),
    params(("Vouch-Branch" = Option<String>, Header,
            description = "Vouch's own: at a central service, the branch whose paired kiosks may run the request (any kiosk when absent)"),
           ("Vouch-Kiosk" = Option<String>, Header,
            description = "Vouch's own: at a central service, the one paired kiosk (its id) that may run the request")),
    request_body = CreateIdentificationRequest,
    responses((status = 201, body = IdentificationRequest), (status = 400, body = EeidError, description = "malformed JSON"),
              (status = 401, body = EeidError), (status = 413, body = EeidError), (status = 422, body = EeidError)))]
async fn create_request(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: axum::http::HeaderMap,
    JsonBody(body, ..): JsonBody<CreateIdentificationRequest, Eeid>,
) -> EeidResult<(StatusCode, Json<IdentificationRequest>)> {
    let audience = crate::extract::requested_audience(&state, &headers).await?;
    // Every language given goes to the case service, which owns the rule on which ones are accepted.
    let translations = body.reason_translations.unwrap_or_default();
    let mut reason_translations: BTreeMap<String, String> = translations
        .other
        .into_iter()
        .map(|(lang, text)| (lang, text.as_str().map_or_else(|| text.to_string(), str::to_string)))
        .collect();
    for (lang, text) in [("en", translations.en), ("et", translations.et), ("ru", translations.ru)] {
        if let Some(text) = text {
            reason_translations.insert(lang.to_string(), text);
        }
    }
    let input = NewIdentification {
        reference: body.reference,
        claims: body.claims_required.into_iter().map(|c| (c.claim_type, c.value)).collect(),
        reason: body.reason,
        reason_translations,
        audience,
    };
    let case = cases::create_identification(&state.app, &client, API, input).await.map_err(|e| {
        if e.code == vouch_app::AppCode::Conflict {
            ApiError::invalid("Reference has already been used for another identification request")
        } else {
            e.into()
        }
    })?;
    Ok((StatusCode::CREATED, Json(to_dto(&case, &state.app.public_url))))
}

/// The request if it exists and belongs to the caller; 404 otherwise, so other clients' ids reveal nothing.
async fn own_case(state: &AppState, client_id: &str, id: &str, not_found: &'static str) -> Result<Case, ApiError> {
    let case_id = CaseId::parse(id).ok_or_else(|| ApiError::not_found(not_found))?;
    let case = state.db(move |s| s.get_case(case_id)).await.map_err(|e| e.with_not_found(not_found))?;
    if case.client_id != client_id || case.api != API {
        return Err(ApiError::not_found(not_found));
    }
    Ok(case)
}

/// Retrieve one identification request.
#[utoipa::path(get, path = "/eeid/api/ident/v1/identification_requests/{id}", tag = "eeID",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's UUID")),
    responses((status = 200, body = IdentificationRequest), (status = 401, body = EeidError),
              (status = 404, body = EeidError, description = "{\"error\":\"Request not found\"}")))]
async fn get_request(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> EeidResult<Json<IdentificationRequest>> {
    let case = own_case(&state, &client.id, &id, "Request not found").await?;
    Ok(Json(to_dto(&case, &state.app.public_url)))
}

/// The proof-of-identity PDF of a completed request; 404 until the request is completed.
#[utoipa::path(get, path = "/eeid/api/ident/v1/identification_requests/{id}/proof_of_identity", tag = "eeID",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The request's UUID")),
    responses((status = 200, content_type = "application/pdf", body = Vec<u8>), (status = 401, body = EeidError),
              (status = 404, body = EeidError, description = "{\"error\":\"Proof of identity not found\"}")))]
async fn proof_of_identity(
    State(state): State<AppState>,
    Authed(client): Authed,
    Path(id): Path<String>,
) -> EeidResult<Response> {
    const NOT_FOUND: &str = "Proof of identity not found";
    let case = own_case(&state, &client.id, &id, NOT_FOUND).await?;
    if case.status != CaseStatus::Completed {
        return Err(ApiError::not_found(NOT_FOUND).into());
    }
    let case_id = case.id;
    let pdf = state
        .db(move |s| {
            let evidence = s.case_evidence(case_id)?;
            let proof = evidence
                .iter()
                .rev()
                .find(|e| e.kind == EvidenceKind::ProofOfIdentity)
                .ok_or(vouch_store::StoreError::NotFound)?;
            s.blobs().get(&proof.sha256)
        })
        .await
        .map_err(|e| e.with_not_found(NOT_FOUND))?;
    let mut resp = pdf.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", crate::proof::file_name(&case))) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_body_has_no_whitespace_and_keeps_values() {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        let case = Case {
            reference: Some("order 42\ttab".into()),
            status: CaseStatus::Completed,
            ..Case::pending("vouch-1", API, now, now)
        };
        let body = completion_webhook_body(&case);
        assert!(!body.iter().any(u8::is_ascii_whitespace), "{}", String::from_utf8_lossy(&body));
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(parsed["reference"], "order 42\ttab");
        assert_eq!(parsed["identification_request_id"], case.id.to_string());
    }

    #[test]
    fn paging_defaults_caps_and_rejects() {
        assert_eq!(parse_paging(None).unwrap(), (1, 10));
        assert_eq!(parse_paging(Some("page=3&page_size=1000")).unwrap(), (3, 100));
        assert!(parse_paging(Some("page=0")).is_err());
        assert!(parse_paging(Some("page_size=-1")).is_err());
        assert!(parse_paging(Some("page=abc")).is_err());
    }
}
