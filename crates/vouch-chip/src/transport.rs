//! Card transport: the `CardTransport` trait and its PC/SC implementation (pcscd), with reader listing,
//! waiting for a card to arrive or leave, and clear errors when the card is lifted or the reader unplugged.

use std::ffi::{CStr, CString};
use std::time::Duration;

use serde::Serialize;

use crate::apdu::{CardChannel, TransportError};

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq, Serialize)]
pub enum ReaderError {
    /// pcscd is not running or not reachable.
    #[error("the PC/SC service (pcscd) is not running")]
    NoService,
    #[error("no card reader is connected")]
    NoReaders,
    #[error("card reader not found: {0}")]
    UnknownReader(String),
    #[error("no card on the reader")]
    NoCard,
    #[error("PC/SC error: {0}")]
    Pcsc(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ReaderInfo {
    pub name: String,
    /// Whether a card is in the reader right now.
    pub card_present: bool,
}

/// An open connection to a card.
pub trait CardConnection: CardChannel + Send {
    fn atr(&self) -> &[u8];
    fn reader(&self) -> &str;
}

/// Where cards come from: readers, card arrival and removal, connections.
pub trait CardTransport {
    fn readers(&self) -> Result<Vec<ReaderInfo>, ReaderError>;
    /// Waits up to `timeout` for a card on `reader` (or on any reader); returns the reader that has one.
    fn wait_for_card(&self, reader: Option<&str>, timeout: Duration) -> Result<Option<String>, ReaderError>;
    /// Waits up to `timeout` for the card to leave `reader`; true once it has.
    fn wait_for_removal(&self, reader: &str, timeout: Duration) -> Result<bool, ReaderError>;
    fn connect(&self, reader: &str) -> Result<Box<dyn CardConnection>, ReaderError>;
}

fn map_pcsc(e: pcsc::Error) -> ReaderError {
    match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => ReaderError::NoService,
        pcsc::Error::NoReadersAvailable => ReaderError::NoReaders,
        pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => ReaderError::UnknownReader(e.to_string()),
        pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => ReaderError::NoCard,
        other => ReaderError::Pcsc(other.to_string()),
    }
}

pub struct Pcsc {
    ctx: pcsc::Context,
}

impl Pcsc {
    pub fn establish() -> Result<Pcsc, ReaderError> {
        Ok(Pcsc { ctx: pcsc::Context::establish(pcsc::Scope::User).map_err(map_pcsc)? })
    }

    fn names(&self) -> Result<Vec<CString>, ReaderError> {
        let mut buf = vec![0u8; 4096];
        match self.ctx.list_readers(&mut buf) {
            Ok(names) => Ok(names.map(CStr::to_owned).collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(map_pcsc(e)),
        }
    }

    fn states(&self, names: &[CString]) -> Result<Vec<pcsc::ReaderState>, ReaderError> {
        let mut states: Vec<pcsc::ReaderState> =
            names.iter().map(|n| pcsc::ReaderState::new(n.clone(), pcsc::State::UNAWARE)).collect();
        if !states.is_empty() {
            self.ctx.get_status_change(Duration::ZERO, &mut states).map_err(map_pcsc)?;
        }
        Ok(states)
    }

    fn wait_for(
        &self,
        reader: Option<&str>,
        timeout: Duration,
        want_present: bool,
    ) -> Result<Option<String>, ReaderError> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let names: Vec<CString> =
                self.names()?.into_iter().filter(|n| reader.is_none_or(|r| n.to_string_lossy() == r)).collect();
            if names.is_empty() {
                return Err(match reader {
                    Some(r) => ReaderError::UnknownReader(r.to_string()),
                    None => ReaderError::NoReaders,
                });
            }
            let mut states = self.states(&names)?;
            for s in &states {
                if s.event_state().contains(pcsc::State::PRESENT) == want_present {
                    return Ok(Some(s.name().to_string_lossy().into_owned()));
                }
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            for s in &mut states {
                s.sync_current_state();
            }
            // Wakes on any change, or after a second to notice readers that came or went.
            match self.ctx.get_status_change(left.min(Duration::from_secs(1)), &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(map_pcsc(e)),
            }
        }
    }
}

impl CardTransport for Pcsc {
    fn readers(&self) -> Result<Vec<ReaderInfo>, ReaderError> {
        let names = self.names()?;
        Ok(self
            .states(&names)?
            .iter()
            .map(|s| ReaderInfo {
                name: s.name().to_string_lossy().into_owned(),
                card_present: s.event_state().contains(pcsc::State::PRESENT),
            })
            .collect())
    }

