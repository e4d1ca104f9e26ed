//! The machine-readable zone (ICAO 9303 parts 3 to 7): TD1 (3×30), TD2 (2×36) and TD3 (2×44) documents, the
//! MRV-A (2×44) and MRV-B (2×36) visas, and the French national identity card (2×36, its own layout), split into
//! typed fields with every check digit and the composite verified and the names split at the filler.
//! [`parse_corrected`] also repairs the confusions OCR makes (O/0, I/1, B/8, S/5, Z/2, G/6, D/0, K/<): by each
//! field's alphabet always (a letters-only field cannot hold a digit), and where a field may hold either, only
//! when the check digits then hold.
//!
//! One parser serves the chip's DG1, the page's OCR and the clerk's typing.

pub mod states;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub enum MrzFormat {
    #[serde(rename = "TD1")]
    Td1,
    #[serde(rename = "TD2")]
    Td2,
    #[serde(rename = "TD3")]
    Td3,
    #[serde(rename = "MRV-A")]
    MrvA,
    #[serde(rename = "MRV-B")]
    MrvB,
    /// The French national identity card of 1988 to 2021 (2×36, `IDFRA`): surname on the first line; the
    /// document number, given names, birth date and sex on the second; no expiry date.
    #[serde(rename = "FRA-ID")]
    FrenchId,
}

impl MrzFormat {
    fn shape(self) -> (usize, usize) {
        match self {
            MrzFormat::Td1 => (3, 30),
            MrzFormat::Td2 | MrzFormat::MrvB | MrzFormat::FrenchId => (2, 36),
            MrzFormat::Td3 | MrzFormat::MrvA => (2, 44),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MrzError {
    #[error("an MRZ has 90 (TD1), 72 (TD2, MRV-B) or 88 (TD3, MRV-A) characters; this one has {0}")]
    Length(usize),
    #[error("the MRZ holds characters outside A-Z, 0-9 and <")]
    Alphabet,
}

/// The ICAO 9303 part 3 check digit: weights 7, 3, 1 over digit values, letters A=10..Z=35 and `<` = 0.
/// `None` when a character is outside that alphabet.
pub fn check_digit(field: &str) -> Option<u8> {
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, c) in field.chars().enumerate() {
        let value = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            '<' => 0,
            _ => return None,
        };
        sum += value * WEIGHTS.get(i % 3).copied().unwrap_or(1);
    }
    Some((sum % 10) as u8)
}

/// Which check digits hold. The composite covers the others, so a forged field fails two checks. A check the
/// format does not have (the visas' composite, TD1's and TD2's optional data) counts as holding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MrzChecks {
    pub document_number: bool,
    pub date_of_birth: bool,
    pub date_of_expiry: bool,
    /// TD3's personal-number check digit.
    pub optional_data: bool,
    pub composite: bool,
}

impl MrzChecks {
    pub fn all_valid(&self) -> bool {
        self.document_number && self.date_of_birth && self.date_of_expiry && self.optional_data && self.composite
    }
}

/// The kind of document a document code names, as DIS words it: passport, visa, identity-card or unknown.
pub fn document_kind(document_code: &str) -> &'static str {
    match document_code.chars().next() {
        Some('P') => "passport",
        Some('V') => "visa",
        Some('I' | 'A' | 'C') => "identity-card",
        _ => "unknown",
    }
}

/// MRZ fields are personal data: `Debug` prints the format and checks only.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The name field is filled to its last character, so the name may have been cut to fit.
    pub names_truncated: bool,
    pub optional_data: String,
    pub optional_data_2: String,
    pub checks: MrzChecks,
}

impl std::fmt::Debug for Mrz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mrz({:?}, {:?})", self.format, self.checks)
    }
}

/// One OCR confusion put right: where (line and column from 0) and what was read and meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub line: usize,
    pub column: usize,
    pub read: char,
    pub corrected: char,
}

/// What a position may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Letters and `<`: codes, names.
    Alpha,
    /// Dates.
    Digit,
    /// A check digit: a digit, or `<` over an empty field.
    Check,
    /// Document numbers and optional data.
    Any,
    Sex,
}

/// A check digit: the characters it covers and where it stands, as (line, start, end) and (line, column).
struct Check {
    parts: Vec<(usize, usize, usize)>,
    digit: (usize, usize),
}

struct Layout {
    format: MrzFormat,
    lines: Vec<Vec<char>>,
}

