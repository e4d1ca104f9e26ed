//! SecurityInfos (ICAO 9303 part 11 §9.2, BSI TR-03110 part 3 A.1): what EF.CardAccess offers before access
//! control (PACE) and what DG14 offers after it (chip authentication, active authentication's algorithm).

use serde::Serialize;

use crate::asn1::{self, Asn1Error, Cursor};
use crate::crypto::cipher::CipherKind;
use crate::crypto::hash::HashAlgorithm;
use crate::tlv;

pub const ID_PACE: &str = "0.4.0.127.0.7.2.2.4";
pub const ID_CA: &str = "0.4.0.127.0.7.2.2.3";
pub const ID_PK_DH: &str = "0.4.0.127.0.7.2.2.1.1";
pub const ID_PK_ECDH: &str = "0.4.0.127.0.7.2.2.1.2";
pub const ID_AA: &str = "2.23.136.1.1.5";
pub const ECDSA_PLAIN: &str = "0.4.0.127.0.7.1.1.4.1";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Agreement {
    #[serde(rename = "DH")]
    Dh,
    #[serde(rename = "ECDH")]
    Ecdh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mapping {
    #[serde(rename = "GM")]
    Generic,
    #[serde(rename = "IM")]
    Integrated,
    #[serde(rename = "CAM")]
    ChipAuthentication,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaceInfo {
    pub oid: String,
    pub agreement: Agreement,
    pub mapping: Mapping,
    pub cipher: CipherKind,
    pub version: u64,
    /// A BSI TR-03110 standardised domain parameter ID (12 = P-256, 13 = brainpoolP256r1, ...).
    pub parameter_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChipAuthInfo {
    pub oid: String,
    pub agreement: Agreement,
    pub cipher: CipherKind,
    pub version: u64,
    pub key_id: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChipAuthPublicKey {
    pub agreement: Agreement,
    /// The SubjectPublicKeyInfo, whole.
    #[serde(skip)]
    pub spki: Vec<u8>,
    pub key_id: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SecurityInfos {
    pub pace: Vec<PaceInfo>,
    pub chip_auth: Vec<ChipAuthInfo>,
    pub chip_auth_keys: Vec<ChipAuthPublicKey>,
    /// The signature algorithm OID of ActiveAuthenticationInfo (ECDSA active authentication needs it).
    pub active_auth_algorithm: Option<String>,
    /// OIDs of SecurityInfos this reader does not act on (terminal authentication and the like).
    pub other: Vec<String>,
}

fn cipher_of(last: Option<&str>) -> Option<CipherKind> {
    Some(match last? {
        "1" => CipherKind::Des3,
        "2" => CipherKind::Aes128,
        "3" => CipherKind::Aes192,
        "4" => CipherKind::Aes256,
        _ => return None,
    })
}

/// `id-PACE.<mapping>.<cipher>` into its parts.
pub fn pace_protocol(oid: &str) -> Option<(Agreement, Mapping, CipherKind)> {
    let rest = oid.strip_prefix(ID_PACE)?.strip_prefix('.')?;
    let mut parts = rest.split('.');
    let (agreement, mapping) = match parts.next()? {
        "1" => (Agreement::Dh, Mapping::Generic),
        "2" => (Agreement::Ecdh, Mapping::Generic),
        "3" => (Agreement::Dh, Mapping::Integrated),
        "4" => (Agreement::Ecdh, Mapping::Integrated),
        "6" => (Agreement::Ecdh, Mapping::ChipAuthentication),
        _ => return None,
    };
    let cipher = cipher_of(parts.next())?;
    parts.next().is_none().then_some((agreement, mapping, cipher))
}

pub fn pace_oid(agreement: Agreement, mapping: Mapping, cipher: CipherKind) -> String {
    let m = match (agreement, mapping) {
        (Agreement::Dh, Mapping::Generic) => 1,
        (Agreement::Ecdh, Mapping::Generic) => 2,
        (Agreement::Dh, _) => 3,
        (Agreement::Ecdh, Mapping::Integrated) => 4,
        (Agreement::Ecdh, Mapping::ChipAuthentication) => 6,
    };
    format!("{ID_PACE}.{m}.{}", cipher_number(cipher))
}

fn cipher_number(cipher: CipherKind) -> u8 {
    match cipher {
        CipherKind::Des3 => 1,
        CipherKind::Aes128 => 2,
        CipherKind::Aes192 => 3,
        CipherKind::Aes256 => 4,
    }
}

fn ca_protocol(oid: &str) -> Option<(Agreement, CipherKind)> {
    let rest = oid.strip_prefix(ID_CA)?.strip_prefix('.')?;
    let mut parts = rest.split('.');
    let agreement = match parts.next()? {
        "1" => Agreement::Dh,
        "2" => Agreement::Ecdh,
        _ => return None,
    };
    let cipher = cipher_of(parts.next())?;
    parts.next().is_none().then_some((agreement, cipher))
}

pub fn ca_oid(agreement: Agreement, cipher: CipherKind) -> String {
    let a = if agreement == Agreement::Dh { 1 } else { 2 };
    format!("{ID_CA}.{a}.{}", cipher_number(cipher))
}

/// The hash of an `ecdsa-plain-*` signature algorithm OID.
pub fn ecdsa_plain_hash(oid: &str) -> Option<HashAlgorithm> {
    Some(match oid.strip_prefix(ECDSA_PLAIN)?.strip_prefix('.')? {
        "1" => HashAlgorithm::Sha1,
        "2" => HashAlgorithm::Sha224,
        "3" => HashAlgorithm::Sha256,
        "4" => HashAlgorithm::Sha384,
        "5" => HashAlgorithm::Sha512,
        _ => return None,
    })
}

/// EF.CardAccess or DG14's content: `SET OF SecurityInfo`. Unknown entries are kept by OID, not refused.
pub fn parse(bytes: &[u8]) -> Result<SecurityInfos, Asn1Error> {
    let (set, _) = tlv::expect(bytes, asn1::SET)?;
    let mut infos = SecurityInfos::default();
    for item in set.children()? {
        let mut c = Cursor::of(&item, asn1::SEQUENCE, "SecurityInfo")?;
        let oid = c.oid("SecurityInfo protocol")?;
        if let Some((agreement, mapping, cipher)) = pace_protocol(&oid) {
            let version = asn1::uint(c.next(asn1::INTEGER, "PACEInfo version")?.value)?;
            let parameter_id = c.optional(asn1::INTEGER).map(|t| asn1::uint(t.value)).transpose()?;
            infos.pace.push(PaceInfo { oid, agreement, mapping, cipher, version, parameter_id });
        } else if let Some((agreement, cipher)) = ca_protocol(&oid) {
            let version = asn1::uint(c.next(asn1::INTEGER, "ChipAuthenticationInfo version")?.value)?;
            let key_id = c.optional(asn1::INTEGER).map(|t| asn1::uint(t.value)).transpose()?;
            infos.chip_auth.push(ChipAuthInfo { oid, agreement, cipher, version, key_id });
        } else if oid == ID_PK_ECDH || oid == ID_PK_DH {
            let spki = asn1::reencode(&c.next(asn1::SEQUENCE, "ChipAuthenticationPublicKeyInfo key")?);
            let key_id = c.optional(asn1::INTEGER).map(|t| asn1::uint(t.value)).transpose()?;
            let agreement = if oid == ID_PK_ECDH { Agreement::Ecdh } else { Agreement::Dh };
            infos.chip_auth_keys.push(ChipAuthPublicKey { agreement, spki, key_id });
        } else if oid == ID_AA {
            let _version = c.next(asn1::INTEGER, "ActiveAuthenticationInfo version")?;
            infos.active_auth_algorithm = Some(c.oid("ActiveAuthenticationInfo signatureAlgorithm")?);
        } else {
            infos.other.push(oid);
        }
    }
    Ok(infos)
}

pub fn encode_pace_info(info: &PaceInfo) -> Vec<u8> {
    let mut parts = vec![asn1::oid(&info.oid), asn1::int(info.version)];
    if let Some(id) = info.parameter_id {
        parts.push(asn1::int(id));
    }
    asn1::seq(&parts)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// EF.CardAccess of the ICAO 9303 part 11 worked example G.1 (PACE ECDH-GM, AES-128, brainpoolP256r1).
    #[test]
    fn parses_the_worked_example_card_access() {
        let bytes = hex::decode("31143012060A04007F0007020204020202010202010D").unwrap();
        let infos = parse(&bytes).unwrap();
        assert_eq!(
            infos.pace,
            vec![PaceInfo {
                oid: "0.4.0.127.0.7.2.2.4.2.2".into(),
                agreement: Agreement::Ecdh,
                mapping: Mapping::Generic,
                cipher: CipherKind::Aes128,
                version: 2,
                parameter_id: Some(13),
            }]
        );
        assert_eq!(encode_pace_info(&infos.pace[0]), bytes[2..].to_vec());
    }

    #[test]
    fn protocol_oids_round_trip() {
        for cipher in [CipherKind::Des3, CipherKind::Aes128, CipherKind::Aes192, CipherKind::Aes256] {
            let oid = pace_oid(Agreement::Ecdh, Mapping::Generic, cipher);
            assert_eq!(pace_protocol(&oid), Some((Agreement::Ecdh, Mapping::Generic, cipher)));
            assert_eq!(ca_protocol(&ca_oid(Agreement::Ecdh, cipher)), Some((Agreement::Ecdh, cipher)));
        }
        assert_eq!(pace_protocol("0.4.0.127.0.7.2.2.4.9.1"), None);
    }
}
