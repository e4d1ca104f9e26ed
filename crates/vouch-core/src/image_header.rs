//! Image dimensions read from the header bytes alone, so size limits are enforced before any decoder allocates
//! (a PNG claiming 20000×20000 pixels is refused from its first 24 bytes).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderFormat {
    Png,
    Jpeg,
}

/// The format by its magic bytes.
pub fn sniff(bytes: &[u8]) -> Option<HeaderFormat> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(HeaderFormat::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(HeaderFormat::Jpeg)
    } else {
        None
    }
}

/// Width and height straight from the PNG IHDR or the JPEG start-of-frame segment, without a decoder (which
/// for PNG would go on to read further chunks first).
pub fn dimensions(bytes: &[u8], format: HeaderFormat) -> Option<(u32, u32)> {
    let be16 = |i: usize| -> Option<u32> { Some(u32::from(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]))) };
    let be32 = |i: usize| -> Option<u32> {
        Some(u32::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?, *bytes.get(i + 2)?, *bytes.get(i + 3)?]))
    };
    match format {
        HeaderFormat::Png => {
            // Signature (8), length (4), "IHDR" (4), then width and height.
            (bytes.get(12..16)? == b"IHDR").then_some(())?;
            Some((be32(16)?, be32(20)?))
        }
        HeaderFormat::Jpeg => {
            let mut i = 2;
            while i + 9 < bytes.len() {
                if *bytes.get(i)? != 0xFF {
                    return None;
                }
                let marker = *bytes.get(i + 1)?;
                let is_sof = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
                if is_sof {
                    return Some((be16(i + 7)?, be16(i + 5)?));
                }
                if marker == 0xFF {
                    i += 1;
                    continue;
                }
                i += 2 + be16(i + 2)? as usize;
            }
            None
        }
    }
}
