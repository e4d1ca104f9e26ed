//! The kiosk's signing identity (an RSA key and its certificate) and the CMS SignedData it produces: detached,
//! SHA-256, with the ESS signing-certificate-v2 attribute that PAdES baseline and CAdES require.
//!
//! An identity comes from a PKCS#12 file the admin configures, or is generated on first run as a self-signed
//! certificate whose subject says so.

use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use vouch_pki::asn1;
use vouch_pki::tlv;
use vouch_pki::x509::Certificate;

use crate::SignatureError;

pub const ID_DATA: &str = "1.2.840.113549.1.7.1";
pub const ID_SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const ATTR_SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
const ATTR_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";
/// The words every self-generated certificate's subject carries, so no validator mistakes it for a CA-issued one.
pub const SELF_SIGNED_LABEL: &str = "self-signed";
const RSA_BITS: usize = 2048;

fn pki_error(message: impl Into<String>) -> SignatureError {
    SignatureError::Pki(message.into())
}

pub fn sha256_alg() -> Vec<u8> {
    asn1::seq(&[asn1::oid(SHA256), asn1::null()])
}

/// An RSA key with the certificate (and any chain) that names it.
#[derive(Clone)]
pub struct SigningIdentity {
    key: RsaPrivateKey,
    certificate: Certificate,
    /// Issuer certificates after the signer's, as the PKCS#12 carried them.
    chain: Vec<Vec<u8>>,
}

impl std::fmt::Debug for SigningIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningIdentity").field("subject", &self.subject()).finish_non_exhaustive()
    }
}

fn name(common_name: &str, organisation: &str) -> Vec<u8> {
    let attr = |oid: &str, value: &str| asn1::set(&[asn1::seq(&[asn1::oid(oid), tlv::encode(0x0C, value.as_bytes())])]);
    asn1::seq(&[attr("2.5.4.10", organisation), attr("2.5.4.3", common_name)])
}

fn time_der(t: OffsetDateTime) -> Vec<u8> {
    let digits = crate::utc_digits(t);
    // RFC 5280: UTCTime (two-digit year) through 2049, GeneralizedTime after.
    if t.to_offset(time::UtcOffset::UTC).year() < 2050 {
        tlv::encode(0x17, format!("{}Z", digits.get(2..).unwrap_or_default()).as_bytes())
    } else {
        tlv::encode(0x18, format!("{digits}Z").as_bytes())
    }
}

fn rsa_spki(key: &RsaPrivateKey) -> Vec<u8> {
    let public = asn1::seq(&[asn1::int_bytes(&key.n().to_bytes_be()), asn1::int_bytes(&key.e().to_bytes_be())]);
    asn1::seq(&[asn1::seq(&[asn1::oid(RSA_ENCRYPTION), asn1::null()]), asn1::bit_string(&public)])
}

fn rsa_sign(key: &RsaPrivateKey, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let digest = Sha256::digest(message);
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).map_err(|e| pki_error(format!("RSA signing failed: {e}")))
}

/// A self-signed X.509 v3 certificate for `key`: a signing key (digitalSignature, nonRepudiation), not a CA.
pub fn self_signed_certificate(
    key: &RsaPrivateKey,
    common_name: &str,
    organisation: &str,
    now: OffsetDateTime,
    years: i64,
) -> Result<Vec<u8>, SignatureError> {
    let spki = rsa_spki(key);
    let subject = name(common_name, organisation);
    let algorithm = asn1::seq(&[asn1::oid(SHA256_WITH_RSA), asn1::null()]);
    let mut serial = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut serial);
    serial[0] &= 0x7F;
    let key_id = sha1_of(&spki);
    let extensions = asn1::seq(&[
        asn1::seq(&[asn1::oid("2.5.29.19"), vec![0x01, 0x01, 0xFF], asn1::octets(&asn1::seq(&[]))]),
        // keyUsage, critical: digitalSignature | nonRepudiation.
        asn1::seq(&[asn1::oid("2.5.29.15"), vec![0x01, 0x01, 0xFF], asn1::octets(&[0x03, 0x02, 0x06, 0xC0])]),
        asn1::seq(&[asn1::oid("2.5.29.14"), asn1::octets(&asn1::octets(&key_id))]),
    ]);
    let tbs = asn1::seq(&[
        asn1::context(0, &asn1::int(2)),
        asn1::int_bytes(&serial),
        algorithm.clone(),
        subject.clone(),
        asn1::seq(&[time_der(now - time::Duration::hours(1)), time_der(now + time::Duration::days(365 * years))]),
        subject,
        spki,
        asn1::context(3, &extensions),
    ]);
    let signature = rsa_sign(key, &tbs)?;
    Ok(asn1::seq(&[tbs, algorithm, asn1::bit_string(&signature)]))
}

fn sha1_of(bytes: &[u8]) -> Vec<u8> {
    use sha1::Digest as _;
    sha1::Sha1::digest(bytes).to_vec()
}

