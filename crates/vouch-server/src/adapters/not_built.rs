//! Everything under a vendor prefix that Vouch does not serve yet answers 501 in that vendor's error
//! format, naming what is missing, instead of a bare 404. The README's gaps table lists them.

use axum::http::{Method, Uri};
use axum::response::Response;

use crate::error::{render, ApiError, Code, Danaconnect, Dis, Eeid, MasStack, Native, Verifik};

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

pub async fn verifik(method: Method, uri: Uri) -> Response {
    render::<Verifik>(&not_built("Verifik", &method, &uri))
}

pub async fn danaconnect(method: Method, uri: Uri) -> Response {
    render::<Danaconnect>(&not_built("DANAconnect", &method, &uri))
}

pub async fn masstack(method: Method, uri: Uri) -> Response {
    render::<MasStack>(&not_built("MasStack", &method, &uri))
}

pub async fn unknown(method: Method, uri: Uri) -> Response {
    render::<Native>(&ApiError::new(Code::NotFound, format!("{method} {} does not exist", uri.path())))
}
