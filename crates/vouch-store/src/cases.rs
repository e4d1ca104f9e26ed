//! Cases and their evidence.

use std::collections::BTreeMap;

use time::OffsetDateTime;
use vouch_core::{Case, CaseId, CaseStatus, Evidence, EvidenceKind};

use crate::audit;
use crate::db::{Conn, Row};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::outbox::{self, NewDelivery};
use crate::{from_ms, to_ms, Store};

/// Evidence to attach: the blob must already be in the blob store.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub kind: EvidenceKind,
    pub sha256: String,
    pub media_type: String,
    pub size: u64,
}

/// A case's columns in the order [`case_from_row`] reads them; with a table alias (`"c."`) for joins.
macro_rules! case_columns {
    () => {
        $crate::cases::case_columns!("")
    };
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "client_id, ",
            $p,
            "api, ",
            $p,
            "reference, ",
            $p,
            "status, ",
            $p,
            "claims, ",
            $p,
            "reason, ",
            $p,
            "reason_translations, ",
            $p,
            "created_at, ",
            $p,
            "updated_at, ",
            $p,
            "expires_at, ",
            $p,
            "decision, ",
            $p,
            "flow_id, ",
            $p,
            "flow_version, ",
            $p,
            "branch, ",
            $p,
            "for_kiosk"
        )
    };
}
pub(crate) use case_columns;

const CASE_COLUMNS: &str = case_columns!();

/// The hot queries on cases, named so that their plans are checked (`query_plans` tests).
pub(crate) const CASE_BY_ID: &str = concat!("SELECT ", case_columns!(), " FROM cases WHERE id = ?1");
/// A client's cases of one API are numbered in the order they were made (`seq`, migration 0019): the last number is
/// the total, and a page is a range of numbers, read from the index whatever its depth.
pub(crate) const CASES_TOTAL: &str =
    "SELECT COALESCE(MAX(seq), 0) FROM cases INDEXED BY cases_by_client_seq WHERE client_id = ?1 AND api = ?2";
pub(crate) const CASES_PAGE: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases INDEXED BY cases_by_client_seq WHERE client_id = ?1 AND api = ?2 AND seq > ?3 AND seq <= ?4",
    " ORDER BY seq DESC"
);
/// The sweep walks only the open cases that are due (the partial index), never every open case.
pub(crate) const DUE_CASES: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases INDEXED BY cases_open_by_expiry WHERE status IN ('pending', 'in_progress') AND expires_at <= ?1"
);

pub(crate) fn case_from_row(r: &Row) -> Result<Case> {
    let id: String = r.get(0)?;
    let status: String = r.get(4)?;
    let decision: Option<String> = r.get(11)?;
    Ok(Case {
        id: CaseId::parse(&id).ok_or_else(|| StoreError::corrupt("a case id is not a UUID"))?,
        client_id: r.get(1)?,
        api: r.get(2)?,
        reference: r.get(3)?,
        status: CaseStatus::parse(&status).ok_or_else(|| StoreError::corrupt("an unknown case status"))?,
        claims: r.json(5)?,
        reason: r.get(6)?,
        reason_translations: r.json::<BTreeMap<String, String>>(7)?,
        created_at: from_ms(r.get(8)?),
        updated_at: from_ms(r.get(9)?),
        expires_at: from_ms(r.get(10)?),
        decision: match decision {
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| StoreError::corrupt(format!("a case's decision: {e}")))?)
            }
            None => None,
        },
        flow: match (r.get::<Option<String>>(12)?, r.get::<Option<u32>>(13)?) {
            (Some(id), Some(version)) => Some(vouch_core::flow::FlowRef { id, version }),
            _ => None,
        },
        branch: r.get(14)?,
        for_kiosk: r.get(15)?,
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::corrupt(format!("serialising: {e}")))
}

pub(crate) fn case_by_id(conn: &Conn<'_>, id: CaseId) -> Result<Case> {
    case_from_row(&conn.query_one(CASE_BY_ID, db_params![id.to_string()])?)
}

impl Store {
    /// Inserts a new case and its `case_created` audit event in one transaction.
    pub fn insert_case(&self, case: &Case, actor: &str) -> Result<()> {
        self.with(|conn| conn.transaction(|tx| insert_case_in(tx, self.audit_key(), case, actor)))
    }

