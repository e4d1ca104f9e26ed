//! The kiosk's signing identity (an RSA key and its certificate) and the CMS SignedData it produces: detached,
//! SHA-256, with the ESS signing-certificate-v2 attribute that PAdES baseline and CAdES require.
//!
//! An identity comes from a PKCS#12 file the admin configures, or is generated on first run as a self-signed
//! certificate whose subject says so.

use rand::RngCore;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
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

/// `O=organisation, CN=common_name`, as UTF8Strings.
fn name(common_name: &str, organisation: &str) -> Result<x509_cert::name::Name, SignatureError> {
    use x509_cert::attr::AttributeTypeAndValue;
    use x509_cert::name::{RdnSequence, RelativeDistinguishedName};
    let rdn = |dotted: &str, value: &str| -> Result<RelativeDistinguishedName, SignatureError> {
        let value =
            der::asn1::Any::new(der::Tag::Utf8String, value.as_bytes()).map_err(|e| pki_error(e.to_string()))?;
        let set = der::asn1::SetOfVec::try_from(vec![AttributeTypeAndValue { oid: oid(dotted)?, value }])
            .map_err(|e| pki_error(e.to_string()))?;
        Ok(RelativeDistinguishedName(set))
    };
    Ok(RdnSequence(vec![rdn("2.5.4.10", organisation)?, rdn("2.5.4.3", common_name)?]))
}

/// The key's SubjectPublicKeyInfo (rsaEncryption), DER.
fn rsa_spki(key: &RsaPrivateKey) -> Result<Vec<u8>, SignatureError> {
    use rsa::pkcs8::EncodePublicKey;
    let der = key.to_public_key().to_public_key_der().map_err(|e| pki_error(format!("encoding the key: {e}")))?;
    Ok(der.as_bytes().to_vec())
}

fn rsa_sign(key: &RsaPrivateKey, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
    let digest = Sha256::digest(message);
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &digest).map_err(|e| pki_error(format!("RSA signing failed: {e}")))
}

