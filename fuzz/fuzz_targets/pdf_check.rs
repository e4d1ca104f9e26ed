//! The checks every PDF to be signed passes before anything else reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vouch_signature::pdf::check(data);
});
