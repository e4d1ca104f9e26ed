//! EF.SOD (ICAO 9303 part 10 §4.6.2): CMS SignedData over the LDSSecurityObject, the hash of every data group.

use std::collections::BTreeMap;

use crate::asn1::{self, Asn1Error, Cursor};
use crate::crypto::hash::HashAlgorithm;
use crate::tlv;

use super::cms::{self, SignedData};
use super::x509::PkiError;

pub const LDS_SECURITY_OBJECT: &str = "2.23.136.1.1.1";
/// EF.SOD's application tag around the ContentInfo.
pub const TAG: u32 = 0x77;

#[derive(Debug, Clone)]
pub struct Sod {
    pub signed: SignedData,
    pub hash: HashAlgorithm,
    /// Data group number to its hash.
    pub hashes: BTreeMap<u8, Vec<u8>>,
}

pub fn parse(ef_sod: &[u8]) -> Result<Sod, PkiError> {
    let (outer, _) = tlv::expect(ef_sod, TAG)?;
    let signed = cms::parse(outer.value)?;
    if signed.content_type != LDS_SECURITY_OBJECT {
        return Err(Asn1Error::Malformed("SOD content is not an LDSSecurityObject").into());
    }
    let (lso, _) = tlv::expect(&signed.content, asn1::SEQUENCE)?;
    let mut c = Cursor::new(lso.value)?;
    let _version = c.next(asn1::INTEGER, "LDSSecurityObject version")?;
    let mut alg = Cursor::of(&c.next(asn1::SEQUENCE, "hashAlgorithm")?, asn1::SEQUENCE, "hashAlgorithm")?;
    let oid = alg.oid("hashAlgorithm OID")?;
    let hash = HashAlgorithm::from_oid(&oid).ok_or(PkiError::Unsupported(oid))?;
    let mut hashes = BTreeMap::new();
    for dgh in c.next(asn1::SEQUENCE, "dataGroupHashValues")?.children()? {
        let mut d = Cursor::of(&dgh, asn1::SEQUENCE, "DataGroupHash")?;
        let number = asn1::uint(d.next(asn1::INTEGER, "dataGroupNumber")?.value)?;
        let number = u8::try_from(number)
            .ok()
            .filter(|n| (1..=16).contains(n))
            .ok_or(Asn1Error::Malformed("dataGroupNumber"))?;
        let value = d.next(asn1::OCTET_STRING, "dataGroupHashValue")?.value.to_vec();
        if value.len() != hash.output_len() {
            return Err(Asn1Error::Malformed("dataGroupHashValue length").into());
        }
        hashes.insert(number, value);
    }
    Ok(Sod { signed, hash, hashes })
}

/// The LDSSecurityObject for a set of data groups (the test-passport generator signs it).
pub fn lds_security_object(hash: HashAlgorithm, groups: &BTreeMap<u8, Vec<u8>>) -> Vec<u8> {
    let entries: Vec<Vec<u8>> = groups
        .iter()
        .map(|(n, bytes)| asn1::seq(&[asn1::int(u64::from(*n)), asn1::octets(&hash.digest(bytes))]))
        .collect();
    asn1::seq(&[asn1::int(0), asn1::seq(&[asn1::oid(hash.oid()), asn1::null()]), asn1::seq(&entries)])
}
