//! Flows: what a case asks of the person, as an ordered list of steps stored as data and versioned.
//! A case pins the flow version it started with, so editing a flow never changes a case under way.
//!
//! The engine is [`next_step`]: given the flow and the outcomes recorded so far, it names the next step,
//! or says the flow is finished and the case awaits a decision. Nothing is ever passed silently: a step
//! whose capture capability is not built is refused when the flow is saved ([`validate_steps`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::CoreError;

/// Languages the kiosk speaks; consent texts are keyed by these.
pub const LANGUAGES: [&str; 3] = ["en", "es", "et"];
pub const MAX_STEPS: usize = 20;
pub const MAX_CONSENT_LEN: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LivenessType {
    Passive,
    EyeGaze,
    Smile,
    Magnifeye,
}

/// One step of a flow, with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// The person reads and accepts a text, given per language.
    Consent {
        text: BTreeMap<String, String>,
    },
    DocumentChip {},
    DocumentScan {},
    Selfie {},
    Liveness {
        liveness_type: LivenessType,
    },
    /// The face from the selfie or liveness step against a reference: a photo the integrator uploaded for the
    /// case, or (once document reading is built) the document portrait. Passes at or above `threshold`, a
    /// calibrated score in 0..1 (0.5 is the calibrated match threshold).
    FaceMatch {
        threshold: f64,
        #[serde(default)]
        reference: FaceReference,
    },
    Signature {},
    /// The face from the selfie or liveness step searched in the gallery of enrolled persons, so that one person
    /// cannot onboard twice under two names: fails when someone enrolled scores at or above `threshold` (a
    /// calibrated 1:N score in 0..1; see docs/benchmarks.md for how it maps to false matches per gallery size).
    /// It searches `collection` (its id or code) when given, else the collection the case was opened for, else
    /// every person of the case's client.
    DuplicateCheck {
        threshold: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        collection: Option<String>,
    },
    /// A clerk looks at the evidence so far and confirms before the flow goes on.
    ClerkReview {},
    /// The end: the person sees the outcome. Always last, exactly once.
    Result {},
}

/// What a face_match step compares the customer's face with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FaceReference {
    /// A photo uploaded for the case over `PUT /vouch/v1/cases/{id}/reference-photo`.
    #[default]
    Uploaded,
    /// The portrait read from the document earlier in the flow: the chip's when a chip was read, else the one
    /// printed on the scanned page.
    Document,
    /// The gallery: the enrolled person the case was opened for (a login or validation of that person), or, when
    /// the case names only a collection, the best match in that collection.
    Enrolled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    Consent,
    DocumentChip,
    DocumentScan,
    Selfie,
    Liveness,
    FaceMatch,
    DuplicateCheck,
    Signature,
    ClerkReview,
    Result,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Consent => "consent",
            StepKind::DocumentChip => "document_chip",
            StepKind::DocumentScan => "document_scan",
            StepKind::Selfie => "selfie",
            StepKind::Liveness => "liveness",
            StepKind::FaceMatch => "face_match",
            StepKind::DuplicateCheck => "duplicate_check",
            StepKind::Signature => "signature",
            StepKind::ClerkReview => "clerk_review",
            StepKind::Result => "result",
        }
    }

    pub const ALL: [StepKind; 10] = [
        StepKind::Consent,
        StepKind::DocumentChip,
        StepKind::DocumentScan,
        StepKind::Selfie,
        StepKind::Liveness,
        StepKind::FaceMatch,
        StepKind::DuplicateCheck,
        StepKind::Signature,
        StepKind::ClerkReview,
        StepKind::Result,
    ];

    pub fn parse(s: &str) -> Option<StepKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kiosk decides this step from its own devices (camera, chip reader, signature pad): nobody
    /// submits or reports its outcome, neither the customer nor an API client.
    pub fn decided_by_device(self) -> bool {
        matches!(
            self,
            StepKind::Selfie
                | StepKind::Liveness
                | StepKind::FaceMatch
                | StepKind::DuplicateCheck
                | StepKind::DocumentChip
                | StepKind::DocumentScan
                | StepKind::Signature
        )
    }

    /// `None` when the step can run in this build; otherwise the capability it is waiting for.
    #[allow(clippy::unnecessary_wraps)] // kept: the next unbuilt capability returns Some again
    pub fn missing_capability(self) -> Option<&'static str> {
        match self {
            StepKind::Consent
            | StepKind::ClerkReview
            | StepKind::Result
            | StepKind::Selfie
            | StepKind::Liveness
            | StepKind::FaceMatch
            | StepKind::DuplicateCheck
            | StepKind::DocumentChip
            | StepKind::DocumentScan
            | StepKind::Signature => None,
        }
    }
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match self {
            Step::Consent { .. } => StepKind::Consent,
            Step::DocumentChip {} => StepKind::DocumentChip,
            Step::DocumentScan {} => StepKind::DocumentScan,
            Step::Selfie {} => StepKind::Selfie,
            Step::Liveness { .. } => StepKind::Liveness,
            Step::FaceMatch { .. } => StepKind::FaceMatch,
            Step::DuplicateCheck { .. } => StepKind::DuplicateCheck,
            Step::Signature {} => StepKind::Signature,
            Step::ClerkReview {} => StepKind::ClerkReview,
            Step::Result {} => StepKind::Result,
        }
    }
}

