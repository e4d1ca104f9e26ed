//! DIS Trust Platform records: a customer's onboarding (what the DIS adapter gathers: the customer as DIS shows it,
//! its selfie, liveness frames and evaluations, document pages, chip data and inspections) sealed as one ZIP whose
//! manifest the kiosk key signs, kept immutable after the customer is deleted until retention purges it
//! (`vouch_store::trust_records`). Admins list and download records; `openssl cms -verify` checks one offline.

use serde::Serialize;
use vouch_store::trust_records::{NewTrustRecord, OnboardingStatus, TrustRecord, TrustRecordFilter};

use crate::evidence_package::{extension_for, safe_file_name, ManifestEntry, Writer, CERTIFICATE};
use crate::signing::certificate_pem;
use crate::{App, AppError};

pub const FORMAT: &str = "vouch.trust-record.v1";

/// One file of the record: `folder/name` inside the ZIP (each part made safe), and what it holds.
pub struct RecordFile {
    pub folder: &'static str,
    pub name: String,
    pub media_type: &'static str,
    pub bytes: Vec<u8>,
}

/// What a store call asks to keep.
pub struct Onboarding {
    pub client_id: String,
    pub customer_id: String,
    /// The integrator's id for the customer; the customer's id when it gave none.
    pub external_id: String,
    pub status: OnboardingStatus,
    pub files: Vec<RecordFile>,
}

#[derive(Serialize)]
struct RecordManifest<'a> {
    format: &'static str,
    record_id: &'a str,
    client_id: &'a str,
    customer_id: &'a str,
    external_id: &'a str,
    onboarding_status: &'static str,
    stored_at: String,
    signed_by: String,
    kiosk_certificate_sha256: String,
    files: Vec<ManifestEntry>,
}

/// Seals and keeps the record. A conflict when the customer was already stored as FINISHED.
pub async fn store(app: &App, onboarding: Onboarding) -> Result<TrustRecord, AppError> {
    let keys = app.signing.keys().await?;
    let id = uuid::Uuid::new_v4().to_string();
    let at = vouch_store::now();
    let record_id = id.clone();
    let (zip, manifest_sha256, onboarding) = tokio::task::spawn_blocking(move || {
        let mut w = Writer::new();
        for file in &onboarding.files {
            let name = format!("{}/{}", file.folder, safe_file_name(&file.name, extension_for(file.media_type)),);
            w.add(&name, file.media_type, &file.bytes)?;
        }
        w.add(CERTIFICATE, "application/x-pem-file", certificate_pem(&keys.identity).as_bytes())?;
        let manifest = RecordManifest {
            format: FORMAT,
            record_id: &record_id,
            client_id: &onboarding.client_id,
            customer_id: &onboarding.customer_id,
            external_id: &onboarding.external_id,
            onboarding_status: onboarding.status.as_str(),
            stored_at: crate::rfc3339(at),
            signed_by: keys.identity.subject(),
            kiosk_certificate_sha256: keys.identity.fingerprint(),
            files: w.take_entries(),
        };
        let (zip, manifest_sha256) = w.seal(&manifest, &keys)?;
        Ok::<_, AppError>((zip, manifest_sha256, onboarding))
    })
    .await
    .map_err(AppError::internal)??;
    let record = app
        .db(move |s| {
            s.store_trust_record(NewTrustRecord {
                id: &id,
                client_id: &onboarding.client_id,
                customer_id: &onboarding.customer_id,
                external_id: &onboarding.external_id,
                status: onboarding.status,
                zip: &zip,
                manifest_sha256: &manifest_sha256,
                created_at: at,
            })
        })
        .await?;
    tracing::info!(record = %record.id, status = record.onboarding_status.as_str(), bytes = record.size_bytes, "trust record stored");
    Ok(record)
}

/// Records of one customer (`customer_id`) or under one external id, newest first.
pub async fn list(
    app: &App,
    customer_id: Option<String>,
    external_id: Option<String>,
) -> Result<Vec<TrustRecord>, AppError> {
    match (customer_id, external_id) {
        (Some(c), None) => app.db(move |s| s.trust_records(TrustRecordFilter::Customer(&c))).await,
        (None, Some(e)) => app.db(move |s| s.trust_records(TrustRecordFilter::ExternalId(&e))).await,
        _ => Err(AppError::invalid("Give customer_id or external_id, one of them")),
    }
}

/// The record's row and its signed ZIP. Not found once retention deleted its bytes (the message says when).
pub async fn download(app: &App, id: String) -> Result<(TrustRecord, Vec<u8>), AppError> {
    app.db(move |s| {
        let record = s.trust_record(&id)?;
        let bytes = match record.purged_at {
            Some(_) => None,
            None => Some(s.blobs().get(&record.record_sha256)?),
        };
        Ok((record, bytes))
    })
    .await
    .map_err(|e| e.with_not_found("No such trust record"))
    .and_then(|(record, bytes)| match bytes {
        Some(bytes) => Ok((record, bytes)),
        None => Err(AppError::not_found(format!(
            "The trust record's files were deleted by the retention policy on {}; its hashes stay in the listing",
            record.purged_at.map(crate::rfc3339).unwrap_or_default()
        ))),
    })
}
