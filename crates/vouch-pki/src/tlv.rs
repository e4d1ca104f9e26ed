//! BER-TLV as ICAO 9303 and ISO 7816-4 use it: tags of up to 3 bytes, definite lengths of up to 4 bytes.
//! Everything a chip sends is hostile until checked: every length is checked against the bytes that are
//! really there before anything is sliced, and nesting is limited, so a crafted file can neither read out of
//! bounds nor recurse without end.

/// Deeper than any LDS structure (DG2 nests 4 levels; CMS in EF.SOD about 10).
pub const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("TLV data ends inside a tag or length")]
    Truncated,
    #[error("a TLV length of {claimed} bytes runs past the {available} bytes that follow")]
    LengthOverrun { claimed: usize, available: usize },
    #[error("TLV tags longer than 3 bytes or lengths longer than 4 bytes are not used by ICAO 9303")]
    Unsupported,
    #[error("indefinite TLV lengths are not allowed in DER")]
    Indefinite,
    #[error("TLV nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("expected tag {expected:X}, found {found:X}")]
    UnexpectedTag { expected: u32, found: u32 },
}

/// One decoded element; `value` borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: u32,
    pub value: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Constructed tags (bit 6 of the first byte) hold further TLVs.
    pub fn is_constructed(&self) -> bool {
        let first = if self.tag > 0xFFFF {
            self.tag >> 16
        } else if self.tag > 0xFF {
            self.tag >> 8
        } else {
            self.tag
        };
        first & 0x20 != 0
    }

    /// The TLVs inside a constructed element.
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, TlvError> {
        parse_all(self.value)
    }
}

fn read_tag(bytes: &[u8]) -> Result<(u32, usize), TlvError> {
    let first = *bytes.first().ok_or(TlvError::Truncated)?;
    if first & 0x1F != 0x1F {
        return Ok((u32::from(first), 1));
    }
    let mut tag = u32::from(first);
    for i in 1..3 {
        let b = *bytes.get(i).ok_or(TlvError::Truncated)?;
        tag = (tag << 8) | u32::from(b);
        if b & 0x80 == 0 {
            return Ok((tag, i + 1));
        }
    }
    Err(TlvError::Unsupported)
}

fn read_length(bytes: &[u8]) -> Result<(usize, usize), TlvError> {
    let first = *bytes.first().ok_or(TlvError::Truncated)?;
    match first {
        0x00..=0x7F => Ok((usize::from(first), 1)),
        0x80 => Err(TlvError::Indefinite),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7F);
            let digits = bytes.get(1..=n).ok_or(TlvError::Truncated)?;
            let len = digits.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            Ok((len, 1 + n))
        }
        _ => Err(TlvError::Unsupported),
    }
}

/// The first TLV of `bytes` and what follows it.
pub fn parse_one(bytes: &[u8]) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (tag, tag_len) = read_tag(bytes)?;
    let after_tag = bytes.get(tag_len..).ok_or(TlvError::Truncated)?;
    let (len, len_len) = read_length(after_tag)?;
    let body = after_tag.get(len_len..).ok_or(TlvError::Truncated)?;
    if len > body.len() {
        return Err(TlvError::LengthOverrun { claimed: len, available: body.len() });
    }
    let (value, rest) = body.split_at(len);
    Ok((Tlv { tag, value }, rest))
}

/// The first TLV, which must carry `tag`.
pub fn expect(bytes: &[u8], tag: u32) -> Result<(Tlv<'_>, &[u8]), TlvError> {
    let (tlv, rest) = parse_one(bytes)?;
    if tlv.tag != tag {
        return Err(TlvError::UnexpectedTag { expected: tag, found: tlv.tag });
    }
    Ok((tlv, rest))
}

/// All TLVs at one level. Padding `00`/`FF` bytes between elements are not allowed here: LDS files have none.
pub fn parse_all(mut bytes: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (tlv, rest) = parse_one(bytes)?;
        out.push(tlv);
        bytes = rest;
    }
    Ok(out)
}

/// The first element with `tag` anywhere below `bytes` (depth-first), descending into constructed elements.
pub fn find(bytes: &[u8], tag: u32) -> Result<Option<Tlv<'_>>, TlvError> {
    find_at(bytes, tag, 0)
}

