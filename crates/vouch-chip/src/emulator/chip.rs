//! The emulated eMRTD chip: the LDS1 application with BAC, PACE, secure messaging, READ BINARY (short and
//! extended, odd INS for offsets past 32 KB) and active authentication, serving a generated test passport.

use rand::RngCore;

use crate::access_key::MrzKey;
use crate::apdu::{Command, Response, SW_OK};
use crate::bac;
use crate::chip_auth::ChipPrivateKey;
use crate::crypto::cipher::CipherKind;
use crate::crypto::hash::HashAlgorithm;
use crate::crypto::rsa_sig;
use crate::lds;
use crate::pace::{ChipPace, Password};
use crate::secure_messaging::SecureMessaging;
use crate::tlv;

use super::passport::{PrivateKey, TestPassport};

#[derive(Debug, Clone)]
pub struct ChipOptions {
    /// Whether the ATR announces, and the chip accepts, extended Lc/Le.
    pub extended_length: bool,
    /// The most plain data one extended READ BINARY returns.
    pub max_extended_read: usize,
}

impl Default for ChipOptions {
    fn default() -> ChipOptions {
        ChipOptions { extended_length: true, max_extended_read: 0xFF00 }
    }
}

const SW_WRONG_LENGTH: u16 = 0x6700;
const SW_SECURITY: u16 = 0x6982;
const SW_SM_BROKEN: u16 = 0x6988;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_WRONG_DATA: u16 = 0x6A80;
const SW_WRONG_P1P2: u16 = 0x6B00;
const SW_INS: u16 = 0x6D00;

pub struct EmulatedChip {
    passport: TestPassport,
    options: ChipOptions,
    mrz_key: Option<MrzKey>,
    current: Option<u16>,
    challenge: Option<[u8; 8]>,
    pace: Option<ChipPace>,
    sm: Option<SecureMessaging>,
    /// Chip authentication chosen by MSE:Set AT, waiting for the terminal's key in GENERAL AUTHENTICATE.
    ca_pending: bool,
    /// The session chip authentication agreed: it takes over once the current command's answer is sent.
    next_sm: Option<SecureMessaging>,
}

fn sw(sw: u16) -> Response {
    Response { data: Vec::new(), sw }
}

impl EmulatedChip {
    pub fn new(passport: TestPassport, options: ChipOptions) -> EmulatedChip {
        let mrz_key = crate::lds::mrz::parse(&passport.mrz).ok().and_then(|m| MrzKey::from_mrz(&m).ok());
        EmulatedChip {
            passport,
            options,
            mrz_key,
            current: None,
            challenge: None,
            pace: None,
            sm: None,
            ca_pending: false,
            next_sm: None,
        }
    }

    pub fn passport(&self) -> &TestPassport {
        &self.passport
    }

    /// ATR with T=1 and historical bytes whose card-capabilities byte announces extended length (or not).
    pub fn atr(&self) -> Vec<u8> {
        let third = if self.options.extended_length { 0xC0 } else { 0x80 };
        let mut atr = vec![0x3B, 0x85, 0x80, 0x01, 0x80, 0x73, 0x00, 0x00, third];
        let tck = atr.iter().skip(1).fold(0u8, |a, b| a ^ b);
        atr.push(tck);
        atr
    }

    /// Power cycle or reset: everything volatile is gone.
    pub fn reset(&mut self) {
        self.current = None;
        self.challenge = None;
        self.pace = None;
        self.sm = None;
        self.ca_pending = false;
        self.next_sm = None;
    }

    pub fn process(&mut self, raw: &[u8]) -> Vec<u8> {
        let Ok(cmd) = Command::parse(raw) else { return sw(SW_WRONG_LENGTH).encode() };
        if cmd.is_extended() && !self.options.extended_length {
            return sw(SW_WRONG_LENGTH).encode();
        }
        if cmd.cla & 0x0C == 0x0C {
            let Some(mut sm) = self.sm.take() else { return sw(SW_SM_BROKEN).encode() };
            let plain = match sm.unwrap_command(&cmd) {
                Ok(plain) => plain,
                // A wrong MAC ends the session, as on a real chip.
                Err(_) => return sw(SW_SM_BROKEN).encode(),
            };
            let answer = self.protected(&plain, cmd.is_extended());
            let wrapped = sm.wrap_response(&answer);
            self.sm = Some(self.next_sm.take().unwrap_or(sm));
            return match wrapped {
                Ok(r) => r.encode(),
                Err(_) => sw(SW_SM_BROKEN).encode(),
            };
        }
        // A plain command ends secure messaging.
        self.sm = None;
        self.plain(&cmd).encode()
    }

