//! A DIS chip data upload: decoded, inspected (every file parsed, passive and active authentication) with
//! a challenge, as the server does with untrusted uploads.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch_chip::{chip_data, inspection, pki::trust::TrustStore};

fuzz_target!(|data: &[u8]| {
    if let Ok(decoded) = chip_data::decode(data) {
        let _ = inspection::inspect(&decoded, Some(&[1, 2, 3, 4, 5, 6, 7, 8]), &TrustStore::default(), None);
        let _ = chip_data::encode(&decoded);
    }
});
