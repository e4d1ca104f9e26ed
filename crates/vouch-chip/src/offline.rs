//! Offline verification of a chip dump: a folder of raw elementary files named by their short names (`COM`,
//! `SOD`, `DG1`..`DG16`, `CardAccess`, `CardSecurity`, with or without `.bin`). Every file is parsed, passive
//! authentication runs over the data groups, and EF.CardSecurity's signature and chain are checked.

use std::path::Path;

use serde::Serialize;

use crate::files::ChipFiles;
use crate::lds::{self, details, face, mrz};
use crate::pki::cms;
use crate::pki::passive_auth::{self, PaReport, SignerCheck};
use crate::pki::trust::TrustStore;
use crate::security_infos::{self, SecurityInfos};

/// No elementary file comes near this; a bigger one is not a chip dump.
const MAX_FILE: u64 = 1 << 20;
pub const SECURITY_OBJECT: &str = "0.4.0.127.0.7.3.2.1";

#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    pub file: String,
    pub bytes: usize,
    pub parsed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OfflineReport {
    pub files: Vec<FileCheck>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<mrz::Mrz>,
    pub faces: Vec<face::FaceImage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_infos: Option<SecurityInfos>,
    pub passive_authentication: PaReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_security: Option<SignerCheck>,
    /// Files in the folder that are not elementary files of a chip.
    pub ignored: Vec<String>,
}

/// `DG2.bin` → (Some(2), "DG2"); `SOD` → (None, "SOD").
fn classify(name: &str) -> Option<(Option<u8>, &'static str)> {
    let stem = name.strip_suffix(".bin").unwrap_or(name);
    let stem = stem.strip_prefix("EF.").unwrap_or(stem);
    Some(match stem {
        "COM" => (None, "COM"),
        "SOD" => (None, "SOD"),
        "CardAccess" => (None, "CardAccess"),
        "CardSecurity" => (None, "CardSecurity"),
        dg => {
            let n: u8 = dg.strip_prefix("DG")?.parse().ok()?;
            if !(1..=16).contains(&n) {
                return None;
            }
            (Some(n), "DG")
        }
    })
}

pub fn verify_folder(dir: &Path, trust: &TrustStore) -> std::io::Result<OfflineReport> {
    let mut chip = ChipFiles::default();
    let mut ignored = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.is_file()) {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match classify(&name) {
            Some(_) if std::fs::metadata(&path)?.len() > MAX_FILE => ignored.push(format!("{name} (over 1 MB)")),
            Some((Some(n), _)) => {
                chip.groups.insert(n, std::fs::read(&path)?);
            }
            Some((None, kind)) => {
                let slot = match kind {
                    "COM" => &mut chip.com,
                    "SOD" => &mut chip.sod,
                    "CardAccess" => &mut chip.card_access,
                    _ => &mut chip.card_security,
                };
                *slot = Some(std::fs::read(&path)?);
            }
            None => ignored.push(name),
        }
    }
    let mut report = verify_files(&chip, trust);
    report.ignored = ignored;
    Ok(report)
}

/// Parses every file and runs passive authentication over the data groups, and checks EF.CardSecurity's
/// signature and chain when it is there.
pub fn verify_files(chip: &ChipFiles, trust: &TrustStore) -> OfflineReport {
    let groups = &chip.groups;
    let mut files = Vec::new();
    let mut check = |file: String, bytes: &[u8], result: Result<(), String>| {
        files.push(FileCheck { file, bytes: bytes.len(), parsed: result.is_ok(), problem: result.err() });
    };
    if let Some(b) = &chip.com {
        check("COM".into(), b, lds::parse_com(b).map(|_| ()).map_err(|e| e.to_string()));
    }
    if let Some(b) = &chip.card_access {
        check("CardAccess".into(), b, security_infos::parse(b).map(|_| ()).map_err(|e| e.to_string()));
    }
    let mut mrz_fields = None;
    let mut faces = Vec::new();
    let mut infos = None;
    for (n, b) in groups {
        let result = match n {
            1 => lds::parse_dg1(b).map(|m| mrz_fields = Some(m)),
            2 => face::parse_dg2(b).map(|f| faces = f),
            7 => details::parse_dg7(b).map(|_| ()),
            11 => details::parse_dg11(b).map(|_| ()),
            12 => details::parse_dg12(b).map(|_| ()),
            14 => lds::unwrap_der(b, 0x6E)
                .map_err(|e| e.to_string())
                .and_then(|der| security_infos::parse(der).map_err(|e| e.to_string()))
                .map(|i| infos = Some(i)),
            15 => lds::unwrap_der(b, 0x6F)
                .map_err(|e| e.to_string())
                .and_then(|der| crate::pki::x509::public_key(der).map(|_| ()).map_err(|e| e.to_string())),
            n => crate::tlv::parse_one(b).map_err(|e| e.to_string()).and_then(|(t, _)| {
                (Some(t.tag) == lds::data_group(*n).map(|d| u32::from(d.tag)))
                    .then_some(())
                    .ok_or_else(|| "wrong outer tag".to_string())
            }),
        };
        check(format!("DG{n}"), b, result);
    }
    let passive_authentication = passive_auth::verify(chip.sod.as_deref().unwrap_or(&[]), groups, trust);
    if let Some(b) = &chip.sod {
        let sod = crate::pki::sod::parse(b).map(|_| ()).map_err(|e| e.to_string());
        check("SOD".into(), b, sod);
    }
    let card_security = chip.card_security.as_ref().map(|b| {
        let parsed = cms::parse(b).map_err(|e| e.to_string()).and_then(|signed| {
            if signed.content_type != SECURITY_OBJECT {
                return Err("EF.CardSecurity's content is not a SecurityInfos security object".into());
            }
            security_infos::parse(&signed.content).map_err(|e| e.to_string())?;
            Ok(signed)
        });
        match parsed {
            Ok(signed) => {
                check("CardSecurity".into(), b, Ok(()));
                passive_auth::check_signer(&signed, trust)
            }
            Err(e) => {
                check("CardSecurity".into(), b, Err(e.clone()));
                SignerCheck {
                    status: passive_auth::PaStatus::InvalidSodFile,
                    signature_algorithm: None,
                    document_signer: None,
                    csca: None,
                    problems: vec![e],
                }
            }
        }
    });
    OfflineReport {
        files,
        mrz: mrz_fields,
        faces,
        security_infos: infos,
        passive_authentication,
        card_security,
        ignored: Vec::new(),
    }
}

/// Writes the files under their short names (`DG2.bin`, …), the form `verify_folder` reads back.
pub fn write_dump(dir: &Path, chip: &ChipFiles) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in chip.named() {
        std::fs::write(dir.join(format!("{name}.bin")), bytes)?;
    }
    Ok(())
}
