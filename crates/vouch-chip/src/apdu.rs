//! ISO 7816-4 APDUs: command encoding in short and extended form, responses with their status word, and the
//! transport-level repairs chips expect a reader to make (GET RESPONSE after `61xx`, a resend with the right
//! Le after `6Cxx`).

/// Raw APDU exchange with a card: a PC/SC reader, or the emulator in tests.
pub trait CardChannel {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError>;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("the card was removed")]
    CardRemoved,
    #[error("the card reader is gone")]
    ReaderGone,
    #[error("the card's answer is shorter than a status word")]
    ShortResponse,
    #[error("card communication failed: {0}")]
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: Vec<u8>,
    /// Expected response length; `Some(256)` (short) or `Some(65536)` (extended) asks for "up to the maximum".
    pub le: Option<usize>,
}

pub const SW_OK: u16 = 0x9000;

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command { cla, ins, p1, p2, data: Vec::new(), le: None }
    }
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }
    pub fn with_le(mut self, le: usize) -> Command {
        self.le = Some(le);
        self
    }

    /// Reads a command as a card receives it (cases 1 to 4, short and extended).
    pub fn parse(raw: &[u8]) -> Result<Command, TransportError> {
        let malformed = || TransportError::Other("malformed command APDU".into());
        let ([cla, ins, p1, p2], body) = raw.split_first_chunk::<4>().ok_or_else(malformed)?;
        let mut cmd = Command::new(*cla, *ins, *p1, *p2);
        let short_le = |b: u8| if b == 0 { 256 } else { usize::from(b) };
        let long_le = |hi: u8, lo: u8| match usize::from(u16::from_be_bytes([hi, lo])) {
            0 => 65536,
            n => n,
        };
        match body {
            [] => {}
            [le] => cmd.le = Some(short_le(*le)),
            [0, hi, lo] => cmd.le = Some(long_le(*hi, *lo)),
            [0, hi, lo, rest @ ..] => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                let (data, le) = rest.split_at_checked(lc).ok_or_else(malformed)?;
                cmd.data = data.to_vec();
                match le {
                    [] => {}
                    [hi, lo] => cmd.le = Some(long_le(*hi, *lo)),
                    _ => return Err(malformed()),
                }
            }
            [lc, rest @ ..] => {
                let lc = usize::from(*lc);
                let (data, le) = rest.split_at_checked(lc).ok_or_else(malformed)?;
                cmd.data = data.to_vec();
                match le {
                    [] => {}
                    [le] => cmd.le = Some(short_le(*le)),
                    _ => return Err(malformed()),
                }
            }
        }
        Ok(cmd)
    }

    /// Needs the extended form: more than 255 data bytes or more than 256 expected.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.cla, self.ins, self.p1, self.p2];
        let extended = self.is_extended();
        if !self.data.is_empty() {
            if extended {
                out.extend_from_slice(&[0, (self.data.len() >> 8) as u8, self.data.len() as u8]);
            } else {
                out.push(self.data.len() as u8);
            }
            out.extend_from_slice(&self.data);
        }
        if let Some(le) = self.le {
            // With no data, the extended form's 00 marker comes before Le.
            if extended && self.data.is_empty() {
                out.push(0);
            }
            out.extend(encode_le(le, extended));
        }
        out
    }
}

/// Le as written in a command (and in secure messaging's DO97): one byte, 256 written 00, or two, 65536
/// written 0000.
pub fn encode_le(le: usize, extended: bool) -> Vec<u8> {
    if extended {
        let le = if le >= 65536 { 0 } else { le };
        vec![(le >> 8) as u8, le as u8]
    } else {
        vec![if le >= 256 { 0 } else { le as u8 }]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Vec<u8>,
    pub sw: u16,
}

impl Response {
    pub fn parse(raw: &[u8]) -> Result<Response, TransportError> {
        if raw.len() < 2 {
            return Err(TransportError::ShortResponse);
        }
        let (data, sw) = raw.split_at(raw.len() - 2);
        let sw = u16::from_be_bytes([sw.first().copied().unwrap_or(0), sw.get(1).copied().unwrap_or(0)]);
        Ok(Response { data: data.to_vec(), sw })
    }

    pub fn is_ok(&self) -> bool {
        self.sw == SW_OK
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&self.sw.to_be_bytes());
        out
    }
}

/// Longest chain of GET RESPONSE a card may ask for before we stop listening (a hostile chip could ask forever).
const MAX_GET_RESPONSE: usize = 64;

