//! ISO/IEC 19794-7:2007 signature/sign time series, **full format**, binary, as the standard's ASN.1 module (also
//! published in ITU-T X.695) lays it out:
//!
//! ```text
//! "SDI\0"            format identifier
//! " 10\0"            standard version
//! u16                channel inclusion bitmap, MSB first: X Y Z VX VY AX AY T DT F S TX TY AZ EL R
//! per included channel, in bitmap order:
//!   u8               preamble, MSB first: scaling, min, max, mean, std present; constant; linear comp. removed
//!   [u16 scaling]    5-bit exponent E+16 (E in −16..15), 11-bit fraction M: value = 2^E · (1 + M/2048)
//!   [u16 min] [u16 max] [u16 mean] [u16 std]
//! u8                 reserved, 0
//! u24                number of sample points
//! per sample point, per included channel: u16
//! u16                extended data length, then that many bytes
//! ```
//! Signed channels (X, Y, VX, VY, AX, AY, TX, TY) are 16-bit values offset by 32768, as PER encodes
//! INTEGER (−32768..32767); the rest are plain unsigned. Everything is big-endian.
//!
//! Vouch writes X and Y in 0.1 mm (scaling 10 per mm), T in milliseconds from the first sample (1000 per
//! second), F as pressure × 65535 (its max given), S as 1 while the tip touches, and TX/TY in 0.01° (100 per
//! degree) when the pen reports tilt. F is left out for a mouse, whose "pressure" is a constant.

use crate::stroke::{Drawn, PenSample};
use crate::SignatureError;

pub const FORMAT_ID: &[u8; 4] = b"SDI\0";
pub const VERSION: &[u8; 4] = b" 10\0";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Channel {
    X,
    Y,
    Z,
    Vx,
    Vy,
    Ax,
    Ay,
    T,
    Dt,
    F,
    S,
    Tx,
    Ty,
    Az,
    El,
    R,
}

impl Channel {
    /// In bitmap order; bit 15 is X.
    pub const ALL: [Channel; 16] = [
        Channel::X,
        Channel::Y,
        Channel::Z,
        Channel::Vx,
        Channel::Vy,
        Channel::Ax,
        Channel::Ay,
        Channel::T,
        Channel::Dt,
        Channel::F,
        Channel::S,
        Channel::Tx,
        Channel::Ty,
        Channel::Az,
        Channel::El,
        Channel::R,
    ];

    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Channel::X | Channel::Y | Channel::Vx | Channel::Vy | Channel::Ax | Channel::Ay | Channel::Tx | Channel::Ty
        )
    }

    fn bit(self) -> u16 {
        let index = Channel::ALL.iter().position(|c| *c == self).unwrap_or(0);
        0x8000 >> index
    }

    fn range(self) -> (i32, i32) {
        if self.is_signed() {
            (-32768, 32767)
        } else {
            (0, 65535)
        }
    }

    fn to_wire(self, value: i32) -> u16 {
        let v = if self.is_signed() { value + 32768 } else { value };
        v.clamp(0, 65535) as u16
    }

    fn read_wire(self, wire: u16) -> i32 {
        if self.is_signed() {
            i32::from(wire) - 32768
        } else {
            i32::from(wire)
        }
    }
}

/// A channel's scaling: units per physical unit (per mm for X/Y, per second for T, per degree for tilt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaling {
    /// −16..15.
    pub exponent: i8,
    /// 0..2047.
    pub fraction: u16,
}

impl Scaling {
    pub fn value(self) -> f64 {
        2f64.powi(i32::from(self.exponent)) * (1.0 + f64::from(self.fraction) / 2048.0)
    }

    /// The closest representable scaling to `value` (which must be within 2^−16 .. 2^16).
    pub fn nearest(value: f64) -> Option<Scaling> {
        if !(value.is_finite() && value >= 2f64.powi(-16) && value < 2f64.powi(16)) {
            return None;
        }
        let exponent = value.log2().floor() as i32;
        let mut fraction = ((value / 2f64.powi(exponent) - 1.0) * 2048.0).round() as i32;
        let mut exponent = exponent;
        if fraction >= 2048 {
            fraction = 0;
            exponent += 1;
        }
        let exponent = i8::try_from(exponent).ok().filter(|e| (-16..=15).contains(e))?;
        Some(Scaling { exponent, fraction: u16::try_from(fraction).ok()? })
    }

    fn encode(self) -> u16 {
        let e = (i16::from(self.exponent) + 16) as u16 & 0x1F;
        (e << 11) | (self.fraction & 0x7FF)
    }