fn find_at(bytes: &[u8], tag: u32, depth: usize) -> Result<Option<Tlv<'_>>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    for tlv in parse_all(bytes)? {
        if tlv.tag == tag {
            return Ok(Some(tlv));
        }
        if tlv.is_constructed() {
            if let Some(found) = find_at(tlv.value, tag, depth + 1)? {
                return Ok(Some(found));
            }
        }
    }
    Ok(None)
}

/// How many bytes the header (tag and length) of the TLV at the start of `bytes` takes, and its value's
/// length: enough to know a file's total size from its first few bytes.
pub fn header(bytes: &[u8]) -> Result<(usize, usize), TlvError> {
    let (_, tag_len) = read_tag(bytes)?;
    let (len, len_len) = read_length(bytes.get(tag_len..).ok_or(TlvError::Truncated)?)?;
    Ok((tag_len + len_len, len))
}

pub fn encode_length(len: usize, out: &mut Vec<u8>) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        _ => out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]),
    }
}

/// One TLV: `tag` (1 to 3 bytes, written as its value) then the length and `value`.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 8);
    if tag > 0xFFFF {
        out.push((tag >> 16) as u8);
    }
    if tag > 0xFF {
        out.push((tag >> 8) as u8);
    }
    out.push(tag as u8);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn parses_ef_com_and_finds_nested_tags() {
        // EF.COM of the ICAO worked example: LDS 1.6, Unicode 4.0.0, DG1 and DG2 present.
        let com = hex::decode("60145F0104303130365F36063034303030305C026175").unwrap();
        let (root, rest) = expect(&com, 0x60).unwrap();
        assert!(rest.is_empty() && root.is_constructed());
        let kids = root.children().unwrap();
        assert_eq!(kids.iter().map(|t| t.tag).collect::<Vec<_>>(), vec![0x5F01, 0x5F36, 0x5C]);
        assert_eq!(find(&com, 0x5C).unwrap().unwrap().value, &[0x61, 0x75]);
        assert_eq!(find(&com, 0x77).unwrap(), None);
        assert_eq!(header(&com).unwrap(), (2, 0x14));
    }

    #[test]
    fn long_lengths_and_three_byte_tags_round_trip() {
        for len in [0usize, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000] {
            let value = vec![0xAB; len];
            let enc = encode(0x7F61, &value);
            let (tlv, rest) = parse_one(&enc).unwrap();
            assert_eq!((tlv.tag, tlv.value.len(), rest.len()), (0x7F61, len, 0));
        }
        let three = encode(0x5F8101, b"x");
        assert_eq!(parse_one(&three).unwrap().0.tag, 0x5F8101);
    }

    #[test]
    fn hostile_input_is_refused_without_reading_out_of_bounds() {
        assert_eq!(parse_one(&[]), Err(TlvError::Truncated));
        assert_eq!(parse_one(&[0x5F]), Err(TlvError::Truncated));
        assert_eq!(parse_one(&[0x60, 0x82, 0x01]), Err(TlvError::Truncated));
        assert_eq!(parse_one(&[0x60, 0x80, 0x00, 0x00]), Err(TlvError::Indefinite));
        assert_eq!(parse_one(&[0x60, 0x85, 1, 1, 1, 1, 1]), Err(TlvError::Unsupported));
        assert_eq!(parse_one(&[0x5F, 0x81, 0x81, 0x81, 0x01, 0x00]), Err(TlvError::Unsupported));
        assert_eq!(
            parse_one(&[0x60, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]),
            Err(TlvError::LengthOverrun { claimed: 0xFFFF_FFFF, available: 1 })
        );
        assert_eq!(expect(&[0x61, 0x00], 0x60), Err(TlvError::UnexpectedTag { expected: 0x60, found: 0x61 }));
        // 40 nested constructed elements: refused, not a stack overflow.
        let mut nested = vec![0x04, 0x00];
        for _ in 0..40 {
            nested = encode(0x30, &nested);
        }
        assert_eq!(find(&nested, 0x04), Err(TlvError::TooDeep));
    }
}