    /// The case as it stands now ([`Case::as_of`]): one past its expiry reads `expired` before the sweep writes it.
    pub fn get_case(&self, id: CaseId) -> Result<Case> {
        Ok(self.with(|conn| case_by_id(conn, id))?.as_of(crate::now()))
    }

    /// One page of a client's cases for one API, newest first (in the order they were made), as they stand now,
    /// and the total count.
    pub fn list_cases(&self, client_id: &str, api: &str, offset: u64, limit: u64) -> Result<(Vec<Case>, u64)> {
        self.with(|conn| {
            let total: i64 = conn.query_one(CASES_TOTAL, db_params![client_id, api])?.get(0)?;
            // Newest first: the page holds the places just below `total - offset`.
            let top = total.saturating_sub(i64::try_from(offset).unwrap_or(i64::MAX));
            let bottom = top.saturating_sub(i64::try_from(limit).unwrap_or(i64::MAX)).max(0);
            let now = crate::now();
            let cases = conn
                .query(CASES_PAGE, db_params![client_id, api, bottom, top])?
                .iter()
                .map(|r| case_from_row(r).map(|c| c.as_of(now)))
                .collect::<Result<_>>()?;
            Ok((cases, u64::try_from(total).unwrap_or(0)))
        })
    }

    /// Moves every open case past its expiry to `expired`, each with its audit event, in one transaction.
    pub fn expire_due_cases(&self, now: OffsetDateTime) -> Result<usize> {
        self.with(|conn| {
            conn.transaction(|tx| {
                let due = tx
                    .query(DUE_CASES, db_params![to_ms(now)])?
                    .iter()
                    .map(case_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let mut expired = 0;
                for mut case in due {
                    let from = case.status;
                    // Expired as of its expiry, as reads have shown it since ([`Case::as_of`]).
                    case.expire(case.expires_at)?;
                    // Only if it is still open: another instance may have moved it since the read.
                    let changed = tx.execute(
                        "UPDATE cases SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status = ?4",
                        db_params![case.status.as_str(), to_ms(case.updated_at), case.id.to_string(), from.as_str()],
                    )?;
                    if changed == 0 {
                        continue;
                    }
                    let detail = serde_json::json!({"from": from.as_str(), "to": case.status.as_str()});
                    let chain = case.id.to_string();
                    audit::append_event(tx, self.audit_key(), &chain, now, "system", "case_expired", &detail)?;
                    expired += 1;
                }
                Ok(expired)
            })
        })
    }

    /// Persists a decision already applied to `case` in memory (see [`Case::decide`]): the new status,
    /// its evidence rows, the audit event, the webhook deliveries that announce it and the API records it writes,
    /// all in one transaction. Fails with a conflict if the case changed since `previous` was read.
    pub fn record_decision(
        &self,
        case: &Case,
        previous: CaseStatus,
        evidence: &[NewEvidence],
        deliveries: &[NewDelivery],
        records: &[crate::api_records::RecordWrite],
    ) -> Result<Vec<Evidence>> {
        let decision = case.decision.as_ref().ok_or_else(|| StoreError::corrupt("the case has no decision"))?;
        self.with(|conn| {
            conn.transaction(|tx| {
                let chain = case.id.to_string();
                tx.lock(&chain)?;
                let changed = tx.execute(
                    "UPDATE cases SET status = ?1, updated_at = ?2, decision = ?3 WHERE id = ?4 AND status = ?5",
                    db_params![
                        case.status.as_str(),
                        to_ms(case.updated_at),
                        to_json(decision)?,
                        chain,
                        previous.as_str()
                    ],
                )?;
                if changed == 0 {
                    return Err(StoreError::Conflict("the case changed while it was being decided".into()));
                }
                let rows = insert_evidence(tx, case.id, case.updated_at, evidence)?;
                let detail = serde_json::json!({
                    "from": previous.as_str(),
                    "to": case.status.as_str(),
                    "outcome": decision.outcome,
                    "reason": decision.reason,
                    "evidence": rows.iter().map(|e| serde_json::json!({"kind": e.kind.as_str(), "sha256": e.sha256})).collect::<Vec<_>>(),
                });
                let key = self.audit_key();
                audit::append_event(tx, key, &chain, case.updated_at, &decision.actor, "case_decided", &detail)?;
                crate::central::enqueue_decision(tx, &chain, decision)?;
                for d in deliveries {
                    outbox::enqueue_on(tx, case.id, d, case.updated_at)?;
                }
                for record in records {
                    crate::api_records::write_in(tx, record, case.updated_at)?;
                }
                Ok(rows)
            })
        })
    }

    /// Attaches the integrator's reference photo to an open case: the blob first, then the evidence row and an
    /// audit event in one transaction. A case has at most one, so a face_match that already ran cannot be
    /// re-run against a different face.
    pub fn add_reference_photo(
        &self,
        case_id: CaseId,
        bytes: &[u8],
        media_type: &str,
        actor: &str,
    ) -> Result<Evidence> {
        let case = self.get_case(case_id)?;
        if case.status.is_terminal() {
            return Err(StoreError::Conflict(format!("the case is {} and takes no more evidence", case.status)));
        }
        let sha256 = self.blobs().put(bytes)?;
        let item = NewEvidence {
            kind: EvidenceKind::ReferencePhoto,
            sha256,
            media_type: media_type.into(),
            size: bytes.len() as u64,
        };
        let rows = self.with(|conn| {
            conn.transaction(|tx| {
                let chain = case_id.to_string();
                tx.lock(&chain)?;
                let existing: bool = tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM evidence WHERE case_id = ?1 AND kind = ?2)",
                        db_params![chain, EvidenceKind::ReferencePhoto.as_str()],
                    )?
                    .get(0)?;
                if existing {
                    return Err(StoreError::Conflict("this case already has a reference photo".into()));
                }
                let at = crate::now();
                let rows = insert_evidence(tx, case_id, at, std::slice::from_ref(&item))?;
                let detail = serde_json::json!({"sha256": item.sha256, "media_type": media_type, "size": item.size});
                audit::append_event(tx, self.audit_key(), &chain, at, actor, "reference_photo_added", &detail)?;
                Ok(rows)
            })
        })?;
        rows.into_iter().next().ok_or_else(|| StoreError::corrupt("no evidence row was written"))
    }

    /// Records that someone looked at a piece of evidence (a clerk viewing the selfie, say).
    pub fn audit_evidence_viewed(&self, case_id: CaseId, item: &Evidence, actor: &str) -> Result<()> {
        let detail = serde_json::json!({"kind": item.kind.as_str(), "sha256": item.sha256});
        self.with(|conn| {
            conn.transaction(|tx| {
                let chain = case_id.to_string();
                audit::append_event(tx, self.audit_key(), &chain, crate::now(), actor, "evidence_viewed", &detail)
            })
        })
    }

    /// The newest evidence of `kind` for a case, decrypted, or `None` (also when retention purged it).
    pub fn latest_evidence_bytes(&self, case_id: CaseId, kind: EvidenceKind) -> Result<Option<(Evidence, Vec<u8>)>> {
        let newest = self.case_evidence(case_id)?.into_iter().rev().find(|e| e.kind == kind && e.purged_at.is_none());
        match newest {
            Some(e) => {
                let bytes = self.blobs().get(&e.sha256)?;
                Ok(Some((e, bytes)))
            }
            None => Ok(None),
        }
    }

    pub fn case_evidence(&self, case_id: CaseId) -> Result<Vec<Evidence>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT id, kind, sha256, media_type, size, created_at, purged_at FROM evidence WHERE case_id = ?1 ORDER BY seq",
                db_params![case_id.to_string()],
            )
        })?;
        rows.iter()
            .map(|r| {
                let kind: String = r.get(1)?;
                Ok(Evidence {
                    id: r.get(0)?,
                    case_id,
                    kind: EvidenceKind::parse(&kind).ok_or_else(|| StoreError::corrupt("an unknown evidence kind"))?,
                    sha256: r.get(2)?,
                    media_type: r.get(3)?,
                    size: r.get::<i64>(4)?.try_into().unwrap_or(0),
                    created_at: from_ms(r.get(5)?),
                    purged_at: r.get::<Option<i64>>(6)?.map(from_ms),
                })
            })
            .collect()
    }
}

