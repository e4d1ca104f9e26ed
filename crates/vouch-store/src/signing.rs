//! Sign processes (DANAconnect circuits, MasStack sign processes): their documents, their signers (one case each)
//! and the signing itself. Document files are encrypted blobs, written before the rows that name them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vouch_core::flow::{StepKind, StepOutcome, StepRecord};
use vouch_core::{Case, CaseId};

use crate::audit;
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::flows::{Capture, NewStep};
use crate::{from_ms, sha256_hex, to_ms, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SignMethod {
    /// A handwritten signature with its pen data.
    Biometric,
    /// A click to sign, without biometrics.
    Simple,
}

impl SignMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::Biometric => "biometric",
            SignMethod::Simple => "simple",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignDocument {
    pub position: u32,
    pub name: String,
    pub original_sha256: String,
    pub size: u64,
    /// The newest version: the original until someone signs, then the last signed file.
    pub current_sha256: String,
    /// When retention deleted the files (every signer's case had been purged); the row and hashes stay.
    pub purged_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signer {
    pub case_id: CaseId,
    pub process_id: String,
    pub position: u32,
    pub name: String,
    pub email: Option<String>,
    pub nif: Option<String>,
    pub method: SignMethod,
    pub previewed_at: Option<OffsetDateTime>,
    pub signed_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignProcess {
    pub id: String,
    pub client_id: String,
    pub api: String,
    pub org_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub documents: Vec<SignDocument>,
    pub signers: Vec<Signer>,
}

/// Who asks for a process: its id, the client, the API, and MasStack's organisation.
#[derive(Debug, Clone, Copy)]
pub struct NewSignProcess<'a> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub api: &'a str,
    pub org_id: Option<&'a str>,
}

/// A signer to create, with the case that carries them.
pub struct NewSigner {
    pub case: Case,
    pub name: String,
    pub email: Option<String>,
    pub nif: Option<String>,
    pub method: SignMethod,
}

/// A document's next version, made by signing the version whose hash is `previous_sha256`.
pub struct SignedVersion<'a> {
    pub position: u32,
    pub previous_sha256: String,
    pub bytes: &'a [u8],
}

const SIGNER_COLUMNS: &str = "case_id, process_id, position, name, email, nif, method, previewed_at, signed_at";

fn signer_from_row(r: &Row) -> Result<Signer> {
    let case_id: String = r.get(0)?;
    let method: String = r.get(6)?;
    Ok(Signer {
        case_id: CaseId::parse(&case_id).ok_or_else(|| StoreError::corrupt("a signer's case id is not a UUID"))?,
        process_id: r.get(1)?,
        position: r.get(2)?,
        name: r.get(3)?,
        email: r.get(4)?,
        nif: r.get(5)?,
        method: match method.as_str() {
            "biometric" => SignMethod::Biometric,
            "simple" => SignMethod::Simple,
            _ => return Err(StoreError::corrupt("an unknown sign method")),
        },
        previewed_at: r.get::<Option<i64>>(7)?.map(from_ms),
        signed_at: r.get::<Option<i64>>(8)?.map(from_ms),
    })
}

/// The process and its documents' rows (their blobs are written already).
pub(crate) fn insert_process(
    tx: &Conn<'_>,
    process: &NewSignProcess<'_>,
    documents: &[SignDocument],
    at: OffsetDateTime,
) -> Result<()> {
    tx.execute(
        "INSERT INTO sign_processes (id, client_id, api, org_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        db_params![process.id, process.client_id, process.api, process.org_id, to_ms(at)],
    )?;
    for d in documents {
        tx.execute(
            "INSERT INTO sign_documents (process_id, position, name, original_sha256, size, current_sha256)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            db_params![
                process.id,
                d.position,
                d.name,
                d.original_sha256,
                i64::try_from(d.size).unwrap_or(i64::MAX),
                d.current_sha256
            ],
        )?;
    }
    Ok(())
}