fn detect(chars: &[char]) -> Result<MrzFormat, MrzError> {
    let visa = chars.first() == Some(&'V');
    // As OCR may read it: `1DFRA`, `IDFR4`.
    let french = chars.len() == 72 && chars.iter().take(5).map(|c| as_letter(*c).unwrap_or(*c)).eq("IDFRA".chars());
    Ok(match chars.len() {
        90 => MrzFormat::Td1,
        72 if french => MrzFormat::FrenchId,
        72 if visa => MrzFormat::MrvB,
        72 => MrzFormat::Td2,
        88 if visa => MrzFormat::MrvA,
        88 => MrzFormat::Td3,
        n => return Err(MrzError::Length(n)),
    })
}

impl Layout {
    fn new(text: &str) -> Result<Layout, MrzError> {
        let s: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        if !s.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<') {
            return Err(MrzError::Alphabet);
        }
        let format = detect(&s)?;
        let (_, width) = format.shape();
        Ok(Layout { format, lines: s.chunks(width).map(<[char]>::to_vec).collect() })
    }

    fn at(&self, line: usize, column: usize) -> char {
        self.lines.get(line).and_then(|l| l.get(column)).copied().unwrap_or('<')
    }

    fn text(&self, line: usize, start: usize, end: usize) -> String {
        self.lines.get(line).and_then(|l| l.get(start..end)).map(|c| c.iter().collect()).unwrap_or_default()
    }

    fn kind(&self, line: usize, column: usize) -> Kind {
        use Kind::*;
        match (self.format, line) {
            (MrzFormat::Td1, 0) => match column {
                0..=4 => Alpha,
                14 => Check,
                _ => Any,
            },
            (MrzFormat::Td1, 1) => match column {
                0..=5 | 8..=13 => Digit,
                6 | 14 | 29 => Check,
                7 => Sex,
                15..=17 => Alpha,
                _ => Any,
            },
            (MrzFormat::FrenchId, 0) => match column {
                0..=29 => Alpha,
                _ => Any,
            },
            (MrzFormat::FrenchId, _) => match column {
                0..=11 => Any,
                12 | 33 | 35 => Check,
                13..=26 => Alpha,
                27..=32 => Digit,
                34 => Sex,
                _ => Any,
            },
            (_, 0) | (MrzFormat::Td1, _) => Alpha,
            (format, _) => match column {
                0..=8 => Any,
                9 | 19 | 27 => Check,
                10..=12 => Alpha,
                13..=18 | 21..=26 => Digit,
                20 => Sex,
                42 | 43 if format == MrzFormat::Td3 => Check,
                35 if format == MrzFormat::Td2 => Check,
                _ => Any,
            },
        }
    }

    /// TD1's document number when it is longer than 9 characters: the check-digit position holds `<` and the
    /// number goes on in the optional data, its check digit last before the first filler (part 5 §4.2.4).
    fn td1_long_number_end(&self) -> Option<usize> {
        if self.at(0, 14) != '<' {
            return None;
        }
        let end = (15..30).find(|c| self.at(0, *c) == '<').unwrap_or(30);
        (end > 15).then_some(end - 1)
    }

    fn checks(&self) -> [Option<Check>; 5] {
        let c = |parts: Vec<(usize, usize, usize)>, digit| Some(Check { parts, digit });
        match self.format {
            MrzFormat::Td1 => [
                match self.td1_long_number_end() {
                    Some(digit) => c(vec![(0, 5, 14), (0, 15, digit)], (0, digit)),
                    None => c(vec![(0, 5, 14)], (0, 14)),
                },
                c(vec![(1, 0, 6)], (1, 6)),
                c(vec![(1, 8, 14)], (1, 14)),
                None,
                c(vec![(0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)], (1, 29)),
            ],
            MrzFormat::FrenchId => [
                c(vec![(1, 0, 12)], (1, 12)),
                c(vec![(1, 27, 33)], (1, 33)),
                None,
                None,
                c(vec![(0, 0, 36), (1, 0, 35)], (1, 35)),
            ],
            format => [
                c(vec![(1, 0, 9)], (1, 9)),
                c(vec![(1, 13, 19)], (1, 19)),
                c(vec![(1, 21, 27)], (1, 27)),
                if format == MrzFormat::Td3 { c(vec![(1, 28, 42)], (1, 42)) } else { None },
                match format {
                    MrzFormat::Td3 => c(vec![(1, 0, 10), (1, 13, 20), (1, 21, 43)], (1, 43)),
                    MrzFormat::Td2 => c(vec![(1, 0, 10), (1, 13, 20), (1, 21, 35)], (1, 35)),
                    _ => None,
                },
            ],
        }
    }

    fn holds(&self, check: &Check) -> bool {
        let data: String = check.parts.iter().map(|(l, s, e)| self.text(*l, *s, *e)).collect();
        let digit = self.at(check.digit.0, check.digit.1);
        match check_digit(&data) {
            Some(d) => char::from(b'0' + d) == digit || (digit == '<' && d == 0 && data.chars().all(|c| c == '<')),
            None => false,
        }
    }

    fn verdicts(&self) -> [bool; 5] {
        self.checks().map(|c| c.is_none_or(|c| self.holds(&c)))
    }

    fn mrz(&self) -> Mrz {
        let [document_number, date_of_birth, date_of_expiry, optional_data, composite] = self.verdicts();
        let checks = MrzChecks { document_number, date_of_birth, date_of_expiry, optional_data, composite };
        let (_, width) = self.format.shape();
        if self.format == MrzFormat::Td1 {
            let (number, optional) = match self.td1_long_number_end() {
                Some(digit) => (self.text(0, 5, 14) + &self.text(0, 15, digit), self.text(0, digit + 1, 30)),
                None => (self.text(0, 5, 14), self.text(0, 15, 30)),
            };
            let (primary, secondary) = names(&self.text(2, 0, 30));
            return Mrz {
                format: self.format,
                document_code: clean(&self.text(0, 0, 2)),
                issuing_state: clean(&self.text(0, 2, 5)),
                document_number: clean(&number),
                nationality: clean(&self.text(1, 15, 18)),
                date_of_birth: self.text(1, 0, 6),
                sex: clean(&self.text(1, 7, 8)),
                date_of_expiry: self.text(1, 8, 14),
                primary_identifier: primary,
                secondary_identifier: secondary,
                names_truncated: self.at(2, 29) != '<',
                optional_data: clean(&optional),
                optional_data_2: clean(&self.text(1, 18, 29)),
                checks,
            };
        }
        if self.format == MrzFormat::FrenchId {
            let given: Vec<String> = self.text(1, 13, 27).split("<<").map(clean).filter(|n| !n.is_empty()).collect();
            return Mrz {
                format: self.format,
                document_code: clean(&self.text(0, 0, 2)),
                issuing_state: clean(&self.text(0, 2, 5)),
                document_number: clean(&self.text(1, 0, 12)),
                // The card is issued to French nationals only.
                nationality: clean(&self.text(0, 2, 5)),
                date_of_birth: self.text(1, 27, 33),
                sex: clean(&self.text(1, 34, 35)),
                date_of_expiry: String::new(),
                primary_identifier: clean(&self.text(0, 5, 30)),
                secondary_identifier: given.join(" "),
                names_truncated: self.at(1, 26) != '<',
                optional_data: clean(&self.text(0, 30, 36)),
                optional_data_2: String::new(),
                checks,
            };
        }
        let (primary, secondary) = names(&self.text(0, 5, width));
        let optional_end = match self.format {
            MrzFormat::Td3 => 42,
            MrzFormat::Td2 => 35,
            _ => width,
        };
        Mrz {
            format: self.format,
            document_code: clean(&self.text(0, 0, 2)),
            issuing_state: clean(&self.text(0, 2, 5)),
            document_number: clean(&self.text(1, 0, 9)),
            nationality: clean(&self.text(1, 10, 13)),
            date_of_birth: self.text(1, 13, 19),
            sex: clean(&self.text(1, 20, 21)),
            date_of_expiry: self.text(1, 21, 27),
            primary_identifier: primary,
            secondary_identifier: secondary,
            names_truncated: self.at(0, width - 1) != '<',
            optional_data: clean(&self.text(1, 28, optional_end)),
            optional_data_2: String::new(),
            checks,
        }
    }

    fn set(&mut self, line: usize, column: usize, to: char) {
        if let Some(c) = self.lines.get_mut(line).and_then(|l| l.get_mut(column)) {
            *c = to;
        }
    }
}

