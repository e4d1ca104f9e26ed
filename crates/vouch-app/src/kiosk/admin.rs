//! Admin settings at the terminal: API clients, webhooks, flows, devices, retention, clerks, PIN.
//! Each call is one store operation that writes its own audit event.

use crate::signing::SigningSummary;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use vouch_core::flow::{FlowVersion, Step, StepKind};
use vouch_core::{Client, Scope};
use vouch_store::clients::NewClient;
use vouch_store::settings::KioskSettings;

use super::Kiosk;
use crate::AppError;

pub(super) async fn client_set_webhook(state: &Kiosk, args: WebhookArgs, actor: String) -> Result<Client, AppError> {
    let url = args.url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    state.db(move |s| s.set_client_webhook(&args.client_id, url.as_deref(), &actor)).await
}

pub(super) async fn settings_save(
    state: &Kiosk,
    settings: KioskSettings,
    actor: String,
) -> Result<KioskSettings, AppError> {
    state.db(move |s| s.save_kiosk_settings(&settings, &actor)).await?;
    let saved = state.db(|s| s.kiosk_settings()).await?;
    let source = crate::camera::effective_source(&state.startup_camera, &saved.camera, state.camera_mode);
    state.camera.switch(source);
    Ok(saved)
}

/// `exit_app`: the kiosk app closes its window (a browser ignores it).
#[derive(Serialize, TS)]
pub struct Exit {
    pub exit: bool,
}

/// A client secret, shown once.
#[derive(Serialize, TS)]
pub struct NewSecret {
    pub secret: String,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct ClientArgs {
    pub client_id: String,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct WebhookArgs {
    pub client_id: String,
    pub url: Option<String>,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct DeliveryArgs {
    pub delivery_id: i64,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct FlowIdArgs {
    pub flow_id: String,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct ClerkArgs {
    pub name: String,
    pub pin: String,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct ClerkIdArgs {
    pub clerk_id: i64,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct PinArgs {
    pub pin: String,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct CreateClientArgs {
    pub name: String,
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub admin: bool,
    pub webhook_url: Option<String>,
    pub token_ttl_secs: Option<u32>,
}

/// A new client and its secret, shown once.
#[derive(Serialize, TS)]
pub struct ClientCreated {
    pub client: Client,
    pub secret: String,
}

pub(super) async fn client_create(
    state: &Kiosk,
    args: CreateClientArgs,
    actor: String,
) -> Result<ClientCreated, AppError> {
    let new = NewClient {
        name: args.name.trim().to_string(),
        scope: if args.admin { Scope::Admin } else { Scope::Integrator },
        token_ttl_secs: args.token_ttl_secs.filter(|t| *t > 0),
        webhook_url: args.webhook_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
    };
    let created = state.db(move |s| s.create_client(&new, &actor)).await?;
    tracing::info!(client_id = %created.client.id, "API client created at the kiosk");
    Ok(ClientCreated { client: created.client, secret: created.secret })
}

#[derive(Serialize, TS)]
pub struct StepKindInfo {
    pub kind: &'static str,
    /// Why the step cannot be added yet, if it cannot.
    pub missing: Option<&'static str>,
}

/// The flows, the default one, and every step kind with whether it can be added.
#[derive(Serialize, TS)]
pub struct FlowList {
    pub flows: Vec<FlowVersion>,
    pub default: Option<String>,
    pub step_kinds: Vec<StepKindInfo>,
}

pub(super) async fn flows_list(state: &Kiosk) -> Result<FlowList, AppError> {
    let (flows, default) = state.db(|s| Ok((s.list_flows()?, s.default_flow_id()?))).await?;
    let kinds: Vec<StepKindInfo> =
        StepKind::ALL.iter().map(|k| StepKindInfo { kind: k.as_str(), missing: k.missing_capability() }).collect();
    Ok(FlowList { flows, default, step_kinds: kinds })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct FlowSaveArgs {
    pub flow_id: String,
    pub name: String,
    pub steps: Vec<Step>,
    /// True to create; false to save the next version of an existing flow.
    #[serde(default)]
    #[ts(as = "Option<bool>", optional)]
    pub create: bool,
}

pub(super) async fn flow_save(state: &Kiosk, args: FlowSaveArgs, actor: String) -> Result<FlowVersion, AppError> {
    state.db(move |s| s.save_flow(args.flow_id.trim(), args.name.trim(), &args.steps, &actor, args.create)).await
}

/// The card readers pcscd lists, or why it cannot.
#[derive(Serialize, TS)]
pub struct CardReaders {
    pub ok: bool,
    pub readers: Vec<vouch_chip::ReaderInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub error: Option<String>,
}

/// What this terminal has, and the camera it falls back to when the admin has not chosen one.
#[derive(Serialize, TS)]
pub struct Devices {
    pub cameras: Vec<vouch_capture::CameraInfo>,
    pub card_readers: CardReaders,
    pub startup_camera: String,
}

/// What this terminal has: cameras from V4L2 and card readers from pcscd, as found right now.
pub(super) async fn devices(state: &Kiosk) -> Result<Devices, AppError> {
    let (cameras, readers) =
        tokio::task::spawn_blocking(|| (vouch_capture::list_cameras(), vouch_chip::list_readers()))
            .await
            .map_err(AppError::internal)?;
    let readers = match readers {
        Ok(list) => CardReaders { ok: true, readers: list, error: None },
        Err(e) => CardReaders { ok: false, readers: Vec::new(), error: Some(e.to_string()) },
    };
    // What the kiosk falls back to when the admin has not chosen a camera.
    let startup_camera = state.startup_camera.describe();
    Ok(Devices { cameras, card_readers: readers, startup_camera })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct SigningKeysArgs {
    /// The PKCS#12 file, base64.
    pub pkcs12: Option<String>,
    #[serde(default)]
    #[ts(as = "Option<String>", optional)]
    pub password: String,
    /// The escrow holder's certificate, PEM.
    pub escrow_certificate: Option<String>,
}

const MAX_PKCS12_BYTES: usize = 64 * 1024;
const MAX_CERTIFICATE_PEM_BYTES: usize = 16 * 1024;

pub(super) async fn signing_keys_set(
    state: &Kiosk,
    args: SigningKeysArgs,
    actor: &str,
) -> Result<SigningSummary, AppError> {
    use base64::Engine;
    if args.pkcs12.is_none() && args.escrow_certificate.is_none() {
        return Err(AppError::invalid("Choose a PKCS#12 file, an escrow certificate, or both"));
    }
    let pkcs12 = match args.pkcs12 {
        Some(b64) if b64.len() > MAX_PKCS12_BYTES * 4 / 3 + 4 => {
            return Err(AppError::invalid("The PKCS#12 file is larger than 64 KB"))
        }
        Some(b64) => Some((
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| AppError::invalid("The PKCS#12 file did not arrive intact (not base64)"))?,
            args.password,
        )),
        None => None,
    };
    if args.escrow_certificate.as_ref().is_some_and(|p| p.len() > MAX_CERTIFICATE_PEM_BYTES) {
        return Err(AppError::invalid("The escrow certificate is larger than 16 KB"));
    }
    let keys = state
        .app
        .signing
        .install(crate::signing::AdminKeys { pkcs12, escrow_pem: args.escrow_certificate }, actor)
        .await?;
    Ok(keys.summary())
}
