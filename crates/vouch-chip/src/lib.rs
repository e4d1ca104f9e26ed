//! ICAO 9303 eMRTD reading over PC/SC, on a par with JMRTD: BAC and PACE (ECDH generic mapping on every
//! standardised curve; 3DES and AES secure messaging), reading the LDS in large blocks, parsing it, passive
//! authentication against a CSCA trust store, active authentication, and an eMRTD card emulator that serves
//! generated test passports through the real pcscd.
//!
//! Everything a chip or a file sends is hostile input: lengths are checked before slicing, nesting is bounded,
//! and no path from card bytes to a result panics.

pub mod access_key;
pub mod active_auth;
pub mod apdu;
pub mod bac;
pub mod chip_auth;
pub mod chip_data;
pub mod crypto;
pub mod emulator;
pub mod files;
pub mod inspection;
pub mod lds;
pub mod offline;
pub mod pace;
pub mod pki;
pub mod reader;
pub mod secure_messaging;
pub mod security_infos;
pub mod transport;

pub use transport::{list_readers, ReaderError, ReaderInfo};
/// BER-TLV and DER, shared with the PDF signer (`vouch-pki`).
pub use vouch_pki::{asn1, tlv};
