//! Vouch's use cases, with no HTTP: what the kiosk, the vendor adapters and the CLI do, callable from each of
//! them. It depends on the engines (core, store, vision, chip) and on none of axum, tower, hyper, utoipa or a
//! vendor's DTOs; `vouch-server` maps what it returns into each vendor's dialect.
//!
//! Here so far: the chip's decision ([`chip`]), the proof-of-identity PDF and its evidence manifest
//! ([`proof`]), Vouch's liveness record ([`liveness_record`]), the face engine and the page reader as services
//! loaded on first use ([`faces`], [`document_reader`], [`model_slot`]), and the one error they return
//! ([`AppError`]). The rest of the application services still live in `vouch-server` (cases, webhooks,
//! retention, evidence packages, signing); moving them is issue 23's remaining work.

pub mod chip;
pub mod document_reader;
pub mod error;
pub mod faces;
pub mod liveness_record;
pub mod model_slot;
pub mod proof;

pub use error::{AppCode, AppError};

/// Today's date (UTC): the "today" every step rule in `vouch_core::step_rules` is given.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

/// A time as the vendors' JSON and Vouch's own records carry it: RFC 3339 in UTC.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
