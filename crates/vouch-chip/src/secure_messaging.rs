//! Secure messaging (ICAO 9303 part 11 §9.8) with 3DES or AES session keys: every command after access control
//! is encrypted and MACed under the send sequence counter, and every response's MAC is checked before its data is
//! believed. A MAC failure ends the session: the counter can no longer be trusted.

use subtle::ConstantTimeEq;

use crate::apdu::{encode_le, Command, Response};
use crate::crypto::cipher::{CipherKind, Key};
use crate::crypto::des3::{self, CryptoError};
use crate::tlv;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmError {
    #[error("the chip's response MAC is wrong: the session was tampered with or fell out of step")]
    BadMac,
    #[error("the chip answered {0:04X} without secure messaging (it ended the session)")]
    Unprotected(u16),
    #[error("the chip's secure-messaging response is malformed: {0}")]
    Malformed(String),
}

impl From<CryptoError> for SmError {
    fn from(e: CryptoError) -> SmError {
        SmError::Malformed(e.to_string())
    }
}

impl From<tlv::TlvError> for SmError {
    fn from(e: tlv::TlvError) -> SmError {
        SmError::Malformed(e.to_string())
    }
}

pub struct SecureMessaging {
    ks_enc: Key,
    ks_mac: Key,
    /// 64 bits are used with 3DES, 128 with AES.
    ssc: u128,
}

/// Session keys never reach a log.
impl std::fmt::Debug for SecureMessaging {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecureMessaging({:?})", self.ks_enc.kind)
    }
}

impl SecureMessaging {
    /// BAC's 3DES session with its starting counter.
    pub fn new(ks_enc: [u8; 16], ks_mac: [u8; 16], ssc: [u8; 8]) -> SecureMessaging {
        SecureMessaging {
            ks_enc: Key::des3(ks_enc),
            ks_mac: Key::des3(ks_mac),
            ssc: u128::from(u64::from_be_bytes(ssc)),
        }
    }

    /// The session PACE and chip authentication start: keys KDF(K, 1) and KDF(K, 2) of the shared secret, and a
    /// zero counter.
    pub fn from_secret(kind: CipherKind, secret: &[u8]) -> SecureMessaging {
        SecureMessaging {
            ks_enc: Key::derive(kind, secret, crate::crypto::cipher::KDF_ENC),
            ks_mac: Key::derive(kind, secret, crate::crypto::cipher::KDF_MAC),
            ssc: 0,
        }
    }

    pub fn cipher(&self) -> CipherKind {
        self.ks_enc.kind
    }

    fn block(&self) -> usize {
        self.ks_enc.kind.block()
    }

    /// The counter as the cipher's block.
    pub fn ssc(&self) -> Vec<u8> {
        let full = self.ssc.to_be_bytes();
        full.iter().skip(16 - self.block()).copied().collect()
    }

    /// 3DES runs CBC from a zero IV; AES from E(KS_enc, SSC).
    fn iv(&self) -> Result<Vec<u8>, SmError> {
        Ok(match self.ks_enc.kind {
            CipherKind::Des3 => vec![0; 8],
            _ => self.ks_enc.encrypt_block(&self.ssc())?,
        })
    }

    /// DO87: the padding-content indicator 01, then the padded data encrypted.
    fn seal(&self, data: &[u8]) -> Result<Vec<u8>, SmError> {
        let mut value = vec![0x01];
        value.extend(self.ks_enc.encrypt_cbc(&des3::pad_to(data, self.block()), &self.iv()?)?);
        Ok(tlv::encode(0x87, &value))
    }

    /// The data inside a DO87 value.
    fn open(&self, value: &[u8]) -> Result<Vec<u8>, SmError> {
        match value {
            [0x01, cipher @ ..] => {
                let plain = self.ks_enc.decrypt_cbc(cipher, &self.iv()?)?;
                Ok(des3::unpad_from(&plain, self.block())?.to_vec())
            }
            _ => Err(SmError::Malformed("unknown padding indicator in 87".into())),
        }
    }

