//! Cases opened for a person of the gallery: whom the case's face is compared with, whether an approved case
//! enrols it, and whether its steps decide it. Such a case is created with its subject, the API's own record of
//! it and the webhooks that announce it, in one transaction.

use vouch_core::{Case, CaseId};

use crate::api_records::RecordKind;
use crate::db::Conn;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::outbox::{self, NewDelivery};
use crate::Store;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseSubject {
    /// The gallery collection (its id) the case searches, or enrols into.
    pub collection_id: Option<String>,
    /// The enrolled person the case verifies.
    pub person_id: Option<String>,
    /// The name to enrol the case's face under (into the collection) when the case is approved.
    pub enrol_as: Option<String>,
    /// The case is decided by its steps (approved when every step passed), with no clerk.
    pub decided_by_steps: bool,
    /// The person an approved case enrolled.
    pub enrolled_person_id: Option<String>,
}

/// The API's own record of a case (Verifik's biometric validation): a JSON body under the case's id.
pub struct CaseRecord<'a> {
    pub of: RecordKind<'a>,
    pub body: &'a serde_json::Map<String, serde_json::Value>,
}

fn insert_subject(tx: &Conn<'_>, case_id: CaseId, subject: &CaseSubject) -> Result<()> {
    tx.execute(
        "INSERT INTO case_subjects (case_id, collection_id, person_id, enrol_as, decided_by_steps, enrolled_person_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        db_params![
            case_id.to_string(),
            subject.collection_id,
            subject.person_id,
            subject.enrol_as,
            subject.decided_by_steps,
            subject.enrolled_person_id
        ],
    )?;
    Ok(())
}

impl Store {
    /// Creates a case with its subject, its API record, its first webhooks and the messages to its person (about
    /// its record), all or nothing.
    pub fn insert_subject_case(
        &self,
        case: &Case,
        actor: &str,
        subject: &CaseSubject,
        record: Option<CaseRecord<'_>>,
        deliveries: &[NewDelivery],
        messages: &[outbox::RecordEvent],
    ) -> Result<()> {
        self.with(|conn| {
            conn.transaction(|tx| {
                crate::cases::insert_case_in(tx, self.audit_key(), case, actor)?;
                insert_subject(tx, case.id, subject)?;
                if let Some(record) = &record {
                    let id = case.id.to_string();
                    crate::api_records::insert_row(tx, &id, record.of, None, record.body, case.created_at)?;
                }
                for delivery in deliveries {
                    outbox::enqueue_on(tx, case.id, delivery, case.created_at)?;
                }
                for message in messages {
                    outbox::enqueue_record_event(tx, self.key(), message, case.created_at)?;
                }
                Ok(())
            })
        })
    }

    /// The case's subject, if it was opened for one.
    pub fn case_subject(&self, case_id: CaseId) -> Result<Option<CaseSubject>> {
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT collection_id, person_id, enrol_as, decided_by_steps, enrolled_person_id
                 FROM case_subjects WHERE case_id = ?1",
                db_params![case_id.to_string()],
            )
        })?;
        row.map(|r| {
            Ok(CaseSubject {
                collection_id: r.get(0)?,
                person_id: r.get(1)?,
                enrol_as: r.get(2)?,
                decided_by_steps: r.get(3)?,
                enrolled_person_id: r.get(4)?,
            })
        })
        .transpose()
    }
}

/// Names the person a case enrolled, once: `NotFound` when the case has no subject or has named one already.
pub(crate) fn name_enrolled_person(conn: &Conn<'_>, case_id: CaseId, person_id: &str) -> Result<()> {
    let changed = conn.execute(
        "UPDATE case_subjects SET enrolled_person_id = ?1 WHERE case_id = ?2 AND enrolled_person_id IS NULL",
        db_params![person_id, case_id.to_string()],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The frames a case's face probe is made of: every frame its last selfie step kept (recorded together, in one
/// transaction, the best last), else the last frame of its liveness step. Empty when it captured no face.
pub fn latest_face_frames(store: &Store, case_id: CaseId) -> Result<Vec<(vouch_core::Evidence, Vec<u8>)>> {
    let evidence = store.case_evidence(case_id)?;
    let is_selfie = |e: &vouch_core::Evidence| e.kind == vouch_core::EvidenceKind::Selfie && e.purged_at.is_none();
    let Some(last) = evidence.iter().rposition(is_selfie) else {
        return Ok(store
            .latest_evidence_bytes(case_id, vouch_core::EvidenceKind::LivenessFrames)?
            .into_iter()
            .collect());
    };
    let mut run: Vec<&vouch_core::Evidence> =
        evidence.get(..=last).unwrap_or_default().iter().rev().take_while(|e| is_selfie(e)).collect();
    run.reverse();
    run.into_iter().map(|e| Ok((e.clone(), store.blobs().get(&e.sha256)?))).collect()
}

/// The face the case captured last: its selfie (the best frame of the step), else the last frame of its
/// liveness step.
pub fn latest_face_capture(store: &Store, case_id: CaseId) -> Result<Option<(vouch_core::Evidence, Vec<u8>)>> {
    match store.latest_evidence_bytes(case_id, vouch_core::EvidenceKind::Selfie)? {
        Some(selfie) => Ok(Some(selfie)),
        None => store.latest_evidence_bytes(case_id, vouch_core::EvidenceKind::LivenessFrames),
    }
}
