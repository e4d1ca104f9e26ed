//! Vendor-compatible APIs. Each adapter translates its vendor's DTOs into case operations and back;
//! no business rule lives here.

pub mod danaconnect;
pub mod dis;
pub mod eeid;
pub mod masstack;
pub mod not_built;

pub use vouch_app::rfc3339;

/// The webhook each API sends its client when one of its cases completes: eeID's and DANAconnect's (MasStack
/// and DIS send none).
pub fn completion_webhooks() -> crate::cases::CompletionWebhooks {
    crate::cases::CompletionWebhooks::new([
        (eeid::API, eeid::completion_webhook_body as crate::cases::CompletionWebhook),
        (danaconnect::API, danaconnect::completion_webhook_body),
    ])
}