    fn decode(raw: u16) -> Scaling {
        Scaling { exponent: ((raw >> 11) as i8) - 16, fraction: raw & 0x7FF }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelDescription {
    pub channel: Channel,
    pub scaling: Option<Scaling>,
    pub min: Option<i32>,
    pub max: Option<i32>,
    pub mean: Option<i32>,
    pub std: Option<u16>,
    /// The linear component of this channel was removed before encoding.
    pub linear_component_removed: bool,
}

impl ChannelDescription {
    pub fn plain(channel: Channel) -> ChannelDescription {
        ChannelDescription {
            channel,
            scaling: None,
            min: None,
            max: None,
            mean: None,
            std: None,
            linear_component_removed: false,
        }
    }

    pub fn scaled(channel: Channel, units: f64) -> ChannelDescription {
        ChannelDescription { scaling: Scaling::nearest(units), ..ChannelDescription::plain(channel) }
    }
}

/// A decoded (or to-be-encoded) full-format record: the channels in bitmap order and one value per channel per
/// sample point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignRecord {
    pub channels: Vec<ChannelDescription>,
    pub points: Vec<Vec<i32>>,
    pub extended_data: Vec<u8>,
}

const PREAMBLE_SCALING: u8 = 0x80;
const PREAMBLE_MIN: u8 = 0x40;
const PREAMBLE_MAX: u8 = 0x20;
const PREAMBLE_MEAN: u8 = 0x10;
const PREAMBLE_STD: u8 = 0x08;
const PREAMBLE_CONSTANT: u8 = 0x04;
const PREAMBLE_LINEAR_REMOVED: u8 = 0x02;
const MAX_POINTS: usize = 0xFF_FFFF;

fn malformed(message: impl Into<String>) -> SignatureError {
    SignatureError::MalformedIso(message.into())
}

impl SignRecord {
    pub fn channel_index(&self, channel: Channel) -> Option<usize> {
        self.channels.iter().position(|c| c.channel == channel)
    }

    pub fn encode(&self) -> Result<Vec<u8>, SignatureError> {
        let mut bitmap = 0u16;
        let mut previous: Option<Channel> = None;
        for d in &self.channels {
            if previous.is_some_and(|p| p >= d.channel) {
                return Err(malformed("channels must be in bitmap order, each once"));
            }
            previous = Some(d.channel);
            bitmap |= d.channel.bit();
        }
        if bitmap & Channel::X.bit() == 0 || bitmap & Channel::Y.bit() == 0 {
            return Err(malformed("X and Y are mandatory"));
        }
        if self.points.len() > MAX_POINTS {
            return Err(malformed("more sample points than 24 bits can count"));
        }
        let extended_len =
            u16::try_from(self.extended_data.len()).map_err(|_| malformed("extended data over 65535 bytes"))?;
        let mut out = Vec::with_capacity(16 + self.points.len() * self.channels.len() * 2);
        out.extend_from_slice(FORMAT_ID);
        out.extend_from_slice(VERSION);
        out.extend_from_slice(&bitmap.to_be_bytes());
        for d in &self.channels {
            let mut preamble = 0u8;
            let mut fields = Vec::new();
            if let Some(s) = d.scaling {
                if !(-16..=15).contains(&s.exponent) || s.fraction > 2047 {
                    return Err(malformed("scaling out of range"));
                }
                preamble |= PREAMBLE_SCALING;
                fields.extend_from_slice(&s.encode().to_be_bytes());
            }
            for (flag, value) in [(PREAMBLE_MIN, d.min), (PREAMBLE_MAX, d.max), (PREAMBLE_MEAN, d.mean)] {
                if let Some(v) = value {
                    preamble |= flag;
                    fields.extend_from_slice(&d.channel.to_wire(v).to_be_bytes());
                }
            }
            if let Some(std) = d.std {
                preamble |= PREAMBLE_STD;
                fields.extend_from_slice(&std.to_be_bytes());
            }
            if d.linear_component_removed {
                preamble |= PREAMBLE_LINEAR_REMOVED;
            }
            out.push(preamble);
            out.extend_from_slice(&fields);
        }
        out.push(0);
        let count = self.points.len() as u32;
        out.extend_from_slice(&[(count >> 16) as u8, (count >> 8) as u8, count as u8]);
        for (i, point) in self.points.iter().enumerate() {
            if point.len() != self.channels.len() {
                return Err(malformed(format!(
                    "sample point {i} has {} values for {} channels",
                    point.len(),
                    self.channels.len()
                )));
            }
            for (value, d) in point.iter().zip(&self.channels) {
                let (lo, hi) = d.channel.range();
                if !(lo..=hi).contains(value) {
                    return Err(malformed(format!("sample point {i}: {:?} value {value} out of range", d.channel)));
                }
                out.extend_from_slice(&d.channel.to_wire(*value).to_be_bytes());
            }
        }
        out.extend_from_slice(&extended_len.to_be_bytes());
        out.extend_from_slice(&self.extended_data);
        Ok(out)
    }

