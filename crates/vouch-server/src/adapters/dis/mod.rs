//! Innovatrics DIS 1.52.0 under `/identity`, one file per resource: the actuator, faces, customers and their
//! selfie ([`faces`]), liveness, the document chip ([`document`]), document pages, and the customer
//! inspection, customers captured at a kiosk ([`kiosk_customers`]), sessions ([`sessions`], which also
//! says who may call), and the Trust Platform store ([`trust_platform`]); [`bodies`] reads their JSON bodies as the handlers do (and the fuzz target with them). What DIS
//! documents and Vouch does not build answers 501 (`not_built`).

pub mod actuator;
pub mod bodies;
pub mod document;
pub mod faces;
pub mod inspect;
pub mod kiosk_customers;
pub mod liveness;
pub mod pages;
pub mod sessions;
pub mod trust_platform;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// Every DIS route.
pub fn routes(state: AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(actuator::routes())
        .merge(faces::routes(state.clone()))
        .merge(document::routes(state.clone()))
        .merge(pages::routes(state.clone()))
        .merge(inspect::routes(state.clone()))
        .merge(liveness::routes(state.clone()))
        .merge(sessions::routes(state.clone()))
        .merge(trust_platform::routes(state))
}
