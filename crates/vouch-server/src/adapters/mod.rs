//! Vendor-compatible APIs. Each adapter translates its vendor's DTOs into case operations and back;
//! no business rule lives here.

pub mod dis;
pub mod dis_document;
pub mod dis_faces;
pub mod dis_inspect;
pub mod dis_liveness;
pub mod dis_pages;
pub mod eeid;
pub mod not_built;