    /// Decodes a full-format record. Every length is checked against what is left before anything is allocated.
    pub fn decode(bytes: &[u8]) -> Result<SignRecord, SignatureError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(4)? != FORMAT_ID {
            return Err(malformed("not an ISO/IEC 19794-7 record (no SDI format identifier)"));
        }
        let version = r.take(4)?;
        if version != VERSION {
            return Err(malformed(format!(
                "unsupported version {:?}; Vouch reads the 2007 full format (\" 10\")",
                String::from_utf8_lossy(version.get(..3).unwrap_or_default())
            )));
        }
        let bitmap = r.u16()?;
        if bitmap & Channel::X.bit() == 0 || bitmap & Channel::Y.bit() == 0 {
            return Err(malformed("the channel inclusion bitmap lacks X or Y"));
        }
        let mut channels = Vec::new();
        for channel in Channel::ALL.into_iter().filter(|c| bitmap & c.bit() != 0) {
            let preamble = r.u8()?;
            if preamble & PREAMBLE_CONSTANT != 0 {
                return Err(malformed(format!("{channel:?} is marked constant, which Vouch does not read")));
            }
            if preamble & 0x01 != 0 {
                return Err(malformed("a channel preamble sets the reserved bit"));
            }
            let scaling = if preamble & PREAMBLE_SCALING != 0 { Some(Scaling::decode(r.u16()?)) } else { None };
            let mut stat = |flag: u8| -> Result<Option<i32>, SignatureError> {
                Ok(if preamble & flag != 0 { Some(channel.read_wire(r.u16()?)) } else { None })
            };
            let (min, max, mean) = (stat(PREAMBLE_MIN)?, stat(PREAMBLE_MAX)?, stat(PREAMBLE_MEAN)?);
            let std = if preamble & PREAMBLE_STD != 0 { Some(r.u16()?) } else { None };
            channels.push(ChannelDescription {
                channel,
                scaling,
                min,
                max,
                mean,
                std,
                linear_component_removed: preamble & PREAMBLE_LINEAR_REMOVED != 0,
            });
        }
        if r.u8()? != 0 {
            return Err(malformed("the reserved header byte is not zero"));
        }
        let count = r.take(3)?.iter().fold(0usize, |n, b| (n << 8) | usize::from(*b));
        let point_len = channels.len() * 2;
        let body_len = count.checked_mul(point_len).ok_or_else(|| malformed("sample count overflows"))?;
        if body_len > r.remaining() {
            return Err(malformed(format!("the record claims {count} sample points but is too short for them")));
        }
        let mut points = Vec::with_capacity(count);
        for _ in 0..count {
            let mut point = Vec::with_capacity(channels.len());
            for d in &channels {
                point.push(d.channel.read_wire(r.u16()?));
            }
            points.push(point);
        }
        let extended_len = usize::from(r.u16()?);
        let extended_data = r.take(extended_len)?.to_vec();
        if r.remaining() != 0 {
            return Err(malformed(format!("{} bytes after the end of the record", r.remaining())));
        }
        Ok(SignRecord { channels, points, extended_data })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], SignatureError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or_else(|| malformed("truncated"))?;
        let out = self.bytes.get(self.pos..end).ok_or_else(|| malformed("truncated"))?;
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, SignatureError> {
        Ok(self.take(1)?.first().copied().unwrap_or(0))
    }
    fn u16(&mut self) -> Result<u16, SignatureError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b.first().copied().unwrap_or(0), b.get(1).copied().unwrap_or(0)]))
    }
}

/// X/Y units per millimetre, T units per second, tilt units per degree, and the full scale of F.
pub const XY_PER_MM: f64 = 10.0;
pub const T_PER_SECOND: f64 = 1000.0;
pub const TILT_PER_DEGREE: f64 = 100.0;
pub const F_FULL_SCALE: i32 = 65535;

