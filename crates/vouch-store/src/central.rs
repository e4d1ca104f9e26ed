//! At a kiosk paired with a central service: the link (the central's address and this kiosk's credentials there,
//! sealed), the cases pulled from it, and the outbox of what was recorded here on them. An outbox item is written
//! in the transaction that records its step or decision, so nothing recorded here is lost on the way up, and it is
//! acknowledged only once the central applied it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vouch_core::flow::{FlowRef, FlowVersion, StepKind, StepOutcome, StepRecord};
use vouch_core::{Case, CaseId, Decision, EvidenceKind, Scope};

use crate::audit::{self, CLIENTS_CHAIN};
use crate::cases::NewEvidence;
use crate::credentials::{random_token, secret_mac};
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::signing::{NewSignProcess, NewSigner, SignDocument};
use crate::{from_ms, now, to_ms, Store};

/// Pulled flows are kept under this prefix, so that one never stands in for a local flow of the same id.
pub const CENTRAL_FLOW_PREFIX: &str = "central/";

/// The central service this kiosk is paired with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CentralLink {
    /// The central's base URL: `https://central.example`.
    pub url: String,
    /// This kiosk's client id there.
    pub client_id: String,
    pub kiosk_id: String,
    pub name: String,
    pub branch: Option<String>,
    /// The SHA-256 fingerprint of the central's certificate when the admin pinned it: then only that certificate.
    pub fingerprint: Option<String>,
    pub paired_at: OffsetDateTime,
    pub last_sync_at: Option<OffsetDateTime>,
    /// Why the last sync did not finish; None when it did.
    pub last_error: Option<String>,
}

/// What pairing gave the kiosk.
#[derive(Debug, Clone)]
pub struct Pairing {
    pub url: String,
    pub client_id: String,
    pub client_secret: String,
    pub kiosk_id: String,
    pub name: String,
    pub branch: Option<String>,
    pub fingerprint: Option<String>,
}

/// An open case the central offered this kiosk, as the sync API lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct PulledCase {
    pub case: Case,
    pub code: String,
    pub flow: FlowVersion,
    pub steps: Vec<StepRecord>,
    /// The integrator's reference photo for the face match, fetched on its own when the case is new here.
    #[serde(default)]
    pub reference_photo: Option<PulledPhoto>,
    /// For a signing case: who signs and the documents to show them, fetched on their own when the case is new here.
    #[serde(default)]
    pub signing: Option<PulledSigning>,
}

/// What the signer of a signing case reads at the kiosk. The central signs with what they draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledSigning {
    pub signer_name: String,
    pub method: crate::signing::SignMethod,
    pub documents: Vec<PulledDocument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledDocument {
    pub position: u32,
    pub name: String,
    /// Of the version the signer reads: the newest at the central when the case was listed.
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PulledPhoto {
    pub sha256: String,
    pub media_type: String,
}

/// A pulled case's reference photo, as fetched.
pub struct ReferenceBytes<'a> {
    pub bytes: &'a [u8],
    pub media_type: &'a str,
}

/// One thing a step captured, as the outbox names it: the bytes stay in the (encrypted) blob store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureRef {
    pub kind: EvidenceKind,
    pub media_type: String,
    pub sha256: String,
}

/// A step recorded here, waiting to go up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxStep {
    pub index: u32,
    pub kind: StepKind,
    pub outcome: StepOutcome,
    pub detail: serde_json::Value,
    pub captures: Vec<CaptureRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OutboxBody {
    Step(OutboxStep),
    Decision(Decision),
}

/// One item waiting to go up: items of one case go in `seq` order.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub seq: i64,
    pub case_id: CaseId,
    /// This kiosk's id for it, the same on every attempt: the central applies it once.
    pub item_id: String,
    pub body: OutboxBody,
}

