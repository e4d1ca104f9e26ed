//! The elementary files of one document, as a reader got them from the chip or as a client uploaded them.
//! EF.CardSecurity and EF.SOD share the file identifier 011D (in different applications), so the files are
//! named by role, not by identifier.

use std::collections::BTreeMap;

use crate::lds;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipFiles {
    pub card_access: Option<Vec<u8>>,
    pub card_security: Option<Vec<u8>>,
    pub com: Option<Vec<u8>>,
    pub sod: Option<Vec<u8>>,
    /// Data groups by number (1 to 16).
    pub groups: BTreeMap<u8, Vec<u8>>,
}

impl ChipFiles {
    /// From a reading's files by identifier (inside the eMRTD application, so 011D is EF.SOD).
    pub fn from_read(raw: &BTreeMap<u16, Vec<u8>>) -> ChipFiles {
        let mut files = ChipFiles::default();
        for (fid, bytes) in raw {
            match *fid {
                lds::EF_CARD_ACCESS => files.card_access = Some(bytes.clone()),
                lds::EF_COM => files.com = Some(bytes.clone()),
                lds::EF_SOD => files.sod = Some(bytes.clone()),
                fid if fid & 0xFF00 == 0x0100 => {
                    if let Ok(n @ 1..=16) = u8::try_from(fid & 0xFF) {
                        files.groups.insert(n, bytes.clone());
                    }
                }
                _ => {}
            }
        }
        files
    }

    /// Every file with its short name (`CardAccess`, `COM`, `DG1`, …, `SOD`), in the order a dump lists them.
    pub fn named(&self) -> Vec<(String, &[u8])> {
        let single = [("CardAccess", &self.card_access), ("CardSecurity", &self.card_security), ("COM", &self.com)];
        let mut out: Vec<(String, &[u8])> =
            single.iter().filter_map(|(name, b)| Some((name.to_string(), b.as_deref()?))).collect();
        out.extend(self.groups.iter().map(|(n, b)| (format!("DG{n}"), b.as_slice())));
        if let Some(b) = &self.sod {
            out.push(("SOD".to_string(), b.as_slice()));
        }
        out
    }

    pub fn total_bytes(&self) -> usize {
        self.named().iter().map(|(_, b)| b.len()).sum()
    }
}
