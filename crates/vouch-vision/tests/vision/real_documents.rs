//! The page reader on real document images: `../shared/testdata/documents_dev/` (public specimens, photos and
//! scans, read from there, never copied into the project). Every image with a known MRZ reads exactly; the two
//! without one read as having none. The images are for measuring, not tuning: other real documents are what
//! the product meets.

use std::path::PathBuf;

use vouch_vision::document::DocumentReader;
use vouch_vision::registry::ModelRegistry;

fn dataset() -> PathBuf {
    vouch_testkit::shared_testdata("documents_dev")
}

#[test]
fn every_real_mrz_reads_exactly_and_pages_without_one_read_as_none() {
    let models = vouch_testkit::models_dir();
    let reader = DocumentReader::load(&ModelRegistry::open(&models).unwrap(), 2).unwrap();
    let rows = vouch_vision::document::expected::load(&dataset()).unwrap();
    assert!(rows.len() >= 22, "documents_dev has 22 images: {} rows", rows.len());
    let (mut exact, mut with_mrz, mut none_right, mut without) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    // Rows whose MRZ nobody transcribed (the Austrian card back) are left out.
    for row in rows.iter().filter(|r| !r.unknown()) {
        let (path, want, has_none) = (&row.path, &row.mrz, row.none);
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

/// The Austrian card back in documents_dev is a misprinted specimen: its second line lacks the expiry date's
/// check digit, so everything after the expiry date sits one place early and three checks fail. The reader
/// must say so (an MRZ, read as printed, those checks failing), not that there is no MRZ.
#[test]
fn a_misprinted_mrz_reads_as_printed_with_its_failing_checks_named() {
    let models = vouch_testkit::models_dir();
    let reader = DocumentReader::load(&ModelRegistry::open(&models).unwrap(), 2).unwrap();
    let bytes = std::fs::read(dataset().join("imagejs_mrz_detection/id_fail.png")).unwrap();
    let frame = vouch_vision::decode(&bytes, Default::default()).unwrap();
    let page = reader.read(&frame).unwrap().expect("the card back is read");
    let mrz = page.mrz.expect("its MRZ is found");
    assert_eq!(
        mrz.text(),
        "IDAUT000009993<<<<<<<<<<<<<<<<\n7109094F111231AUT<<<<<<<<<<<<0\nMUSTERFRAU<<ISOLDE<<<<<<<<<<<<"
    );
    assert!(!mrz.valid());
    let c = &mrz.mrz.checks;
    assert_eq!((c.document_number, c.date_of_birth, c.date_of_expiry, c.composite), (false, true, false, false));
    assert_eq!((mrz.mrz.issuing_state.as_str(), mrz.mrz.primary_identifier.as_str()), ("AUT", "MUSTERFRAU"));
}
