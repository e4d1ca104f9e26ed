//! The page reader as the server uses it: a `ModelSlot`, loaded on first use and run off the async workers,
//! its errors mapped as the face engine's are (the same image and model errors), under its own name.

use std::path::PathBuf;

use vouch_vision::document::DocumentReader;
use vouch_vision::registry::ModelRegistry;

use crate::model_slot::ModelSlot;

pub type DocumentService = ModelSlot<DocumentReader>;

pub fn service(models_dir: Option<PathBuf>, threads: usize) -> DocumentService {
    ModelSlot::new("page reader", models_dir, threads, |dir, threads| {
        DocumentReader::load(&ModelRegistry::open(dir)?, threads)
    })
}