    fn mac(&self, message: &[u8]) -> Result<[u8; 8], SmError> {
        let mut n = self.ssc();
        n.extend_from_slice(message);
        Ok(self.ks_mac.mac(&des3::pad_to(&n, self.block()))?)
    }

    fn pad_header(&self, header: &[u8]) -> Vec<u8> {
        des3::pad_to(header, self.block())
    }

    /// The protected form of `command`.
    pub fn wrap(&mut self, command: &Command) -> Result<Command, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        let extended = command.is_extended();
        let header = [command.cla | 0x0C, command.ins, command.p1, command.p2];
        let mut body = Vec::new();
        if !command.data.is_empty() {
            body.extend(self.seal(&command.data)?);
        }
        if let Some(le) = command.le {
            body.extend(tlv::encode(0x97, &encode_le(le, extended)));
        }
        let mut m = self.pad_header(&header);
        m.extend_from_slice(&body);
        let cc = self.mac(&m)?;
        body.extend(tlv::encode(0x8E, &cc));
        Ok(Command {
            cla: header[0],
            ins: command.ins,
            p1: command.p1,
            p2: command.p2,
            data: body,
            le: Some(if extended { 65536 } else { 256 }),
        })
    }

    /// The plain response inside a protected one, after its MAC is checked.
    pub fn unwrap(&mut self, response: &Response) -> Result<Response, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        if response.data.is_empty() {
            return Err(SmError::Unprotected(response.sw));
        }
        let mut do87 = None;
        let mut do99 = None;
        let mut do8e = None;
        let mut covered = Vec::new();
        for item in tlv::parse_all(&response.data)? {
            match item.tag {
                0x87 => {
                    do87 = Some(item.value);
                    covered.extend(tlv::encode(0x87, item.value));
                }
                0x99 => {
                    do99 = Some(item.value);
                    covered.extend(tlv::encode(0x99, item.value));
                }
                0x8E => do8e = Some(item.value),
                other => return Err(SmError::Malformed(format!("unexpected data object {other:X}"))),
            }
        }
        let cc = do8e.ok_or_else(|| SmError::Malformed("no MAC (8E)".into()))?;
        let expected = self.mac(&covered)?;
        if !bool::from(expected.as_slice().ct_eq(cc)) {
            return Err(SmError::BadMac);
        }
        let sw = match do99 {
            Some([a, b]) => u16::from_be_bytes([*a, *b]),
            _ => return Err(SmError::Malformed("no status word (99)".into())),
        };
        let data = match do87 {
            Some(value) => self.open(value)?,
            None => Vec::new(),
        };
        Ok(Response { data, sw })
    }

    /// The chip's side, for the emulator: reads a protected command (checking its MAC) into the plain one.
    pub fn unwrap_command(&mut self, raw: &Command) -> Result<Command, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        let mut m = self.pad_header(&[raw.cla, raw.ins, raw.p1, raw.p2]);
        let (mut do87, mut le, mut cc) = (None, None, None);
        for item in tlv::parse_all(&raw.data)? {
            match item.tag {
                0x87 => {
                    m.extend(tlv::encode(0x87, item.value));
                    do87 = Some(item.value);
                }
                0x97 => {
                    m.extend(tlv::encode(0x97, item.value));
                    let n = item.value.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                    le = Some(if n == 0 {
                        if item.value.len() > 1 {
                            65536
                        } else {
                            256
                        }
                    } else {
                        n
                    });
                }
                0x8E => cc = Some(item.value),
                other => return Err(SmError::Malformed(format!("unexpected data object {other:X}"))),
            }
        }
        let expected = self.mac(&m)?;
        if !cc.is_some_and(|cc| bool::from(expected.as_slice().ct_eq(cc))) {
            return Err(SmError::BadMac);
        }
        // Decrypted only once the MAC says the data is the terminal's.
        let data = match do87 {
            Some(value) => self.open(value)?,
            None => Vec::new(),
        };
        Ok(Command { cla: raw.cla & !0x0C, ins: raw.ins, p1: raw.p1, p2: raw.p2, data, le })
    }

    /// The chip's side: protects a response.
    pub fn wrap_response(&mut self, plain: &Response) -> Result<Response, SmError> {
        self.ssc = self.ssc.wrapping_add(1);
        let mut body = Vec::new();
        if !plain.data.is_empty() {
            body.extend(self.seal(&plain.data)?);
        }
        body.extend(tlv::encode(0x99, &plain.sw.to_be_bytes()));
        let cc = self.mac(&body)?;
        body.extend(tlv::encode(0x8E, &cc));
        Ok(Response { data: body, sw: crate::apdu::SW_OK })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn k(s: &str) -> [u8; 16] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn worked_example() -> SecureMessaging {
        let ssc: [u8; 8] = hex::decode("887022120C06C226").unwrap().try_into().unwrap();
        SecureMessaging::new(k("979EC13B1CBFE9DCD01AB0FED307EAE5"), k("F1CB1F1FB5ADF208806B89DC579DC1F8"), ssc)
    }

    fn resp(s: &str) -> Response {
        Response::parse(&hex::decode(s).unwrap()).unwrap()
    }

    /// ICAO 9303 part 11 appendix D.4: select EF.COM, read its first 4 bytes, then the rest.
    #[test]
    fn the_worked_example_reads_ef_com() {
        let mut sm = worked_example();
        let select = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1E]);
        let wrapped = sm.wrap(&select).unwrap();
        assert_eq!(hex::encode_upper(wrapped.encode()), "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800");
        let r = sm.unwrap(&resp("990290008E08FA855A5D4C50A8ED9000")).unwrap();
        assert_eq!(r, Response { data: vec![], sw: 0x9000 });

        let read4 = sm.wrap(&Command::new(0x00, 0xB0, 0x00, 0x00).with_le(4)).unwrap();
        assert_eq!(hex::encode_upper(read4.encode()), "0CB000000D9701048E08ED6705417E96BA5500");
        let r = sm.unwrap(&resp("8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000")).unwrap();
        assert_eq!(hex::encode_upper(&r.data), "60145F01");

        let rest = sm.wrap(&Command::new(0x00, 0xB0, 0x00, 0x04).with_le(0x12)).unwrap();
        assert_eq!(hex::encode_upper(rest.encode()), "0CB000040D9701128E082EA28A70F3C7B53500");
        let r = sm
            .unwrap(&resp("871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000"))
            .unwrap();
        assert_eq!(hex::encode_upper(&r.data), "04303130365F36063034303030305C026175");
        assert_eq!(hex::encode_upper(sm.ssc()), "887022120C06C22C");
    }

    #[test]
    fn a_tampered_or_unprotected_response_is_refused() {
        let mut sm = worked_example();
        sm.wrap(&Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1E])).unwrap();
        assert_eq!(sm.unwrap(&resp("990290008E08FA855A5D4C50A8EE9000")), Err(SmError::BadMac));
        assert_eq!(sm.unwrap(&resp("6988")), Err(SmError::Unprotected(0x6988)));
        assert!(matches!(sm.unwrap(&resp("99029000019000")), Err(SmError::Malformed(_))));
    }

    #[test]
    fn terminal_and_chip_sides_agree() {
        let (mut terminal, mut chip) = (worked_example(), worked_example());
        for (data, le) in [(vec![], Some(4usize)), (vec![1, 2, 3], None), (vec![9; 300], Some(65536))] {
            let plain = Command { cla: 0, ins: 0xB0, p1: 1, p2: 2, data, le };
            let protected = terminal.wrap(&plain).unwrap();
            assert_eq!(chip.unwrap_command(&protected).unwrap(), plain);
            let answer = Response { data: vec![0xAA; 40], sw: 0x9000 };
            let sent = chip.wrap_response(&answer).unwrap();
            assert_eq!(terminal.unwrap(&sent).unwrap(), answer);
        }
        let mut forged = terminal.wrap(&Command::new(0, 0xB0, 0, 0).with_le(4)).unwrap();
        forged.p2 = 9;
        assert_eq!(chip.unwrap_command(&forged), Err(SmError::BadMac));
    }
}
