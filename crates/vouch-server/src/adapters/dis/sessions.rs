//! DIS sessions (`POST` and `DELETE /api/v1/sessions`) and who may call DIS: a client's bearer token, or a
//! session's `x-inn-session-token`. A session token reaches one customer only: it may make one
//! (`POST /customers`, or `POST /customers/{id}`), and then only that customer's routes; everything else is 403.
//! It ends at its timeout, when the client closes it, or when the client is revoked.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};
use vouch_store::dis_sessions::DisSession;

use super::faces::{json_body, DisResult, PREFIX};
use crate::error::{render, ApiError, Dis};
use crate::extract::{bearer_token, read_body, require_bearer, Authed};
use crate::state::AppState;

/// The header a front end sends a session's token in.
pub const SESSION_HEADER: &str = "x-inn-session-token";

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionRequest {
    /// The session's timeout in seconds, 1 to 86400.
    pub timeout: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreateSessionResponse {
    /// The session's token, as Base64 text.
    pub token: String,
}

pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session, close_session))
        .route_layer(axum::middleware::from_fn_with_state(state, require_bearer::<Dis>))
}

/// Opens a session for a front end: its token reaches one customer, for `timeout` seconds.
#[utoipa::path(post, path = "/identity/api/v1/sessions", tag = "DIS", security(("bearer" = [])),
    request_body = CreateSessionRequest,
    responses((status = 200, body = CreateSessionResponse), (status = 400, description = "INVALID_REQUEST_BODY"), (status = 401)))]
async fn create_session(
    State(state): State<AppState>,
    Authed(client): Authed,
    req: Request,
) -> DisResult<Json<CreateSessionResponse>> {
    let body: CreateSessionRequest = json_body(&read_body(req, &state).await?)?;
    let token = state.db(move |s| s.create_dis_session(&client.id, body.timeout)).await?;
    Ok(Json(CreateSessionResponse { token }))
}

/// Closes the session `x-inn-session-token` names: its token is refused from then on.
#[utoipa::path(delete, path = "/identity/api/v1/sessions", tag = "DIS", security(("bearer" = [])),
    params(("x-inn-session-token" = String, Header, description = "Session token as Base64 text")),
    responses((status = 204), (status = 400, description = "no x-inn-session-token"), (status = 401)))]
async fn close_session(
    State(state): State<AppState>,
    Authed(client): Authed,
    headers: HeaderMap,
) -> DisResult<StatusCode> {
    let token = session_token(&headers).ok_or_else(|| ApiError::invalid("x-inn-session-token is required"))?;
    state.db(move |s| s.close_dis_session(&client.id, &token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    let token = headers.get(SESSION_HEADER)?.to_str().ok()?.trim();
    (!token.is_empty()).then(|| token.to_string())
}

/// Middleware for DIS's customer routes: the client's bearer token, else an open session's token scoped to its
/// customer ([`session_reaches`]).
pub async fn bearer_or_session(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if bearer_token(req.headers()).is_some() {
        return require_bearer::<Dis>(State(state), req, next).await;
    }
    let Some(token) = session_token(req.headers()) else { return render::<Dis>(&ApiError::unauthorized()) };
    let session = match state.db(move |s| s.dis_session(&token, vouch_store::now())).await {
        Ok(Some(session)) => session,
        Ok(None) => return render::<Dis>(&ApiError::unauthorized()),
        Err(e) => return render::<Dis>(&e),
    };
    if !session_reaches(&session, req.method(), req.uri().path()) {
        return render::<Dis>(&ApiError::forbidden("A session token reaches only the customer of its session"));
    }
    req.extensions_mut().insert(Authed(session.client.clone()));
    req.extensions_mut().insert(session);
    next.run(req).await
}

/// Whether a session may make this call: make its one customer while it has none, or call that customer's routes.
fn session_reaches(session: &DisSession, method: &Method, path: &str) -> bool {
    let customers = format!("/identity{PREFIX}/customers");
    let Some(rest) = path.strip_prefix(&customers) else { return false };
    let rest = rest.strip_prefix('/');
    let id = rest.map(|r| r.split('/').next().unwrap_or_default());
    let making = *method == Method::POST && rest.is_none_or(|r| !r.contains('/'));
    match (&session.customer_id, id) {
        (None, _) => making,
        (Some(own), Some(id)) => own == id,
        (Some(_), None) => false,
    }
}

/// After a session made a customer: makes the session that customer's. False when another call of the same
/// session made one first; the caller then removes the customer it made.
pub(crate) async fn bind(state: &AppState, session: &DisSession, customer_id: &str) -> Result<bool, ApiError> {
    let (hash, id) = (session.token_hash.clone(), customer_id.to_string());
    state.db(move |s| s.bind_dis_session(&hash, &id)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(customer: Option<&str>) -> DisSession {
        let client = vouch_core::Client {
            id: "c".into(),
            name: "c".into(),
            scope: vouch_core::Scope::Integrator,
            token_ttl_secs: None,
            webhook_url: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            revoked_at: None,
        };
        DisSession { token_hash: vec![0; 32], client, customer_id: customer.map(Into::into) }
    }

    #[test]
    fn a_session_reaches_its_one_customer() {
        let fresh = session(None);
        assert!(session_reaches(&fresh, &Method::POST, "/identity/api/v1/customers"));
        assert!(session_reaches(&fresh, &Method::POST, "/identity/api/v1/customers/abc"));
        assert!(!session_reaches(&fresh, &Method::GET, "/identity/api/v1/customers/abc"));
        assert!(!session_reaches(&fresh, &Method::POST, "/identity/api/v1/faces"));
        let bound = session(Some("abc"));
        assert!(session_reaches(&bound, &Method::PUT, "/identity/api/v1/customers/abc/selfie"));
        assert!(session_reaches(&bound, &Method::GET, "/identity/api/v1/customers/abc"));
        assert!(!session_reaches(&bound, &Method::GET, "/identity/api/v1/customers/abd"));
        assert!(!session_reaches(&bound, &Method::POST, "/identity/api/v1/customers"));
        assert!(!session_reaches(&bound, &Method::GET, "/identity/api/v1/customersabc"));
        assert!(!session_reaches(&bound, &Method::DELETE, "/identity/api/v1/sessions"));
    }
}
