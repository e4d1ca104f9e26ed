//! The 3DES side of ICAO 9303 part 11 (BAC and 3DES secure messaging): the SHA-1 key derivation, two-key
//! 3DES in CBC mode with a zero IV, and the ISO 9797-1 MAC algorithm 3 ("retail MAC") with padding method 2.

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};
use sha1::{Digest, Sha1};

pub const BLOCK: usize = 8;
pub const KDF_ENC: u32 = 1;
pub const KDF_MAC: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("ciphertext is not a whole number of blocks")]
    Length,
    #[error("bad padding")]
    Padding,
}

/// KDF(K_seed, c): SHA-1 of seed ‖ counter, first 16 bytes, DES parity bits set.
pub fn derive_key(seed: &[u8], counter: u32) -> [u8; 16] {
    let mut h = Sha1::new();
    h.update(seed);
    h.update(counter.to_be_bytes());
    let digest = h.finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(digest.get(..16).unwrap_or(&[0; 16]));
    for b in &mut key {
        // Odd parity: the low bit makes the count of ones odd.
        *b = (*b & 0xFE) | u8::from((*b & 0xFE).count_ones() % 2 == 0);
    }
    key
}

fn tdes(key: &[u8; 16]) -> TdesEde2 {
    TdesEde2::new(GenericArray::from_slice(key))
}

fn xor_into(block: &mut [u8], with: &[u8]) {
    for (a, b) in block.iter_mut().zip(with) {
        *a ^= b;
    }
}

/// 3DES-CBC, zero IV (or `iv`), on whole blocks.
pub fn encrypt_cbc(key: &[u8; 16], data: &[u8], iv: [u8; BLOCK]) -> Result<Vec<u8>, CryptoError> {
    if !data.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Length);
    }
    let cipher = tdes(key);
    let mut out = data.to_vec();
    let mut prev = iv;
    for chunk in out.chunks_exact_mut(BLOCK) {
        xor_into(chunk, &prev);
        cipher.encrypt_block(GenericArray::from_mut_slice(chunk));
        prev.copy_from_slice(chunk);
    }
    Ok(out)
}

pub fn decrypt_cbc(key: &[u8; 16], data: &[u8], iv: [u8; BLOCK]) -> Result<Vec<u8>, CryptoError> {
    if !data.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Length);
    }
    let cipher = tdes(key);
    let mut out = data.to_vec();
    let mut prev = iv;
    for chunk in out.chunks_exact_mut(BLOCK) {
        let mut this = [0u8; BLOCK];
        this.copy_from_slice(chunk);
        cipher.decrypt_block(GenericArray::from_mut_slice(chunk));
        xor_into(chunk, &prev);
        prev = this;
    }
    Ok(out)
}

/// ISO 9797-1 padding method 2: `80` then zeros to the block size (always at least one byte).
pub fn pad(data: &[u8]) -> Vec<u8> {
    pad_to(data, BLOCK)
}

/// Padding method 2 to any block size (AES secure messaging pads to 16).
pub fn pad_to(data: &[u8], block: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + block);
    out.extend_from_slice(data);
    out.push(0x80);
    while !out.len().is_multiple_of(block) {
        out.push(0);
    }
    out
}

pub fn unpad(data: &[u8]) -> Result<&[u8], CryptoError> {
    unpad_from(data, BLOCK)
}

pub fn unpad_from(data: &[u8], block: usize) -> Result<&[u8], CryptoError> {
    let end = data.iter().rposition(|b| *b != 0).ok_or(CryptoError::Padding)?;
    match data.get(end) {
        Some(0x80) if data.len() - end <= block => Ok(data.get(..end).unwrap_or(&[])),
        _ => Err(CryptoError::Padding),
    }
}

/// Retail MAC (ISO 9797-1 algorithm 3, DES, zero IV) of data that is already padded: single DES CBC with K1,
/// then the last block decrypted with K2 and encrypted with K1.
pub fn retail_mac(key: &[u8; 16], padded: &[u8]) -> Result<[u8; BLOCK], CryptoError> {
    if padded.is_empty() || !padded.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Length);
    }
    let k1 = Des::new(GenericArray::from_slice(key.get(..8).unwrap_or(&[0; 8])));
    let k2 = Des::new(GenericArray::from_slice(key.get(8..).unwrap_or(&[0; 8])));
    let mut state = [0u8; BLOCK];
    for chunk in padded.chunks_exact(BLOCK) {
        xor_into(&mut state, chunk);
        k1.encrypt_block(GenericArray::from_mut_slice(&mut state));
    }
    k2.decrypt_block(GenericArray::from_mut_slice(&mut state));
    k1.encrypt_block(GenericArray::from_mut_slice(&mut state));
    Ok(state)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }
    fn k(s: &str) -> [u8; 16] {
        h(s).try_into().unwrap()
    }

    // ICAO 9303 part 11 appendix D.2 and D.3.
    #[test]
    fn key_derivation_of_the_worked_example() {
        let seed = h("239AB9CB282DAF66231DC5A4DF6BFBAE");
        assert_eq!(derive_key(&seed, KDF_ENC), k("AB94FDECF2674FDFB9B391F85D7F76F2"));
        assert_eq!(derive_key(&seed, KDF_MAC), k("7962D9ECE03D1ACD4C76089DCE131543"));
        let session = h("0036D272F5C350ACAC50C3F572D23600");
        assert_eq!(derive_key(&session, KDF_ENC), k("979EC13B1CBFE9DCD01AB0FED307EAE5"));
        assert_eq!(derive_key(&session, KDF_MAC), k("F1CB1F1FB5ADF208806B89DC579DC1F8"));
    }

    #[test]
    fn encryption_and_mac_of_the_worked_example() {
        let kenc = k("AB94FDECF2674FDFB9B391F85D7F76F2");
        let kmac = k("7962D9ECE03D1ACD4C76089DCE131543");
        let s = h("781723860C06C2264608F919887022120B795240CB7049B01C19B33E32804F0B");
        let e = encrypt_cbc(&kenc, &s, [0; 8]).unwrap();
        assert_eq!(hex::encode_upper(&e), "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F2");
        assert_eq!(decrypt_cbc(&kenc, &e, [0; 8]).unwrap(), s);
        assert_eq!(hex::encode_upper(retail_mac(&kmac, &pad(&e)).unwrap()), "5F1448EEA8AD90A7");
        let chip = h("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F");
        assert_eq!(hex::encode_upper(retail_mac(&kmac, &pad(&chip)).unwrap()), "2F2D235D074D7449");
    }

    #[test]
    fn padding_round_trips_and_bad_padding_is_refused() {
        for n in 0..20 {
            let data = vec![0x42; n];
            let padded = pad(&data);
            assert_eq!(padded.len() % BLOCK, 0);
            assert_eq!(unpad(&padded).unwrap(), data.as_slice());
        }
        assert_eq!(unpad(&[0; 8]), Err(CryptoError::Padding));
        assert_eq!(unpad(&[1, 2, 3, 4, 5, 6, 7, 8]), Err(CryptoError::Padding));
        assert_eq!(encrypt_cbc(&[0; 16], &[0; 7], [0; 8]), Err(CryptoError::Length));
        assert_eq!(retail_mac(&[0; 16], &[]), Err(CryptoError::Length));
    }
}
