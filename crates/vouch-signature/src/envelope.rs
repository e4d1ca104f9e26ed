//! `biometric_data`: the signature's pen data bound to the documents it signed, readable only by the holder of
//! the escrow key, as handwritten-signature systems keep it (the signer's pen data is evidence for a
//! handwriting expert, not for whoever holds the PDF).
//!
//! The structure is a CMS **AuthEnvelopedData** (RFC 5083) ContentInfo, DER, then base64:
//! - one KeyTransRecipientInfo: the escrow certificate's issuer and serial, the 256-bit content key under
//!   RSAES-OAEP with SHA-256 and MGF1-SHA-256;
//! - content encrypted with AES-256-GCM (RFC 5084: 12-byte nonce, 16-byte tag as the `mac`);
//! - the plaintext is UTF-8 JSON, [`BiometricPayload`]: format `vouch.biometric-signature.v1`, the ISO/IEC
//!   19794-7 full-format record (base64), the name and SHA-256 of every document signed, when, on what pad,
//!   and the case.
//!
//! `openssl cms -decrypt -inform DER -inkey escrow.key` opens it. GCM's tag makes any change to the pen data
//! or the document hashes fail to decrypt, and the whole structure is embedded in the PAdES-signed PDF.
//!
//! Encoded with `vouch-pki`'s DER helpers: RustCrypto's `cms` (0.2) has EnvelopedData and AuthenticatedData
//! but not AuthEnvelopedData, the only CMS type with an AEAD cipher.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use rand::RngCore;
use rsa::{Oaep, RsaPrivateKey};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use vouch_pki::asn1::{self, Cursor};
use vouch_pki::tlv;
use vouch_pki::x509::Certificate;

use crate::pki::{rsa_public_key, sha256_alg, ID_DATA};
use crate::SignatureError;

pub const FORMAT: &str = "vouch.biometric-signature.v1";
const ID_AUTH_ENVELOPED_DATA: &str = "1.2.840.113549.1.9.16.1.23";
const ID_AES256_GCM: &str = "2.16.840.1.101.3.4.1.46";
const ID_RSAES_OAEP: &str = "1.2.840.113549.1.1.7";
const ID_MGF1: &str = "1.2.840.113549.1.1.8";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedDocument {
    pub name: String,
    /// SHA-256 of the document as presented for signing, hex.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BiometricPayload {
    pub format: String,
    /// ISO/IEC 19794-7:2007 full format, base64.
    pub iso19794_7: String,
    pub documents: Vec<SignedDocument>,
    /// RFC 3339.
    pub captured_at: String,
    pub pad: crate::stroke::Pad,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_id: Option<String>,
}

fn envelope_error(message: impl Into<String>) -> SignatureError {
    SignatureError::Envelope(message.into())
}

fn oaep_alg() -> Vec<u8> {
    let mgf = asn1::seq(&[asn1::oid(ID_MGF1), sha256_alg()]);
    asn1::seq(&[asn1::oid(ID_RSAES_OAEP), asn1::seq(&[asn1::context(0, &sha256_alg()), asn1::context(1, &mgf)])])
}

/// Encrypts `payload` to the escrow certificate; returns the DER ContentInfo.
pub fn seal(payload: &BiometricPayload, escrow: &Certificate) -> Result<Vec<u8>, SignatureError> {
    let plaintext = serde_json::to_vec(payload).map_err(|e| envelope_error(e.to_string()))?;
    let public = rsa_public_key(escrow)?;
    let mut rng = rand::rngs::OsRng;
    let mut key = [0u8; 32];
    rng.fill_bytes(&mut key);
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let encrypted_key =
        public.encrypt(&mut rng, Oaep::new::<Sha256>(), &key).map_err(|e| envelope_error(format!("RSA-OAEP: {e}")))?;
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| envelope_error("AES key"))?;
    let mut sealed =
        cipher.encrypt(Nonce::from_slice(&nonce), plaintext.as_slice()).map_err(|_| envelope_error("AES-GCM"))?;
    let tag = sealed.split_off(sealed.len().saturating_sub(16));
    let recipient = asn1::seq(&[
        asn1::int(0),
        asn1::seq(&[escrow.issuer.clone(), tlv::encode(asn1::INTEGER, &escrow.serial)]),
        oaep_alg(),
        asn1::octets(&encrypted_key),
    ]);
    let gcm_params = asn1::seq(&[asn1::octets(&nonce), asn1::int(16)]);
    let content_info = asn1::seq(&[
        asn1::oid(ID_DATA),
        asn1::seq(&[asn1::oid(ID_AES256_GCM), gcm_params]),
        tlv::encode(0x80, &sealed),
    ]);
    let auth_enveloped = asn1::seq(&[asn1::int(0), asn1::set(&[recipient]), content_info, asn1::octets(&tag)]);
    Ok(asn1::seq(&[asn1::oid(ID_AUTH_ENVELOPED_DATA), asn1::context(0, &auth_enveloped)]))
}

