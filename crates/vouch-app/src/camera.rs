//! The kiosk's camera: one capture thread per process, the latest frame shared with the preview stream and
//! the capture steps. Started on first use, so a server that never shows a camera never opens one.
//!
//! The source is configured (`camera` in vouch.toml, `VOUCH_CAMERA`, `--camera`) and can be changed by an
//! admin in settings: `none`, `webcam` (the first one), `webcam:NAME` or `webcam:/dev/videoN`, `demo:PATH` (a
//! folder of images or an MJPEG file played in a loop) or `synthetic`. Demo and synthetic sources are labelled
//! as such in every status the UI reads and in the log; they are never chosen silently.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;
use vouch_capture::{Camera, FileCamera, ModeRequest, SourceInfo, SourceKind, SyntheticCamera};
use vouch_vision::image::RgbImage;

/// Preview frames are JPEG at this quality: small enough for 15+ fps over loopback, clear enough to aim by.
const PREVIEW_JPEG_QUALITY: u8 = 75;
/// The preview's frame rate cap: smooth enough for the oval guide, and a 30 fps webcam then costs half the encoding.
pub const PREVIEW_MAX_FPS: u32 = 15;
pub const DEMO_FPS: u32 = 15;
/// How long the capture thread waits before trying a lost or missing camera again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CameraSource {
    #[default]
    None,
    /// A V4L2 webcam: empty for the first one, a name, or a `/dev/videoN` node.
    Webcam {
        selector: String,
        mode: ModeRequest,
    },
    Demo(PathBuf),
    Synthetic,
}

impl CameraSource {
    /// `none`, `webcam[:NAME|:/dev/videoN]`, `demo:PATH` or `synthetic`. Webcams use `mode`.
    pub fn parse(s: &str, mode: ModeRequest) -> Result<CameraSource, String> {
        match s.trim() {
            "" | "none" => Ok(CameraSource::None),
            "synthetic" => Ok(CameraSource::Synthetic),
            "webcam" => Ok(CameraSource::Webcam { selector: String::new(), mode }),
            other => {
                if let Some(selector) = other.strip_prefix("webcam:") {
                    return Ok(CameraSource::Webcam { selector: selector.trim().to_string(), mode });
                }
                match other.strip_prefix("demo:") {
                    Some(path) if !path.is_empty() => Ok(CameraSource::Demo(PathBuf::from(path))),
                    _ => {
                        Err(format!("camera must be none, webcam, webcam:NAME, synthetic or demo:PATH, not {other:?}"))
                    }
                }
            }
        }
    }

    /// The setting's text form, as `parse` reads it.
    pub fn describe(&self) -> String {
        match self {
            CameraSource::None => "none".into(),
            CameraSource::Webcam { selector, .. } if selector.is_empty() => "webcam".into(),
            CameraSource::Webcam { selector, .. } => format!("webcam:{selector}"),
            CameraSource::Demo(path) => format!("demo:{}", path.display()),
            CameraSource::Synthetic => "synthetic".into(),
        }
    }
}

/// The source to use: the admin's choice from settings when there is one, else the startup configuration.
pub fn effective_source(startup: &CameraSource, chosen: &str, mode: ModeRequest) -> CameraSource {
    if chosen.trim().is_empty() {
        return startup.clone();
    }
    CameraSource::parse(chosen, mode).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "the camera chosen in settings is not valid; using the startup configuration");
        startup.clone()
    })
}

/// One captured frame, shared without copying.
pub struct Shot {
    pub seq: u64,
    pub kind: SourceKind,
    pub image: Arc<RgbImage>,
    /// The preview JPEG, encoded on first demand: with nobody watching, no frame is encoded (about 15 ms of CPU per
    /// 640×480 frame), and several viewers share one encoding.
    preview: OnceLock<Option<Arc<[u8]>>>,
}

impl Shot {
    pub fn new(seq: u64, kind: SourceKind, image: RgbImage) -> Shot {
        Shot { seq, kind, image: Arc::new(image), preview: OnceLock::new() }
    }

    /// The frame as a preview JPEG; None if it could not be encoded (logged). Blocking: call it off the async workers.
    pub fn preview_jpeg(&self) -> Option<Arc<[u8]>> {
        self.preview
            .get_or_init(|| match vouch_vision::image_io::encode_jpeg(&self.image, PREVIEW_JPEG_QUALITY) {
                Ok(j) => Some(Arc::from(j)),
                Err(e) => {
                    tracing::warn!(error = %e, "a camera frame could not be encoded for the preview");
                    None
                }
            })
            .clone()
    }
}

/// What the capture thread last saw, for the status the UI shows.
#[derive(Debug, Clone)]
struct Health {
    info: SourceInfo,
    connected: bool,
    error: Option<String>,
}

type Frames = watch::Receiver<Option<Arc<Shot>>>;

