//! The PNG and JPEG header reader that sizes an upload before any pixel buffer is allocated.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch_core::image_header::{dimensions, HeaderFormat};

fuzz_target!(|data: &[u8]| {
    let _ = dimensions(data, HeaderFormat::Png);
    let _ = dimensions(data, HeaderFormat::Jpeg);
});
