//! int8 codes of unit vectors: each value scaled so that the largest magnitude is 127, with the scale kept to
//! turn an integer dot product back into a cosine.

/// A template as int8 values and the scale that maps them back (`value ≈ code * scale`).
#[derive(Debug, Clone, PartialEq)]
pub struct Code {
    pub values: Vec<i8>,
    pub scale: f32,
}

impl Code {
    /// The code of `v` made a unit vector; `None` when it has a non-finite value or no length.
    pub fn of(v: &[f32]) -> Option<Code> {
        let unit = unit(v)?;
        let largest = unit.iter().fold(0f32, |m, x| m.max(x.abs()));
        if largest <= 0.0 {
            return None;
        }
        let scale = largest / 127.0;
        let values = unit.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect();
        Some(Code { values, scale })
    }
}

/// `v` scaled to length 1; `None` when it has a non-finite value or no length.
pub fn unit(v: &[f32]) -> Option<Vec<f32>> {
    if v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    (norm > 0.0 && norm.is_finite()).then(|| v.iter().map(|x| x / norm).collect())
}
