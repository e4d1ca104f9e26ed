//! Cases opened for a person of the gallery (Verifik's biometric validations, and any API that asks "is this the
//! person we enrolled?"): created with the flow they run and the person or collection they are about, their face
//! compared with that person, and, when their steps decide them, decided as soon as the last step is recorded,
//! enrolling the face first when the case onboards someone new.

use serde_json::{json, Value};
use time::OffsetDateTime;
use vouch_core::flow::{self, FlowRef, Next, Step, StepKind, StepOutcome};
use vouch_core::{step_rules, Case, CaseId, Client, Evidence, EvidenceKind, Outcome, VerifiedIdentity};
use vouch_store::api_records::RecordKind;
use vouch_store::case_subjects::{CaseRecord, CaseSubject};
use vouch_store::flows::NewStep;
use vouch_store::gallery_persons::{GalleryPerson, PersonCreated, PersonFacts};
use vouch_store::outbox::NewDelivery;
use vouch_store::{Store, StoreError};
use vouch_vision::active::{Assertion, LivenessType};

use crate::faces::FaceService;
use crate::recognition::{PersonMatch, Recognition};
use crate::{cases, App, AppCode, AppError};

/// Who decides a case its steps decide.
pub const STEPS_ACTOR: &str = "vouch:steps";

/// The flow a new case runs: saved as a new version when its steps changed since the last case.
pub struct CaseFlow {
    pub id: String,
    pub name: String,
    pub steps: Vec<Step>,
}

pub struct NewSubjectCase {
    /// Made by the caller, so the API's record can name the case (its kiosk link).
    pub id: CaseId,
    pub api: &'static str,
    pub reference: Option<String>,
    pub reason: Option<String>,
    pub expires_at: OffsetDateTime,
    pub flow: CaseFlow,
    pub subject: CaseSubject,
    /// The API's own record of the case (kind, body), kept under the case's id.
    pub record: Option<(&'static str, serde_json::Map<String, Value>)>,
    /// Messages to the case's person through the operator's relay (its link), about the record.
    pub messages: Vec<vouch_store::outbox::RecordEvent>,
    /// Which paired kiosks may run it at a central.
    pub audience: crate::cases::Audience,
}

/// The (URL, body) webhooks that announce a new case, read in its transaction.
pub type Announce = Box<dyn FnOnce(&Store, &Case) -> Result<Vec<(String, Vec<u8>)>, StoreError> + Send>;

/// Creates the case with its subject, record and the webhooks `announce` names for it, in one transaction.
pub async fn create(app: &App, client: &Client, new: NewSubjectCase, announce: Announce) -> Result<Case, AppError> {
    let now = vouch_store::now();
    if new.expires_at <= now {
        return Err(AppError::invalid("The expiry must be in the future"));
    }
    let actor = format!("client:{}", client.id);
    let client = client.clone();
    let retries = app.webhooks.retries;
    let case = app
        .db(move |s| {
            let flow = ensure_flow(s, &new.flow, &actor)?;
            let case = Case {
                id: new.id,
                reference: new.reference,
                reason: new.reason,
                flow: Some(flow),
                branch: new.audience.branch,
                for_kiosk: new.audience.kiosk,
                ..Case::pending(&client.id, new.api, now, new.expires_at)
            };
            let deliveries: Vec<NewDelivery> = announce(s, &case)?
                .into_iter()
                .map(|(url, body)| NewDelivery { client_id: client.id.clone(), url, body, max_attempts: retries + 1 })
                .collect();
            let record = new
                .record
                .as_ref()
                .map(|(kind, body)| CaseRecord { of: RecordKind { api: new.api, kind, client_id: &client.id }, body });
            s.insert_subject_case(&case, &actor, &new.subject, record, &deliveries, &new.messages)?;
            Ok(case)
        })
        .await?;
    app.outbox_wake.notify_one();
    tracing::info!(case_id = %case.id, api = case.api, "case created for a gallery subject");
    Ok(case)
}

/// The flow's current version, saving its steps as the next version when they differ.
fn ensure_flow(store: &Store, flow: &CaseFlow, actor: &str) -> Result<FlowRef, StoreError> {
    match store.latest_flow(&flow.id) {
        Ok(saved) if saved.steps == flow.steps && saved.name == flow.name => {
            Ok(FlowRef { id: saved.id, version: saved.version })
        }
        Ok(_) => {
            let saved = store.save_flow(&flow.id, &flow.name, &flow.steps, actor, false)?;
            Ok(FlowRef { id: saved.id, version: saved.version })
        }
        Err(StoreError::NotFound) => {
            let saved = store.save_flow(&flow.id, &flow.name, &flow.steps, actor, true)?;
            Ok(FlowRef { id: saved.id, version: saved.version })
        }
        Err(e) => Err(e),
    }
}

/// The face a step compares, against the gallery subject of the case: the enrolled person when the case names
/// one, else the best match of its collection. `Err` holds why no comparison was made (recorded in the step).
async fn match_subject(
    recognition: &Recognition,
    client: &str,
    subject: Option<&CaseSubject>,
    probe: &FaceProbe,
) -> Result<Result<PersonMatch, Value>, AppError> {
    let subject = subject.cloned().unwrap_or_default();
    if subject.person_id.is_none() && subject.collection_id.is_none() {
        return Ok(Err(unmatched("no_enrolled_person", "the case names no enrolled person or collection")));
    }
    let template = match recognition.probe_template(probe.photos()).await {
        Ok(template) => template,
        Err(e) if e.code == AppCode::NoFace => {
            return Ok(Err(unmatched("no_face_in_selfie", "no face was found in the selfie")))
        }
        Err(e) => return Err(e),
    };
    let found = match (&subject.person_id, &subject.collection_id) {
        (Some(person), _) => recognition.verify_templates(client, person, &[template]).await.map(Some),
        (None, collection) => recognition
            .search_templates(client, collection.as_deref(), &[template], 1, 0.0)
            .await
            .map(|found| found.into_iter().next()),
    };
    match found {
        Ok(Some(found)) => Ok(Ok(found)),
        Ok(None) => Ok(Err(unmatched("nobody_enrolled", "nobody is enrolled in the case's collection"))),
        Err(e) if e.code == AppCode::NotFound => {
            Ok(Err(unmatched("enrolled_person_gone", "the enrolled person or collection no longer exists")))
        }
        Err(e) => Err(e),
    }
}

/// The frames of the customer's face a case captured last, that its face steps compare: the selfie step's
/// frames (the best last), else the liveness step's last frame.
pub struct FaceProbe {
    pub frames: Vec<(Evidence, Vec<u8>)>,
}

impl FaceProbe {
    /// The frame shown and cited for the probe (the best), or `None` when the case captured no face.
    pub fn shown(&self) -> Option<&Evidence> {
        self.frames.last().map(|(e, _)| e)
    }

