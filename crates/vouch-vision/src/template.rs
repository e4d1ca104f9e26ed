//! Face templates: the 512-d embedding in a small versioned binary format, so a template stored today is
//! recognised (or refused by name) by a later engine.
//!
//! Layout (little-endian): `b"VFT"`, format version (u8 = 1), the first 8 bytes of the embedding model's
//! sha256, dimension (u16), then `dimension` f32 values (L2-normalised). 2062 bytes for 512-d.

use crate::error::{Result, VisionError};

const MAGIC: &[u8; 3] = b"VFT";
pub const FORMAT_VERSION: u8 = 1;
const HEADER: usize = 3 + 1 + 8 + 2;

#[derive(Debug, Clone, PartialEq)]
pub struct FaceTemplate {
    /// Identifies the model that made the template; templates of different models are not comparable.
    pub model_tag: [u8; 8],
    pub values: Vec<f32>,
}

impl FaceTemplate {
    pub fn new(model_tag: [u8; 8], mut values: Vec<f32>) -> FaceTemplate {
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            values.iter_mut().for_each(|v| *v /= norm);
        }
        FaceTemplate { model_tag, values }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + self.values.len() * 4);
        out.extend_from_slice(MAGIC);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&self.model_tag);
        out.extend_from_slice(&(self.values.len() as u16).to_le_bytes());
        for v in &self.values {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Parses a template and checks it was made by the model with `expected_tag`.
    pub fn from_bytes(bytes: &[u8], expected_tag: &[u8; 8]) -> Result<FaceTemplate> {
        let header = bytes.get(..HEADER).ok_or(VisionError::TemplateCorrupt("shorter than its header"))?;
        let (magic, rest) = header.split_at(3);
        if magic != MAGIC {
            return Err(VisionError::TemplateCorrupt("not a Vouch face template"));
        }
        let (version, rest) = rest.split_at(1);
        if version != [FORMAT_VERSION] {
            return Err(VisionError::TemplateVersion(version.first().copied().unwrap_or(0)));
        }
        let (tag, dim) = rest.split_at(8);
        let mut model_tag = [0u8; 8];
        model_tag.copy_from_slice(tag);
        if &model_tag != expected_tag {
            return Err(VisionError::TemplateIncompatible {
                found: hex::encode(model_tag),
                expected: hex::encode(expected_tag),
            });
        }
        let dim = u16::from_le_bytes([dim.first().copied().unwrap_or(0), dim.get(1).copied().unwrap_or(0)]) as usize;
        let body = bytes.get(HEADER..).unwrap_or(&[]);
        if dim == 0 || body.len() != dim * 4 {
            return Err(VisionError::TemplateCorrupt("its length does not match its dimension"));
        }
        let values: Vec<f32> =
            body.chunks_exact(4).filter_map(|c| <[u8; 4]>::try_from(c).ok()).map(f32::from_le_bytes).collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(VisionError::TemplateCorrupt("it holds values that are not numbers"));
        }
        Ok(FaceTemplate { model_tag, values })
    }

    /// One template from several frames of one person: the `best` frames by weight, averaged with their weights
    /// and normalised. `None` without frames, with no positive weight among the best, or when the frames come
    /// from different models.
    pub fn fuse(frames: &[(&FaceTemplate, f32)], best: usize) -> Option<FaceTemplate> {
        let mut ranked: Vec<&(&FaceTemplate, f32)> = frames.iter().filter(|(_, w)| w.is_finite()).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(best.max(1));
        let (first, _) = ranked.first()?;
        if ranked.iter().any(|(t, _)| t.model_tag != first.model_tag || t.values.len() != first.values.len()) {
            return None;
        }
        if ranked.iter().all(|(_, w)| *w <= 0.0) {
            return None;
        }
        let mut sum = vec![0f32; first.values.len()];
        for (template, weight) in &ranked {
            for (s, v) in sum.iter_mut().zip(&template.values) {
                *s += weight.max(0.0) * v;
            }
        }
        Some(FaceTemplate::new(first.model_tag, sum))
    }

    /// Cosine similarity (both sides are unit vectors).
    pub fn cosine(&self, other: &FaceTemplate) -> f32 {
        self.values.iter().zip(&other.values).map(|(a, b)| a * b).sum::<f32>().clamp(-1.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn fusing_weighs_the_best_frames_and_refuses_mixed_models() {
        let a = FaceTemplate::new([1; 8], vec![1.0, 0.0, 0.0]);
        let b = FaceTemplate::new([1; 8], vec![0.0, 1.0, 0.0]);
        let c = FaceTemplate::new([1; 8], vec![0.0, 0.0, 1.0]);
        // The best two of three, weighted 3:1: the worst frame (c) is left out.
        let fused = FaceTemplate::fuse(&[(&a, 3.0), (&b, 1.0), (&c, 0.5)], 2).unwrap();
        assert!((fused.values[0] - 3.0 / 10f32.sqrt()).abs() < 1e-6);
        assert!((fused.values[1] - 1.0 / 10f32.sqrt()).abs() < 1e-6);
        assert_eq!(fused.values[2], 0.0);
        assert_eq!(FaceTemplate::fuse(&[(&a, 1.0)], 3).unwrap(), a);
        assert!(FaceTemplate::fuse(&[], 3).is_none());
        assert!(FaceTemplate::fuse(&[(&a, 0.0), (&b, 0.0)], 3).is_none());
        let other = FaceTemplate::new([2; 8], vec![1.0, 0.0, 0.0]);
        assert!(FaceTemplate::fuse(&[(&a, 1.0), (&other, 1.0)], 3).is_none());
    }

    #[test]
    fn round_trips_and_refuses_foreign_or_damaged_templates() {
        let t = FaceTemplate::new([1; 8], (0..512).map(|i| i as f32).collect());
        let bytes = t.to_bytes();
        assert_eq!(bytes.len(), 2062);
        let back = FaceTemplate::from_bytes(&bytes, &[1; 8]).unwrap();
        assert!((back.cosine(&t) - 1.0).abs() < 1e-5);
        assert!(matches!(FaceTemplate::from_bytes(&bytes, &[2; 8]), Err(VisionError::TemplateIncompatible { .. })));
        assert!(matches!(FaceTemplate::from_bytes(&bytes[..100], &[1; 8]), Err(VisionError::TemplateCorrupt(_))));
        let mut v2 = bytes.clone();
        v2[3] = 9;
        assert!(matches!(FaceTemplate::from_bytes(&v2, &[1; 8]), Err(VisionError::TemplateVersion(9))));
        assert!(matches!(FaceTemplate::from_bytes(b"garbage garbage", &[1; 8]), Err(VisionError::TemplateCorrupt(_))));
    }
}