fn clean(s: &str) -> String {
    s.trim_end_matches('<').replace('<', " ").trim().to_string()
}

/// `SURNAME<<GIVEN<NAMES`: the primary and secondary identifiers, fillers as spaces.
fn names(s: &str) -> (String, String) {
    match s.split_once("<<") {
        Some((primary, secondary)) => (clean(primary), clean(secondary)),
        None => (clean(s), String::new()),
    }
}

/// Parses an MRZ given as its lines joined, or with line breaks. Every check digit is verified and reported in
/// `checks`; nothing is corrected.
pub fn parse(text: &str) -> Result<Mrz, MrzError> {
    Ok(Layout::new(text)?.mrz())
}

/// What a letter read where a digit must stand most likely was, and the other way round.
fn as_digit(c: char) -> Option<char> {
    Some(match c {
        'O' | 'Q' | 'D' | 'U' => '0',
        'I' | 'L' | 'T' => '1',
        'Z' => '2',
        'S' => '5',
        'G' => '6',
        'B' => '8',
        _ => return None,
    })
}

fn as_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'O',
        '1' => 'I',
        '2' => 'Z',
        '5' => 'S',
        '6' => 'G',
        '8' => 'B',
        _ => return None,
    })
}

/// Where a position may hold either, the other reading of an ambiguous character.
fn other_reading(c: char) -> Option<char> {
    Some(match c {
        'O' | 'D' => '0',
        '0' => 'O',
        'I' => '1',
        '1' => 'I',
        'B' => '8',
        '8' => 'B',
        'S' => '5',
        '5' => 'S',
        'Z' => '2',
        '2' => 'Z',
        'G' => '6',
        '6' => 'G',
        'K' => '<',
        '<' => 'K',
        _ => return None,
    })
}