/// `seal`, base64: the `biometric_data` string.
pub fn seal_base64(payload: &BiometricPayload, escrow: &Certificate) -> Result<String, SignatureError> {
    Ok(base64::engine::general_purpose::STANDARD.encode(seal(payload, escrow)?))
}

/// Opens an envelope with the escrow private key (the escrow holder's side; Vouch uses it in tests and in
/// `vouch signature open`).
pub fn open(der: &[u8], escrow_key: &RsaPrivateKey) -> Result<BiometricPayload, SignatureError> {
    let bad = |_| envelope_error("not a Vouch biometric envelope");
    let (info, _) = tlv::expect(der, asn1::SEQUENCE).map_err(|_| envelope_error("not DER"))?;
    let mut c = Cursor::new(info.value).map_err(bad)?;
    if c.oid("contentType").map_err(bad)? != ID_AUTH_ENVELOPED_DATA {
        return Err(envelope_error("not CMS AuthEnvelopedData"));
    }
    let mut wrapper = Cursor::new(c.next(0xA0, "content").map_err(bad)?.value).map_err(bad)?;
    let mut aed = Cursor::of(&wrapper.next(asn1::SEQUENCE, "AuthEnvelopedData").map_err(bad)?, asn1::SEQUENCE, "AED")
        .map_err(bad)?;
    let _version = aed.next(asn1::INTEGER, "version").map_err(bad)?;
    let recipients = aed.next(asn1::SET, "recipientInfos").map_err(bad)?;
    let recipient = recipients.children().map_err(|_| envelope_error("recipientInfos"))?;
    let first = recipient.first().ok_or_else(|| envelope_error("no recipient"))?;
    let mut ktri = Cursor::of(first, asn1::SEQUENCE, "KeyTransRecipientInfo").map_err(bad)?;
    let _v = ktri.next(asn1::INTEGER, "version").map_err(bad)?;
    let _rid = ktri.next_any("rid").map_err(bad)?;
    let _alg = ktri.next(asn1::SEQUENCE, "keyEncryptionAlgorithm").map_err(bad)?;
    let encrypted_key = ktri.next(asn1::OCTET_STRING, "encryptedKey").map_err(bad)?.value;
    let mut eci =
        Cursor::of(&aed.next(asn1::SEQUENCE, "authEncryptedContentInfo").map_err(bad)?, asn1::SEQUENCE, "ECI")
            .map_err(bad)?;
    let _ct = eci.oid("contentType").map_err(bad)?;
    let mut alg =
        Cursor::of(&eci.next(asn1::SEQUENCE, "algorithm").map_err(bad)?, asn1::SEQUENCE, "alg").map_err(bad)?;
    if alg.oid("algorithm").map_err(bad)? != ID_AES256_GCM {
        return Err(envelope_error("content is not AES-256-GCM"));
    }
    let mut params =
        Cursor::of(&alg.next(asn1::SEQUENCE, "GCMParameters").map_err(bad)?, asn1::SEQUENCE, "gcm").map_err(bad)?;
    let nonce = params.next(asn1::OCTET_STRING, "nonce").map_err(bad)?.value;
    let sealed = eci.next(0x80, "encryptedContent").map_err(bad)?.value;
    let tag = aed.next(asn1::OCTET_STRING, "mac").map_err(bad)?.value;
    if nonce.len() != 12 || tag.len() != 16 {
        return Err(envelope_error("unexpected GCM nonce or tag length"));
    }
    let key = escrow_key
        .decrypt(Oaep::new::<Sha256>(), encrypted_key)
        .map_err(|_| envelope_error("the escrow key cannot open this envelope"))?;
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| envelope_error("content key length"))?;
    let mut joined = sealed.to_vec();
    joined.extend_from_slice(tag);
    let plaintext = cipher
        .decrypt(Nonce::from_slice(nonce), joined.as_slice())
        .map_err(|_| envelope_error("the envelope was altered (authentication failed)"))?;
    serde_json::from_slice(&plaintext).map_err(|e| envelope_error(format!("payload: {e}")))
}

