//! Signature cryptography: elliptic curves (the named ones and explicit parameters matched to them), RSA
//! signature schemes, and the hash functions certificates and SODs name.

pub mod curves;
pub mod ec;
pub mod hash;
pub mod rsa_sig;
