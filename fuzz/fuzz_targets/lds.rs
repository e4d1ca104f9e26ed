//! Every LDS parser on the same hostile file: EF.COM, DG1 (MRZ), DG2 (face records), DG7, DG11, DG12,
//! SecurityInfos (EF.CardAccess, DG14) and the DG15 key.
#![no_main]
use libfuzzer_sys::fuzz_target;
use vouch_chip::{lds, security_infos};

fuzz_target!(|data: &[u8]| {
    let _ = lds::parse_com(data);
    let _ = lds::parse_dg1(data);
    let _ = lds::face::parse_dg2(data);
    let _ = lds::face::image_size(data);
    let _ = lds::details::parse_dg7(data);
    let _ = lds::details::parse_dg11(data);
    let _ = lds::details::parse_dg12(data);
    let _ = security_infos::parse(data);
    if let Ok(der) = lds::unwrap_der(data, 0x6F) {
        let _ = vouch_chip::pki::x509::public_key(der);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lds::mrz::parse(text);
    }
});
