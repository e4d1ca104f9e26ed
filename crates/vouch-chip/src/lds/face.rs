//! DG2: the portrait as a biometric information template (ICAO 9303 part 10 §4.7.2) holding ISO/IEC 19794-5
//! facial records. The image inside is JPEG, JPEG 2000 (JP2 file) or a raw JPEG 2000 codestream.

use serde::Serialize;

use crate::tlv::{self, Tlv};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ImageFormat {
    #[serde(rename = "JPEG")]
    Jpeg,
    /// A JP2 file (boxes around the codestream).
    #[serde(rename = "JPEG2000")]
    Jpeg2000,
    /// A bare JPEG 2000 codestream (`FF 4F FF 51`).
    #[serde(rename = "J2K")]
    J2kCodestream,
}

#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct FaceImage {
    pub format: ImageFormat,
    pub width: u16,
    pub height: u16,
    #[serde(skip)]
    pub data: Vec<u8>,
}

impl std::fmt::Debug for FaceImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FaceImage({:?}, {}x{}, {} bytes)", self.format, self.width, self.height, self.data.len())
    }
}

pub fn sniff(data: &[u8]) -> Option<ImageFormat> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if data.starts_with(&[0, 0, 0, 0x0C, 0x6A, 0x50, 0x20, 0x20]) {
        Some(ImageFormat::Jpeg2000)
    } else if data.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        Some(ImageFormat::J2kCodestream)
    } else {
        None
    }
}

/// Width and height from a JPEG's start-of-frame marker.
pub fn jpeg_size(data: &[u8]) -> Option<(u16, u16)> {
    let mut i = 2;
    while i + 9 < data.len() {
        if *data.get(i)? != 0xFF {
            return None;
        }
        let marker = *data.get(i + 1)?;
        let len = usize::from(be16(data, i + 2)?);
        if matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF) {
            return Some((be16(data, i + 7)?, be16(data, i + 5)?));
        }
        i += 2 + len;
    }
    None
}

/// Width and height of a JPEG, a JP2 file (its `ihdr` box) or a raw codestream (its SIZ marker).
pub fn image_size(data: &[u8]) -> Option<(u16, u16)> {
    let be32 = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes([*data.get(at)?, *data.get(at + 1)?, *data.get(at + 2)?, *data.get(at + 3)?]))
    };
    let (w, h) = match sniff(data)? {
        ImageFormat::Jpeg => return jpeg_size(data),
        // SOC, SIZ marker, Lsiz, Rsiz, then Xsiz and Ysiz (no image offsets in chip portraits).
        ImageFormat::J2kCodestream => (be32(8)?, be32(12)?),
        ImageFormat::Jpeg2000 => {
            let at = data.windows(4).take(512).position(|w| w == b"ihdr")? + 4;
            (be32(at + 4)?, be32(at)?)
        }
    };
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The first image of an ISO/IEC 19794-5 facial record block (`FAC\0`).
fn facial_record(block: &[u8]) -> Result<FaceImage, String> {
    if !block.starts_with(b"FAC\0") {
        // Some issuers put the bare image in 5F2E.
        let format = sniff(block).ok_or("the biometric data block is neither a facial record nor an image")?;
        return Ok(FaceImage { format, width: 0, height: 0, data: block.to_vec() });
    }
    // General header: format id 4, version 4, record length 4, image count 2. Then the facial record
    // header: record length 4, feature point count 2, gender, eye, hair 1 each, feature mask 3, expression 2,
    // pose 3, pose uncertainty 3; 8 bytes per feature point; image info 12 (type, data type, width, height, ...).
    let points = usize::from(be16(block, 18).ok_or("facial record truncated")?);
    let info = 14 + 20 + points * 8;
    let data_type = *block.get(info + 1).ok_or("facial record truncated")?;
    let width = be16(block, info + 2).ok_or("facial record truncated")?;
    let height = be16(block, info + 4).ok_or("facial record truncated")?;
    let data = block.get(info + 12..).ok_or("facial record truncated")?;
    let format = match (data_type, sniff(data)) {
        (_, Some(f)) => f,
        (0, None) => return Err("the facial record says JPEG but holds no JPEG".into()),
        _ => return Err("the facial record's image is in an unknown format".into()),
    };
    Ok(FaceImage { format, width, height, data: data.to_vec() })
}

