//! Writing PDF objects for the incremental update. Vouch writes these bytes itself (lopdf only reads) so the
//! signature dictionary's placeholders land exactly where the signer patches them.

use lopdf::{Object, StringFormat};

pub fn object(obj: &Object, out: &mut Vec<u8>) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => out.extend_from_slice(real(f64::from(*r)).as_bytes()),
        Object::Name(n) => name(n, out),
        Object::String(s, StringFormat::Hexadecimal) => {
            out.push(b'<');
            out.extend_from_slice(hex::encode(s).as_bytes());
            out.push(b'>');
        }
        Object::String(s, StringFormat::Literal) => literal(s, out),
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                object(item, out);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => {
            out.extend_from_slice(b"<<");
            for (k, v) in d.iter() {
                out.push(b' ');
                name(k, out);
                out.push(b' ');
                object(v, out);
            }
            out.extend_from_slice(b" >>");
        }
        // Streams are only ever written as whole indirect objects (see `stream`); one nested in a dictionary
        // cannot be expressed, so it becomes null rather than corrupt output.
        Object::Stream(_) => out.extend_from_slice(b"null"),
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

/// A number without exponent, as PDF requires.
pub fn real(v: f64) -> String {
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.into()
    }
}

pub fn name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        let regular = b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b);
        if regular {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

pub fn literal(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// Text for a PDF text string: PDFDocEncoding where it fits (ASCII), else UTF-16BE with its byte-order mark.
pub fn text_string(text: &str) -> Object {
    if text.is_ascii() {
        Object::String(text.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in text.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Text for a content stream shown in Helvetica with WinAnsiEncoding: Latin-1 as is, anything else as '?'.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars().map(|c| if (c as u32) < 0x100 && !c.is_control() { c as u32 as u8 } else { b'?' }).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use lopdf::Dictionary;

    use super::*;

    #[test]
    fn objects_serialise_as_pdf_syntax() {
        let mut d = Dictionary::new();
        d.set("Type", Object::Name(b"Sig".to_vec()));
        d.set("Odd Name", Object::Integer(3));
        d.set("T", Object::String(b"a (b) \\c".to_vec(), StringFormat::Literal));
        d.set("R", Object::Array(vec![Object::Real(1.5), Object::Real(2.0), Object::Reference((4, 0))]));
        let mut out = Vec::new();
        object(&Object::Dictionary(d), &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<< /Type /Sig /Odd#20Name 3 /T (a \\(b\\) \\\\c) /R [1.5 2 4 0 R] >>"
        );
        assert_eq!(real(-0.00001), "0");
        assert_eq!(win_ansi("Zoë 李"), b"Zo\xeb ?".to_vec());
    }
}