/// Writes evidence rows for a case inside the caller's transaction, numbered after the case's last. Callers on
/// PostgreSQL hold the case's lock ([`Conn::lock`]), so two instances never take the same number.
pub(crate) fn insert_evidence(
    tx: &Conn<'_>,
    case_id: CaseId,
    at: OffsetDateTime,
    items: &[NewEvidence],
) -> Result<Vec<Evidence>> {
    let case = case_id.to_string();
    tx.lock(&case)?;
    let mut seq: i64 =
        tx.query_one("SELECT coalesce(max(seq), 0) FROM evidence WHERE case_id = ?1", db_params![case])?.get(0)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        seq += 1;
        let id = uuid::Uuid::new_v4().to_string();
        tx.execute(
            "INSERT INTO evidence (id, case_id, seq, kind, sha256, media_type, size, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            db_params![
                id,
                case,
                seq,
                item.kind.as_str(),
                item.sha256,
                item.media_type,
                i64::try_from(item.size).unwrap_or(i64::MAX),
                to_ms(at)
            ],
        )?;
        out.push(Evidence {
            id,
            case_id,
            kind: item.kind,
            sha256: item.sha256.clone(),
            media_type: item.media_type.clone(),
            size: item.size,
            created_at: at,
            purged_at: None,
        });
    }
    Ok(out)
}

