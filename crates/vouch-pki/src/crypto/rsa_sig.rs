//! RSA signature schemes: PKCS#1 v1.5 and RSASSA-PSS for certificates and SODs, and ISO/IEC 9796-2 scheme 1
//! (message recovery) for active authentication. Signing is here for the emulator and the test-passport
//! generator.

use num_bigint_dig::BigUint;
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};

use super::hash::HashAlgorithm;

/// The biggest modulus accepted: beyond any CSCA in use, small enough that a hostile certificate cannot make
/// one verification take seconds.
pub const MAX_MODULUS_BITS: usize = 8192;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RsaError {
    #[error("the RSA key is invalid: {0}")]
    BadKey(String),
    #[error("the RSA signature does not verify")]
    BadSignature,
}

pub fn public_key(n: &[u8], e: &[u8]) -> Result<RsaPublicKey, RsaError> {
    RsaPublicKey::new_with_max_size(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e), MAX_MODULUS_BITS)
        .map_err(|e| RsaError::BadKey(e.to_string()))
}

/// DigestInfo's DER prefix before the hash value (RFC 8017 §9.2 note 1).
fn digest_info_prefix(hash: HashAlgorithm) -> &'static [u8] {
    match hash {
        HashAlgorithm::Sha1 => {
            &[0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14]
        }
        HashAlgorithm::Sha224 => &[
            0x30, 0x2d, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x04, 0x05, 0x00, 0x04,
            0x1c,
        ],
        HashAlgorithm::Sha256 => &[
            0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
            0x20,
        ],
        HashAlgorithm::Sha384 => &[
            0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04,
            0x30,
        ],
        HashAlgorithm::Sha512 => &[
            0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04,
            0x40,
        ],
    }
}

/// The DigestInfo prefix with the NULL parameters left out, which some signers write.
fn digest_info_prefix_without_null(hash: HashAlgorithm) -> Vec<u8> {
    let with = digest_info_prefix(hash);
    let mut out = with.to_vec();
    // Drop `05 00` and shorten both SEQUENCE lengths by two.
    if let Some(pos) = out.windows(2).position(|w| w == [0x05, 0x00]) {
        out.drain(pos..pos + 2);
        if let Some(b) = out.get_mut(1) {
            *b = b.saturating_sub(2);
        }
        if let Some(b) = out.get_mut(3) {
            *b = b.saturating_sub(2);
        }
    }
    out
}

/// `s^e mod n` as exactly k bytes.
fn open(key: &RsaPublicKey, signature: &[u8]) -> Result<Vec<u8>, RsaError> {
    let k = key.size();
    if signature.len() != k {
        return Err(RsaError::BadSignature);
    }
    let s = BigUint::from_bytes_be(signature);
    if &s >= key.n() {
        return Err(RsaError::BadSignature);
    }
    let m = rsa::hazmat::rsa_encrypt(key, &s).map_err(|_| RsaError::BadSignature)?;
    Ok(super::ec::fixed_bytes(&m, k))
}

fn emsa_pkcs1(k: usize, prefix: &[u8], hashed: &[u8]) -> Vec<u8> {
    let t_len = prefix.len() + hashed.len();
    let mut em = vec![0x00, 0x01];
    em.extend(std::iter::repeat_n(0xFF, k.saturating_sub(t_len + 3)));
    em.push(0x00);
    em.extend_from_slice(prefix);
    em.extend_from_slice(hashed);
    em
}

pub fn verify_pkcs1v15(
    key: &RsaPublicKey,
    hash: HashAlgorithm,
    hashed: &[u8],
    signature: &[u8],
) -> Result<(), RsaError> {
    let em = open(key, signature)?;
    let k = key.size();
    for prefix in [digest_info_prefix(hash).to_vec(), digest_info_prefix_without_null(hash)] {
        let expected = emsa_pkcs1(k, &prefix, hashed);
        if expected.len() == k && bool::from(subtle::ConstantTimeEq::ct_eq(expected.as_slice(), em.as_slice())) {
            return Ok(());
        }
    }
    Err(RsaError::BadSignature)
}

pub fn verify_pss(
    key: &RsaPublicKey,
    hash: HashAlgorithm,
    salt_len: usize,
    hashed: &[u8],
    signature: &[u8],
) -> Result<(), RsaError> {
    use rsa::Pss;
    let scheme = match hash {
        HashAlgorithm::Sha1 => Pss::new_with_salt::<sha1::Sha1>(salt_len),
        HashAlgorithm::Sha224 => Pss::new_with_salt::<sha2::Sha224>(salt_len),
        HashAlgorithm::Sha256 => Pss::new_with_salt::<sha2::Sha256>(salt_len),
        HashAlgorithm::Sha384 => Pss::new_with_salt::<sha2::Sha384>(salt_len),
        HashAlgorithm::Sha512 => Pss::new_with_salt::<sha2::Sha512>(salt_len),
    };
    key.verify(scheme, hashed, signature).map_err(|_| RsaError::BadSignature)
}

