//! The kiosk's camera: one capture thread per process, the latest frame shared with the preview stream and
//! the capture steps. Started on first use, so a server that never shows a camera never opens one.
//!
//! The source is configured (`camera` in vouch.toml, `VOUCH_CAMERA`, `--camera`): `none`, `demo:PATH` (a
//! folder of images or an MJPEG file played in a loop) or `synthetic`. Demo and synthetic sources are labelled
//! as such in every status the UI reads and in the log; they are never chosen silently.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use tokio::sync::watch;
use vouch_capture::{Camera, FileCamera, SourceInfo, SourceKind, SyntheticCamera};
use vouch_vision::image::RgbImage;

/// Preview frames are JPEG at this quality: small enough for 15+ fps over loopback, clear enough to aim by.
const PREVIEW_JPEG_QUALITY: u8 = 75;
pub const DEMO_FPS: u32 = 15;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CameraSource {
    #[default]
    None,
    Demo(PathBuf),
    Synthetic,
}

impl CameraSource {
    /// `none`, `demo:PATH` or `synthetic`.
    pub fn parse(s: &str) -> Result<CameraSource, String> {
        match s.trim() {
            "" | "none" => Ok(CameraSource::None),
            "synthetic" => Ok(CameraSource::Synthetic),
            other => match other.strip_prefix("demo:") {
                Some(path) if !path.is_empty() => Ok(CameraSource::Demo(PathBuf::from(path))),
                _ => Err(format!("camera must be none, synthetic or demo:PATH, not {other:?}")),
            },
        }
    }
}

/// One captured frame, shared without copying.
pub struct Shot {
    pub seq: u64,
    pub kind: SourceKind,
    pub image: Arc<RgbImage>,
    pub jpeg: Bytes,
}

struct Running {
    info: SourceInfo,
    frames: watch::Receiver<Option<Arc<Shot>>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CameraStatus {
    /// False when no camera is configured or it failed to open; `error` says why.
    pub available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceInfo>,
    /// True for the demo file camera and the synthetic source: the UI shows a DEMO banner.
    pub demo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub struct CameraService {
    source: CameraSource,
    running: Mutex<Option<Running>>,
    last_error: Mutex<Option<String>>,
    /// Required by the preview stream, which lives outside the command bridge (an `<img>` cannot send a
    /// bearer token). Random per process, handed out by `camera_status`.
    pub preview_token: String,
}

impl CameraService {
    pub fn new(source: CameraSource) -> CameraService {
        CameraService {
            source,
            running: Mutex::new(None),
            last_error: Mutex::new(None),
            preview_token: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    fn open(&self) -> Result<Box<dyn Camera>, String> {
        match &self.source {
            CameraSource::None => Err("no camera is configured (set camera in settings or vouch.toml)".into()),
            CameraSource::Synthetic => Ok(Box::new(SyntheticCamera::new(640, 480, DEMO_FPS))),
            CameraSource::Demo(path) => {
                FileCamera::open(path, DEMO_FPS).map(|c| Box::new(c) as Box<dyn Camera>).map_err(|e| e.to_string())
            }
        }
    }

    /// Starts the capture thread if it is not running. Returns the latest-frame channel.
    fn ensure_started(&self) -> Result<watch::Receiver<Option<Arc<Shot>>>, String> {
        let mut running = self.running.lock().map_err(|_| "camera lock poisoned".to_string())?;
        if let Some(r) = running.as_ref() {
            return Ok(r.frames.clone());
        }
        let camera = self.open().inspect_err(|e| {
            if let Ok(mut last) = self.last_error.lock() {
                *last = Some(e.clone());
            }
        })?;
        let info = camera.info();
        if info.kind.is_demo() {
            tracing::warn!(source = %info.name, kind = ?info.kind, "DEMO camera in use: frames are not from a webcam");
        } else {
            tracing::info!(source = %info.name, "camera started");
        }
        let (tx, rx) = watch::channel(None);
        std::thread::Builder::new()
            .name("vouch-camera".into())
            .spawn(move || capture_loop(camera, tx))
            .map_err(|e| format!("could not start the camera thread: {e}"))?;
        *running = Some(Running { info, frames: rx.clone() });
        Ok(rx)
    }

    pub fn status(&self) -> CameraStatus {
        match self.ensure_started() {
            Ok(_) => {
                let info = self.running.lock().ok().and_then(|r| r.as_ref().map(|r| r.info.clone()));
                let demo = info.as_ref().is_some_and(|i| i.kind.is_demo());
                CameraStatus { available: info.is_some(), source: info, demo, error: None }
            }
            Err(e) => CameraStatus { available: false, source: None, demo: false, error: Some(e) },
        }
    }

    /// Frames as they arrive, for the preview stream.
    pub fn subscribe(&self) -> Result<watch::Receiver<Option<Arc<Shot>>>, String> {
        self.ensure_started()
    }

    /// The newest frame, waiting up to `wait` for the first one after start.
    pub async fn latest(&self, wait: Duration) -> Result<Arc<Shot>, String> {
        self.first_where(wait, |_| true, "the camera sent no frame in time").await
    }

    /// A frame newer than `after`, waiting up to `wait`.
    pub async fn next_after(&self, after: u64, wait: Duration) -> Result<Arc<Shot>, String> {
        self.first_where(wait, |s| s.seq > after, "the camera sent no new frame in time").await
    }

    async fn first_where(
        &self,
        wait: Duration,
        wanted: impl Fn(&Shot) -> bool,
        too_late: &str,
    ) -> Result<Arc<Shot>, String> {
        let mut rx = self.ensure_started()?;
        let got = tokio::time::timeout(wait, rx.wait_for(|s| s.as_deref().is_some_and(&wanted))).await;
        match got {
            Ok(Ok(shot)) => shot.clone().ok_or_else(|| "no frame".to_string()),
            Ok(Err(_)) => Err("the camera stopped".into()),
            Err(_) => Err(too_late.into()),
        }
    }
}

fn capture_loop(mut camera: Box<dyn Camera>, tx: watch::Sender<Option<Arc<Shot>>>) {
    loop {
        match camera.next_frame() {
            Ok(frame) => {
                let jpeg = match vouch_vision::image_io::encode_jpeg(&frame.image, PREVIEW_JPEG_QUALITY) {
                    Ok(j) => Bytes::from(j),
                    Err(e) => {
                        tracing::warn!(error = %e, "a camera frame could not be encoded");
                        continue;
                    }
                };
                let shot = Shot { seq: frame.seq, kind: frame.kind, image: Arc::new(frame.image), jpeg };
                if tx.send(Some(Arc::new(shot))).is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "camera read failed; retrying in a second");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}