struct Running {
    frames: Frames,
    health: Arc<Mutex<Health>>,
    stop: Arc<AtomicBool>,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct CameraStatus {
    /// The configured source, as `parse` reads it (`none`, `webcam:NAME`, `demo:PATH`, ...).
    pub configured: String,
    /// False when no camera is configured or it failed to open; `error` says why.
    pub available: bool,
    /// False while a webcam is unplugged or not found yet: the capture thread keeps trying.
    pub connected: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub source: Option<SourceInfo>,
    /// True for the demo file camera and the synthetic source: the UI shows a DEMO banner.
    pub demo: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

pub struct CameraService {
    source: Mutex<CameraSource>,
    running: Mutex<Option<Running>>,
}

impl CameraService {
    pub fn new(source: CameraSource) -> CameraService {
        CameraService { source: Mutex::new(source), running: Mutex::new(None) }
    }

    pub fn source(&self) -> CameraSource {
        self.source.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Switches to another source: the running capture thread is told to stop, and the next use opens the new
    /// source. Open previews end and the UI reconnects to the new one.
    pub fn switch(&self, source: CameraSource) {
        let Ok(mut current) = self.source.lock() else { return };
        if *current == source {
            return;
        }
        tracing::info!(from = %current.describe(), to = %source.describe(), "camera source changed");
        *current = source;
        drop(current);
        if let Ok(mut running) = self.running.lock() {
            if let Some(r) = running.take() {
                r.stop.store(true, Ordering::Relaxed);
            }
        }
    }

    fn open(source: &CameraSource) -> Result<Box<dyn Camera>, String> {
        match source {
            CameraSource::None => {
                Err("no camera is configured (choose one in Admin → Devices, or set camera in vouch.toml)".into())
            }
            CameraSource::Synthetic => Ok(Box::new(SyntheticCamera::new(640, 480, DEMO_FPS))),
            CameraSource::Demo(path) => {
                FileCamera::open(path, DEMO_FPS).map(|c| Box::new(c) as Box<dyn Camera>).map_err(|e| e.to_string())
            }
            #[cfg(target_os = "linux")]
            CameraSource::Webcam { selector, mode } => {
                Ok(Box::new(vouch_capture::webcam::open_webcam(selector, *mode)))
            }
            #[cfg(not(target_os = "linux"))]
            CameraSource::Webcam { .. } => Err("webcams are supported on Linux (V4L2) only".into()),
        }
    }

    /// Starts the capture thread if it is not running. Returns the latest-frame channel.
    fn ensure_started(&self) -> Result<(Frames, Arc<Mutex<Health>>), String> {
        let mut running = self.running.lock().map_err(|_| "camera lock poisoned".to_string())?;
        if let Some(r) = running.as_ref() {
            return Ok((r.frames.clone(), r.health.clone()));
        }
        let camera = Self::open(&self.source())?;
        let info = camera.info();
        if info.kind.is_demo() {
            tracing::warn!(source = %info.name, kind = ?info.kind, "DEMO camera in use: frames are not from a webcam");
        } else {
            tracing::info!(source = %info.name, "camera starting");
        }
        let (tx, rx) = watch::channel(None);
        let health = Arc::new(Mutex::new(Health { info, connected: false, error: None }));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_health, thread_stop) = (health.clone(), stop.clone());
        std::thread::Builder::new()
            .name("vouch-camera".into())
            .spawn(move || capture_loop(camera, tx, thread_health, thread_stop))
            .map_err(|e| format!("could not start the camera thread: {e}"))?;
        *running = Some(Running { frames: rx.clone(), health: health.clone(), stop });
        Ok((rx, health))
    }

    pub fn status(&self) -> CameraStatus {
        let configured = self.source().describe();
        match self.ensure_started() {
            Ok((rx, health)) => {
                let health = health.lock().map(|h| h.clone()).ok();
                let has_frame = rx.borrow().is_some();
                let info = health.as_ref().map(|h| h.info.clone());
                let demo = info.as_ref().is_some_and(|i| i.kind.is_demo());
                CameraStatus {
                    configured,
                    available: true,
                    // Before the first frame the thread may still be opening the device: not an error yet.
                    connected: has_frame && health.as_ref().is_some_and(|h| h.connected),
                    source: info,
                    demo,
                    error: health.and_then(|h| h.error),
                }
            }
            Err(e) => CameraStatus {
                configured,
                available: false,
                connected: false,
                source: None,
                demo: false,
                error: Some(e),
            },
        }
    }

    /// Frames as they arrive, for the preview stream.
    pub fn subscribe(&self) -> Result<Frames, String> {
        self.ensure_started().map(|(rx, _)| rx)
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
        let (mut rx, health) = self.ensure_started()?;
        let got = tokio::time::timeout(wait, rx.wait_for(|s| s.as_deref().is_some_and(&wanted))).await;
        match got {
            Ok(Ok(shot)) => shot.clone().ok_or_else(|| "no frame".to_string()),
            Ok(Err(_)) => Err("the camera stopped".into()),
            Err(_) => {
                // Say why when the thread knows (unplugged, not found, busy), not just that it was slow.
                let why = health.lock().ok().and_then(|h| h.error.clone());
                Err(why.map_or_else(|| too_late.to_string(), |e| format!("{too_late}: {e}")))
            }
        }
    }
}

fn capture_loop(
    mut camera: Box<dyn Camera>,
    tx: watch::Sender<Option<Arc<Shot>>>,
    health: Arc<Mutex<Health>>,
    stop: Arc<AtomicBool>,
) {
    let set_health = |connected: bool, error: Option<String>, info: Option<SourceInfo>| {
        if let Ok(mut h) = health.lock() {
            h.connected = connected;
            h.error = error;
            if let Some(info) = info {
                h.info = info;
            }
        }
    };
    let mut connected = false;
    while !stop.load(Ordering::Relaxed) {
        match camera.next_frame() {
            Ok(frame) => {
                if !connected {
                    connected = true;
                    set_health(true, None, Some(camera.info()));
                }
                tx.send_replace(Some(Arc::new(Shot::new(frame.seq, frame.kind, frame.image))));
            }
            Err(e) => {
                if connected {
                    tracing::warn!(error = %e, "camera read failed; retrying every second");
                }
                connected = false;
                set_health(false, Some(e.to_string()), None);
                std::thread::sleep(RETRY_AFTER);
            }
        }
    }
    tracing::info!("camera capture stopped");
}
