//! Webcams through V4L2, with nokhwa. A webcam is chosen by its name (stable across unplug and replug, when the
//! kernel may give it another `/dev/video` number), by its device node, or as "the first one".

use nokhwa::utils::{ApiBackend, CameraFormat, CameraIndex, FrameFormat, RequestedFormat, RequestedFormatType};

use crate::camera::{Camera, CaptureError, Frame, SourceInfo, SourceKind};
use crate::mode::{choose_mode, Mode, ModeRequest};
use crate::pixels::{to_rgb, PixelFormat};
use crate::reconnect::ReconnectingCamera;
use crate::{list_cameras, CameraInfo};

const DECODABLE: [FrameFormat; 6] = [
    FrameFormat::YUYV,
    FrameFormat::NV12,
    FrameFormat::MJPEG,
    FrameFormat::RAWRGB,
    FrameFormat::RAWBGR,
    FrameFormat::GRAY,
];

fn from_nokhwa(f: FrameFormat) -> PixelFormat {
    match f {
        FrameFormat::MJPEG => PixelFormat::Mjpeg,
        FrameFormat::YUYV => PixelFormat::Yuyv,
        FrameFormat::NV12 => PixelFormat::Nv12,
        FrameFormat::GRAY => PixelFormat::Gray,
        FrameFormat::RAWRGB => PixelFormat::Rgb,
        FrameFormat::RAWBGR => PixelFormat::Bgr,
    }
}

fn to_nokhwa(f: PixelFormat) -> FrameFormat {
    match f {
        PixelFormat::Mjpeg => FrameFormat::MJPEG,
        PixelFormat::Yuyv => FrameFormat::YUYV,
        PixelFormat::Nv12 => FrameFormat::NV12,
        PixelFormat::Gray => FrameFormat::GRAY,
        PixelFormat::Rgb => FrameFormat::RAWRGB,
        PixelFormat::Bgr => FrameFormat::RAWBGR,
    }
}

/// A webcam that is reopened whenever it comes back after an unplug. `selector` is empty for the first
/// webcam, a `/dev/videoN` node, or a name as `list_cameras` reports it (case-insensitive).
pub fn open_webcam(selector: &str, request: ModeRequest) -> ReconnectingCamera {
    let selector = selector.trim().to_string();
    let wanted = SourceInfo {
        name: if selector.is_empty() { "the first webcam".into() } else { selector.clone() },
        kind: SourceKind::Webcam,
        width: request.width,
        height: request.height,
        fps: request.fps,
    };
    ReconnectingCamera::new(wanted, Box::new(move || open_once(&selector, request)))
}

fn open_once(selector: &str, request: ModeRequest) -> Result<Box<dyn Camera>, CaptureError> {
    let cameras = list_cameras();
    let found = crate::find_camera(&cameras, selector).ok_or_else(|| {
        CaptureError::NotFound(if selector.is_empty() { "no webcam is connected".into() } else { selector.into() })
    })?;
    let open_err = |e: nokhwa::NokhwaError| CaptureError::Open { camera: found.name.clone(), reason: e.to_string() };
    let any = RequestedFormat::with_formats(RequestedFormatType::None, &DECODABLE);
    let mut camera = nokhwa::Camera::with_backend(CameraIndex::Index(found.index), any, ApiBackend::Video4Linux)
        .map_err(open_err)?;
    let offered: Vec<Mode> = camera
        .compatible_camera_formats()
        .map_err(open_err)?
        .into_iter()
        .map(|f| Mode { width: f.width(), height: f.height(), fps: f.frame_rate(), format: from_nokhwa(f.format()) })
        .collect();
    let mode = choose_mode(&offered, request).ok_or_else(|| CaptureError::Open {
        camera: found.name.clone(),
        reason: "it offers no pixel format Vouch can decode".into(),
    })?;
    let exact = CameraFormat::new_from(mode.width, mode.height, to_nokhwa(mode.format), mode.fps);
    camera
        .set_camera_requset(RequestedFormat::with_formats(RequestedFormatType::Exact(exact), &DECODABLE))
        .map_err(open_err)?;
    camera.open_stream().map_err(open_err)?;
    tracing::info!(camera = %found.name, device = %found.device, ?mode, "webcam opened");
    Ok(Box::new(Webcam { camera, found: found.clone(), mode, seq: 0 }))
}

struct Webcam {
    camera: nokhwa::Camera,
    found: CameraInfo,
    mode: Mode,
    seq: u64,
}

impl Camera for Webcam {
    fn info(&self) -> SourceInfo {
        SourceInfo {
            name: self.found.name.clone(),
            kind: SourceKind::Webcam,
            width: self.mode.width,
            height: self.mode.height,
            fps: self.mode.fps,
        }
    }

    fn next_frame(&mut self) -> Result<Frame, CaptureError> {
        // Blocks until the driver hands over the next buffer, so the device sets the pace.
        let buffer = self.camera.frame().map_err(|e| CaptureError::Frame(e.to_string()))?;
        let res = buffer.resolution();
        let image = to_rgb(from_nokhwa(buffer.source_frame_format()), res.width(), res.height(), buffer.buffer())?;
        let frame = Frame { image, seq: self.seq, captured_at: std::time::Instant::now(), kind: SourceKind::Webcam };
        self.seq += 1;
        Ok(frame)
    }
}

impl Drop for Webcam {
    fn drop(&mut self) {
        if let Err(e) = self.camera.stop_stream() {
            tracing::debug!(error = %e, "stopping the webcam stream");
        }
    }
}
