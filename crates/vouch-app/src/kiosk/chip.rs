//! The document_chip step at the kiosk: "place your passport on the reader". The server reads the chip
//! itself (PC/SC, or the labelled DEMO passport), reports progress per file while the UI polls, starts again
//! by itself when the document is lifted too soon, and decides the step from the same chip inspection the
//! DIS API uses. The customer cannot claim the step passed: `step_submit` refuses it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use vouch_chip::apdu::{CardChannel, TransportError};
use vouch_chip::chip_data;
use vouch_chip::emulator::chip::{ChipOptions, EmulatedChip};
use vouch_chip::emulator::LocalCard;
use vouch_chip::pace::Password;
use vouch_chip::pki::trust::TrustStore;
use vouch_chip::reader::{self, ChipReading, Progress, ReadError, ReadRequest};
use vouch_chip::transport::{CardTransport, Pcsc};
use vouch_chip::ReaderError;
use vouch_core::flow::{StepKind, StepOutcome};
use vouch_core::step_rules::Failure;
use vouch_core::{CaseId, EvidenceKind};

use super::capture::{current_step, StepArgs};
use super::Caller;
use super::Kiosk;
use crate::chip::{decide, ChipSource};
use crate::{AppCode, AppError};
use vouch_store::flows::NewStep;

/// How long a read waits for a document before it gives up.
const READ_WINDOW: Duration = Duration::from_secs(120);
/// Reads that fail for other reasons than a lifted card, before the step says so.
const READ_ATTEMPTS: u32 = 3;
/// ISO 14443 at 424 kbit/s: the demo passport answers no faster than a real chip would.
const DEMO_BITS_PER_SECOND: f64 = 424_000.0;
pub const CHIP_DATA_MEDIA_TYPE: &str = "application/vnd.vouch.chip-data";

/// Chip reads under way, per case and step.
pub type ChipReads = super::StepRuns<Arc<ChipRun>>;

impl ChipReads {
    fn get(&self, key: (CaseId, u32)) -> Result<Option<Arc<ChipRun>>, AppError> {
        Ok(self.lock()?.get(&key).cloned())
    }

