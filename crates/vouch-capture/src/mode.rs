//! Choosing a webcam's capture mode (resolution, frame rate, pixel format) from what it offers.

use serde::Serialize;

use crate::pixels::PixelFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mode {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    pub format: PixelFormat,
}

/// What the kiosk asks for, written `640x480@30`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModeRequest {
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

impl Default for ModeRequest {
    /// The face models work at 640×480; more pixels only cost decode and detection time.
    fn default() -> Self {
        ModeRequest { width: 640, height: 480, fps: 30 }
    }
}

impl ModeRequest {
    pub fn parse(s: &str) -> Result<ModeRequest, String> {
        let err = || format!("a camera mode is WIDTHxHEIGHT@FPS, such as 640x480@30, not {s:?}");
        let (size, fps) = s.trim().split_once('@').ok_or_else(err)?;
        let (w, h) = size.split_once(['x', 'X']).ok_or_else(err)?;
        let num = |t: &str| t.trim().parse::<u32>().map_err(|_| err());
        let mode = ModeRequest { width: num(w)?, height: num(h)?, fps: num(fps)? };
        if !(160..=4096).contains(&mode.width) || !(120..=4096).contains(&mode.height) || !(1..=120).contains(&mode.fps)
        {
            return Err(format!("{s:?} is outside 160x120..4096x4096 at 1..120 fps"));
        }
        Ok(mode)
    }
}

impl std::fmt::Display for ModeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}@{}", self.width, self.height, self.fps)
    }
}

/// The offered mode closest to the request: first the smallest resolution that covers it (or, when none
/// does, the largest there is), then the lowest frame rate that reaches the requested one (or the highest
/// there is), then the cheapest format to decode.
pub fn choose_mode(offered: &[Mode], want: ModeRequest) -> Option<Mode> {
    offered.iter().copied().min_by_key(|m| {
        let area = i64::from(m.width) * i64::from(m.height);
        let covers = m.width >= want.width && m.height >= want.height;
        let res_key = if covers { (0, area) } else { (1, -area) };
        let fps_key = if m.fps >= want.fps { (0, i64::from(m.fps)) } else { (1, -i64::from(m.fps)) };
        (res_key, fps_key, m.format.preference())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn m(width: u32, height: u32, fps: u32, format: PixelFormat) -> Mode {
        Mode { width, height, fps, format }
    }

    #[test]
    fn a_typical_uvc_camera_gets_640x480_yuyv_at_30() {
        let offered = [
            m(1920, 1080, 30, PixelFormat::Mjpeg),
            m(1920, 1080, 5, PixelFormat::Yuyv),
            m(1280, 720, 30, PixelFormat::Mjpeg),
            m(1280, 720, 10, PixelFormat::Yuyv),
            m(640, 480, 30, PixelFormat::Mjpeg),
            m(640, 480, 30, PixelFormat::Yuyv),
            m(640, 480, 15, PixelFormat::Yuyv),
            m(320, 240, 30, PixelFormat::Yuyv),
        ];
        assert_eq!(choose_mode(&offered, ModeRequest::default()), Some(m(640, 480, 30, PixelFormat::Yuyv)));
        let hd = ModeRequest::parse("1280x720@30").unwrap();
        // YUYV at 720p only reaches 10 fps, so MJPEG wins on the frame rate.
        assert_eq!(choose_mode(&offered, hd), Some(m(1280, 720, 30, PixelFormat::Mjpeg)));
    }

    #[test]
    fn falls_back_to_the_nearest_mode_when_nothing_matches() {
        let small = [m(320, 240, 15, PixelFormat::Yuyv), m(352, 288, 10, PixelFormat::Yuyv)];
        assert_eq!(choose_mode(&small, ModeRequest::default()), Some(m(352, 288, 10, PixelFormat::Yuyv)));
        let big = [m(1920, 1080, 60, PixelFormat::Mjpeg), m(1280, 960, 60, PixelFormat::Mjpeg)];
        assert_eq!(choose_mode(&big, ModeRequest::default()), Some(m(1280, 960, 60, PixelFormat::Mjpeg)));
        assert_eq!(choose_mode(&[], ModeRequest::default()), None);
    }

    #[test]
    fn mode_requests_parse_and_are_bounded() {
        assert_eq!(ModeRequest::parse(" 1280X720@25 ").unwrap(), ModeRequest { width: 1280, height: 720, fps: 25 });
        assert_eq!(ModeRequest::default().to_string(), "640x480@30");
        for bad in ["640x480", "640@30", "axb@c", "99999x480@30", "640x480@0"] {
            assert!(ModeRequest::parse(bad).is_err(), "{bad}");
        }
    }
}
