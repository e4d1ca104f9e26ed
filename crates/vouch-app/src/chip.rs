//! Document chips on the server side: the CSCA trust store that passive authentication anchors in, the
//! kiosk's chip source (PC/SC readers, or the labelled demo passport), and the one decision both the DIS
//! upload and the kiosk step make on chip data ([`decide`]).

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use vouch_chip::chip_data::{self, ChipData, ChipDataError};
use vouch_chip::emulator::passport::{PassportSpec, TestPassport};
use vouch_chip::inspection::{self, ChipAuthentication, DataAuthentication, Inspection, LdsParseError};
use vouch_chip::lds::face;
use vouch_chip::offline::OfflineReport;
use vouch_chip::pki::trust::TrustStore;
use vouch_chip::reader::ChipCheck;
use vouch_core::mrz::MrzHolder;

/// Where the kiosk's chip reading comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChipSource {
    None,
    /// PC/SC: any reader, or the one named.
    Pcsc {
        reader: Option<String>,
    },
    /// A generated TEST passport in an emulated chip, in process. Labelled DEMO in the UI, logs and cases.
    Demo,
}

impl Default for ChipSource {
    fn default() -> Self {
        ChipSource::Pcsc { reader: None }
    }
}

impl ChipSource {
    /// `none`, `pcsc`, `pcsc:READER NAME` or `demo`.
    pub fn parse(s: &str) -> Result<ChipSource, String> {
        match s.trim() {
            "none" => Ok(ChipSource::None),
            "" | "pcsc" => Ok(ChipSource::Pcsc { reader: None }),
            "demo" => Ok(ChipSource::Demo),
            other => match other.strip_prefix("pcsc:") {
                Some(name) if !name.trim().is_empty() => Ok(ChipSource::Pcsc { reader: Some(name.trim().into()) }),
                _ => Err(format!("unknown chip source {other:?}: use none, pcsc, pcsc:READER or demo")),
            },
        }
    }

    pub fn is_demo(&self) -> bool {
        *self == ChipSource::Demo
    }
}

/// The demo passport, generated once per process with fresh keys: nobody else can sign data that chains to
/// its CSCA, and that CSCA is trusted only for the kiosk's own demo reads, never for DIS uploads.
pub struct DemoPassport {
    pub passport: TestPassport,
    pub trust: TrustStore,
}

pub struct ChipService {
    pub source: ChipSource,
    /// The configured CSCAs and master lists.
    pub trust: Arc<TrustStore>,
    demo: OnceLock<Result<Arc<DemoPassport>, String>>,
}

/// The demo portrait: the same person the demo camera shows, on another photo, as a chip's JPEG 2000.
const DEMO_PORTRAIT: &[u8] = include_bytes!("../../../testdata/chip/portrait.jp2");

impl ChipService {
    /// Loads the trust store from `csca_dir` (PEM/DER certificates and ICAO master lists).
    pub fn new(source: ChipSource, csca_dir: Option<&PathBuf>) -> anyhow::Result<ChipService> {
        let trust = match csca_dir {
            Some(dir) => {
                let store = TrustStore::load_dir(dir)
                    .map_err(|e| anyhow::anyhow!("reading the CSCA trust store {}: {e}", dir.display()))?;
                tracing::info!(dir = %dir.display(), certificates = store.anchors.len(), "loaded the CSCA trust store");
                store
            }
            None => {
                tracing::warn!(
                    "no CSCA trust store is configured (csca_dir): chip data can be checked for integrity but \
                     not authenticated"
                );
                TrustStore::default()
            }
        };
        if source.is_demo() {
            tracing::warn!("DEMO: the kiosk's chip reader is an emulated TEST passport, not a real document");
        }
        Ok(ChipService { source, trust: Arc::new(trust), demo: OnceLock::new() })
    }

    /// The demo passport and the trust store for reading it (the configured one plus its TEST CSCA).
    pub fn demo(&self) -> Result<Arc<DemoPassport>, String> {
        self.demo
            .get_or_init(|| {
                let size = face::image_size(DEMO_PORTRAIT).ok_or("the demo portrait has no size")?;
                let passport = TestPassport::generate(&PassportSpec::specimen(DEMO_PORTRAIT.to_vec(), size))?;
                let mut trust = (*self.trust).clone();
                let source = trust.add_file("demo TEST CSCA (generated at start)", &passport.csca_der);
                trust.sources.push(source);
                Ok(Arc::new(DemoPassport { passport, trust }))
            })
            .clone()
    }
}