/// Sends a command and repairs the transport-level answers: `61xx` (more data: GET RESPONSE) and `6Cxx` (wrong
/// Le: send again with Le = xx).
pub fn send(channel: &mut dyn CardChannel, command: &Command) -> Result<Response, TransportError> {
    let mut response = Response::parse(&channel.transmit(&command.encode())?)?;
    if response.sw >> 8 == 0x6C {
        let retry = Command { le: Some(usize::from(response.sw as u8).max(1)), ..command.clone() };
        response = Response::parse(&channel.transmit(&retry.encode())?)?;
    }
    let mut data = std::mem::take(&mut response.data);
    for _ in 0..MAX_GET_RESPONSE {
        if response.sw >> 8 != 0x61 {
            return Ok(Response { data, sw: response.sw });
        }
        let available = usize::from(response.sw as u8);
        let get = Command::new(command.cla & 0x03, 0xC0, 0, 0).with_le(if available == 0 { 256 } else { available });
        response = Response::parse(&channel.transmit(&get.encode())?)?;
        data.append(&mut response.data);
    }
    Err(TransportError::Other("the card kept asking for GET RESPONSE".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn short_and_extended_encodings() {
        let select = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(vec![0x01, 0x1E]);
        assert_eq!(select.encode(), vec![0x00, 0xA4, 0x02, 0x0C, 0x02, 0x01, 0x1E]);
        assert_eq!(Command::new(0, 0xB0, 0, 0).with_le(256).encode(), vec![0, 0xB0, 0, 0, 0]);
        assert_eq!(Command::new(0, 0xB0, 0, 0).with_le(0x1000).encode(), vec![0, 0xB0, 0, 0, 0, 0x10, 0x00]);
        assert_eq!(Command::new(0, 0xB0, 0, 0).with_le(65536).encode(), vec![0, 0xB0, 0, 0, 0, 0, 0]);
        let big = Command::new(0, 0x2A, 0, 0).with_data(vec![7; 300]).with_le(65536);
        let enc = big.encode();
        assert_eq!(&enc[4..7], &[0, 0x01, 0x2C]);
        assert_eq!(&enc[enc.len() - 2..], &[0, 0]);
    }

    #[test]
    fn commands_parse_back_in_every_case() {
        for cmd in [
            Command::new(0, 0xA4, 2, 0x0C),
            Command::new(0, 0xA4, 2, 0x0C).with_data(vec![1, 0x1E]),
            Command::new(0, 0xB0, 0, 0).with_le(256),
            Command::new(0, 0xB0, 0, 0).with_le(0x1000),
            Command::new(0, 0x86, 0, 0).with_data(vec![0x7C, 0]).with_le(256),
            Command::new(0, 0x2A, 0, 0).with_data(vec![7; 300]).with_le(65536),
            Command::new(0, 0x2A, 0, 0).with_data(vec![7; 300]),
        ] {
            assert_eq!(Command::parse(&cmd.encode()).unwrap(), cmd);
        }
        assert!(Command::parse(&[0, 0xA4, 2]).is_err());
        assert!(Command::parse(&[0, 0xA4, 2, 0x0C, 5, 1]).is_err());
        assert!(Command::parse(&[0, 0xA4, 2, 0x0C, 0, 0, 9, 1]).is_err());
    }

    /// A card that answers 6Cxx to a wrong Le, then splits its answer over 61xx.
    struct Fussy {
        seen: Vec<Vec<u8>>,
    }
    impl CardChannel for Fussy {
        fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
            self.seen.push(command.to_vec());
            Ok(match (command[1], command.last().copied()) {
                (0xB0, Some(0x00)) => vec![0x6C, 0x04],
                (0xB0, Some(0x04)) => vec![1, 2, 0x61, 0x02],
                (0xC0, _) => vec![3, 4, 0x90, 0x00],
                _ => vec![0x6D, 0x00],
            })
        }
    }

    #[test]
    fn wrong_le_and_get_response_are_repaired() {
        let mut card = Fussy { seen: Vec::new() };
        let r = send(&mut card, &Command::new(0, 0xB0, 0, 0).with_le(256)).unwrap();
        assert_eq!(r, Response { data: vec![1, 2, 3, 4], sw: SW_OK });
        assert_eq!(card.seen.len(), 3);
        assert_eq!(Response::parse(&[0x90]), Err(TransportError::ShortResponse));
    }
}