/// One saved version of a flow. Versions are immutable; an edit saves the next version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct FlowVersion {
    pub id: String,
    pub version: u32,
    pub name: String,
    pub steps: Vec<Step>,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    pub created_by: String,
}

/// Which flow version a case runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct FlowRef {
    pub id: String,
    pub version: u32,
}

fn invalid(msg: impl Into<String>) -> CoreError {
    CoreError::InvalidFlow(msg.into())
}

/// Flow ids are short slugs: they appear in URLs and in the DANAconnect `channel`.
pub fn validate_flow_id(id: &str) -> Result<(), CoreError> {
    let ok = (1..=48).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && id.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        Err(invalid("a flow id is 1 to 48 characters: lower-case letters, digits, '-' and '_', starting with a letter"))
    }
}

/// Checks a flow before it is saved: shape, settings, order, and that every step can really run.
pub fn validate_steps(name: &str, steps: &[Step]) -> Result<(), CoreError> {
    if name.trim().is_empty() || name.chars().count() > 120 {
        return Err(invalid("a flow needs a name of 1 to 120 characters"));
    }
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err(invalid(format!("a flow has 1 to {MAX_STEPS} steps")));
    }
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let kind = step.kind();
        if let Some(missing) = kind.missing_capability() {
            return Err(invalid(format!(
                "step {n} ({}) cannot be added yet: it needs {missing}, which this version of Vouch does not have",
                kind.as_str()
            )));
        }
        match step {
            Step::Consent { text } => {
                if !text.contains_key("en") {
                    return Err(invalid(format!("step {n} (consent) needs its text in English (en) at least")));
                }
                for (lang, t) in text {
                    if !LANGUAGES.contains(&lang.as_str()) {
                        return Err(invalid(format!(
                            "step {n} (consent): {lang:?} is not a kiosk language (en, es, et)"
                        )));
                    }
                    if t.trim().is_empty() || t.chars().count() > MAX_CONSENT_LEN {
                        return Err(invalid(format!(
                            "step {n} (consent): the {lang} text must have 1 to {MAX_CONSENT_LEN} characters"
                        )));
                    }
                }
            }
            Step::FaceMatch { threshold, reference } => {
                if !(threshold.is_finite() && *threshold > 0.0 && *threshold <= 1.0) {
                    return Err(invalid(format!("step {n} (face_match): the threshold must be in (0, 1]")));
                }
                let before = steps.get(..i).unwrap_or_default();
                let has = |k: &[StepKind]| before.iter().any(|s| k.contains(&s.kind()));
                if !has(&[StepKind::Selfie, StepKind::Liveness]) {
                    return Err(invalid(format!("step {n} (face_match) needs a selfie or liveness step before it")));
                }
                if *reference == FaceReference::Document && !has(&[StepKind::DocumentChip, StepKind::DocumentScan]) {
                    return Err(invalid(format!(
                        "step {n} (face_match) against the document portrait needs a document step before it"
                    )));
                }
            }
            Step::DuplicateCheck { threshold, collection } => {
                if !(threshold.is_finite() && *threshold > 0.0 && *threshold <= 1.0) {
                    return Err(invalid(format!("step {n} (duplicate_check): the threshold must be in (0, 1]")));
                }
                if collection.as_ref().is_some_and(|c| c.trim().is_empty() || c.chars().count() > 64) {
                    return Err(invalid(format!(
                        "step {n} (duplicate_check): a collection is named by its id or code, 1 to 64 characters"
                    )));
                }
                let before = steps.get(..i).unwrap_or_default();
                if !before.iter().any(|s| matches!(s.kind(), StepKind::Selfie | StepKind::Liveness)) {
                    return Err(invalid(format!(
                        "step {n} (duplicate_check) needs a selfie or liveness step before it"
                    )));
                }
            }
            _ => {}
        }
        if kind == StepKind::Result && n != steps.len() {
            return Err(invalid("the result step must be the last step, and there is only one"));
        }
    }
    if steps.last().map(Step::kind) != Some(StepKind::Result) {
        return Err(invalid("a flow ends with a result step"));
    }
    Ok(())
}

