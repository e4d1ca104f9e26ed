//! The face engine: all face models loaded once, and the operations the API and the kiosk need.

use std::path::PathBuf;
use std::time::Instant;

use image::RgbImage;
use serde::Serialize;

use crate::attributes::{self, HeadPose};
use crate::detect::{Detector, Face, ScaledFrame};
use crate::embed::{align, Embedder};
use crate::error::{Result, VisionError};
use crate::gaze::{self, Gaze};
use crate::geometry::Rect;
use crate::liveness::{PassiveLiveness, CROP_SCALE};
use crate::quality::{self, FaceQuality, ImageStats, ModelMeasures};
use crate::registry::ModelRegistry;
use crate::runtime::Model;
use crate::segment::Segmenter;
use crate::template::FaceTemplate;
use crate::track::FastDetector;
use ort::session::builder::GraphOptimizationLevel;

pub const DETECTOR: &str = "face_detect_retinaface_mnet025.onnx";
pub const FAST_DETECTOR: &str = "face_detect_ultraface320.onnx";
pub const EMBEDDER: &str = "face_embed512.onnx";
/// The same embedder quantised to int8 by `models/convert/quantize_embedder.py`.
pub const EMBEDDER_INT8: &str = "face_embed512_int8.onnx";
pub const LIVENESS: &str = "face_liveness.onnx";
pub const LANDMARKS68: &str = "face_landmark68.onnx";
pub const EYE: &str = "face_eye.onnx";
pub const POSE: &str = "face_pose.onnx";
pub const AGE: &str = "face_age.onnx";
pub const GENDER: &str = "face_gender.onnx";
pub const SEGMENTER: &str = "selfie_segmentation.onnx";
pub const IRIS: &str = "iris_landmark.onnx";
pub const ALL_MODELS: [&str; 11] =
    [DETECTOR, FAST_DETECTOR, EMBEDDER, LIVENESS, LANDMARKS68, EYE, POSE, AGE, GENDER, SEGMENTER, IRIS];

/// Which face embedder makes the templates. Templates of one are never compared with the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmbedderKind {
    Fp32,
    Int8,
}

impl EmbedderKind {
    pub fn file(self) -> &'static str {
        match self {
            EmbedderKind::Fp32 => EMBEDDER,
            EmbedderKind::Int8 => EMBEDDER_INT8,
        }
    }
}

/// An embedder checked against the registry, tagged with the first 8 bytes of its sha256 so that templates of
/// different models are never compared.
pub fn load_embedder(registry: &ModelRegistry, kind: EmbedderKind, threads: usize) -> Result<Embedder> {
    let file = kind.file();
    let tag = registry
        .sha256(file)
        .and_then(|h| hex::decode(h.get(..16)?).ok())
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .ok_or_else(|| VisionError::ModelNotListed {
            file: file.into(),
            manifest: registry.dir().join(crate::registry::MANIFEST),
        })?;
    let path = registry.verified_path(file)?;
    let threads = threads.max(1);
    let model = match kind {
        // Every level computes the same fp32 function, so the fastest one here may be kept.
        EmbedderKind::Fp32 => Model::load_fastest(
            file,
            &path,
            threads,
            &[GraphOptimizationLevel::Level1, GraphOptimizationLevel::Level3],
            crate::embed::INPUT_SHAPE,
        )?,
        // Not so the quantised model: below level 3 ONNX Runtime dequantises and runs it in fp32, which gives other
        // templates than its integer kernels (TAR at FAR 0.1 % on face_dev 98.93 % against 98.73 %).
        EmbedderKind::Int8 => Model::load(file, &path, threads, GraphOptimizationLevel::Level3)?,
    };
    Ok(Embedder::new(model, tag))
}

/// Template format version reported to DIS clients (`FaceTemplateResponse.version`).
pub const TEMPLATE_VERSION: &str = "vouch-1";

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub models_dir: PathBuf,
    /// Intra-op threads per model. The kiosk's 2-core target runs best with 2.
    pub threads: usize,
}

/// Something about the capture that lowers confidence in the result. Each result carries its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Warning {
    MultipleFacesDetected,
    FaceTooSmall,
    FaceTooDark,
    FaceTooBright,
    FaceBlurred,
    FaceNotFullyVisible,
    HeadTurned,
    EyesClosed,
}

/// The subject among several faces: of those at least half as tall as the tallest (background faces are
/// common at a kiosk), the one nearest the image centre.
pub fn subject_index(rects: &[Rect], width: u32, height: u32) -> Option<usize> {
    let tallest = rects.iter().map(Rect::height).fold(0.0f32, f32::max);
    let centre = (width as f32 / 2.0, height as f32 / 2.0);
    rects
        .iter()
        .enumerate()
        .filter(|(_, r)| r.height() >= tallest * 0.5)
        .min_by(|(_, a), (_, b)| {
            let da = (a.center().x - centre.0).powi(2) + (a.center().y - centre.1).powi(2);
            let db = (b.center().x - centre.0).powi(2) + (b.center().y - centre.1).powi(2);
            da.total_cmp(&db)
        })
        .map(|(i, _)| i)
}

