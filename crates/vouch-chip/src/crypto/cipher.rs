//! The two cipher families of secure messaging (ICAO 9303 part 11 §9.8): two-key 3DES with the retail MAC, and
//! AES-128/192/256 with CMAC truncated to 8 bytes. Key derivation (§9.7.1) picks SHA-1 or SHA-256 by key size.

use aes::cipher::generic_array::GenericArray;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes::{Aes128, Aes192, Aes256};
use cmac::{Cmac, Mac};
use serde::Serialize;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::des3::{self, CryptoError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CipherKind {
    #[serde(rename = "3DES")]
    Des3,
    #[serde(rename = "AES-128")]
    Aes128,
    #[serde(rename = "AES-192")]
    Aes192,
    #[serde(rename = "AES-256")]
    Aes256,
}

pub const KDF_ENC: u32 = 1;
pub const KDF_MAC: u32 = 2;
/// The PACE password key K_π.
pub const KDF_PI: u32 = 3;

impl CipherKind {
    pub fn name(self) -> &'static str {
        match self {
            CipherKind::Des3 => "3DES",
            CipherKind::Aes128 => "AES-128",
            CipherKind::Aes192 => "AES-192",
            CipherKind::Aes256 => "AES-256",
        }
    }

    pub fn key_len(self) -> usize {
        match self {
            CipherKind::Des3 | CipherKind::Aes128 => 16,
            CipherKind::Aes192 => 24,
            CipherKind::Aes256 => 32,
        }
    }

    pub fn block(self) -> usize {
        match self {
            CipherKind::Des3 => 8,
            _ => 16,
        }
    }

    /// KDF(K, c) = H(K ‖ c), cut to the key length: SHA-1 up to 128-bit keys, SHA-256 above.
    pub fn kdf(self, secret: &[u8], counter: u32) -> Vec<u8> {
        if self == CipherKind::Des3 {
            return des3::derive_key(secret, counter).to_vec();
        }
        let digest: Vec<u8> = if self.key_len() <= 16 {
            let mut h = Sha1::new();
            h.update(secret);
            h.update(counter.to_be_bytes());
            h.finalize().to_vec()
        } else {
            let mut h = Sha256::new();
            h.update(secret);
            h.update(counter.to_be_bytes());
            h.finalize().to_vec()
        };
        digest.into_iter().take(self.key_len()).collect()
    }
}

/// A key of one cipher family, able to CBC-encrypt and MAC. Keys never reach a log.
#[derive(Clone)]
pub struct Key {
    pub kind: CipherKind,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key({:?})", self.kind)
    }
}

enum Aes {
    A128(Box<Aes128>),
    A192(Box<Aes192>),
    A256(Box<Aes256>),
}

impl Aes {
    fn new(key: &[u8]) -> Result<Aes, CryptoError> {
        Ok(match key.len() {
            16 => Aes::A128(Box::new(Aes128::new_from_slice(key).map_err(|_| CryptoError::Length)?)),
            24 => Aes::A192(Box::new(Aes192::new_from_slice(key).map_err(|_| CryptoError::Length)?)),
            32 => Aes::A256(Box::new(Aes256::new_from_slice(key).map_err(|_| CryptoError::Length)?)),
            _ => return Err(CryptoError::Length),
        })
    }
    fn encrypt_block(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(c) => c.encrypt_block(b),
            Aes::A192(c) => c.encrypt_block(b),
            Aes::A256(c) => c.encrypt_block(b),
        }
    }
    fn decrypt_block(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Aes::A128(c) => c.decrypt_block(b),
            Aes::A192(c) => c.decrypt_block(b),
            Aes::A256(c) => c.decrypt_block(b),
        }
    }
}

/// AES-CMAC truncated to the 8 bytes secure messaging uses.
macro_rules! cmac8 {
    ($cipher:ty, $key:expr, $data:expr) => {{
        let mut mac = <Cmac<$cipher> as Mac>::new_from_slice($key).map_err(|_| CryptoError::Length)?;
        mac.update($data);
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 8];
        out.copy_from_slice(full.get(..8).ok_or(CryptoError::Length)?);
        Ok(out)
    }};
}

impl Key {
    pub fn new(kind: CipherKind, bytes: Vec<u8>) -> Result<Key, CryptoError> {
        if bytes.len() != kind.key_len() {
            return Err(CryptoError::Length);
        }
        Ok(Key { kind, bytes })
    }

