//! Vouch's local face engine on ONNX Runtime: detection with landmarks, alignment, 512-d templates and their
//! calibrated similarity, passive liveness, quality, aspects and the preview tracker. Every model is checked
//! against its sha256 in `models/MODELS.md` before it is loaded. The [`mrz`] module reads a document page's
//! machine-readable zone with Vouch's own OCR-B recogniser.

pub mod active;
pub mod attributes;
pub mod detect;
pub mod document;
pub mod embed;
pub mod engine;
pub mod error;
pub mod gaze;
pub mod geometry;
pub mod image_io;
pub mod liveness;
pub mod mrz;
pub mod quality;
pub mod registry;
pub mod runtime;
pub mod score;
pub mod segment;
pub mod template;
pub mod tensor;
pub mod track;

pub use detect::Face;
pub use engine::{Aspects, Detection, EngineConfig, FaceEngine, SelfieAnalysis, Warning};
pub use error::{Result, VisionError};
/// The image crate this engine's frames are made of.
pub use image;
pub use image_io::{decode, ImageLimits};
pub use template::FaceTemplate;
