//! The Vouch domain. Everything here is pure: no HTTP, SQL, files or models.
//!
//! A [`Case`] is the unit of work: one person being identified (or signing) for one API client.
//! It moves through [`CaseStatus`] by [`CaseStatus::transition_to`] only, collects [`Evidence`],
//! and ends with a [`Decision`].

pub mod case;
pub mod claims;
pub mod client;
pub mod error;
pub mod evidence;
pub mod flow;
pub mod homography;
pub mod image_header;
pub mod mrz;
pub mod nif;
pub mod step_rules;

pub use case::{Case, CaseId, CaseStatus, Decision, Outcome, VerifiedIdentity};
pub use claims::{Claim, ClaimType};
pub use client::{Client, Scope};
pub use error::CoreError;
pub use evidence::{Evidence, EvidenceKind};