/// The holder and document as the chip states them (DG1, with DG11 and DG12 where present). Personal data:
/// it goes into the case and the DIS customer, never into logs.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChipHolder {
    /// What DG1 states, as a page's MRZ would.
    #[serde(flatten)]
    #[ts(flatten)]
    pub mrz: MrzHolder,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub full_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub personal_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub issuing_authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub date_of_issue: Option<String>,
    pub mrz_check_digits_valid: bool,
}

/// What chip data says, decided once for both the DIS API and the kiosk.
pub struct ChipDecision {
    pub data: ChipData,
    pub inspection: Inspection,
    pub report: OfflineReport,
    pub holder: ChipHolder,
}

#[derive(Debug, thiserror::Error)]
pub enum ChipRejected {
    #[error(transparent)]
    Format(#[from] ChipDataError),
    #[error(transparent)]
    Lds(#[from] LdsParseError),
}

fn this_year() -> i32 {
    time::OffsetDateTime::now_utc().year()
}

/// `YYYYMMDD` (DG11, DG12) as `YYYY-MM-DD`; other forms are kept as the chip wrote them.
fn full_date(s: &str) -> String {
    match (s.get(0..4), s.get(4..6), s.get(6..8)) {
        (Some(y), Some(m), Some(d)) if s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()) => format!("{y}-{m}-{d}"),
        _ => s.to_string(),
    }
}

fn holder(report: &OfflineReport, data: &ChipData) -> Option<ChipHolder> {
    let m = report.mrz.as_ref()?;
    let year = this_year();
    let dg11 = data.files.groups.get(&11).and_then(|b| vouch_chip::lds::details::parse_dg11(b).ok());
    let dg12 = data.files.groups.get(&12).and_then(|b| vouch_chip::lds::details::parse_dg12(b).ok());
    let optional = m.optional_data.trim_end_matches('<').to_string();
    Some(ChipHolder {
        mrz: MrzHolder::of(m, year),
        full_name: dg11.as_ref().and_then(|d| d.full_name.clone()),
        personal_number: dg11
            .as_ref()
            .and_then(|d| d.personal_number.clone())
            .or_else(|| (!optional.is_empty()).then_some(optional)),
        issuing_authority: dg12.as_ref().and_then(|d| d.issuing_authority.clone()),
        date_of_issue: dg12.as_ref().and_then(|d| d.date_of_issue.as_deref().map(full_date)),
        mrz_check_digits_valid: m.checks.all_valid(),
    })
}

/// Parses and checks chip data: its files, passive authentication against `trust`, the active
/// authentication signature against the challenge this side issued, and the chip authentication this side's
/// own reader ran (`witnessed`; never a client's claim).
pub fn decide(
    bytes: &[u8],
    challenge: Option<&[u8]>,
    trust: &TrustStore,
    witnessed: Option<&ChipCheck>,
) -> Result<ChipDecision, ChipRejected> {
    let data = chip_data::decode(bytes)?;
    let (inspection, report) = inspection::inspect(&data, challenge, trust, witnessed)?;
    let holder = holder(&report, &data).ok_or_else(|| LdsParseError("DG1 (the MRZ) cannot be parsed".into()))?;
    Ok(ChipDecision { data, inspection, report, holder })
}

impl ChipDecision {
    /// Whether the document expired before today (UTC), when the chip gives an expiry date.
    pub fn expired(&self) -> Option<bool> {
        vouch_core::step_rules::iso_expired(self.holder.mrz.date_of_expiry.as_deref()?, crate::today())
    }

    /// The kiosk chip step's verdict on this read ([`vouch_core::step_rules::chip`]).
    pub fn verdict(&self) -> vouch_core::step_rules::Verdict {
        let facts = vouch_core::step_rules::ChipFacts {
            data_authenticated: self.inspection.data_authentication == DataAuthentication::Authenticated,
            chip_authentication_denied: self.inspection.chip_authentication == ChipAuthentication::Denied,
            date_of_expiry: self.holder.mrz.date_of_expiry.as_deref(),
            mrz_check_digits_valid: self.holder.mrz_check_digits_valid,
        };
        vouch_core::step_rules::chip(facts, crate::today())
    }

    /// The first portrait in DG2, as the chip stores it (JPEG or JPEG 2000).
    pub fn portrait(&self) -> Option<&[u8]> {
        self.report.faces.first().map(|f| f.data.as_slice())
    }
}
