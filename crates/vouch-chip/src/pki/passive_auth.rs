//! Passive authentication (ICAO 9303 part 11 §5.1): the document signer's signature over the SOD, every read
//! data group's hash against the SOD, and the document signer's certificate against a CSCA in the trust store.

use std::collections::BTreeMap;

use serde::Serialize;
use subtle::ConstantTimeEq;

use super::cms::SignedData;
use super::sod::{self, Sod};
use super::trust::TrustStore;
use super::x509::Certificate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaStatus {
    /// The SOD is signed by a document signer a trusted CSCA issued, and every read data group matches it.
    Authenticated,
    /// A signature or a hash does not verify, or no trusted CSCA issued the document signer.
    Denied,
    /// EF.SOD could not be parsed.
    InvalidSodFile,
    /// The SOD and hashes verify, but there is no trust store to anchor the document signer in.
    AuthorityCertificatesNotProvided,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashCheck {
    Match,
    Mismatch,
    /// Read from the chip but not listed in the SOD.
    NotInSod,
}

#[derive(Debug, Clone, Serialize)]
pub struct DataGroupCheck {
    pub dg: u8,
    pub result: HashCheck,
}

#[derive(Debug, Clone, Serialize)]
pub struct CertificateSummary {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
    pub key: String,
    pub sha1: String,
}

impl CertificateSummary {
    pub fn of(cert: &Certificate) -> CertificateSummary {
        CertificateSummary {
            subject: cert.subject_text(),
            issuer: cert.issuer_text(),
            serial: cert.serial.iter().map(|b| format!("{b:02X}")).collect(),
            not_before: cert.not_before.clone(),
            not_after: cert.not_after.clone(),
            key: cert.public_key().map(|k| k.describe()).unwrap_or_else(|e| e.to_string()),
            sha1: cert.fingerprint(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PaReport {
    pub status: PaStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash_algorithm: Option<crate::crypto::hash::HashAlgorithm>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_signer: Option<CertificateSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csca: Option<CertificateSummary>,
    pub data_groups: Vec<DataGroupCheck>,
    /// Why the status is not AUTHENTICATED, in words.
    pub problems: Vec<String>,
}

impl PaReport {
    fn invalid(problem: String) -> PaReport {
        PaReport {
            status: PaStatus::InvalidSodFile,
            hash_algorithm: None,
            signature_algorithm: None,
            document_signer: None,
            csca: None,
            data_groups: Vec::new(),
            problems: vec![problem],
        }
    }
}

/// `groups` maps data group numbers to the raw bytes read from the chip.
pub fn verify(ef_sod: &[u8], groups: &BTreeMap<u8, Vec<u8>>, trust: &TrustStore) -> PaReport {
    let sod = match sod::parse(ef_sod) {
        Ok(sod) => sod,
        Err(e) => return PaReport::invalid(format!("EF.SOD: {e}")),
    };
    verify_parsed(&sod, groups, trust)
}

pub fn verify_parsed(sod: &Sod, groups: &BTreeMap<u8, Vec<u8>>, trust: &TrustStore) -> PaReport {
    let mut problems = Vec::new();
    let data_groups: Vec<DataGroupCheck> = groups
        .iter()
        .map(|(dg, bytes)| {
            let result = match sod.hashes.get(dg) {
                None => HashCheck::NotInSod,
                Some(expected) if bool::from(sod.hash.digest(bytes).as_slice().ct_eq(expected)) => HashCheck::Match,
                Some(_) => HashCheck::Mismatch,
            };
            if result != HashCheck::Match {
                problems.push(format!(
                    "DG{dg}: {}",
                    if result == HashCheck::Mismatch { "hash mismatch" } else { "not in the SOD" }
                ));
            }
            DataGroupCheck { dg: *dg, result }
        })
        .collect();

    let signer = check_signer(&sod.signed, trust);
    problems.splice(0..0, signer.problems);
    let status = match signer.status {
        PaStatus::Authenticated if !problems.is_empty() => PaStatus::Denied,
        PaStatus::AuthorityCertificatesNotProvided if !problems.is_empty() => PaStatus::Denied,
        other => other,
    };
    if status == PaStatus::AuthorityCertificatesNotProvided {
        problems.push("no CSCA certificates are configured: the document signer cannot be anchored".into());
    }
    PaReport {
        status,
        hash_algorithm: Some(sod.hash),
        signature_algorithm: signer.signature_algorithm,
        document_signer: signer.document_signer,
        csca: signer.csca,
        data_groups,
        problems,
    }
}

/// The signer of a CMS object (the SOD, EF.CardSecurity): its signature, and its certificate's chain to a CSCA.
#[derive(Debug, Clone, Serialize)]
pub struct SignerCheck {
    pub status: PaStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_signer: Option<CertificateSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csca: Option<CertificateSummary>,
    pub problems: Vec<String>,
}

pub fn check_signer(signed: &SignedData, trust: &TrustStore) -> SignerCheck {
    let mut check = SignerCheck {
        status: PaStatus::Denied,
        signature_algorithm: None,
        document_signer: None,
        csca: None,
        problems: Vec::new(),
    };
    let Some(signer) = signed.signers.first() else {
        check.status = PaStatus::InvalidSodFile;
        check.problems.push("the signed object has no signer".into());
        return check;
    };
    check.signature_algorithm = Some(signer.signature_algorithm.describe(signer.digest));
    let Some(ds) = signed.signer_certificate(signer) else {
        check.status = PaStatus::InvalidSodFile;
        check.problems.push("the signed object does not carry its signer's certificate".into());
        return check;
    };
    check.document_signer = Some(CertificateSummary::of(ds));
    if let Err(e) = signed.verify_signer(signer, ds) {
        check.problems.push(format!("the document signer's signature: {e}"));
    }
    if trust.is_empty() {
        check.status =
            if check.problems.is_empty() { PaStatus::AuthorityCertificatesNotProvided } else { PaStatus::Denied };
        return check;
    }
    let issuers: Vec<&Certificate> = trust.anchors.iter().filter(|csca| ds.names_issuer(csca)).collect();
    match issuers.iter().find(|csca| ds.verify_signed_by(csca).is_ok()) {
        Some(csca) => check.csca = Some(CertificateSummary::of(csca)),
        None if issuers.is_empty() => {
            check.problems.push(format!("no CSCA in the trust store issued the document signer ({})", ds.issuer_text()))
        }
        None => check.problems.push("the document signer's certificate signature does not verify with its CSCA".into()),
    }
    check.status = if check.problems.is_empty() { PaStatus::Authenticated } else { PaStatus::Denied };
    check
}
