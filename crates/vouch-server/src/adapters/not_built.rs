//! Everything under a vendor prefix that Vouch does not serve yet answers 501 in that vendor's error
//! format, naming what is missing, instead of a bare 404. The README's gaps table lists them.

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::{render, ApiError, Code, Dis, Eeid, Native};

fn not_built(vendor: &str, method: &Method, uri: &Uri) -> ApiError {
    ApiError::new(
        Code::NotImplemented,
        format!("{method} {} ({vendor}) is not built in Vouch yet; see the gaps table in the README", uri.path()),
    )
}

pub async fn dis(method: Method, uri: Uri) -> Response {
    render::<Dis>(&not_built("Innovatrics DIS", &method, &uri))
}

pub async fn eeid(method: Method, uri: Uri) -> Response {
    render::<Eeid>(&not_built("eeID", &method, &uri))
}

/// Verifik and DANAconnect errors are `{code, message}`, the same shape as Vouch's own.
pub async fn verifik(method: Method, uri: Uri) -> Response {
    render::<Native>(&not_built("Verifik", &method, &uri))
}

pub async fn danaconnect(method: Method, uri: Uri) -> Response {
    render::<Native>(&not_built("DANAconnect", &method, &uri))
}

pub async fn masstack(method: Method, uri: Uri) -> Response {
    let err = not_built("MasStack", &method, &uri);
    let body =
        serde_json::json!({"errors": [{"code": "MDOC_501", "title": "NOT_IMPLEMENTED", "details": err.message}]});
    (StatusCode::NOT_IMPLEMENTED, Json(body)).into_response()
}

pub async fn unknown(method: Method, uri: Uri) -> Response {
    render::<Native>(&ApiError::new(Code::NotFound, format!("{method} {} does not exist", uri.path())))
}