impl SigningIdentity {
    /// A new RSA-2048 key and a self-signed certificate whose subject reads "`label` (self-signed)".
    pub fn generate_self_signed(label: &str, now: OffsetDateTime) -> Result<SigningIdentity, SignatureError> {
        let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS)
            .map_err(|e| pki_error(format!("generating a key failed: {e}")))?;
        let cn = format!("{label} ({SELF_SIGNED_LABEL})");
        let der = self_signed_certificate(&key, &cn, "Vouch", now, 10)?;
        SigningIdentity::from_parts(key, &der, Vec::new())
    }

    fn from_parts(key: RsaPrivateKey, cert_der: &[u8], chain: Vec<Vec<u8>>) -> Result<SigningIdentity, SignatureError> {
        let certificate =
            Certificate::parse(cert_der).map_err(|e| pki_error(format!("the certificate does not parse: {e}")))?;
        if certificate.spki != rsa_spki(&key) {
            return Err(pki_error("the certificate is not for this private key"));
        }
        Ok(SigningIdentity { key, certificate, chain })
    }

    /// The first private key and its certificate chain in a PKCS#12 file. Only RSA keys are supported.
    pub fn from_pkcs12(bytes: &[u8], password: &str) -> Result<SigningIdentity, SignatureError> {
        let store = p12_keystore::KeyStore::from_pkcs12(bytes, password)
            .map_err(|e| pki_error(format!("the PKCS#12 file could not be opened (wrong password?): {e}")))?;
        let (_, chain) = store.private_key_chain().ok_or_else(|| pki_error("the PKCS#12 file holds no private key"))?;
        let key = RsaPrivateKey::from_pkcs8_der(chain.key())
            .map_err(|_| pki_error("the PKCS#12 key is not an RSA key; Vouch signs with RSA"))?;
        let mut certs = chain.chain().iter().map(|c| c.as_der().to_vec());
        let leaf = certs.next().ok_or_else(|| pki_error("the PKCS#12 file holds no certificate for its key"))?;
        SigningIdentity::from_parts(key, &leaf, certs.collect())
    }

    /// PKCS#8 PEM of the key and PEM of the certificate, for keeping a generated identity in the data directory.
    pub fn to_pem(&self) -> Result<(String, String), SignatureError> {
        let key = self.key.to_pkcs8_pem(LineEnding::LF).map_err(|e| pki_error(e.to_string()))?;
        Ok((key.to_string(), pem("CERTIFICATE", &self.certificate.der)))
    }

    pub fn from_pem(key_pem: &str, cert_pem: &str) -> Result<SigningIdentity, SignatureError> {
        let key = RsaPrivateKey::from_pkcs8_pem(key_pem).map_err(|_| pki_error("the key is not a PKCS#8 RSA key"))?;
        let der = pem_decode(cert_pem, "CERTIFICATE")?;
        SigningIdentity::from_parts(key, &der, Vec::new())
    }

    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate.der
    }

    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    pub fn subject(&self) -> String {
        self.certificate.subject_text()
    }

    /// Whether the certificate signed itself (no CA vouches for it).
    pub fn is_self_signed(&self) -> bool {
        self.certificate.issuer == self.certificate.subject && self.chain.is_empty()
    }

    /// SHA-256 of the certificate, hex.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(&self.certificate.der))
    }

    pub fn not_after(&self) -> &str {
        &self.certificate.not_after
    }

    /// A detached CMS SignedData (ContentInfo, DER) over content whose SHA-256 is `digest`. PAdES B-B forbids
    /// the signing-time attribute (the time is the signature dictionary's /M); other uses may set it.
    pub fn sign_detached(
        &self,
        digest: &[u8; 32],
        signing_time: Option<OffsetDateTime>,
    ) -> Result<Vec<u8>, SignatureError> {
        let cert = &self.certificate;
        let cert_hash = Sha256::digest(&cert.der);
        let issuer_serial =
            asn1::seq(&[asn1::seq(&[asn1::context(4, &cert.issuer)]), tlv::encode(asn1::INTEGER, &cert.serial)]);
        let signing_certificate_v2 = asn1::seq(&[asn1::seq(&[asn1::seq(&[asn1::octets(&cert_hash), issuer_serial])])]);
        let mut attrs = vec![
            asn1::seq(&[asn1::oid(ATTR_CONTENT_TYPE), asn1::set(&[asn1::oid(ID_DATA)])]),
            asn1::seq(&[asn1::oid(ATTR_MESSAGE_DIGEST), asn1::set(&[asn1::octets(digest)])]),
            asn1::seq(&[asn1::oid(ATTR_SIGNING_CERTIFICATE_V2), asn1::set(&[signing_certificate_v2])]),
        ];
        if let Some(t) = signing_time {
            attrs.push(asn1::seq(&[asn1::oid(ATTR_SIGNING_TIME), asn1::set(&[time_der(t)])]));
        }
        // DER: a SET OF is sorted by its members' encodings.
        attrs.sort();
        let signed_attrs = asn1::set(&attrs);
        let signature = rsa_sign(&self.key, &signed_attrs)?;
        let signer_info = asn1::seq(&[
            asn1::int(1),
            asn1::seq(&[cert.issuer.clone(), tlv::encode(asn1::INTEGER, &cert.serial)]),
            sha256_alg(),
            asn1::context(0, &attrs.concat()),
            asn1::seq(&[asn1::oid(RSA_ENCRYPTION), asn1::null()]),
            asn1::octets(&signature),
        ]);
        let mut certificates = cert.der.clone();
        for c in &self.chain {
            certificates.extend_from_slice(c);
        }
        let signed_data = asn1::seq(&[
            asn1::int(1),
            asn1::set(&[sha256_alg()]),
            asn1::seq(&[asn1::oid(ID_DATA)]),
            asn1::context(0, &certificates),
            asn1::set(&[signer_info]),
        ]);
        Ok(asn1::seq(&[asn1::oid(ID_SIGNED_DATA), asn1::context(0, &signed_data)]))
    }
}

pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER inside the first PEM block labelled `label`; DER passes through unchanged.
pub fn pem_decode(text_or_der: &str, label: &str) -> Result<Vec<u8>, SignatureError> {
    use base64::Engine;
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text_or_der.find(&begin).ok_or_else(|| pki_error(format!("no {label} PEM block")))? + begin.len();
    let rest = text_or_der.get(start..).unwrap_or_default();
    let stop = rest.find(&end).ok_or_else(|| pki_error(format!("the {label} PEM block is not closed")))?;
    let body: String = rest.get(..stop).unwrap_or_default().chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| pki_error(format!("the {label} PEM is not base64")))
}

/// The RSA public key of a certificate, for encrypting to it.
pub fn rsa_public_key(cert: &Certificate) -> Result<rsa::RsaPublicKey, SignatureError> {
    use rsa::pkcs8::DecodePublicKey;
    rsa::RsaPublicKey::from_public_key_der(&cert.spki).map_err(|_| pki_error("the certificate's key is not RSA"))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use std::sync::OnceLock;

    use super::*;

    /// Key generation is slow; the tests share one identity.
    pub fn identity() -> &'static SigningIdentity {
        static ID: OnceLock<SigningIdentity> = OnceLock::new();
        ID.get_or_init(|| SigningIdentity::generate_self_signed("Vouch test kiosk", OffsetDateTime::now_utc()).unwrap())
    }

    #[test]
    fn a_generated_identity_says_it_is_self_signed_and_survives_pem() {
        let id = identity();
        assert!(id.subject().contains("(self-signed)"), "{}", id.subject());
        assert!(id.is_self_signed());
        id.certificate().verify_signed_by(id.certificate()).unwrap();
        let (key, cert) = id.to_pem().unwrap();
        let again = SigningIdentity::from_pem(&key, &cert).unwrap();
        assert_eq!(again.fingerprint(), id.fingerprint());
        let other = SigningIdentity::generate_self_signed("other", OffsetDateTime::now_utc()).unwrap();
        let (other_key, _) = other.to_pem().unwrap();
        assert!(SigningIdentity::from_pem(&other_key, &cert).unwrap_err().to_string().contains("not for this"));
    }

    #[test]
    fn a_detached_signature_verifies_over_its_signed_attributes() {
        let id = identity();
        let content = b"manifest";
        let digest: [u8; 32] = Sha256::digest(content).into();
        let cms = id.sign_detached(&digest, Some(OffsetDateTime::now_utc())).unwrap();
        // Re-attach the content so vouch-chip's SignedData reader (which expects encapsulated content) checks it.
        let (info, _) = tlv::expect(&cms, asn1::SEQUENCE).unwrap();
        let parsed = reattach(info.value, content);
        let sd = vouch_pki::cms::parse(&parsed).unwrap();
        let signer = &sd.signers[0];
        let cert = sd.signer_certificate(signer).unwrap();
        sd.verify_signer(signer, cert).unwrap();
        let mut tampered = sd.clone();
        tampered.content = b"manifesT".to_vec();
        assert!(tampered.verify_signer(signer, cert).is_err());
    }

    /// Rebuilds a ContentInfo with `content` encapsulated (test helper).
    fn reattach(content_info: &[u8], content: &[u8]) -> Vec<u8> {
        let items = tlv::parse_all(content_info).unwrap();
        let explicit = items[1].children().unwrap();
        let sd = explicit[0].children().unwrap();
        let mut parts: Vec<Vec<u8>> = sd.iter().map(asn1::reencode).collect();
        parts[2] = asn1::seq(&[asn1::oid(ID_DATA), asn1::context(0, &asn1::octets(content))]);
        asn1::seq(&[asn1::oid(ID_SIGNED_DATA), asn1::context(0, &asn1::seq(&parts))])
    }
}
