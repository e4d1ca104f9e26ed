#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]
//! vouch-vision on real models: faces on the public-domain photos (testdata/faces/README.md), the MRZ
//! recogniser on synthetic SPECIMEN pages it never trained on. One test binary for the crate.

mod document;
mod faces;
mod gaze;
mod mrz;
mod real_documents;