/// More positions than this in the failing fields and pairs of repairs are not tried: the search would find
/// a passing combination by chance.
const MAX_PAIR_CANDIDATES: usize = 24;

/// Parses an MRZ as OCR read it. First every position whose kind is certain (dates and check digits are
/// digits; codes, nationality and names are letters) gets the character it must have been, whatever the check
/// digits say (no check digit covers the issuing state or the names). Then, if a check still fails, one or two
/// ambiguous characters in the fields it covers are read the other way. That repair is kept only when all
/// check digits then hold and no other repair of the same size would do; otherwise the MRZ comes back with
/// the certain repairs only, and its failing checks. Every repair is listed in the corrections.
pub fn parse_corrected(text: &str) -> Result<(Mrz, Vec<Correction>), MrzError> {
    let upper: String = text.chars().map(|c| c.to_ascii_uppercase()).collect();
    let read = Layout::new(&upper)?;
    let mut fixed = Layout { format: read.format, lines: read.lines.clone() };
    let mut corrections = Vec::new();
    for line in 0..fixed.lines.len() {
        for column in 0..fixed.lines.get(line).map_or(0, Vec::len) {
            let c = fixed.at(line, column);
            let to = match fixed.kind(line, column) {
                Kind::Digit | Kind::Check => as_digit(c),
                Kind::Alpha => as_letter(c),
                Kind::Sex | Kind::Any => None,
            };
            if let Some(to) = to {
                fixed.set(line, column, to);
                corrections.push(Correction { line, column, read: c, corrected: to });
            }
        }
    }
    if fixed.verdicts().iter().all(|ok| *ok) {
        return Ok((fixed.mrz(), corrections));
    }

    // The ambiguous characters in fields whose check fails; the composite only when it alone fails.
    let verdicts = fixed.verdicts();
    let failing: Vec<Check> = fixed
        .checks()
        .into_iter()
        .zip(verdicts)
        .enumerate()
        .filter_map(|(i, (check, ok))| check.filter(|_| !ok && (i < 4 || verdicts.iter().take(4).all(|v| *v))))
        .collect();
    let mut candidates: Vec<(usize, usize, char)> = Vec::new();
    for check in &failing {
        for (line, start, end) in &check.parts {
            for column in *start..*end {
                let c = fixed.at(*line, column);
                let ambiguous = fixed.kind(*line, column) == Kind::Any;
                if let (true, Some(to)) = (ambiguous, other_reading(c)) {
                    if !candidates.iter().any(|(l, col, _)| (*l, *col) == (*line, column)) {
                        candidates.push((*line, column, to));
                    }
                }
            }
        }
    }
    let passes = |changes: &[(usize, usize, char)]| {
        let mut trial = Layout { format: fixed.format, lines: fixed.lines.clone() };
        for (line, column, to) in changes {
            trial.set(*line, *column, *to);
        }
        trial.verdicts().iter().all(|ok| *ok)
    };
    let singles: Vec<(usize, usize, char)> = candidates.iter().copied().filter(|c| passes(&[*c])).collect();
    let chosen: Option<Vec<(usize, usize, char)>> = match singles.as_slice() {
        [one] => Some(vec![*one]),
        [] if candidates.len() <= MAX_PAIR_CANDIDATES => {
            let mut pairs = Vec::new();
            for (i, a) in candidates.iter().enumerate() {
                for b in candidates.iter().skip(i + 1) {
                    if passes(&[*a, *b]) {
                        pairs.push(vec![*a, *b]);
                    }
                }
            }
            if pairs.len() == 1 {
                pairs.pop()
            } else {
                None
            }
        }
        _ => None,
    };
    match chosen {
        Some(changes) => {
            for (line, column, to) in changes {
                corrections.push(Correction { line, column, read: fixed.at(line, column), corrected: to });
                fixed.set(line, column, to);
            }
            Ok((fixed.mrz(), corrections))
        }
        None => Ok((fixed.mrz(), corrections)),
    }
}

