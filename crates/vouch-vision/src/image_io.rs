//! Decoding untrusted image bytes. The header is read first and the dimensions checked before any pixel buffer
//! is allocated, so a 20000×20000 PNG of a few hundred bytes (a decode bomb) costs nothing.

use std::io::Cursor;
use vouch_core::image_header::{self, HeaderFormat};

use image::{ImageFormat, ImageReader, RgbImage};

use crate::error::{Result, VisionError};

/// Size limits for images accepted from outside.
#[derive(Debug, Clone, Copy)]
pub struct ImageLimits {
    pub max_side: u32,
    pub max_pixels: u64,
    pub min_side: u32,
}

impl Default for ImageLimits {
    /// 8192 a side and 40 megapixels: above any phone or webcam photo, below what would exhaust a kiosk's memory.
    fn default() -> Self {
        ImageLimits { max_side: 8192, max_pixels: 40_000_000, min_side: 32 }
    }
}

/// The format and dimensions from the header alone.
pub fn probe(bytes: &[u8], limits: ImageLimits) -> Result<(ImageFormat, u32, u32)> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|_| VisionError::ImageFormat)?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        _ => return Err(VisionError::ImageFormat),
    };
    let header_format = match format {
        ImageFormat::Png => HeaderFormat::Png,
        _ => HeaderFormat::Jpeg,
    };
    let (width, height) = match image_header::dimensions(bytes, header_format) {
        Some(dims) => dims,
        None => reader.into_dimensions().map_err(|e| VisionError::ImageDecode(e.to_string()))?,
    };
    check_limits(width, height, limits)?;
    Ok((format, width, height))
}

fn check_limits(width: u32, height: u32, limits: ImageLimits) -> Result<()> {
    if width > limits.max_side || height > limits.max_side || u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(VisionError::ImageTooLarge {
            width,
            height,
            max_side: limits.max_side,
            max_pixels: limits.max_pixels,
        });
    }
    if width < limits.min_side || height < limits.min_side {
        return Err(VisionError::ImageTooSmall { width, height, min_side: limits.min_side });
    }
    Ok(())
}

/// A JP2 file or a raw JPEG 2000 codestream, as passport chips store portraits.
pub fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x00\x00\x00\x0CjP  ") || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

/// Decodes a PNG, JPEG or JPEG 2000 image to 8-bit RGB (alpha dropped, 16-bit reduced) within `limits`.
pub fn decode(bytes: &[u8], limits: ImageLimits) -> Result<RgbImage> {
    if is_jpeg2000(bytes) {
        return decode_jpeg2000(bytes, limits);
    }
    let (format, width, height) = probe(bytes, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decoder_limits = image::Limits::default();
    decoder_limits.max_image_width = Some(width);
    decoder_limits.max_image_height = Some(height);
    // RGBA16 is the widest decoded layout: 8 bytes a pixel.
    decoder_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 8 + (1 << 20));
    reader.limits(decoder_limits);
    let mut decoder = reader.into_decoder().map_err(|e| VisionError::ImageDecode(e.to_string()))?;
    // A phone stores a photo as its sensor saw it and says in EXIF how to turn it: apply that, as a viewer does,
    // so a document or a face is upright (or only a quarter turn off) whatever the phone's grip.
    let orientation =
        image::ImageDecoder::orientation(&mut decoder).unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut decoded =
        image::DynamicImage::from_decoder(decoder).map_err(|e| VisionError::ImageDecode(e.to_string()))?;
    decoded.apply_orientation(orientation);
    Ok(decoded.into_rgb8())
}

