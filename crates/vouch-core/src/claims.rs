//! Claims an integrator requires the verified person to match (eeID `claims_required`).

use serde::{Deserialize, Serialize};
use time::{macros::format_description, Date};

use crate::case::VerifiedIdentity;
use crate::error::CoreError;

pub const MAX_CLAIMS: usize = 8;
pub const MAX_CLAIM_VALUE_LEN: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ClaimType {
    /// Country-prefixed national identifier or document number, e.g. `EE30303039914`.
    Sub,
    /// Full name in displayable form.
    Name,
    /// ISO 8601 `YYYY-MM-DD`.
    Birthdate,
    /// ISO 3166-1 alpha-2.
    Country,
}

impl ClaimType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClaimType::Sub => "sub",
            ClaimType::Name => "name",
            ClaimType::Birthdate => "birthdate",
            ClaimType::Country => "country",
        }
    }

    pub fn parse(s: &str) -> Option<ClaimType> {
        match s {
            "sub" => Some(ClaimType::Sub),
            "name" => Some(ClaimType::Name),
            "birthdate" => Some(ClaimType::Birthdate),
            "country" => Some(ClaimType::Country),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Claim {
    #[serde(rename = "type")]
    pub claim_type: ClaimType,
    pub value: String,
}

fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::InvalidClaims(msg.into())
}

/// Validates raw `(type, value)` pairs as an integrator sent them.
///
/// Rules: at least one non-empty `sub` (as eeID requires), known types only, no type twice,
/// and each value well-formed for its type.
pub fn validate_claims(raw: &[(String, String)]) -> Result<Vec<Claim>, CoreError> {
    if raw.len() > MAX_CLAIMS {
        return Err(invalid(format!("Claims required must not have more than {MAX_CLAIMS} claims")));
    }
    let mut claims: Vec<Claim> = Vec::with_capacity(raw.len());
    for (raw_type, raw_value) in raw {
        let claim_type = ClaimType::parse(raw_type).ok_or_else(|| {
            invalid(format!("Claim type \"{raw_type}\" is not supported; use one of sub, name, birthdate, country"))
        })?;
        if claims.iter().any(|c| c.claim_type == claim_type) {
            return Err(invalid(format!("Claim type \"{}\" is given more than once", claim_type.as_str())));
        }
        let value = raw_value.trim().to_string();
        if value.is_empty() {
            return Err(invalid(format!("Claim \"{}\" must have a non-empty value", claim_type.as_str())));
        }
        if value.chars().count() > MAX_CLAIM_VALUE_LEN {
            return Err(invalid(format!(
                "Claim \"{}\" must not be longer than {MAX_CLAIM_VALUE_LEN} characters",
                claim_type.as_str()
            )));
        }
        check_value(claim_type, &value)?;
        claims.push(Claim { claim_type, value });
    }
    if !claims.iter().any(|c| c.claim_type == ClaimType::Sub) {
        return Err(invalid("Claims required must include at least one claim of type \"sub\" with a non-empty value"));
    }
    Ok(claims)
}

fn check_value(claim_type: ClaimType, value: &str) -> Result<(), CoreError> {
    match claim_type {
        ClaimType::Sub => check_sub(value),
        ClaimType::Name => {
            if value.chars().any(char::is_control) {
                return Err(invalid("Claim \"name\" must not contain control characters"));
            }
            Ok(())
        }
        ClaimType::Birthdate => parse_date(value)
            .map(|_| ())
            .ok_or_else(|| invalid("Claim \"birthdate\" must be a date in YYYY-MM-DD format")),
        ClaimType::Country => {
            if is_alpha2(value) {
                Ok(())
            } else {
                Err(invalid("Claim \"country\" must be an ISO 3166-1 alpha-2 code such as EE"))
            }
        }
    }
}

fn is_alpha2(value: &str) -> bool {
    value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase())
}

/// `sub` is a country prefix and an identifier. Estonian personal codes are checked in full,
/// because a typo in one is the most common reason an identification later fails to match.
fn check_sub(value: &str) -> Result<(), CoreError> {
    let (prefix, rest) = value.split_at_checked(2).unwrap_or(("", ""));
    if !is_alpha2(prefix) || rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(invalid(
            "Claim \"sub\" must be a country code followed by the personal or document number, e.g. EE30303039914",
        ));
    }
    if prefix == "EE" && rest.len() == 11 && rest.bytes().all(|b| b.is_ascii_digit()) && !estonian_code_valid(rest) {
        return Err(invalid("Claim \"sub\" is not a valid Estonian personal identification code"));
    }
    Ok(())
}

