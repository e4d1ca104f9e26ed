//! The machine-readable zone (ICAO 9303 parts 4 to 6) as DG1 holds it: TD1 (3×30), TD2 (2×36) and TD3 (2×44),
//! split into typed fields with every check digit verified.

use serde::Serialize;

use crate::access_key::{check_digit, AccessKeyError, MrzKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MrzFormat {
    #[serde(rename = "TD1")]
    Td1,
    #[serde(rename = "TD2")]
    Td2,
    #[serde(rename = "TD3")]
    Td3,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("an MRZ has 90 (TD1), 72 (TD2) or 88 (TD3) characters; this one has {0}")]
    Length(usize),
    #[error("the MRZ holds characters outside A-Z, 0-9 and <")]
    Alphabet,
}

/// Which check digits hold. The composite covers the others, so a forged field fails two checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MrzChecks {
    pub document_number: bool,
    pub date_of_birth: bool,
    pub date_of_expiry: bool,
    /// TD3's personal-number check digit; true where the format has none.
    pub optional_data: bool,
    pub composite: bool,
}

impl MrzChecks {
    pub fn all_valid(&self) -> bool {
        self.document_number && self.date_of_birth && self.date_of_expiry && self.optional_data && self.composite
    }
}

/// MRZ fields are personal data: `Debug` prints the format and checks only.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Mrz {
    pub format: MrzFormat,
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub nationality: String,
    /// YYMMDD as printed.
    pub date_of_birth: String,
    pub sex: String,
    pub date_of_expiry: String,
    pub primary_identifier: String,
    pub secondary_identifier: String,
    pub optional_data: String,
    pub optional_data_2: String,
    pub checks: MrzChecks,
}

impl std::fmt::Debug for Mrz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mrz({:?}, {:?})", self.format, self.checks)
    }
}

fn field(s: &str, from: usize, to: usize) -> &str {
    s.get(from..to).unwrap_or("")
}

fn digit_ok(data: &str, digit: &str) -> bool {
    match (check_digit(data), digit) {
        (Some(d), c) => c == d.to_string() || (c == "<" && d == 0 && data.chars().all(|ch| ch == '<')),
        (None, _) => false,
    }
}

fn clean(s: &str) -> String {
    s.trim_end_matches('<').replace('<', " ").trim().to_string()
}

/// `SURNAME<<GIVEN<NAMES`: the primary and secondary identifiers.
fn names(s: &str) -> (String, String) {
    match s.split_once("<<") {
        Some((primary, secondary)) => (clean(primary), clean(secondary)),
        None => (clean(s), String::new()),
    }
}

/// Parses an MRZ given as its lines joined, or with line breaks.
pub fn parse(text: &str) -> Result<Mrz, MrzError> {
    let s: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '<') {
        return Err(MrzError::Alphabet);
    }
    match s.len() {
        90 => Ok(parse_td1(&s)),
        72 => Ok(parse_td2_td3(&s, 36, MrzFormat::Td2)),
        88 => Ok(parse_td2_td3(&s, 44, MrzFormat::Td3)),
        n => Err(MrzError::Length(n)),
    }
}

fn parse_td2_td3(s: &str, width: usize, format: MrzFormat) -> Mrz {
    let (l1, l2) = (field(s, 0, width), field(s, width, 2 * width));
    let (primary, secondary) = names(field(l1, 5, width));
    let (optional_end, composite_at) = if format == MrzFormat::Td3 { (42, 43) } else { (35, 35) };
    let optional = field(l2, 28, optional_end);
    let optional_ok = format != MrzFormat::Td3 || digit_ok(optional, field(l2, 42, 43));
    let composite_data = format!("{}{}{}", field(l2, 0, 10), field(l2, 13, 20), field(l2, 21, composite_at));
    Mrz {
        format,
        document_code: clean(field(l1, 0, 2)),
        issuing_state: clean(field(l1, 2, 5)),
        document_number: clean(field(l2, 0, 9)),
        nationality: clean(field(l2, 10, 13)),
        date_of_birth: field(l2, 13, 19).to_string(),
        sex: clean(field(l2, 20, 21)),
        date_of_expiry: field(l2, 21, 27).to_string(),
        primary_identifier: primary,
        secondary_identifier: secondary,
        optional_data: clean(optional),
        optional_data_2: String::new(),
        checks: MrzChecks {
            document_number: digit_ok(field(l2, 0, 9), field(l2, 9, 10)),
            date_of_birth: digit_ok(field(l2, 13, 19), field(l2, 19, 20)),
            date_of_expiry: digit_ok(field(l2, 21, 27), field(l2, 27, 28)),
            optional_data: optional_ok,
            composite: digit_ok(&composite_data, field(l2, composite_at, composite_at + 1)),
        },
    }
}

