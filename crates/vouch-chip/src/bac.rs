//! Basic Access Control (ICAO 9303 part 11 §4.3): a challenge-response with keys derived from the MRZ, then
//! 3DES secure messaging under session keys both sides derive. The chip's side is here too, for the emulator.

use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::access_key::MrzKey;
use crate::apdu::{self, CardChannel, Command, Response, TransportError};
use crate::crypto::des3::{self, CryptoError, KDF_ENC, KDF_MAC};
use crate::secure_messaging::SecureMessaging;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BacError {
    #[error("the chip refused the access key: check the document number, date of birth and date of expiry")]
    AccessDenied,
    #[error("the chip does not support BAC (status {0:04X})")]
    NotSupported(u16),
    #[error("the chip's BAC answer is wrong: {0}")]
    BadChipResponse(&'static str),
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl From<CryptoError> for BacError {
    fn from(_: CryptoError) -> BacError {
        BacError::BadChipResponse("it is not a whole number of blocks")
    }
}

struct Keys {
    enc: [u8; 16],
    mac: [u8; 16],
}

fn keys(seed: &[u8]) -> Keys {
    Keys { enc: des3::derive_key(seed, KDF_ENC), mac: des3::derive_key(seed, KDF_MAC) }
}

fn session(k_ifd: &[u8], k_ic: &[u8], rnd_ic: &[u8], rnd_ifd: &[u8]) -> SecureMessaging {
    let seed: Vec<u8> = k_ifd.iter().zip(k_ic).map(|(a, b)| a ^ b).collect();
    let ks = keys(&seed);
    let mut ssc = [0u8; 8];
    ssc[..4].copy_from_slice(rnd_ic.get(4..8).unwrap_or(&[0; 4]));
    ssc[4..].copy_from_slice(rnd_ifd.get(4..8).unwrap_or(&[0; 4]));
    SecureMessaging::new(ks.enc, ks.mac, ssc)
}

/// The terminal's half once RND.IC, RND.IFD and K.IFD are known: builds MUTUAL AUTHENTICATE's data, and
/// checks the chip's answer into a session.
pub struct Terminal {
    keys: Keys,
    rnd_ic: [u8; 8],
    rnd_ifd: [u8; 8],
    k_ifd: [u8; 16],
}

impl Terminal {
    pub fn new(key: &MrzKey, rnd_ic: [u8; 8], rnd_ifd: [u8; 8], k_ifd: [u8; 16]) -> Terminal {
        Terminal { keys: keys(&key.bac_key_seed()), rnd_ic, rnd_ifd, k_ifd }
    }

    /// E.IFD ‖ M.IFD.
    pub fn cryptogram(&self) -> Result<Vec<u8>, BacError> {
        let mut s = self.rnd_ifd.to_vec();
        s.extend_from_slice(&self.rnd_ic);
        s.extend_from_slice(&self.k_ifd);
        let mut e = des3::encrypt_cbc(&self.keys.enc, &s, [0; 8])?;
        let m = des3::retail_mac(&self.keys.mac, &des3::pad(&e))?;
        e.extend_from_slice(&m);
        Ok(e)
    }

    /// Checks E.IC ‖ M.IC: the MAC, and that the chip saw our nonce; then the session keys and counter.
    pub fn complete(&self, answer: &[u8]) -> Result<SecureMessaging, BacError> {
        if answer.len() != 40 {
            return Err(BacError::BadChipResponse("it is not 40 bytes"));
        }
        let (e_ic, m_ic) = answer.split_at(32);
        let expected = des3::retail_mac(&self.keys.mac, &des3::pad(e_ic))?;
        if !bool::from(expected.as_slice().ct_eq(m_ic)) {
            return Err(BacError::BadChipResponse("its MAC is wrong"));
        }
        let r = des3::decrypt_cbc(&self.keys.enc, e_ic, [0; 8])?;
        let (rnd_ic, rest) = r.split_at(8);
        let (rnd_ifd, k_ic) = rest.split_at(8);
        if rnd_ic != self.rnd_ic || rnd_ifd != self.rnd_ifd {
            return Err(BacError::BadChipResponse("it does not echo the nonces"));
        }
        Ok(session(&self.k_ifd, k_ic, &self.rnd_ic, &self.rnd_ifd))
    }
}

/// Runs BAC with the chip: GET CHALLENGE, MUTUAL AUTHENTICATE, and the session that follows.
pub fn establish(
    channel: &mut dyn CardChannel,
    key: &MrzKey,
    rng: &mut dyn RngCore,
) -> Result<SecureMessaging, BacError> {
    let challenge = apdu::send(channel, &Command::new(0x00, 0x84, 0x00, 0x00).with_le(8))?;
    if !challenge.is_ok() || challenge.data.len() != 8 {
        return Err(BacError::NotSupported(challenge.sw));
    }
    let mut rnd_ic = [0u8; 8];
    rnd_ic.copy_from_slice(&challenge.data);
    let (mut rnd_ifd, mut k_ifd) = ([0u8; 8], [0u8; 16]);
    rng.fill_bytes(&mut rnd_ifd);
    rng.fill_bytes(&mut k_ifd);
    let terminal = Terminal::new(key, rnd_ic, rnd_ifd, k_ifd);
    let auth = Command::new(0x00, 0x82, 0x00, 0x00).with_data(terminal.cryptogram()?).with_le(40);
    let answer = apdu::send(channel, &auth)?;
    match answer.sw {
        apdu::SW_OK => terminal.complete(&answer.data),
        0x6300 | 0x6982 | 0x6A80 => Err(BacError::AccessDenied),
        sw => Err(BacError::NotSupported(sw)),
    }
}

/// The chip's half: answers MUTUAL AUTHENTICATE for the challenge it issued, or refuses with 6300.
pub fn chip_answer(
    key: &MrzKey,
    rnd_ic: [u8; 8],
    k_ic: [u8; 16],
    command_data: &[u8],
) -> Result<(Response, Option<SecureMessaging>), CryptoError> {
    let denied = Ok((Response { data: vec![], sw: 0x6300 }, None));
    let keys = keys(&key.bac_key_seed());
    if command_data.len() != 40 {
        return denied;
    }
    let (e_ifd, m_ifd) = command_data.split_at(32);
    let expected = des3::retail_mac(&keys.mac, &des3::pad(e_ifd))?;
    if !bool::from(expected.as_slice().ct_eq(m_ifd)) {
        return denied;
    }
    let s = des3::decrypt_cbc(&keys.enc, e_ifd, [0; 8])?;
    let (rnd_ifd, rest) = s.split_at(8);
    let (echoed_ic, k_ifd) = rest.split_at(8);
    if echoed_ic != rnd_ic {
        return denied;
    }
    let mut r = rnd_ic.to_vec();
    r.extend_from_slice(rnd_ifd);
    r.extend_from_slice(&k_ic);
    let mut e_ic = des3::encrypt_cbc(&keys.enc, &r, [0; 8])?;
    let m_ic = des3::retail_mac(&keys.mac, &des3::pad(&e_ic))?;
    e_ic.extend_from_slice(&m_ic);
    let sm = session(k_ifd, &k_ic, &rnd_ic, rnd_ifd);
    Ok((Response { data: e_ic, sw: apdu::SW_OK }, Some(sm)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn h<const N: usize>(s: &str) -> [u8; N] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    fn example_key() -> MrzKey {
        MrzKey::new("L898902C", "690806", "940623").unwrap()
    }

    /// ICAO 9303 part 11 appendix D.3, every intermediate value.
    #[test]
    fn the_worked_example_authenticates() {
        let t = Terminal::new(
            &example_key(),
            h("4608F91988702212"),
            h("781723860C06C226"),
            h("0B795240CB7049B01C19B33E32804F0B"),
        );
        assert_eq!(
            hex::encode_upper(t.cryptogram().unwrap()),
            "72C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A7"
        );
        let answer =
            hex::decode("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D7449").unwrap();
        let sm = t.complete(&answer).unwrap();
        assert_eq!(hex::encode_upper(sm.ssc()), "887022120C06C226");
        // The chip side computes the same answer from its K.IC.
        let (resp, _) = chip_answer(
            &example_key(),
            h("4608F91988702212"),
            h("0B4F80323EB3191CB04970CB4052790B"),
            &t.cryptogram().unwrap(),
        )
        .unwrap();
        assert_eq!(resp.data, answer);
        let mut tampered = answer.clone();
        tampered[39] ^= 1;
        assert_eq!(t.complete(&tampered).err(), Some(BacError::BadChipResponse("its MAC is wrong")));
    }

    /// A chip with BAC, over the channel: the session keys the two sides derive must agree.
    struct Chip {
        key: MrzKey,
        rnd_ic: [u8; 8],
        sm: Option<SecureMessaging>,
    }

    impl CardChannel for Chip {
        fn transmit(&mut self, raw: &[u8]) -> Result<Vec<u8>, TransportError> {
            let r = match (raw[1], self.sm.as_mut()) {
                (0x84, _) => Response { data: self.rnd_ic.to_vec(), sw: 0x9000 },
                (0x82, _) => {
                    let (r, sm) = chip_answer(&self.key, self.rnd_ic, [7; 16], &raw[5..45]).unwrap();
                    self.sm = sm;
                    r
                }
                (0xB0, Some(sm)) => {
                    let cmd = Command {
                        cla: raw[0],
                        ins: raw[1],
                        p1: raw[2],
                        p2: raw[3],
                        data: raw[5..raw.len() - 1].to_vec(),
                        le: Some(256),
                    };
                    let plain = sm.unwrap_command(&cmd).unwrap();
                    sm.wrap_response(&Response { data: vec![0x60; plain.le.unwrap()], sw: 0x9000 }).unwrap()
                }
                _ => Response { data: vec![], sw: 0x6D00 },
            };
            Ok(r.encode())
        }
    }

    #[test]
    fn terminal_and_chip_agree_and_a_wrong_mrz_is_access_denied() {
        let mut rng = rand::thread_rng();
        let mut chip = Chip { key: example_key(), rnd_ic: [1, 2, 3, 4, 5, 6, 7, 8], sm: None };
        let mut sm = establish(&mut chip, &example_key(), &mut rng).unwrap();
        let read = sm.wrap(&Command::new(0, 0xB0, 0, 0).with_le(5)).unwrap();
        let raw = chip.transmit(&read.encode()).unwrap();
        let plain = sm.unwrap(&Response::parse(&raw).unwrap()).unwrap();
        assert_eq!(plain.data, vec![0x60; 5]);

        let wrong = MrzKey::new("L898902C", "690806", "940624").unwrap();
        let mut chip = Chip { key: example_key(), rnd_ic: [9; 8], sm: None };
        assert_eq!(establish(&mut chip, &wrong, &mut rng).err(), Some(BacError::AccessDenied));
    }
}