    pub fn des3(bytes: [u8; 16]) -> Key {
        Key { kind: CipherKind::Des3, bytes: bytes.to_vec() }
    }

    /// The key K = KDF(secret, counter) of this family.
    pub fn derive(kind: CipherKind, secret: &[u8], counter: u32) -> Key {
        Key { kind, bytes: kind.kdf(secret, counter) }
    }

    fn des_key(&self) -> Result<[u8; 16], CryptoError> {
        self.bytes.as_slice().try_into().map_err(|_| CryptoError::Length)
    }

    /// Whole blocks and an IV of one block, the block size of this family.
    fn check_cbc(&self, data: &[u8], iv: &[u8]) -> Result<usize, CryptoError> {
        let block = self.kind.block();
        if !data.len().is_multiple_of(block) || iv.len() != block {
            return Err(CryptoError::Length);
        }
        Ok(block)
    }

    pub fn encrypt_cbc(&self, data: &[u8], iv: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let block = self.check_cbc(data, iv)?;
        if self.kind == CipherKind::Des3 {
            let iv: [u8; 8] = iv.try_into().map_err(|_| CryptoError::Length)?;
            return des3::encrypt_cbc(&self.des_key()?, data, iv);
        }
        let aes = Aes::new(&self.bytes)?;
        let mut out = data.to_vec();
        let mut prev = iv.to_vec();
        for chunk in out.chunks_exact_mut(block) {
            chunk.iter_mut().zip(&prev).for_each(|(a, b)| *a ^= b);
            aes.encrypt_block(chunk);
            prev.copy_from_slice(chunk);
        }
        Ok(out)
    }

    pub fn decrypt_cbc(&self, data: &[u8], iv: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let block = self.check_cbc(data, iv)?;
        if self.kind == CipherKind::Des3 {
            let iv: [u8; 8] = iv.try_into().map_err(|_| CryptoError::Length)?;
            return des3::decrypt_cbc(&self.des_key()?, data, iv);
        }
        let aes = Aes::new(&self.bytes)?;
        let mut out = data.to_vec();
        let mut prev = iv.to_vec();
        for chunk in out.chunks_exact_mut(block) {
            let this = chunk.to_vec();
            aes.decrypt_block(chunk);
            chunk.iter_mut().zip(&prev).for_each(|(a, b)| *a ^= b);
            prev = this;
        }
        Ok(out)
    }

    /// One block encrypted on its own (AES secure messaging's IV is E(KS_enc, SSC)).
    pub fn encrypt_block(&self, block: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.encrypt_cbc(block, &vec![0; self.kind.block()])
    }

    /// The 8-byte MAC: retail MAC over data the caller padded (3DES), or CMAC (AES), truncated.
    pub fn mac(&self, data: &[u8]) -> Result<[u8; 8], CryptoError> {
        match self.bytes.len() {
            _ if self.kind == CipherKind::Des3 => des3::retail_mac(&self.des_key()?, data),
            16 => cmac8!(Aes128, &self.bytes, data),
            24 => cmac8!(Aes192, &self.bytes, data),
            32 => cmac8!(Aes256, &self.bytes, data),
            _ => Err(CryptoError::Length),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// RFC 4493 example 2 (16-byte message), truncated to 8 bytes.
    #[test]
    fn aes_cmac_matches_rfc_4493() {
        let key = Key::new(CipherKind::Aes128, hex::decode("2b7e151628aed2a6abf7158809cf4f3c").unwrap()).unwrap();
        let mac = key.mac(&hex::decode("6bc1bee22e409f96e93d7e117393172a").unwrap()).unwrap();
        assert_eq!(hex::encode(mac), "070a16b46b4d4144");
    }

    #[test]
    fn cbc_round_trips_in_every_family() {
        for kind in [CipherKind::Des3, CipherKind::Aes128, CipherKind::Aes192, CipherKind::Aes256] {
            let key = Key::derive(kind, b"secret", KDF_ENC);
            let iv = vec![7u8; kind.block()];
            let data = vec![0x5A; kind.block() * 3];
            let enc = key.encrypt_cbc(&data, &iv).unwrap();
            assert_ne!(enc, data);
            assert_eq!(key.decrypt_cbc(&enc, &iv).unwrap(), data);
            assert_eq!(key.encrypt_cbc(&data[1..], &iv), Err(CryptoError::Length));
        }
    }
}
