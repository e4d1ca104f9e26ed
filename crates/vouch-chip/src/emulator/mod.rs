//! Vouch's own eMRTD card emulator, for tests and the kiosk's labelled demo mode: a generated test passport
//! served by an emulated chip, reached through the real pcscd via the vpcd virtual reader, or in-process.

pub mod chip;
pub mod passport;
pub mod pcscd;
pub mod vpcd;

use crate::apdu::{CardChannel, TransportError};

/// The chip wired straight to the reader code, without pcscd: for unit tests and benchmarks of the protocol.
pub struct LocalCard {
    pub chip: chip::EmulatedChip,
    pub apdus: usize,
}

impl CardChannel for LocalCard {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.apdus += 1;
        Ok(self.chip.process(command))
    }
}