fn parse_td1(s: &str) -> Mrz {
    let (l1, l2, l3) = (field(s, 0, 30), field(s, 30, 60), field(s, 60, 90));
    let (primary, secondary) = names(l3);
    let mut number = field(l1, 5, 14).to_string();
    let mut number_digit = field(l1, 14, 15).to_string();
    let mut optional = field(l1, 15, 30).to_string();
    // A document number longer than 9 characters continues in the optional data, its check digit last
    // before the first filler (part 5 §4.2.4 note j).
    if number_digit == "<" {
        let tail: String = optional.chars().take_while(|c| *c != '<').collect();
        if let Some((head, digit)) = tail.split_at_checked(tail.len().saturating_sub(1)) {
            number.push_str(head);
            number_digit = digit.to_string();
            optional = optional.get(tail.len()..).unwrap_or("").to_string();
        }
    }
    let composite_data = format!("{}{}{}{}", field(l1, 5, 30), field(l2, 0, 7), field(l2, 8, 15), field(l2, 18, 29));
    Mrz {
        format: MrzFormat::Td1,
        document_code: clean(field(l1, 0, 2)),
        issuing_state: clean(field(l1, 2, 5)),
        document_number: clean(&number),
        nationality: clean(field(l2, 15, 18)),
        date_of_birth: field(l2, 0, 6).to_string(),
        sex: clean(field(l2, 7, 8)),
        date_of_expiry: field(l2, 8, 14).to_string(),
        primary_identifier: primary,
        secondary_identifier: secondary,
        optional_data: clean(&optional),
        optional_data_2: clean(field(l2, 18, 29)),
        checks: MrzChecks {
            document_number: digit_ok(&number, &number_digit),
            date_of_birth: digit_ok(field(l2, 0, 6), field(l2, 6, 7)),
            date_of_expiry: digit_ok(field(l2, 8, 14), field(l2, 14, 15)),
            optional_data: true,
            composite: digit_ok(&composite_data, field(l2, 29, 30)),
        },
    }
}

impl Mrz {
    /// The BAC/PACE key this MRZ gives.
    pub fn access_key(&self) -> Result<MrzKey, AccessKeyError> {
        MrzKey::new(&self.document_number, &self.date_of_birth, &self.date_of_expiry)
    }
}

