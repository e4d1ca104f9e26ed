use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::claims::{check_satisfied, Claim};
use crate::error::CoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS)]
#[serde(transparent)]
pub struct CaseId(pub Uuid);

impl CaseId {
    pub fn new() -> CaseId {
        CaseId(Uuid::new_v4())
    }

    pub fn parse(s: &str) -> Option<CaseId> {
        Uuid::parse_str(s).ok().map(CaseId)
    }
}

impl Default for CaseId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// The life of a case. Terminal states never change again.
///
/// ```text
/// pending ──► in_progress ──► completed
///    │             │      └─► failed
///    │             └────────► expired | cancelled
///    └──► completed | failed | expired | cancelled
/// ```
/// A pending case may be decided directly: a clerk can verify a person at the desk without a kiosk flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Pending,
    InProgress,
    Completed,
    Failed,
    Expired,
    Cancelled,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::Pending,
        CaseStatus::InProgress,
        CaseStatus::Completed,
        CaseStatus::Failed,
        CaseStatus::Expired,
        CaseStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Pending => "pending",
            CaseStatus::InProgress => "in_progress",
            CaseStatus::Completed => "completed",
            CaseStatus::Failed => "failed",
            CaseStatus::Expired => "expired",
            CaseStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<CaseStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, CaseStatus::Completed | CaseStatus::Failed | CaseStatus::Expired | CaseStatus::Cancelled)
    }

    pub fn can_transition_to(self, to: CaseStatus) -> bool {
        use CaseStatus::*;
        matches!(
            (self, to),
            (Pending, InProgress | Completed | Failed | Expired | Cancelled)
                | (InProgress, Completed | Failed | Expired | Cancelled)
        )
    }

    pub fn transition_to(self, to: CaseStatus) -> Result<CaseStatus, CoreError> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(CoreError::IllegalTransition { from: self, to })
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Approved,
    Rejected,
}

/// The person a case verified, as confirmed by the kiosk flow or by a clerk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct VerifiedIdentity {
    pub sub: Option<String>,
    pub given_name: String,
    pub family_name: String,
    // time's serde writes a Date as [year, day of the year] (it reads YYYY-MM-DD too).
    #[ts(type = "[number, number] | null")]
    pub date_of_birth: Option<Date>,
    pub country: Option<String>,
    /// Validity end of the document or certificate used.
    // time's serde writes a Date as [year, day of the year] (it reads YYYY-MM-DD too).
    #[ts(type = "[number, number] | null")]
    pub document_expires: Option<Date>,
    /// How the identity was established, e.g. PASSPORT, ID_CARD, CLERK_REVIEW.
    pub authentication_type: String,
    /// eIDAS level of assurance: low, substantial or high.
    pub acr: String,
}

pub const ACR_LEVELS: [&str; 3] = ["low", "substantial", "high"];

/// Who decided a case, how and why. A decision always has a written reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Decision {
    pub outcome: Outcome,
    /// `admin:<client id>`, `clerk:<name>` or `kiosk`.
    pub actor: String,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub decided_at: OffsetDateTime,
    pub identity: Option<VerifiedIdentity>,
}

pub const MAX_REASON_LEN: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct Case {
    pub id: CaseId,
    pub client_id: String,
    /// The API that created the case (`eeid`, ...); it decides how the case is presented and notified.
    pub api: String,
    pub reference: Option<String>,
    pub status: CaseStatus,
    pub claims: Vec<Claim>,
    pub reason: Option<String>,
    pub reason_translations: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: OffsetDateTime,
    /// The flow version this case runs, pinned at creation; `None` for cases decided without a flow.
    pub flow: Option<crate::flow::FlowRef>,
    pub decision: Option<Decision>,
    /// At a central service, the branch whose paired kiosks may run the case (the `Vouch-Branch` header of the
    /// call that made it); `None`: any kiosk.
    #[serde(default)]
    pub branch: Option<String>,
    /// At a central service, the one paired kiosk that may run the case (the `Vouch-Kiosk` header of the call that
    /// made it); `None`: the kiosks `branch` says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub for_kiosk: Option<String>,
}