/// The flow every new install has: consent, then the result. Capture issues extend it.
pub fn demo_steps() -> Vec<Step> {
    let text = BTreeMap::from([
        (
            "en".to_string(),
            "I agree that this kiosk checks my identity and keeps the evidence for the time the bank requires."
                .to_string(),
        ),
        (
            "es".to_string(),
            "Acepto que este quiosco verifique mi identidad y conserve las pruebas durante el tiempo que exija el banco."
                .to_string(),
        ),
        (
            "et".to_string(),
            "Nõustun, et see kioski kontrollib mu isikut ja säilitab tõendeid nii kaua, kui pank nõuab.".to_string(),
        ),
    ]);
    vec![Step::Consent { text }, Step::Result {}]
}

/// Whether a kiosk running a case pulled from its central asks the central to decide this step: a search of the
/// gallery of enrolled persons, which lives there (a duplicate check against the kiosk's own, empty, gallery would
/// pass). The central runs it on the face the kiosk captured and pushed before it.
pub fn decided_by_the_central(step: &Step) -> bool {
    matches!(step, Step::DuplicateCheck { .. } | Step::FaceMatch { reference: FaceReference::Enrolled, .. })
}

pub const DEMO_FLOW_ID: &str = "demo";

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    Passed,
    Failed,
}

impl StepOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StepOutcome::Passed => "passed",
            StepOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<StepOutcome> {
        [StepOutcome::Passed, StepOutcome::Failed].into_iter().find(|o| o.as_str() == s)
    }
}

/// A step outcome as recorded for a case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct StepRecord {
    pub index: u32,
    pub kind: StepKind,
    pub outcome: StepOutcome,
    /// What the step observed (e.g. the consent language and text version); never raw biometrics.
    pub detail: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
}

/// What happens next in a case's flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Next {
    /// Run this step.
    Step { index: u32, step: Step },
    /// Every step before the result ran (or one failed); the case waits for a decision.
    AwaitingDecision { all_passed: bool },
}

/// The engine: the first step with no outcome yet, unless a step failed, in which case the flow stops.
/// The `result` step is never recorded; reaching it means the flow is finished.
pub fn next_step(steps: &[Step], records: &[StepRecord]) -> Next {
    let failed = records.iter().any(|r| r.outcome == StepOutcome::Failed);
    if failed {
        return Next::AwaitingDecision { all_passed: false };
    }
    for (i, step) in steps.iter().enumerate() {
        if step.kind() == StepKind::Result {
            break;
        }
        let index = i as u32;
        if !records.iter().any(|r| r.index == index) {
            return Next::Step { index, step: step.clone() };
        }
    }
    Next::AwaitingDecision { all_passed: true }
}