/// A self-signed X.509 v3 certificate for `key`: a signing key (digitalSignature, nonRepudiation), not a CA.
/// Built with RustCrypto's `x509-cert` types.
pub fn self_signed_certificate(
    key: &RsaPrivateKey,
    common_name: &str,
    organisation: &str,
    now: OffsetDateTime,
    years: i64,
) -> Result<Vec<u8>, SignatureError> {
    use der::asn1::{BitString, OctetString};
    use der::{Decode, Encode};
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
    use x509_cert::ext::Extension;
    use x509_cert::time::{Time, Validity};

    let der_err = |what: &'static str| move |e: der::Error| pki_error(format!("encoding the {what}: {e}"));
    let spki_der = rsa_spki(key)?;
    let spki = spki::SubjectPublicKeyInfoOwned::from_der(&spki_der).map_err(der_err("public key"))?;
    let subject = name(common_name, organisation)?;
    let mut serial = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut serial);
    serial[0] &= 0x7F;
    let time = |t: OffsetDateTime| Time::try_from(std::time::SystemTime::from(t)).map_err(der_err("validity"));
    let extension = |dotted: &str, critical: bool, value: Vec<u8>| -> Result<Extension, SignatureError> {
        Ok(Extension {
            extn_id: oid(dotted)?,
            critical,
            extn_value: OctetString::new(value).map_err(der_err("extension"))?,
        })
    };
    let key_usage = KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation);
    let key_id = SubjectKeyIdentifier(OctetString::new(sha1_of(&spki_der)).map_err(der_err("key identifier"))?);
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: x509_cert::serial_number::SerialNumber::new(&serial).map_err(der_err("serial"))?,
        signature: algorithm(SHA256_WITH_RSA)?,
        issuer: subject.clone(),
        validity: Validity {
            not_before: time(now - time::Duration::hours(1))?,
            not_after: time(now + time::Duration::days(365 * years))?,
        },
        subject,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![
            extension(
                "2.5.29.19",
                true,
                BasicConstraints { ca: false, path_len_constraint: None }
                    .to_der()
                    .map_err(der_err("basic constraints"))?,
            )?,
            extension("2.5.29.15", true, key_usage.to_der().map_err(der_err("key usage"))?)?,
            extension("2.5.29.14", false, key_id.to_der().map_err(der_err("key identifier"))?)?,
        ]),
    };
    let signature = rsa_sign(key, &tbs.to_der().map_err(der_err("certificate"))?)?;
    let certificate = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm(SHA256_WITH_RSA)?,
        signature: BitString::from_bytes(&signature).map_err(der_err("signature"))?,
    };
    certificate.to_der().map_err(der_err("certificate"))
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
        if certificate.spki != rsa_spki(&key)? {
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
    /// the signing-time attribute (the time is the signature dictionary's /M); other uses may set it. Built with
    /// RustCrypto's `cms` and `x509-cert` types; the ESS signing-certificate-v2 value, which no RustCrypto crate
    /// defines, is encoded here.
    pub fn sign_detached(
        &self,
        digest: &[u8; 32],
        signing_time: Option<OffsetDateTime>,
    ) -> Result<Vec<u8>, SignatureError> {
        use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
        use cms::content_info::{CmsVersion, ContentInfo};
        use cms::signed_data::{
            CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
        };
        use der::asn1::{Any, OctetString, SetOfVec};
        use der::{Decode, Encode};

        let der_err = |what: &'static str| move |e: der::Error| pki_error(format!("encoding the {what}: {e}"));
        let x509 = x509_cert::Certificate::from_der(&self.certificate.der).map_err(der_err("certificate"))?;
        let mut attributes = vec![
            attribute(ATTR_CONTENT_TYPE, Any::encode_from(&oid(ID_DATA)?).map_err(der_err("content type"))?)?,
            attribute(
                ATTR_MESSAGE_DIGEST,
                Any::encode_from(&OctetString::new(digest.as_slice()).map_err(der_err("digest"))?)
                    .map_err(der_err("message digest"))?,
            )?,
            attribute(
                ATTR_SIGNING_CERTIFICATE_V2,
                Any::from_der(&self.signing_certificate_v2()).map_err(der_err("signing certificate"))?,
            )?,
        ];
        if let Some(t) = signing_time {
            let time = x509_cert::time::Time::try_from(std::time::SystemTime::from(t)).map_err(der_err("time"))?;
            attributes.push(attribute(ATTR_SIGNING_TIME, Any::encode_from(&time).map_err(der_err("signing time"))?)?);
        }
        // A DER SET OF, sorted; the signature covers it as a SET.
        let signed_attrs = SetOfVec::try_from(attributes).map_err(der_err("signed attributes"))?;
        let signature = rsa_sign(&self.key, &signed_attrs.to_der().map_err(der_err("signed attributes"))?)?;
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: x509.tbs_certificate.issuer.clone(),
                serial_number: x509.tbs_certificate.serial_number.clone(),
            }),
            digest_alg: algorithm(SHA256)?,
            signed_attrs: Some(signed_attrs),
            signature_algorithm: algorithm(RSA_ENCRYPTION)?,
            signature: OctetString::new(signature).map_err(der_err("signature"))?,
            unsigned_attrs: None,
        };
        let mut certificates = vec![CertificateChoices::Certificate(x509)];
        for c in &self.chain {
            let issuer = x509_cert::Certificate::from_der(c).map_err(der_err("chain certificate"))?;
            certificates.push(CertificateChoices::Certificate(issuer));
        }
        let signed_data = SignedData {
            version: CmsVersion::V1,
            digest_algorithms: SetOfVec::try_from(vec![algorithm(SHA256)?]).map_err(der_err("digest algorithms"))?,
            encap_content_info: EncapsulatedContentInfo { econtent_type: oid(ID_DATA)?, econtent: None },
            certificates: Some(CertificateSet::try_from(certificates).map_err(der_err("certificates"))?),
            crls: None,
            signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(der_err("signer infos"))?,
        };
        let content = Any::encode_from(&signed_data).map_err(der_err("signed data"))?;
        ContentInfo { content_type: oid(ID_SIGNED_DATA)?, content }.to_der().map_err(der_err("content info"))
    }

    /// ESS SigningCertificateV2 (RFC 5035) naming this certificate by its SHA-256 and issuer and serial.
    fn signing_certificate_v2(&self) -> Vec<u8> {
        let cert = &self.certificate;
        let cert_hash = Sha256::digest(&cert.der);
        let issuer_serial =
            asn1::seq(&[asn1::seq(&[asn1::context(4, &cert.issuer)]), tlv::encode(asn1::INTEGER, &cert.serial)]);
        asn1::seq(&[asn1::seq(&[asn1::seq(&[asn1::octets(&cert_hash), issuer_serial])])])
    }
}

fn oid(dotted: &str) -> Result<der::asn1::ObjectIdentifier, SignatureError> {
    der::asn1::ObjectIdentifier::new(dotted).map_err(|e| pki_error(format!("the OID {dotted}: {e}")))
}

/// An algorithm identifier with NULL parameters (SHA-256 and rsaEncryption take them).
fn algorithm(dotted: &str) -> Result<spki::AlgorithmIdentifierOwned, SignatureError> {
    Ok(spki::AlgorithmIdentifierOwned { oid: oid(dotted)?, parameters: Some(der::asn1::Any::null()) })
}

fn attribute(dotted: &str, value: der::asn1::Any) -> Result<x509_cert::attr::Attribute, SignatureError> {
    let values = der::asn1::SetOfVec::try_from(vec![value]).map_err(|e| pki_error(e.to_string()))?;
    Ok(x509_cert::attr::Attribute { oid: oid(dotted)?, values })
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