/// How the kiosk stands with its central service.
#[derive(Debug, Clone, Serialize)]
pub struct CentralStatus {
    pub link: Option<CentralLink>,
    /// Items recorded here and not yet acknowledged by the central.
    pub waiting: u64,
    /// Cases pulled from the central.
    pub pulled: u64,
    /// Cases the central refused this kiosk's work on, with its reason.
    pub refused: Vec<RefusedCase>,
    /// The name of the flow a walk-in runs, when the central takes walk-ins from this kiosk.
    pub walk_in_flow: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RefusedCase {
    pub case_id: String,
    pub reason: String,
}

fn secret_aad(client_id: &str) -> Vec<u8> {
    format!("central-secret:{client_id}").into_bytes()
}

const LINK_COLUMNS: &str = "url, client_id, kiosk_id, name, branch, paired_at, last_sync_at, last_error, fingerprint";

fn link_from_row(r: &Row) -> Result<CentralLink> {
    Ok(CentralLink {
        url: r.get(0)?,
        client_id: r.get(1)?,
        kiosk_id: r.get(2)?,
        name: r.get(3)?,
        branch: r.get(4)?,
        paired_at: from_ms(r.get(5)?),
        last_sync_at: r.get::<Option<i64>>(6)?.map(from_ms),
        last_error: r.get(7)?,
        fingerprint: r.get(8)?,
    })
}

/// Keeps a flow version of the central's under `central/<id>` (once: a version never changes).
pub(crate) fn keep_central_flow(tx: &Conn<'_>, flow: &FlowVersion) -> Result<()> {
    let steps = serde_json::to_string(&flow.steps).map_err(|e| StoreError::corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO flows (id, version, name, steps, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (id, version) DO NOTHING",
        db_params![
            format!("{CENTRAL_FLOW_PREFIX}{}", flow.id),
            flow.version,
            flow.name,
            steps,
            to_ms(flow.created_at),
            flow.created_by
        ],
    )?;
    Ok(())
}

fn is_central_case(tx: &Conn<'_>, case_id: &str) -> Result<bool> {
    Ok(tx.query_opt("SELECT 1 FROM central_cases WHERE case_id = ?1", db_params![case_id])?.is_some())
}

fn enqueue(tx: &Conn<'_>, case_id: &str, item_id: &str, kind: &str, body: &str) -> Result<()> {
    tx.execute(
        "INSERT INTO central_outbox (case_id, item_id, kind, body) VALUES (?1, ?2, ?3, ?4)",
        db_params![case_id, item_id, kind, body],
    )?;
    Ok(())
}

/// Queues a step just recorded on a pulled case, in the transaction that recorded it.
pub(crate) fn enqueue_step(tx: &Conn<'_>, case_id: &str, record: &StepRecord, captured: &[NewEvidence]) -> Result<()> {
    if !is_central_case(tx, case_id)? {
        return Ok(());
    }
    let step = OutboxStep {
        index: record.index,
        kind: record.kind,
        outcome: record.outcome,
        detail: record.detail.clone(),
        captures: captured
            .iter()
            .map(|c| CaptureRef { kind: c.kind, media_type: c.media_type.clone(), sha256: c.sha256.clone() })
            .collect(),
    };
    let body = serde_json::to_string(&step).map_err(|e| StoreError::corrupt(e.to_string()))?;
    enqueue(tx, case_id, &format!("{case_id}-step-{}", record.index), "step", &body)
}

/// Queues a decision just made on a pulled case, in the transaction that recorded it.
pub(crate) fn enqueue_decision(tx: &Conn<'_>, case_id: &str, decision: &Decision) -> Result<()> {
    if !is_central_case(tx, case_id)? {
        return Ok(());
    }
    let body = serde_json::to_string(decision).map_err(|e| StoreError::corrupt(e.to_string()))?;
    enqueue(tx, case_id, &format!("{case_id}-decision"), "decision", &body)
}

fn item_from_row(r: &Row) -> Result<OutboxItem> {
    let case_id: String = r.get(1)?;
    let kind: String = r.get(3)?;
    let body: String = r.get(4)?;
    let corrupt = |e: serde_json::Error| StoreError::corrupt(format!("an outbox item: {e}"));
    let body = match kind.as_str() {
        "step" => OutboxBody::Step(serde_json::from_str(&body).map_err(corrupt)?),
        _ => OutboxBody::Decision(serde_json::from_str(&body).map_err(corrupt)?),
    };
    Ok(OutboxItem {
        seq: r.get(0)?,
        case_id: CaseId::parse(&case_id).ok_or_else(|| StoreError::corrupt("an outbox case id"))?,
        item_id: r.get(2)?,
        body,
    })
}

/// Cancels the pulled cases not in `offered` that nobody claimed or ran here, each with its audit event; with
/// `walk_ins_too` (unpairing), also the walk-ins started here on which nothing was recorded.
fn withdraw_idle(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    offered: &std::collections::HashSet<String>,
    walk_ins_too: bool,
    at: OffsetDateTime,
) -> Result<u32> {
    let idle = tx.query(
        "SELECT c.case_id FROM central_cases c JOIN cases k ON k.id = c.case_id
         WHERE c.claimed_at IS NULL AND (c.walk_in IS NULL OR ?1 = 1) AND k.status IN ('pending', 'in_progress')
           AND NOT EXISTS (SELECT 1 FROM central_outbox o WHERE o.case_id = c.case_id)",
        db_params![i64::from(walk_ins_too)],
    )?;
    let mut withdrawn = 0;
    for row in &idle {
        let id: String = row.get(0)?;
        if offered.contains(&id) {
            continue;
        }
        tx.lock(&id)?;
        let changed = tx.execute(
            "UPDATE cases SET status = 'cancelled', updated_at = ?1
             WHERE id = ?2 AND status IN ('pending', 'in_progress')",
            db_params![to_ms(at), id],
        )?;
        if changed == 1 {
            let detail = serde_json::json!({"why": "the central no longer offers it to this kiosk"});
            audit::append_event(tx, audit_key, &id, at, "central", "case_withdrawn", &detail)?;
            withdrawn += 1;
        }
    }
    Ok(withdrawn)
}

/// Takes the decision the central made on a pulled case under way here, with its audit event.
fn adopt_decision(
    tx: &Conn<'_>,
    audit_key: &[u8; 32],
    case_id: CaseId,
    decision: &Decision,
    at: OffsetDateTime,
) -> Result<()> {
    let from = vouch_core::CaseStatus::InProgress;
    let to = from.transition_to(match decision.outcome {
        vouch_core::Outcome::Approved => vouch_core::CaseStatus::Completed,
        vouch_core::Outcome::Rejected => vouch_core::CaseStatus::Failed,
    })?;
    let chain = case_id.to_string();
    let decision_json = serde_json::to_string(decision).map_err(|e| StoreError::corrupt(e.to_string()))?;
    let changed = tx.execute(
        "UPDATE cases SET status = ?1, updated_at = ?2, decision = ?3 WHERE id = ?4 AND status = ?5",
        db_params![to.as_str(), to_ms(at), decision_json, chain, from.as_str()],
    )?;
    if changed == 0 {
        return Err(StoreError::Conflict("the case changed while the central's decision was kept".into()));
    }
    let detail = serde_json::json!({"from": from.as_str(), "to": to.as_str(), "outcome": decision.outcome,
        "reason": decision.reason, "decided_by": "central", "central_actor": decision.actor});
    audit::append_event(tx, audit_key, &chain, at, "central", "case_decided", &detail)
}

impl Store {
    /// Pairs this kiosk with a central service: keeps its address and this kiosk's credentials there (the secret
    /// sealed), and a local client that stands for the central as the owner of the cases pulled from it (it can
    /// sign in to nothing here). A kiosk is paired with one central at most.
    pub fn link_central(&self, pairing: &Pairing, actor: &str) -> Result<CentralLink> {
        let at = now();
        let sealed = self.key().seal(pairing.client_secret.as_bytes(), &secret_aad(&pairing.client_id))?;
        // The stand-in client's secret is thrown away: nobody can take a token as it here.
        let unusable = secret_mac(&self.secret_mac_key()?, &random_token())?;
        let unusable_sealed = self.key().seal(random_token().as_bytes(), b"unusable")?;
        self.with(|conn| {
            conn.transaction(|tx| {
                if tx.query_opt("SELECT 1 FROM central_link", db_params![])?.is_some() {
                    return Err(StoreError::Conflict("this kiosk is paired with a central service already".into()));
                }
                tx.execute(
                    "INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at, revoked_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    db_params![
                        pairing.client_id,
                        "central service",
                        unusable,
                        unusable_sealed,
                        Scope::Kiosk.as_str(),
                        to_ms(at)
                    ],
                )?;
                tx.execute(
                    &format!(
                        "INSERT INTO central_link (id, {LINK_COLUMNS}, secret_sealed)
                         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL, ?7, ?8)"
                    ),
                    db_params![
                        pairing.url,
                        pairing.client_id,
                        pairing.kiosk_id,
                        pairing.name,
                        pairing.branch,
                        to_ms(at),
                        pairing.fingerprint,
                        sealed
                    ],
                )?;
                let detail = serde_json::json!({"central": pairing.url, "client_id": pairing.client_id,
                    "kiosk_id": pairing.kiosk_id, "name": pairing.name, "branch": pairing.branch});
                audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, at, actor, "central_paired", &detail)
            })
        })?;
        self.central_link()?.ok_or_else(|| StoreError::corrupt("the central link just written"))
    }

    /// Unpairs this kiosk: forgets the central's address and this kiosk's credentials there, and withdraws the
    /// pulled cases nobody ran here. Refused while anything recorded here has not reached the central, or while this
    /// kiosk holds an open case there (it would stay claimed by a kiosk that is gone).
    pub fn unlink_central(&self, actor: &str) -> Result<()> {
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                let link = tx.query_opt("SELECT url, client_id FROM central_link", db_params![])?;
                let Some(link) = link else {
                    return Err(StoreError::Conflict("this kiosk is not paired with a central service".into()));
                };
                let (url, client_id): (String, String) = (link.get(0)?, link.get(1)?);
                let waiting: i64 =
                    tx.query_one("SELECT count(*) FROM central_outbox WHERE acked_at IS NULL", db_params![])?.get(0)?;
                if waiting > 0 {
                    return Err(StoreError::Conflict(format!(
                        "{waiting} item(s) recorded here have not reached the central yet: sync first"
                    )));
                }
                let held: i64 = tx
                    .query_one(
                        "SELECT count(*) FROM central_cases c JOIN cases k ON k.id = c.case_id
                         WHERE c.claimed_at IS NOT NULL AND k.status IN ('pending', 'in_progress')",
                        db_params![],
                    )?
                    .get(0)?;
                if held > 0 {
                    return Err(StoreError::Conflict(format!(
                        "this kiosk holds {held} open case(s) at the central: finish them first"
                    )));
                }
                let withdrawn = withdraw_idle(tx, self.audit_key(), &std::collections::HashSet::new(), true, at)?;
                tx.execute("DELETE FROM central_link", db_params![])?;
                let detail = serde_json::json!({"central": url, "client_id": client_id, "withdrawn": withdrawn});
                audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, at, actor, "central_unpaired", &detail)
            })
        })
    }

    pub fn central_link(&self) -> Result<Option<CentralLink>> {
        let sql = format!("SELECT {LINK_COLUMNS} FROM central_link");
        self.with(|conn| conn.query_opt(&sql, db_params![]))?.as_ref().map(link_from_row).transpose()
    }

    /// This kiosk's client secret at the central.
    pub fn central_secret(&self) -> Result<String> {
        let row =
            self.with(|conn| conn.query_one("SELECT client_id, secret_sealed FROM central_link", db_params![]))?;
        let (client_id, sealed): (String, Vec<u8>) = (row.get(0)?, row.get(1)?);
        let secret = self.key().open(&sealed, &secret_aad(&client_id))?;
        String::from_utf8(secret).map_err(|_| StoreError::corrupt("the central secret"))
    }

    /// Notes how the last sync went: `None` when it finished.
    pub fn note_central_sync(&self, error: Option<&str>) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE central_link SET last_sync_at = ?1, last_error = ?2",
                db_params![to_ms(now()), error.map(str::to_string)],
            )
        })?;
        Ok(())
    }

    /// Keeps a case the central offered, with its flow (under [`CENTRAL_FLOW_PREFIX`]), its code and the steps it
    /// has, as a case of the central's stand-in client. False when it is here already.
    pub fn keep_pulled_case(
        &self,
        pulled: &PulledCase,
        reference: Option<ReferenceBytes<'_>>,
        documents: &[Vec<u8>],
    ) -> Result<bool> {
        let link = self.central_link()?.ok_or_else(|| StoreError::Conflict("this kiosk is not paired".into()))?;
        let id = pulled.case.id.to_string();
        let code = crate::case_codes::normalize_code(&pulled.code)
            .ok_or_else(|| StoreError::Invalid("the central's case code is not one".into()))?;
        let flow_id = format!("{CENTRAL_FLOW_PREFIX}{}", pulled.flow.id);
        let mut case = pulled.case.clone();
        case.client_id = link.client_id.clone();
        // References are unique per integrator at the central; here every pulled case has one owner, the central.
        case.reference = None;
        case.flow = Some(FlowRef { id: flow_id, version: pulled.flow.version });
        case.decision = None;
        // The blob first, as anywhere: no row ever names a blob that is not there.
        let photo = match &reference {
            Some(r) => Some(NewEvidence {
                kind: EvidenceKind::ReferencePhoto,
                sha256: self.blobs().put(r.bytes)?,
                media_type: r.media_type.to_string(),
                size: r.bytes.len() as u64,
            }),
            None => None,
        };
        let signing = match &pulled.signing {
            Some(signing) => Some(self.signing_for_pulled(&case, signing, documents)?),
            None => None,
        };
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                if tx.query_opt("SELECT 1 FROM cases WHERE id = ?1", db_params![id])?.is_some() {
                    return Ok(false);
                }
                keep_central_flow(tx, &pulled.flow)?;
                crate::cases::insert_case_in(tx, self.audit_key(), &case, "central")?;
                tx.execute("UPDATE cases SET code = ?1 WHERE id = ?2", db_params![code, id])?;
                for s in &pulled.steps {
                    tx.execute(
                        "INSERT INTO case_steps (case_id, step_index, kind, outcome, detail, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        db_params![id, s.index, s.kind.as_str(), s.outcome.as_str(), s.detail.to_string(), to_ms(s.at)],
                    )?;
                }
                tx.execute(
                    "INSERT INTO central_cases (case_id, pulled_at) VALUES (?1, ?2)",
                    db_params![id, to_ms(at)],
                )?;
                if let Some(photo) = &photo {
                    crate::cases::insert_evidence(tx, pulled.case.id, at, std::slice::from_ref(photo))?;
                }
                if let Some((process_id, stored, signer)) = &signing {
                    let process =
                        NewSignProcess { id: process_id, client_id: &link.client_id, api: &case.api, org_id: None };
                    crate::signing::insert_process(tx, &process, stored, at)?;
                    crate::signing::insert_signer(tx, process_id, 0, signer)?;
                }
                let documents: Vec<&str> = signing
                    .iter()
                    .flat_map(|(_, stored, _)| stored.iter().map(|d| d.original_sha256.as_str()))
                    .collect();
                let detail = serde_json::json!({"central": link.url, "steps": pulled.steps.len(),
                    "reference_photo": photo.as_ref().map(|p| &p.sha256), "documents": documents});
                audit::append_event(tx, self.audit_key(), &id, at, "central", "case_pulled", &detail)?;
                Ok(true)
            })
        })
    }

    /// A pulled signing case's own process here (`central-<case id>`): its documents' blobs written, checked
    /// against the hashes the central listed, and its one signer.
    fn signing_for_pulled(
        &self,
        case: &Case,
        signing: &PulledSigning,
        documents: &[Vec<u8>],
    ) -> Result<(String, Vec<SignDocument>, NewSigner)> {
        if documents.len() != signing.documents.len() {
            return Err(StoreError::Invalid("the documents to sign did not all arrive".into()));
        }
        let named: Vec<(String, &[u8])> =
            signing.documents.iter().zip(documents).map(|(d, bytes)| (d.name.clone(), bytes.as_slice())).collect();
        for (listed, bytes) in signing.documents.iter().zip(documents) {
            if crate::sha256_hex(bytes) != listed.sha256 {
                return Err(StoreError::Invalid(format!("the document {:?} arrived altered", listed.name)));
            }
        }
        let signer = NewSigner {
            case: case.clone(),
            name: signing.signer_name.clone(),
            email: None,
            nif: None,
            method: signing.method,
        };
        Ok((format!("central-{}", case.id), self.put_documents(&named)?, signer))
    }

    /// Withdraws the pulled cases the central no longer offers this kiosk (another kiosk claimed them, or they were
    /// closed there) and that nobody ran here: they leave the queue as `cancelled`, each with its audit event. Call
    /// it only with a complete listing (one shorter than its limit), or an open case beyond the limit would go.
    pub fn withdraw_unoffered_cases(&self, offered: &[CaseId]) -> Result<u32> {
        let offered: std::collections::HashSet<String> = offered.iter().map(ToString::to_string).collect();
        let at = now();
        self.with(|conn| conn.transaction(|tx| withdraw_idle(tx, self.audit_key(), &offered, false, at)))
    }

    /// Whether a case came from the central, and whether this kiosk holds it there.
    pub fn central_case(&self, case_id: CaseId) -> Result<Option<bool>> {
        let row = self.with(|conn| {
            conn.query_opt("SELECT claimed_at FROM central_cases WHERE case_id = ?1", db_params![case_id.to_string()])
        })?;
        row.map(|r| Ok(r.get::<Option<i64>>(0)?.is_some())).transpose()
    }

    /// Notes that the central granted this kiosk its claim on a case.
    pub fn note_central_claim(&self, case_id: CaseId) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE central_cases SET claimed_at = ?1 WHERE case_id = ?2 AND claimed_at IS NULL",
                db_params![to_ms(now()), case_id.to_string()],
            )
        })?;
        Ok(())
    }

    /// Notes why the central refused this kiosk's work on a case; its items stay, unsent, for a person to see.
    pub fn note_central_refusal(&self, case_id: CaseId, reason: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE central_cases SET refused = ?1 WHERE case_id = ?2",
                db_params![reason, case_id.to_string()],
            )
        })?;
        Ok(())
    }

    /// The oldest items waiting to go up, on cases the central has not refused.
    pub fn central_outbox(&self, limit: u32) -> Result<Vec<OutboxItem>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT o.seq, o.case_id, o.item_id, o.kind, o.body FROM central_outbox o
                 JOIN central_cases c ON c.case_id = o.case_id
                 WHERE o.acked_at IS NULL AND c.refused IS NULL ORDER BY o.seq LIMIT ?1",
                db_params![i64::from(limit)],
            )
        })?;
        rows.iter().map(item_from_row).collect()
    }

    /// Records on a pulled case the gallery step its central decided, and the central's decision when the case's
    /// steps decided it there, in one transaction; neither is queued to go back up (the step's item is recorded as
    /// applied there, which it is).
    pub fn record_central_step(&self, case_id: CaseId, step: &StepRecord, decision: Option<&Decision>) -> Result<()> {
        let new = crate::flows::NewStep {
            case_id,
            index: step.index,
            kind: step.kind,
            outcome: step.outcome,
            detail: step.detail.clone(),
        };
        let item_id = format!("{case_id}-step-{}", step.index);
        self.record_step_with(new, &[], "central", |tx, at| {
            tx.execute(
                "UPDATE central_outbox SET acked_at = ?1 WHERE item_id = ?2 AND acked_at IS NULL",
                db_params![to_ms(at), item_id],
            )?;
            match decision {
                Some(decision) => adopt_decision(tx, self.audit_key(), case_id, decision, at),
                None => Ok(()),
            }
        })?;
        Ok(())
    }

    /// Keeps the decision the central made on a pulled case its steps decided there; done already is fine.
    pub fn adopt_central_decision(&self, case_id: CaseId, decision: &Decision) -> Result<()> {
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.lock(&case_id.to_string())?;
                let status: String =
                    tx.query_one("SELECT status FROM cases WHERE id = ?1", db_params![case_id.to_string()])?.get(0)?;
                if status != vouch_core::CaseStatus::InProgress.as_str() {
                    return Ok(());
                }
                adopt_decision(tx, self.audit_key(), case_id, decision, at)
            })
        })
    }

    /// The pulled cases this kiosk holds that stand at a step the central decides ([`vouch_core::flow::decided_by_the_central`]),
    /// with that step's index: what a person started while the central could not be reached.
    pub fn pulled_cases_at_a_gallery_step(&self) -> Result<Vec<(CaseId, u32)>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT c.case_id FROM central_cases c JOIN cases k ON k.id = c.case_id
                 WHERE c.claimed_at IS NOT NULL AND c.refused IS NULL AND k.status = 'in_progress'
                 ORDER BY c.pulled_at LIMIT 100",
                db_params![],
            )
        })?;
        let mut waiting = Vec::new();
        for row in &rows {
            let id: String = row.get(0)?;
            let case_id = CaseId::parse(&id).ok_or_else(|| StoreError::corrupt("a pulled case id"))?;
            let case = self.get_case(case_id)?;
            let Some(flow) = case.flow else { continue };
            let steps = self.flow_version(&flow.id, flow.version)?.steps;
            if let vouch_core::flow::Next::Step { index, step } =
                vouch_core::flow::next_step(&steps, &self.case_steps(case_id)?)
            {
                if vouch_core::flow::decided_by_the_central(&step) {
                    waiting.push((case_id, index));
                }
            }
        }
        Ok(waiting)
    }

    /// The items of one case waiting to go up, in order; none when the central refused the case.
    pub fn central_outbox_of(&self, case_id: CaseId) -> Result<Vec<OutboxItem>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT o.seq, o.case_id, o.item_id, o.kind, o.body FROM central_outbox o
                 JOIN central_cases c ON c.case_id = o.case_id
                 WHERE o.case_id = ?1 AND o.acked_at IS NULL AND c.refused IS NULL ORDER BY o.seq",
                db_params![case_id.to_string()],
            )
        })?;
        rows.iter().map(item_from_row).collect()
    }

    /// Marks an item as applied at the central.
    pub fn ack_central_item(&self, seq: i64) -> Result<()> {
        self.with(|conn| {
            conn.execute("UPDATE central_outbox SET acked_at = ?1 WHERE seq = ?2", db_params![to_ms(now()), seq])
        })?;
        Ok(())
    }

    pub fn central_status(&self) -> Result<CentralStatus> {
        let link = self.central_link()?;
        let walk_in_flow = self.walk_in_flow()?.map(|f| f.name);
        self.with(|conn| {
            let waiting: i64 =
                conn.query_one("SELECT count(*) FROM central_outbox WHERE acked_at IS NULL", db_params![])?.get(0)?;
            let pulled: i64 = conn.query_one("SELECT count(*) FROM central_cases", db_params![])?.get(0)?;
            let refused = conn
                .query(
                    "SELECT case_id, refused FROM central_cases WHERE refused IS NOT NULL ORDER BY pulled_at",
                    db_params![],
                )?
                .iter()
                .map(|r| Ok(RefusedCase { case_id: r.get(0)?, reason: r.get(1)? }))
                .collect::<Result<Vec<_>>>()?;
            Ok(CentralStatus {
                link,
                waiting: u64::try_from(waiting).unwrap_or(0),
                pulled: u64::try_from(pulled).unwrap_or(0),
                refused,
                walk_in_flow,
            })
        })
    }
}
