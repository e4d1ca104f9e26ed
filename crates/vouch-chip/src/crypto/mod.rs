//! The cryptography eMRTDs use: 3DES and AES secure-messaging ciphers, elliptic curves, RSA signature schemes
//! and the hash functions SODs name.

pub mod cipher;
pub mod curves;
pub mod des3;
pub mod dh;
pub mod ec;
pub mod hash;
pub mod rsa_sig;