impl Case {
    /// A new pending case of `client_id` made through `api` at `created_at`, open until `expires_at`: no reference,
    /// claims, purpose, flow or branch yet (set them with struct update syntax).
    pub fn pending(client_id: &str, api: &str, created_at: OffsetDateTime, expires_at: OffsetDateTime) -> Case {
        Case {
            id: CaseId::new(),
            client_id: client_id.to_string(),
            api: api.to_string(),
            reference: None,
            status: CaseStatus::Pending,
            claims: Vec::new(),
            reason: None,
            reason_translations: BTreeMap::new(),
            created_at,
            updated_at: created_at,
            expires_at,
            flow: None,
            decision: None,
            branch: None,
            for_kiosk: None,
        }
    }

    /// Whether a still-open case has passed its expiry.
    pub fn is_due_to_expire(&self, now: OffsetDateTime) -> bool {
        !self.status.is_terminal() && now >= self.expires_at
    }

    /// Applies a decision: approval completes the case, rejection fails it.
    /// An approval must carry the verified identity, and that identity must satisfy the required claims.
    pub fn decide(&mut self, decision: Decision) -> Result<(), CoreError> {
        let target = match decision.outcome {
            Outcome::Approved => CaseStatus::Completed,
            Outcome::Rejected => CaseStatus::Failed,
        };
        let next = self.status.transition_to(target)?;
        if decision.reason.trim().is_empty() {
            return Err(CoreError::InvalidDecision("a decision needs a written reason".into()));
        }
        if decision.reason.chars().count() > MAX_REASON_LEN {
            return Err(CoreError::InvalidDecision(format!(
                "the reason must not be longer than {MAX_REASON_LEN} characters"
            )));
        }
        if decision.outcome == Outcome::Approved {
            let identity = decision
                .identity
                .as_ref()
                .ok_or_else(|| CoreError::InvalidDecision("an approval must state the verified identity".into()))?;
            validate_identity(identity)?;
            check_satisfied(&self.claims, identity)?;
        }
        self.status = next;
        self.updated_at = decision.decided_at;
        self.decision = Some(decision);
        Ok(())
    }

    /// The case as it stands at `now`: an open case past its expiry reads `expired`, as of its expiry. The
    /// background sweep writes it so, with its audit event; reads need not write.
    pub fn as_of(mut self, now: OffsetDateTime) -> Case {
        if matches!(self.status, CaseStatus::Pending | CaseStatus::InProgress) && self.expires_at <= now {
            self.status = CaseStatus::Expired;
            self.updated_at = self.expires_at;
        }
        self
    }

    pub fn expire(&mut self, now: OffsetDateTime) -> Result<(), CoreError> {
        self.status = self.status.transition_to(CaseStatus::Expired)?;
        self.updated_at = now;
        Ok(())
    }
}