/// `s` with spaces as fillers, cut or filled with `<` to `n` characters: an MRZ field as printed.
fn filled(s: &str, n: usize) -> String {
    let mut out: String = s.replace(' ', "<").chars().take(n).collect();
    while out.len() < n {
        out.push('<');
    }
    out
}

/// The check digit of `field` as the character printed after it (`0` for a field outside the alphabet).
fn check_char(field: &str) -> String {
    check_digit(field).map(|d| d.to_string()).unwrap_or_else(|| "0".into())
}

/// The fields a TD1 or TD3 MRZ prints, as the document holds them: dates `YYMMDD`, names with spaces or `<`.
#[derive(Debug, Clone, Copy)]
pub struct MrzFields<'a> {
    pub document_code: &'a str,
    pub issuing_state: &'a str,
    pub surname: &'a str,
    pub given_names: &'a str,
    pub document_number: &'a str,
    pub nationality: &'a str,
    pub date_of_birth: &'a str,
    pub sex: &'a str,
    pub date_of_expiry: &'a str,
}

/// A TD3 MRZ (2 lines of 44) from its fields, for test passports and synthetic pages.
pub fn td3(f: &MrzFields<'_>, personal_number: &str) -> String {
    let (fill, digit) = (filled, check_char);
    let l1 =
        fill(&format!("{}{}{}<<{}", fill(f.document_code, 2), fill(f.issuing_state, 3), f.surname, f.given_names), 44);
    let number = fill(f.document_number, 9);
    let personal = fill(personal_number, 14);
    let personal_digit = if personal_number.is_empty() { "<".to_string() } else { digit(&personal) };
    let mut l2 = format!(
        "{number}{}{}{}{}{}{}{}{personal}{personal_digit}",
        digit(&number),
        fill(f.nationality, 3),
        f.date_of_birth,
        digit(f.date_of_birth),
        fill(f.sex, 1),
        f.date_of_expiry,
        digit(f.date_of_expiry),
    );
    let part = |from: usize, to: usize| l2.get(from..to).unwrap_or("").to_string();
    let composite = format!("{}{}{}", part(0, 10), part(13, 20), part(21, 43));
    l2.push_str(&digit(&composite));
    format!("{l1}{l2}")
}

/// A TD1 MRZ (3 lines of 30) from its fields, for synthetic identity cards.
pub fn td1(f: &MrzFields<'_>) -> String {
    let (fill, digit) = (filled, check_char);
    let number = fill(f.document_number, 9);
    let l1 =
        format!("{}{}{number}{}{}", fill(f.document_code, 2), fill(f.issuing_state, 3), digit(&number), fill("", 15));
    let mut l2 = format!(
        "{}{}{}{}{}{}{}",
        f.date_of_birth,
        digit(f.date_of_birth),
        fill(f.sex, 1),
        f.date_of_expiry,
        digit(f.date_of_expiry),
        fill(f.nationality, 3),
        fill("", 11)
    );
    let part = |s: &str, from: usize, to: usize| s.get(from..to).unwrap_or("").to_string();
    let composite = format!("{}{}{}{}", part(&l1, 5, 30), part(&l2, 0, 7), part(&l2, 8, 15), part(&l2, 18, 29));
    l2.push_str(&digit(&composite));
    let l3 = fill(&format!("{}<<{}", f.surname, f.given_names), 30);
    format!("{l1}{l2}{l3}")
}