/// A signer's row, for a case inserted already.
pub(crate) fn insert_signer(tx: &Conn<'_>, process_id: &str, position: u32, s: &NewSigner) -> Result<()> {
    tx.execute(
        &format!("INSERT INTO signers ({SIGNER_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, NULL)"),
        db_params![s.case.id.to_string(), process_id, position, s.name, s.email, s.nif, s.method.as_str()],
    )?;
    Ok(())
}

/// The pen data of a signature drawn at a kiosk for a case of its central, as the kiosk keeps it and pushes it up
/// (a [`vouch_signature`]-style drawing: the pad and its samples, as JSON): the central signs the documents with it.
pub const PEN_MEDIA_TYPE: &str = "application/vnd.vouch.pen+json";

impl Store {
    /// Creates a process: the document blobs first, then in one transaction the process, its documents, every
    /// signer's case (with its code and audit event) and the signers.
    pub fn create_sign_process(
        &self,
        process: &NewSignProcess<'_>,
        documents: &[(String, &[u8])],
        signers: &[NewSigner],
        actor: &str,
    ) -> Result<SignProcess> {
        let NewSignProcess { id: process_id, client_id, api, org_id } = *process;
        let stored = self.put_documents(documents)?;
        let now = crate::now();
        let created = self.with(|conn| {
            conn.transaction(|tx| {
                insert_process(tx, process, &stored, now)?;
                let mut created = Vec::with_capacity(signers.len());
                for (position, s) in signers.iter().enumerate() {
                    crate::cases::insert_case_in(tx, self.audit_key(), &s.case, actor)?;
                    let position = u32::try_from(position).unwrap_or(u32::MAX);
                    insert_signer(tx, process_id, position, s)?;
                    // Names of documents and hashes only: who signs is personal data and the audit log outlives
                    // retention.
                    let detail = serde_json::json!({
                        "process": process_id, "signer": position + 1, "method": s.method.as_str(),
                        "documents": stored.iter().map(|d| serde_json::json!({"name": d.name, "sha256": d.original_sha256})).collect::<Vec<_>>(),
                    });
                    let chain = s.case.id.to_string();
                    audit::append_event(tx, self.audit_key(), &chain, now, actor, "signing_requested", &detail)?;
                    created.push(Signer {
                        case_id: s.case.id,
                        process_id: process_id.to_string(),
                        position,
                        name: s.name.clone(),
                        email: s.email.clone(),
                        nif: s.nif.clone(),
                        method: s.method,
                        previewed_at: None,
                        signed_at: None,
                    });
                }
                Ok(created)
            })
        })?;
        Ok(SignProcess {
            id: process_id.to_string(),
            client_id: client_id.to_string(),
            api: api.to_string(),
            org_id: org_id.map(str::to_string),
            created_at: now,
            documents: stored,
            signers: created,
        })
    }

    /// Writes each document's blob; their rows name them in the transaction that follows.
    pub(crate) fn put_documents(&self, documents: &[(String, &[u8])]) -> Result<Vec<SignDocument>> {
        let mut stored = Vec::with_capacity(documents.len());
        for (position, (name, bytes)) in documents.iter().enumerate() {
            let sha = self.blobs().put(bytes)?;
            stored.push(SignDocument {
                position: u32::try_from(position).unwrap_or(u32::MAX),
                name: name.clone(),
                original_sha256: sha.clone(),
                size: bytes.len() as u64,
                current_sha256: sha,
                purged_at: None,
            });
        }
        Ok(stored)
    }

