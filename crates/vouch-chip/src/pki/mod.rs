//! The eMRTD public-key infrastructure: the SOD, the CSCA trust store and passive authentication here;
//! certificates and CMS from `vouch-pki`, which the PDF signer shares.

pub mod passive_auth;
pub mod sod;
pub mod trust;
pub use vouch_pki::{cms, x509};

#[cfg(test)]
mod tests {
    // Here, not in vouch-pki, because the test keys come from the eMRTD emulator.
    #![allow(clippy::unwrap_used)]
    use crate::emulator::passport::{KeySpec, PrivateKey};
    use vouch_pki::crypto::hash::HashAlgorithm;
    use vouch_pki::x509::{public_key, signature_algorithm, verify, PkiError, SignatureAlgorithm, EC_PUBLIC_KEY};
    use vouch_pki::{asn1, tlv};

    /// Some SODs name `id-ecPublicKey` as the signature algorithm and leave the hash to the digest algorithm.
    #[test]
    fn ecdsa_named_by_its_key_algorithm_uses_the_digest_algorithm() {
        let key = PrivateKey::generate(KeySpec::Ec(13)).unwrap();
        let public = public_key(&key.spki(true).unwrap()).unwrap();
        let sig = key.sign(HashAlgorithm::Sha384, b"signed attributes").unwrap();
        let alg = asn1::seq(&[asn1::oid(EC_PUBLIC_KEY)]);
        let (element, _) = tlv::parse_one(&alg).unwrap();
        let algorithm = signature_algorithm(&element).unwrap();
        assert_eq!(algorithm, SignatureAlgorithm::EcdsaWithDigest);
        assert_eq!(verify(&public, algorithm, HashAlgorithm::Sha384, b"signed attributes", &sig), Ok(()));
        assert_eq!(
            verify(&public, algorithm, HashAlgorithm::Sha256, b"signed attributes", &sig),
            Err(PkiError::BadSignature)
        );
    }
}
