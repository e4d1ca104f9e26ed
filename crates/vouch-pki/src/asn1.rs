//! DER on top of the bounded TLV reader: object identifiers, integers and a cursor over a SEQUENCE's elements,
//! plus the few writers the emulator and the test-passport generator need.

use crate::tlv::{self, Tlv, TlvError};

pub const SEQUENCE: u32 = 0x30;
pub const SET: u32 = 0x31;
pub const INTEGER: u32 = 0x02;
pub const BIT_STRING: u32 = 0x03;
pub const OCTET_STRING: u32 = 0x04;
pub const NULL: u32 = 0x05;
pub const OID: u32 = 0x06;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Asn1Error {
    #[error(transparent)]
    Tlv(#[from] TlvError),
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{0} is malformed")]
    Malformed(&'static str),
}

/// The dotted form of an OID's DER content.
pub fn oid_to_string(bytes: &[u8]) -> Result<String, Asn1Error> {
    let mut arcs: Vec<u64> = Vec::new();
    let mut value: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        if value > (u64::MAX >> 7) {
            return Err(Asn1Error::Malformed("object identifier"));
        }
        value = (value << 7) | u64::from(b & 0x7F);
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if i + 1 == bytes.len() {
            return Err(Asn1Error::Malformed("object identifier"));
        }
    }
    if arcs.is_empty() {
        return Err(Asn1Error::Malformed("object identifier"));
    }
    Ok(arcs.iter().map(u64::to_string).collect::<Vec<_>>().join("."))
}

/// DER content of a dotted OID. The caller writes constants, so a malformed one yields empty content.
pub fn oid_content(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
    let (Some(a), Some(b)) = (arcs.first(), arcs.get(1)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for arc in std::iter::once(a * 40 + b).chain(arcs.iter().skip(2).copied()) {
        let mut chunk = vec![(arc & 0x7F) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7F) as u8);
            rest >>= 7;
        }
        out.extend(chunk.iter().rev());
    }
    out
}

/// A non-negative INTEGER that fits 64 bits.
pub fn uint(value: &[u8]) -> Result<u64, Asn1Error> {
    let trimmed: Vec<u8> = value.iter().copied().skip_while(|b| *b == 0).collect();
    if value.first().is_some_and(|b| b & 0x80 != 0) || trimmed.len() > 8 || value.is_empty() {
        return Err(Asn1Error::Malformed("integer"));
    }
    Ok(trimmed.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// An INTEGER's magnitude without its sign byte.
pub fn unsigned_bytes(value: &[u8]) -> &[u8] {
    match value {
        [0, rest @ ..] if !rest.is_empty() => rest,
        _ => value,
    }
}

/// The elements of a constructed value, read in order.
pub struct Cursor<'a> {
    items: Vec<Tlv<'a>>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub fn new(value: &'a [u8]) -> Result<Cursor<'a>, Asn1Error> {
        Ok(Cursor { items: tlv::parse_all(value)?, pos: 0 })
    }

    /// The element of a TLV that must have tag `tag`.
    pub fn of(element: &Tlv<'a>, tag: u32, what: &'static str) -> Result<Cursor<'a>, Asn1Error> {
        if element.tag != tag {
            return Err(Asn1Error::Malformed(what));
        }
        Cursor::new(element.value)
    }

    pub fn next(&mut self, tag: u32, what: &'static str) -> Result<Tlv<'a>, Asn1Error> {
        match self.items.get(self.pos) {
            Some(t) if t.tag == tag => {
                self.pos += 1;
                Ok(*t)
            }
            Some(_) => Err(Asn1Error::Malformed(what)),
            None => Err(Asn1Error::Missing(what)),
        }
    }

    pub fn next_any(&mut self, what: &'static str) -> Result<Tlv<'a>, Asn1Error> {
        let t = self.items.get(self.pos).copied().ok_or(Asn1Error::Missing(what))?;
        self.pos += 1;
        Ok(t)
    }

    pub fn optional(&mut self, tag: u32) -> Option<Tlv<'a>> {
        match self.items.get(self.pos) {
            Some(t) if t.tag == tag => {
                self.pos += 1;
                Some(*t)
            }
            _ => None,
        }
    }

    pub fn peek_tag(&self) -> Option<u32> {
        self.items.get(self.pos).map(|t| t.tag)
    }

    pub fn oid(&mut self, what: &'static str) -> Result<String, Asn1Error> {
        oid_to_string(self.next(OID, what)?.value)
    }

    pub fn rest(&self) -> &[Tlv<'a>] {
        self.items.get(self.pos..).unwrap_or(&[])
    }
}

/// The full encoding (tag, length, value) of an element, re-made from its parts.
pub fn reencode(element: &Tlv<'_>) -> Vec<u8> {
    tlv::encode(element.tag, element.value)
}

// Writers.

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv::encode(SEQUENCE, &parts.concat())
}

pub fn set(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv::encode(SET, &parts.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    tlv::encode(OID, &oid_content(dotted))
}

/// An OID element from its DER content.
pub fn tlv_oid(content: &[u8]) -> Vec<u8> {
    tlv::encode(OID, content)
}

pub fn int(value: u64) -> Vec<u8> {
    int_bytes(&value.to_be_bytes())
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn int_bytes(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    tlv::encode(INTEGER, &content)
}

pub fn octets(value: &[u8]) -> Vec<u8> {
    tlv::encode(OCTET_STRING, value)
}

pub fn bit_string(value: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(value);
    tlv::encode(BIT_STRING, &content)
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

/// `[n]` EXPLICIT (or IMPLICIT constructed: the same bytes).
pub fn context(n: u8, content: &[u8]) -> Vec<u8> {
    tlv::encode(0xA0 | u32::from(n), content)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn oids_round_trip() {
        for dotted in ["0.4.0.127.0.7.2.2.4.2.2", "1.2.840.113549.1.1.11", "2.23.136.1.1.1", "1.3.36.3.3.2.8.1.1.7"] {
            assert_eq!(oid_to_string(&oid_content(dotted)).unwrap(), dotted);
        }
        assert_eq!(oid_content("1.2.840.10045.3.1.7"), vec![0x2a, 0x86, 0x48, 0xce, 0x3d, 0x3, 0x1, 0x7]);
        assert!(oid_to_string(&[0x2a, 0x86]).is_err());
        assert!(oid_to_string(&[0xFF; 20]).is_err());
    }

    #[test]
    fn integers_round_trip() {
        assert_eq!(int(0), vec![2, 1, 0]);
        assert_eq!(int(128), vec![2, 2, 0, 128]);
        assert_eq!(uint(&[0, 128]).unwrap(), 128);
        assert!(uint(&[0x80]).is_err());
        assert!(uint(&[1; 9]).is_err());
    }
}
