//! The page reader on real document images: `../shared/testdata/documents_dev/` (public specimens, photos and
//! scans, read from there, never copied into the project). Every image with a known MRZ reads exactly; the two
//! without one read as having none. The images are for measuring, not tuning: other real documents are what
//! the product meets.

use std::path::PathBuf;

use vouch_vision::document::DocumentReader;
use vouch_vision::registry::ModelRegistry;

fn dataset() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/documents_dev")
}

/// `expected_mrz.csv`'s rows as (path, MRZ type, expected lines joined by `\n`).
fn expected() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dataset().join("expected_mrz.csv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            // Fields may be quoted (the French card's type holds a comma).
            let mut fields = Vec::new();
            let (mut field, mut quoted) = (String::new(), false);
            for c in line.chars() {
                match c {
                    '"' => quoted = !quoted,
                    ',' if !quoted => fields.push(std::mem::take(&mut field)),
                    c => field.push(c),
                }
            }
            fields.push(field);
            (fields[0].clone(), fields[1].clone(), fields[2].replace('|', "\n"))
        })
        .collect()
}

#[test]
fn every_real_mrz_reads_exactly_and_pages_without_one_read_as_none() {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let reader = DocumentReader::load(&ModelRegistry::open(&models).unwrap(), 2).unwrap();
    let rows = expected();
    assert!(rows.len() >= 22, "documents_dev has 22 images: {} rows", rows.len());
    let (mut exact, mut with_mrz, mut none_right, mut without) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (path, kind, want) in &rows {
        let has_none = kind.eq_ignore_ascii_case("none");
        if want.is_empty() && !has_none {
            continue; // An MRZ nobody transcribed (the Austrian card back).
        }
        let bytes = std::fs::read(dataset().join(path)).unwrap();
        let frame = vouch_vision::decode(&bytes, Default::default()).unwrap();
        let read = reader.read(&frame).unwrap().and_then(|page| page.mrz);
        if has_none {
            without += 1;
            match read {
                None => none_right += 1,
                Some(m) => failures.push(format!("{path}: no MRZ, but read {:?}", m.text())),
            }
            continue;
        }
        with_mrz += 1;
        match read {
            Some(m) if m.text() == *want && m.valid() => exact += 1,
            Some(m) => failures.push(format!("{path}: read {:?} (checks {:?})", m.text(), m.mrz.checks)),
            None => failures.push(format!("{path}: no MRZ read")),
        }
    }
    println!("documents_dev: {exact}/{with_mrz} MRZs exact, {none_right}/{without} without an MRZ read as none");
    assert_eq!((exact, none_right), (with_mrz, without), "{failures:#?}");
    assert_eq!((with_mrz, without), (19, 2));
}
