//! The verdict on one document's chip data, in the terms of DIS document inspection: data authentication
//! (passive authentication, or a broken EF.COM), chip authentication (active authentication against a
//! challenge this side issued), and the access control the reader used. The DIS upload and the kiosk's own
//! chip step both decide through [`inspect`].

use serde::{Deserialize, Serialize};

use crate::chip_data::ChipData;
use crate::offline::{self, OfflineReport};
use crate::pki::passive_auth::PaStatus;
use crate::pki::trust::TrustStore;
use crate::reader::AuthStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DataAuthentication {
    Authenticated,
    Denied,
    InvalidSodFile,
    InvalidComFile,
    AuthorityCertificatesNotProvided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChipAuthentication {
    Authenticated,
    Denied,
    /// The chip has no key for it (no DG15).
    NotSupported,
    /// The chip could have proved itself, but no signature over an issued challenge came with the data.
    NotPerformed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChipAuthenticationType {
    ActiveAuthentication,
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
        }
    }
}

/// Holds no personal data: it is stored next to the encrypted chip data and may be logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    pub data_authentication: DataAuthentication,
    pub chip_authentication: ChipAuthentication,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chip_authentication_type: Option<ChipAuthenticationType>,
    /// `BAC` or `PACE`, as the reader declared it.
    #[serde(skip_serializing_if = "Option::is_none")]
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
/// could be replayed from an earlier reading).
pub fn inspect(
    data: &ChipData,
    challenge: Option<&[u8]>,
    trust: &TrustStore,
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
    let inspection = Inspection {
        data_authentication,
        chip_authentication,
        chip_authentication_type,
        access_control_protocol_type: data.access_control.clone(),
        problems,
    };
    Ok((inspection, report))
}