/// `open` with the escrow key as PKCS#8 PEM; the envelope as DER or as the base64 `biometric_data` text.
pub fn open_with_pem(envelope: &[u8], key_pem: &str) -> Result<BiometricPayload, SignatureError> {
    use rsa::pkcs8::DecodePrivateKey;
    let key =
        RsaPrivateKey::from_pkcs8_pem(key_pem).map_err(|_| envelope_error("the escrow key is not a PKCS#8 RSA key"))?;
    let der = if envelope.first() == Some(&0x30) {
        envelope.to_vec()
    } else {
        let text: Vec<u8> = envelope.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| envelope_error("neither DER nor base64"))?
    };
    open(&der, &key)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::stroke::tests::sample_signature;
    use crate::stroke::PointerKind;

    pub fn payload() -> BiometricPayload {
        let drawn = sample_signature(PointerKind::Pen);
        let iso = crate::iso19794_7::from_drawn(&drawn).unwrap().encode().unwrap();
        BiometricPayload {
            format: FORMAT.into(),
            iso19794_7: base64::engine::general_purpose::STANDARD.encode(iso),
            documents: vec![SignedDocument { name: "contract.pdf".into(), sha256: "ab".repeat(32) }],
            captured_at: "2026-11-23T10:00:00Z".into(),
            pad: drawn.pad,
            case_id: Some("c1".into()),
        }
    }

    #[test]
    fn only_the_escrow_key_opens_it_and_any_change_is_detected() {
        let escrow = crate::pki::tests::identity();
        let key = escrow_private_key();
        let der = seal(&payload(), escrow.certificate()).unwrap();
        assert_eq!(open(&der, &key).unwrap(), payload());
        // The plaintext is nowhere in the envelope.
        assert!(!der.windows(12).any(|w| w == b"contract.pdf"));
        let mut altered = der.clone();
        let n = altered.len();
        altered[n - 20] ^= 1; // inside the ciphertext's tail
        assert!(open(&altered, &key).unwrap_err().to_string().contains("altered"));
        let stranger = RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).unwrap();
        assert!(open(&der, &stranger).unwrap_err().to_string().contains("cannot open"));
        assert!(open(b"nonsense", &key).is_err());
    }

    #[test]
    fn the_escrow_holder_opens_biometric_data_as_base64_or_der_with_a_pem_key() {
        let escrow = crate::pki::tests::identity();
        let (key_pem, _) = escrow.to_pem().unwrap();
        let b64 = seal_base64(&payload(), escrow.certificate()).unwrap();
        assert_eq!(open_with_pem(b64.as_bytes(), &key_pem).unwrap(), payload());
        let der = base64::engine::general_purpose::STANDARD.decode(&b64).unwrap();
        assert_eq!(open_with_pem(&der, &key_pem).unwrap(), payload());
        assert!(open_with_pem(b"%%%", &key_pem).unwrap_err().to_string().contains("base64"));
        assert!(open_with_pem(&der, "not a key").unwrap_err().to_string().contains("PKCS#8"));
    }

    fn escrow_private_key() -> RsaPrivateKey {
        use rsa::pkcs8::DecodePrivateKey;
        let (pem, _) = crate::pki::tests::identity().to_pem().unwrap();
        RsaPrivateKey::from_pkcs8_pem(&pem).unwrap()
    }
}
