//! The DIS Trust Platform records, read back by admins under `/vouch/v1/trust-records` (DIS documents no read:
//! its Trust Platform is a separate console). The listing shows every record's hashes, purged ones included; a
//! download is the signed ZIP (`vouch_app::trust_records`). An integrator's token gets 403.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_store::trust_records::TrustRecord;

use crate::error::{Failure, Native};
use crate::extract::require_bearer;
use crate::native::{admin_only, NativeError};
use crate::state::AppState;

type NativeResult<T> = Result<T, Failure<Native>>;

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_trust_records))
        .routes(routes!(download_trust_record))
        .route_layer(axum::middleware::from_fn(admin_only))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Native>))
}

#[derive(Deserialize, IntoParams)]
pub struct TrustRecordQuery {
    /// The DIS customer's id (records outlive the customer).
    pub customer_id: Option<String>,
    /// The integrator's `externalId`, or the customer's id where none was given.
    pub external_id: Option<String>,
}

/// The OpenAPI document's picture of `vouch_store::trust_records::TrustRecord`.
#[derive(ToSchema)]
#[schema(as = TrustRecord)]
#[allow(dead_code)]
pub struct TrustRecordSchema {
    id: String,
    client_id: String,
    customer_id: String,
    external_id: String,
    /// IN_PROGRESS or FINISHED.
    onboarding_status: String,
    /// The signed ZIP's SHA-256.
    record_sha256: String,
    /// The SHA-256 of its `manifest.json`, which `manifest.json.p7s` signs.
    manifest_sha256: String,
    size_bytes: u64,
    created_at: String,
    /// When retention deleted the record's files.
    purged_at: Option<String>,
}

/// A customer's Trust Platform records (or those under one external id), newest first. Admin only.
#[utoipa::path(get, path = "/vouch/v1/trust-records", tag = "Vouch", security(("bearer" = [])),
    params(TrustRecordQuery),
    responses((status = 200, body = Vec<TrustRecordSchema>), (status = 400, body = NativeError),
              (status = 403, body = NativeError)))]
async fn list_trust_records(
    State(state): State<AppState>,
    Query(q): Query<TrustRecordQuery>,
) -> NativeResult<Json<Vec<TrustRecord>>> {
    Ok(Json(vouch_app::trust_records::list(&state.app, q.customer_id, q.external_id).await?))
}

/// One record as its signed ZIP: the files, `manifest.json` listing each with its SHA-256, `manifest.json.p7s`
/// (detached CMS by the kiosk key) and `kiosk-certificate.pem`. 404 once retention deleted it. Admin only.
#[utoipa::path(get, path = "/vouch/v1/trust-records/{id}", tag = "Vouch", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), (status = 403, body = NativeError),
              (status = 404, body = NativeError)))]
async fn download_trust_record(State(state): State<AppState>, Path(id): Path<String>) -> NativeResult<Response> {
    let (record, zip) = vouch_app::trust_records::download(&state.app, id).await?;
    let mut resp = zip.into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"trust-record-{}.zip\"", record.id)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}
