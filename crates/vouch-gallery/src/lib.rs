//! 1:N face search over a gallery of enrolled templates.
//!
//! Templates (unit vectors, 512 floats from the face engine) are held as int8 codes with one scale each:
//! 512 + 4 bytes, plus the key and its slot. A search scans every code exactly (an int8 dot product per
//! template, vectorised for the CPU it runs on and split over threads), keeps the best candidates by that
//! approximate score, and re-ranks them with their f32 templates, which the caller fetches from where they are
//! kept (the encrypted store), so the answer's scores are exact cosines.
//!
//! Behind a setting, an approximate index ([`sketch`]) picks a shortlist by binary sketches before the int8
//! scoring, for galleries beyond a million templates; the re-ranking is the same.

mod quantize;
mod scan;
pub mod sketch;

use std::collections::HashMap;

pub use quantize::Code;

/// Why a template or a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GalleryError {
    #[error("a template has {found} values; this gallery holds {expected}")]
    Dimension { expected: usize, found: usize },
    #[error("a template has a value that is not a number, or is all zeros")]
    NotAVector,
    #[error("a sketch has 64 to {max} bits, a multiple of 64")]
    SketchBits { max: usize },
}

/// One answer of a search: the enrolled key and its cosine similarity to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    pub key: u64,
    pub cosine: f32,
}

/// A gallery: int8 codes of enrolled templates, each under a caller's key (a person's template number).
pub struct Gallery {
    dim: usize,
    keys: Vec<u64>,
    codes: Vec<i8>,
    scales: Vec<f32>,
    slots: HashMap<u64, usize>,
    threads: usize,
    /// The approximate index, when the gallery uses one: a sketch per slot, and the shortlist length.
    sketcher: Option<(sketch::Sketcher, usize)>,
    sketches: sketch::Sketches,
}

impl Gallery {
    /// An empty gallery of `dim`-value templates, searched on up to `threads` threads.
    pub fn new(dim: usize, threads: usize) -> Gallery {
        Gallery {
            dim,
            keys: Vec::new(),
            codes: Vec::new(),
            scales: Vec::new(),
            slots: HashMap::new(),
            threads,
            sketcher: None,
            sketches: sketch::Sketches::default(),
        }
    }

    /// An empty gallery whose searches take a shortlist by sketches before scoring (see [`sketch`]).
    pub fn approximate(dim: usize, threads: usize, params: sketch::SketchParams) -> Result<Gallery, GalleryError> {
        let sketcher = sketch::Sketcher::new(dim, params.bits)
            .ok_or(GalleryError::SketchBits { max: dim.max(1).next_power_of_two() })?;
        let sketches = sketch::Sketches::new(sketcher.words);
        Ok(Gallery { sketcher: Some((sketcher, params.shortlist.max(1))), sketches, ..Gallery::new(dim, threads) })
    }

