//! The hash functions SODs, certificates and active authentication name, by OID.

use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HashAlgorithm {
    #[serde(rename = "SHA-1")]
    Sha1,
    #[serde(rename = "SHA-224")]
    Sha224,
    #[serde(rename = "SHA-256")]
    Sha256,
    #[serde(rename = "SHA-384")]
    Sha384,
    #[serde(rename = "SHA-512")]
    Sha512,
}

pub const ALL: [HashAlgorithm; 5] =
    [HashAlgorithm::Sha1, HashAlgorithm::Sha224, HashAlgorithm::Sha256, HashAlgorithm::Sha384, HashAlgorithm::Sha512];

impl HashAlgorithm {
    pub fn oid(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "1.3.14.3.2.26",
            HashAlgorithm::Sha224 => "2.16.840.1.101.3.4.2.4",
            HashAlgorithm::Sha256 => "2.16.840.1.101.3.4.2.1",
            HashAlgorithm::Sha384 => "2.16.840.1.101.3.4.2.2",
            HashAlgorithm::Sha512 => "2.16.840.1.101.3.4.2.3",
        }
    }

    pub fn from_oid(oid: &str) -> Option<HashAlgorithm> {
        ALL.into_iter().find(|h| h.oid() == oid)
    }

    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha1 => Sha1::digest(data).to_vec(),
            HashAlgorithm::Sha224 => Sha224::digest(data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The hash identifier of an ISO/IEC 9796-2 two-byte trailer (`xx CC`), from ISO/IEC 10118-3.
    pub fn from_iso9796_id(id: u8) -> Option<HashAlgorithm> {
        Some(match id {
            0x33 => HashAlgorithm::Sha1,
            0x34 => HashAlgorithm::Sha256,
            0x35 => HashAlgorithm::Sha512,
            0x36 => HashAlgorithm::Sha384,
            0x38 => HashAlgorithm::Sha224,
            _ => return None,
        })
    }

    pub fn iso9796_id(self) -> u8 {
        match self {
            HashAlgorithm::Sha1 => 0x33,
            HashAlgorithm::Sha256 => 0x34,
            HashAlgorithm::Sha512 => 0x35,
            HashAlgorithm::Sha384 => 0x36,
            HashAlgorithm::Sha224 => 0x38,
        }
    }
}
