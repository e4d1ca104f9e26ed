//! EF.SOD and certificates: CMS SignedData, the LDS security object, X.509, and passive authentication over
//! them with an empty trust store.
#![no_main]
use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use vouch_chip::pki::{cms, passive_auth, sod, trust::TrustStore, x509};

fuzz_target!(|data: &[u8]| {
    let _ = sod::parse(data);
    let _ = cms::parse(data);
    let _ = x509::Certificate::parse(data);
    let mut groups = BTreeMap::new();
    groups.insert(1u8, data.get(..data.len().min(64)).unwrap_or_default().to_vec());
    let _ = passive_auth::verify(data, &groups, &TrustStore::default());
});