/// Estonian isikukood check digit (two-pass weighted modulo 11).
pub fn estonian_code_valid(code: &str) -> bool {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 11 {
        return false;
    }
    let weighted = |weights: [u32; 10]| -> u32 { digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11 };
    let mut check = weighted([1, 2, 3, 4, 5, 6, 7, 8, 9, 1]);
    if check == 10 {
        check = weighted([3, 4, 5, 6, 7, 8, 9, 1, 2, 3]);
        if check == 10 {
            check = 0;
        }
    }
    digits.last() == Some(&check)
}

pub fn parse_date(value: &str) -> Option<Date> {
    Date::parse(value, format_description!("[year]-[month]-[day]")).ok()
}

fn normalise_name(s: &str) -> String {
    s.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// Whether `identity` satisfies every claim. Names match in either order, ignoring case and spacing.
pub fn check_satisfied(claims: &[Claim], identity: &VerifiedIdentity) -> Result<(), CoreError> {
    for claim in claims {
        let ok = match claim.claim_type {
            ClaimType::Sub => identity.sub.as_deref().is_some_and(|s| s.eq_ignore_ascii_case(&claim.value)),
            ClaimType::Name => {
                let wanted = normalise_name(&claim.value);
                let given_first = normalise_name(&format!("{} {}", identity.given_name, identity.family_name));
                let family_first = normalise_name(&format!("{} {}", identity.family_name, identity.given_name));
                wanted == given_first || wanted == family_first
            }
            ClaimType::Birthdate => {
                identity.date_of_birth.is_some() && identity.date_of_birth == parse_date(&claim.value)
            }
            ClaimType::Country => identity.country.as_deref() == Some(claim.value.as_str()),
        };
        if !ok {
            return Err(CoreError::ClaimNotSatisfied { claim: claim.claim_type.as_str().to_string() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(t, v)| (t.to_string(), v.to_string())).collect()
    }

    #[test]
    fn accepts_a_valid_estonian_sub_and_other_claims() {
        let claims = validate_claims(&raw(&[
            ("sub", "EE30303039914"),
            ("name", "OK TESTNUMBER"),
            ("birthdate", "1903-03-03"),
            ("country", "EE"),
        ]));
        assert_eq!(claims.map(|c| c.len()), Ok(4));
    }

    #[test]
    fn rejects_missing_sub_unknown_type_duplicates_and_bad_values() {
        assert!(validate_claims(&[]).is_err());
        assert!(validate_claims(&raw(&[("name", "A B")])).is_err());
        assert!(validate_claims(&raw(&[("sub", "  ")])).is_err());
        assert!(validate_claims(&raw(&[("sub", "EE30303039914"), ("email", "x")])).is_err());
        assert!(validate_claims(&raw(&[("sub", "EE30303039914"), ("sub", "EE30303039914")])).is_err());
        assert!(validate_claims(&raw(&[("sub", "EE30303039915")])).is_err(), "bad check digit");
        assert!(validate_claims(&raw(&[("sub", "30303039914")])).is_err(), "no country prefix");
        assert!(validate_claims(&raw(&[("sub", "EE1"), ("birthdate", "2001-02-30")])).is_err());
        assert!(validate_claims(&raw(&[("sub", "EE1"), ("country", "est")])).is_err());
    }

    #[test]
    fn estonian_check_digit_is_verified() {
        assert!(estonian_code_valid("30303039914"));
        assert!(estonian_code_valid("37605030299"));
        assert!(!estonian_code_valid("37605030290"));
    }

    #[test]
    fn satisfaction_checks_every_claim() {
        let claims = validate_claims(&raw(&[("sub", "EE30303039914"), ("name", "testnumber ok")])).unwrap_or_default();
        let mut id = VerifiedIdentity {
            sub: Some("EE30303039914".into()),
            given_name: "OK".into(),
            family_name: "TESTNUMBER".into(),
            date_of_birth: None,
            country: Some("EE".into()),
            document_expires: None,
            authentication_type: "PASSPORT".into(),
            acr: "substantial".into(),
        };
        assert_eq!(check_satisfied(&claims, &id), Ok(()));
        id.sub = Some("EE37605030299".into());
        assert!(check_satisfied(&claims, &id).is_err());
    }
}