    fn select(&mut self, cmd: &Command, protected: bool) -> Response {
        match cmd.p1 {
            0x04 if cmd.data == lds::LDS1_AID => {
                self.current = None;
                sw(SW_OK)
            }
            0x04 => sw(SW_NOT_FOUND),
            0x00 | 0x02 => {
                let [hi, lo] = cmd.data.as_slice() else { return sw(SW_WRONG_DATA) };
                let fid = u16::from_be_bytes([*hi, *lo]);
                let exists = (fid == lds::EF_CARD_ACCESS && self.passport.card_access.is_some())
                    || self.passport.files.contains_key(&fid);
                if !exists {
                    return sw(SW_NOT_FOUND);
                }
                if !protected && fid != lds::EF_CARD_ACCESS {
                    return sw(SW_SECURITY);
                }
                self.current = Some(fid);
                sw(SW_OK)
            }
            _ => sw(SW_WRONG_P1P2),
        }
    }

    fn file(&self, fid: u16) -> Option<&[u8]> {
        if fid == lds::EF_CARD_ACCESS {
            return self.passport.card_access.as_deref();
        }
        self.passport.files.get(&fid).map(Vec::as_slice)
    }

    fn sfi_file(sfi: u8) -> u16 {
        match sfi {
            0x1C => lds::EF_CARD_ACCESS,
            0x1D => lds::EF_SOD,
            0x1E => lds::EF_COM,
            n => 0x0100 | u16::from(n),
        }
    }