/// Detection result with the chosen face.
#[derive(Debug, Clone, Serialize)]
pub struct Detection {
    pub faces: Vec<Face>,
    pub subject: Option<Face>,
    pub warnings: Vec<Warning>,
}

/// The selfie pipeline's output.
#[derive(Debug, Clone, Serialize)]
pub struct SelfieAnalysis {
    pub face: Face,
    #[serde(skip)]
    pub template: FaceTemplate,
    /// Passive liveness probability (0..1).
    pub liveness: f32,
    pub brightness: f32,
    pub sharpness: f32,
    pub warnings: Vec<Warning>,
    pub timings: StageTimings,
}

impl SelfieAnalysis {
    /// This frame's weight among frames of the same person ([`quality::frame_weight`]).
    pub fn frame_weight(&self) -> f32 {
        quality::frame_weight(self.sharpness, &self.face)
    }
}

/// Milliseconds per stage of one selfie analysis.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StageTimings {
    pub detect_ms: f64,
    pub align_ms: f64,
    pub embed_ms: f64,
    pub liveness_ms: f64,
    pub quality_ms: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Aspects {
    pub age: f32,
    pub gender: f32,
}

pub struct FaceEngine {
    detector: Detector,
    fast: FastDetector,
    embedder: Embedder,
    liveness: PassiveLiveness,
    landmarks68: Model,
    eye: Model,
    pose: Model,
    age: Model,
    gender: Model,
    segmenter: Segmenter,
    iris: Model,
}

impl std::fmt::Debug for FaceEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceEngine")
    }
}

impl FaceEngine {
    /// Loads and checks every face model. Fails on the first missing or corrupt file, naming it.
    pub fn load(config: &EngineConfig) -> Result<FaceEngine> {
        let registry = ModelRegistry::open(&config.models_dir)?;
        let threads = config.threads.max(1);
        let load_at = |file: &'static str, level: GraphOptimizationLevel| -> Result<Model> {
            Model::load(file, &registry.verified_path(file)?, threads, level)
        };
        let load = |file: &'static str| load_at(file, GraphOptimizationLevel::Level3);
        let engine = FaceEngine {
            detector: Detector::new(load(DETECTOR)?),
            fast: FastDetector::new(load(FAST_DETECTOR)?),
            embedder: load_embedder(&registry, EmbedderKind::Fp32, threads)?,
            liveness: PassiveLiveness::new(load(LIVENESS)?),
            landmarks68: load(LANDMARKS68)?,
            eye: load(EYE)?,
            pose: load(POSE)?,
            age: load(AGE)?,
            gender: load(GENDER)?,
            segmenter: Segmenter::new(load(SEGMENTER)?),
            iris: load(IRIS)?,
        };
        tracing::info!(models = ALL_MODELS.len(), dir = %config.models_dir.display(), "face engine loaded");
        Ok(engine)
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    pub fn template_tag(&self) -> [u8; 8] {
        self.embedder.tag
    }

    /// Bare inference time of the three selfie models (detector, embedder, liveness) on the very tensors the
    /// pipeline gives them for `img`, in ms: the floor the pipeline is measured against. Real tensors, not zeros:
    /// these networks run 15–25 % faster on an all-zero input (measured on the embedder and liveness).
    pub fn inference_floor(&self, img: &RgbImage) -> Result<[f64; 3]> {
        let detector_input = self.detector.input(img);
        let face = self
            .detect(img)?
            .subject
            .ok_or(VisionError::Inference { file: DETECTOR, reason: "no face to measure the floor on".into() })?;
        let embedder_input = crate::embed::input(&align(img, &face)?);
        let liveness_input = crate::liveness::input(img, &face, crate::tensor::ChannelOrder::Bgr, CROP_SCALE);
        Ok([
            self.detector.model().time_run(detector_input.shape, detector_input.data)?,
            self.embedder.model().time_run(crate::embed::INPUT_SHAPE, embedder_input)?,
            self.liveness.model().time_run(crate::liveness::INPUT_SHAPE, liveness_input)?,
        ])
    }

    pub fn segmenter(&self) -> &Segmenter {
        &self.segmenter
    }

    pub fn fast_detector(&self) -> &FastDetector {
        &self.fast
    }

    /// All faces, plus the subject (the most central face of good size) and the warnings that apply.
    pub fn detect(&self, img: &RgbImage) -> Result<Detection> {
        Ok(self.detect_keeping_scaled(img)?.0)
    }

    /// `detect`, and the frame scaled as the detector saw it when it had to be scaled.
    fn detect_keeping_scaled(&self, img: &RgbImage) -> Result<(Detection, Option<ScaledFrame>)> {
        let (faces, scaled) = self.detector.detect_input(self.detector.input(img))?;
        let rects: Vec<Rect> = faces.iter().map(|f| f.rect).collect();
        let subject = subject_index(&rects, img.width(), img.height()).and_then(|i| faces.get(i).copied());
        let mut warnings = Vec::new();
        if faces.len() > 1 {
            warnings.push(Warning::MultipleFacesDetected);
        }
        if let Some(face) = &subject {
            if face.eye_distance() < 30.0 {
                warnings.push(Warning::FaceTooSmall);
            }
            if !face.rect.inside(img.width(), img.height()) {
                warnings.push(Warning::FaceNotFullyVisible);
            }
        }
        Ok((Detection { faces, subject, warnings }, scaled))
    }