/// Active authentication with RSA: ISO/IEC 9796-2 digital signature scheme 1, partial message recovery. The
/// chip signs `M = M1 ‖ M2`, where M2 is our challenge and M1 is its own nonce recovered from the signature.
/// Returns the hash the chip used (named by the trailer).
pub fn verify_iso9796_2(key: &RsaPublicKey, signature: &[u8], m2: &[u8]) -> Result<HashAlgorithm, RsaError> {
    let f = open(key, signature)?;
    let (hash, trailer_len) = match f.as_slice() {
        [.., 0xBC] => (HashAlgorithm::Sha1, 1),
        [.., id, 0xCC] => (HashAlgorithm::from_iso9796_id(*id).ok_or(RsaError::BadSignature)?, 2),
        _ => return Err(RsaError::BadSignature),
    };
    // Header nibble 6 with padding bits 1010: partial recovery; 4B: the whole message is recovered.
    let header = f.first().copied().unwrap_or(0);
    if header != 0x6A && header != 0x4B {
        return Err(RsaError::BadSignature);
    }
    let body_end = f.len().checked_sub(trailer_len + hash.output_len()).ok_or(RsaError::BadSignature)?;
    let m1 = f.get(1..body_end).ok_or(RsaError::BadSignature)?;
    let digest = f.get(body_end..body_end + hash.output_len()).ok_or(RsaError::BadSignature)?;
    let mut m = m1.to_vec();
    m.extend_from_slice(m2);
    if bool::from(subtle::ConstantTimeEq::ct_eq(hash.digest(&m).as_slice(), digest)) {
        Ok(hash)
    } else {
        Err(RsaError::BadSignature)
    }
}

fn private_op(key: &RsaPrivateKey, em: &[u8]) -> Result<Vec<u8>, RsaError> {
    let m = BigUint::from_bytes_be(em);
    let s = rsa::hazmat::rsa_decrypt_and_check(key, Some(&mut rand::rngs::OsRng), &m)
        .map_err(|e| RsaError::BadKey(e.to_string()))?;
    Ok(super::ec::fixed_bytes(&s, key.size()))
}

pub fn sign_pkcs1v15(key: &RsaPrivateKey, hash: HashAlgorithm, hashed: &[u8]) -> Result<Vec<u8>, RsaError> {
    private_op(key, &emsa_pkcs1(key.size(), digest_info_prefix(hash), hashed))
}

/// The chip's side of RSA active authentication, for the emulator.
pub fn sign_iso9796_2(key: &RsaPrivateKey, hash: HashAlgorithm, m2: &[u8]) -> Result<Vec<u8>, RsaError> {
    use rand::RngCore;
    let k = key.size();
    let trailer: Vec<u8> = if hash == HashAlgorithm::Sha1 { vec![0xBC] } else { vec![hash.iso9796_id(), 0xCC] };
    let m1_len =
        k.checked_sub(1 + hash.output_len() + trailer.len()).ok_or(RsaError::BadKey("modulus too small".into()))?;
    let mut m1 = vec![0u8; m1_len];
    rand::rngs::OsRng.fill_bytes(&mut m1);
    let mut m = m1.clone();
    m.extend_from_slice(m2);
    let mut f = vec![0x6A];
    f.extend(m1);
    f.extend(hash.digest(&m));
    f.extend(trailer);
    private_op(key, &f)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key() -> RsaPrivateKey {
        RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap()
    }

    #[test]
    fn pkcs1_and_pss_and_iso9796_sign_and_verify() {
        let private = key();
        let public = private.to_public_key();
        let hashed = HashAlgorithm::Sha256.digest(b"sod");
        let sig = sign_pkcs1v15(&private, HashAlgorithm::Sha256, &hashed).unwrap();
        assert_eq!(verify_pkcs1v15(&public, HashAlgorithm::Sha256, &hashed, &sig), Ok(()));
        let other = HashAlgorithm::Sha256.digest(b"sod!");
        assert_eq!(verify_pkcs1v15(&public, HashAlgorithm::Sha256, &other, &sig), Err(RsaError::BadSignature));

        let pss = private
            .sign_with_rng(&mut rand::rngs::OsRng, rsa::Pss::new_with_salt::<sha2::Sha256>(32), &hashed)
            .unwrap();
        assert_eq!(verify_pss(&public, HashAlgorithm::Sha256, 32, &hashed, &pss), Ok(()));
        assert!(verify_pss(&public, HashAlgorithm::Sha256, 32, &other, &pss).is_err());

        for hash in [HashAlgorithm::Sha1, HashAlgorithm::Sha256] {
            let challenge = [1, 2, 3, 4, 5, 6, 7, 8];
            let aa = sign_iso9796_2(&private, hash, &challenge).unwrap();
            assert_eq!(verify_iso9796_2(&public, &aa, &challenge), Ok(hash));
            assert_eq!(verify_iso9796_2(&public, &aa, &[0; 8]), Err(RsaError::BadSignature));
        }
    }
}
