//! What the signature pad recorded: every pointer sample with position, time, pressure, tilt and whether the
//! tip touched, and the pad it was drawn on. Checks here decide whether it is a signature at all.

use serde::{Deserialize, Serialize};

use crate::SignatureError;

/// At most this many samples: a minute of a 240 Hz pen is 14,400, and 20,000 seven-channel samples still fit
/// the 300 KB `biometric_data` limit once encoded.
pub const MAX_SAMPLES: usize = 20_000;
use vouch_core::step_rules::{InkFacts, SignatureFault};
const MAX_PAD_PX: f64 = 8000.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PointerKind {
    Pen,
    Touch,
    Mouse,
}

impl PointerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PointerKind::Pen => "pen",
            PointerKind::Touch => "touch",
            PointerKind::Mouse => "mouse",
        }
    }
}

/// One pointer sample, as Pointer Events report it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct PenSample {
    /// CSS pixels from the pad's top-left corner.
    pub x: f64,
    pub y: f64,
    /// Milliseconds since the first sample.
    pub t: f64,
    /// 0..1. A mouse reports 0.5 while its button is down and 0 otherwise.
    pub pressure: f64,
    /// Whether the tip touched the pad (the ISO S channel).
    pub down: bool,
    /// Degrees, −90..90, where the pen reports them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tilt_x: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub tilt_y: Option<f64>,
}

/// The surface the signature was drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Pad {
    /// CSS pixels.
    pub width: f64,
    pub height: f64,
    /// CSS pixels per millimetre of the physical surface (3.78 at the nominal 96 dpi).
    pub px_per_mm: f64,
    pub pointer: PointerKind,
}

/// A handwritten signature as drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drawn {
    pub pad: Pad,
    pub samples: Vec<PenSample>,
}

/// What the checks measured; shown to the clerk and kept in the step's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InkStats {
    pub samples: usize,
    pub strokes: usize,
    pub duration_ms: f64,
    pub ink_mm: f64,
    pub width_mm: f64,
    pub height_mm: f64,
    /// Whether the pointer reported real, varying pressure.
    pub has_pressure: bool,
    pub has_tilt: bool,
    pub pointer: PointerKind,
}

fn bad(message: impl Into<String>) -> SignatureError {
    SignatureError::Invalid(message.into())
}

impl Drawn {
    /// Checks shape and ranges, then judges it by the signature step's rule ([`vouch_core::step_rules::signature`]).
    pub fn check(&self) -> Result<InkStats, SignatureError> {
        let pad = self.pad;
        if !(pad.width.is_finite() && pad.height.is_finite() && pad.width >= 50.0 && pad.height >= 20.0)
            || pad.width > MAX_PAD_PX
            || pad.height > MAX_PAD_PX
        {
            return Err(bad("the pad size must be 50×20 to 8000×8000 pixels"));
        }
        if !(pad.px_per_mm.is_finite() && (1.0..=40.0).contains(&pad.px_per_mm)) {
            return Err(bad("px_per_mm must be between 1 and 40"));
        }
        if self.samples.len() > MAX_SAMPLES {
            return Err(SignatureError::TooLarge(format!("at most {MAX_SAMPLES} samples")));
        }
        let mut last_t = 0.0;
        for (i, s) in self.samples.iter().enumerate() {
            let finite = [s.x, s.y, s.t, s.pressure].iter().all(|v| v.is_finite())
                && s.tilt_x.is_none_or(f64::is_finite)
                && s.tilt_y.is_none_or(f64::is_finite);
            if !finite {
                return Err(bad(format!("sample {i} has a value that is not a number")));
            }
            // A pointer may stray a little past the pad's edge while the button is held.
            let slack = 0.05 * pad.width.max(pad.height);
            if s.x < -slack || s.y < -slack || s.x > pad.width + slack || s.y > pad.height + slack {
                return Err(bad(format!("sample {i} lies outside the pad")));
            }
            if s.t < last_t || s.t < 0.0 {
                return Err(bad(format!("sample {i} goes back in time")));
            }
            last_t = s.t;
            if !(0.0..=1.0).contains(&s.pressure) {
                return Err(bad(format!("sample {i}: pressure must be within 0..1")));
            }
            let tilt_ok = |t: Option<f64>| t.is_none_or(|t| (-90.0..=90.0).contains(&t));
            if !tilt_ok(s.tilt_x) || !tilt_ok(s.tilt_y) {
                return Err(bad(format!("sample {i}: tilt must be within -90..90 degrees")));
            }
        }
        let stats = self.stats();
        let ink = InkFacts {
            duration_ms: last_t,
            strokes: stats.strokes,
            down_samples: self.samples.iter().filter(|s| s.down).count(),
            ink_mm: stats.ink_mm,
            width_mm: stats.width_mm,
            height_mm: stats.height_mm,
        };
        match vouch_core::step_rules::signature(&ink) {
            Ok(()) => Ok(stats),
            Err(SignatureFault::Empty) => Err(SignatureError::Empty),
            Err(SignatureFault::TooShort) => Err(SignatureError::TooShort),
            Err(SignatureFault::TooLong) => Err(SignatureError::TooLong),
        }
    }

