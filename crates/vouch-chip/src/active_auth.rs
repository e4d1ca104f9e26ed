//! Checking an active authentication signature (ICAO 9303 part 11, 6.1) against the DG15 key. The reader
//! uses it right after INTERNAL AUTHENTICATE; a server checks an uploaded signature against the challenge it
//! issued, with the same code.

use num_bigint_dig::BigUint;

use crate::crypto::rsa_sig;
use crate::lds;
use crate::pki::x509::{self, PublicKey};
use crate::reader::{AuthStatus, ChipCheck};
use crate::security_infos::{self, SecurityInfos};

/// Whether `signature` is the DG15 key's signature over `challenge`: RSA with ISO/IEC 9796-2 scheme 1, or
/// ECDSA with the algorithm DG14 names (plain r‖s).
pub fn verify(dg15: &[u8], dg14: Option<&SecurityInfos>, challenge: &[u8], signature: &[u8]) -> ChipCheck {
    let key = match lds::unwrap_der(dg15, 0x6F)
        .map_err(|e| e.to_string())
        .and_then(|spki| x509::public_key(spki).map_err(|e| e.to_string()))
    {
        Ok(k) => k,
        Err(e) => return ChipCheck::status(AuthStatus::Failed, Some(format!("DG15: {e}"))),
    };
    match key {
        PublicKey::Rsa(k) => match rsa_sig::verify_iso9796_2(&k, signature, challenge) {
            Ok(hash) => ChipCheck {
                status: AuthStatus::Authenticated,
                algorithm: Some(format!("RSA ISO/IEC 9796-2 {hash:?}")),
                problem: None,
            },
            Err(e) => ChipCheck::status(AuthStatus::Failed, Some(e.to_string())),
        },
        PublicKey::Ec { curve, point } => {
            let Some(hash) =
                dg14.and_then(|i| i.active_auth_algorithm.as_deref()).and_then(security_infos::ecdsa_plain_hash)
            else {
                return ChipCheck::status(
                    AuthStatus::Failed,
                    Some("ECDSA active authentication needs its algorithm in DG14, and DG14 does not name one".into()),
                );
            };
            let (r, s) = signature.split_at(signature.len() / 2);
            let ok = signature.len() == 2 * curve.order_bytes()
                && curve.ecdsa_verify(
                    &point,
                    &hash.digest(challenge),
                    &BigUint::from_bytes_be(r),
                    &BigUint::from_bytes_be(s),
                );
            ChipCheck {
                status: if ok { AuthStatus::Authenticated } else { AuthStatus::Failed },
                algorithm: Some(format!("ECDSA {hash:?} on {}", curve.params.name)),
                problem: (!ok).then(|| "the chip's signature does not verify with the DG15 key".to_string()),
            }
        }
    }
}