/// Checks that an outcome is for the step the engine expects now: no skipping ahead, no replays.
pub fn check_outcome(steps: &[Step], records: &[StepRecord], index: u32, kind: StepKind) -> Result<(), CoreError> {
    match next_step(steps, records) {
        Next::Step { index: expected, step } if expected == index && step.kind() == kind => Ok(()),
        Next::Step { index: expected, step } => Err(CoreError::InvalidFlow(format!(
            "the case is at step {} ({}), not step {} ({})",
            expected + 1,
            step.kind().as_str(),
            index + 1,
            kind.as_str()
        ))),
        Next::AwaitingDecision { .. } => {
            Err(CoreError::InvalidFlow("the flow is finished; the case awaits a decision".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_steps_without_a_device_may_be_reported() {
        let reported: Vec<&str> = StepKind::ALL.iter().filter(|k| !k.decided_by_device()).map(|k| k.as_str()).collect();
        assert_eq!(reported, ["consent", "clerk_review", "result"]);
    }

    fn consent() -> Step {
        Step::Consent { text: BTreeMap::from([("en".to_string(), "I agree".to_string())]) }
    }

    fn record(index: u32, kind: StepKind, outcome: StepOutcome) -> StepRecord {
        StepRecord { index, kind, outcome, detail: serde_json::Value::Null, at: OffsetDateTime::UNIX_EPOCH }
    }

    #[test]
    fn the_demo_flow_is_valid_and_speaks_every_kiosk_language() {
        assert_eq!(validate_steps("Demo", &demo_steps()), Ok(()));
        let Some(Step::Consent { text }) = demo_steps().into_iter().next() else { panic!("consent first") };
        for lang in LANGUAGES {
            assert!(text.contains_key(lang), "{lang}");
        }
    }

    #[test]
    fn every_step_kind_is_built() {
        for step in [
            Step::Signature {},
            Step::Selfie {},
            Step::Liveness { liveness_type: LivenessType::Smile },
            Step::DocumentChip {},
            Step::DocumentScan {},
        ] {
            assert_eq!(validate_steps("x", &[consent(), step, Step::Result {}]), Ok(()));
        }
    }

    #[test]
    fn shape_and_settings_are_checked() {
        assert!(validate_steps("x", &[]).is_err());
        assert!(validate_steps("x", &[consent()]).is_err(), "no result");
        assert!(validate_steps("x", &[Step::Result {}, consent(), Step::Result {}]).is_err(), "result not last");
        assert!(validate_steps(" ", &[Step::Result {}]).is_err(), "name");
        let es_only = Step::Consent { text: BTreeMap::from([("es".into(), "Acepto".into())]) };
        assert!(validate_steps("x", &[es_only, Step::Result {}]).is_err(), "English is required");
        let german = Step::Consent { text: BTreeMap::from([("en".into(), "a".into()), ("de".into(), "b".into())]) };
        assert!(validate_steps("x", &[german, Step::Result {}]).is_err());
        assert_eq!(validate_steps("x", &[consent(), Step::ClerkReview {}, Step::Result {}]), Ok(()));
    }

    #[test]
    fn kinds_and_outcomes_round_trip_through_their_names() {
        for k in StepKind::ALL {
            assert_eq!(StepKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(StepKind::parse("teleport"), None);
        for o in [StepOutcome::Passed, StepOutcome::Failed] {
            assert_eq!(StepOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(StepOutcome::parse("maybe"), None);
    }

    #[test]
    fn flow_ids_are_slugs() {
        assert!(validate_flow_id("account-opening_2").is_ok());
        for bad in ["", "Demo", "1st", "a b", "a/b", &"a".repeat(49)] {
            assert!(validate_flow_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn steps_are_defined_as_tagged_data() {
        let json = serde_json::json!([{"kind": "consent", "text": {"en": "I agree"}}, {"kind": "face_match", "threshold": 0.8}, {"kind": "result"}]);
        let steps: Vec<Step> = serde_json::from_value(json).unwrap();
        assert_eq!(steps[1], Step::FaceMatch { threshold: 0.8, reference: FaceReference::Uploaded });
        let unknown = serde_json::json!([{"kind": "teleport"}]);
        assert!(serde_json::from_value::<Vec<Step>>(unknown).is_err());
    }

    #[test]
    fn the_engine_walks_steps_in_order_and_stops_on_failure() {
        let steps = vec![consent(), Step::ClerkReview {}, Step::Result {}];
        let mut records = vec![];
        assert!(matches!(next_step(&steps, &records), Next::Step { index: 0, .. }));
        assert!(check_outcome(&steps, &records, 1, StepKind::ClerkReview).is_err(), "no skipping");
        assert!(check_outcome(&steps, &records, 0, StepKind::ClerkReview).is_err(), "kind must match");
        assert_eq!(check_outcome(&steps, &records, 0, StepKind::Consent), Ok(()));
        records.push(record(0, StepKind::Consent, StepOutcome::Passed));
        assert!(check_outcome(&steps, &records, 0, StepKind::Consent).is_err(), "no replay");
        assert!(matches!(next_step(&steps, &records), Next::Step { index: 1, .. }));
        records.push(record(1, StepKind::ClerkReview, StepOutcome::Passed));
        assert_eq!(next_step(&steps, &records), Next::AwaitingDecision { all_passed: true });

        let failed = vec![record(0, StepKind::Consent, StepOutcome::Failed)];
        assert_eq!(next_step(&steps, &failed), Next::AwaitingDecision { all_passed: false });
        assert!(check_outcome(&steps, &failed, 1, StepKind::ClerkReview).is_err());
    }
}