    fn put(&self, key: (CaseId, u32), run: Arc<ChipRun>) -> Result<(), AppError> {
        let mut runs = self.lock()?;
        if let Some(old) = runs.insert(key, run) {
            old.cancel.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    #[default]
    WaitingForCard,
    Reading,
    Checking,
    Done,
    Failed,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct RunError {
    /// access_denied, no_pcsc, no_card, read_failed, cancelled, internal.
    #[ts(type = "\"access_denied\" | \"no_pcsc\" | \"no_card\" | \"read_failed\" | \"cancelled\" | \"internal\"")]
    pub code: &'static str,
    pub message: String,
}

/// Where a chip read is: waiting for the card, reading which file, checking, done or failed.
#[derive(Debug, Clone, Serialize, Default, ts_rs::TS)]
pub struct RunView {
    pub state: RunState,
    pub demo: bool,
    pub reader: Option<String>,
    /// The file being read and how far.
    pub file: Option<String>,
    pub read: usize,
    pub total: usize,
    pub files_done: Vec<String>,
    /// Why the read started over: card_removed (lifted too soon) or read_error.
    #[ts(type = "\"card_removed\" | \"read_error\" | null")]
    pub retry: Option<&'static str>,
    /// While waiting: no_reader when no reader is connected.
    #[ts(type = "\"no_reader\" | null")]
    pub hint: Option<&'static str>,
    pub error: Option<RunError>,
    /// passed or failed, once recorded.
    pub outcome: Option<StepOutcome>,
}

/// One chip read: what the UI sees of it, and whether it was cancelled.
pub struct ChipRun {
    view: Mutex<RunView>,
    cancel: AtomicBool,
}

impl ChipRun {
    fn update(&self, f: impl FnOnce(&mut RunView)) {
        if let Ok(mut v) = self.view.lock() {
            f(&mut v);
        }
    }

    fn snapshot(&self) -> RunView {
        self.view.lock().map(|v| v.clone()).unwrap_or_default()
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    fn progress(&self, p: &Progress) {
        self.update(|v| {
            v.state = RunState::Reading;
            v.hint = None;
            if p.read >= p.total && !v.files_done.contains(&p.file) {
                v.files_done.push(p.file.clone());
            }
            v.file = Some(p.file.clone());
            v.read = p.read;
            v.total = p.total;
        });
    }

    fn fail(&self, code: &'static str, message: String) {
        self.update(|v| {
            v.state = RunState::Failed;
            v.error = Some(RunError { code, message });
        });
    }
}

/// The DEMO passport's access data, shown on the DEMO screen so a clerk can type it.
#[derive(Serialize, ts_rs::TS)]
pub struct DemoPassport {
    pub can: String,
    pub document_number: Option<String>,
    pub date_of_birth: Option<String>,
    pub date_of_expiry: Option<String>,
}

/// A chip read as the UI follows it; with the case as it now stands once the step is recorded.
#[derive(Serialize, ts_rs::TS)]
pub struct ChipReadView {
    #[serde(flatten)]
    pub run: RunView,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub session: Option<super::customer::CaseSession>,
}

/// `chip_read_cancel`: the read stops at its next step.
#[derive(Serialize, ts_rs::TS)]
pub struct Cancelled {
    pub cancelled: bool,
}

#[derive(Serialize, ts_rs::TS)]
pub struct ChipStatus {
    /// pcsc, demo or none.
    #[ts(type = "\"pcsc\" | \"demo\" | \"none\"")]
    pub source: &'static str,
    pub demo: bool,
    pub readers: Vec<vouch_chip::ReaderInfo>,
    /// Why no reader can be listed (pcscd not running, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub problem: Option<String>,
    /// The DEMO passport's access data, shown on the DEMO screen so a clerk can type it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub demo_passport: Option<DemoPassport>,
}

pub async fn chip_status(state: &Kiosk) -> Result<ChipStatus, AppError> {
    let source = state.chip.source.clone();
    let mut status =
        ChipStatus { source: "none", demo: false, readers: Vec::new(), problem: None, demo_passport: None };
    match source {
        ChipSource::None => status.problem = Some("no chip reader is configured (chip = \"none\")".into()),
        ChipSource::Demo => {
            status.source = "demo";
            status.demo = true;
            let demo = state.chip.clone();
            let passport = tokio::task::spawn_blocking(move || demo.demo()).await.map_err(AppError::internal)?;
            match passport {
                Ok(d) => {
                    let mrz = vouch_chip::lds::mrz::parse(&d.passport.mrz).ok();
                    status.demo_passport = Some(DemoPassport {
                        can: d.passport.can.clone(),
                        document_number: mrz.as_ref().map(|m| m.document_number.clone()),
                        date_of_birth: mrz.as_ref().map(|m| m.date_of_birth.clone()),
                        date_of_expiry: mrz.as_ref().map(|m| m.date_of_expiry.clone()),
                    });
                }
                Err(e) => status.problem = Some(format!("the demo passport could not be made: {e}")),
            }
        }
        ChipSource::Pcsc { reader } => {
            status.source = "pcsc";
            let listed = tokio::task::spawn_blocking(vouch_chip::list_readers).await.map_err(AppError::internal)?;
            match listed {
                Ok(readers) => {
                    status.readers =
                        readers.into_iter().filter(|r| reader.as_ref().is_none_or(|n| *n == r.name)).collect();
                    if status.readers.is_empty() {
                        status.problem = Some(match reader {
                            Some(name) => format!("the reader {name:?} is not connected"),
                            None => "no card reader is connected".into(),
                        });
                    }
                }
                Err(e) => status.problem = Some(format!("PC/SC is not available: {e}")),
            }
        }
    }
    Ok(status)
}

/// A step and the access data a clerk types for the chip: the whole MRZ, its three key fields, or the CAN.
/// `chip_read_begin` and `document_scan_manual` both take it.
#[derive(Deserialize, ts_rs::TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct AccessArgs {
    pub case_id: String,
    pub index: u32,
    /// The whole MRZ, as scanned or typed.
    pub mrz: Option<String>,
    pub document_number: Option<String>,
    /// YYMMDD.
    pub date_of_birth: Option<String>,
    /// YYMMDD.
    pub date_of_expiry: Option<String>,
    /// The 6-digit card access number.
    pub can: Option<String>,
}

/// Starts reading the chip for the case's current document_chip step. The access data never leaves this
/// call: it is not stored, logged or returned.
pub async fn chip_read_begin(state: &Kiosk, caller: &Caller, args: AccessArgs) -> Result<ChipReadView, AppError> {
    let step_args = StepArgs { case_id: args.case_id.clone(), index: args.index };
    let (case_id, _) = current_step(state, &step_args, StepKind::DocumentChip).await?;
    let typed = [&args.mrz, &args.document_number, &args.date_of_birth, &args.date_of_expiry, &args.can]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    // Nothing typed: the MRZ (or CAN) the case's document_scan step read opens the chip.
    let password = if typed {
        Password::from_parts(
            args.mrz.as_deref(),
            args.document_number.as_deref(),
            args.date_of_birth.as_deref(),
            args.date_of_expiry.as_deref(),
            args.can.as_deref(),
        )
    } else {
        super::document_scan::scanned_access(state, case_id)
            .await?
            .ok_or_else(super::document_scan::no_access_data)?
            .password()
    }
    .map_err(|e| AppError::invalid(e.to_string()))?;
    let source = state.chip.source.clone();
    let (trust, demo) = match &source {
        ChipSource::None => {
            return Err(AppError::new(AppCode::Conflict, "This kiosk has no chip reader configured (chip = \"none\")"))
        }
        ChipSource::Demo => {
            let chip = state.chip.clone();
            let demo = tokio::task::spawn_blocking(move || chip.demo())
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)?;
            (Arc::new(demo.trust.clone()), Some(demo))
        }
        ChipSource::Pcsc { .. } => (state.chip.trust.clone(), None),
    };
    let run = Arc::new(ChipRun {
        view: Mutex::new(RunView { demo: source.is_demo(), ..RunView::default() }),
        cancel: AtomicBool::new(false),
    });
    state.chip_reads.put((case_id, args.index), run.clone())?;
    let mut challenge = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut challenge);
    if source.is_demo() {
        tracing::warn!(%case_id, "DEMO: reading the emulated TEST passport, not a real document");
    }
    tracing::info!(%case_id, step = args.index + 1, "chip read started");

    let (background, actor, index) = (state.clone(), caller.actor(), args.index);
    tokio::spawn(async move {
        let reading = {
            let (run, trust) = (run.clone(), trust.clone());
            tokio::task::spawn_blocking(move || {
                let request = ReadRequest { aa_challenge: Some(challenge), ..ReadRequest::new(password, &trust) };
                match &demo {
                    Some(d) => read_demo(&run, &d.passport, &request),
                    None => match &source {
                        ChipSource::Pcsc { reader } => read_pcsc(&run, reader.as_deref(), &request),
                        _ => Err(RunError { code: "internal", message: "no chip source".into() }),
                    },
                }
            })
            .await
        };
        let reading = match reading {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::info!(%case_id, code = e.code, "chip read ended without a reading");
                run.fail(e.code, e.message);
                return;
            }
            Err(e) => {
                run.fail("internal", e.to_string());
                return;
            }
        };
        run.update(|v| v.state = RunState::Checking);
        match finish(&background, actor, case_id, index, &reading, challenge, &trust, run.snapshot()).await {
            Ok(outcome) => run.update(|v| {
                v.state = RunState::Done;
                v.outcome = Some(outcome);
            }),
            Err(e) => run.fail("internal", e.message),
        }
    });
    chip_read_progress(state, step_args).await
}

