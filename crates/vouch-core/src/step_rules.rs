//! Each step kind's pass/fail rule, pure: what was measured and today's date in, a verdict out. The kiosk's
//! commands, the vendor adapters and the tests all decide through these, so one rule holds everywhere and
//! a boundary date can be tested without a clock.

use serde::Serialize;
use time::Date;

use crate::flow::StepOutcome;
use crate::mrz::{self, Mrz};

/// Why a step failed, as the step's detail names it (`"failures": [...]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// A check digit of the MRZ (page or chip DG1) does not hold.
    MrzCheckDigits,
    /// The document's expiry date is before today.
    DocumentExpired,
    /// Passive authentication did not show the chip's data as signed by a trusted issuer.
    DataNotAuthenticated,
    /// Chip (or active) authentication showed the chip to be a copy.
    ChipAuthenticationFailed,
    /// The chip's data cannot be parsed at all (no readable DG1 or SOD).
    LdsParseError,
}

impl Failure {
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::MrzCheckDigits => "mrz_check_digits",
            Failure::DocumentExpired => "document_expired",
            Failure::DataNotAuthenticated => "data_not_authenticated",
            Failure::ChipAuthenticationFailed => "chip_authentication_failed",
            Failure::LdsParseError => "lds_parse_error",
        }
    }
}

/// A step's verdict: passed when nothing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub outcome: StepOutcome,
    pub failures: Vec<Failure>,
    /// Whether the document had expired; `None` when its expiry date could not be read.
    pub expired: Option<bool>,
}

impl Verdict {
    fn of(failures: Vec<Failure>, expired: Option<bool>) -> Verdict {
        let outcome = if failures.is_empty() { StepOutcome::Passed } else { StepOutcome::Failed };
        Verdict { outcome, failures, expired }
    }

    pub fn failure_codes(&self) -> Vec<&'static str> {
        self.failures.iter().map(|f| f.as_str()).collect()
    }
}

/// A document is valid through its expiry date and expired from the day after.
pub fn expired_on(expiry: Date, today: Date) -> bool {
    expiry < today
}

/// Whether an ISO 8601 calendar date (`YYYY-MM-DD`, as the chip's holder data gives it) is before today;
/// `None` when it is not such a date.
pub fn iso_expired(expiry: &str, today: Date) -> Option<bool> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(expiry, &format).ok().map(|date| expired_on(date, today))
}

/// Whether an MRZ's expiry date (`YYMMDD`, its century taken within 50 years of today) is before today;
/// `None` when it is not a date (a French identity card has none).
pub fn mrz_expired(parsed: &Mrz, today: Date) -> Option<bool> {
    iso_expired(&mrz::iso_date(&parsed.date_of_expiry, false, today.year())?, today)
}

/// The document page step (and the page MRZ a clerk types): its check digits hold and it has not expired.
pub fn document_page(parsed: &Mrz, today: Date) -> Verdict {
    let expired = mrz_expired(parsed, today);
    let mut failures = Vec::new();
    if !parsed.checks.all_valid() {
        failures.push(Failure::MrzCheckDigits);
    }
    if expired == Some(true) {
        failures.push(Failure::DocumentExpired);
    }
    Verdict::of(failures, expired)
}

/// What a chip read established, as the chip step weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChipFacts<'a> {
    /// Passive authentication: the data is signed by a CSCA in the trust store.
    pub data_authenticated: bool,
    /// Chip or active authentication ran and failed.
    pub chip_authentication_denied: bool,
    /// DG1's expiry date, `YYYY-MM-DD`.
    pub date_of_expiry: Option<&'a str>,
    pub mrz_check_digits_valid: bool,
}

