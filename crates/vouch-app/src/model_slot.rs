//! A set of models loaded on first use (a server that never sees a face or a page never pays for them), run
//! off the async workers, with their errors mapped to application errors ([`AppError::vision`]). The face
//! engine and the page reader are each one of these.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vouch_vision::VisionError;

use crate::error::AppError;

/// How a set of models is loaded from the models folder with a number of intra-op threads.
pub type Loader<T> = fn(&Path, usize) -> Result<T, VisionError>;

pub struct ModelSlot<T> {
    /// What the models are, for errors and logs ("face engine", "page reader").
    what: &'static str,
    models_dir: Option<PathBuf>,
    threads: usize,
    load: Loader<T>,
    loaded: tokio::sync::Mutex<Option<Arc<T>>>,
}

impl<T: Send + Sync + 'static> ModelSlot<T> {
    pub fn new(what: &'static str, models_dir: Option<PathBuf>, threads: usize, load: Loader<T>) -> ModelSlot<T> {
        ModelSlot { what, models_dir, threads, load, loaded: tokio::sync::Mutex::new(None) }
    }

    /// The loaded models. A failed load is not cached: once the admin restores the file, the next call works.
    pub async fn get(&self) -> Result<Arc<T>, AppError> {
        let mut slot = self.loaded.lock().await;
        if let Some(loaded) = slot.as_ref() {
            return Ok(loaded.clone());
        }
        let Some(dir) = self.models_dir.clone() else {
            return Err(self.unavailable("no models folder is configured (set VOUCH_MODELS_DIR or models_dir)"));
        };
        let (load, threads, what) = (self.load, self.threads, self.what);
        let loaded = tokio::task::spawn_blocking(move || load(&dir, threads))
            .await
            .map_err(|e| AppError::task(what, e))?
            .map_err(|e| {
                tracing::error!(error = %e, "{what} could not load");
                self.unavailable(&e.to_string())
            })?;
        let loaded = Arc::new(loaded);
        *slot = Some(loaded.clone());
        Ok(loaded)
    }

    /// Runs `f` on the models in the blocking pool.
    pub async fn run<R, F>(&self, f: F) -> Result<R, AppError>
    where
        R: Send + 'static,
        F: FnOnce(&T) -> Result<R, VisionError> + Send + 'static,
    {
        let loaded = self.get().await?;
        let what = self.what;
        tokio::task::spawn_blocking(move || f(&loaded))
            .await
            .map_err(|e| AppError::task(what, e))?
            .map_err(|e| AppError::vision(what, e))
    }

    fn unavailable(&self, message: &str) -> AppError {
        AppError::models_unavailable(self.what, message)
    }
}
