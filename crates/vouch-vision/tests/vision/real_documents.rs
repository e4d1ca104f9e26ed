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

#[test]
fn every_real_mrz_reads_exactly_and_pages_without_one_read_as_none() {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
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
