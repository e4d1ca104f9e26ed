//! OAuth2 client-credentials token issuance, served in three vendor shapes:
//! RFC 6749 at `/oauth/token`, DANAconnect at `/danaconnect/oauth2/token`, eeID at `/eeid/api/auth/v1/token`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, Code, Dialect, Eeid, Failure, OAuth};
use crate::extract::read_body;
use crate::state::AppState;

/// Default lifetimes when a client has none of its own.
pub const OAUTH_DEFAULT_TTL: u32 = 3600;
pub const DANACONNECT_DEFAULT_TTL: u32 = 1799;
pub const EEID_DEFAULT_TTL: u32 = 120;

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u32,
}

#[derive(Serialize, ToSchema)]
pub struct OAuthError {
    /// invalid_request, invalid_client or unsupported_grant_type.
    pub error: String,
    pub error_description: String,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(oauth_token)).routes(routes!(danaconnect_token)).routes(routes!(eeid_token))
}

#[derive(Debug)]
pub(crate) struct Credentials {
    pub id: String,
    pub secret: String,
}

fn percent_decode(s: &str) -> Option<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map(|(_, value)| value)
}

/// HTTP Basic client credentials. RFC 6749 §2.3.1 has them form-encoded before base64.
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Ok(None) };
    let malformed =
        || ApiError::new(Code::Unauthorized, "The Authorization header is not valid HTTP Basic credentials");
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = percent_decode(id).ok_or_else(malformed)?;
    let secret = percent_decode(secret).ok_or_else(malformed)?;
    if id.is_empty() {
        return Err(malformed());
    }
    Ok(Some(Credentials { id, secret }))
}

/// The active client these credentials belong to, for a vendor's token endpoint: a paired kiosk's client is
/// refused there (it takes its tokens at `/oauth/token`, for the sync API only). Every authentication failure looks
/// the same from outside; the reason is logged.
pub(crate) async fn authenticate(state: &AppState, creds: Credentials) -> Result<vouch_core::Client, ApiError> {
    let client = authenticate_any(state, creds).await?;
    if client.is_kiosk() {
        tracing::info!(client_id = %client.id, "a kiosk's client asked a vendor's token endpoint");
        return Err(ApiError::new(Code::Unauthorized, "Client authentication failed"));
    }
    Ok(client)
}

async fn authenticate_any(state: &AppState, creds: Credentials) -> Result<vouch_core::Client, ApiError> {
    let client_id = creds.id.clone();
    match state.db(move |s| s.authenticate_client(&creds.id, &creds.secret)).await? {
        Ok(client) => Ok(client),
        Err(why) => {
            tracing::info!(client_id = %client_id, reason = ?why, "client authentication failed");
            Err(ApiError::new(Code::Unauthorized, "Client authentication failed"))
        }
    }
}

/// Checks the credentials and signs a token (nothing is written). `audience`: the vendor API whose token
/// endpoint this is; None (the generic `/oauth/token`) for any.
async fn authenticate_and_issue(
    state: &AppState,
    creds: Credentials,
    default_ttl: u32,
    audience: Option<&'static str>,
) -> Result<TokenResponse, ApiError> {
    let client = match audience {
        Some(_) => authenticate(state, creds).await?,
        None => authenticate_any(state, creds).await?,
    };
    // A kiosk's token is for the sync API, whatever else it might ask for.
    let audience = if client.is_kiosk() { Some(vouch_store::kiosks::SYNC_API) } else { audience };
    let ttl = client.token_ttl_secs.unwrap_or(default_ttl);
    let client_id = client.id.clone();
    let issued = state.db(move |s| s.issue_token(&client_id, ttl, audience)).await?;
    tracing::info!(client_id = %client.id, ttl = issued.ttl_secs, "issued an access token");
    Ok(TokenResponse { access_token: issued.token, token_type: "Bearer", expires_in: issued.ttl_secs })
}

