//! The chip data a DIS client uploads (`PUT /customers/{id}/document/chip/data`, `application/octet-stream`)
//! and Vouch's kiosk stores: every elementary file exactly as read from the chip, one after the other. Each
//! file is a single BER-TLV whose outer tag says which file it is, so the stream needs no container:
//!
//! | tag | file |
//! | --- | --- |
//! | `31` | EF.CardAccess (a SET OF SecurityInfo) |
//! | `30` | EF.CardSecurity (CMS ContentInfo) |
//! | `60` | EF.COM |
//! | `61`, `75`, `63`, `76`, `65`..`70` | DG1 to DG16 (their LDS tags) |
//! | `77` | EF.SOD |
//! | `DF41` | the chip's active authentication signature over the challenge from `PUT .../chip/challenge` |
//! | `DF42` | the access control the reader used, ASCII `BAC` or `PACE` |
//!
//! Any other tag, a duplicate, trailing bytes or a stream without DG1 is not chip data.

use crate::files::ChipFiles;
use crate::lds;
use crate::tlv;

pub const TAG_AA_SIGNATURE: u32 = 0xDF41;
pub const TAG_ACCESS_CONTROL: u32 = 0xDF42;
/// A passport's files come to 20 to 100 KB; a bigger upload is not chip data.
pub const MAX_CHIP_DATA: usize = 4 << 20;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipData {
    pub files: ChipFiles,
    pub aa_signature: Option<Vec<u8>>,
    /// `BAC` or `PACE`, as the reading client declares it.
    pub access_control: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChipDataError {
    #[error("the chip data is empty")]
    Empty,
    #[error("the chip data is larger than {MAX_CHIP_DATA} bytes")]
    TooLarge,
    #[error("the chip data is not a sequence of elementary files: {0}")]
    Malformed(String),
    #[error("tag {0:X} is not an eMRTD elementary file")]
    UnknownTag(u32),
    #[error("{0} appears twice")]
    Duplicate(String),
    #[error("the chip data has no DG1 (the MRZ)")]
    NoDg1,
    #[error("the access control must be BAC or PACE")]
    BadAccessControl,
}

fn put(slot: &mut Option<Vec<u8>>, name: &str, bytes: Vec<u8>) -> Result<(), ChipDataError> {
    if slot.is_some() {
        return Err(ChipDataError::Duplicate(name.into()));
    }
    *slot = Some(bytes);
    Ok(())
}

pub fn decode(bytes: &[u8]) -> Result<ChipData, ChipDataError> {
    if bytes.is_empty() {
        return Err(ChipDataError::Empty);
    }
    if bytes.len() > MAX_CHIP_DATA {
        return Err(ChipDataError::TooLarge);
    }
    let mut data = ChipData::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (element, after) = tlv::parse_one(rest).map_err(|e| ChipDataError::Malformed(e.to_string()))?;
        // The whole element, header included: that is the file as the chip holds it.
        let whole = rest.get(..rest.len() - after.len()).unwrap_or_default().to_vec();
        rest = after;
        let files = &mut data.files;
        match element.tag {
            0x31 => put(&mut files.card_access, "EF.CardAccess", whole)?,
            0x30 => put(&mut files.card_security, "EF.CardSecurity", whole)?,
            0x60 => put(&mut files.com, "EF.COM", whole)?,
            0x77 => put(&mut files.sod, "EF.SOD", whole)?,
            TAG_AA_SIGNATURE => {
                put(&mut data.aa_signature, "the active authentication signature", element.value.to_vec())?
            }
            TAG_ACCESS_CONTROL => {
                let protocol = match element.value {
                    b"BAC" => "BAC",
                    b"PACE" => "PACE",
                    _ => return Err(ChipDataError::BadAccessControl),
                };
                if data.access_control.replace(protocol.to_string()).is_some() {
                    return Err(ChipDataError::Duplicate("the access control".into()));
                }
            }
            tag => {
                let dg =
                    u8::try_from(tag).ok().and_then(lds::data_group_by_tag).ok_or(ChipDataError::UnknownTag(tag))?;
                if files.groups.insert(dg.number, whole).is_some() {
                    return Err(ChipDataError::Duplicate(format!("DG{}", dg.number)));
                }
            }
        }
    }
    if !data.files.groups.contains_key(&1) {
        return Err(ChipDataError::NoDg1);
    }
    Ok(data)
}

pub fn encode(data: &ChipData) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.files.total_bytes() + 300);
    for (_, bytes) in data.files.named() {
        out.extend_from_slice(bytes);
    }
    if let Some(sig) = &data.aa_signature {
        out.extend_from_slice(&tlv::encode(TAG_AA_SIGNATURE, sig));
    }
    if let Some(ac) = &data.access_control {
        out.extend_from_slice(&tlv::encode(TAG_ACCESS_CONTROL, ac.as_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn sample() -> ChipData {
        let mut files = ChipFiles {
            com: Some(lds::encode_com(&[1, 2])),
            sod: Some(tlv::encode(0x77, &[0x30, 0x00])),
            card_access: Some(tlv::encode(0x31, &[])),
            ..ChipFiles::default()
        };
        files.groups.insert(
            1,
            lds::encode_dg1("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10"),
        );
        files.groups.insert(2, tlv::encode(0x75, &[1, 2, 3]));
        ChipData { files, aa_signature: Some(vec![9; 16]), access_control: Some("PACE".into()) }
    }

    #[test]
    fn round_trips() {
        let data = sample();
        assert_eq!(decode(&encode(&data)).unwrap(), data);
    }

    #[test]
    fn refuses_what_is_not_chip_data() {
        assert_eq!(decode(&[]), Err(ChipDataError::Empty));
        assert!(matches!(decode(b"hello world"), Err(ChipDataError::Malformed(_) | ChipDataError::UnknownTag(_))));
        let mut twice = encode(&sample());
        twice.extend_from_slice(&lds::encode_com(&[1]));
        assert_eq!(decode(&twice), Err(ChipDataError::Duplicate("EF.COM".into())));
        let mut no_dg1 = sample();
        no_dg1.files.groups.remove(&1);
        assert_eq!(decode(&encode(&no_dg1)), Err(ChipDataError::NoDg1));
        let mut cut = encode(&sample());
        cut.truncate(cut.len() - 3);
        assert!(matches!(decode(&cut), Err(ChipDataError::Malformed(_))));
        let mut bad_ac = sample();
        bad_ac.access_control = Some("EAC".into());
        assert_eq!(decode(&encode(&bad_ac)), Err(ChipDataError::BadAccessControl));
    }
}
