//! Admin settings at the terminal: API clients, webhooks, flows, devices, retention, clerks, PIN.
//! Each call is one store operation that writes its own audit event.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use vouch_core::flow::{Step, StepKind};
use vouch_core::Scope;
use vouch_store::clients::NewClient;
use vouch_store::settings::KioskSettings;

use super::{parse_args, to_value, Caller};
use crate::error::ApiError;
use crate::state::AppState;

pub async fn call(state: &AppState, caller: &Caller, command: &str, args: Value) -> Result<Value, ApiError> {
    let actor = caller.actor();
    match command {
        "clients_list" => to_value(state.db(|s| s.list_clients()).await?),
        "client_create" => client_create(state, parse_args(args)?, actor).await,
        "client_revoke" => {
            let ClientArgs { client_id } = parse_args(args)?;
            to_value(state.db(move |s| s.revoke_client(&client_id, &actor)).await?)
        }
        "client_set_webhook" => {
            let WebhookArgs { client_id, url } = parse_args(args)?;
            let url = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
            to_value(state.db(move |s| s.set_client_webhook(&client_id, url.as_deref(), &actor)).await?)
        }
        "client_rotate_secret" => {
            let ClientArgs { client_id } = parse_args(args)?;
            let secret = state.db(move |s| s.rotate_client_secret(&client_id, &actor)).await?;
            Ok(json!({ "secret": secret }))
        }
        "deliveries" => to_value(crate::native::delivery_views(state, None, 100).await?),
        "delivery_retry" => {
            let DeliveryArgs { delivery_id } = parse_args(args)?;
            to_value(crate::native::retry(state, delivery_id).await?)
        }
        "flows_list" => flows_list(state).await,
        "flow_save" => flow_save(state, parse_args(args)?, actor).await,
        "flow_set_default" => {
            let FlowIdArgs { flow_id } = parse_args(args)?;
            state.db(move |s| s.set_default_flow(&flow_id, &actor)).await?;
            flows_list(state).await
        }
        "devices" => devices(state).await,
        "settings_get" => to_value(state.db(|s| s.kiosk_settings()).await?),
        "settings_save" => {
            let settings: KioskSettings = parse_args(args)?;
            state.db(move |s| s.save_kiosk_settings(&settings, &actor)).await?;
            let saved = state.db(|s| s.kiosk_settings()).await?;
            let source = crate::camera::effective_source(&state.config.camera, &saved.camera, state.config.camera_mode);
            state.camera.switch(source);
            to_value(saved)
        }
        "signing_keys" => to_value(state.app.signing.keys().await?.summary()),
        "signing_keys_set" => signing_keys_set(state, parse_args(args)?, &actor).await,
        "purge_now" => to_value(vouch_app::retention::purge(&state.app, &actor, true).await?),
        "clerks_list" => to_value(state.db(|s| s.list_clerks()).await?),
        "clerk_add" => {
            let ClerkArgs { name, pin } = parse_args(args)?;
            to_value(state.db(move |s| s.add_clerk(&name, &pin, &actor)).await?)
        }
        "clerk_remove" => {
            let ClerkIdArgs { clerk_id } = parse_args(args)?;
            state.db(move |s| s.remove_clerk(clerk_id, &actor)).await?;
            to_value(state.db(|s| s.list_clerks()).await?)
        }
        "admin_pin_change" => {
            let PinArgs { pin } = parse_args(args)?;
            state.db(move |s| s.change_admin_pin(&pin, &actor)).await?;
            Ok(json!({}))
        }
        "audit_verify" => to_value(state.db(|s| s.verify_audit(None)).await?),
        other => Err(ApiError::not_found(format!("No kiosk command is called {other:?}"))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientArgs {
    client_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookArgs {
    client_id: String,
    url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeliveryArgs {
    delivery_id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowIdArgs {
    flow_id: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClerkArgs {
    name: String,
    pin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClerkIdArgs {
    clerk_id: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinArgs {
    pin: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateClientArgs {
    name: String,
    #[serde(default)]
    admin: bool,
    webhook_url: Option<String>,
    token_ttl_secs: Option<u32>,
}

async fn client_create(state: &AppState, args: CreateClientArgs, actor: String) -> Result<Value, ApiError> {
    let new = NewClient {
        name: args.name.trim().to_string(),
        scope: if args.admin { Scope::Admin } else { Scope::Integrator },
        token_ttl_secs: args.token_ttl_secs.filter(|t| *t > 0),
        webhook_url: args.webhook_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
    };
    let created = state.db(move |s| s.create_client(&new, &actor)).await?;
    tracing::info!(client_id = %created.client.id, "API client created at the kiosk");
    Ok(json!({ "client": created.client, "secret": created.secret }))
}

#[derive(Serialize)]
struct StepKindInfo {
    kind: &'static str,
    /// Why the step cannot be added yet, if it cannot.
    missing: Option<&'static str>,
}

async fn flows_list(state: &AppState) -> Result<Value, ApiError> {
    let (flows, default) = state.db(|s| Ok((s.list_flows()?, s.default_flow_id()?))).await?;
    let kinds: Vec<StepKindInfo> =
        StepKind::ALL.iter().map(|k| StepKindInfo { kind: k.as_str(), missing: k.missing_capability() }).collect();
    Ok(json!({ "flows": flows, "default": default, "step_kinds": kinds }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlowSaveArgs {
    flow_id: String,
    name: String,
    steps: Vec<Step>,
    /// True to create; false to save the next version of an existing flow.
    #[serde(default)]
    create: bool,
}

async fn flow_save(state: &AppState, args: FlowSaveArgs, actor: String) -> Result<Value, ApiError> {
    let saved =
        state.db(move |s| s.save_flow(args.flow_id.trim(), args.name.trim(), &args.steps, &actor, args.create)).await?;
    to_value(saved)
}

/// What this terminal has: cameras from V4L2 and card readers from pcscd, as found right now.
async fn devices(state: &AppState) -> Result<Value, ApiError> {
    let (cameras, readers) =
        tokio::task::spawn_blocking(|| (vouch_capture::list_cameras(), vouch_chip::list_readers()))
            .await
            .map_err(ApiError::internal)?;
    let readers = match readers {
        Ok(list) => json!({ "ok": true, "readers": list }),
        Err(e) => json!({ "ok": false, "readers": [], "error": e.to_string() }),
    };
    // What the kiosk falls back to when the admin has not chosen a camera.
    let startup_camera = state.config.camera.describe();
    Ok(json!({ "cameras": cameras, "card_readers": readers, "startup_camera": startup_camera }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SigningKeysArgs {
    /// The PKCS#12 file, base64.
    pkcs12: Option<String>,
    #[serde(default)]
    password: String,
    /// The escrow holder's certificate, PEM.
    escrow_certificate: Option<String>,
}

const MAX_PKCS12_BYTES: usize = 64 * 1024;
const MAX_CERTIFICATE_PEM_BYTES: usize = 16 * 1024;

async fn signing_keys_set(state: &AppState, args: SigningKeysArgs, actor: &str) -> Result<Value, ApiError> {
    use base64::Engine;
    if args.pkcs12.is_none() && args.escrow_certificate.is_none() {
        return Err(ApiError::invalid("Choose a PKCS#12 file, an escrow certificate, or both"));
    }
    let pkcs12 = match args.pkcs12 {
        Some(b64) if b64.len() > MAX_PKCS12_BYTES * 4 / 3 + 4 => {
            return Err(ApiError::invalid("The PKCS#12 file is larger than 64 KB"))
        }
        Some(b64) => Some((
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| ApiError::invalid("The PKCS#12 file did not arrive intact (not base64)"))?,
            args.password,
        )),
        None => None,
    };
    if args.escrow_certificate.as_ref().is_some_and(|p| p.len() > MAX_CERTIFICATE_PEM_BYTES) {
        return Err(ApiError::invalid("The escrow certificate is larger than 16 KB"));
    }
    let keys = state
        .app
        .signing
        .install(vouch_app::signing::AdminKeys { pkcs12, escrow_pem: args.escrow_certificate }, actor)
        .await?;
    to_value(keys.summary())
}
