//! PACE (ICAO 9303 part 11 §4.4, BSI TR-03110): password-authenticated key agreement from the MRZ or the CAN.
//! Built: ECDH with Generic Mapping on every standardised curve, with 3DES and AES-128/192/256 secure messaging,
//! and Chip Authentication Mapping (PACE-CAM, §4.4.3.5), where the chip also proves it holds its DG14 key.
//! The chip's side is here too, for the emulator.
//!
//! Steps: MSE:Set AT selects the protocol and password; the chip sends a nonce encrypted under K_π; both sides map
//! the curve's generator with the nonce and an ECDH (G' = s·G + H); they agree a key on G'; and each proves it
//! holds the session keys with a MAC over the other's public key.

use rand::RngCore;
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use crate::access_key::MrzKey;
use crate::apdu::{self, CardChannel, Command, Response, TransportError};
use crate::asn1;
use crate::crypto::cipher::{CipherKind, Key, KDF_PI};
use crate::crypto::des3;
use crate::crypto::ec::{Curve, Point};
use crate::secure_messaging::SecureMessaging;
use crate::security_infos::{Agreement, Mapping, PaceInfo};
use crate::tlv;

/// The PACE password.
#[derive(Clone)]
pub enum Password {
    Mrz(MrzKey),
    /// The 6-digit card access number printed on the document.
    Can(String),
}

/// Never logged: the MRZ key is personal data and the CAN opens the chip.
impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Password::Mrz(_) => "Password::Mrz(..)",
            Password::Can(_) => "Password::Can(..)",
        })
    }
}

/// Why typed access data cannot open a chip; the message is for the person typing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the MRZ cannot be read: {0}")]
    Mrz(String),
    #[error("the MRZ's check digits do not add up: retype it")]
    MrzCheckDigits,
    #[error(transparent)]
    Key(#[from] crate::access_key::AccessKeyError),
    #[error("give the full MRZ, or the document number with the dates of birth and expiry, or the CAN")]
    Missing,
}

fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl Password {
    /// The password from what a clerk or a scanner gives: the whole MRZ, the three key fields, or the CAN
    /// (tried in that order).
    pub fn from_parts(
        mrz_text: Option<&str>,
        document_number: Option<&str>,
        date_of_birth: Option<&str>,
        date_of_expiry: Option<&str>,
        can: Option<&str>,
    ) -> Result<Password, PasswordError> {
        if let Some(text) = given(mrz_text) {
            let parsed = crate::lds::mrz::parse(text).map_err(|e| PasswordError::Mrz(e.to_string()))?;
            if !parsed.checks.all_valid() {
                return Err(PasswordError::MrzCheckDigits);
            }
            return Ok(Password::Mrz(MrzKey::from_mrz(&parsed)?));
        }
        if let (Some(doc), Some(dob), Some(exp)) = (given(document_number), given(date_of_birth), given(date_of_expiry))
        {
            return Ok(Password::Mrz(MrzKey::new(&doc.to_uppercase(), dob, exp)?));
        }
        if let Some(can) = given(can) {
            if can.len() != 6 || !can.bytes().all(|b| b.is_ascii_digit()) {
                return Err(crate::access_key::AccessKeyError::Can.into());
            }
            return Ok(Password::Can(can.to_string()));
        }
        Err(PasswordError::Missing)
    }

    /// The reference MSE:Set AT names: 1 for the MRZ, 2 for the CAN.
    pub fn reference(&self) -> u8 {
        match self {
            Password::Mrz(_) => 1,
            Password::Can(_) => 2,
        }
    }

    /// f(π): SHA-1 of the MRZ information, or the CAN's characters.
    fn material(&self) -> Vec<u8> {
        match self {
            Password::Mrz(key) => Sha1::digest(key.mrz_information().as_bytes()).to_vec(),
            Password::Can(can) => can.as_bytes().to_vec(),
        }
    }

    pub fn key(&self, cipher: CipherKind) -> Key {
        Key::derive(cipher, &self.material(), KDF_PI)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaceError {
    #[error("the chip refused the password: check the MRZ or the CAN")]
    AccessDenied,
    #[error("PACE {0} is not supported by this reader")]
    Unsupported(String),
    #[error("the chip refused PACE (status {0:04X})")]
    Refused(u16),
    #[error("the chip's PACE answer is wrong: {0}")]
    BadChipResponse(String),
    #[error("the chip's authentication token is wrong: it does not hold the session keys")]
    BadToken,
    #[error(transparent)]
    Transport(#[from] TransportError),
}

fn bad(what: impl std::fmt::Display) -> PaceError {
    PaceError::BadChipResponse(what.to_string())
}

/// The curve of a PACEInfo, if this reader can run it.
pub fn curve_of(info: &PaceInfo) -> Result<Curve, PaceError> {
    let cam_with_aes = info.mapping == Mapping::ChipAuthentication && info.cipher != CipherKind::Des3;
    if info.agreement != Agreement::Ecdh || !(info.mapping == Mapping::Generic || cam_with_aes) {
        return Err(PaceError::Unsupported(format!("{:?} {:?}", info.agreement, info.mapping)));
    }
    let id = info.parameter_id.ok_or_else(|| PaceError::Unsupported("proprietary domain parameters".into()))?;
    u32::try_from(id)
        .ok()
        .and_then(Curve::by_pace_id)
        .ok_or_else(|| PaceError::Unsupported(format!("domain parameters {id}")))
}

/// The public key data object the authentication tokens are computed over: `7F49 { 06 OID, 86 point }`.
fn public_key_data(oid: &str, point: &[u8]) -> Vec<u8> {
    let mut inner = tlv::encode(0x06, &asn1::oid_content(oid));
    inner.extend(tlv::encode(0x86, point));
    tlv::encode(0x7F49, &inner)
}

fn token(ks_mac: &Key, oid: &str, point: &[u8]) -> Result<[u8; 8], PaceError> {
    let data = public_key_data(oid, point);
    let data = if ks_mac.kind == CipherKind::Des3 { des3::pad(&data) } else { data };
    ks_mac.mac(&data).map_err(bad)
}

/// `7C { tag value }`, the dynamic authentication data of GENERAL AUTHENTICATE.
fn dynamic_data(tag: u32, value: &[u8]) -> Vec<u8> {
    tlv::encode(0x7C, &tlv::encode(tag, value))
}

/// The first GENERAL AUTHENTICATE asks for the nonce with empty dynamic authentication data.
const EMPTY_DYNAMIC_DATA: [u8; 2] = [0x7C, 0x00];

fn read_dynamic(data: &[u8], tag: u32) -> Result<Vec<u8>, PaceError> {
    let (outer, _) = tlv::expect(data, 0x7C).map_err(bad)?;
    outer
        .children()
        .map_err(bad)?
        .into_iter()
        .find(|t| t.tag == tag)
        .map(|t| t.value.to_vec())
        .ok_or_else(|| bad(format!("no {tag:02X} in its answer")))
}

fn mse_set_at(info: &PaceInfo, password: &Password, with_parameter_id: bool) -> Command {
    let mut data = tlv::encode(0x80, &asn1::oid_content(&info.oid));
    data.extend(tlv::encode(0x83, &[password.reference()]));
    if let (true, Some(id)) = (with_parameter_id, info.parameter_id) {
        data.extend(tlv::encode(0x84, &[id as u8]));
    }
    Command::new(0x00, 0x22, 0xC1, 0xA4).with_data(data)
}

fn general_authenticate(last: bool, data: Vec<u8>) -> Command {
    Command::new(if last { 0x00 } else { 0x10 }, 0x86, 0x00, 0x00).with_data(data).with_le(256)
}

/// What establishing PACE used.
#[derive(Debug, Clone)]
pub struct PaceOutcome {
    pub curve: &'static str,
    pub sent_parameter_id: bool,
    /// With Chip Authentication Mapping: what the chip sent to prove it holds its static key, checked once DG14
    /// (or EF.CardSecurity) gives that key.
    pub cam: Option<CamEvidence>,
}

/// PACE-CAM's proof: the chip's mapping key PK_Map,IC and CA_IC = SK_IC⁻¹ · SK_Map,IC mod n, so that
/// PK_Map,IC = CA_IC · PK_IC. Neither reveals SK_IC.
#[derive(Debug, Clone)]
pub struct CamEvidence {
    pub curve: Curve,
    pub chip_mapping_key: Vec<u8>,
    pub ca_data: num_bigint_dig::BigUint,
}

/// IV = E(KS_Enc, -1): the encryption of the all-ones block (ICAO 9303 part 11 §4.4.3.5).
fn cam_iv(ks_enc: &Key) -> Result<Vec<u8>, PaceError> {
    ks_enc.encrypt_block(&vec![0xFF; ks_enc.kind.block()]).map_err(bad)
}

/// Runs PACE as the terminal. `offered` is the number of PACEInfos on the card: with more than one, the
/// parameter ID goes in MSE:Set AT's tag 84, and a chip that refuses it is asked again without (and the other
/// way round), the quirk several national chips need.
pub fn establish(
    channel: &mut dyn CardChannel,
    info: &PaceInfo,
    password: &Password,
    offered: usize,
) -> Result<(SecureMessaging, PaceOutcome), PaceError> {
    let curve = curve_of(info)?;
    let mut with_id = offered > 1;
    let mut r = apdu::send(channel, &mse_set_at(info, password, with_id))?;
    if matches!(r.sw, 0x6A80 | 0x6A86 | 0x6A88) && info.parameter_id.is_some() {
        with_id = !with_id;
        r = apdu::send(channel, &mse_set_at(info, password, with_id))?;
    }
    if !r.is_ok() && r.sw >> 4 != 0x63C {
        return Err(PaceError::Refused(r.sw));
    }

    // Step 1: the nonce.
    let r = apdu::send(channel, &general_authenticate(false, EMPTY_DYNAMIC_DATA.to_vec()))?;
    ensure_ok(&r)?;
    let z = read_dynamic(&r.data, 0x80)?;
    let k_pi = password.key(info.cipher);
    let s = k_pi.decrypt_cbc(&z, &vec![0; info.cipher.block()]).map_err(bad)?;
    let s = num_bigint_dig::BigUint::from_bytes_be(&s);

    // Step 2: generic mapping.
    let sk_map = curve.random_scalar();
    let pk_map = curve.encode_point(&curve.mul(&sk_map, &curve.g)).map_err(bad)?;
    let r = apdu::send(channel, &general_authenticate(false, dynamic_data(0x81, &pk_map)))?;
    ensure_ok(&r)?;
    let chip_map = read_dynamic(&r.data, 0x82)?;
    if chip_map == pk_map {
        return Err(bad("its mapping key equals ours"));
    }
    let h = curve.mul(&sk_map, &curve.decode_point(&chip_map).map_err(bad)?);
    if h == Point::Infinity {
        return Err(bad("the mapping reached infinity"));
    }
    let mapped = Curve { g: curve.add(&curve.mul(&s, &curve.g), &h), ..curve.clone() };

    // Step 3: key agreement on the mapped generator.
    let sk = mapped.random_scalar();
    let pk = mapped.encode_point(&mapped.mul(&sk, &mapped.g)).map_err(bad)?;
    let r = apdu::send(channel, &general_authenticate(false, dynamic_data(0x83, &pk)))?;
    ensure_ok(&r)?;
    let chip_pk = read_dynamic(&r.data, 0x84)?;
    if chip_pk == pk {
        return Err(bad("its ephemeral key equals ours"));
    }
    let secret = mapped.shared_secret(&sk, &mapped.decode_point(&chip_pk).map_err(bad)?).map_err(bad)?;
    let sm = SecureMessaging::from_secret(info.cipher, &secret);
    let ks_mac = Key::derive(info.cipher, &secret, crate::crypto::cipher::KDF_MAC);

    // Step 4: mutual authentication.
    let ours = token(&ks_mac, &info.oid, &chip_pk)?;
    let r = apdu::send(channel, &general_authenticate(true, dynamic_data(0x85, &ours)))?;
    if matches!(r.sw, 0x6300 | 0x6982 | 0x6983 | 0x6984) || r.sw >> 4 == 0x63C {
        return Err(PaceError::AccessDenied);
    }
    ensure_ok(&r)?;
    let theirs = read_dynamic(&r.data, 0x86)?;
    let expected = token(&ks_mac, &info.oid, &pk)?;
    if !bool::from(expected.as_slice().ct_eq(&theirs)) {
        return Err(PaceError::BadToken);
    }
    let cam = if info.mapping == Mapping::ChipAuthentication {
        let encrypted = read_dynamic(&r.data, 0x8A)?;
        let ks_enc = Key::derive(info.cipher, &secret, crate::crypto::cipher::KDF_ENC);
        let padded = ks_enc.decrypt_cbc(&encrypted, &cam_iv(&ks_enc)?).map_err(bad)?;
        let plain = des3::unpad_from(&padded, info.cipher.block()).map_err(bad)?;
        Some(CamEvidence {
            curve: curve.clone(),
            chip_mapping_key: chip_map,
            ca_data: num_bigint_dig::BigUint::from_bytes_be(plain),
        })
    } else {
        None
    };
    Ok((sm, PaceOutcome { curve: curve.params.name, sent_parameter_id: with_id, cam }))
}

fn ensure_ok(r: &Response) -> Result<(), PaceError> {
    match r.sw {
        0x9000 => Ok(()),
        0x6300 | 0x6982 => Err(PaceError::AccessDenied),
        sw if sw >> 4 == 0x63C => Err(PaceError::AccessDenied),
        sw => Err(PaceError::Refused(sw)),
    }
}

/// The chip's side of one PACE run, for the emulator.
pub struct ChipPace {
    info: PaceInfo,
    curve: Curve,
    k_pi: Key,
    /// The static chip authentication key, for Chip Authentication Mapping.
    chip_key: Option<num_bigint_dig::BigUint>,
    state: ChipState,
}

enum ChipState {
    Start,
    NonceSent { s: num_bigint_dig::BigUint },
    Mapped { curve: Box<Curve>, sk_map: num_bigint_dig::BigUint },
    Agreed { secret: Vec<u8>, chip_pk: Vec<u8>, terminal_pk: Vec<u8>, sk_map: num_bigint_dig::BigUint },
    Failed,
}

pub const SW_DENIED: u16 = 0x6300;
const SW_CONDITIONS: u16 = 0x6985;
const SW_WRONG_DATA: u16 = 0x6A80;

impl ChipPace {
    /// After MSE:Set AT chose `info`; `password` is what the chip holds for the reference the terminal named.
    pub fn new(info: PaceInfo, password: &Password) -> Result<ChipPace, PaceError> {
        let curve = curve_of(&info)?;
        let k_pi = password.key(info.cipher);
        Ok(ChipPace { info, curve, k_pi, chip_key: None, state: ChipState::Start })
    }

    /// The chip's static chip authentication key on the PACE curve, which Chip Authentication Mapping needs.
    pub fn with_chip_key(mut self, d: num_bigint_dig::BigUint) -> ChipPace {
        self.chip_key = Some(d);
        self
    }

    /// A_IC: CA_IC = SK_IC⁻¹ · SK_Map,IC mod n at the length of n, padded and encrypted under KS_Enc.
    fn encrypted_chip_authentication_data(&self, secret: &[u8], sk_map: &num_bigint_dig::BigUint) -> Option<Vec<u8>> {
        let d = self.chip_key.as_ref()?;
        let n = &self.curve.n;
        let ca = (d.modpow(&(n - 2u32), n) * sk_map) % n;
        let ks_enc = Key::derive(self.info.cipher, secret, crate::crypto::cipher::KDF_ENC);
        let padded = des3::pad_to(&crate::crypto::ec::fixed_bytes(&ca, self.curve.order_bytes()), ks_enc.kind.block());
        ks_enc.encrypt_cbc(&padded, &cam_iv(&ks_enc).ok()?).ok()
    }

    fn sw(sw: u16) -> Response {
        Response { data: Vec::new(), sw }
    }

    /// Answers one GENERAL AUTHENTICATE. Returns the session once mutual authentication succeeds.
    pub fn general_authenticate(&mut self, command: &Command) -> (Response, Option<SecureMessaging>) {
        match self.step(command) {
            Ok(answer) => answer,
            Err(sw) => {
                self.state = ChipState::Failed;
                (Self::sw(sw), None)
            }
        }
    }

    fn step(&mut self, command: &Command) -> Result<(Response, Option<SecureMessaging>), u16> {
        let block = self.info.cipher.block();
        let ok = |tag: u32, value: &[u8]| Response { data: dynamic_data(tag, value), sw: apdu::SW_OK };
        let read = |tag| read_dynamic(&command.data, tag).map_err(|_| SW_WRONG_DATA);
        match std::mem::replace(&mut self.state, ChipState::Failed) {
            ChipState::Start => {
                let mut nonce = vec![0u8; block];
                rand::rngs::OsRng.fill_bytes(&mut nonce);
                let z = self.k_pi.encrypt_cbc(&nonce, &vec![0; block]).map_err(|_| SW_CONDITIONS)?;
                self.state = ChipState::NonceSent { s: num_bigint_dig::BigUint::from_bytes_be(&nonce) };
                Ok((ok(0x80, &z), None))
            }
            ChipState::NonceSent { s } => {
                let terminal_map = self.curve.decode_point(&read(0x81)?).map_err(|_| SW_WRONG_DATA)?;
                let sk_map = self.curve.random_scalar();
                let pk_map =
                    self.curve.encode_point(&self.curve.mul(&sk_map, &self.curve.g)).map_err(|_| SW_CONDITIONS)?;
                let h = self.curve.mul(&sk_map, &terminal_map);
                let g = self.curve.add(&self.curve.mul(&s, &self.curve.g), &h);
                self.state = ChipState::Mapped { curve: Box::new(Curve { g, ..self.curve.clone() }), sk_map };
                Ok((ok(0x82, &pk_map), None))
            }
            ChipState::Mapped { curve, sk_map } => {
                let terminal_pk = read(0x83)?;
                let point = curve.decode_point(&terminal_pk).map_err(|_| SW_WRONG_DATA)?;
                let sk = curve.random_scalar();
                let chip_pk = curve.encode_point(&curve.mul(&sk, &curve.g)).map_err(|_| SW_CONDITIONS)?;
                let secret = curve.shared_secret(&sk, &point).map_err(|_| SW_WRONG_DATA)?;
                self.state = ChipState::Agreed { secret, chip_pk: chip_pk.clone(), terminal_pk, sk_map };
                Ok((ok(0x84, &chip_pk), None))
            }
            ChipState::Agreed { secret, chip_pk, terminal_pk, sk_map } => {
                let ks_mac = Key::derive(self.info.cipher, &secret, crate::crypto::cipher::KDF_MAC);
                let expected = token(&ks_mac, &self.info.oid, &chip_pk).map_err(|_| SW_CONDITIONS)?;
                let theirs = read(0x85)?;
                if !bool::from(expected.as_slice().ct_eq(&theirs)) {
                    // A wrong password shows here: the terminal derived other keys.
                    return Err(SW_DENIED);
                }
                let ours = token(&ks_mac, &self.info.oid, &terminal_pk).map_err(|_| SW_CONDITIONS)?;
                let mut data = tlv::encode(0x86, &ours);
                if self.info.mapping == Mapping::ChipAuthentication {
                    let a_ic = self.encrypted_chip_authentication_data(&secret, &sk_map).ok_or(SW_CONDITIONS)?;
                    data.extend(tlv::encode(0x8A, &a_ic));
                }
                let answer = Response { data: tlv::encode(0x7C, &data), sw: apdu::SW_OK };
                Ok((answer, Some(SecureMessaging::from_secret(self.info.cipher, &secret))))
            }
            ChipState::Failed => Err(SW_CONDITIONS),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::security_infos::pace_oid;

    /// ICAO 9303 part 11 appendix G.1: K_π from the MRZ of the worked example, and the nonce it decrypts.
    #[test]
    fn password_key_and_nonce_of_the_worked_example() {
        let key = MrzKey::new("T22000129", "640812", "101031").unwrap();
        let k_pi = Password::Mrz(key).key(CipherKind::Aes128);
        let z = hex::decode("95A3A016522EE98D01E76CB6B98B42C3").unwrap();
        let s = k_pi.decrypt_cbc(&z, &[0; 16]).unwrap();
        assert_eq!(hex::encode_upper(s), "3F00C4D39D153F2B2A214A078D899B22");
    }

    /// The chip half in-process: a card that runs `ChipPace` and then answers one protected command.
    struct Card {
        pace: Option<ChipPace>,
        password: Password,
        infos: Vec<PaceInfo>,
        sm: Option<SecureMessaging>,
    }

    impl CardChannel for Card {
        fn transmit(&mut self, raw: &[u8]) -> Result<Vec<u8>, TransportError> {
            let cmd = crate::apdu::Command::parse(raw).unwrap();
            let r = match (cmd.ins, &mut self.pace, &mut self.sm) {
                (0x22, _, _) => {
                    let info = self.infos[0].clone();
                    self.pace = Some(ChipPace::new(info, &self.password).unwrap());
                    Response { data: vec![], sw: 0x9000 }
                }
                (0x86, Some(pace), _) => {
                    let (r, sm) = pace.general_authenticate(&cmd);
                    self.sm = sm;
                    r
                }
                (_, _, Some(sm)) => {
                    let plain = sm.unwrap_command(&cmd).unwrap();
                    sm.wrap_response(&Response { data: plain.data, sw: 0x9000 }).unwrap()
                }
                _ => Response { data: vec![], sw: 0x6D00 },
            };
            Ok(r.encode())
        }
    }

    #[test]
    fn terminal_and_chip_agree_on_every_curve_and_cipher() {
        let key = MrzKey::new("L898902C3", "740812", "120415").unwrap();
        let ciphers = [CipherKind::Des3, CipherKind::Aes128, CipherKind::Aes192, CipherKind::Aes256];
        for (id, cipher) in [(12, ciphers[1]), (13, ciphers[0]), (15, ciphers[2]), (16, ciphers[3]), (17, ciphers[3])] {
            let info = PaceInfo {
                oid: pace_oid(Agreement::Ecdh, Mapping::Generic, cipher),
                agreement: Agreement::Ecdh,
                mapping: Mapping::Generic,
                cipher,
                version: 2,
                parameter_id: Some(id),
            };
            let mut card =
                Card { pace: None, password: Password::Mrz(key.clone()), infos: vec![info.clone()], sm: None };
            let (mut sm, outcome) = establish(&mut card, &info, &Password::Mrz(key.clone()), 1).unwrap();
            assert_eq!(sm.cipher(), cipher, "{}", outcome.curve);
            let echo = Command::new(0, 0xB0, 0, 0).with_data(vec![1, 2, 3]).with_le(256);
            let wrapped = sm.wrap(&echo).unwrap();
            let r = sm.unwrap(&apdu::send(&mut card, &wrapped).unwrap()).unwrap();
            assert_eq!(r.data, vec![1, 2, 3]);

            let mut card =
                Card { pace: None, password: Password::Can("123456".into()), infos: vec![info.clone()], sm: None };
            assert_eq!(
                establish(&mut card, &info, &Password::Can("654321".into()), 1).unwrap_err(),
                PaceError::AccessDenied
            );
        }
    }
}