    fn wait_for_card(&self, reader: Option<&str>, timeout: Duration) -> Result<Option<String>, ReaderError> {
        self.wait_for(reader, timeout, true)
    }

    fn wait_for_removal(&self, reader: &str, timeout: Duration) -> Result<bool, ReaderError> {
        Ok(self.wait_for(Some(reader), timeout, false)?.is_some())
    }

    fn connect(&self, reader: &str) -> Result<Box<dyn CardConnection>, ReaderError> {
        let name = CString::new(reader).map_err(|_| ReaderError::UnknownReader(reader.to_string()))?;
        let card = self.ctx.connect(&name, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY).map_err(map_pcsc)?;
        let mut names = vec![0u8; 2048];
        let mut atr = vec![0u8; pcsc::MAX_ATR_SIZE];
        let atr = card.status2(&mut names, &mut atr).map(|s| s.atr().to_vec()).map_err(map_pcsc)?;
        Ok(Box::new(PcscCard { card, atr, reader: reader.to_string() }))
    }
}

pub struct PcscCard {
    card: pcsc::Card,
    atr: Vec<u8>,
    reader: String,
}

impl CardChannel for PcscCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let mut buf = vec![0u8; pcsc::MAX_BUFFER_SIZE_EXTENDED];
        match self.card.transmit(command, &mut buf) {
            // vpcd (and some drivers) answer nothing when the card left mid-command; pcscd notices the removal
            // on its next poll, so the card's status is watched for a moment before calling it removed.
            Ok(r) if r.len() < 2 => {
                let deadline = std::time::Instant::now() + Duration::from_secs(2);
                let mut names = vec![0u8; 2048];
                let mut atr = vec![0u8; pcsc::MAX_ATR_SIZE];
                while std::time::Instant::now() < deadline {
                    match self.card.status2(&mut names, &mut atr) {
                        Ok(s) if s.status().contains(pcsc::Status::PRESENT) => {
                            std::thread::sleep(Duration::from_millis(50))
                        }
                        _ => return Err(TransportError::CardRemoved),
                    }
                }
                Err(TransportError::Other("the card did not answer".into()))
            }
            Ok(r) => Ok(r.to_vec()),
            Err(pcsc::Error::RemovedCard | pcsc::Error::ResetCard | pcsc::Error::NoSmartcard) => {
                Err(TransportError::CardRemoved)
            }
            Err(pcsc::Error::ReaderUnavailable | pcsc::Error::UnknownReader | pcsc::Error::NoService) => {
                Err(TransportError::ReaderGone)
            }
            Err(e) => Err(TransportError::Other(e.to_string())),
        }
    }
}

impl CardConnection for PcscCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }
    fn reader(&self) -> &str {
        &self.reader
    }
}

/// The readers pcscd exposes, with whether each holds a card.
pub fn list_readers() -> Result<Vec<ReaderInfo>, ReaderError> {
    Pcsc::establish()?.readers()
}

/// The card-capabilities byte of the ATR's historical bytes (ISO 7816-4 §8.1.1.2.7, tag 73) says whether the
/// card takes extended Lc/Le.
pub fn atr_announces_extended_length(atr: &[u8]) -> bool {
    // Skip T0's interface bytes to the historical bytes.
    let Some(&t0) = atr.get(1) else { return false };
    let historical = usize::from(t0 & 0x0F);
    let mut pos = 2;
    let mut y = t0 >> 4;
    loop {
        let count = (y & 1) + ((y >> 1) & 1) + ((y >> 2) & 1) + ((y >> 3) & 1);
        let td = if y & 0x8 != 0 { atr.get(pos + usize::from(count) - 1).copied() } else { None };
        pos += usize::from(count);
        match td {
            Some(td) => y = td >> 4,
            None => break,
        }
    }
    let Some(hist) = atr.get(pos..pos + historical) else { return false };
    if hist.first() != Some(&0x80) {
        return false;
    }
    let mut i = 1;
    while let Some(&tl) = hist.get(i) {
        let (tag, len) = (tl >> 4, usize::from(tl & 0x0F));
        if tag == 7 && len >= 3 {
            return hist.get(i + 3).is_some_and(|b| b & 0x40 != 0);
        }
        i += 1 + len;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_length_is_read_from_the_atr() {
        assert!(atr_announces_extended_length(&[0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0xC0, 0x00]));
        assert!(!atr_announces_extended_length(&[0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, 0x80, 0x00]));
        assert!(!atr_announces_extended_length(&[0x3B, 0x02, 0x14, 0x50]));
        assert!(!atr_announces_extended_length(&[0x3B]));
    }
}
