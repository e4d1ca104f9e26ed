//! Spanish personal tax numbers, as DANAconnect signers carry them: the DNI (8 digits and a check letter), the
//! NIE for foreigners (X, Y or Z, 7 digits, a check letter) and the K, L and M NIFs (a letter, 7 digits, a
//! check letter). The check letter is the number modulo 23 looked up in a fixed table; an NIE's leading X, Y or
//! Z counts as 0, 1 or 2.

const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NifError {
    /// Not 9 characters of the DNI, NIE or K/L/M shape.
    Shape,
    /// The shape is right but the last letter is not the one the number gives.
    CheckLetter { expected: char },
}

impl std::fmt::Display for NifError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NifError::Shape => f.write_str(
                "a NIF is 8 digits and a letter (DNI), X/Y/Z with 7 digits and a letter (NIE), or K/L/M with 7 digits and a letter",
            ),
            NifError::CheckLetter { expected } => write!(f, "the NIF's check letter is wrong (the number gives {expected})"),
        }
    }
}

/// The NIF upper-cased without spaces or hyphens, if its check letter is right.
pub fn validate(nif: &str) -> Result<String, NifError> {
    let clean: String =
        nif.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    let bytes = clean.as_bytes();
    let [first, middle @ .., last] = bytes else { return Err(NifError::Shape) };
    if bytes.len() != 9 || !last.is_ascii_uppercase() {
        return Err(NifError::Shape);
    }
    let digits = |s: &[u8]| -> Option<u32> {
        s.iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    };
    let number = match first {
        b'0'..=b'9' => bytes.get(..8).and_then(digits),
        b'X' | b'Y' | b'Z' => digits(middle).map(|n| u32::from(first - b'X') * 10_000_000 + n),
        b'K' | b'L' | b'M' => digits(middle),
        _ => None,
    }
    .ok_or(NifError::Shape)?;
    let expected = LETTERS.get((number % 23) as usize).copied().map(char::from).unwrap_or('?');
    if char::from(*last) != expected {
        return Err(NifError::CheckLetter { expected });
    }
    Ok(clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dni_nie_and_klm_check_letters() {
        assert_eq!(validate("12345678Z"), Ok("12345678Z".into()));
        assert_eq!(validate(" 12345678-z "), Ok("12345678Z".into()));
        assert_eq!(validate("00000000T"), Ok("00000000T".into()));
        assert_eq!(validate("X1234567L"), Ok("X1234567L".into()));
        assert_eq!(validate("Y1234567X"), Ok("Y1234567X".into()));
        assert_eq!(validate("Z1234567R"), Ok("Z1234567R".into()));
        assert_eq!(validate("K1234567L"), Ok("K1234567L".into()));
        assert_eq!(validate("12345678A"), Err(NifError::CheckLetter { expected: 'Z' }));
        assert_eq!(validate("X1234567A"), Err(NifError::CheckLetter { expected: 'L' }));
        for bad in ["", "1234567Z", "123456789", "A1234567L", "X12345678", "12345678Ñ", "1234567ZZ"] {
            assert_eq!(validate(bad), Err(NifError::Shape), "{bad}");
        }
    }
}