/// Whether `yymmdd` is a date as an MRZ prints one: six digits, a month 01–12 and a day 01–31; with
/// `unknown_parts`, also ICAO's `<<` for a month or a day nobody knows.
pub fn is_date(yymmdd: &str, unknown_parts: bool) -> bool {
    let part = |s: Option<&str>, max: u8| match s {
        Some("<<") => unknown_parts,
        Some(s) => s.bytes().all(|b| b.is_ascii_digit()) && s.parse::<u8>().is_ok_and(|v| (1..=max).contains(&v)),
        None => false,
    };
    yymmdd.len() == 6
        && yymmdd.get(0..2).is_some_and(|y| y.bytes().all(|b| b.is_ascii_digit()))
        && part(yymmdd.get(2..4), 12)
        && part(yymmdd.get(4..6), 31)
}

/// The holder and document as an MRZ states them (a page's, or a chip's DG1), fillers removed: what a clerk
/// reads and an integrator gets. Personal data: in the case, never in a log (`Debug` shows none of it).
#[derive(Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MrzHolder {
    pub document_code: String,
    pub issuing_state: String,
    pub document_number: String,
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    /// `F` or `M`; empty where the MRZ leaves it unspecified (`<`).
    pub sex: String,
    /// YYYY-MM-DD.
    pub date_of_birth: Option<String>,
    pub date_of_expiry: Option<String>,
}

impl std::fmt::Debug for MrzHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MrzHolder(..)")
    }
}

impl MrzHolder {
    /// The holder of `m`, its dates given their century from `this_year` ([`iso_date`]).
    pub fn of(m: &Mrz, this_year: i32) -> MrzHolder {
        let code = |s: &str| s.replace('<', "");
        MrzHolder {
            document_code: code(&m.document_code),
            issuing_state: code(&m.issuing_state),
            document_number: code(&m.document_number),
            surname: m.primary_identifier.clone(),
            given_names: m.secondary_identifier.clone(),
            nationality: code(&m.nationality),
            sex: m.sex.replace('<', ""),
            date_of_birth: iso_date(&m.date_of_birth, true, this_year),
            date_of_expiry: iso_date(&m.date_of_expiry, false, this_year),
        }
    }
}