    pub fn photos(&self) -> Vec<Vec<u8>> {
        self.frames.iter().map(|(_, bytes)| bytes.clone()).collect()
    }

    /// What a step's detail says of the probe: the best frame's hash and how many frames made it.
    pub fn cited(&self) -> Value {
        json!({"selfie": self.shown().map(|e| e.sha256.clone()), "selfie_frames": self.frames.len()})
    }
}

/// A case, its subject, and the face it captured last (its selfie's frames, else its liveness frame).
pub type Loaded = (Case, Option<CaseSubject>, FaceProbe);

pub async fn load(app: &App, case_id: CaseId) -> Result<Loaded, AppError> {
    app.db(move |s| {
        Ok((
            s.get_case(case_id)?,
            s.case_subject(case_id)?,
            FaceProbe { frames: vouch_store::case_subjects::latest_face_frames(s, case_id)? },
        ))
    })
    .await
}

/// The face_match step against the gallery: the outcome and what it observed.
pub async fn face_match(
    recognition: &Recognition,
    case: &Case,
    subject: Option<&CaseSubject>,
    probe: FaceProbe,
    threshold: f64,
) -> Result<(StepOutcome, Value), AppError> {
    if probe.shown().is_none() {
        return Ok((StepOutcome::Failed, unmatched("no_selfie", "the case has no selfie to compare")));
    }
    Ok(match match_subject(recognition, &case.client_id, subject, &probe).await? {
        Ok(found) => {
            let mut detail = json!({
                "reference": "enrolled",
                "person_id": found.person.id,
                "score": found.score,
                "threshold": threshold,
            });
            merge(&mut detail, probe.cited());
            (step_rules::face_match(found.score, threshold), detail)
        }
        Err(why) => (StepOutcome::Failed, why),
    })
}

/// The duplicate_check step: the face searched in `collection` (the step's), else the case's collection, else
/// among every person of the client. The match is named only when it fails the step, so a clerk sees whom the
/// face is enrolled as.
pub async fn duplicate_check(
    recognition: &Recognition,
    case: &Case,
    subject: Option<CaseSubject>,
    collection: Option<String>,
    probe: FaceProbe,
    threshold: f64,
) -> Result<(StepOutcome, Value), AppError> {
    if probe.shown().is_none() {
        return Ok((StepOutcome::Failed, unmatched("no_selfie", "the case has no selfie to search")));
    }
    let collection = collection.or_else(|| subject.and_then(|s| s.collection_id));
    let template = match recognition.probe_template(probe.photos()).await {
        Ok(template) => template,
        Err(e) if e.code == AppCode::NoFace => {
            return Ok((StepOutcome::Failed, unmatched("no_face_in_selfie", "no face was found in the selfie")))
        }
        Err(e) => return Err(e),
    };
    let best = match recognition.search_templates(&case.client_id, collection.as_deref(), &[template], 1, 0.0).await {
        Ok(found) => found.into_iter().next(),
        Err(e) => return Err(e.with_not_found("The duplicate check's collection does not exist")),
    };
    let outcome = step_rules::duplicate_check(best.as_ref().map(|b| b.score), threshold);
    let mut detail = json!({
        "collection": collection,
        "best_score": best.as_ref().map(|b| b.score),
        "threshold": threshold,
        "duplicate_of": best.filter(|_| outcome == StepOutcome::Failed).map(|b| b.person.id),
    });
    merge(&mut detail, probe.cited());
    Ok((outcome, detail))
}

/// Adds `more`'s fields to the object `detail`.
pub fn merge(detail: &mut Value, more: Value) {
    if let (Some(into), Value::Object(from)) = (detail.as_object_mut(), more) {
        into.extend(from);
    }
}

/// The detail a step records when it could make no comparison.
pub fn unmatched(reason: &str, message: &str) -> Value {
    json!({ "reason": reason, "message": message })
}

/// Decides the case when its steps decide it and the last one has been recorded: approved when every step
/// passed (after enrolling the face, for a case that onboards), rejected otherwise. `None` when the case waits
/// for more steps, for a clerk, or was already decided.
pub async fn settle(app: &App, recognition: &Recognition, case_id: CaseId) -> Result<Option<Case>, AppError> {
    let Some(subject) = app.db(move |s| s.case_subject(case_id)).await? else { return Ok(None) };
    if !subject.decided_by_steps {
        return Ok(None);
    }
    let session = crate::steps::case_session(app, case_id).await?;
    if session.status.is_terminal() {
        return Ok(None);
    }
    let Next::AwaitingDecision { all_passed } = session.next else { return Ok(None) };
    let case = app.db(move |s| s.get_case(case_id)).await?;
    let input = if all_passed {
        match subject_person(app, recognition, &case, &subject, &session.done).await? {
            Ok(person) => cases::DecisionInput {
                outcome: Outcome::Approved,
                reason: "every step passed".into(),
                identity: Some(identity_of(&person)),
            },
            Err(reason) => cases::DecisionInput { outcome: Outcome::Rejected, reason, identity: None },
        }
    } else {
        let failed: Vec<&str> =
            session.done.iter().filter(|r| r.outcome == StepOutcome::Failed).map(|r| r.kind.as_str()).collect();
        cases::DecisionInput {
            outcome: Outcome::Rejected,
            reason: format!("failed: {}", failed.join(", ")),
            identity: None,
        }
    };
    match cases::decide(app, case_id, input, STEPS_ACTOR.into()).await {
        Ok(case) => Ok(Some(case)),
        // Another call settled the same case first (the approval waits on the signing key for its proof).
        Err(e) if e.code == crate::error::AppCode::Conflict && decided(app, case_id).await? => Ok(None),
        Err(e) => Err(e),
    }
}

/// Whether the case has been decided.
async fn decided(app: &App, case_id: CaseId) -> Result<bool, AppError> {
    Ok(app.db(move |s| s.get_case(case_id)).await?.status.is_terminal())
}

/// The person the case's subject names as the one it enrolled, read afresh.
async fn enrolled_by(app: &App, case_id: CaseId) -> Result<Option<String>, AppError> {
    Ok(app.db(move |s| s.case_subject(case_id)).await?.and_then(|s| s.enrolled_person_id))
}

/// The person an approved case is about: the one it verified or found, or the one it enrolls now. `Err` holds
/// why the case cannot be approved after all (the face is enrolled already).
async fn subject_person(
    app: &App,
    recognition: &Recognition,
    case: &Case,
    subject: &CaseSubject,
    done: &[flow::StepRecord],
) -> Result<Result<GalleryPerson, String>, AppError> {
    let client = case.client_id.as_str();
    if let (Some(name), None) = (&subject.enrol_as, &subject.enrolled_person_id) {
        let case_id = case.id;
        let selfie = app.db(move |s| vouch_store::case_subjects::latest_face_capture(s, case_id)).await?;
        let Some((_, selfie)) = selfie else { return Ok(Err("the case has no selfie to enrol".into())) };
        let facts = PersonFacts { name: name.clone(), ..PersonFacts::default() };
        let collections: Vec<String> = subject.collection_id.iter().cloned().collect();
        return match recognition.enrol_for_case(case_id, client, facts, collections, selfie).await? {
            PersonCreated::Created(person, _) => {
                tracing::info!(%case_id, "case enrolled its face in the gallery");
                Ok(Ok(person))
            }
            // This very case enrolled them a moment ago: a kiosk's round and its customer's retry settling at once.
            PersonCreated::AlreadySet(person) if enrolled_by(app, case_id).await?.as_ref() == Some(&person.id) => {
                Ok(Ok(person))
            }
            PersonCreated::AlreadySet(_) => Ok(Err("person_already_set: this person is enrolled already".into())),
        };
    }
    let found = subject.enrolled_person_id.clone().or_else(|| subject.person_id.clone()).or_else(|| {
        done.iter()
            .rev()
            .find(|r| r.kind == StepKind::FaceMatch)
            .and_then(|r| r.detail.get("person_id"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    match found {
        Some(id) => Ok(Ok(recognition.person(client, &id).await?)),
        None => Ok(Err("the case matched no enrolled person".into())),
    }
}

/// What an approval states of a person the gallery knows: their name as enrolled, by their face.
fn identity_of(person: &GalleryPerson) -> VerifiedIdentity {
    let facts = &person.facts;
    let date_of_birth = facts
        .date_of_birth
        .as_deref()
        .and_then(|d| time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]")).ok());
    VerifiedIdentity {
        sub: Some(person.id.clone()),
        given_name: facts.name.clone(),
        family_name: String::new(),
        date_of_birth,
        country: facts.nationality.clone(),
        document_expires: None,
        authentication_type: "FACE_GALLERY".into(),
        acr: "low".into(),
    }
}

/// The outcome of a gallery step ([`flow::decided_by_the_central`]: a face match against the enrolled person, or
/// the duplicate check) on the face the case captured before it; `None` for any other step.
pub async fn gallery_outcome(
    app: &App,
    recognition: &Recognition,
    case_id: CaseId,
    step: &Step,
) -> Result<Option<(StepOutcome, Value)>, AppError> {
    match step {
        Step::FaceMatch { threshold, reference: flow::FaceReference::Enrolled } => {
            let (case, subject, probe) = load(app, case_id).await?;
            Ok(Some(face_match(recognition, &case, subject.as_ref(), probe, *threshold).await?))
        }
        Step::DuplicateCheck { threshold, collection } => {
            let (case, subject, probe) = load(app, case_id).await?;
            Ok(Some(duplicate_check(recognition, &case, subject, collection.clone(), probe, *threshold).await?))
        }
        _ => Ok(None),
    }
}

/// What the central decided on a gallery step a kiosk reached: the step as recorded, and the case after it (decided
/// when its steps decide it and that was the last one).
pub struct GalleryStepRun {
    pub step: flow::StepRecord,
    pub case: Case,
}

/// Runs the gallery step at `index`, the one the case is at, on the face recorded before it, then decides the case if
/// its steps decide it. Asked again for a step it ran, it answers that step as recorded, so a kiosk that lost the
/// answer asks again safely.
pub async fn run_gallery_step(
    app: &App,
    recognition: &Recognition,
    case_id: CaseId,
    index: u32,
    actor: String,
) -> Result<GalleryStepRun, AppError> {
    cases::expire_due(app).await?;
    let session = crate::steps::case_session(app, case_id).await?;
    let ran = session.done.iter().find(|r| r.index == index).cloned();
    let step = match (ran, session.next) {
        (Some(ran), _) if session.steps.get(index as usize).is_some_and(flow::decided_by_the_central) => {
            return Ok(GalleryStepRun { step: ran, case: app.db(move |s| s.get_case(case_id)).await? });
        }
        _ if session.status.is_terminal() => {
            return Err(AppError::conflict(format!("The case is {} already", session.status)));
        }
        (None, Next::Step { index: at, step }) if at == index && flow::decided_by_the_central(&step) => step,
        _ => {
            return Err(AppError::conflict(format!(
                "step {} of the case is not the gallery step it is at",
                index.saturating_add(1)
            )))
        }
    };
    let Some((outcome, detail)) = gallery_outcome(app, recognition, case_id, &step).await? else {
        return Err(AppError::internal("a gallery step without a gallery outcome"));
    };
    let kind = step.kind();
    if let Err(e) =
        crate::steps::record(app, actor, NewStep { case_id, index, kind, outcome, detail }, Vec::new()).await
    {
        // Asked twice at once (a kiosk's round and its customer's retry): the first one recorded it.
        let recorded = app.db(move |s| s.case_steps(case_id)).await?.iter().any(|r| r.index == index);
        if e.code != AppCode::Conflict || !recorded {
            return Err(e);
        }
    }
    let decided = match settle(app, recognition, case_id).await {
        // The other call decided it first; the case read below says how.
        Err(e) if e.code == AppCode::Conflict => None,
        other => other?,
    };
    let (case, done) = app.db(move |s| Ok((s.get_case(case_id)?, s.case_steps(case_id)?))).await?;
    let step = done
        .into_iter()
        .find(|r| r.index == index)
        .ok_or_else(|| AppError::internal("the gallery step just recorded is not there"))?;
    Ok(GalleryStepRun { step, case: decided.unwrap_or(case) })
}

/// Completes the case's remaining steps with one photo sent from another device (Verifik's `validate`), each
/// recorded with its evidence as the kiosk records it, then decides the case if its steps decide it. The photo
/// must show a face; a failed step ends the flow as at the kiosk.
pub async fn complete_with_photo(
    app: &App,
    faces: &FaceService,
    recognition: &Recognition,
    case_id: CaseId,
    photo: Vec<u8>,
    actor: String,
) -> Result<Case, AppError> {
    cases::expire_due(app).await?;
    // Read first, so a photo with no face records nothing.
    let subject_face = recognition.subject(photo.clone()).await?;
    let media_type =
        vouch_vision::image_io::probe(&photo, faces.limits).map_err(|e| AppError::vision("image", e))?.0.to_mime_type();
    loop {
        let session = crate::steps::case_session(app, case_id).await?;
        if session.status.is_terminal() {
            return Err(AppError::conflict(format!("The case is {} already", session.status)));
        }
        let Next::Step { index, step } = session.next else { break };
        // A photo completes the selfie, a passive liveness check and the gallery steps; anything else needs the
        // kiosk. The gallery steps compare the face the flow captured before them: this photo, stored.
        let (outcome, detail, evidence) = match &step {
            Step::Selfie {} => (
                StepOutcome::Passed,
                json!({"source": "remote", "faces": subject_face.others + 1}),
                vec![(EvidenceKind::Selfie, media_type, photo.clone())],
            ),
            Step::Liveness { liveness_type: flow::LivenessType::Passive } => {
                let (limits, frame) = (faces.limits, photo.clone());
                let evaluation = faces
                    .run(move |engine| {
                        let img = vouch_vision::decode(&frame, limits)?;
                        engine.evaluate_liveness(LivenessType::PassiveLiveness, [Ok((Assertion::None, img))])
                    })
                    .await?;
                let outcome = if evaluation.passed() { StepOutcome::Passed } else { StepOutcome::Failed };
                let detail = json!({
                    "liveness_type": "passive", "source": "remote", "score": evaluation.score,
                    "passive": evaluation.passive, "reason": evaluation.reason,
                });
                (outcome, detail, vec![(EvidenceKind::LivenessFrames, media_type, photo.clone())])
            }
            other => match gallery_outcome(app, recognition, case_id, other).await? {
                Some((outcome, detail)) => (outcome, detail, Vec::new()),
                None => {
                    let kind = other.kind().as_str();
                    return Err(AppError::conflict(format!("The case's {kind} step can only be done at the kiosk")));
                }
            },
        };
        let kind = step.kind();
        crate::steps::record(app, actor.clone(), NewStep { case_id, index, kind, outcome, detail }, evidence).await?;
        if outcome == StepOutcome::Failed {
            break;
        }
    }
    match settle(app, recognition, case_id).await? {
        Some(case) => Ok(case),
        None => app.db(move |s| s.get_case(case_id)).await,
    }
}
