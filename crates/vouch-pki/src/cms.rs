//! CMS SignedData (RFC 5652) as EF.SOD, EF.CardSecurity and ICAO master lists carry it.
//!
//! Read with the bounded TLV parser here rather than RustCrypto's `cms`: a chip's SOD is verified over its
//! signed attributes exactly as the issuer encoded them, and `cms` decodes them into a DER set that must already
//! be in canonical order and is re-sorted when encoded again, while some issuers' SODs are BER. The
//! certificates inside are decoded with `x509-cert` ([`Certificate::parse`]).

use crate::asn1::{self, Asn1Error, Cursor};
use crate::crypto::hash::HashAlgorithm;
use crate::tlv;

use crate::x509::{self, Certificate, PkiError, SignatureAlgorithm};

pub const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
const CONTENT_TYPE_ATTR: &str = "1.2.840.113549.1.9.3";
const MESSAGE_DIGEST_ATTR: &str = "1.2.840.113549.1.9.4";

#[derive(Debug, Clone)]
pub enum SignerId {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    SubjectKeyId(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct SignerInfo {
    pub sid: SignerId,
    pub digest: HashAlgorithm,
    /// The signed attributes re-tagged as the SET they are signed as.
    pub signed_attrs: Option<Vec<u8>>,
    pub content_type: Option<String>,
    pub message_digest: Option<Vec<u8>>,
    pub signature_algorithm: SignatureAlgorithm,
    pub signature: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct SignedData {
    pub content_type: String,
    pub content: Vec<u8>,
    pub certificates: Vec<Certificate>,
    pub signers: Vec<SignerInfo>,
}

fn hash_of(element: &tlv::Tlv<'_>) -> Result<HashAlgorithm, PkiError> {
    let mut c = Cursor::of(element, asn1::SEQUENCE, "digest algorithm")?;
    let oid = c.oid("digest algorithm OID")?;
    HashAlgorithm::from_oid(&oid).ok_or(PkiError::Unsupported(oid))
}

/// A ContentInfo holding SignedData.
pub fn parse(der: &[u8]) -> Result<SignedData, PkiError> {
    let (info, _) = tlv::expect(der, asn1::SEQUENCE)?;
    let mut c = Cursor::new(info.value)?;
    if c.oid("contentType")? != SIGNED_DATA {
        return Err(Asn1Error::Malformed("ContentInfo: not SignedData").into());
    }
    let mut wrapper = Cursor::new(c.next(0xA0, "SignedData")?.value)?;
    let mut sd = Cursor::of(&wrapper.next(asn1::SEQUENCE, "SignedData")?, asn1::SEQUENCE, "SignedData")?;
    let _version = sd.next(asn1::INTEGER, "SignedData version")?;
    let _digests = sd.next(asn1::SET, "digestAlgorithms")?;
    let mut encap = Cursor::of(&sd.next(asn1::SEQUENCE, "encapContentInfo")?, asn1::SEQUENCE, "encapContentInfo")?;
    let content_type = encap.oid("eContentType")?;
    let mut explicit = Cursor::new(encap.next(0xA0, "eContent")?.value)?;
    let content = explicit.next(asn1::OCTET_STRING, "eContent")?.value.to_vec();
    let mut certificates = Vec::new();
    if let Some(certs) = sd.optional(0xA0) {
        for cert in tlv::parse_all(certs.value)? {
            // Other certificate formats (attribute certificates) may sit beside X.509 ones; they are skipped.
            if cert.tag == asn1::SEQUENCE {
                certificates.push(Certificate::parse(&asn1::reencode(&cert))?);
            }
        }
    }
    let _crls = sd.optional(0xA1);
    let mut signers = Vec::new();
    for si in sd.next(asn1::SET, "signerInfos")?.children()? {
        signers.push(signer_info(&si)?);
    }
    Ok(SignedData { content_type, content, certificates, signers })
}

fn signer_info(element: &tlv::Tlv<'_>) -> Result<SignerInfo, PkiError> {
    let mut c = Cursor::of(element, asn1::SEQUENCE, "SignerInfo")?;
    let _version = c.next(asn1::INTEGER, "SignerInfo version")?;
    let sid = match c.next_any("SignerInfo sid")? {
        t if t.tag == asn1::SEQUENCE => {
            let mut s = Cursor::new(t.value)?;
            let issuer = asn1::reencode(&s.next(asn1::SEQUENCE, "sid issuer")?);
            let serial = s.next(asn1::INTEGER, "sid serial")?.value.to_vec();
            SignerId::IssuerSerial { issuer, serial }
        }
        t if t.tag == 0x80 => SignerId::SubjectKeyId(t.value.to_vec()),
        _ => return Err(Asn1Error::Malformed("SignerInfo sid").into()),
    };
    let digest = hash_of(&c.next(asn1::SEQUENCE, "SignerInfo digestAlgorithm")?)?;
    let (mut signed_attrs, mut content_type, mut message_digest) = (None, None, None);
    if let Some(attrs) = c.optional(0xA0) {
        signed_attrs = Some(tlv::encode(asn1::SET, attrs.value));
        for attr in tlv::parse_all(attrs.value)? {
            let mut a = Cursor::of(&attr, asn1::SEQUENCE, "attribute")?;
            let oid = a.oid("attribute type")?;
            let values = a.next(asn1::SET, "attribute values")?.children()?;
            let first = values.first().ok_or(Asn1Error::Missing("attribute value"))?;
            if oid == CONTENT_TYPE_ATTR {
                content_type = Some(asn1::oid_to_string(first.value)?);
            } else if oid == MESSAGE_DIGEST_ATTR {
                message_digest = Some(first.value.to_vec());
            }
        }
    }
    let signature_algorithm = x509::signature_algorithm(&c.next(asn1::SEQUENCE, "signatureAlgorithm")?)?;
    let signature = c.next(asn1::OCTET_STRING, "signature")?.value.to_vec();
    Ok(SignerInfo { sid, digest, signed_attrs, content_type, message_digest, signature_algorithm, signature })
}

impl SignedData {
    /// The embedded certificate the signer names.
    pub fn signer_certificate(&self, signer: &SignerInfo) -> Option<&Certificate> {
        self.certificates.iter().find(|c| match &signer.sid {
            SignerId::IssuerSerial { issuer, serial } => {
                &c.serial == serial
                    && (&c.issuer == issuer
                        || x509::name_text(&c.issuer).eq_ignore_ascii_case(&x509::name_text(issuer)))
            }
            SignerId::SubjectKeyId(id) => c.subject_key_id.as_ref() == Some(id),
        })
    }

    /// Checks one signer's signature with `certificate`'s key: the message digest attribute against the content,
    /// then the signature over the signed attributes (or over the content where there are none).
    pub fn verify_signer(&self, signer: &SignerInfo, certificate: &Certificate) -> Result<(), PkiError> {
        let key = certificate.public_key()?;
        match &signer.signed_attrs {
            Some(attrs) => {
                let digest = signer.message_digest.as_ref().ok_or(Asn1Error::Missing("messageDigest attribute"))?;
                let actual = signer.digest.digest(&self.content);
                if !bool::from(subtle::ConstantTimeEq::ct_eq(actual.as_slice(), digest.as_slice())) {
                    return Err(PkiError::BadSignature);
                }
                x509::verify(&key, signer.signature_algorithm, signer.digest, attrs, &signer.signature)
            }
            None => x509::verify(&key, signer.signature_algorithm, signer.digest, &self.content, &signer.signature),
        }
    }
}