    pub fn is_approximate(&self) -> bool {
        self.sketcher.is_some()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Bytes held per template: its code, scale, key and slot, and its sketch when approximate.
    pub fn bytes_per_template(&self) -> usize {
        let sketch = self.sketcher.as_ref().map_or(0, |(s, _)| s.words * 8);
        self.dim + sketch + std::mem::size_of::<f32>() + 2 * std::mem::size_of::<u64>() + std::mem::size_of::<usize>()
    }

    /// Enrols `template` under `key`, replacing what the key held.
    pub fn insert(&mut self, key: u64, template: &[f32]) -> Result<(), GalleryError> {
        let code = self.code(template)?;
        let sketch = match &self.sketcher {
            Some((sketcher, _)) => Some(sketcher.sketch(&self.unit_of(template)?)),
            None => None,
        };
        match self.slots.get(&key) {
            Some(&slot) => {
                if let Some(dst) = self.codes.get_mut(slot * self.dim..(slot + 1) * self.dim) {
                    dst.copy_from_slice(&code.values);
                }
                if let Some(scale) = self.scales.get_mut(slot) {
                    *scale = code.scale;
                }
                if let Some(sketch) = &sketch {
                    self.sketches.put(slot, sketch);
                }
            }
            None => {
                let slot = self.keys.len();
                self.slots.insert(key, slot);
                self.keys.push(key);
                self.codes.extend_from_slice(&code.values);
                self.scales.push(code.scale);
                if let Some(sketch) = &sketch {
                    self.sketches.put(slot, sketch);
                }
            }
        }
        Ok(())
    }

    /// Removes `key`'s template; false when the key holds none. The last template takes its slot.
    pub fn remove(&mut self, key: u64) -> bool {
        let Some(slot) = self.slots.remove(&key) else { return false };
        let last = self.keys.len() - 1;
        if slot != last {
            self.codes.copy_within(last * self.dim..(last + 1) * self.dim, slot * self.dim);
            self.sketches.copy(last, slot);
            if let (Some(&moved), Some(&scale)) = (self.keys.get(last), self.scales.get(last)) {
                if let Some(k) = self.keys.get_mut(slot) {
                    *k = moved;
                }
                if let Some(s) = self.scales.get_mut(slot) {
                    *s = scale;
                }
                self.slots.insert(moved, slot);
            }
        }
        self.keys.truncate(last);
        self.scales.truncate(last);
        self.codes.truncate(last * self.dim);
        self.sketches.truncate(last);
        true
    }

    pub fn contains(&self, key: u64) -> bool {
        self.slots.contains_key(&key)
    }

    /// The `n` best templates by the int8 scan (approximate: among the sketches' shortlist), best first, each
    /// with its int8 cosine.
    pub fn candidates(&self, query: &[f32], n: usize) -> Result<Vec<Hit>, GalleryError> {
        let code = self.code(query)?;
        let best = match &self.sketcher {
            Some((sketcher, shortlist)) => {
                let sketch = sketcher.sketch(&self.unit_of(query)?);
                let slots = self.sketches.nearest(self.len(), &sketch, n.max(*shortlist), self.threads);
                scan::score(&self.codes, self.dim, &code.values, &slots, n)
            }
            None => scan::best(&self.codes, self.dim, &code.values, n, self.threads),
        };
        let query = code;
        Ok(best
            .into_iter()
            .filter_map(|(slot, dot)| {
                let key = *self.keys.get(slot)?;
                let scale = *self.scales.get(slot)?;
                Some(Hit { key, cosine: dot as f32 * scale * query.scale })
            })
            .collect())
    }

    /// The `k` best templates, best first, with exact cosines: the int8 scan's best `k` + `extra` candidates
    /// re-ranked with their f32 templates from `fetch` (a candidate it cannot give keeps its approximate score).
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        extra: usize,
        fetch: impl Fn(u64) -> Option<Vec<f32>>,
    ) -> Result<Vec<Hit>, GalleryError> {
        let unit = quantize::unit(query).ok_or(GalleryError::NotAVector)?;
        let mut hits = self.candidates(query, k + extra)?;
        for hit in &mut hits {
            if let Some(cosine) = fetch(hit.key).as_deref().and_then(|exact| cosine_to_unit(&unit, exact)) {
                hit.cosine = cosine;
            }
        }
        hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
        hits.truncate(k);
        Ok(hits)
    }

    fn unit_of(&self, template: &[f32]) -> Result<Vec<f32>, GalleryError> {
        if template.len() != self.dim {
            return Err(GalleryError::Dimension { expected: self.dim, found: template.len() });
        }
        quantize::unit(template).ok_or(GalleryError::NotAVector)
    }

    fn code(&self, template: &[f32]) -> Result<Code, GalleryError> {
        if template.len() != self.dim {
            return Err(GalleryError::Dimension { expected: self.dim, found: template.len() });
        }
        Code::of(template).ok_or(GalleryError::NotAVector)
    }
}

/// The cosine between a unit vector and any vector of the same length, without making a unit copy of it; `None`
/// when `v` has a non-finite value or no length.
fn cosine_to_unit(unit: &[f32], v: &[f32]) -> Option<f32> {
    if v.len() != unit.len() {
        return None;
    }
    let (along, squares) = unit.iter().zip(v).fold((0f32, 0f32), |(d, s), (u, x)| (d + u * x, s + x * x));
    let cosine = along / squares.sqrt();
    cosine.is_finite().then_some(cosine)
}

/// The plain f32 dot product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