fn templates<'a>(group: &Tlv<'a>, out: &mut Vec<Tlv<'a>>) -> Result<(), String> {
    for item in group.children().map_err(|e| e.to_string())? {
        match item.tag {
            0x7F60 => out.push(item),
            0x7F61 => templates(&item, out)?,
            _ => {}
        }
    }
    Ok(())
}

/// Every face image in DG2.
pub fn parse_dg2(bytes: &[u8]) -> Result<Vec<FaceImage>, String> {
    let (root, _) = tlv::expect(bytes, 0x75).map_err(|e| e.to_string())?;
    let mut bits = Vec::new();
    templates(&root, &mut bits)?;
    let mut faces = Vec::new();
    for bit in bits {
        let block = bit
            .children()
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|t| t.tag == 0x5F2E || t.tag == 0x7F2E)
            .ok_or("a biometric template has no data block")?;
        faces.push(facial_record(block.value)?);
    }
    if faces.is_empty() {
        return Err("DG2 holds no face".into());
    }
    Ok(faces)
}

/// DG2 around one image (the test-passport generator).
pub fn encode_dg2(image: &[u8], format: ImageFormat, width: u16, height: u16) -> Vec<u8> {
    let data_type = if format == ImageFormat::Jpeg { 0u8 } else { 1 };
    let mut record = Vec::new();
    let record_len = (20 + 12 + image.len()) as u32;
    record.extend(record_len.to_be_bytes());
    record.extend([0, 0]); // no feature points
    record.extend([0, 0, 0]); // gender, eye and hair colour unspecified
    record.extend([0, 0, 0, 0, 0]); // feature mask, expression
    record.extend([0; 6]); // pose and uncertainty
    record.extend([1, data_type]); // full frontal
    record.extend(width.to_be_bytes());
    record.extend(height.to_be_bytes());
    record.extend([1, 2, 0, 0, 0, 0]); // 24-bit RGB, digital still, device and quality unspecified
    record.extend_from_slice(image);
    let mut block = b"FAC\x00010\x00".to_vec();
    block.extend(((14 + record.len()) as u32).to_be_bytes());
    block.extend(1u16.to_be_bytes());
    block.extend(record);

    let header =
        [tlv::encode(0x80, &[1, 1]), tlv::encode(0x81, &[2]), tlv::encode(0x87, &[1, 1]), tlv::encode(0x88, &[0, 8])]
            .concat();
    let mut bit = tlv::encode(0xA1, &header);
    bit.extend(tlv::encode(0x5F2E, &block));
    let mut group = tlv::encode(0x02, &[1]);
    group.extend(tlv::encode(0x7F60, &bit));
    tlv::encode(0x75, &tlv::encode(0x7F61, &group))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_generated_dg2_gives_its_image_back() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        let faces = parse_dg2(&encode_dg2(&jpeg, ImageFormat::Jpeg, 480, 640)).unwrap();
        assert_eq!(faces, vec![FaceImage { format: ImageFormat::Jpeg, width: 480, height: 640, data: jpeg.to_vec() }]);
        let j2k = [0xFF, 0x4F, 0xFF, 0x51, 9];
        assert_eq!(
            parse_dg2(&encode_dg2(&j2k, ImageFormat::J2kCodestream, 1, 1)).unwrap()[0].format,
            ImageFormat::J2kCodestream
        );
    }

    #[test]
    fn truncated_or_empty_dg2_is_an_error_not_a_panic() {
        let good = encode_dg2(&[0xFF, 0xD8, 0xFF], ImageFormat::Jpeg, 1, 1);
        for cut in 0..good.len() {
            let _ = parse_dg2(&good[..cut]);
        }
        assert!(parse_dg2(&tlv::encode(0x75, &[])).is_err());
    }
}
