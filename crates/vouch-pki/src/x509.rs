//! X.509 certificates as eMRTD PKIs use them: CSCA and document-signer certificates, with RSA or EC keys (named
//! curves or explicit domain parameters) and PKCS#1 v1.5, RSASSA-PSS or ECDSA signatures.

use num_bigint_dig::BigUint;
use rsa::RsaPublicKey;
use sha1::{Digest, Sha1};

use crate::asn1::{self, Asn1Error, Cursor};
use crate::crypto::ec::{Curve, Point};
use crate::crypto::hash::HashAlgorithm;
use crate::crypto::rsa_sig;
use crate::tlv::{self, Tlv};

pub const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
pub const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const PRIME_FIELD: &str = "1.2.840.10045.1.1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PkiError {
    #[error(transparent)]
    Asn1(#[from] Asn1Error),
    #[error("unsupported algorithm {0}")]
    Unsupported(String),
    #[error("{0}")]
    BadKey(String),
    #[error("the signature does not verify")]
    BadSignature,
    /// What RustCrypto's DER decoder refused, and why.
    #[error("malformed {what}: {detail}")]
    Der { what: &'static str, detail: String },
}

impl From<tlv::TlvError> for PkiError {
    fn from(e: tlv::TlvError) -> PkiError {
        PkiError::Asn1(Asn1Error::Tlv(e))
    }
}

#[derive(Debug, Clone)]
pub enum PublicKey {
    Rsa(RsaPublicKey),
    Ec { curve: Box<Curve>, point: Point },
}

impl PublicKey {
    pub fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(k) => format!("RSA-{}", rsa::traits::PublicKeyParts::size(k) * 8),
            PublicKey::Ec { curve, .. } => format!("EC {}", curve.params.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureAlgorithm {
    RsaPkcs1(HashAlgorithm),
    RsaPss {
        hash: HashAlgorithm,
        salt_len: usize,
    },
    Ecdsa(HashAlgorithm),
    /// `rsaEncryption` named as a signature algorithm (CMS allows it): PKCS#1 v1.5 with the digest algorithm.
    RsaWithDigest,
    /// `id-ecPublicKey` named as a signature algorithm, as some states' SODs do: ECDSA with the digest algorithm.
    EcdsaWithDigest,
}

impl SignatureAlgorithm {
    pub fn describe(&self, digest: HashAlgorithm) -> String {
        match self {
            SignatureAlgorithm::RsaPkcs1(h) => format!("RSA PKCS#1 v1.5 {h:?}"),
            SignatureAlgorithm::RsaPss { hash, .. } => format!("RSASSA-PSS {hash:?}"),
            SignatureAlgorithm::Ecdsa(h) => format!("ECDSA {h:?}"),
            SignatureAlgorithm::RsaWithDigest => format!("RSA PKCS#1 v1.5 {digest:?}"),
            SignatureAlgorithm::EcdsaWithDigest => format!("ECDSA {digest:?}"),
        }
    }
}

/// An AlgorithmIdentifier naming a signature scheme.
pub fn signature_algorithm(element: &Tlv<'_>) -> Result<SignatureAlgorithm, PkiError> {
    let mut c = Cursor::of(element, asn1::SEQUENCE, "signature algorithm")?;
    let oid = c.oid("signature algorithm OID")?;
    use HashAlgorithm::*;
    Ok(match oid.as_str() {
        "1.2.840.10045.4.1" => SignatureAlgorithm::Ecdsa(Sha1),
        "1.2.840.10045.4.3.1" => SignatureAlgorithm::Ecdsa(Sha224),
        "1.2.840.10045.4.3.2" => SignatureAlgorithm::Ecdsa(Sha256),
        "1.2.840.10045.4.3.3" => SignatureAlgorithm::Ecdsa(Sha384),
        "1.2.840.10045.4.3.4" => SignatureAlgorithm::Ecdsa(Sha512),
        "1.2.840.113549.1.1.5" => SignatureAlgorithm::RsaPkcs1(Sha1),
        "1.2.840.113549.1.1.14" => SignatureAlgorithm::RsaPkcs1(Sha224),
        "1.2.840.113549.1.1.11" => SignatureAlgorithm::RsaPkcs1(Sha256),
        "1.2.840.113549.1.1.12" => SignatureAlgorithm::RsaPkcs1(Sha384),
        "1.2.840.113549.1.1.13" => SignatureAlgorithm::RsaPkcs1(Sha512),
        RSA_ENCRYPTION => SignatureAlgorithm::RsaWithDigest,
        EC_PUBLIC_KEY => SignatureAlgorithm::EcdsaWithDigest,
        RSASSA_PSS => pss_params(&mut c)?,
        other => return Err(PkiError::Unsupported(other.to_string())),
    })
}

/// RSASSA-PSS-params (RFC 4055): hash, MGF1 with the same hash, salt length. Defaults are SHA-1 and 20.
fn pss_params(c: &mut Cursor<'_>) -> Result<SignatureAlgorithm, PkiError> {
    let mut hash = HashAlgorithm::Sha1;
    let mut salt_len = 20usize;
    if let Some(params) = c.optional(asn1::SEQUENCE) {
        let mut p = Cursor::new(params.value)?;
        if let Some(h) = p.optional(0xA0) {
            let mut alg = Cursor::new(h.value)?;
            let mut alg = Cursor::of(&alg.next(asn1::SEQUENCE, "PSS hash")?, asn1::SEQUENCE, "PSS hash")?;
            let oid = alg.oid("PSS hash OID")?;
            hash = HashAlgorithm::from_oid(&oid).ok_or(PkiError::Unsupported(oid))?;
        }
        if let Some(mgf) = p.optional(0xA1) {
            let mut m = Cursor::new(mgf.value)?;
            let mut m = Cursor::of(&m.next(asn1::SEQUENCE, "PSS MGF")?, asn1::SEQUENCE, "PSS MGF")?;
            let _mgf1 = m.oid("MGF OID")?;
            let mut inner = Cursor::of(&m.next(asn1::SEQUENCE, "MGF hash")?, asn1::SEQUENCE, "MGF hash")?;
            let mgf_hash = inner.oid("MGF hash OID")?;
            if HashAlgorithm::from_oid(&mgf_hash) != Some(hash) {
                return Err(PkiError::Unsupported(format!(
                    "PSS with MGF1 hash {mgf_hash} differing from the message hash"
                )));
            }
        }
        if let Some(salt) = p.optional(0xA2) {
            let mut s = Cursor::new(salt.value)?;
            salt_len = usize::try_from(asn1::uint(s.next(asn1::INTEGER, "PSS salt length")?.value)?)
                .map_err(|_| Asn1Error::Malformed("PSS salt length"))?;
        }
    }
    Ok(SignatureAlgorithm::RsaPss { hash, salt_len })
}

/// A SubjectPublicKeyInfo: RSA, or EC on a named or explicitly described ICAO curve. The SPKI and the RSA key
/// are decoded by RustCrypto's `spki` and `pkcs1`; EC parameters are read here ([`ec_parameters`]).
pub fn public_key(spki: &[u8]) -> Result<PublicKey, PkiError> {
    use der::Decode;
    let info = spki::SubjectPublicKeyInfoRef::from_der(spki).map_err(der_error("SubjectPublicKeyInfo"))?;
    let key = info.subject_public_key.as_bytes().ok_or(Asn1Error::Malformed("public key bit string"))?;
    match info.algorithm.oid.to_string().as_str() {
        RSA_ENCRYPTION => {
            let rsa = pkcs1::RsaPublicKey::from_der(key).map_err(der_error("RSA public key"))?;
            Ok(PublicKey::Rsa(
                rsa_sig::public_key(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes())
                    .map_err(|e| PkiError::BadKey(e.to_string()))?,
            ))
        }
        EC_PUBLIC_KEY => {
            let params = info.algorithm.parameters.ok_or(Asn1Error::Malformed("EC domain parameters"))?;
            let params = der::Encode::to_der(&params).map_err(der_error("EC domain parameters"))?;
            let (params, _) = tlv::parse_one(&params)?;
            let curve = ec_parameters(&params)?;
            let point = curve.decode_point_any(key).map_err(|e| PkiError::BadKey(e.to_string()))?;
            Ok(PublicKey::Ec { curve: Box::new(curve), point })
        }
        other => Err(PkiError::Unsupported(other.to_string())),
    }
}

/// `value` as DER; `what` names it in the error.
fn encode(what: &'static str, value: &impl der::Encode) -> Result<Vec<u8>, PkiError> {
    value.to_der().map_err(der_error(what))
}

/// A DER decoding error of `what`, as the parse errors here name their element.
fn der_error(what: &'static str) -> impl Fn(der::Error) -> PkiError {
    move |e| PkiError::Der { what, detail: e.to_string() }
}

/// ECParameters: a named curve, or explicit parameters matched to the ICAO curve they spell out. Explicit
/// parameters (a SpecifiedECDomain, which many CSCA and document signer certificates carry) are read by hand:
/// RustCrypto's crates decode only named curves.
pub fn ec_parameters(params: &Tlv<'_>) -> Result<Curve, PkiError> {
    if params.tag == asn1::OID {
        return Curve::by_oid(params.value)
            .ok_or_else(|| PkiError::Unsupported(asn1::oid_to_string(params.value).unwrap_or_default()));
    }
    let mut c = Cursor::of(params, asn1::SEQUENCE, "explicit EC parameters")?;
    let _version = c.next(asn1::INTEGER, "EC parameters version")?;
    let mut field = Cursor::of(&c.next(asn1::SEQUENCE, "EC field")?, asn1::SEQUENCE, "EC field")?;
    if field.oid("EC field type")? != PRIME_FIELD {
        return Err(PkiError::Unsupported("characteristic-two curves".into()));
    }
    let p = BigUint::from_bytes_be(field.next(asn1::INTEGER, "EC prime")?.value);
    let mut curve = Cursor::of(&c.next(asn1::SEQUENCE, "EC curve")?, asn1::SEQUENCE, "EC curve")?;
    let a = BigUint::from_bytes_be(curve.next(asn1::OCTET_STRING, "EC a")?.value);
    let b = BigUint::from_bytes_be(curve.next(asn1::OCTET_STRING, "EC b")?.value);
    let base = c.next(asn1::OCTET_STRING, "EC base point")?;
    let n = BigUint::from_bytes_be(c.next(asn1::INTEGER, "EC order")?.value);
    Curve::from_explicit(&p, &a, &b, base.value, &n).map_err(|e| PkiError::Unsupported(e.to_string()))
}

/// Verifies `signature` over `message`. `digest` names the hash where the algorithm does not (rsaEncryption).
pub fn verify(
    key: &PublicKey,
    algorithm: SignatureAlgorithm,
    digest: HashAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkiError> {
    match (key, algorithm) {
        (PublicKey::Rsa(k), SignatureAlgorithm::RsaPkcs1(h)) => {
            rsa_sig::verify_pkcs1v15(k, h, &h.digest(message), signature).map_err(|_| PkiError::BadSignature)
        }
        (PublicKey::Rsa(k), SignatureAlgorithm::RsaWithDigest) => {
            rsa_sig::verify_pkcs1v15(k, digest, &digest.digest(message), signature).map_err(|_| PkiError::BadSignature)
        }
        (PublicKey::Rsa(k), SignatureAlgorithm::RsaPss { hash, salt_len }) => {
            rsa_sig::verify_pss(k, hash, salt_len, &hash.digest(message), signature).map_err(|_| PkiError::BadSignature)
        }
        (PublicKey::Ec { curve, point }, SignatureAlgorithm::Ecdsa(_) | SignatureAlgorithm::EcdsaWithDigest) => {
            let h = if let SignatureAlgorithm::Ecdsa(h) = algorithm { h } else { digest };
            let (seq, _) = tlv::expect(signature, asn1::SEQUENCE).map_err(|_| PkiError::BadSignature)?;
            let mut c = Cursor::new(seq.value).map_err(|_| PkiError::BadSignature)?;
            let r = BigUint::from_bytes_be(c.next(asn1::INTEGER, "r").map_err(|_| PkiError::BadSignature)?.value);
            let s = BigUint::from_bytes_be(c.next(asn1::INTEGER, "s").map_err(|_| PkiError::BadSignature)?.value);
            if curve.ecdsa_verify(point, &h.digest(message), &r, &s) {
                Ok(())
            } else {
                Err(PkiError::BadSignature)
            }
        }
        _ => Err(PkiError::Unsupported("a signature algorithm that does not match the key".into())),
    }
}

#[derive(Debug, Clone)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub tbs: Vec<u8>,
    pub serial: Vec<u8>,
    /// DER of the issuer and subject Names, compared byte for byte and, failing that, as normalised text.
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: String,
    pub not_after: String,
    pub spki: Vec<u8>,
    pub signature_algorithm: SignatureAlgorithm,
    pub signature: Vec<u8>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
}

const SUBJECT_KEY_ID: &str = "2.5.29.14";
const AUTHORITY_KEY_ID: &str = "2.5.29.35";

impl Certificate {
    /// Decodes a certificate with RustCrypto's `x509-cert` (strict DER: certificates are signed over their DER).
    pub fn parse(der: &[u8]) -> Result<Certificate, PkiError> {
        use der::Decode;
        use x509_cert::ext::pkix::{AuthorityKeyIdentifier, SubjectKeyIdentifier};
        let cert = x509_cert::Certificate::from_der(der).map_err(der_error("certificate"))?;
        let tbs = &cert.tbs_certificate;
        let algorithm = encode("signatureAlgorithm", &cert.signature_algorithm)?;
        let signature_algorithm = signature_algorithm(&tlv::parse_one(&algorithm)?.0)?;
        let signature = cert.signature.as_bytes().ok_or(Asn1Error::Malformed("signature bit string"))?.to_vec();
        // The time as the certificate states it (YYMMDDHHMMSSZ or YYYYMMDDHHMMSSZ): the value of its DER.
        let time = |what: &'static str, t: &x509_cert::time::Time| -> Result<String, PkiError> {
            let bytes = encode(what, t)?;
            let (element, _) = tlv::parse_one(&bytes)?;
            Ok(String::from_utf8_lossy(element.value).into_owned())
        };
        let (mut subject_key_id, mut authority_key_id) = (None, None);
        for ext in tbs.extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            match ext.extn_id.to_string().as_str() {
                SUBJECT_KEY_ID => {
                    let ski = SubjectKeyIdentifier::from_der(value).map_err(der_error("subject key identifier"))?;
                    subject_key_id = Some(ski.0.as_bytes().to_vec());
                }
                AUTHORITY_KEY_ID => {
                    let aki = AuthorityKeyIdentifier::from_der(value).map_err(der_error("authority key identifier"))?;
                    authority_key_id = aki.key_identifier.map(|k| k.as_bytes().to_vec());
                }
                _ => {}
            }
        }
        Ok(Certificate {
            der: der.to_vec(),
            tbs: encode("tbsCertificate", tbs)?,
            serial: tbs.serial_number.as_bytes().to_vec(),
            issuer: encode("issuer", &tbs.issuer)?,
            subject: encode("subject", &tbs.subject)?,
            not_before: time("notBefore", &tbs.validity.not_before)?,
            not_after: time("notAfter", &tbs.validity.not_after)?,
            spki: encode("subjectPublicKeyInfo", &tbs.subject_public_key_info)?,
            signature_algorithm,
            signature,
            subject_key_id,
            authority_key_id,
        })
    }

    pub fn public_key(&self) -> Result<PublicKey, PkiError> {
        public_key(&self.spki)
    }

    /// Whether `issuer`'s key signed this certificate.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), PkiError> {
        let digest = match self.signature_algorithm {
            SignatureAlgorithm::RsaPkcs1(h) | SignatureAlgorithm::Ecdsa(h) => h,
            SignatureAlgorithm::RsaPss { hash, .. } => hash,
            SignatureAlgorithm::RsaWithDigest | SignatureAlgorithm::EcdsaWithDigest => HashAlgorithm::Sha256,
        };
        verify(&issuer.public_key()?, self.signature_algorithm, digest, &self.tbs, &self.signature)
    }

    /// Whether `candidate` could be this certificate's issuer: its subject names our issuer and, where both
    /// carry key identifiers, they agree.
    pub fn names_issuer(&self, candidate: &Certificate) -> bool {
        let names = self.issuer == candidate.subject
            || name_text(&self.issuer).to_lowercase() == name_text(&candidate.subject).to_lowercase();
        let keys = match (&self.authority_key_id, &candidate.subject_key_id) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        };
        names && keys
    }

    pub fn subject_text(&self) -> String {
        name_text(&self.subject)
    }

    pub fn issuer_text(&self) -> String {
        name_text(&self.issuer)
    }

    /// SHA-1 of the certificate, its usual fingerprint in PKD listings.
    pub fn fingerprint(&self) -> String {
        hex_upper(&Sha1::digest(&self.der))
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A Name as `C=UT, O=..., CN=...`, with inner spaces normalised.
pub fn name_text(der: &[u8]) -> String {
    let Ok((seq, _)) = tlv::expect(der, asn1::SEQUENCE) else { return String::new() };
    let mut parts = Vec::new();
    for rdn in seq.children().unwrap_or_default() {
        for atv in rdn.children().unwrap_or_default() {
            let Ok(mut c) = Cursor::of(&atv, asn1::SEQUENCE, "attribute") else { continue };
            let (Ok(oid), Ok(value)) = (c.oid("attribute type"), c.next_any("attribute value")) else { continue };
            let key = match oid.as_str() {
                "2.5.4.6" => "C",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.3" => "CN",
                "2.5.4.5" => "SERIALNUMBER",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                _ => "",
            };
            let text = String::from_utf8_lossy(value.value).split_whitespace().collect::<Vec<_>>().join(" ");
            parts.push(if key.is_empty() { format!("{oid}={text}") } else { format!("{key}={text}") });
        }
    }
    parts.join(", ")
}
