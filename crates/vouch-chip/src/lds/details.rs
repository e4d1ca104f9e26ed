//! DG11 (additional personal details), DG12 (additional document details) and DG7 (the displayed signature).

use serde::Serialize;

use crate::tlv;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonalDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_names: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
    /// YYYYMMDD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_date_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place_of_birth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profession: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DocumentDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuing_authority: Option<String>,
    /// YYYYMMDD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_issue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endorsements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personalization_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personalization_device: Option<String>,
}

fn text(value: &[u8]) -> Option<String> {
    // Fields use `<` as the separator between parts (name parts, address lines).
    Some(String::from_utf8_lossy(value).replace('<', " ").split_whitespace().collect::<Vec<_>>().join(" "))
}

pub fn parse_dg11(bytes: &[u8]) -> Result<PersonalDetails, String> {
    let (root, _) = tlv::expect(bytes, 0x6B).map_err(|e| e.to_string())?;
    let mut d = PersonalDetails::default();
    for item in root.children().map_err(|e| e.to_string())? {
        match item.tag {
            0x5F0E => d.full_name = text(item.value),
            0x5F10 => d.personal_number = text(item.value),
            0x5F2B => d.full_date_of_birth = text(item.value),
            0x5F11 => d.place_of_birth = text(item.value),
            0x5F42 => d.address = text(item.value),
            0x5F12 => d.telephone = text(item.value),
            0x5F13 => d.profession = text(item.value),
            0x5F14 => d.title = text(item.value),
            0xA0 => {
                for name in item.children().map_err(|e| e.to_string())? {
                    if name.tag == 0x0F {
                        d.other_names.extend(text(name.value));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(d)
}

pub fn encode_dg11(full_name: &str, personal_number: &str, full_date_of_birth: &str, place_of_birth: &str) -> Vec<u8> {
    let mut inner = tlv::encode(0x5C, &[0x5F, 0x0E, 0x5F, 0x10, 0x5F, 0x2B, 0x5F, 0x11]);
    inner.extend(tlv::encode(0x5F0E, full_name.as_bytes()));
    inner.extend(tlv::encode(0x5F10, personal_number.as_bytes()));
    inner.extend(tlv::encode(0x5F2B, full_date_of_birth.as_bytes()));
    inner.extend(tlv::encode(0x5F11, place_of_birth.as_bytes()));
    tlv::encode(0x6B, &inner)
}

pub fn parse_dg12(bytes: &[u8]) -> Result<DocumentDetails, String> {
    let (root, _) = tlv::expect(bytes, 0x6C).map_err(|e| e.to_string())?;
    let mut d = DocumentDetails::default();
    for item in root.children().map_err(|e| e.to_string())? {
        match item.tag {
            0x5F19 => d.issuing_authority = text(item.value),
            0x5F26 => d.date_of_issue = text(item.value),
            0x5F1B => d.endorsements = text(item.value),
            0x5F55 => d.personalization_time = text(item.value),
            0x5F56 => d.personalization_device = text(item.value),
            _ => {}
        }
    }
    Ok(d)
}

pub fn encode_dg12(issuing_authority: &str, date_of_issue: &str) -> Vec<u8> {
    let mut inner = tlv::encode(0x5C, &[0x5F, 0x19, 0x5F, 0x26]);
    inner.extend(tlv::encode(0x5F19, issuing_authority.as_bytes()));
    inner.extend(tlv::encode(0x5F26, date_of_issue.as_bytes()));
    tlv::encode(0x6C, &inner)
}

/// DG7's displayed signature images (usually one JPEG).
pub fn parse_dg7(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let (root, _) = tlv::expect(bytes, 0x67).map_err(|e| e.to_string())?;
    Ok(root
        .children()
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|t| t.tag == 0x5F43)
        .map(|t| t.value.to_vec())
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn details_round_trip() {
        let d = parse_dg11(&encode_dg11("ERIKSSON<<ANNA<MARIA", "ZE184226B", "19740812", "ZENITH")).unwrap();
        assert_eq!(d.full_name.as_deref(), Some("ERIKSSON ANNA MARIA"));
        assert_eq!(d.full_date_of_birth.as_deref(), Some("19740812"));
        let d = parse_dg12(&encode_dg12("UTOPIA PASSPORT OFFICE", "20120415")).unwrap();
        assert_eq!(d.date_of_issue.as_deref(), Some("20120415"));
        assert!(parse_dg11(&[0x6B, 0x05, 0x5F]).is_err());
    }
}
