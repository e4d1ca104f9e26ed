//! A camera that survives being unplugged: when a read fails it closes the device, and every later call tries
//! to open it again until it is back. Frame numbers keep counting across reconnects, so a consumer waiting for
//! "a frame newer than N" is never fooled by a device that restarts at 0.

use crate::camera::{Camera, CaptureError, Frame, SourceInfo};

type Opener = Box<dyn FnMut() -> Result<Box<dyn Camera>, CaptureError> + Send>;

pub struct ReconnectingCamera {
    open: Opener,
    current: Option<Box<dyn Camera>>,
    /// The last opened device's info, or what was asked for before the first open.
    info: SourceInfo,
    seq: u64,
    opens: u64,
}

impl ReconnectingCamera {
    /// Does not open the device yet: the first `next_frame` does, so a kiosk started before its camera is
    /// plugged in simply waits for it.
    pub fn new(wanted: SourceInfo, open: Opener) -> ReconnectingCamera {
        ReconnectingCamera { open, current: None, info: wanted, seq: 0, opens: 0 }
    }

    /// How many times the device has been opened; more than one means it came back after a failure.
    pub fn opens(&self) -> u64 {
        self.opens
    }
}

impl Camera for ReconnectingCamera {
    fn info(&self) -> SourceInfo {
        self.info.clone()
    }

    fn next_frame(&mut self) -> Result<Frame, CaptureError> {
        if self.current.is_none() {
            let camera = (self.open)()?;
            self.info = camera.info();
            self.opens += 1;
            if self.opens > 1 {
                tracing::info!(camera = %self.info.name, "camera reconnected");
            }
            self.current = Some(camera);
        }
        let result = match self.current.as_mut() {
            Some(camera) => camera.next_frame(),
            None => Err(CaptureError::Disconnected),
        };
        match result {
            Ok(mut frame) => {
                frame.seq = self.seq;
                self.seq += 1;
                Ok(frame)
            }
            Err(e) => {
                tracing::warn!(camera = %self.info.name, error = %e, "camera lost; closing it until it comes back");
                self.current = None;
                Err(CaptureError::Disconnected)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    use image::RgbImage;

    use super::*;
    use crate::camera::SourceKind;

    /// A device that delivers `frames` frames and then fails like an unplugged webcam.
    struct Flaky {
        frames: u32,
        seq: u64,
    }

    impl Camera for Flaky {
        fn info(&self) -> SourceInfo {
            SourceInfo { name: "Flaky cam".into(), kind: SourceKind::Webcam, width: 8, height: 8, fps: 30 }
        }
        fn next_frame(&mut self) -> Result<Frame, CaptureError> {
            if self.frames == 0 {
                return Err(CaptureError::Frame("read failed: No such device".into()));
            }
            self.frames -= 1;
            let frame = Frame {
                image: RgbImage::new(8, 8),
                seq: self.seq,
                captured_at: Instant::now(),
                kind: SourceKind::Webcam,
            };
            self.seq += 1;
            Ok(frame)
        }
    }

    #[test]
    fn an_unplugged_camera_is_reopened_when_it_comes_back_and_frame_numbers_keep_counting() {
        // Plugged in with 3 frames, then unplugged for two open attempts, then back with 2 frames.
        let attempts = Arc::new(AtomicU32::new(0));
        let seen = attempts.clone();
        let opener: Opener = Box::new(move || match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(Box::new(Flaky { frames: 3, seq: 0 }) as Box<dyn Camera>),
            1 | 2 => Err(CaptureError::NotFound("Flaky cam".into())),
            _ => Ok(Box::new(Flaky { frames: 2, seq: 0 }) as Box<dyn Camera>),
        });
        let wanted = SourceInfo { name: "wanted".into(), kind: SourceKind::Webcam, width: 0, height: 0, fps: 0 };
        let mut cam = ReconnectingCamera::new(wanted, opener);
        assert_eq!(cam.info().name, "wanted");

        let mut seqs = Vec::new();
        let mut errors = Vec::new();
        for _ in 0..8 {
            match cam.next_frame() {
                Ok(f) => seqs.push(f.seq),
                Err(e) => errors.push(e.to_string()),
            }
        }
        assert_eq!(seqs, vec![0, 1, 2, 3, 4]);
        assert_eq!(cam.opens(), 2);
        assert_eq!(cam.info().name, "Flaky cam");
        // The unplug, then two failed opens while it was away.
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("not found")), "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("disconnected")), "{errors:?}");
    }
}
