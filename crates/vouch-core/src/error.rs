use crate::case::CaseStatus;

/// Rule violations in the domain. Adapters map each to their vendor's error body in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    #[error("a case cannot go from {from} to {to}")]
    IllegalTransition { from: CaseStatus, to: CaseStatus },
    #[error("{0}")]
    InvalidClaims(String),
    #[error("{0}")]
    InvalidDecision(String),
    #[error("{0}")]
    InvalidFlow(String),
    #[error("the verified identity does not satisfy the required claim `{claim}`")]
    ClaimNotSatisfied { claim: String },
}
