//! Vendor-compatible APIs. Each adapter translates its vendor's DTOs into case operations and back;
//! no business rule lives here.

pub mod danaconnect;
pub mod dis;
pub mod eeid;
pub mod masstack;
pub mod not_built;
pub mod verifik;

pub use vouch_app::rfc3339;

/// The webhook each API sends its client when one of its cases completes: eeID's (also signed with the
/// client's secret, as eeID does) and DANAconnect's; MasStack and DIS send none.
pub fn completion_webhooks() -> vouch_app::cases::CompletionWebhooks {
    use vouch_app::cases::CompletionWebhook;
    vouch_app::cases::CompletionWebhooks::new([
        (
            eeid::API,
            CompletionWebhook::OnApproval { body: eeid::completion_webhook_body, signed_with_client_secret: true },
        ),
        (
            danaconnect::API,
            CompletionWebhook::OnApproval {
                body: danaconnect::completion_webhook_body,
                signed_with_client_secret: false,
            },
        ),
        (verifik::API, CompletionWebhook::OnDecision(verifik::decision_webhooks)),
    ])
}
