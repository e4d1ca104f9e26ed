//! The machine-readable zone as DG1 holds it: the parser is `vouch_core::mrz`, shared with page OCR and typed
//! access data.

pub use vouch_core::mrz::*;
