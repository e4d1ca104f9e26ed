//! Webcam pixel formats and their conversion to RGB. Kept free of any capture library so the conversions are
//! tested on every machine, camera or not.

use image::RgbImage;
use serde::Serialize;

use crate::CaptureError;

/// The V4L2 formats a UVC webcam offers that Vouch can decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PixelFormat {
    Mjpeg,
    Yuyv,
    Nv12,
    Gray,
    Rgb,
    Bgr,
}

impl PixelFormat {
    /// Lower is preferred when two modes are otherwise equal: uncompressed YUYV costs ~1 ms to convert at
    /// 640×480 where a JPEG decode costs several.
    pub fn preference(self) -> u8 {
        match self {
            PixelFormat::Yuyv => 0,
            PixelFormat::Nv12 => 1,
            PixelFormat::Mjpeg => 2,
            PixelFormat::Rgb | PixelFormat::Bgr => 3,
            PixelFormat::Gray => 4,
        }
    }

    fn expected_len(self, width: u32, height: u32) -> Option<usize> {
        let px = (width as usize).checked_mul(height as usize)?;
        match self {
            PixelFormat::Mjpeg => None,
            PixelFormat::Yuyv => px.checked_mul(2),
            PixelFormat::Nv12 => px.checked_mul(3).map(|n| n / 2),
            PixelFormat::Gray => Some(px),
            PixelFormat::Rgb | PixelFormat::Bgr => px.checked_mul(3),
        }
    }
}

/// Full-range BT.601, as UVC cameras send it.
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let y = f32::from(y);
    let u = f32::from(u) - 128.0;
    let v = f32::from(v) - 128.0;
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [clamp(y + 1.402 * v), clamp(y - 0.344_136 * u - 0.714_136 * v), clamp(y + 1.772 * u)]
}

/// One raw frame to RGB. The buffer is checked against the mode's size before any pixel is read, so a short
/// read after an unplug is an error, not a torn image.
pub fn to_rgb(format: PixelFormat, width: u32, height: u32, bytes: &[u8]) -> Result<RgbImage, CaptureError> {
    let bad = |reason: String| CaptureError::Frame(reason);
    if width == 0 || height == 0 {
        return Err(bad("the camera reported an empty frame size".into()));
    }
    if let Some(want) = format.expected_len(width, height) {
        if bytes.len() < want {
            return Err(bad(format!("{format:?} frame is {} bytes, {want} expected", bytes.len())));
        }
    }
    let (w, h) = (width as usize, height as usize);
    let mut out = vec![0u8; w * h * 3];
    match format {
        PixelFormat::Mjpeg => {
            let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg)
                .map_err(|e| bad(format!("MJPEG frame: {e}")))?
                .into_rgb8();
            return Ok(img);
        }
        PixelFormat::Yuyv => {
            for (src, dst) in bytes.chunks_exact(4).zip(out.chunks_exact_mut(6)) {
                if let [y0, u, y1, v] = src {
                    let (a, b) = dst.split_at_mut(3);
                    a.copy_from_slice(&yuv_to_rgb(*y0, *u, *v));
                    b.copy_from_slice(&yuv_to_rgb(*y1, *u, *v));
                }
            }
        }
        PixelFormat::Nv12 => {
            let (luma, chroma) = bytes.split_at(w * h);
            for (row, line) in out.chunks_exact_mut(w * 3).enumerate() {
                let uv_row = chroma.get((row / 2) * w..).unwrap_or(&[]);
                for (col, px) in line.chunks_exact_mut(3).enumerate() {
                    let y = luma.get(row * w + col).copied().unwrap_or(0);
                    let u = uv_row.get(col & !1).copied().unwrap_or(128);
                    let v = uv_row.get((col & !1) + 1).copied().unwrap_or(128);
                    px.copy_from_slice(&yuv_to_rgb(y, u, v));
                }
            }
        }
        PixelFormat::Gray => {
            for (g, px) in bytes.iter().zip(out.chunks_exact_mut(3)) {
                px.fill(*g);
            }
        }
        PixelFormat::Rgb => out.copy_from_slice(bytes.get(..w * h * 3).unwrap_or(&[])),
        PixelFormat::Bgr => {
            for (src, px) in bytes.chunks_exact(3).zip(out.chunks_exact_mut(3)) {
                if let [b, g, r] = src {
                    px.copy_from_slice(&[*r, *g, *b]);
                }
            }
        }
    }
    RgbImage::from_raw(width, height, out).ok_or_else(|| bad("frame size mismatch".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn yuyv_pairs_share_chroma_and_grey_stays_grey() {
        // Two pixels: Y=16 and Y=235 with neutral chroma, then pure red-ish chroma.
        let frame = [16, 128, 235, 128, 82, 90, 82, 240];
        let img = to_rgb(PixelFormat::Yuyv, 4, 1, &frame).unwrap();
        assert_eq!(img.get_pixel(0, 0).0, [16, 16, 16]);
        assert_eq!(img.get_pixel(1, 0).0, [235, 235, 235]);
        let red = img.get_pixel(2, 0).0;
        assert!(red[0] > 230 && red[1] < 60 && red[2] < 60, "{red:?}");
        assert_eq!(img.get_pixel(2, 0), img.get_pixel(3, 0));
    }

    #[test]
    fn nv12_gray_and_bgr_convert() {
        // 2×2 NV12: four luma samples and one U/V pair.
        let img = to_rgb(PixelFormat::Nv12, 2, 2, &[10, 20, 30, 40, 128, 128]).unwrap();
        assert_eq!(img.get_pixel(1, 1).0, [40, 40, 40]);
        assert_eq!(to_rgb(PixelFormat::Gray, 1, 1, &[77]).unwrap().get_pixel(0, 0).0, [77, 77, 77]);
        assert_eq!(to_rgb(PixelFormat::Bgr, 1, 1, &[1, 2, 3]).unwrap().get_pixel(0, 0).0, [3, 2, 1]);
        assert_eq!(to_rgb(PixelFormat::Rgb, 1, 1, &[1, 2, 3]).unwrap().get_pixel(0, 0).0, [1, 2, 3]);
    }

    #[test]
    fn short_and_corrupt_frames_are_errors() {
        assert!(matches!(to_rgb(PixelFormat::Yuyv, 640, 480, &[0; 1000]), Err(CaptureError::Frame(_))));
        assert!(matches!(to_rgb(PixelFormat::Mjpeg, 640, 480, b"not a jpeg"), Err(CaptureError::Frame(_))));
        assert!(matches!(to_rgb(PixelFormat::Gray, 0, 480, &[]), Err(CaptureError::Frame(_))));
    }

    #[test]
    fn mjpeg_frames_decode() {
        let jpeg = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/faces/fr_obama.jpg")).unwrap();
        let img = to_rgb(PixelFormat::Mjpeg, 1, 1, &jpeg).unwrap();
        assert!(img.width() > 100);
    }
}
