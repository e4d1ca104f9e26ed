//! The access key printed on the document: the MRZ fields BAC and PACE derive their keys from (document
//! number, date of birth, date of expiry, each with its check digit), or the 6-digit CAN.

use sha1::{Digest, Sha1};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessKeyError {
    #[error("the document number must be 1 to 9 characters of A-Z, 0-9 or <")]
    DocumentNumber,
    #[error("{0} must be a date written YYMMDD")]
    Date(&'static str),
    #[error("the CAN must be 6 digits")]
    Can,
}

pub use vouch_core::mrz::check_digit;

/// The MRZ part of the access key, as printed.
#[derive(Clone, PartialEq, Eq)]
pub struct MrzKey {
    document_number: String,
    date_of_birth: String,
    date_of_expiry: String,
}

/// MRZ data is personal data: never printed in logs or errors.
impl std::fmt::Debug for MrzKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzKey(..)")
    }
}

fn is_yymmdd(s: &str) -> bool {
    let digits = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
    let month = s.get(2..4).and_then(|m| m.parse::<u8>().ok()).unwrap_or(0);
    let day = s.get(4..6).and_then(|d| d.parse::<u8>().ok()).unwrap_or(0);
    digits && (1..=12).contains(&month) && (1..=31).contains(&day)
}

impl MrzKey {
    /// The key a parsed MRZ gives.
    pub fn from_mrz(mrz: &crate::lds::mrz::Mrz) -> Result<MrzKey, AccessKeyError> {
        MrzKey::new(&mrz.document_number, &mrz.date_of_birth, &mrz.date_of_expiry)
    }

    /// Document numbers shorter than 9 characters are padded with `<`, as the MRZ prints them.
    pub fn new(document_number: &str, date_of_birth: &str, date_of_expiry: &str) -> Result<MrzKey, AccessKeyError> {
        let number = document_number.trim().to_ascii_uppercase();
        if number.is_empty()
            || number.len() > 9
            || !number.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<')
        {
            return Err(AccessKeyError::DocumentNumber);
        }
        if !is_yymmdd(date_of_birth) {
            return Err(AccessKeyError::Date("the date of birth"));
        }
        if !is_yymmdd(date_of_expiry) {
            return Err(AccessKeyError::Date("the date of expiry"));
        }
        Ok(MrzKey {
            document_number: format!("{number:<<9}"),
            date_of_birth: date_of_birth.into(),
            date_of_expiry: date_of_expiry.into(),
        })
    }

    /// "MRZ_information": each field followed by its check digit.
    pub fn mrz_information(&self) -> String {
        let with_check = |f: &str| format!("{f}{}", check_digit(f).unwrap_or(0));
        format!(
            "{}{}{}",
            with_check(&self.document_number),
            with_check(&self.date_of_birth),
            with_check(&self.date_of_expiry)
        )
    }

    /// K_seed for BAC: the first 16 bytes of SHA-1 over the MRZ information.
    pub fn bac_key_seed(&self) -> [u8; 16] {
        let digest = Sha1::digest(self.mrz_information().as_bytes());
        let mut seed = [0u8; 16];
        seed.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
        seed
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn check_digits_of_the_icao_specimens() {
        // ICAO 9303 part 11 appendix D.2 and part 3's examples.
        assert_eq!(check_digit("L898902C<"), Some(3));
        assert_eq!(check_digit("690806"), Some(1));
        assert_eq!(check_digit("940623"), Some(6));
        assert_eq!(check_digit("D23145890734"), Some(9));
        assert_eq!(check_digit("340712"), Some(7));
        assert_eq!(check_digit("abc"), None);
    }

    #[test]
    fn the_worked_example_key_seed() {
        let key = MrzKey::new("L898902C", "690806", "940623").unwrap();
        assert_eq!(key.mrz_information(), "L898902C<369080619406236");
        assert_eq!(hex::encode_upper(key.bac_key_seed()), "239AB9CB282DAF66231DC5A4DF6BFBAE");
        assert_eq!(format!("{key:?}"), "MrzKey(..)", "no MRZ data in logs");
    }

    #[test]
    fn bad_fields_are_refused() {
        assert_eq!(MrzKey::new("", "690806", "940623"), Err(AccessKeyError::DocumentNumber));
        assert_eq!(MrzKey::new("L898902C99", "690806", "940623"), Err(AccessKeyError::DocumentNumber));
        assert_eq!(MrzKey::new("L89-8902", "690806", "940623"), Err(AccessKeyError::DocumentNumber));
        assert!(matches!(MrzKey::new("L898902C", "691306", "940623"), Err(AccessKeyError::Date(_))));
        assert!(matches!(MrzKey::new("L898902C", "690806", "9406"), Err(AccessKeyError::Date(_))));
    }
}