fn validate_identity(id: &VerifiedIdentity) -> Result<(), CoreError> {
    let bad = |m: &str| Err(CoreError::InvalidDecision(m.to_string()));
    if id.given_name.trim().is_empty() && id.family_name.trim().is_empty() {
        return bad("the verified identity needs a given or family name");
    }
    if !ACR_LEVELS.contains(&id.acr.as_str()) {
        return bad("acr must be one of low, substantial, high");
    }
    let method_ok = !id.authentication_type.is_empty()
        && id.authentication_type.len() <= 32
        && id.authentication_type.bytes().all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit());
    if !method_ok {
        return bad("authentication_type must be an upper-case code such as PASSPORT, ID_CARD or CLERK_REVIEW");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::validate_claims;
    use CaseStatus::*;

    fn case_with_sub(sub: &str) -> Case {
        let now = OffsetDateTime::UNIX_EPOCH;
        Case {
            id: CaseId::new(),
            client_id: "c".into(),
            api: "eeid".into(),
            reference: None,
            status: Pending,
            claims: validate_claims(&[("sub".to_string(), sub.to_string())]).unwrap_or_default(),
            reason: None,
            reason_translations: BTreeMap::new(),
            created_at: now,
            updated_at: now,
            expires_at: now + time::Duration::days(7),
            flow: None,
            decision: None,
            branch: None,
            for_kiosk: None,
        }
    }

    fn approval(sub: &str) -> Decision {
        Decision {
            outcome: Outcome::Approved,
            actor: "admin:test".into(),
            reason: "passport checked at the desk".into(),
            decided_at: OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1),
            identity: Some(VerifiedIdentity {
                sub: Some(sub.into()),
                given_name: "OK".into(),
                family_name: "TESTNUMBER".into(),
                date_of_birth: None,
                country: None,
                document_expires: None,
                authentication_type: "PASSPORT".into(),
                acr: "substantial".into(),
            }),
        }
    }

    #[test]
    fn legal_transitions_are_exactly_the_documented_ones() {
        let legal = [
            (Pending, InProgress),
            (Pending, Completed),
            (Pending, Failed),
            (Pending, Expired),
            (Pending, Cancelled),
            (InProgress, Completed),
            (InProgress, Failed),
            (InProgress, Expired),
            (InProgress, Cancelled),
        ];
        for from in CaseStatus::ALL {
            for to in CaseStatus::ALL {
                let expected = legal.contains(&(from, to));
                assert_eq!(from.can_transition_to(to), expected, "{from} -> {to}");
                assert_eq!(from.transition_to(to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn terminal_states_never_move_and_nothing_returns_to_pending() {
        for from in CaseStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in CaseStatus::ALL {
                assert_eq!(from.transition_to(to), Err(CoreError::IllegalTransition { from, to }));
            }
        }
        for from in CaseStatus::ALL {
            assert!(!from.can_transition_to(Pending));
        }
        assert!(!InProgress.can_transition_to(InProgress));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(CaseStatus::parse("done"), None);
    }

    #[test]
    fn approval_completes_and_rejection_fails() {
        let mut c = case_with_sub("EE30303039914");
        assert_eq!(c.decide(approval("EE30303039914")), Ok(()));
        assert_eq!(c.status, Completed);

        let mut c = case_with_sub("EE30303039914");
        let mut d = approval("EE30303039914");
        d.outcome = Outcome::Rejected;
        d.identity = None;
        assert_eq!(c.decide(d), Ok(()));
        assert_eq!(c.status, Failed);
    }

    #[test]
    fn a_decided_case_cannot_be_decided_again() {
        let mut c = case_with_sub("EE30303039914");
        assert_eq!(c.decide(approval("EE30303039914")), Ok(()));
        assert_eq!(
            c.decide(approval("EE30303039914")),
            Err(CoreError::IllegalTransition { from: Completed, to: Completed })
        );
    }

    #[test]
    fn approval_needs_a_reason_an_identity_and_matching_claims() {
        let mut c = case_with_sub("EE30303039914");
        let mut d = approval("EE30303039914");
        d.reason = "  ".into();
        assert!(matches!(c.decide(d), Err(CoreError::InvalidDecision(_))));

        let mut d = approval("EE30303039914");
        d.identity = None;
        assert!(matches!(c.decide(d), Err(CoreError::InvalidDecision(_))));

        assert_eq!(c.decide(approval("EE37605030299")), Err(CoreError::ClaimNotSatisfied { claim: "sub".into() }));
        assert_eq!(c.status, Pending, "a refused decision changes nothing");
    }

    #[test]
    fn expiry_applies_only_to_open_cases() {
        let mut c = case_with_sub("EE30303039914");
        let later = c.expires_at;
        assert!(!c.is_due_to_expire(later - time::Duration::seconds(1)));
        assert!(c.is_due_to_expire(later));
        assert_eq!(c.expire(later), Ok(()));
        assert_eq!(c.status, Expired);
        assert!(!c.is_due_to_expire(later));
        assert!(c.expire(later).is_err());
    }
}
