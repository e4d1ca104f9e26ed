//! An ISO/IEC 19794-7 signature record from outside (a DANAconnect or MasStack biometric_data upload).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(record) = vouch_signature::iso19794_7::SignRecord::decode(data) {
        let _ = record.encode();
    }
});
