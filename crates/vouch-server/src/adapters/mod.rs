//! Vendor-compatible APIs. Each adapter translates its vendor's DTOs into case operations and back;
//! no business rule lives here.

pub mod danaconnect;
pub mod dis;
pub mod eeid;
pub mod masstack;
pub mod not_built;

/// A time as the vendors' JSON carries it: RFC 3339 in UTC.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