pub async fn chip_read_progress(state: &Kiosk, args: StepArgs) -> Result<ChipReadView, AppError> {
    let case_id = CaseId::parse(&args.case_id).ok_or_else(|| AppError::not_found("No such case"))?;
    let run = state
        .chip_reads
        .get((case_id, args.index))?
        .ok_or_else(|| AppError::not_found("No chip read is under way for this step; start one"))?;
    let view = run.snapshot();
    let session = match view.state {
        RunState::Done => Some(crate::steps::case_session(&state.app, case_id).await?),
        _ => None,
    };
    Ok(ChipReadView { run: view, session })
}

pub async fn chip_read_cancel(state: &Kiosk, args: StepArgs) -> Result<Cancelled, AppError> {
    let case_id = CaseId::parse(&args.case_id).ok_or_else(|| AppError::not_found("No such case"))?;
    if let Some(run) = state.chip_reads.get((case_id, args.index))? {
        run.cancel.store(true, Ordering::Relaxed);
    }
    Ok(Cancelled { cancelled: true })
}

/// The demo chip answers after the time a real chip's bytes take over the air.
struct DemoAirtime<'a>(&'a mut LocalCard);

impl CardChannel for DemoAirtime<'_> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, TransportError> {
        let response = self.0.transmit(command)?;
        let bits = ((command.len() + response.len()) * 8) as f64;
        std::thread::sleep(Duration::from_secs_f64(bits / DEMO_BITS_PER_SECOND));
        Ok(response)
    }
}

