//! The cryptography eMRTDs use: 3DES and AES secure-messaging ciphers and Diffie-Hellman here; elliptic curves,
//! RSA signature schemes and the hash functions SODs name from `vouch-pki`, which the PDF signer shares.

pub mod cipher;
pub mod des3;
pub mod dh;
pub use vouch_pki::crypto::{curves, ec, hash, rsa_sig};