    pub fn template(&self, img: &RgbImage, face: &Face) -> Result<FaceTemplate> {
        self.embedder.embed(&align(img, face)?)
    }

    pub fn passive_liveness(&self, img: &RgbImage, face: &Face) -> Result<f32> {
        self.liveness.score(img, face)
    }

    pub fn liveness_model(&self) -> &PassiveLiveness {
        &self.liveness
    }

    pub fn head_pose(&self, img: &RgbImage, face: &Face) -> Result<HeadPose> {
        attributes::head_pose(&self.pose, img, face.rect)
    }

    /// 68 landmarks of the face (coarse).
    pub fn landmarks68(&self, img: &RgbImage, face: &Face) -> Result<Vec<crate::geometry::Point>> {
        attributes::landmarks68(&self.landmarks68, img, face.rect)
    }

    /// Open-eye probability of the subject's right and left eye.
    pub fn eyes_open(&self, img: &RgbImage, points68: &[crate::geometry::Point]) -> Result<[f32; 2]> {
        let [right, left] = attributes::eye_boxes(points68);
        Ok([attributes::eye_open(&self.eye, img, right)?, attributes::eye_open(&self.eye, img, left)?])
    }

    /// Both eyes' iris and lids, and how far the eyes are turned in the head.
    pub fn gaze(&self, img: &RgbImage, points68: &[crate::geometry::Point]) -> Result<Gaze> {
        gaze::gaze(&self.iris, img, points68)
    }

    pub fn quality(&self, img: &RgbImage, face: &Face) -> Result<FaceQuality> {
        let points = self.landmarks68(img, face)?;
        let gaze = self.gaze(img, &points)?;
        let measures = ModelMeasures {
            pose: self.head_pose(img, face)?,
            eyes_open: self.eyes_open(img, &points)?,
            mouth_open_ratio: attributes::mouth_open_ratio(&points),
            eye_gaze: (gaze.off_axis_deg(), gaze.measurable_on(face)),
        };
        Ok(quality::assess(img, face, &measures))
    }

    pub fn aspects(&self, img: &RgbImage, face: &Face) -> Result<Aspects> {
        Ok(Aspects {
            age: attributes::age(&self.age, img, face.rect)?,
            gender: attributes::gender(&self.gender, img, face.rect)?,
        })
    }

    /// The selfie pipeline: detect, align, embed, passive liveness and the image checks behind the customer's
    /// hints. `Ok(None)` when there is no face.
    pub fn analyze_selfie(&self, img: &RgbImage) -> Result<Option<SelfieAnalysis>> {
        let mut timings = StageTimings::default();
        let t = Instant::now();
        let (detection, scaled) = self.detect_keeping_scaled(img)?;
        timings.detect_ms = ms(t);
        let Some(face) = detection.subject else {
            return Ok(None);
        };
        let t = Instant::now();
        let aligned = align(img, &face)?;
        timings.align_ms = ms(t);
        let t = Instant::now();
        let template = self.embedder.embed(&aligned)?;
        timings.embed_ms = ms(t);
        let t = Instant::now();
        // The liveness crop (128×128 from a box 2.7× the face) needs less than the detector's resolution, so a
        // frame the detector scaled down is not scaled again from full size.
        let liveness = match &scaled {
            Some(frame) => self.liveness.score(&frame.image, &face.scaled(frame.scale))?,
            None => self.liveness.score(img, &face)?,
        };
        timings.liveness_ms = ms(t);
        let t = Instant::now();
        let (warnings, stats) = image_warnings(img, &face, detection.warnings);
        timings.quality_ms = ms(t);
        let sharpness = stats.sharpness();
        Ok(Some(SelfieAnalysis {
            face,
            template,
            liveness,
            brightness: stats.mean / 255.0,
            sharpness,
            warnings,
            timings,
        }))
    }
}

/// Mean face luma below which a face is too dark, and above which too bright (0..255).
pub const DARK_MEAN: f32 = 60.0;
pub const BRIGHT_MEAN: f32 = 210.0;

/// The detection's warnings plus the image checks behind the customer's hints (light, blur, roll), with the
/// face statistics they were read from.
pub fn image_warnings(img: &RgbImage, face: &Face, mut warnings: Vec<Warning>) -> (Vec<Warning>, ImageStats) {
    let stats = quality::face_stats(img, face.rect);
    if stats.mean < DARK_MEAN {
        warnings.push(Warning::FaceTooDark);
    }
    if stats.mean > BRIGHT_MEAN {
        warnings.push(Warning::FaceTooBright);
    }
    if stats.sharpness() < 0.2 {
        warnings.push(Warning::FaceBlurred);
    }
    if face.roll_deg().abs() > 20.0 {
        warnings.push(Warning::HeadTurned);
    }
    (warnings, stats)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
