//! The verdict on one document's chip data, in the terms of DIS document inspection: data authentication
//! (passive authentication, or a broken EF.COM), chip authentication, and the access control the reader used.
//! The DIS upload and the kiosk's own chip step both decide through [`inspect`].
//!
//! Chip authentication is either active authentication, a signature over a challenge this side issued, which
//! uploaded data can carry, or DG14 chip authentication, a key agreement only the device at the chip can run.
//! The latter counts only when this side's own reader ran it (the kiosk); a client's word for it is never taken.

use serde::{Deserialize, Serialize};

use crate::chip_data::ChipData;
use crate::offline::{self, OfflineReport};
use crate::pki::passive_auth::{HashCheck, PaStatus};
use crate::pki::trust::TrustStore;
use crate::reader::{AuthStatus, ChipCheck};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataAuthentication {
    Authenticated,
    Denied,
    InvalidSodFile,
    InvalidComFile,
    AuthorityCertificatesNotProvided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChipAuthentication {
    Authenticated,
    Denied,
    /// The chip has no key for it (no DG15).
    NotSupported,
    /// The chip could have proved itself, but no signature over an issued challenge came with the data.
    NotPerformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChipAuthenticationType {
    ActiveAuthentication,
    /// The DG14 key agreement this side's own reader ran (chip authentication proper).
    ChipAuthentication,
}

impl DataAuthentication {
    pub fn as_str(self) -> &'static str {
        match self {
            DataAuthentication::Authenticated => "AUTHENTICATED",
            DataAuthentication::Denied => "DENIED",
            DataAuthentication::InvalidSodFile => "INVALID_SOD_FILE",
            DataAuthentication::InvalidComFile => "INVALID_COM_FILE",
            DataAuthentication::AuthorityCertificatesNotProvided => "AUTHORITY_CERTIFICATES_NOT_PROVIDED",
        }
    }
}

impl ChipAuthentication {
    pub fn as_str(self) -> &'static str {
        match self {
            ChipAuthentication::Authenticated => "AUTHENTICATED",
            ChipAuthentication::Denied => "DENIED",
            ChipAuthentication::NotSupported => "NOT_SUPPORTED",
            ChipAuthentication::NotPerformed => "NOT_PERFORMED",
        }
    }
}

impl ChipAuthenticationType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChipAuthenticationType::ActiveAuthentication => "ACTIVE_AUTHENTICATION",
            ChipAuthenticationType::ChipAuthentication => "CHIP_AUTHENTICATION",
        }
    }
}

/// Holds no personal data: it is stored next to the encrypted chip data and may be logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Inspection {
    pub data_authentication: DataAuthentication,
    pub chip_authentication: ChipAuthentication,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub chip_authentication_type: Option<ChipAuthenticationType>,
    /// `BAC` or `PACE`, as the reader declared it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub access_control_protocol_type: Option<String>,
    /// Why a check did not pass, in words.
    pub problems: Vec<String>,
}

/// The chip data cannot be used at all: DIS answers LDS_PARSE_ERROR.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LdsParseError(pub String);

/// Parses every file, runs passive authentication against `trust` and checks the active authentication
/// signature against `challenge` (the one this side issued; without it a signature proves nothing, since it
/// could be replayed from an earlier reading). `witnessed` is the chip authentication this process's own reader
/// ran on the chip, if any.
pub fn inspect(
    data: &ChipData,
    challenge: Option<&[u8]>,
    trust: &TrustStore,
    witnessed: Option<&ChipCheck>,
) -> Result<(Inspection, OfflineReport), LdsParseError> {
    let report = offline::verify_files(&data.files, trust);
    if report.mrz.is_none() {
        let why = report
            .files
            .iter()
            .find(|f| f.file == "DG1")
            .and_then(|f| f.problem.clone())
            .unwrap_or_else(|| "DG1 is missing".into());
        return Err(LdsParseError(format!("DG1 (the MRZ) cannot be parsed: {why}")));
    }
    let mut problems = report.passive_authentication.problems.clone();
    let com_broken = report.files.iter().any(|f| f.file == "COM" && !f.parsed);
    let data_authentication = match report.passive_authentication.status {
        _ if com_broken => {
            problems.push("EF.COM cannot be parsed".into());
            DataAuthentication::InvalidComFile
        }
        PaStatus::Authenticated => DataAuthentication::Authenticated,
        PaStatus::Denied => DataAuthentication::Denied,
        PaStatus::InvalidSodFile => DataAuthentication::InvalidSodFile,
        PaStatus::AuthorityCertificatesNotProvided => DataAuthentication::AuthorityCertificatesNotProvided,
    };

    let (chip_authentication, chip_authentication_type) = match (data.files.groups.get(&15), &data.aa_signature) {
        (None, _) => (ChipAuthentication::NotSupported, None),
        (Some(_), None) => (ChipAuthentication::NotPerformed, Some(ChipAuthenticationType::ActiveAuthentication)),
        (Some(dg15), Some(signature)) => {
            let status = match challenge {
                None => {
                    problems.push(
                        "an active authentication signature came without a challenge issued for it \
                         (PUT .../document/chip/challenge first)"
                            .into(),
                    );
                    ChipAuthentication::NotPerformed
                }
                Some(challenge) => {
                    let check = crate::active_auth::verify(dg15, report.security_infos.as_ref(), challenge, signature);
                    if let Some(p) = check.problem {
                        problems.push(format!("active authentication: {p}"));
                    }
                    if check.status == AuthStatus::Authenticated {
                        ChipAuthentication::Authenticated
                    } else {
                        ChipAuthentication::Denied
                    }
                }
            };
            (status, Some(ChipAuthenticationType::ActiveAuthentication))
        }
    };
    let dg14_offers = report.security_infos.as_ref().is_some_and(|i| !i.chip_auth_keys.is_empty());
    let dg14_matches_sod =
        report.passive_authentication.data_groups.iter().any(|d| d.dg == 14 && d.result == HashCheck::Match);
    let witnessed = witnessed.filter(|c| matches!(c.status, AuthStatus::Authenticated | AuthStatus::Failed));
    let ca = Some(ChipAuthenticationType::ChipAuthentication);
    let (chip_authentication, chip_authentication_type) = match witnessed {
        Some(check) if check.status == AuthStatus::Failed => {
            problems.push(format!("chip authentication: {}", check.problem.as_deref().unwrap_or("failed")));
            (ChipAuthentication::Denied, ca)
        }
        // A failed active authentication outweighs a passed chip authentication: either is a copied chip.
        Some(_) if chip_authentication == ChipAuthentication::Denied => (chip_authentication, chip_authentication_type),
        Some(_) if !dg14_matches_sod => {
            problems.push(
                "chip authentication proved the chip holds the key in DG14, but DG14 does not match EF.SOD".into(),
            );
            (ChipAuthentication::Denied, ca)
        }
        Some(_) => (ChipAuthentication::Authenticated, ca),
        None if dg14_offers && chip_authentication == ChipAuthentication::NotSupported => {
            problems.push(
                "DG14 offers chip authentication, which only the device at the chip can run, and this chip data \
                 carries no active authentication signature"
                    .into(),
            );
            (ChipAuthentication::NotPerformed, ca)
        }
        None => (chip_authentication, chip_authentication_type),
    };
    let inspection = Inspection {
        data_authentication,
        chip_authentication,
        chip_authentication_type,
        access_control_protocol_type: data.access_control.clone(),
        problems,
    };
    Ok((inspection, report))
}
