//! The face engine as Vouch's use cases run it: a [`ModelSlot`], loaded on first use and run off the async
//! workers, with the image limits every caller applies.

use std::path::PathBuf;
use std::sync::Arc;

use vouch_vision::{EngineConfig, FaceEngine, ImageLimits, VisionError};

use crate::error::AppError;
use crate::model_slot::ModelSlot;

pub struct FaceService {
    models: ModelSlot<FaceEngine>,
    pub limits: ImageLimits,
}

impl FaceService {
    pub fn new(models_dir: Option<PathBuf>, threads: usize) -> FaceService {
        FaceService {
            models: ModelSlot::new("face engine", models_dir, threads, |dir, threads| {
                FaceEngine::load(&EngineConfig { models_dir: dir.to_path_buf(), threads })
            }),
            limits: ImageLimits::default(),
        }
    }

    /// The loaded engine. A failed load is not cached: once the admin restores the file, the next call works.
    pub async fn engine(&self) -> Result<Arc<FaceEngine>, AppError> {
        self.models.get().await
    }

    /// Runs `f` on the engine in the blocking pool.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&FaceEngine) -> Result<T, VisionError> + Send + 'static,
    {
        self.models.run(f).await
    }
}
