//! Bounded heavy work: a kind of heavy work (image decoding and face models, PDF signing, the kiosk's capture,
//! inference and PIN commands) has its own number of places. Work that finds none free within a short wait is
//! turned away as busy, so a burst of heavy calls cannot starve the light ones.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{AppCode, AppError};

/// How long heavy work waits for a place before it is turned away.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// A place in `group`, or [`AppCode::Busy`] after [`QUEUE_WAIT`].
pub async fn place(group: &Arc<Semaphore>, what: &str) -> Result<OwnedSemaphorePermit, AppError> {
    match tokio::time::timeout(QUEUE_WAIT, group.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            tracing::warn!(group = what, "busy: a heavy request was turned away");
            Err(AppError::new(
                AppCode::Busy,
                format!("Vouch is busy with other {what} requests; try again in a moment"),
            ))
        }
    }
}
