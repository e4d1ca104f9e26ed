//! Reading a document chip end to end: access control (PACE from EF.CardAccess, else BAC), the LDS files in
//! large blocks with progress per file, active authentication, passive authentication, and the parsed result
//! with APDU, byte and time counts per phase.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::RngCore;
use serde::Serialize;

use crate::active_auth;
use crate::apdu::{self, CardChannel, Command, Response, TransportError};
use crate::bac::{self, BacError};
use crate::chip_auth::{self, CaError};
use crate::chip_data::ChipData;
use crate::files::ChipFiles;
use crate::lds::{self, details, face, mrz};
use crate::pace::{self, PaceError, Password};
use crate::pki::passive_auth::{self, PaReport};
use crate::pki::trust::TrustStore;
use crate::secure_messaging::{SecureMessaging, SmError};
use crate::security_infos::{self, Mapping, PaceInfo, SecurityInfos};
use crate::tlv;
use crate::transport::atr_announces_extended_length;

/// A hostile chip cannot make us buffer more than this for one file (a real DG2 is 15 to 60 KB).
pub const MAX_FILE: usize = 1 << 20;
/// Plain bytes per short READ BINARY under secure messaging, so that the protected answer fits 256 bytes.
pub const SHORT_BLOCK: usize = 223;
/// The data groups a kiosk reads by default: DG3 and DG4 (fingerprints, iris) need terminal authentication.
pub const DEFAULT_GROUPS: [u8; 7] = [1, 2, 7, 11, 12, 14, 15];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("access denied: {0}")]
    AccessDenied(String),
    #[error("the card was removed during the read: place it on the reader again")]
    CardRemoved,
    #[error("the card reader is gone")]
    ReaderGone,
    #[error("secure messaging failed: {0}")]
    SecureMessaging(#[from] SmError),
    #[error("the chip answered {sw:04X} to {what}")]
    Status { what: String, sw: u16 },
    #[error("the chip's {0} is too large or malformed")]
    BadFile(String),
    #[error("card communication failed: {0}")]
    Transport(String),
    /// The chip could not go on under the keys its DG14 key implies. `read_document` reads it again without
    /// chip authentication and reports this as the failure; callers see it only from `read_once`.
    #[error("chip authentication failed: {0}")]
    ChipAuthentication(String),
}