    fn read(&mut self, cmd: &Command, extended: bool, protected: bool) -> Response {
        let (fid, offset) = if cmd.ins == 0xB1 {
            let Ok(Some(off)) = tlv::find(&cmd.data, 0x54) else { return sw(SW_WRONG_DATA) };
            (self.current, off.value.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b)))
        } else if cmd.p1 & 0x80 != 0 {
            let fid = Self::sfi_file(cmd.p1 & 0x1F);
            self.current = Some(fid);
            (Some(fid), usize::from(cmd.p2))
        } else {
            (self.current, usize::from(u16::from_be_bytes([cmd.p1 & 0x7F, cmd.p2])))
        };
        let Some(fid) = fid else { return sw(0x6986) };
        if !protected && fid != lds::EF_CARD_ACCESS {
            return sw(SW_SECURITY);
        }
        let Some(bytes) = self.file(fid) else { return sw(SW_NOT_FOUND) };
        if offset > bytes.len() {
            return sw(SW_WRONG_P1P2);
        }
        let cap = if extended { self.options.max_extended_read } else { crate::reader::SHORT_BLOCK };
        let wanted = cmd.le.unwrap_or(256).min(cap);
        let chunk = bytes.get(offset..(offset + wanted).min(bytes.len())).unwrap_or(&[]).to_vec();
        let data = if cmd.ins == 0xB1 { tlv::encode(0x53, &chunk) } else { chunk };
        Response { data, sw: SW_OK }
    }

    fn plain(&mut self, cmd: &Command) -> Response {
        match cmd.ins {
            0xA4 => self.select(cmd, false),
            0xB0 | 0xB1 => self.read(cmd, cmd.is_extended(), false),
            0x84 if self.passport.bac => {
                let mut rnd = [0u8; 8];
                rand::rngs::OsRng.fill_bytes(&mut rnd);
                self.challenge = Some(rnd);
                Response { data: rnd.to_vec(), sw: SW_OK }
            }
            0x82 if self.passport.bac => {
                let (Some(rnd_ic), Some(key)) = (self.challenge.take(), self.mrz_key.as_ref()) else {
                    return sw(0x6985);
                };
                let mut k_ic = [0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut k_ic);
                match bac::chip_answer(key, rnd_ic, k_ic, &cmd.data) {
                    Ok((r, sm)) => {
                        self.sm = sm;
                        r
                    }
                    Err(_) => sw(0x6300),
                }
            }
            0x22 if cmd.p1 == 0xC1 && cmd.p2 == 0xA4 => self.mse_set_at(cmd),
            0x86 => {
                let Some(pace) = self.pace.as_mut() else { return sw(0x6985) };
                let (r, sm) = pace.general_authenticate(cmd);
                if sm.is_some() {
                    self.sm = sm;
                    self.pace = None;
                }
                r
            }
            _ => sw(if self.passport.bac || !self.passport.pace.is_empty() { SW_SECURITY } else { SW_INS }),
        }
    }

    fn mse_set_at(&mut self, cmd: &Command) -> Response {
        let Ok(items) = tlv::parse_all(&cmd.data) else { return sw(SW_WRONG_DATA) };
        let value = |tag| items.iter().find(|t| t.tag == tag).map(|t| t.value.to_vec());
        let (Some(oid), Some(reference)) = (value(0x80), value(0x83)) else { return sw(SW_WRONG_DATA) };
        let oid = crate::asn1::oid_to_string(&oid).unwrap_or_default();
        let parameter = value(0x84).and_then(|v| v.first().copied()).map(u64::from);
        let info = self
            .passport
            .pace
            .iter()
            .find(|i| i.oid == oid && parameter.is_none_or(|p| Some(p) == i.parameter_id))
            .cloned();
        let password = match reference.as_slice() {
            [1] => self.mrz_key.clone().map(Password::Mrz),
            [2] => Some(Password::Can(self.passport.can.clone())),
            _ => None,
        };
        match (info, password) {
            (Some(info), Some(password)) => match ChipPace::new(info, &password) {
                Ok(pace) => {
                    let pace = match &self.passport.ca_key {
                        Some((ChipPrivateKey::Ec { d, .. }, _)) => pace.with_chip_key(d.clone()),
                        _ => pace,
                    };
                    self.pace = Some(pace);
                    sw(SW_OK)
                }
                Err(_) => sw(SW_WRONG_DATA),
            },
            _ => sw(SW_WRONG_DATA),
        }
    }

    fn protected(&mut self, cmd: &Command, extended: bool) -> Response {
        match cmd.ins {
            0xA4 => self.select(cmd, true),
            0xB0 | 0xB1 => self.read(cmd, extended, true),
            0x88 => self.internal_authenticate(cmd),
            0x22 if cmd.p1 == 0x41 && cmd.p2 == 0xA6 => self.chip_auth_kat(cmd),
            0x22 if cmd.p1 == 0x41 && cmd.p2 == 0xA4 => self.chip_auth_at(cmd),
            0x86 if self.ca_pending => self.chip_auth_general_authenticate(cmd),
            0x84 => {
                let mut rnd = vec![0u8; cmd.le.unwrap_or(8).min(32)];
                rand::rngs::OsRng.fill_bytes(&mut rnd);
                Response { data: rnd, sw: SW_OK }
            }
            _ => sw(SW_INS),
        }
    }

    /// Chip authentication with 3DES: MSE:Set KAT carries the terminal's ephemeral key in tag 91.
    fn chip_auth_kat(&mut self, cmd: &Command) -> Response {
        let Some((key, CipherKind::Des3)) = &self.passport.ca_key else { return sw(SW_WRONG_DATA) };
        let Ok(Some(public)) = tlv::find(&cmd.data, 0x91) else { return sw(SW_WRONG_DATA) };
        match key.session(CipherKind::Des3, public.value) {
            Some(next) => {
                self.next_sm = Some(next);
                sw(SW_OK)
            }
            None => sw(SW_WRONG_DATA),
        }
    }

    /// Chip authentication with AES, first half: MSE:Set AT names the protocol.
    fn chip_auth_at(&mut self, cmd: &Command) -> Response {
        let Some((key, cipher)) = &self.passport.ca_key else { return sw(SW_WRONG_DATA) };
        let Ok(Some(oid)) = tlv::find(&cmd.data, 0x80) else { return sw(SW_WRONG_DATA) };
        let ours = crate::security_infos::ca_oid(key.agreement(), *cipher);
        if crate::asn1::oid_to_string(oid.value).ok().as_deref() != Some(ours.as_str()) {
            return sw(SW_WRONG_DATA);
        }
        self.ca_pending = true;
        sw(SW_OK)
    }

    /// Chip authentication with AES, second half: the ephemeral key in `7C { 80 }`; the answer is empty.
    fn chip_auth_general_authenticate(&mut self, cmd: &Command) -> Response {
        self.ca_pending = false;
        let Some((key, cipher)) = &self.passport.ca_key else { return sw(SW_WRONG_DATA) };
        let public = tlv::find(&cmd.data, 0x7C)
            .ok()
            .flatten()
            .and_then(|outer| tlv::find(outer.value, 0x80).ok().flatten().map(|t| t.value.to_vec()));
        match public.and_then(|p| key.session(*cipher, &p)) {
            Some(next) => {
                self.next_sm = Some(next);
                Response { data: vec![0x7C, 0x00], sw: SW_OK }
            }
            None => sw(SW_WRONG_DATA),
        }
    }

    /// Active authentication: RSA signs with ISO/IEC 9796-2 (SHA-1), EC with plain ECDSA over SHA-256 (the
    /// algorithm DG14 announces).
    fn internal_authenticate(&self, cmd: &Command) -> Response {
        if cmd.data.len() != 8 {
            return sw(SW_WRONG_DATA);
        }
        let signature = match &self.passport.aa_key {
            Some(PrivateKey::Rsa { key, .. }) => rsa_sig::sign_iso9796_2(key, HashAlgorithm::Sha1, &cmd.data).ok(),
            Some(PrivateKey::Ec { curve, d }) => {
                let (r, s) = curve.ecdsa_sign(d, &HashAlgorithm::Sha256.digest(&cmd.data));
                Some(curve.plain_signature(&r, &s))
            }
            None => return sw(SW_INS),
        };
        match signature {
            Some(data) => Response { data, sw: SW_OK },
            None => sw(0x6F00),
        }
    }
}
