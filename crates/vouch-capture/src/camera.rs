//! The `Camera` trait and the sources that need no hardware: a file camera (an image sequence or an MJPEG file,
//! looping at a set rate) for demo mode and tests, and a synthetic source. Both say what they are: a frame
//! always carries its source's kind, so a demo frame can never pass for a webcam's.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("camera source {0} has no frames")]
    Empty(String),
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("the camera was disconnected")]
    Disconnected,
    #[error("camera not found: {0}")]
    NotFound(String),
    #[error("cannot open {camera}: {reason}")]
    Open { camera: String, reason: String },
    #[error("bad frame from the camera: {0}")]
    Frame(String),
}

/// Where frames come from. Anything but `Webcam` is a demo or test source and is labelled so in the UI and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Webcam,
    DemoFile,
    Synthetic,
}

impl SourceKind {
    pub fn is_demo(self) -> bool {
        self != SourceKind::Webcam
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct SourceInfo {
    pub name: String,
    pub kind: SourceKind,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub image: RgbImage,
    /// Counts from 0 for each source.
    pub seq: u64,
    pub captured_at: Instant,
    pub kind: SourceKind,
}

pub trait Camera: Send {
    fn info(&self) -> SourceInfo;
    /// The next frame, waiting until it is due at the source's rate.
    fn next_frame(&mut self) -> Result<Frame, CaptureError>;
}

/// Paces frames at a fixed rate without drifting: each frame is due one period after the previous due time.
#[derive(Debug)]
struct Pacer {
    period: Duration,
    next_due: Option<Instant>,
}

impl Pacer {
    fn new(fps: u32) -> Pacer {
        Pacer { period: Duration::from_secs_f64(1.0 / f64::from(fps.max(1))), next_due: None }
    }
    fn wait(&mut self) -> Instant {
        let now = Instant::now();
        let due = self.next_due.unwrap_or(now);
        if due > now {
            std::thread::sleep(due - now);
        }
        // After a stall, restart from now instead of bursting to catch up.
        let base = if Instant::now() > due + self.period { Instant::now() } else { due };
        self.next_due = Some(base + self.period);
        Instant::now()
    }
}

/// Plays a folder of PNG/JPEG images (in name order) or an MJPEG file, looping, at `fps`.
pub struct FileCamera {
    name: String,
    frames: Vec<RgbImage>,
    pacer: Pacer,
    fps: u32,
    seq: u64,
}

/// More frames than this would hold hundreds of MiB decoded; a demo loop needs a few seconds at most.
const MAX_FILE_FRAMES: usize = 300;

impl FileCamera {
    pub fn open(path: &Path, fps: u32) -> Result<FileCamera, CaptureError> {
        let read_err = |e: std::io::Error| CaptureError::Read { path: path.to_path_buf(), reason: e.to_string() };
        let encoded: Vec<Vec<u8>> = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
                    matches!(ext.as_str(), "png" | "jpg" | "jpeg")
                })
                .collect();
            files.sort();
            files.iter().take(MAX_FILE_FRAMES).map(std::fs::read).collect::<Result<_, _>>().map_err(read_err)?
        } else {
            let bytes = std::fs::read(path).map_err(read_err)?;
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if matches!(ext.as_str(), "mjpeg" | "mjpg") {
                split_mjpeg(&bytes).into_iter().take(MAX_FILE_FRAMES).map(<[u8]>::to_vec).collect()
            } else {
                vec![bytes]
            }
        };
        let mut frames = Vec::with_capacity(encoded.len());
        for bytes in encoded {
            let img = image::load_from_memory(&bytes)
                .map_err(|e| CaptureError::Read { path: path.to_path_buf(), reason: e.to_string() })?;
            frames.push(img.into_rgb8());
        }
        if frames.is_empty() {
            return Err(CaptureError::Empty(path.display().to_string()));
        }
        tracing::warn!(source = %path.display(), frames = frames.len(), "DEMO camera: playing files, not a webcam");
        Ok(FileCamera { name: path.display().to_string(), frames, pacer: Pacer::new(fps), fps, seq: 0 })
    }
}

impl Camera for FileCamera {
    fn info(&self) -> SourceInfo {
        let (width, height) = self.frames.first().map(RgbImage::dimensions).unwrap_or((0, 0));
        SourceInfo {
            name: format!("Demo file camera ({})", self.name),
            kind: SourceKind::DemoFile,
            width,
            height,
            fps: self.fps,
        }
    }

    fn next_frame(&mut self) -> Result<Frame, CaptureError> {
        let captured_at = self.pacer.wait();
        let index = (self.seq % self.frames.len() as u64) as usize;
        let image = self.frames.get(index).cloned().ok_or(CaptureError::Disconnected)?;
        let frame = Frame { image, seq: self.seq, captured_at, kind: SourceKind::DemoFile };
        self.seq += 1;
        Ok(frame)
    }
}

/// The JPEG images of a motion-JPEG stream. Each is walked segment by segment (so an EXIF thumbnail's own
/// markers inside a segment are skipped) and ends at the end-of-image marker after its entropy-coded scan.
pub fn split_mjpeg(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(start) = find_soi(bytes, pos) {
        match jpeg_end(bytes, start) {
            Some(end) => {
                if let Some(jpeg) = bytes.get(start..end) {
                    out.push(jpeg);
                }
                pos = end;
            }
            None => break,
        }
    }
    out
}