/// JPEG 2000 through a pure-Rust decoder. The header is parsed (and the size checked) before any tile is
/// decoded; a decoder panic on a crafted codestream becomes an error, not a crash.
fn decode_jpeg2000(bytes: &[u8], limits: ImageLimits) -> Result<RgbImage> {
    use hayro_jpeg2000::{ColorSpace, DecodeSettings, DecoderContext, Image};
    let failed = |e: &dyn std::fmt::Display| VisionError::ImageDecode(format!("JPEG 2000: {e}"));
    let decoded = std::panic::catch_unwind(|| -> Result<RgbImage> {
        let image = Image::new(bytes, &DecodeSettings::default()).map_err(|e| failed(&e))?;
        let (width, height) = (image.width(), image.height());
        check_limits(width, height, limits)?;
        let colour = match image.color_space() {
            ColorSpace::Gray => 1,
            ColorSpace::RGB => 3,
            ColorSpace::Icc { num_channels: n @ (1 | 3), .. } => usize::from(*n),
            other => return Err(failed(&format!("the {other:?} colour space is not supported"))),
        };
        let channels = colour + usize::from(image.has_alpha());
        let mut context = DecoderContext::default();
        let samples = image.decode(&mut context).map_err(|e| failed(&e))?.data_u8();
        let pixels = usize::try_from(u64::from(width) * u64::from(height)).map_err(|e| failed(&e))?;
        if samples.len() != pixels * channels {
            return Err(failed(&"the decoded size does not match the header"));
        }
        let mut rgb = Vec::with_capacity(pixels * 3);
        for px in samples.chunks_exact(channels) {
            match px {
                [g] | [g, _] => rgb.extend_from_slice(&[*g, *g, *g]),
                [r, g, b, ..] => rgb.extend_from_slice(&[*r, *g, *b]),
                _ => return Err(failed(&"unexpected channel layout")),
            }
        }
        RgbImage::from_raw(width, height, rgb).ok_or_else(|| failed(&"the decoded size does not match the header"))
    });
    decoded.unwrap_or_else(|_| Err(failed(&"the decoder gave up on a malformed codestream")))
}

/// Encodes RGB or RGBA as PNG (lossless, for evidence and crops; RGBA for crops with a transparent background).
pub fn encode_png<P: image::PixelWithColorType<Subpixel = u8>>(
    img: &image::ImageBuffer<P, Vec<u8>>,
) -> Result<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).map_err(|e| VisionError::ImageDecode(e.to_string()))?;
    Ok(out.into_inner())
}

/// Encodes RGB as JPEG at `quality` (for previews and crops where size matters more than exactness).
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    encoder.encode_image(img).map_err(|e| VisionError::ImageDecode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG with an EXIF APP1 segment whose only tag is the orientation.
    fn jpeg_with_orientation(img: &RgbImage, orientation: u8) -> Vec<u8> {
        let jpeg = encode_jpeg(img, 95).unwrap();
        let mut tiff = b"II\x2a\x00\x08\x00\x00\x00\x01\x00".to_vec();
        tiff.extend_from_slice(&[0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0, 0, 0, 0, 0, 0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let len = (app1.len() + 2) as u16;
        let mut out = jpeg[..2].to_vec();
        out.extend_from_slice(&[0xff, 0xe1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&jpeg[2..]);
        out
    }

    /// A phone's portrait photo stored sideways with orientation 6 comes out upright, as a viewer shows it:
    /// the stored left edge is the top.
    #[test]
    fn the_exif_orientation_is_applied() {
        let img = RgbImage::from_fn(64, 40, |x, _| if x < 32 { image::Rgb([0, 0, 0]) } else { image::Rgb([255; 3]) });
        let upright = decode(&jpeg_with_orientation(&img, 6), ImageLimits::default()).unwrap();
        assert_eq!(upright.dimensions(), (40, 64));
        assert!(upright.get_pixel(20, 8).0[0] < 60, "the dark left half is on top");
        assert!(upright.get_pixel(20, 56).0[0] > 200);
        let as_stored = decode(&jpeg_with_orientation(&img, 1), ImageLimits::default()).unwrap();
        assert_eq!(as_stored.dimensions(), (64, 40));
        for orientation in 2..=8 {
            let turned = decode(&jpeg_with_orientation(&img, orientation), ImageLimits::default()).unwrap();
            let expect = if orientation >= 5 { (40, 64) } else { (64, 40) };
            assert_eq!(turned.dimensions(), expect, "orientation {orientation}");
        }
    }
}