impl From<TransportError> for ReadError {
    fn from(e: TransportError) -> ReadError {
        match e {
            TransportError::CardRemoved => ReadError::CardRemoved,
            TransportError::ReaderGone => ReadError::ReaderGone,
            other => ReadError::Transport(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LengthMode {
    /// Extended Lc/Le when the ATR announces it, short otherwise, and short again if extended fails.
    Auto,
    Short,
}

pub struct ReadRequest<'a> {
    pub password: Password,
    pub trust: &'a TrustStore,
    /// Data groups to read (those EF.COM lists); `None` reads the default set.
    pub data_groups: Option<Vec<u8>>,
    pub active_auth: bool,
    /// Run chip authentication when DG14 offers it.
    pub chip_auth: bool,
    pub length: LengthMode,
    /// Skip PACE even when offered (for tests of BAC on PACE chips).
    pub bac_only: bool,
    /// The active authentication challenge, when a server issued one (DIS `PUT .../chip/challenge`); random
    /// otherwise.
    pub aa_challenge: Option<[u8; 8]>,
}

impl<'a> ReadRequest<'a> {
    /// A full reading with every check the chip allows: the default data groups, active and chip
    /// authentication, the length the ATR offers, PACE where offered and a random AA challenge. Callers
    /// spell out only what they change.
    pub fn new(password: Password, trust: &'a TrustStore) -> ReadRequest<'a> {
        ReadRequest {
            password,
            trust,
            data_groups: None,
            active_auth: true,
            chip_auth: true,
            length: LengthMode::Auto,
            bac_only: false,
            aa_challenge: None,
        }
    }
}

/// Bytes read so far of one file, for the UI's progress bar.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub file: String,
    pub read: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: String,
    pub ms: f64,
    pub apdus: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadStats {
    pub apdus: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    pub extended_length: bool,
    pub block_size: usize,
    pub total_ms: f64,
    pub phases: Vec<Phase>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AccessControl {
    /// PACE or BAC.
    pub protocol: &'static str,
    /// MRZ or CAN.
    pub password: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<PaceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<&'static str>,
    pub cipher: crate::crypto::cipher::CipherKind,
    /// Why PACE was not used although the chip offers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace_fallback: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthStatus {
    Authenticated,
    Failed,
    NotSupported,
    NotPerformed,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChipCheck {
    pub status: AuthStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// One active authentication: what was asked and what the chip signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AaExchange {
    pub challenge: [u8; 8],
    pub signature: Vec<u8>,
}

impl ChipCheck {
    pub fn status(status: AuthStatus, problem: Option<String>) -> ChipCheck {
        ChipCheck { status, algorithm: None, problem }
    }
}

/// What one read gives. The raw files are kept for passive authentication, evidence and `--dump`.
#[derive(Debug, Clone, Serialize)]
pub struct ChipReading {
    pub access_control: AccessControl,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub com: Option<lds::Com>,
    /// File names read and their sizes.
    pub files: BTreeMap<String, usize>,
    #[serde(skip)]
    pub raw: BTreeMap<u16, Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<mrz::Mrz>,
    pub faces: Vec<face::FaceImage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_details: Option<details::PersonalDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_details: Option<details::DocumentDetails>,
    #[serde(skip)]
    pub signature_images: Vec<Vec<u8>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_infos: Option<SecurityInfos>,
    pub passive_authentication: PaReport,
    pub active_authentication: ChipCheck,
    /// The challenge and the chip's signature, so a server can check them again (the DIS chip data keeps them).
    #[serde(skip)]
    pub active_auth_exchange: Option<AaExchange>,
    pub chip_authentication: ChipCheck,
    /// Files that were read but could not be parsed.
    pub problems: Vec<String>,
    pub stats: ReadStats,
}

impl ChipReading {
    pub fn chip_files(&self) -> ChipFiles {
        ChipFiles::from_read(&self.raw)
    }

    /// The reading in the DIS chip data form, with the active authentication signature when there is one.
    pub fn chip_data(&self) -> ChipData {
        ChipData {
            files: self.chip_files(),
            aa_signature: self.active_auth_exchange.as_ref().map(|e| e.signature.clone()),
            access_control: Some(self.access_control.protocol.to_string()),
        }
    }
}

/// Counts APDUs and bytes on the wire.
struct Counting<'a> {
    inner: &'a mut dyn CardChannel,
    apdus: usize,
    sent: usize,
    received: usize,
}

impl CardChannel for Counting<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        self.apdus += 1;
        self.sent += command.len();
        let r = self.inner.transmit(command)?;
        self.received += r.len();
        Ok(r)
    }
}

struct Phases {
    list: Vec<Phase>,
    started: Instant,
    mark: (usize, usize, usize),
}

impl Phases {
    fn end(&mut self, name: &str, ch: &Counting<'_>) {
        let (a, s, r) = self.mark;
        self.list.push(Phase {
            name: name.to_string(),
            ms: self.started.elapsed().as_secs_f64() * 1000.0,
            apdus: ch.apdus - a,
            bytes_sent: ch.sent - s,
            bytes_received: ch.received - r,
        });
        self.started = Instant::now();
        self.mark = (ch.apdus, ch.sent, ch.received);
    }
}

/// A channel that sends every command through secure messaging, or plainly before access control.
struct Session<'a, 'b> {
    ch: &'a mut Counting<'b>,
    sm: Option<SecureMessaging>,
}

impl Session<'_, '_> {
    fn send(&mut self, cmd: &Command) -> Result<Response, ReadError> {
        match self.sm.as_mut() {
            Some(sm) => {
                let wrapped = sm.wrap(cmd)?;
                let raw = apdu::send(self.ch, &wrapped)?;
                Ok(sm.unwrap(&raw)?)
            }
            None => Ok(apdu::send(self.ch, cmd)?),
        }
    }

    fn read_group(
        &mut self,
        n: u8,
        block: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Vec<u8>>, ReadError> {
        match lds::data_group(n) {
            Some(dg) => self.read_file(dg.fid, block, progress),
            None => Ok(None),
        }
    }

    /// Reads a whole elementary file in blocks of up to `block` bytes; `None` when the chip has no such file.
    fn read_file(
        &mut self,
        fid: u16,
        block: usize,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Option<Vec<u8>>, ReadError> {
        let name = lds::file_name(fid);
        let r = self.send(&Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(fid.to_be_bytes().to_vec()))?;
        match r.sw {
            apdu::SW_OK => {}
            0x6A82 | 0x6A88 => return Ok(None),
            sw => return Err(ReadError::Status { what: format!("SELECT {name}"), sw }),
        }
        let mut data: Vec<u8> = Vec::new();
        let mut total: Option<usize> = None;
        loop {
            let offset = data.len();
            let wanted = match total {
                Some(t) => (t - offset).min(block),
                None => block,
            };
            let r = if offset <= 0x7FFF {
                self.send(&Command::new(0x00, 0xB0, (offset >> 8) as u8, offset as u8).with_le(wanted))?
            } else {
                // Offsets past 15 bits go in a data object with the odd instruction.
                let off = tlv::encode(0x54, &(offset as u32).to_be_bytes()[1..]);
                let mut r = self.send(&Command::new(0x00, 0xB1, 0, 0).with_data(off).with_le(wanted))?;
                if r.is_ok() {
                    r.data = tlv::expect(&r.data, 0x53).map(|(t, _)| t.value.to_vec()).unwrap_or_default();
                }
                r
            };
            // 6282: end of file reached before Le bytes, with the data that was there.
            let short_at_end = r.sw == 0x6282 && !r.data.is_empty();
            if !r.is_ok() && !short_at_end {
                return Err(ReadError::Status { what: format!("READ BINARY {name} at {offset}"), sw: r.sw });
            }
            if r.data.is_empty() {
                return Err(ReadError::BadFile(format!("{name} (the chip stopped sending data)")));
            }
            data.extend_from_slice(&r.data);
            if total.is_none() {
                let (header, len) = tlv::header(&data).map_err(|_| ReadError::BadFile(name.clone()))?;
                let t = header
                    .checked_add(len)
                    .filter(|t| *t <= MAX_FILE)
                    .ok_or_else(|| ReadError::BadFile(name.clone()))?;
                total = Some(t);
            }
            let t = total.unwrap_or(0);
            data.truncate(t);
            progress(Progress { file: name.clone(), read: data.len(), total: t });
            if data.len() >= t {
                return Ok(Some(data));
            }
        }
    }
}

fn cipher_rank(info: &PaceInfo) -> u8 {
    match info.cipher {
        crate::crypto::cipher::CipherKind::Aes256 => 4,
        crate::crypto::cipher::CipherKind::Aes192 => 3,
        crate::crypto::cipher::CipherKind::Aes128 => 2,
        crate::crypto::cipher::CipherKind::Des3 => 1,
    }
}

/// Reads the document. With `LengthMode::Auto`, a chip or reader that fails on extended length is read again
/// in short mode from the start (a failed protected command ends the session, so there is no resuming). A chip
/// that fails chip authentication is read again without it, so that the data can still be inspected, and the
/// reading says chip authentication FAILED.
pub fn read_document(
    channel: &mut dyn CardChannel,
    atr: &[u8],
    request: &ReadRequest<'_>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ChipReading, ReadError> {
    let mut extended = request.length == LengthMode::Auto && atr_announces_extended_length(atr);
    let mut ca_failure: Option<String> = None;
    // At most one fall back to short length and one to reading without chip authentication.
    for _ in 0..3 {
        match read_once(channel, extended, request, ca_failure.as_deref(), progress) {
            Err(ReadError::Status { sw: 0x6700, .. } | ReadError::SecureMessaging(SmError::Unprotected(0x6700)))
                if extended =>
            {
                extended = false
            }
            Err(ReadError::ChipAuthentication(why)) if ca_failure.is_none() => ca_failure = Some(why),
            other => return other,
        }
    }
    Err(ReadError::Transport("the read failed three times over".into()))
}

/// Chip authentication after access control: the ephemeral key goes to the chip under the current session, the
/// session restarts under the agreed keys, and a SELECT under them proves the chip holds DG14's private key.
fn chip_authenticate(session: &mut Session<'_, '_>, plan: &chip_auth::Plan) -> Result<ChipCheck, ReadError> {
    let failed = |why: String| ReadError::ChipAuthentication(why);
    let ephemeral = chip_auth::ephemeral(&plan.key).map_err(|e| failed(e.to_string()))?;
    for command in chip_auth::commands(plan, &ephemeral) {
        let r = session.send(&command)?;
        if !r.is_ok() {
            let what = if command.ins == 0x22 { "MSE:Set" } else { "GENERAL AUTHENTICATE" };
            return Err(failed(format!("the chip refused {what} ({:04X})", r.sw)));
        }
    }
    session.sm = Some(chip_auth::session(plan, &ephemeral).map_err(|e| failed(e.to_string()))?);
    let proof = Command::new(0x00, 0xA4, 0x02, 0x0C).with_data(lds::EF_COM.to_be_bytes().to_vec());
    match session.send(&proof) {
        Ok(r) if r.is_ok() => {
            Ok(ChipCheck { status: AuthStatus::Authenticated, algorithm: Some(plan.describe()), problem: None })
        }
        Ok(r) => Err(failed(format!("the chip answered {:04X} under the new keys", r.sw))),
        Err(ReadError::SecureMessaging(_)) => Err(failed(
            "the chip cannot answer under the keys its DG14 key gives: it does not hold that key (a copied chip?)"
                .into(),
        )),
        Err(e) => Err(e),
    }
}

fn read_once(
    channel: &mut dyn CardChannel,
    extended: bool,
    request: &ReadRequest<'_>,
    ca_failure: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<ChipReading, ReadError> {
    let started = Instant::now();
    let mut ch = Counting { inner: channel, apdus: 0, sent: 0, received: 0 };
    let mut phases = Phases { list: Vec::new(), started: Instant::now(), mark: (0, 0, 0) };
    let block = if extended { 65536 } else { SHORT_BLOCK };
    let mut ignore = |_: Progress| {};

    // EF.CardAccess, readable before access control, offers PACE.
    let card_access = {
        let mut plain = Session { ch: &mut ch, sm: None };
        plain.read_file(lds::EF_CARD_ACCESS, SHORT_BLOCK.min(256), &mut ignore).unwrap_or(None)
    };
    let infos = card_access.as_deref().and_then(|b| security_infos::parse(b).ok()).unwrap_or_default();
    let Access { sm, control: access_control, cam_evidence } = establish_access(&mut ch, &infos, request)?;
    phases.end("access_control", &ch);

    let mut session = Session { ch: &mut ch, sm };
    let mut raw: BTreeMap<u16, Vec<u8>> = BTreeMap::new();
    if let Some(ca) = card_access {
        raw.insert(lds::EF_CARD_ACCESS, ca);
    }
    let com_bytes = session.read_file(lds::EF_COM, block, progress)?;
    let com = com_bytes.as_deref().and_then(|b| lds::parse_com(b).ok());
    if let Some(b) = com_bytes {
        raw.insert(lds::EF_COM, b);
    }
    phases.end("EF.COM", session.ch);
    let sod = session.read_file(lds::EF_SOD, block, progress)?;
    phases.end("EF.SOD", session.ch);
    let wanted = request.data_groups.clone().unwrap_or_else(|| DEFAULT_GROUPS.to_vec());
    let mut order: Vec<u8> = wanted
        .into_iter()
        .filter(|n| com.as_ref().is_none_or(|c| c.data_groups.contains(n)) && lds::data_group(*n).is_some())
        .collect();
    // DG14 first: chip authentication needs its key, and the rest is then read under the stronger keys.
    order.sort_by_key(|n| *n != 14);
    let mut groups: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    let mut rest = order.into_iter().peekable();
    if rest.next_if_eq(&14).is_some() {
        if let Some(bytes) = session.read_group(14, block, progress)? {
            groups.insert(14, bytes);
        }
        phases.end("DG14", session.ch);
    }

    let mut problems = Vec::new();
    let dg14 = groups.get(&14).and_then(|b| match lds::unwrap_der(b, 0x6E).map(security_infos::parse) {
        Ok(Ok(infos)) => Some(infos),
        _ => {
            problems.push("DG14: malformed SecurityInfos".to_string());
            None
        }
    });
    let chip_authentication =
        check_chip(&mut session, &mut phases, ca_failure, cam_evidence.as_ref(), request.chip_auth, dg14.as_ref())?;

    for n in rest {
        if let Some(bytes) = session.read_group(n, block, progress)? {
            groups.insert(n, bytes);
        }
        phases.end(&format!("DG{n}"), session.ch);
    }
    for (n, bytes) in &groups {
        if let Some(dg) = lds::data_group(*n) {
            raw.insert(dg.fid, bytes.clone());
        }
    }
    if let Some(s) = &sod {
        raw.insert(lds::EF_SOD, s.clone());
    }

    let (active_authentication, active_auth_exchange) = match (request.active_auth, groups.get(&15)) {
        (false, _) => (ChipCheck::status(AuthStatus::NotPerformed, None), None),
        (true, None) => (ChipCheck::status(AuthStatus::NotSupported, None), None),
        (true, Some(dg15)) => active_authenticate(&mut session, dg15, dg14.as_ref(), request.aa_challenge)?,
    };
    phases.end("active_authentication", session.ch);

    let passive_authentication = match &sod {
        Some(s) => passive_auth::verify(s, &groups, request.trust),
        None => passive_auth::verify(&[], &groups, request.trust),
    };
    phases.end("passive_authentication", session.ch);

    let Parsed { mrz, faces, personal_details, document_details, signature_images } =
        parse_groups(&groups, &mut problems);

    let ch = &*session.ch;
    let stats = ReadStats {
        apdus: ch.apdus,
        bytes_sent: ch.sent,
        bytes_received: ch.received,
        extended_length: extended,
        block_size: if extended { 65536 } else { SHORT_BLOCK },
        total_ms: started.elapsed().as_secs_f64() * 1000.0,
        phases: phases.list,
    };
    Ok(ChipReading {
        access_control,
        com,
        files: raw.iter().map(|(fid, b)| (lds::file_name(*fid), b.len())).collect(),
        raw,
        mrz,
        faces,
        personal_details,
        document_details,
        signature_images,
        security_infos: dg14,
        passive_authentication,
        active_authentication,
        active_auth_exchange,
        chip_authentication,
        problems,
        stats,
    })
}

/// Access control as established: the secure messaging keys, how they were agreed, and PACE-CAM's proof.
struct Access {
    sm: Option<SecureMessaging>,
    control: AccessControl,
    cam_evidence: Option<pace::CamEvidence>,
}

/// PACE with the strongest offered protocol this reader supports (at the same cipher, Chip Authentication
/// Mapping, which proves the chip genuine within PACE itself), else BAC with the MRZ key; then the eMRTD
/// application selected. A password the chip refuses ends the read; a PACE that fails otherwise falls back to
/// BAC, and the reason is kept.
fn establish_access(
    ch: &mut Counting<'_>,
    infos: &SecurityInfos,
    request: &ReadRequest<'_>,
) -> Result<Access, ReadError> {
    let mut candidates: Vec<&PaceInfo> = infos.pace.iter().filter(|i| pace::curve_of(i).is_ok()).collect();
    candidates.sort_by_key(|i| std::cmp::Reverse((cipher_rank(i), i.mapping == Mapping::ChipAuthentication)));
    let password_kind = if matches!(request.password, Password::Can(_)) { "CAN" } else { "MRZ" };
    let select = || Command::new(0x00, 0xA4, 0x04, 0x0C).with_data(lds::LDS1_AID.to_vec());
    let mut pace_fallback = None;
    if !request.bac_only {
        if let Some(info) = candidates.first() {
            match pace::establish(ch, info, &request.password, infos.pace.len()) {
                Ok((sm, outcome)) => {
                    let control = AccessControl {
                        protocol: "PACE",
                        password: password_kind,
                        pace: Some((*info).clone()),
                        curve: Some(outcome.curve),
                        cipher: sm.cipher(),
                        pace_fallback: None,
                    };
                    let mut session = Session { ch, sm: Some(sm) };
                    let r = session.send(&select())?;
                    if !r.is_ok() {
                        return Err(ReadError::Status { what: "SELECT eMRTD application".into(), sw: r.sw });
                    }
                    return Ok(Access { sm: session.sm.take(), control, cam_evidence: outcome.cam });
                }
                Err(PaceError::AccessDenied) => {
                    return Err(ReadError::AccessDenied("the chip refused the password (PACE)".into()))
                }
                Err(PaceError::Transport(e)) => return Err(e.into()),
                Err(e) => pace_fallback = Some(e.to_string()),
            }
        } else if !infos.pace.is_empty() {
            pace_fallback = Some("no offered PACE protocol is supported".into());
        }
    }
    let Password::Mrz(key) = &request.password else {
        return Err(ReadError::AccessDenied(
            "the CAN only works with PACE, and this chip offers no PACE this reader supports".into(),
        ));
    };
    let r = apdu::send(ch, &select())?;
    if !r.is_ok() {
        return Err(ReadError::Status { what: "SELECT eMRTD application".into(), sw: r.sw });
    }
    let sm = match bac::establish(ch, key, &mut rand::rngs::OsRng) {
        Ok(sm) => sm,
        Err(BacError::AccessDenied) => {
            return Err(ReadError::AccessDenied("the chip refused the MRZ key (BAC)".into()))
        }
        Err(BacError::Transport(e)) => return Err(e.into()),
        Err(e) => return Err(ReadError::AccessDenied(e.to_string())),
    };
    let control = AccessControl {
        protocol: "BAC",
        password: "MRZ",
        pace: None,
        curve: None,
        cipher: crate::crypto::cipher::CipherKind::Des3,
        pace_fallback,
    };
    Ok(Access { sm: Some(sm), control, cam_evidence: None })
}

/// Chip authentication: failed where an earlier attempt on this card failed (`ca_failure`), checked against
/// PACE-CAM's proof where PACE gave one, else run with DG14's key when asked for and offered.
fn check_chip(
    session: &mut Session<'_, '_>,
    phases: &mut Phases,
    ca_failure: Option<&str>,
    cam_evidence: Option<&pace::CamEvidence>,
    asked: bool,
    dg14: Option<&SecurityInfos>,
) -> Result<ChipCheck, ReadError> {
    let plan = dg14.and_then(chip_auth::plan);
    Ok(match (ca_failure, cam_evidence, asked, plan) {
        (Some(why), ..) => ChipCheck::status(AuthStatus::Failed, Some(why.to_string())),
        // PACE-CAM already had the chip prove its key; DG14 only supplies the key to check the proof against.
        (None, Some(evidence), ..) => chip_auth::verify_cam(evidence, dg14),
        (None, None, _, None) => ChipCheck::status(AuthStatus::NotSupported, None),
        (None, None, false, Some(_)) => ChipCheck::status(AuthStatus::NotPerformed, None),
        (None, None, true, Some(Err(e @ CaError::Unsupported(_)))) => {
            ChipCheck::status(AuthStatus::NotSupported, Some(e.to_string()))
        }
        (None, None, true, Some(Err(e))) => ChipCheck::status(AuthStatus::Failed, Some(e.to_string())),
        (None, None, true, Some(Ok(plan))) => {
            let check = chip_authenticate(session, &plan)?;
            phases.end("chip_authentication", session.ch);
            check
        }
    })
}

/// What the data groups say, each one that does not parse named in `problems`.
struct Parsed {
    mrz: Option<mrz::Mrz>,
    faces: Vec<face::FaceImage>,
    personal_details: Option<details::PersonalDetails>,
    document_details: Option<details::DocumentDetails>,
    signature_images: Vec<Vec<u8>>,
}

fn parse_groups(groups: &BTreeMap<u8, Vec<u8>>, problems: &mut Vec<String>) -> Parsed {
    let mrz = match groups.get(&1).map(|b| lds::parse_dg1(b)) {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            problems.push(format!("DG1: {e}"));
            None
        }
        None => None,
    };
    let faces = match groups.get(&2).map(|b| face::parse_dg2(b)) {
        Some(Ok(f)) => f,
        Some(Err(e)) => {
            problems.push(format!("DG2: {e}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let personal_details =
        groups.get(&11).and_then(|b| details::parse_dg11(b).map_err(|e| problems.push(format!("DG11: {e}"))).ok());
    let document_details =
        groups.get(&12).and_then(|b| details::parse_dg12(b).map_err(|e| problems.push(format!("DG12: {e}"))).ok());
    let signature_images = groups
        .get(&7)
        .and_then(|b| details::parse_dg7(b).map_err(|e| problems.push(format!("DG7: {e}"))).ok())
        .unwrap_or_default();
    Parsed { mrz, faces, personal_details, document_details, signature_images }
}

/// Active authentication: the chip signs a challenge with the private key whose public half is in DG15,
/// proving the chip is not a copy. The challenge is the caller's (a server that issued one checks it later) or
/// random.
fn active_authenticate(
    session: &mut Session<'_, '_>,
    dg15: &[u8],
    dg14: Option<&SecurityInfos>,
    challenge: Option<[u8; 8]>,
) -> Result<(ChipCheck, Option<AaExchange>), ReadError> {
    let challenge = challenge.unwrap_or_else(|| {
        let mut c = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut c);
        c
    });
    let r = session.send(&Command::new(0x00, 0x88, 0x00, 0x00).with_data(challenge.to_vec()).with_le(256))?;
    if !r.is_ok() {
        return Ok((ChipCheck::status(AuthStatus::Failed, Some(format!("the chip answered {:04X}", r.sw))), None));
    }
    let check = active_auth::verify(dg15, dg14, &challenge, &r.data);
    Ok((check, Some(AaExchange { challenge, signature: r.data })))
}