/// `YYMMDD` as `YYYY-MM-DD`. The MRZ has no century: a birth date is never in the future, and an expiry is
/// taken within 50 years either side of `this_year`.
pub fn iso_date(yymmdd: &str, birth: bool, this_year: i32) -> Option<String> {
    if !is_date(yymmdd, false) {
        return None;
    }
    let yy: i32 = yymmdd.get(0..2)?.parse().ok()?;
    let (mm, dd) = (yymmdd.get(2..4)?, yymmdd.get(4..6)?);
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn an_mrz_date_and_its_unknown_parts() {
        assert!(is_date("740812", false));
        assert!(!is_date("741312", false) && !is_date("740800", false) && !is_date("74081", false));
        assert!(!is_date("74<<12", false));
        assert!(is_date("74<<<<", true) && is_date("7408<<", true));
        assert!(!is_date("<<0812", true) && !is_date("7413<<", true));
    }

    /// ICAO 9303's specimen holder (Anna Maria Eriksson of Utopia) with the given code and number.
    fn specimen(document_code: &'static str, document_number: &'static str) -> MrzFields<'static> {
        MrzFields {
            document_code,
            issuing_state: "UTO",
            surname: "ERIKSSON",
            given_names: "ANNA MARIA",
            document_number,
            nationality: "UTO",
            date_of_birth: "740812",
            sex: "F",
            date_of_expiry: "120415",
        }
    }

    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L898902C36UTO7408122F1204159ZE184226B<<<<<10";
    const TD1: &str = "I<UTOD231458907<<<<<<<<<<<<<<<7408122F1204159UTO<<<<<<<<<<<6ERIKSSON<<ANNA<MARIA<<<<<<<<<<";
    const TD2: &str = "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<D231458907UTO7408122F1204159<<<<<<<6";
    /// Visas with the holder and numbers of the ICAO 9303 part 7 specimens.
    const MRV_A: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<L8988901C4XXX4009078F9612109ZE184226B<<<<<<<";
    const MRV_B: &str = "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<L8988901C4XXX4009078F9612109<<<<<<<<";

    /// ICAO 9303 part 4 appendix A specimen (TD3).
    #[test]
    fn the_td3_specimen() {
        let m = parse(&format!("{}\n{}", &TD3[..44], &TD3[44..])).unwrap();
        assert_eq!(m.format, MrzFormat::Td3);
        assert_eq!((m.primary_identifier.as_str(), m.secondary_identifier.as_str()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(
            (m.document_number.as_str(), m.date_of_birth.as_str(), m.date_of_expiry.as_str()),
            ("L898902C3", "740812", "120415")
        );
        assert_eq!((m.sex.as_str(), m.nationality.as_str(), m.optional_data.as_str()), ("F", "UTO", "ZE184226B"));
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        assert!(!m.names_truncated);
        let forged = parse(&TD3.replace("1204159", "1304159")).unwrap();
        assert!(!forged.checks.date_of_expiry && !forged.checks.composite);
    }

    /// ICAO 9303 part 5 appendix A specimen (TD1), part 6 (TD2) and part 7 (MRV-A, MRV-B).
    #[test]
    fn the_td1_td2_and_visa_specimens() {
        let m = parse(TD1).unwrap();
        assert_eq!((m.format, m.document_number.as_str()), (MrzFormat::Td1, "D23145890"));
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        let m = parse(TD2).unwrap();
        assert_eq!(m.format, MrzFormat::Td2);
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        for (text, format) in [(MRV_A, MrzFormat::MrvA), (MRV_B, MrzFormat::MrvB)] {
            let m = parse(text).unwrap();
            assert_eq!(m.format, format);
            assert_eq!((m.document_number.as_str(), m.nationality.as_str()), ("L8988901C", "XXX"));
            assert_eq!((m.date_of_birth.as_str(), m.date_of_expiry.as_str()), ("400907", "961210"));
            assert!(m.checks.all_valid(), "{format:?}: {:?}", m.checks);
        }
        assert_eq!(parse(MRV_A).unwrap().optional_data, "ZE184226B");
        assert_eq!(parse("P<UTO").unwrap_err(), MrzError::Length(5));
        assert_eq!(parse(&"p".repeat(88)).unwrap_err(), MrzError::Alphabet);
    }

    /// A TD1 document number over 9 characters runs on into the optional data (part 5 §4.2.4 note j).
    #[test]
    fn a_long_td1_document_number() {
        let number = "D23145890734";
        let head = &number[..9];
        let tail = &number[9..];
        let digit = check_digit(number).unwrap();
        let l1 = format!("I<UTO{head}<{tail}{digit}");
        let l1 = format!("{l1:<<30}");
        let l2 = "7408122F1204159UTO<<<<<<<<<<<";
        let composite = format!("{}{}{}{}", &l1[5..30], &l2[0..7], &l2[8..15], &l2[18..29]);
        let l2 = format!("{l2}{}", check_digit(&composite).unwrap());
        let m = parse(&format!("{l1}{l2}ERIKSSON<<ANNA<MARIA<<<<<<<<<<")).unwrap();
        assert_eq!(m.document_number, number);
        assert!(m.checks.all_valid(), "{:?}", m.checks);
    }

    #[test]
    fn filler_names_and_truncation() {
        let m = parse(TD1).unwrap();
        assert_eq!((m.primary_identifier.as_str(), m.secondary_identifier.as_str()), ("ERIKSSON", "ANNA MARIA"));
        let long = td3(
            &MrzFields {
                surname: "VANDERSTEEN<MARIANNEVANDEWEG",
                given_names: "ANNA<MARIA<ELISABETH",
                ..specimen("P", "L898902C3")
            },
            "",
        );
        let m = parse(&long).unwrap();
        assert!(m.names_truncated);
        assert_eq!(m.primary_identifier, "VANDERSTEEN MARIANNEVANDEWEG");
        assert_eq!(m.secondary_identifier, "ANNA MARI");
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        // An empty personal number has `<` for its check digit.
        assert_eq!(&long[86..87], "<");
        // A name only, with no secondary identifier.
        let single = td3(&MrzFields { given_names: "", ..specimen("P", "L898902C3") }, "");
        let m = parse(&single).unwrap();
        assert_eq!((m.primary_identifier.as_str(), m.secondary_identifier.as_str()), ("ERIKSSON", ""));
    }

    #[test]
    fn ocr_confusions_are_corrected_only_where_the_check_digits_then_hold() {
        // Letters in dates and check digits, digits in the nationality and the name: certain by position.
        let read = TD3.replace("7408122F1204159", "74O8I22F12O4I59").replace("UTOERIKSSON", "UT0ER1KSSON");
        let (m, corrections) = parse_corrected(&read).unwrap();
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        assert_eq!(m, parse(TD3).unwrap());
        assert_eq!(corrections.len(), 6, "{corrections:?}");
        assert!(corrections.contains(&Correction { line: 1, column: 15, read: 'O', corrected: '0' }));

        // An O read for a 0 in the document number (letters and digits both allowed): only the check digit can
        // tell, and it does.
        let (m, corrections) = parse_corrected(&TD3.replace("L898902C3", "L8989O2C3")).unwrap();
        assert_eq!(m.document_number, "L898902C3");
        assert_eq!(corrections, vec![Correction { line: 1, column: 5, read: 'O', corrected: '0' }]);

        // A genuinely wrong date is not "corrected" into a valid one.
        let wrong = TD3.replace("7408122F", "7408132F");
        let (m, corrections) = parse_corrected(&wrong).unwrap();
        assert!(!m.checks.date_of_birth);
        assert!(corrections.is_empty());
        assert_eq!(m, parse(&wrong).unwrap());

        // Lower case and line breaks from OCR are fine; other characters are not.
        assert!(parse_corrected(&TD3.to_lowercase()).unwrap().0.checks.all_valid());
        assert_eq!(parse_corrected(&TD3.replace('<', "«")).unwrap_err(), MrzError::Alphabet);
    }

    /// No check digit covers the issuing state or the names, so their alphabet alone repairs them, even when
    /// every check holds, and a repair that leaves a check failing is still reported.
    #[test]
    fn letters_only_fields_are_repaired_even_when_every_check_holds() {
        let (m, corrections) = parse_corrected(&TD3.replace("P<UTOERIKSSON", "P<UT0ERIKSS0N")).unwrap();
        assert_eq!((m.issuing_state.as_str(), m.primary_identifier.as_str()), ("UTO", "ERIKSSON"));
        assert!(m.checks.all_valid());
        assert_eq!(
            corrections,
            vec![
                Correction { line: 0, column: 4, read: '0', corrected: 'O' },
                Correction { line: 0, column: 11, read: '0', corrected: 'O' },
            ]
        );
        let (m, corrections) =
            parse_corrected(&TD3.replace("UTOERIKSSON", "UT0ERIKSSON").replace("7408122F", "7408132F")).unwrap();
        assert_eq!(m.issuing_state, "UTO");
        assert!(!m.checks.date_of_birth, "the wrong date still fails its check");
        assert_eq!(corrections.len(), 1);
    }

    /// The French identity card's own 2×36 layout (the specimen's MRZ).
    #[test]
    fn the_french_identity_card() {
        let text = "IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<9409923102854CORINNE<<<<<<<6512068F4";
        let m = parse(text).unwrap();
        assert_eq!(m.format, MrzFormat::FrenchId);
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        assert_eq!((m.document_code.as_str(), m.issuing_state.as_str()), ("ID", "FRA"));
        assert_eq!(m.document_number, "940992310285");
        assert_eq!((m.primary_identifier.as_str(), m.secondary_identifier.as_str()), ("BERTHIER", "CORINNE"));
        assert_eq!((m.date_of_birth.as_str(), m.sex.as_str(), m.date_of_expiry.as_str()), ("651206", "F", ""));
        let (fixed, corrections) =
            parse_corrected(&text.replacen("IDFRA", "1DFRA", 1).replace("6512068", "65I2068")).unwrap();
        assert_eq!(fixed, m);
        assert_eq!(corrections.len(), 2);
        assert!(!parse(&text.replace("6512068", "6512078")).unwrap().checks.composite);
    }

    #[test]
    fn the_td1_generator_writes_what_the_parser_reads() {
        let text = td1(&specimen("I", "D23145890"));
        assert_eq!(text, TD1);
        let m = parse(&text).unwrap();
        assert!(m.checks.all_valid(), "{:?}", m.checks);
        assert_eq!((m.document_number.as_str(), m.secondary_identifier.as_str()), ("D23145890", "ANNA MARIA"));
    }

    #[test]
    fn the_generator_writes_what_the_parser_reads() {
        let text = td3(&specimen("P", "L898902C3"), "ZE184226B");
        assert_eq!(text, TD3);
    }

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

    #[test]
    fn a_holder_reads_without_fillers() {
        // ICAO's TD3 specimen with an unspecified sex and an eight-character document number.
        let m = parse("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<3UTO7408122<1204159ZE184226B<<<<<10")
            .unwrap();
        let h = MrzHolder::of(&m, 2026);
        assert_eq!((h.document_code.as_str(), h.document_number.as_str(), h.sex.as_str()), ("P", "L898902C", ""));
        assert_eq!((h.surname.as_str(), h.given_names.as_str()), ("ERIKSSON", "ANNA MARIA"));
        assert_eq!(h.date_of_birth.as_deref(), Some("1974-08-12"));
        assert_eq!(format!("{h:?}"), "MrzHolder(..)", "Debug shows no personal data");
    }
}