/// A TD3 MRZ from its fields, for the test-passport generator.
#[allow(clippy::too_many_arguments)]
pub fn td3(
    document_code: &str,
    issuing_state: &str,
    surname: &str,
    given_names: &str,
    document_number: &str,
    nationality: &str,
    date_of_birth: &str,
    sex: &str,
    date_of_expiry: &str,
    personal_number: &str,
) -> String {
    let fill = |s: &str, n: usize| {
        let mut out: String = s.replace(' ', "<").chars().take(n).collect();
        while out.len() < n {
            out.push('<');
        }
        out
    };
    let digit = |s: &str| check_digit(s).map(|d| d.to_string()).unwrap_or_else(|| "0".into());
    let l1 = fill(&format!("{}{}{}<<{}", fill(document_code, 2), fill(issuing_state, 3), surname, given_names), 44);
    let number = fill(document_number, 9);
    let personal = fill(personal_number, 14);
    let personal_digit = if personal_number.is_empty() { "<".to_string() } else { digit(&personal) };
    let mut l2 = format!(
        "{number}{}{}{date_of_birth}{}{}{date_of_expiry}{}{personal}{personal_digit}",
        digit(&number),
        fill(nationality, 3),
        digit(date_of_birth),
        fill(sex, 1),
        digit(date_of_expiry),
    );
    let composite = format!("{}{}{}", field(&l2, 0, 10), field(&l2, 13, 20), field(&l2, 21, 43));
    l2.push_str(&digit(&composite));
    format!("{l1}{l2}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// ICAO 9303 part 4 appendix A specimen (TD3).
    #[test]
    fn the_td3_specimen() {
        let m = parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")
            .unwrap();
        assert_eq!(m.format, MrzFormat::Td3);
        assert_eq!((m.primary_identifier.as_str(), m.secondary_identifier.as_str()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(
            (m.document_number.as_str(), m.date_of_birth.as_str(), m.date_of_expiry.as_str()),
            ("L898902C3", "740812", "120415")
        );
        assert_eq!((m.sex.as_str(), m.nationality.as_str(), m.optional_data.as_str()), ("F", "UTO", "ZE184226B"));
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        let forged =
            parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1304159ZE184226B<<<<<10").unwrap();
        assert!(!forged.checks.date_of_expiry && !forged.checks.composite);
    }

    /// ICAO 9303 part 5 appendix A specimen (TD1), and part 6 (TD2).
    #[test]
    fn the_td1_and_td2_specimens() {
        let m = parse("I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
            .unwrap();
        assert_eq!(m.format, MrzFormat::Td1);
        assert_eq!(m.document_number, "D23145890");
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        let m = parse("I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6").unwrap();
        assert_eq!(m.format, MrzFormat::Td2);
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        assert_eq!(parse("P<UTO").unwrap_err(), MrzError::Length(5));
        assert_eq!(parse(&"p".repeat(88)).unwrap_err(), MrzError::Alphabet);
    }

    #[test]
    fn the_generator_writes_what_the_parser_reads() {
        let text = td3("P", "UTO", "ERIKSSON", "ANNA MARIA", "L898902C3", "UTO", "740812", "F", "120415", "ZE184226B");
        assert_eq!(text, "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10");
    }
}

/// `YYMMDD` as `YYYY-MM-DD`. The MRZ has no century: a birth date is never in the future, and an expiry is
/// taken within 50 years either side of `this_year`.
pub fn iso_date(yymmdd: &str, birth: bool, this_year: i32) -> Option<String> {
    if yymmdd.len() != 6 || !yymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = yymmdd.get(0..2)?.parse().ok()?;
    let (mm, dd) = (yymmdd.get(2..4)?, yymmdd.get(4..6)?);
    if !(1..=12).contains(&mm.parse::<u8>().ok()?) || !(1..=31).contains(&dd.parse::<u8>().ok()?) {
        return None;
    }
    let century = this_year - this_year.rem_euclid(100);
    let mut year = century + yy;
    if birth && year > this_year {
        year -= 100;
    } else if !birth && year < this_year - 50 {
        year += 100;
    }
    Some(format!("{year:04}-{mm}-{dd}"))
}

#[cfg(test)]
mod date_tests {
    use super::iso_date;

    #[test]
    fn mrz_dates_get_their_century() {
        assert_eq!(iso_date("740812", true, 2026).as_deref(), Some("1974-08-12"));
        assert_eq!(iso_date("050101", true, 2026).as_deref(), Some("2005-01-01"));
        assert_eq!(iso_date("270101", true, 2026).as_deref(), Some("1927-01-01"));
        assert_eq!(iso_date("340415", false, 2026).as_deref(), Some("2034-04-15"));
        assert_eq!(iso_date("120415", false, 2026).as_deref(), Some("2012-04-15"));
        assert_eq!(iso_date("991301", false, 2026), None);
        assert_eq!(iso_date("74<812", true, 2026), None);
    }
}