    /// A kiosk's signature step on a case of its central: the step with the pen data, and the signer marked as
    /// having signed here, in one transaction. The documents are signed at the central, with its keys, when the
    /// step goes up.
    pub fn record_signature_for_central(
        &self,
        case_id: CaseId,
        index: u32,
        detail: serde_json::Value,
        pen: &[u8],
        actor: &str,
    ) -> Result<StepRecord> {
        let step = NewStep { case_id, index, kind: StepKind::Signature, outcome: StepOutcome::Passed, detail };
        let pen = [Capture { kind: vouch_core::EvidenceKind::SignatureData, media_type: PEN_MEDIA_TYPE, bytes: pen }];
        self.record_step_with(step, &pen, actor, |tx, at| {
            let signed = tx.execute(
                "UPDATE signers SET signed_at = ?1 WHERE case_id = ?2 AND signed_at IS NULL",
                db_params![to_ms(at), case_id.to_string()],
            )?;
            if signed == 0 {
                return Err(StoreError::Conflict("the documents are already signed".into()));
            }
            Ok(())
        })
    }

    /// A signature step a kiosk pushed, signed here with this service's keys: the step, its captures and the new
    /// document versions, with the item marked applied, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub fn push_kiosk_signature(
        &self,
        kiosk_id: &str,
        item_id: &str,
        case_id: CaseId,
        index: u32,
        detail: serde_json::Value,
        captures: &[Capture<'_>],
        versions: &[SignedVersion<'_>],
    ) -> Result<crate::sync::Pushed> {
        let step = NewStep { case_id, index, kind: StepKind::Signature, outcome: StepOutcome::Passed, detail };
        let actor = format!("kiosk:{kiosk_id}");
        let (pushed, _) = self.push_kiosk_step_with(kiosk_id, item_id, step, captures, |tx, at| {
            // The kiosk shows every document before it takes a drawing (its viewings are audited there).
            tx.execute(
                "UPDATE signers SET previewed_at = coalesce(previewed_at, ?1) WHERE case_id = ?2",
                db_params![to_ms(at), case_id.to_string()],
            )?;
            apply_signing(tx, self.audit_key(), case_id, versions, at, &actor)
        })?;
        Ok(pushed)
    }

    pub fn sign_process(&self, process_id: &str) -> Result<SignProcess> {
        let (process, documents, signers) = self.with(|conn| {
            let process = conn.query_one(
                "SELECT client_id, api, org_id, created_at FROM sign_processes WHERE id = ?1",
                db_params![process_id],
            )?;
            let documents = conn.query(
                "SELECT position, name, original_sha256, size, current_sha256, purged_at FROM sign_documents
                 WHERE process_id = ?1 ORDER BY position",
                db_params![process_id],
            )?;
            let signers = conn.query(
                &format!("SELECT {SIGNER_COLUMNS} FROM signers WHERE process_id = ?1 ORDER BY position"),
                db_params![process_id],
            )?;
            Ok((process, documents, signers))
        })?;
        let documents = documents
            .iter()
            .map(|r| {
                Ok(SignDocument {
                    position: r.get(0)?,
                    name: r.get(1)?,
                    original_sha256: r.get(2)?,
                    size: r.get::<i64>(3)?.try_into().unwrap_or(0),
                    current_sha256: r.get(4)?,
                    purged_at: r.get::<Option<i64>>(5)?.map(from_ms),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SignProcess {
            id: process_id.to_string(),
            client_id: process.get(0)?,
            api: process.get(1)?,
            org_id: process.get(2)?,
            created_at: from_ms(process.get(3)?),
            documents,
            signers: signers.iter().map(signer_from_row).collect::<Result<_>>()?,
        })
    }

    /// The signer a case carries, if the case asks for a signature.
    pub fn signer(&self, case_id: CaseId) -> Result<Option<Signer>> {
        let sql = format!("SELECT {SIGNER_COLUMNS} FROM signers WHERE case_id = ?1");
        let row = self.with(|conn| conn.query_opt(&sql, db_params![case_id.to_string()]))?;
        row.as_ref().map(signer_from_row).transpose()
    }

    /// Records that the signer was shown the documents. The first time is kept; every viewing is audited.
    pub fn mark_previewed(&self, case_id: CaseId, actor: &str, detail: &serde_json::Value) -> Result<()> {
        self.with(|conn| {
            conn.transaction(|tx| {
                let now = crate::now();
                let chain = case_id.to_string();
                let n = tx.execute(
                    "UPDATE signers SET previewed_at = coalesce(previewed_at, ?1) WHERE case_id = ?2",
                    db_params![to_ms(now), chain],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                audit::append_event(tx, self.audit_key(), &chain, now, actor, "documents_previewed", detail)
            })
        })
    }

    /// The kiosk's signature step: the step, its captures (pen data, picture, signed PDFs) and the new document
    /// versions, in one transaction.
    pub fn record_signature_step(
        &self,
        case_id: CaseId,
        index: u32,
        detail: serde_json::Value,
        captures: &[Capture<'_>],
        versions: &[SignedVersion<'_>],
        actor: &str,
    ) -> Result<StepRecord> {
        let step = NewStep { case_id, index, kind: StepKind::Signature, outcome: StepOutcome::Passed, detail };
        self.record_step_with(step, captures, actor, |tx, at| {
            apply_signing(tx, self.audit_key(), case_id, versions, at, actor)
        })
    }

    /// A signature made outside the kiosk flow (MasStack's sign call from the integrator's signer app): the
    /// captures and new versions with their audit event, in one transaction. `audit_detail` says where it came from.
    pub fn record_signature(
        &self,
        case_id: CaseId,
        captures: &[Capture<'_>],
        versions: &[SignedVersion<'_>],
        actor: &str,
        audit_detail: &serde_json::Value,
    ) -> Result<()> {
        let evidence = self.put_captures(captures)?;
        self.with(|conn| {
            conn.transaction(|tx| {
                let chain = case_id.to_string();
                tx.lock(&chain)?;
                let status: String =
                    tx.query_one("SELECT status FROM cases WHERE id = ?1", db_params![chain])?.get(0)?;
                if vouch_core::CaseStatus::parse(&status).is_none_or(|s| s.is_terminal()) {
                    return Err(StoreError::Conflict(format!("the case is {status} and takes no signature")));
                }
                let at = crate::now();
                crate::cases::insert_evidence(tx, case_id, at, &evidence)?;
                audit::append_event(tx, self.audit_key(), &chain, at, actor, "signature_received", audit_detail)?;
                apply_signing(tx, self.audit_key(), case_id, versions, at, actor)
            })
        })
    }
}

/// Moves each document to its signed version, unless another signer got there first, and marks the signer signed.
fn apply_signing(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    case_id: CaseId,
    versions: &[SignedVersion<'_>],
    at: OffsetDateTime,
    actor: &str,
) -> Result<()> {
    let process_id: String = tx
        .query_opt("SELECT process_id FROM signers WHERE case_id = ?1", db_params![case_id.to_string()])?
        .ok_or_else(|| StoreError::Conflict("this case has nothing to sign".into()))?
        .get(0)?;
    let signed = tx.execute(
        "UPDATE signers SET signed_at = ?1 WHERE case_id = ?2 AND signed_at IS NULL",
        db_params![to_ms(at), case_id.to_string()],
    )?;
    if signed == 0 {
        return Err(StoreError::Conflict("the documents are already signed".into()));
    }
    let mut hashes = Vec::with_capacity(versions.len());
    for v in versions {
        let sha = sha256_hex(v.bytes);
        let moved = tx.execute(
            "UPDATE sign_documents SET current_sha256 = ?1
             WHERE process_id = ?2 AND position = ?3 AND current_sha256 = ?4",
            db_params![sha, process_id, v.position, v.previous_sha256],
        )?;
        if moved == 0 {
            return Err(StoreError::Conflict(
                "another signer signed these documents at the same moment; sign again".into(),
            ));
        }
        hashes.push(serde_json::json!({"document": v.position + 1, "signed_sha256": sha}));
    }
    let detail = serde_json::json!({"process": process_id, "documents": hashes});
    audit::append_event(tx, audit_key, &case_id.to_string(), at, actor, "documents_signed", &detail)?;
    Ok(())
}
