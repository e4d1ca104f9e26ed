//! The DIS JSON request bodies, read as their handlers read them (JSON, base64 images and templates, liveness
//! assertions, page advice). The first byte picks the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch_server::adapters::dis::bodies::{read, DisBody};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let kind = DisBody::ALL[usize::from(pick) % DisBody::ALL.len()];
    let _ = read(kind, body);
});
