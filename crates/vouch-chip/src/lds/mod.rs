//! The logical data structure (ICAO 9303 part 10): which file holds what, and parsers for the files a kiosk
//! reads. Every parser works on hostile bytes through the bounded TLV reader.

pub mod details;
pub mod face;
pub mod mrz;

use serde::Serialize;

use crate::tlv::{self, TlvError};

/// The eMRTD application (LDS1).
pub const LDS1_AID: [u8; 7] = [0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01];
pub const EF_CARD_ACCESS: u16 = 0x011C;
pub const EF_CARD_SECURITY: u16 = 0x011D;
pub const EF_ATR_INFO: u16 = 0x2F01;
pub const EF_COM: u16 = 0x011E;
pub const EF_SOD: u16 = 0x011D;

/// A data group's file identifier (`01 0n`), short file identifier and outer tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DataGroup {
    pub number: u8,
    pub fid: u16,
    pub tag: u8,
}

const TAGS: [u8; 16] = [0x61, 0x75, 0x63, 0x76, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F, 0x70];

pub fn data_group(number: u8) -> Option<DataGroup> {
    let tag = *TAGS.get(usize::from(number).checked_sub(1)?)?;
    Some(DataGroup { number, fid: 0x0100 | u16::from(number), tag })
}

pub fn data_group_by_tag(tag: u8) -> Option<DataGroup> {
    let index = TAGS.iter().position(|t| *t == tag)?;
    data_group(u8::try_from(index + 1).ok()?)
}

/// Short names of the elementary files, as `vouch chip verify` expects them in a dump folder.
pub fn file_name(fid: u16) -> String {
    match fid {
        EF_COM => "EF.COM".into(),
        EF_SOD => "EF.SOD".into(),
        EF_CARD_ACCESS => "EF.CardAccess".into(),
        fid if fid & 0xFF00 == 0x0100 && (1..=16).contains(&(fid & 0xFF)) => format!("DG{}", fid & 0xFF),
        fid => format!("EF.{fid:04X}"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Com {
    pub lds_version: String,
    pub unicode_version: String,
    /// The data groups present, by number.
    pub data_groups: Vec<u8>,
}

pub fn parse_com(bytes: &[u8]) -> Result<Com, TlvError> {
    let (root, _) = tlv::expect(bytes, 0x60)?;
    let mut com = Com { lds_version: String::new(), unicode_version: String::new(), data_groups: Vec::new() };
    for item in root.children()? {
        match item.tag {
            0x5F01 => com.lds_version = String::from_utf8_lossy(item.value).into_owned(),
            0x5F36 => com.unicode_version = String::from_utf8_lossy(item.value).into_owned(),
            0x5C => {
                com.data_groups = item.value.iter().filter_map(|t| data_group_by_tag(*t)).map(|d| d.number).collect()
            }
            _ => {}
        }
    }
    Ok(com)
}

pub fn encode_com(groups: &[u8]) -> Vec<u8> {
    let tags: Vec<u8> = groups.iter().filter_map(|n| data_group(*n)).map(|d| d.tag).collect();
    let mut inner = tlv::encode(0x5F01, b"0107");
    inner.extend(tlv::encode(0x5F36, b"040000"));
    inner.extend(tlv::encode(0x5C, &tags));
    tlv::encode(0x60, &inner)
}

/// DG1: the MRZ.
pub fn parse_dg1(bytes: &[u8]) -> Result<mrz::Mrz, String> {
    let (root, _) = tlv::expect(bytes, 0x61).map_err(|e| e.to_string())?;
    let text = tlv::find(root.value, 0x5F1F).map_err(|e| e.to_string())?.ok_or("DG1 has no MRZ (5F1F)")?;
    mrz::parse(&String::from_utf8_lossy(text.value)).map_err(|e| e.to_string())
}

pub fn encode_dg1(mrz: &str) -> Vec<u8> {
    tlv::encode(0x61, &tlv::encode(0x5F1F, mrz.as_bytes()))
}

/// DG14 and DG15 wrap DER in their tag.
pub fn unwrap_der(bytes: &[u8], tag: u32) -> Result<&[u8], TlvError> {
    Ok(tlv::expect(bytes, tag)?.0.value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn com_round_trips_and_data_groups_map() {
        let com = parse_com(&encode_com(&[1, 2, 11, 14, 15])).unwrap();
        assert_eq!(com.data_groups, vec![1, 2, 11, 14, 15]);
        assert_eq!(data_group(2).unwrap().fid, 0x0102);
        assert_eq!(data_group(17), None);
        assert_eq!(data_group(0), None);
        assert_eq!(file_name(0x010F), "DG15");
    }
}
