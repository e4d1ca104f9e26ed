//! The face engine as Vouch's use cases run it: a [`ModelSlot`], loaded on first use and run off the async
//! workers, with the image limits every caller applies.

use std::path::PathBuf;
use std::sync::Arc;

use vouch_vision::score::similarity_score;
use vouch_vision::{EngineConfig, Face, FaceEngine, FaceTemplate, ImageLimits, VisionError};

use crate::error::AppError;
use crate::model_slot::ModelSlot;

/// Which face of a photo to enrol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The largest face, whatever else the photo shows.
    Largest,
    /// The only face: a photo with more than one is refused.
    OnlyOne,
}

/// What a photo gave for enrolment.
pub enum Enrolment {
    /// The face chosen, its template, and how many other faces the photo shows.
    Face {
        face: Face,
        template: Vec<u8>,
        others: usize,
    },
    NoFace,
    /// More than one face where only one was allowed ([`Pick::OnlyOne`]).
    Multiple,
}

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

    /// Decodes `photo`, finds its faces and makes the chosen one's template, all off the async workers. The
    /// photo comes back with the answer, to be stored beside the template.
    pub async fn enrol(&self, photo: Vec<u8>, pick: Pick) -> Result<(Enrolment, Vec<u8>), AppError> {
        let limits = self.limits;
        self.run(move |engine| {
            let img = vouch_vision::decode(&photo, limits)?;
            let detection = engine.detect(&img)?;
            let found = detection.faces.len();
            if found > 1 && pick == Pick::OnlyOne {
                return Ok((Enrolment::Multiple, photo));
            }
            let Some(face) = detection.faces.iter().copied().max_by(|a, b| a.rect.area().total_cmp(&b.rect.area()))
            else {
                return Ok((Enrolment::NoFace, photo));
            };
            let template = engine.template(&img, &face)?.to_bytes();
            Ok((Enrolment::Face { face, template, others: found - 1 }, photo))
        })
        .await
    }

    /// The similarity score (0..1; 0.5 is the calibrated match point) of two stored templates. A template of
    /// another model or a damaged one is the caller's error ([`AppError::vision`]).
    pub async fn compare(&self, probe: &[u8], reference: &[u8]) -> Result<f32, AppError> {
        let tag = self.engine().await?.template_tag();
        let read = |bytes: &[u8]| FaceTemplate::from_bytes(bytes, &tag).map_err(|e| AppError::vision("face engine", e));
        Ok(similarity_score(read(probe)?.cosine(&read(reference)?)))
    }
}

/// The template of a photo's subject face (the one the person presents), or `None` when the photo shows no face.
/// Blocking: run it on the engine ([`FaceService::run`]).
pub fn subject_template(
    engine: &FaceEngine,
    photo: &[u8],
    limits: ImageLimits,
) -> vouch_vision::Result<Option<FaceTemplate>> {
    let img = vouch_vision::decode(photo, limits)?;
    match engine.detect(&img)?.subject {
        Some(face) => Ok(Some(engine.template(&img, &face)?)),
        None => Ok(None),
    }
}

/// How many frames a probe is made of at most: the best three of the selfie's frames by weight, averaged with
/// their weights. Measured on face_dev with photos standing in for frames (docs/benchmarks.md, "One frame or
/// several?"): TAR at FAR 0.1 % 99.00 % → 99.67 %, EER 0.66 % → 0.17 % against one frame.
pub const PROBE_FRAMES: usize = 3;

/// One template from the frames a case captured of its customer ([`PROBE_FRAMES`] best, quality-weighted), or
/// `None` when no frame shows a face. Frames without a face are left out. Blocking: run it on the engine.
pub fn probe_template(
    engine: &FaceEngine,
    frames: &[Vec<u8>],
    limits: ImageLimits,
) -> vouch_vision::Result<Option<FaceTemplate>> {
    let mut seen = Vec::with_capacity(frames.len());
    for frame in frames {
        let img = vouch_vision::decode(frame, limits)?;
        let Some(face) = engine.detect(&img)?.subject else { continue };
        let sharpness = vouch_vision::quality::face_stats(&img, face.rect).sharpness();
        seen.push((engine.template(&img, &face)?, vouch_vision::quality::frame_weight(sharpness, &face)));
    }
    let weighted: Vec<(&FaceTemplate, f32)> = seen.iter().map(|(t, w)| (t, *w)).collect();
    // Frames all weighing nothing (blurred, or turned far) still make a probe: the last, as one frame would.
    Ok(FaceTemplate::fuse(&weighted, PROBE_FRAMES).or_else(|| seen.pop().map(|(t, _)| t)))
}