/// The chip step: authenticated data, no failed chip authentication, not expired, DG1's check digits hold.
/// A chip that has not run chip authentication is not failed for it: older passports have none.
pub fn chip(facts: ChipFacts<'_>, today: Date) -> Verdict {
    let expired = facts.date_of_expiry.and_then(|d| iso_expired(d, today));
    let mut failures = Vec::new();
    if !facts.data_authenticated {
        failures.push(Failure::DataNotAuthenticated);
    }
    if facts.chip_authentication_denied {
        failures.push(Failure::ChipAuthenticationFailed);
    }
    if expired == Some(true) {
        failures.push(Failure::DocumentExpired);
    }
    if !facts.mrz_check_digits_valid {
        failures.push(Failure::MrzCheckDigits);
    }
    Verdict::of(failures, expired)
}

/// The face match step: the calibrated score reaches the step's threshold (0.5 is the calibrated match point).
pub fn face_match(score: f32, threshold: f64) -> StepOutcome {
    if f64::from(score) >= threshold {
        StepOutcome::Passed
    } else {
        StepOutcome::Failed
    }
}

/// The duplicate check: passes unless the best match among enrolled persons (if any) reaches the threshold.
pub fn duplicate_check(best: Option<f32>, threshold: f64) -> StepOutcome {
    match best {
        Some(score) if f64::from(score) >= threshold => StepOutcome::Failed,
        _ => StepOutcome::Passed,
    }
}

/// What happens after one liveness attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivenessAttempt {
    /// The attempt failed and the customer may try again this many more times; nothing is recorded yet.
    Retry { attempts_left: u32 },
    /// The step is recorded with this outcome after `attempts` attempts.
    Record { outcome: StepOutcome, attempts: u32 },
}

/// A liveness step passes on the first attempt that passes and fails once `allowed` attempts have failed.
/// `failed_before` counts the failed attempts before this one.
pub fn liveness_attempt(passed: bool, failed_before: u32, allowed: u32) -> LivenessAttempt {
    let failed = failed_before + u32::from(!passed);
    if passed {
        LivenessAttempt::Record { outcome: StepOutcome::Passed, attempts: failed + 1 }
    } else if failed >= allowed {
        LivenessAttempt::Record { outcome: StepOutcome::Failed, attempts: failed }
    } else {
        LivenessAttempt::Retry { attempts_left: allowed - failed }
    }
}

/// The ISO signature record's T channel counts milliseconds in 16 bits: a longer signing is not one.
pub const SIGNATURE_MAX_DURATION_MS: f64 = 60_000.0;
/// Fewer pen-down samples than this is a dot or a tap, not a signature.
pub const SIGNATURE_MIN_DOWN_SAMPLES: usize = 12;
/// Less ink than this (millimetres on the pad) is a tick or a dot.
pub const SIGNATURE_MIN_INK_MM: f64 = 25.0;
/// A signature narrower and lower than this (millimetres) is a scribble in one spot.
pub const SIGNATURE_MIN_EXTENT_MM: f64 = 8.0;

/// What a handwritten signature measured, for the signature step's rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InkFacts {
    /// Time of the last sample, from the first.
    pub duration_ms: f64,
    pub strokes: usize,
    /// Samples with the tip on the pad.
    pub down_samples: usize,
    /// Length of the ink, in millimetres on the pad.
    pub ink_mm: f64,
    pub width_mm: f64,
    pub height_mm: f64,
}

/// Why a drawing is not accepted as a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFault {
    /// No stroke touched the pad.
    Empty,
    /// A dot, a tick or a scribble in one spot.
    TooShort,
    /// Longer than a signing takes (and than its record can hold).
    TooLong,
}