/// The record Vouch stores for a drawn signature (see the module comment for units). The caller has already
/// run [`Drawn::check`].
pub fn from_drawn(drawn: &Drawn) -> Result<SignRecord, SignatureError> {
    let stats = drawn.stats();
    let mut channels = vec![
        ChannelDescription::scaled(Channel::X, XY_PER_MM),
        ChannelDescription::scaled(Channel::Y, XY_PER_MM),
        ChannelDescription::scaled(Channel::T, T_PER_SECOND),
    ];
    if stats.has_pressure {
        channels.push(ChannelDescription {
            min: Some(0),
            max: Some(F_FULL_SCALE),
            ..ChannelDescription::plain(Channel::F)
        });
    }
    channels.push(ChannelDescription::plain(Channel::S));
    if stats.has_tilt {
        channels.push(ChannelDescription::scaled(Channel::Tx, TILT_PER_DEGREE));
        channels.push(ChannelDescription::scaled(Channel::Ty, TILT_PER_DEGREE));
    }
    let per_px = XY_PER_MM / drawn.pad.px_per_mm;
    let points = drawn
        .samples
        .iter()
        .map(|s| {
            let mut p = vec![(s.x * per_px).round() as i32, (s.y * per_px).round() as i32, s.t.round() as i32];
            if stats.has_pressure {
                p.push((s.pressure * f64::from(F_FULL_SCALE)).round() as i32);
            }
            p.push(i32::from(s.down));
            if stats.has_tilt {
                p.push((s.tilt_x.unwrap_or(0.0) * TILT_PER_DEGREE).round() as i32);
                p.push((s.tilt_y.unwrap_or(0.0) * TILT_PER_DEGREE).round() as i32);
            }
            p
        })
        .collect();
    Ok(SignRecord { channels, points, extended_data: Vec::new() })
}

