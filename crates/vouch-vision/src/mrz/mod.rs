//! Reading the MRZ printed on a document page: sampling each character cell of a located line out of the
//! frame ([`cells`]) and recognising it with Vouch's own OCR-B model, `mrz_ocr.onnx`, trained by
//! `models/train/train_mrz.py` ([`recognise`]). The check digits and OCR repairs are `vouch_core::mrz`'s.

pub mod cells;
pub mod recognise;

pub use cells::{luma, GreyFrame, LineGeometry};
pub use recognise::{CharReading, LineReading, MrzRecogniser, CLASSES, MODEL_FILE};