/// The signature step: a drawing is a signature when it took less than a minute, touched the pad, and left
/// enough ink over enough of the pad.
pub fn signature(ink: &InkFacts) -> Result<(), SignatureFault> {
    if ink.duration_ms > SIGNATURE_MAX_DURATION_MS {
        return Err(SignatureFault::TooLong);
    }
    if ink.strokes == 0 {
        return Err(SignatureFault::Empty);
    }
    let in_one_spot = ink.width_mm < SIGNATURE_MIN_EXTENT_MM && ink.height_mm < SIGNATURE_MIN_EXTENT_MM;
    if ink.down_samples < SIGNATURE_MIN_DOWN_SAMPLES || ink.ink_mm < SIGNATURE_MIN_INK_MM || in_one_spot {
        return Err(SignatureFault::TooShort);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use time::macros::date;

    use super::*;

    /// ICAO's TD3 specimen (expiry 2012-04-15) with every check digit holding.
    const TD3: &str = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10";

    #[test]
    fn a_document_is_valid_through_its_expiry_date() {
        let expiry = date!(2012 - 04 - 15);
        assert!(!expired_on(expiry, date!(2012 - 04 - 14)));
        assert!(!expired_on(expiry, expiry));
        assert!(expired_on(expiry, date!(2012 - 04 - 16)));
    }

    #[test]
    fn iso_expiry_dates_and_what_is_not_one() {
        assert_eq!(iso_expired("2031-01-31", date!(2031 - 01 - 31)), Some(false));
        assert_eq!(iso_expired("2031-01-31", date!(2031 - 02 - 01)), Some(true));
        assert_eq!(iso_expired("2031-02-30", date!(2026 - 01 - 01)), None);
        assert_eq!(iso_expired("310131", date!(2026 - 01 - 01)), None);
    }

    #[test]
    fn the_page_passes_on_its_last_valid_day_and_fails_the_day_after() {
        let m = mrz::parse(TD3).unwrap();
        let on_the_day = document_page(&m, date!(2012 - 04 - 15));
        assert_eq!((on_the_day.outcome, on_the_day.expired), (StepOutcome::Passed, Some(false)));
        let after = document_page(&m, date!(2012 - 04 - 16));
        assert_eq!((after.outcome, after.failure_codes()), (StepOutcome::Failed, vec!["document_expired"]));
    }

    #[test]
    fn an_mrz_expiry_takes_its_century_from_today() {
        // "12" is 2012 seen from 2026 (within 50 years), and 2112 is never chosen for it.
        let m = mrz::parse(TD3).unwrap();
        assert_eq!(mrz_expired(&m, date!(2026 - 12 - 04)), Some(true));
        assert_eq!(mrz_expired(&m, date!(2011 - 01 - 01)), Some(false));
    }

    #[test]
    fn a_page_whose_check_digits_fail_fails_even_when_current() {
        let bad = TD3.replace("L898902C36", "L898902C37");
        let m = mrz::parse(&bad).unwrap();
        let verdict = document_page(&m, date!(2010 - 01 - 01));
        assert_eq!(verdict.failure_codes(), vec!["mrz_check_digits"]);
    }

    #[test]
    fn a_french_identity_card_has_no_expiry_and_is_not_expired_for_it() {
        let m = mrz::parse("IDFRABERTHIER<<<<<<<<<<<<<<<<<<<<<<<\n9409923102854CORINNE<<<<<<<6512068F4").unwrap();
        let verdict = document_page(&m, date!(2026 - 12 - 04));
        assert_eq!((verdict.outcome, verdict.expired), (StepOutcome::Passed, None));
    }

    fn facts(expiry: &str) -> ChipFacts<'_> {
        ChipFacts {
            data_authenticated: true,
            chip_authentication_denied: false,
            date_of_expiry: Some(expiry),
            mrz_check_digits_valid: true,
        }
    }

    #[test]
    fn a_chip_passes_with_authenticated_current_data() {
        let verdict = chip(facts("2030-06-30"), date!(2030 - 06 - 30));
        assert_eq!((verdict.outcome, verdict.expired), (StepOutcome::Passed, Some(false)));
    }

    #[test]
    fn each_chip_failure_is_named_in_order() {
        let all_wrong = ChipFacts {
            data_authenticated: false,
            chip_authentication_denied: true,
            date_of_expiry: Some("2030-06-30"),
            mrz_check_digits_valid: false,
        };
        let verdict = chip(all_wrong, date!(2030 - 07 - 01));
        assert_eq!(
            verdict.failure_codes(),
            vec!["data_not_authenticated", "chip_authentication_failed", "document_expired", "mrz_check_digits"]
        );
        let unreadable_expiry = chip(ChipFacts { date_of_expiry: None, ..facts("") }, date!(2030 - 07 - 01));
        assert_eq!((unreadable_expiry.outcome, unreadable_expiry.expired), (StepOutcome::Passed, None));
    }

    #[test]
    fn a_face_match_passes_at_its_threshold() {
        assert_eq!(face_match(0.5, 0.5), StepOutcome::Passed);
        assert_eq!(face_match(0.499, 0.5), StepOutcome::Failed);
        assert_eq!(face_match(0.9, 0.95), StepOutcome::Failed);
    }

    #[test]
    fn a_duplicate_check_fails_when_someone_reaches_its_threshold() {
        assert_eq!(duplicate_check(None, 0.75), StepOutcome::Passed);
        assert_eq!(duplicate_check(Some(0.749), 0.75), StepOutcome::Passed);
        assert_eq!(duplicate_check(Some(0.75), 0.75), StepOutcome::Failed);
        assert_eq!(duplicate_check(Some(0.99), 0.75), StepOutcome::Failed);
    }

    #[test]
    fn liveness_passes_at_once_and_fails_after_its_allowed_attempts() {
        assert_eq!(liveness_attempt(true, 0, 3), LivenessAttempt::Record { outcome: StepOutcome::Passed, attempts: 1 });
        assert_eq!(liveness_attempt(true, 2, 3), LivenessAttempt::Record { outcome: StepOutcome::Passed, attempts: 3 });
        assert_eq!(liveness_attempt(false, 0, 3), LivenessAttempt::Retry { attempts_left: 2 });
        assert_eq!(liveness_attempt(false, 1, 3), LivenessAttempt::Retry { attempts_left: 1 });
        assert_eq!(
            liveness_attempt(false, 2, 3),
            LivenessAttempt::Record { outcome: StepOutcome::Failed, attempts: 3 }
        );
    }

    fn ink() -> InkFacts {
        InkFacts { duration_ms: 2_000.0, strokes: 3, down_samples: 270, ink_mm: 120.0, width_mm: 60.0, height_mm: 15.0 }
    }

    #[test]
    fn a_signature_takes_under_a_minute_and_touches_the_pad() {
        assert_eq!(signature(&ink()), Ok(()));
        let minute = InkFacts { duration_ms: SIGNATURE_MAX_DURATION_MS, ..ink() };
        assert_eq!(signature(&minute), Ok(()));
        let longer = InkFacts { duration_ms: SIGNATURE_MAX_DURATION_MS + 1.0, ..ink() };
        assert_eq!(signature(&longer), Err(SignatureFault::TooLong));
        let hover = InkFacts { strokes: 0, down_samples: 0, ink_mm: 0.0, width_mm: 0.0, height_mm: 0.0, ..ink() };
        assert_eq!(signature(&hover), Err(SignatureFault::Empty));
    }

    #[test]
    fn a_dot_a_tick_or_a_scribble_in_one_spot_is_too_short() {
        let few = InkFacts { down_samples: SIGNATURE_MIN_DOWN_SAMPLES - 1, ..ink() };
        assert_eq!(signature(&few), Err(SignatureFault::TooShort));
        let enough = InkFacts { down_samples: SIGNATURE_MIN_DOWN_SAMPLES, ..ink() };
        assert_eq!(signature(&enough), Ok(()));
        let tick = InkFacts { ink_mm: SIGNATURE_MIN_INK_MM - 0.1, ..ink() };
        assert_eq!(signature(&tick), Err(SignatureFault::TooShort));
        let spot =
            InkFacts { width_mm: SIGNATURE_MIN_EXTENT_MM - 0.1, height_mm: SIGNATURE_MIN_EXTENT_MM - 0.1, ..ink() };
        assert_eq!(signature(&spot), Err(SignatureFault::TooShort));
        // Narrow but tall (or wide but low) is still a signature.
        let narrow = InkFacts { width_mm: 2.0, height_mm: SIGNATURE_MIN_EXTENT_MM, ..ink() };
        assert_eq!(signature(&narrow), Ok(()));
    }
}
