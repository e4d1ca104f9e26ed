//! The bounded BER-TLV reader: any bytes give elements or an error, never a panic or an endless descent.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch_chip::tlv;

fuzz_target!(|data: &[u8]| {
    let _ = tlv::header(data);
    if let Ok(all) = tlv::parse_all(data) {
        for element in all {
            let _ = element.children();
        }
    }
    let _ = tlv::find(data, 0x5F2E);
});
