//! Verifik's tokens: `GET|POST /verifik/v2/auth/session` answers `{accessToken, tokenType: "bearer"}`, a JWT
//! that Vouch signs and that only `/verifik` accepts. Verifik hands its first token out in its dashboard;
//! Vouch hands it to a client that shows its Vouch credentials (HTTP Basic, `client_id:client_secret`). A
//! bearer of a valid token renews it the same way (`?origin=refresh`). Tokens last 30 days, as Verifik's do,
//! or `expiresIn` months (1 to 12), or the client's own token lifetime when an admin set one.
//! `POST /verifik/v2/auth/renew-and-revoke` exchanges a token for a new one and revokes the old one.

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{record_not_found, token_expired, unauthorized, VerifikResult, API};
use crate::error::{ApiError, Code, Failure, Verifik};
use crate::extract::bearer_token;
use crate::state::AppState;

/// Verifik's tokens are valid for 30 days unless asked otherwise.
const DEFAULT_TTL_SECS: u32 = 30 * 24 * 3600;
const MONTH_SECS: u32 = 30 * 24 * 3600;

#[derive(Serialize, ToSchema)]
pub struct SessionToken {
    #[serde(rename = "accessToken")]
    pub access_token: String,
    /// Always `bearer`.
    #[serde(rename = "tokenType")]
    pub token_type: &'static str,
    /// Seconds until the token expires.
    #[serde(rename = "expiresIn")]
    pub expires_in: u32,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(session_get, session_post)).routes(routes!(renew_and_revoke))
}

fn token_answer(issued: vouch_store::clients::IssuedToken) -> Response {
    let mut resp = Json(SessionToken { access_token: issued.token, token_type: "bearer", expires_in: issued.ttl_secs })
        .into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A new token for the one presented, which stops working at once (a token that leaked is ended this way).
/// It lasts `expiresIn` months when asked, else as long as the one it replaces.
#[utoipa::path(post, path = "/verifik/v2/auth/renew-and-revoke", tag = "Verifik", security(("bearer" = [])),
    params(("expiresIn" = Option<u32>, Query, description = "Months the new token lasts, 1 to 12")),
    responses((status = 200, body = SessionToken), (status = 401, description = "no token, a forged or revoked one"),
              (status = 403, description = "token_expired")))]
async fn renew_and_revoke(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    renew(state, headers, query).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

async fn renew(state: AppState, headers: HeaderMap, query: Option<String>) -> VerifikResult<Response> {
    let asked = requested_ttl(query.as_deref())?;
    let token = bearer_token(&headers).map(str::to_owned).ok_or_else(unauthorized)?;
    match state.db(move |s| s.renew_and_revoke_jwt(&token, API, asked)).await? {
        Ok(issued) => {
            tracing::info!(ttl = issued.ttl_secs, "renewed a Verifik token and revoked the old one");
            Ok(token_answer(issued))
        }
        Err(vouch_store::jwt::JwtCheck::Expired) => Err(token_expired())?,
        Err(_) => Err(unauthorized())?,
    }
}

/// `expiresIn`, in months.
fn requested_ttl(query: Option<&str>) -> Result<Option<u32>, ApiError> {
    let fields = super::params::Fields::of_query(query)?;
    Ok(fields.integer("expiresIn", 1, 12)?.map(|months| months * MONTH_SECS))
}

/// The client that asks: by its Vouch credentials, or by a valid Verifik token it holds.
async fn caller(state: &AppState, headers: &HeaderMap) -> Result<vouch_core::Client, ApiError> {
    if let Some(token) = bearer_token(headers).map(str::to_owned) {
        return match state.db(move |s| s.check_jwt(&token, API)).await? {
            vouch_store::jwt::JwtCheck::Valid { client, session: None } => Ok(client),
            vouch_store::jwt::JwtCheck::Expired => Err(token_expired()),
            _ => Err(unauthorized()),
        };
    }
    match crate::oauth::basic_credentials(headers) {
        Ok(Some(creds)) => crate::oauth::authenticate(state, creds).await.map_err(|_| unauthorized()),
        _ => Err(unauthorized()),
    }
}

async fn session(state: AppState, headers: HeaderMap, query: Option<String>) -> VerifikResult<Response> {
    let asked = requested_ttl(query.as_deref())?;
    let client = caller(&state, &headers).await?;
    let ttl = asked.or(client.token_ttl_secs).unwrap_or(DEFAULT_TTL_SECS);
    let client_id = client.id.clone();
    let issued = state.db(move |s| s.issue_jwt(&client_id, ttl, API, None)).await.map_err(|e| {
        if e.code == Code::NotFound {
            unauthorized()
        } else {
            record_not_found(e)
        }
    })?;
    tracing::info!(client_id = %client.id, ttl = issued.ttl_secs, "issued a Verifik token");
    Ok(token_answer(issued))
}

/// A Verifik token, for Vouch client credentials (HTTP Basic) or a valid token (renewal).
#[utoipa::path(get, path = "/verifik/v2/auth/session", tag = "Verifik",
    params(("expiresIn" = Option<u32>, Query, description = "Months the token lasts, 1 to 12; 30 days when absent"),
           ("origin" = Option<String>, Query, description = "`refresh` when renewing; not needed")),
    responses(
        (status = 200, body = SessionToken),
        (status = 401, description = "{\"message\":\"Authentication required\",\"code\":\"UNAUTHORIZED\"}"),
        (status = 403, description = "{\"message\":\"token_expired\",\"code\":\"FORBIDDEN\"}"),
        (status = 409, description = "expiresIn out of range (MissingParameter)"),
    ))]
async fn session_get(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    session(state, headers, query).await.unwrap_or_else(Failure::<Verifik>::into_response)
}

/// The same as the GET.
#[utoipa::path(post, path = "/verifik/v2/auth/session", tag = "Verifik",
    params(("expiresIn" = Option<u32>, Query, description = "Months the token lasts, 1 to 12")),
    responses((status = 200, body = SessionToken), (status = 401), (status = 403)))]
async fn session_post(State(state): State<AppState>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    session(state, headers, query).await.unwrap_or_else(Failure::<Verifik>::into_response)
}