    /// Measures without judging.
    pub fn stats(&self) -> InkStats {
        let mm = 1.0 / self.pad.px_per_mm;
        let mut strokes = 0;
        let mut ink = 0.0;
        let mut prev: Option<&PenSample> = None;
        let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for s in &self.samples {
            if s.down {
                match prev {
                    Some(p) if p.down => ink += ((s.x - p.x).powi(2) + (s.y - p.y).powi(2)).sqrt() * mm,
                    _ => strokes += 1,
                }
                min_x = min_x.min(s.x);
                min_y = min_y.min(s.y);
                max_x = max_x.max(s.x);
                max_y = max_y.max(s.y);
            }
            prev = Some(s);
        }
        let (width_mm, height_mm) = if strokes > 0 { ((max_x - min_x) * mm, (max_y - min_y) * mm) } else { (0.0, 0.0) };
        let down_pressures: Vec<f64> = self.samples.iter().filter(|s| s.down).map(|s| s.pressure).collect();
        let varies = down_pressures.windows(2).any(|w| matches!(w, [a, b] if (a - b).abs() > 1e-3));
        InkStats {
            samples: self.samples.len(),
            strokes,
            duration_ms: self.samples.last().map(|s| s.t).unwrap_or(0.0),
            ink_mm: ink,
            width_mm,
            height_mm,
            has_pressure: self.pad.pointer != PointerKind::Mouse && varies,
            has_tilt: self.samples.iter().any(|s| s.tilt_x.is_some() || s.tilt_y.is_some()),
            pointer: self.pad.pointer,
        }
    }
}

/// A synthetic signature (three looping strokes, about 2 s at 250 Hz) with varying pressure and tilt for a pen: for
/// tests, benchmarks and the CLI's demo signing. Never a person's signature.
pub fn synthetic(pointer: PointerKind) -> Drawn {
    let mut samples = Vec::new();
    let mut t = 0.0;
    for stroke in 0..3 {
        let x0 = 60.0 + 180.0 * f64::from(stroke);
        for i in 0..90 {
            let a = f64::from(i) / 90.0 * std::f64::consts::TAU * 1.5;
            let pen = pointer == PointerKind::Pen;
            samples.push(PenSample {
                x: x0 + 60.0 * f64::from(i) / 90.0 + 30.0 * a.cos(),
                y: 120.0 + 40.0 * a.sin() + 10.0 * f64::from(stroke),
                t,
                pressure: if pointer == PointerKind::Mouse { 0.5 } else { 0.3 + 0.5 * (a / 2.0).sin().abs() },
                down: true,
                tilt_x: pen.then_some(20.0 + 5.0 * a.sin()),
                tilt_y: pen.then_some(-10.0),
            });
            t += 4.0;
        }
        samples.push(PenSample { x: x0 + 90.0, y: 100.0, t, pressure: 0.0, down: false, tilt_x: None, tilt_y: None });
        t += 120.0;
    }
    Drawn { pad: Pad { width: 700.0, height: 260.0, px_per_mm: 3.78, pointer }, samples }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    pub fn sample_signature(pointer: PointerKind) -> Drawn {
        synthetic(pointer)
    }

    #[test]
    fn a_real_signature_passes_with_its_measurements() {
        let stats = sample_signature(PointerKind::Pen).check().unwrap();
        assert_eq!(stats.strokes, 3);
        assert!(stats.ink_mm > 100.0, "{stats:?}");
        assert!(stats.has_pressure && stats.has_tilt);
        let mouse = sample_signature(PointerKind::Mouse).check().unwrap();
        assert!(!mouse.has_pressure && !mouse.has_tilt);
    }

    #[test]
    fn empty_dots_and_ticks_are_refused() {
        let mut empty = sample_signature(PointerKind::Pen);
        empty.samples.clear();
        assert!(matches!(empty.check(), Err(SignatureError::Empty)));
        let mut hover = sample_signature(PointerKind::Pen);
        hover.samples.iter_mut().for_each(|s| s.down = false);
        assert!(matches!(hover.check(), Err(SignatureError::Empty)));
        let mut tick = sample_signature(PointerKind::Pen);
        tick.samples.truncate(10);
        assert!(matches!(tick.check(), Err(SignatureError::TooShort)));
        // Many samples in one spot: no ink.
        let mut dot = sample_signature(PointerKind::Pen);
        dot.samples.iter_mut().for_each(|s| {
            s.x = 100.0;
            s.y = 100.0;
        });
        assert!(matches!(dot.check(), Err(SignatureError::TooShort)));
    }

    #[test]
    fn malformed_samples_are_refused_with_the_reason() {
        type Spoil = fn(&mut Drawn);
        let cases: [(&str, Spoil); 6] = [
            ("not a number", |d| d.samples[3].x = f64::NAN),
            ("outside the pad", |d| d.samples[3].y = 5000.0),
            ("back in time", |d| d.samples[3].t = 0.0),
            ("pressure", |d| d.samples[3].pressure = 1.5),
            ("tilt", |d| d.samples[3].tilt_x = Some(120.0)),
            ("px_per_mm", |d| d.pad.px_per_mm = 0.0),
        ];
        for (expected, spoil) in cases {
            let mut d = sample_signature(PointerKind::Pen);
            spoil(&mut d);
            let err = d.check().unwrap_err().to_string();
            assert!(err.contains(expected), "{expected}: {err}");
        }
        let mut long = sample_signature(PointerKind::Pen);
        long.samples.last_mut().unwrap().t = 61_000.0;
        assert!(matches!(long.check(), Err(SignatureError::TooLong)));
        let mut huge = sample_signature(PointerKind::Pen);
        huge.samples = vec![huge.samples[0]; MAX_SAMPLES + 1];
        assert!(matches!(huge.check(), Err(SignatureError::TooLarge(_))));
    }
}