fn read_demo(
    run: &ChipRun,
    passport: &vouch_chip::emulator::passport::TestPassport,
    request: &ReadRequest<'_>,
) -> Result<(ChipReading, String), RunError> {
    let reader = "DEMO emulated passport (not a real document)".to_string();
    run.update(|v| v.reader = Some(reader.clone()));
    let chip = EmulatedChip::new(passport.clone(), ChipOptions::default());
    let atr = chip.atr();
    let mut card = LocalCard { chip, apdus: 0 };
    let reading = reader::read_document(&mut DemoAirtime(&mut card), &atr, request, &mut |p| run.progress(&p))
        .map_err(read_error)?;
    Ok((reading, reader))
}

fn read_error(e: ReadError) -> RunError {
    match e {
        ReadError::AccessDenied(_) => RunError {
            code: "access_denied",
            message: "The chip did not accept the access data: check the MRZ or the CAN and try again".into(),
        },
        other => RunError { code: "read_failed", message: other.to_string() },
    }
}

/// Waits for a document on the reader and reads it; a document lifted mid-read is read again from the start
/// once it is back.
fn read_pcsc(
    run: &ChipRun,
    reader: Option<&str>,
    request: &ReadRequest<'_>,
) -> Result<(ChipReading, String), RunError> {
    let transport =
        Pcsc::establish().map_err(|e| RunError { code: "no_pcsc", message: format!("PC/SC is not available: {e}") })?;
    let deadline = Instant::now() + READ_WINDOW;
    let mut failures = 0;
    loop {
        if run.cancelled() {
            return Err(RunError { code: "cancelled", message: "the read was cancelled".into() });
        }
        if Instant::now() > deadline {
            return Err(RunError { code: "no_card", message: "no document was placed on the reader".into() });
        }
        let name = match transport.wait_for_card(reader, Duration::from_millis(500)) {
            Ok(Some(name)) => name,
            Ok(None) => continue,
            Err(ReaderError::NoReaders | ReaderError::UnknownReader(_)) => {
                run.update(|v| {
                    v.state = RunState::WaitingForCard;
                    v.hint = Some("no_reader");
                });
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            Err(e) => return Err(RunError { code: "no_pcsc", message: format!("PC/SC failed: {e}") }),
        };
        run.update(|v| {
            v.reader = Some(name.clone());
            v.hint = None;
        });
        let mut card = match transport.connect(&name) {
            Ok(card) => card,
            Err(ReaderError::NoCard) => continue,
            Err(e) => return Err(RunError { code: "read_failed", message: e.to_string() }),
        };
        let atr = card.atr().to_vec();
        match reader::read_document(card.as_mut(), &atr, request, &mut |p| run.progress(&p)) {
            Ok(reading) => return Ok((reading, name)),
            Err(ReadError::CardRemoved | ReadError::ReaderGone) => {
                tracing::info!("the document left the reader mid-read; waiting for it again");
                run.update(|v| {
                    v.state = RunState::WaitingForCard;
                    v.retry = Some("card_removed");
                    v.files_done.clear();
                    v.file = None;
                });
            }
            Err(e @ ReadError::AccessDenied(_)) => return Err(read_error(e)),
            Err(e) => {
                failures += 1;
                if failures >= READ_ATTEMPTS {
                    return Err(read_error(e));
                }
                run.update(|v| {
                    v.state = RunState::WaitingForCard;
                    v.retry = Some("read_error");
                    v.files_done.clear();
                });
                // Lift and place again: wait for the document to leave before reading again.
                let _ = transport.wait_for_removal(&name, Duration::from_secs(5));
            }
        }
    }
}

/// What the document_chip step records (the clerk's review shows it): the holder and the checks, never the access
/// data.
#[derive(Serialize, ts_rs::TS)]
pub struct ChipStepDetail {
    pub demo: bool,
    pub reader: String,
    #[ts(type = "JsonValue")]
    pub access_control: vouch_chip::reader::AccessControl,
    pub inspection: vouch_chip::inspection::Inspection,
    pub holder: crate::chip::ChipHolder,
    pub expired: Option<bool>,
    pub portrait: bool,
    /// The files read and their sizes.
    pub files: std::collections::BTreeMap<String, usize>,
    pub read: ReadSummary,
    pub failures: Vec<&'static str>,
}

/// How the read went: commands, bytes both ways, milliseconds, and whether extended length was used.
#[derive(Serialize, ts_rs::TS)]
pub struct ReadSummary {
    pub apdus: usize,
    pub bytes: usize,
    pub ms: f64,
    pub extended_length: bool,
}

/// What the document_chip step records when the chip's data cannot be parsed at all.
#[derive(Serialize, ts_rs::TS)]
pub struct ChipUnreadableDetail {
    pub demo: bool,
    pub reader: String,
    pub failures: Vec<&'static str>,
    pub message: String,
}

/// Decides the step from the reading and records it with the chip data as evidence.
#[allow(clippy::too_many_arguments)]
async fn finish(
    state: &Kiosk,
    actor: String,
    case_id: CaseId,
    index: u32,
    read: &(ChipReading, String),
    challenge: [u8; 8],
    trust: &Arc<TrustStore>,
    view: RunView,
) -> Result<StepOutcome, AppError> {
    let (reading, reader) = read;
    let bytes = chip_data::encode(&reading.chip_data());
    let decision = {
        let (bytes, trust, witnessed) = (bytes.clone(), trust.clone(), reading.chip_authentication.clone());
        tokio::task::spawn_blocking(move || decide(&bytes, Some(&challenge), &trust, Some(&witnessed)))
            .await
            .map_err(AppError::internal)?
    };
    let (outcome, detail) = match decision {
        Err(e) => {
            let detail = ChipUnreadableDetail {
                demo: view.demo,
                reader: reader.clone(),
                failures: vec![Failure::LdsParseError.as_str()],
                message: e.to_string(),
            };
            (StepOutcome::Failed, serde_json::to_value(detail).map_err(AppError::internal)?)
        }
        Ok(d) => {
            let verdict = d.verdict();
            let detail = ChipStepDetail {
                demo: view.demo,
                reader: reader.clone(),
                access_control: reading.access_control.clone(),
                inspection: d.inspection.clone(),
                holder: d.holder.clone(),
                expired: verdict.expired,
                portrait: d.portrait().is_some(),
                files: reading.files.clone(),
                read: ReadSummary {
                    apdus: reading.stats.apdus,
                    bytes: reading.stats.bytes_sent + reading.stats.bytes_received,
                    ms: reading.stats.total_ms.round(),
                    extended_length: reading.stats.extended_length,
                },
                failures: verdict.failure_codes(),
            };
            (verdict.outcome, serde_json::to_value(detail).map_err(AppError::internal)?)
        }
    };
    let step = NewStep { case_id, index, kind: StepKind::DocumentChip, outcome, detail };
    crate::steps::record(&state.app, actor, step, vec![(EvidenceKind::ChipData, CHIP_DATA_MEDIA_TYPE, bytes)]).await?;
    Ok(outcome)
}
