//! Bounded work: each kind of heavy request (image decoding and face models, PDF signing; the kiosk's commands have
//! theirs in `vouch_app::kiosk`) has its own number of places. A request that finds none free within a short
//! wait is answered 503 with `Retry-After`, in its API's error format, so a burst of heavy calls cannot starve
//! the light ones (tokens, status, case reads). Every request also has an overall time limit.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Code};
use crate::guard::render_for_path;
use crate::state::AppState;

/// The places of each group.
pub struct WorkLimits {
    pub images: Arc<Semaphore>,
    pub documents: Arc<Semaphore>,
}

impl WorkLimits {
    pub fn new(images: usize, documents: usize) -> WorkLimits {
        WorkLimits {
            images: Arc::new(Semaphore::new(images.max(1))),
            documents: Arc::new(Semaphore::new(documents.max(1))),
        }
    }
}

/// A place in `group`, or 503 after [`vouch_app::work::QUEUE_WAIT`].
pub async fn place(group: &Arc<Semaphore>, what: &str) -> Result<OwnedSemaphorePermit, ApiError> {
    Ok(vouch_app::work::place(group, what).await?)
}

async fn limited(group: &Arc<Semaphore>, what: &str, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    match place(group, what).await {
        Ok(permit) => {
            let resp = next.run(req).await;
            drop(permit);
            resp
        }
        Err(e) => render_for_path(&path, &e),
    }
}

/// Route layer of the image routes (DIS faces, selfies, liveness, pages; reference photos).
pub async fn limit_images(State(state): State<AppState>, req: Request, next: Next) -> Response {
    limited(&state.work.images, "image", req, next).await
}

/// Route layer of the routes that take documents to sign (DANAconnect circuits, MasStack signs).
pub async fn limit_documents(State(state): State<AppState>, req: Request, next: Next) -> Response {
    limited(&state.work.documents, "document", req, next).await
}

/// Every request: an answer within the configured time, or 503 in the path's error format. Streams (the
/// camera preview) count until their headers are sent, not while they play.
pub async fn time_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(route = %path, secs = limit.as_secs(), "a request ran past its time limit");
            render_for_path(
                &path,
                &ApiError::new(Code::Busy, format!("The request did not finish within {} s", limit.as_secs())),
            )
        }
    }
}