/// Inserts a case, its code and its `case_created` audit event inside the caller's transaction.
pub(crate) fn insert_case_in(tx: &Conn<'_>, audit_key: &[u8; 32], case: &Case, actor: &str) -> Result<()> {
    let inserted = tx.execute(
        &format!(
            "INSERT INTO cases ({CASE_COLUMNS}, at_kiosks)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?13, ?14, ?15, ?16)"
        ),
        db_params![
            case.id.to_string(),
            case.client_id,
            case.api,
            case.reference,
            case.status.as_str(),
            to_json(&case.claims)?,
            case.reason,
            to_json(&case.reason_translations)?,
            to_ms(case.created_at),
            to_ms(case.updated_at),
            to_ms(case.expires_at),
            case.flow.as_ref().map(|f| f.id.clone()),
            case.flow.as_ref().map(|f| f.version),
            case.branch,
            case.for_kiosk,
            i64::from(runs_at_kiosks(case)),
        ],
    );
    if let Err(StoreError::Conflict(_)) = &inserted {
        return Err(StoreError::Conflict("a case with this reference already exists".into()));
    }
    inserted?;
    // Claim types only: the values are personal data and the audit log outlives retention.
    let claim_types: Vec<&str> = case.claims.iter().map(|c| c.claim_type.as_str()).collect();
    let detail = serde_json::json!({
        "api": case.api, "client_id": case.client_id, "reference": case.reference,
        "claims": claim_types, "expires_at": to_ms(case.expires_at), "flow": case.flow,
    });
    crate::case_codes::assign_code(tx, case.id)?;
    audit::append_event(tx, audit_key, &case.id.to_string(), case.created_at, actor, "case_created", &detail)?;
    number_case(tx, case)
}

/// Whether a paired kiosk could run the case: open, with a flow (a case without one is driven through its API).
/// The gallery steps are asked of the central and the documents to sign come down with the case.
fn runs_at_kiosks(case: &Case) -> bool {
    case.flow.is_some() && !case.status.is_terminal()
}

/// Gives the case the next number among its client's cases of its API. Writers of the same pair take turns until
/// they commit, so this comes last in the transaction: the turn lasts only this statement and the commit.
fn number_case(tx: &Conn<'_>, case: &Case) -> Result<()> {
    tx.lock(&format!("case numbers:{}:{}", case.client_id, case.api))?;
    tx.execute(
        "UPDATE cases SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM cases INDEXED BY cases_by_client_seq
                                 WHERE client_id = ?2 AND api = ?3)
         WHERE id = ?1",
        db_params![case.id.to_string(), case.client_id, case.api],
    )?;
    Ok(())
}
