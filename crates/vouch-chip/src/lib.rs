//! ICAO 9303 eMRTD reading over PC/SC. Built so far: reader discovery, the access key (MRZ check digits and
//! the BAC key seed), BER-TLV, 3DES crypto, APDUs, secure messaging and BAC. PACE, reading and parsing the LDS,
//! passive and active authentication and the card emulator come next.

pub mod access_key;
pub mod apdu;
pub mod asn1;
pub mod bac;
pub mod crypto;
pub mod pace;
pub mod secure_messaging;
pub mod security_infos;
pub mod tlv;

use serde::Serialize;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize)]
pub enum ReaderError {
    /// pcscd is not running or not reachable.
    #[error("the PC/SC service (pcscd) is not running")]
    NoService,
    #[error("PC/SC error: {0}")]
    Pcsc(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReaderInfo {
    pub name: String,
    /// Whether a card is in the reader right now.
    pub card_present: bool,
}

/// The readers pcscd exposes, with whether each holds a card.
pub fn list_readers() -> Result<Vec<ReaderInfo>, ReaderError> {
    let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(|e| match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => ReaderError::NoService,
        other => ReaderError::Pcsc(other.to_string()),
    })?;
    let mut buf = vec![0u8; 4096];
    let names: Vec<std::ffi::CString> = match ctx.list_readers(&mut buf) {
        Ok(names) => names.map(std::ffi::CStr::to_owned).collect(),
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(ReaderError::Pcsc(e.to_string())),
    };
    let mut states: Vec<pcsc::ReaderState> =
        names.iter().map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE)).collect();
    // A zero timeout only reads the current state.
    let _ = ctx.get_status_change(std::time::Duration::ZERO, &mut states);
    Ok(states
        .iter()
        .map(|s| ReaderInfo {
            name: s.name().to_string_lossy().into_owned(),
            card_present: s.event_state().contains(pcsc::State::PRESENT),
        })
        .collect())
}
