//! The MRZ parser, as the page reader and a clerk's typed MRZ feed it: any text, strict and with repairs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = vouch_core::mrz::parse(text);
        let _ = vouch_core::mrz::parse_corrected(text);
    }
});