/// A decoded record as samples in millimetres (x, y), milliseconds, 0..1 pressure and degrees, whatever
/// scaling the record declares. Channels the record lacks read as pen down, full pressure, no tilt.
pub fn to_samples(record: &SignRecord) -> Result<Vec<PenSample>, SignatureError> {
    let scale = |c: Channel, default: f64| -> Option<(usize, f64)> {
        let i = record.channel_index(c)?;
        let units = record.channels.get(i)?.scaling.map(Scaling::value).unwrap_or(default);
        Some((i, units))
    };
    let (xi, xs) = scale(Channel::X, XY_PER_MM).ok_or_else(|| malformed("no X channel"))?;
    let (yi, ys) = scale(Channel::Y, XY_PER_MM).ok_or_else(|| malformed("no Y channel"))?;
    let t = scale(Channel::T, T_PER_SECOND);
    let dt = scale(Channel::Dt, T_PER_SECOND);
    let f = record.channel_index(Channel::F).map(|i| {
        let max = record.channels.get(i).and_then(|d| d.max).filter(|m| *m > 0).unwrap_or(F_FULL_SCALE);
        (i, f64::from(max))
    });
    let s = record.channel_index(Channel::S);
    let tx = scale(Channel::Tx, TILT_PER_DEGREE);
    let ty = scale(Channel::Ty, TILT_PER_DEGREE);
    let get = |p: &[i32], i: usize| f64::from(p.get(i).copied().unwrap_or(0));
    let mut elapsed = 0.0;
    Ok(record
        .points
        .iter()
        .map(|p| {
            let time = match (t, dt) {
                (Some((i, u)), _) => get(p, i) / u * 1000.0,
                (None, Some((i, u))) => {
                    elapsed += get(p, i) / u * 1000.0;
                    elapsed
                }
                (None, None) => 0.0,
            };
            PenSample {
                x: get(p, xi) / xs,
                y: get(p, yi) / ys,
                t: time,
                pressure: f.map(|(i, max)| get(p, i) / max).unwrap_or(1.0),
                down: s.map(|i| get(p, i) != 0.0).unwrap_or(true),
                tilt_x: tx.map(|(i, u)| get(p, i) / u),
                tilt_y: ty.map(|(i, u)| get(p, i) / u),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::stroke::tests::sample_signature;
    use crate::stroke::PointerKind;

    #[test]
    fn the_chosen_scalings_are_exact() {
        for units in [XY_PER_MM, T_PER_SECOND, TILT_PER_DEGREE] {
            assert_eq!(Scaling::nearest(units).unwrap().value(), units);
        }
        let s = Scaling::nearest(10.0).unwrap();
        assert_eq!((s.exponent, s.fraction), (3, 512));
        assert_eq!(Scaling::decode(s.encode()), s);
        assert!(Scaling::nearest(0.0).is_none());
        assert!(Scaling::nearest(1e9).is_none());
    }

    #[test]
    fn a_pen_signature_round_trips_with_every_channel() {
        let drawn = sample_signature(PointerKind::Pen);
        let record = from_drawn(&drawn).unwrap();
        let names: Vec<Channel> = record.channels.iter().map(|c| c.channel).collect();
        assert_eq!(names, [Channel::X, Channel::Y, Channel::T, Channel::F, Channel::S, Channel::Tx, Channel::Ty]);
        let bytes = record.encode().unwrap();
        assert_eq!(&bytes[..8], b"SDI\0 10\0");
        // X Y T F S TX TY = bits 15, 14, 8, 6, 5, 4, 3.
        assert_eq!(u16::from_be_bytes([bytes[8], bytes[9]]), 0b1100_0001_0111_1000);
        let decoded = SignRecord::decode(&bytes).unwrap();
        assert_eq!(decoded, record);
        assert_eq!(decoded.encode().unwrap(), bytes);
        // Header 10 + descriptions (X, Y, T, TX, TY: 3 bytes; F: 5; S: 1) + reserved 1 + count 3, points, ext 2.
        assert_eq!(bytes.len(), 10 + 5 * 3 + 5 + 1 + 1 + 3 + drawn.samples.len() * 7 * 2 + 2);

        let samples = to_samples(&decoded).unwrap();
        assert_eq!(samples.len(), drawn.samples.len());
        for (a, b) in drawn.samples.iter().zip(&samples) {
            let mm = |px: f64| px / drawn.pad.px_per_mm;
            assert!((mm(a.x) - b.x).abs() <= 0.05 + 1e-9, "x {} vs {}", mm(a.x), b.x);
            assert!((mm(a.y) - b.y).abs() <= 0.05 + 1e-9);
            assert!((a.t - b.t).abs() <= 0.5);
            assert!((a.pressure - b.pressure).abs() <= 1.0 / 65535.0);
            assert_eq!(a.down, b.down);
            assert!((a.tilt_x.unwrap_or(0.0) - b.tilt_x.unwrap()).abs() <= 0.005 + 1e-9);
        }
    }

    #[test]
    fn a_mouse_signature_has_no_pressure_or_tilt_channel() {
        let record = from_drawn(&sample_signature(PointerKind::Mouse)).unwrap();
        let names: Vec<Channel> = record.channels.iter().map(|c| c.channel).collect();
        assert_eq!(names, [Channel::X, Channel::Y, Channel::T, Channel::S]);
        let bytes = record.encode().unwrap();
        assert_eq!(SignRecord::decode(&bytes).unwrap(), record);
    }

    #[test]
    fn malformed_records_are_refused_without_allocating_for_them() {
        let bytes = from_drawn(&sample_signature(PointerKind::Pen)).unwrap().encode().unwrap();
        let err = |b: &[u8]| SignRecord::decode(b).unwrap_err().to_string();
        assert!(err(b"").contains("truncated"));
        assert!(err(b"PDF-1.7 nonsense").contains("SDI"));
        let mut v = bytes.clone();
        v[5] = b'2';
        assert!(err(&v).contains("version"));
        let mut v = bytes.clone();
        v[8] = 0x40; // no X
        assert!(err(&v).contains("X or Y"));
        // A count of 16 million points in a short record: refused from the lengths alone.
        let count_at = 10 + 5 * 3 + 5 + 1 + 1;
        let mut v = bytes.clone();
        v[count_at..count_at + 3].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        assert!(err(&v).contains("too short"));
        assert!(err(&bytes[..bytes.len() - 1]).contains("truncated"));
        let mut v = bytes.clone();
        v.push(0);
        assert!(err(&v).contains("after the end"));
        let mut v = bytes.clone();
        v[10] |= PREAMBLE_CONSTANT;
        assert!(err(&v).contains("constant"));
        // Every prefix fails cleanly; none panics.
        for n in 0..bytes.len() {
            assert!(SignRecord::decode(&bytes[..n]).is_err());
        }
    }

    #[test]
    fn encoding_refuses_out_of_range_values_and_disorder() {
        let mut record = from_drawn(&sample_signature(PointerKind::Pen)).unwrap();
        record.points[0][0] = 40_000;
        assert!(record.encode().is_err());
        let mut record = from_drawn(&sample_signature(PointerKind::Pen)).unwrap();
        record.channels.swap(0, 1);
        assert!(record.encode().is_err());
        let mut record = from_drawn(&sample_signature(PointerKind::Pen)).unwrap();
        record.points[1].pop();
        assert!(record.encode().is_err());
    }
}
