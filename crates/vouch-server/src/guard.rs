//! The front door, in front of every route:
//!
//! - `Host` must name this server (its bound address, `localhost` on loopback, the public URL's host, or a
//!   configured extra host), so a web page cannot reach the kiosk by DNS rebinding;
//! - a browser's `Origin`, when sent, must be this server's own origin, so a page elsewhere cannot post to it;
//! - every rejection leaves as JSON in the dialect of the API the path belongs to, including the ones axum
//!   makes itself (a bad path or query value, a wrong method), which are plain text or empty otherwise.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{render, ApiError, Code, Danaconnect, Dis, Eeid, MasStack, Native, OAuth, Verifik};
use crate::state::AppState;

/// The hosts and origins this server answers to, fixed once it is bound.
#[derive(Debug, Default)]
pub struct AllowedHosts {
    hosts: BTreeSet<String>,
    origins: BTreeSet<String>,
}

impl AllowedHosts {
    /// `addr`: where the server listens; `public_url`: the base handed out in links; `extra`: more host
    /// names (`host` or `host:port`) an operator allows, e.g. a reverse proxy's.
    pub fn new(addr: SocketAddr, public_url: &str, extra: &[String]) -> AllowedHosts {
        let mut hosts = BTreeSet::new();
        let port = addr.port();
        hosts.insert(addr.to_string().to_ascii_lowercase());
        // A server on every address (`0.0.0.0`) is on loopback too.
        if addr.ip().is_loopback() || addr.ip().is_unspecified() {
            for name in ["localhost", "127.0.0.1", "[::1]"] {
                hosts.insert(format!("{name}:{port}"));
            }
        }
        let mut origins = BTreeSet::new();
        if let Some((scheme, rest)) = public_url.split_once("://") {
            let authority = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
            if !authority.is_empty() {
                hosts.insert(authority.clone());
                origins.insert(format!("{}://{authority}", scheme.to_ascii_lowercase()));
            }
        }
        hosts.extend(extra.iter().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()));
        for host in &hosts {
            origins.insert(format!("http://{host}"));
            origins.insert(format!("https://{host}"));
        }
        AllowedHosts { hosts, origins }
    }

    pub fn host_ok(&self, host: &str) -> bool {
        self.hosts.contains(&host.trim().to_ascii_lowercase())
    }

    pub fn origin_ok(&self, origin: &str) -> bool {
        self.origins.contains(&origin.trim().trim_end_matches('/').to_ascii_lowercase())
    }
}

/// Renders `err` in the error format of the API that `path` belongs to.
pub fn render_for_path(path: &str, err: &ApiError) -> Response {
    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if under("/oauth") || path == "/danaconnect/oauth2/token" {
        render::<OAuth>(err)
    } else if under("/identity") {
        render::<Dis>(err)
    } else if under("/eeid") {
        render::<Eeid>(err)
    } else if under("/danaconnect") {
        render::<Danaconnect>(err)
    } else if under("/masstack") {
        render::<MasStack>(err)
    } else if under("/verifik") {
        render::<Verifik>(err)
    } else {
        render::<Native>(err)
    }
}

/// Refuses a request whose `Host` or `Origin` is not this server's.
pub async fn check_host_and_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    if !host.is_some_and(|h| state.hosts.host_ok(h)) {
        tracing::warn!(host = host.unwrap_or("(none)"), "refused a request for another host (DNS rebinding?)");
        return render_for_path(
            &path,
            &ApiError::forbidden("This server does not answer to that Host; use the address it prints at start"),
        );
    }
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        if !origin.to_str().is_ok_and(|o| state.hosts.origin_ok(o)) {
            tracing::warn!("refused a cross-origin browser request");
            return render_for_path(&path, &ApiError::forbidden("Requests from other web origins are refused"));
        }
    }
    json_rejections(&path, next.run(req).await).await
}

/// axum's own rejections (a path or query value that does not parse, a wrong method, an unknown route
/// inside a router) are plain text or empty; they are rewritten in the path's dialect.
async fn json_rejections(path: &str, resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let content_type = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if content_type.contains("json") || content_type.starts_with("text/html") {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // Rejection texts are short; anything longer is not a rejection and is passed on unread.
    let text = match axum::body::to_bytes(body, 4096).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).trim().to_string(),
        Err(_) => return Response::from_parts(parts, Body::empty()),
    };
    let code = match parts.status {
        StatusCode::METHOD_NOT_ALLOWED => Code::MethodNotAllowed,
        StatusCode::NOT_FOUND => Code::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::UnsupportedMediaType,
        StatusCode::UNPROCESSABLE_ENTITY => Code::InvalidInput,
        StatusCode::UNAUTHORIZED => Code::Unauthorized,
        StatusCode::FORBIDDEN => Code::Forbidden,
        StatusCode::SERVICE_UNAVAILABLE => Code::Busy,
        s if s.is_server_error() => Code::Internal,
        _ => Code::MalformedBody,
    };
    let message = match code {
        Code::MethodNotAllowed => format!("This method is not allowed on {path}"),
        Code::Internal => "An error occurred".to_string(),
        _ if text.is_empty() => parts.status.canonical_reason().unwrap_or("Bad request").to_string(),
        _ => text,
    };
    let mut fixed = render_for_path(path, &ApiError::new(code, message));
    // The status stays what axum chose (a dialect may map codes to other statuses, e.g. DIS has no 422).
    if code == Code::MethodNotAllowed || code == Code::MalformedBody {
        *fixed.status_mut() = parts.status;
    }
    for (name, value) in parts.headers.iter() {
        if name == header::ALLOW || name == header::RETRY_AFTER {
            fixed.headers_mut().insert(name.clone(), value.clone());
        }
    }
    fixed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_and_the_public_url_are_allowed_nothing_else() {
        let hosts = AllowedHosts::new(([127, 0, 0, 1], 8270).into(), "https://kiosk.branch.example", &[]);
        for ok in ["127.0.0.1:8270", "localhost:8270", "LOCALHOST:8270", "[::1]:8270", "kiosk.branch.example"] {
            assert!(hosts.host_ok(ok), "{ok}");
        }
        for bad in ["evil.example:8270", "127.0.0.1:8271", "localhost", "attacker.example", ""] {
            assert!(!hosts.host_ok(bad), "{bad}");
        }
        assert!(hosts.origin_ok("http://127.0.0.1:8270"));
        assert!(hosts.origin_ok("https://kiosk.branch.example"));
        assert!(!hosts.origin_ok("http://evil.example"));
        assert!(!hosts.origin_ok("null"));
    }
}
