//! A customer record an API keeps (DIS's customers) captured at a kiosk: the integrator names a flow when it makes
//! the customer, and a case running that flow goes to the kiosks (at a central, those its audience names). Once
//! the case is over, the API takes the case's captures (selfie, pages, chip data) over as the customer's own.

use vouch_core::flow::{FlowRef, StepKind};
use vouch_core::{Case, Client};

use crate::cases::{branch_label, Audience};
use crate::{App, AppError};

/// A customer to capture at a kiosk.
pub struct NewCustomerCapture {
    /// The API's id of the customer.
    pub customer_id: String,
    /// The API the customer belongs to; the case is presented as one of its cases.
    pub api: &'static str,
    /// The saved flow the kiosk runs (its current version).
    pub flow_id: String,
    pub audience: Audience,
}

/// Creates the customer and the case that captures it, in one transaction. A flow that signs documents is refused:
/// such a customer has none.
pub async fn create(app: &App, client: &Client, new: NewCustomerCapture) -> Result<Case, AppError> {
    let branch = branch_label(new.audience.branch.as_deref())?;
    let now = vouch_store::now();
    let ttl = time::Duration::try_from(app.case_ttl).unwrap_or(time::Duration::days(7));
    let case = Case { branch, for_kiosk: new.audience.kiosk, ..Case::pending(&client.id, new.api, now, now + ttl) };
    let (client_id, actor) = (client.id.clone(), format!("client:{}", client.id));
    let case = app
        .db(move |s| {
            let flow = s.latest_flow(&new.flow_id).map_err(|e| match e {
                vouch_store::StoreError::NotFound => {
                    vouch_store::StoreError::Invalid(format!("there is no flow {:?}", new.flow_id))
                }
                e => e,
            })?;
            if flow.steps.iter().any(|s| s.kind() == StepKind::Signature) {
                return Err(vouch_store::StoreError::Invalid(
                    "that flow has a signature step, and a customer has no documents to sign".into(),
                ));
            }
            let case = Case { flow: Some(FlowRef { id: flow.id, version: flow.version }), ..case };
            s.create_customer_for_kiosk(&client_id, &new.customer_id, &case, &actor)?;
            Ok(case)
        })
        .await?;
    tracing::info!(case_id = %case.id, api = case.api, "case created to capture a customer at a kiosk");
    Ok(case)
}