fn find_soi(bytes: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..)?.windows(2).position(|w| w == [0xFF, 0xD8]).map(|p| p + from)
}

/// The index just past the EOI of the JPEG starting at `start`.
fn jpeg_end(bytes: &[u8], start: usize) -> Option<usize> {
    let at = |i: usize| bytes.get(i).copied();
    let mut i = start + 2;
    loop {
        if at(i)? != 0xFF {
            return None;
        }
        let marker = at(i + 1)?;
        match marker {
            0xFF => i += 1,
            0xD9 => return Some(i + 2),
            0x01 | 0xD0..=0xD7 => i += 2,
            _ => {
                let len = usize::from(u16::from_be_bytes([at(i + 2)?, at(i + 3)?]));
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data: FF00 is a stuffed byte and FFD0–FFD7 are restart markers.
                    loop {
                        if at(i)? == 0xFF && !matches!(at(i + 1)?, 0x00 | 0xD0..=0xD7) {
                            break;
                        }
                        i += 1;
                    }
                }
            }
        }
    }
}

/// A generated test pattern: a gradient with a bright square that moves one step a frame, and the frame number
/// drawn as a bar, so tests can tell frames apart and see motion without any file.
pub struct SyntheticCamera {
    width: u32,
    height: u32,
    fps: u32,
    pacer: Pacer,
    seq: u64,
}

impl SyntheticCamera {
    pub fn new(width: u32, height: u32, fps: u32) -> SyntheticCamera {
        SyntheticCamera { width: width.max(16), height: height.max(16), fps, pacer: Pacer::new(fps), seq: 0 }
    }

    fn render(&self) -> RgbImage {
        let (w, h) = (self.width, self.height);
        let side = (h / 4).max(4);
        let x0 = ((self.seq * 4) % u64::from(w.saturating_sub(side).max(1))) as u32;
        let y0 = (h - side) / 2;
        let bar = ((self.seq % 100) as u32 * w) / 100;
        RgbImage::from_fn(w, h, |x, y| {
            if y < 4 && x < bar {
                Rgb([255, 0, 0])
            } else if x >= x0 && x < x0 + side && y >= y0 && y < y0 + side {
                Rgb([240, 240, 240])
            } else {
                Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 96])
            }
        })
    }
}

impl Camera for SyntheticCamera {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: "Synthetic test pattern".into(),
            kind: SourceKind::Synthetic,
            width: self.width,
            height: self.height,
            fps: self.fps,
        }
    }

    fn next_frame(&mut self) -> Result<Frame, CaptureError> {
        let captured_at = self.pacer.wait();
        let frame = Frame { image: self.render(), seq: self.seq, captured_at, kind: SourceKind::Synthetic };
        self.seq += 1;
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn testdata() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/faces")
    }

    #[test]
    fn the_file_camera_loops_an_image_folder_in_name_order_and_says_it_is_a_demo() {
        let dir = tempfile::tempdir().unwrap();
        for (i, name) in ["fr_obama.jpg", "fr_biden.jpg"].iter().enumerate() {
            std::fs::copy(testdata().join(name), dir.path().join(format!("{i}.jpg"))).unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let mut cam = FileCamera::open(dir.path(), 200).unwrap();
        assert!(cam.info().kind.is_demo());
        assert!(cam.info().name.starts_with("Demo"));
        let sizes: Vec<(u32, u32)> = (0..4).map(|_| cam.next_frame().unwrap().image.dimensions()).collect();
        assert_eq!(sizes[0], sizes[2]);
        assert_eq!(sizes[1], sizes[3]);
        assert_ne!(sizes[0], sizes[1]);
    }

    #[test]
    fn an_mjpeg_file_is_split_into_its_frames() {
        let a = std::fs::read(testdata().join("fr_obama.jpg")).unwrap();
        let b = std::fs::read(testdata().join("fr_biden.jpg")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mjpeg");
        std::fs::write(&path, [a.as_slice(), b.as_slice()].concat()).unwrap();
        let mut cam = FileCamera::open(&path, 100).unwrap();
        let first = cam.next_frame().unwrap();
        let second = cam.next_frame().unwrap();
        assert_ne!(first.image.dimensions(), second.image.dimensions());
        assert_eq!((first.seq, second.seq), (0, 1));
        assert!(matches!(FileCamera::open(dir.path().join("missing").as_path(), 10), Err(CaptureError::Read { .. })));
    }

    #[test]
    fn frames_are_paced_at_the_requested_rate() {
        let mut cam = SyntheticCamera::new(64, 48, 50);
        let first = cam.next_frame().unwrap();
        let mut last = first.clone();
        for _ in 0..10 {
            last = cam.next_frame().unwrap();
        }
        // Ten periods of 20 ms: at least 200 ms apart (an upper bound would be a wall-clock assertion).
        assert!(last.captured_at.duration_since(first.captured_at) >= Duration::from_millis(195));
        assert_eq!(last.seq, 10);
        assert_ne!(first.image, last.image, "the pattern moves");
        assert_eq!(cam.info().kind, SourceKind::Synthetic);
    }
}
