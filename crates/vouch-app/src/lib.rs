//! Vouch's use cases, with no HTTP: what the kiosk, the vendor adapters and the CLI do, callable from each of
//! them. It depends on the engines (core, store, vision, chip) and on none of axum, tower, hyper, utoipa or a
//! vendor's DTOs; `vouch-server` maps what it returns into each vendor's dialect.
//!
//! Here: the context every use case runs in ([`App`]); opening, deciding and expiring cases ([`cases`]), and those
//! that capture an API's customer at a kiosk ([`customer_captures`]); running
//! a case's flow (where it stands, its current step, recording and submitting steps: [`steps`]); the
//! retention purge ([`retention`]); the signing keys ([`signing`]) and signing a case's documents
//! ([`sign_case`]); the evidence package ([`evidence_package`]); the chip's decision ([`chip`]); the
//! proof-of-identity PDF and its evidence manifest ([`proof`]); Vouch's liveness record ([`liveness_record`]);
//! the face engine and the page reader as services loaded on first use ([`faces`], [`document_reader`],
//! [`model_slot`]); the webhook dispatcher ([`webhooks`], sending through a transport the protocol layer gives
//! it); the kiosk's typed commands, which drive the camera, the chip reader and the signature pad and record
//! through [`steps`] ([`kiosk`], with the camera service in [`camera`] and places for heavy work in [`work`]);
//! and the one error they return ([`AppError`]).

pub mod app;
pub mod camera;
pub mod cases;
pub mod central;
pub mod chip;
pub mod customer_captures;
pub mod document_reader;
pub mod error;
pub mod evidence_package;
pub mod faces;
pub mod gallery;
pub mod kiosk;
pub mod liveness_record;
pub mod model_slot;
pub mod proof;
pub mod proof_font;
pub mod recognition;
pub mod reference_photo;
pub mod retention;
pub mod sign_case;
pub mod signing;
pub mod steps;
pub mod subject_cases;
pub mod trust_records;
pub mod webhooks;
pub mod work;

pub use app::App;
pub use error::{AppCode, AppError};

/// Today's date (UTC): the "today" every step rule in `vouch_core::step_rules` is given.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A time as the vendors' JSON and Vouch's own records carry it: RFC 3339 in UTC.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