fn no_store(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// The RFC 6749 client-credentials grant, shared by `/oauth/token` and DANAconnect.
async fn client_credentials_grant(
    state: AppState,
    req: Request,
    default_ttl: u32,
    audience: Option<&'static str>,
) -> Response {
    let result: Result<TokenResponse, Failure<OAuth>> = async {
        let basic = basic_credentials(req.headers())?;
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::new(
                Code::MalformedBody,
                "The request must be application/x-www-form-urlencoded with grant_type=client_credentials",
            )
            .into());
        }
        let body = read_body(req, &state).await?;
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
            .map_err(|_| ApiError::new(Code::MalformedBody, "The form body could not be parsed"))?;
        let get = |name: &str| -> Result<Option<String>, ApiError> {
            let mut found = params.iter().filter(|(k, _)| k == name);
            let first = found.next().map(|(_, v)| v.clone());
            if found.next().is_some() {
                return Err(ApiError::new(Code::MalformedBody, format!("The parameter {name} is repeated")));
            }
            Ok(first)
        };
        let grant_type = get("grant_type")?;
        let body_id = get("client_id")?;
        let body_secret = get("client_secret")?;
        match grant_type.as_deref() {
            None | Some("") => {
                return Err(ApiError::new(Code::MalformedBody, "The grant_type parameter is missing").into())
            }
            Some("client_credentials") => {}
            Some(other) => {
                return Err(ApiError::new(
                    Code::NotImplemented,
                    format!("The grant type {other:?} is not supported; use client_credentials"),
                )
                .into())
            }
        }
        let creds = match (basic, body_id, body_secret) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(ApiError::new(Code::MalformedBody, "Use one client authentication method, not both").into())
            }
            (Some(basic), None, None) => basic,
            (None, Some(id), Some(secret)) if !id.is_empty() => Credentials { id, secret },
            (None, Some(_), None) => {
                return Err(ApiError::new(Code::MalformedBody, "The client_secret parameter is missing").into())
            }
            _ => return Err(ApiError::new(Code::Unauthorized, "Client authentication is missing").into()),
        };
        Ok(authenticate_and_issue(&state, creds, default_ttl, audience).await?)
    }
    .await;
    no_store(match result {
        Ok(token) => Json(token).into_response(),
        Err(failure) => failure.into_response(),
    })
}

/// OAuth2 client-credentials token (RFC 6749 §4.4). Client auth by HTTP Basic or by form body.
#[utoipa::path(post, path = "/oauth/token", tag = "OAuth2",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials[&client_id=..&client_secret=..]"),
    responses(
        (status = 200, body = TokenResponse, description = "Token issued; lifetime is the client's, or 3600 s"),
        (status = 400, body = OAuthError, description = "invalid_request or unsupported_grant_type"),
        (status = 401, body = OAuthError, description = "invalid_client"),
    ))]
async fn oauth_token(State(state): State<AppState>, req: Request) -> Response {
    client_credentials_grant(state, req, OAUTH_DEFAULT_TTL, None).await
}

/// DANAconnect OAuth2 token: the same grant, default lifetime 1799 s.
#[utoipa::path(post, path = "/danaconnect/oauth2/token", tag = "DANAconnect",
    request_body(content_type = "application/x-www-form-urlencoded", description = "grant_type=client_credentials"),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, body = OAuthError),
        (status = 401, body = OAuthError),
    ))]
async fn danaconnect_token(State(state): State<AppState>, req: Request) -> Response {
    client_credentials_grant(state, req, DANACONNECT_DEFAULT_TTL, Some(crate::error::Danaconnect::API)).await
}

#[derive(Serialize, ToSchema)]
pub struct EeidError {
    pub error: String,
}

/// eeID access token: HTTP Basic `client_id:client_secret`, no body; 201 on success.
#[utoipa::path(post, path = "/eeid/api/auth/v1/token", tag = "eeID",
    security(("basic" = [])),
    responses(
        (status = 201, body = TokenResponse, description = "Token created; lifetime the client's, or 120 s"),
        (status = 401, body = EeidError, description = "{\"error\":\"Invalid credentials\"}"),
    ))]
async fn eeid_token(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let invalid = || Failure::<Eeid>::from(ApiError::new(Code::Unauthorized, "Invalid credentials")).into_response();
    let creds = match basic_credentials(&headers) {
        Ok(Some(creds)) => creds,
        _ => return no_store(invalid()),
    };
    no_store(match authenticate_and_issue(&state, creds, EEID_DEFAULT_TTL, Some(Eeid::API)).await {
        Ok(token) => (StatusCode::CREATED, Json(token)).into_response(),
        Err(e) if e.code == Code::Unauthorized => invalid(),
        Err(e) => Failure::<Eeid>::from(e).into_response(),
    })
}
