//! Request extractors that fail in the caller's dialect instead of axum's plain-text rejections.

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::de::DeserializeOwned;
use vouch_core::Client;

use crate::error::{render, ApiError, Code, Dialect, Failure};
use crate::state::AppState;

/// Reads the body within the router's size limit (so an oversized body is refused before parsing),
/// then parses JSON: syntax errors are 400 `MalformedBody`, wrong shapes are `InvalidInput`.
pub struct JsonBody<T, D>(pub T, pub PhantomData<D>);

/// The body limit of the routes a request reached: axum's rejection does not say which limit was exceeded.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A body limit for a group of routes (images, documents), recorded so that a 413 names it rather than the global
/// one.
pub fn body_limit(
    limit: usize,
) -> tower::ServiceBuilder<
    tower::layer::util::Stack<
        axum::Extension<BodyLimit>,
        tower::layer::util::Stack<axum::extract::DefaultBodyLimit, tower::layer::util::Identity>,
    >,
> {
    tower::ServiceBuilder::new()
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::Extension(BodyLimit(limit)))
}

pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    let limit = req.extensions().get::<BodyLimit>().map_or(state.config.body_limit_bytes, |l| l.0);
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::PayloadTooLarge, format!("The request body is larger than the limit of {limit} bytes"))
        } else {
            ApiError::new(Code::MalformedBody, "The request body could not be read")
        }
    })
}

fn is_json(parts_ct: Option<&header::HeaderValue>) -> bool {
    parts_ct
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| {
            let mime = mime.trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
        .unwrap_or(false)
}

/// Bodies larger than this are parsed on a blocking thread (an image or a PDF in base64 is megabytes of JSON).
const PARSE_INLINE_MAX: usize = 256 * 1024;

pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::new(Code::MalformedBody, format!("The request body is not valid JSON: {e}")))?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::invalid(format!("The request body does not have the expected fields: {e}")))
}

impl<T, D> FromRequest<AppState> for JsonBody<T, D>
where
    T: DeserializeOwned + Send + 'static,
    D: Dialect,
{
    type Rejection = Failure<D>;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return Err(ApiError::new(Code::UnsupportedMediaType, "Content-Type must be application/json").into());
        }
        let bytes = read_body(req, state).await?;
        let parsed = if bytes.len() <= PARSE_INLINE_MAX {
            parse_json(&bytes)?
        } else {
            tokio::task::spawn_blocking(move || parse_json(&bytes)).await.map_err(ApiError::internal)??
        };
        Ok(JsonBody(parsed, PhantomData))
    }
}

/// The client a valid bearer token belongs to, put in the request by [`require_bearer`].
#[derive(Clone, Debug)]
pub struct Authed(pub Client);

impl<S: Send + Sync> FromRequestParts<S> for Authed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authed>()
            .cloned()
            .ok_or_else(|| render::<crate::error::Native>(&ApiError::internal("route is missing its bearer layer")))
    }
}

pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

/// Middleware for every protected route: a valid, unexpired token of an active client, issued for this
/// API (or for any), or 401 in `D`'s format.
pub async fn require_bearer<D: Dialect>(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(token) = bearer_token(req.headers()).map(str::to_owned) else {
        return render::<D>(&ApiError::unauthorized());
    };
    match state.db(move |s| s.client_for_token(&token, D::API)).await {
        Ok(Some(client)) => {
            req.extensions_mut().insert(Authed(client));
            next.run(req).await
        }
        Ok(None) => render::<D>(&ApiError::unauthorized()),
        Err(e) => render::<D>(&e),
    }
}

/// The header with which an integrator at a central service names the branch whose kiosks may run the case it makes.
pub const BRANCH_HEADER: &str = "vouch-branch";

/// The header with which an integrator at a central service names the one paired kiosk that may run the case.
pub const KIOSK_HEADER: &str = "vouch-kiosk";

/// Which paired kiosks may run the case a call makes: `Vouch-Kiosk` (a paired kiosk's id; with `Vouch-Branch`
/// too, a kiosk of that branch), else `Vouch-Branch`, else any.
pub async fn requested_audience(
    state: &crate::state::AppState,
    headers: &axum::http::HeaderMap,
) -> Result<vouch_app::cases::Audience, ApiError> {
    let branch = requested_branch(headers)?;
    let Some(value) = headers.get(KIOSK_HEADER) else { return Ok(vouch_app::cases::Audience { branch, kiosk: None }) };
    let id = value.to_str().map(str::trim).unwrap_or_default().to_string();
    if id.is_empty() {
        return Ok(vouch_app::cases::Audience { branch, kiosk: None });
    }
    if id.len() > 100 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(ApiError::invalid("Vouch-Kiosk is a paired kiosk's id (vouch kiosks list)"));
    }
    let looked_up = id.clone();
    let kiosk = state
        .db(move |s| s.kiosk(&looked_up))
        .await?
        .ok_or_else(|| ApiError::invalid(format!("Vouch-Kiosk {id:?} is not a kiosk paired with this service")))?;
    if branch.as_ref().is_some_and(|b| kiosk.branch.as_ref() != Some(b)) {
        return Err(ApiError::invalid(format!("Vouch-Kiosk {id:?} is not a kiosk of the branch Vouch-Branch names")));
    }
    Ok(vouch_app::cases::Audience { branch, kiosk: Some(kiosk.id) })
}

/// The branch a case-making call names (`Vouch-Branch`), checked; `None` when absent or blank (any kiosk).
pub fn requested_branch(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(BRANCH_HEADER) else { return Ok(None) };
    // Branch names are the operator's own ("Bogotá Norte"): UTF-8 is taken, as HTTP clients send it.
    let text =
        std::str::from_utf8(value.as_bytes()).map_err(|_| ApiError::invalid("Vouch-Branch must be UTF-8 text"))?;
    Ok(vouch_app::cases::branch_label(Some(text))?)
}
