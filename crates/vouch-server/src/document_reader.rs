//! The page reader as the server uses it: loaded on first use, run off the async workers, its errors mapped
//! to API errors by the face service's mapping (the same image and model errors).

use std::path::PathBuf;
use std::sync::Arc;

use vouch_vision::document::DocumentReader;
use vouch_vision::registry::ModelRegistry;
use vouch_vision::VisionError;

use crate::error::{ApiError, Code};
use crate::faces::vision_error;

pub struct DocumentService {
    models_dir: Option<PathBuf>,
    threads: usize,
    reader: tokio::sync::Mutex<Option<Arc<DocumentReader>>>,
}

impl DocumentService {
    pub fn new(models_dir: Option<PathBuf>, threads: usize) -> DocumentService {
        DocumentService { models_dir, threads, reader: tokio::sync::Mutex::new(None) }
    }

    /// The loaded reader. A failed load is not cached: once the admin restores the file, the next call works.
    pub async fn reader(&self) -> Result<Arc<DocumentReader>, ApiError> {
        let mut slot = self.reader.lock().await;
        if let Some(reader) = slot.as_ref() {
            return Ok(reader.clone());
        }
        let Some(dir) = self.models_dir.clone() else {
            return Err(unavailable("no models folder is configured (set VOUCH_MODELS_DIR or models_dir)"));
        };
        let threads = self.threads;
        let loaded = tokio::task::spawn_blocking(move || DocumentReader::load(&ModelRegistry::open(&dir)?, threads))
            .await
            .map_err(|e| ApiError::internal(format!("page reader load task failed: {e}")))?
            .map_err(|e| {
                tracing::error!(error = %e, "page reader could not load");
                unavailable(&e.to_string())
            })?;
        let reader = Arc::new(loaded);
        *slot = Some(reader.clone());
        Ok(reader)
    }

    /// Runs `f` on the reader in the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&DocumentReader) -> Result<T, VisionError> + Send + 'static,
    {
        let reader = self.reader().await?;
        tokio::task::spawn_blocking(move || f(&reader))
            .await
            .map_err(|e| ApiError::internal(format!("page task failed: {e}")))?
            .map_err(vision_error)
    }
}

fn unavailable(message: &str) -> ApiError {
    ApiError::new(Code::Internal, format!("The page reader is not available: {message}"))
}
