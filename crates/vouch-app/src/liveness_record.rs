//! The Vouch liveness record: the body of DIS `POST /customers/{id}/liveness/records`.
//!
//! Innovatrics' DOT SDKs send a proprietary binary there that no public document describes, so Vouch
//! defines its own, simple enough to build in a browser from canvas snapshots:
//!
//! ```text
//! "VLR1"                       4 bytes, magic and version
//! header length                u32, big-endian, at most 64 KiB
//! header                       UTF-8 JSON: {"type": "EYE_GAZE_LIVENESS",
//!                                           "frames": [{"assertion": "EYE_GAZE_TOP_LEFT", "ms": 0, "bytes": 48213}, ...]}
//! frame images                 the frames' PNG or JPEG bytes, back to back, in header order
//! ```
//!
//! `type` is one of the four DIS liveness types; each frame's `assertion` is what the customer was asked to
//! show (DIS's names, plus MAGNIFEYE) and must belong to that type, or be NONE; `ms` is its capture time from
//! the start of the record. The lengths must add up exactly: no trailing bytes.

use serde::Deserialize;
use vouch_vision::active::{Assertion, LivenessType};

pub const MAGIC: &[u8; 4] = b"VLR1";
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
pub const MAX_FRAMES: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    #[serde(rename = "type")]
    liveness_type: LivenessType,
    frames: Vec<FrameEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameEntry {
    assertion: Assertion,
    #[serde(default)]
    ms: u64,
    bytes: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordFrame {
    pub assertion: Assertion,
    pub ms: u64,
    pub image: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LivenessRecord {
    pub liveness_type: LivenessType,
    pub frames: Vec<RecordFrame>,
}

/// Why a record was refused, for the log and the error message (it never quotes the data).
pub fn parse(data: &[u8]) -> Result<LivenessRecord, String> {
    let rest = data.strip_prefix(MAGIC.as_slice()).ok_or("not a Vouch liveness record (no VLR1 magic)")?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or("the record ends inside its header length")?;
    let len = u32::from_be_bytes(*len) as usize;
    if len > MAX_HEADER_BYTES {
        return Err(format!("the header is {len} bytes; at most {MAX_HEADER_BYTES} are allowed"));
    }
    let (header, mut images) = rest.split_at_checked(len).ok_or("the record ends inside its header")?;
    let header: Header = serde_json::from_slice(header).map_err(|e| format!("the header is not valid: {e}"))?;
    if header.frames.is_empty() || header.frames.len() > MAX_FRAMES {
        return Err(format!("a record holds 1 to {MAX_FRAMES} frames, not {}", header.frames.len()));
    }
    let mut frames = Vec::with_capacity(header.frames.len());
    for (i, entry) in header.frames.into_iter().enumerate() {
        let kind = entry.assertion.liveness_type();
        if kind != header.liveness_type && entry.assertion != Assertion::None {
            return Err(format!(
                "frame {}: {} does not belong in a {:?} record",
                i + 1,
                entry.assertion.as_str(),
                header.liveness_type
            ));
        }
        let (image, tail) =
            images.split_at_checked(entry.bytes).ok_or_else(|| format!("frame {} is cut short", i + 1))?;
        frames.push(RecordFrame { assertion: entry.assertion, ms: entry.ms, image: image.to_vec() });
        images = tail;
    }
    if !images.is_empty() {
        return Err(format!("{} bytes follow the last frame", images.len()));
    }
    Ok(LivenessRecord { liveness_type: header.liveness_type, frames })
}

/// The inverse of [`parse`], for clients written in Rust and for the tests.
pub fn encode(record: &LivenessRecord) -> Vec<u8> {
    let header = serde_json::json!({
        "type": record.liveness_type,
        "frames": record.frames.iter().map(|f| serde_json::json!({
            "assertion": f.assertion, "ms": f.ms, "bytes": f.image.len()
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(header.len() as u32).to_be_bytes());
    out.extend_from_slice(header.as_bytes());
    for f in &record.frames {
        out.extend_from_slice(&f.image);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sample() -> LivenessRecord {
        LivenessRecord {
            liveness_type: LivenessType::SmileLiveness,
            frames: vec![
                RecordFrame { assertion: Assertion::Neutral, ms: 0, image: b"first".to_vec() },
                RecordFrame { assertion: Assertion::Smile, ms: 900, image: b"second!".to_vec() },
            ],
        }
    }

    #[test]
    fn round_trips() {
        assert_eq!(parse(&encode(&sample())).unwrap(), sample());
    }

    #[test]
    fn refuses_truncation_trailing_bytes_wrong_assertions_and_huge_headers() {
        let bytes = encode(&sample());
        for cut in [0, 3, 6, 20, bytes.len() - 1] {
            assert!(parse(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(parse(&longer).unwrap_err().contains("follow the last frame"));
        let mut wrong = sample();
        wrong.frames[1].assertion = Assertion::EyeGazeTopLeft;
        assert!(parse(&encode(&wrong)).unwrap_err().contains("does not belong"));
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse(&huge).unwrap_err().contains("at most"));
        assert!(parse(b"\x00DOT proprietary").unwrap_err().contains("magic"));
    }
}
