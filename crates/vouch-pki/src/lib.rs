//! The public-key plumbing the chip reader (`vouch-chip`) and the PDF signer (`vouch-signature`) share, so the
//! signer links no PC/SC: bounded BER-TLV ([`tlv`]) and DER helpers ([`asn1`]), X.509 certificates
//! ([`x509`]), CMS SignedData ([`cms`]), and the signature cryptography they verify with ([`crypto`]: RSA
//! PKCS#1 v1.5, PSS and ISO 9796-2, ECDSA on any curve, explicit domain parameters included).

pub mod asn1;
pub mod cms;
pub mod crypto;
pub mod tlv;
pub mod x509;
