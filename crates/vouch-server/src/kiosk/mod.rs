//! The kiosk bridge: every command the UI sends goes through [`call`]. Inside the Tauri app it arrives
//! over IPC; in a browser it arrives as `POST /vouch/v1/kiosk/{command}`. One function serves both, so
//! the same UI is tested in Chromium and in the real window.
//!
//! Commands need one of three levels: anyone at the terminal (the customer), a signed-in clerk (or the
//! admin), or the admin. Staff sign in with a PIN and send the session token they get back.

mod admin;
pub mod bridge;
mod capture;
mod chip;
mod customer;
mod document_scan;
mod face_match;
pub mod sessions;
mod signature;
mod staff;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, Code, Failure, Native};
use crate::extract::{bearer_token, JsonBody};
use crate::native::NativeError;
use crate::state::AppState;
pub use capture::CaptureRuns;
pub use chip::{ChipReads, CHIP_DATA_MEDIA_TYPE};
pub use document_scan::{ScanRuns, AGREEING_READS};
pub use sessions::{KioskSessions, Role, Session};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    Clerk,
    Admin,
}

/// Whether a command decodes frames, runs models, signs PDFs or checks a PIN with argon2: heavy commands
/// take a place in the kiosk's work group (`crate::load`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Light,
    Heavy,
}

/// Every command, with who may send it and how heavy it is. The UI and the docs read this list; nothing else
/// is callable.
pub const COMMANDS: &[(&str, Access, Load)] = &[
    ("kiosk_status", Access::Anyone, Load::Light),
    ("case_open", Access::Anyone, Load::Light),
    ("step_submit", Access::Anyone, Load::Light),
    ("camera_status", Access::Anyone, Load::Light),
    ("camera_guide", Access::Anyone, Load::Light),
    ("selfie_capture", Access::Anyone, Load::Heavy),
    ("liveness_begin", Access::Anyone, Load::Light),
    ("liveness_frame", Access::Anyone, Load::Heavy),
    ("face_match_run", Access::Anyone, Load::Heavy),
    ("document_scan_frame", Access::Anyone, Load::Heavy),
    ("document_scan_manual", Access::Clerk, Load::Heavy),
    ("signature_documents", Access::Anyone, Load::Light),
    ("signature_document", Access::Anyone, Load::Light),
    ("signature_submit", Access::Anyone, Load::Heavy),
    ("chip_status", Access::Anyone, Load::Light),
    ("chip_read_begin", Access::Anyone, Load::Light),
    ("chip_read_progress", Access::Anyone, Load::Light),
    ("chip_read_cancel", Access::Anyone, Load::Light),
    ("admin_setup", Access::Anyone, Load::Heavy),
    ("sign_in", Access::Anyone, Load::Heavy),
    ("sign_out", Access::Anyone, Load::Light),
    ("whoami", Access::Anyone, Load::Light),
    ("queue", Access::Clerk, Load::Light),
    ("case_detail", Access::Clerk, Load::Light),
    ("evidence_image", Access::Clerk, Load::Light),
    ("case_decide", Access::Clerk, Load::Light),
    ("clients_list", Access::Admin, Load::Light),
    ("client_create", Access::Admin, Load::Light),
    ("client_revoke", Access::Admin, Load::Light),
    ("client_set_webhook", Access::Admin, Load::Light),
    ("client_rotate_secret", Access::Admin, Load::Light),
    ("deliveries", Access::Admin, Load::Light),
    ("delivery_retry", Access::Admin, Load::Light),
    ("flows_list", Access::Admin, Load::Light),
    ("flow_save", Access::Admin, Load::Light),
    ("flow_set_default", Access::Admin, Load::Light),
    ("devices", Access::Admin, Load::Light),
    ("settings_get", Access::Admin, Load::Light),
    ("settings_save", Access::Admin, Load::Light),
    ("signing_keys", Access::Admin, Load::Light),
    ("signing_keys_set", Access::Admin, Load::Light),
    ("purge_now", Access::Admin, Load::Light),
    ("clerks_list", Access::Admin, Load::Light),
    ("clerk_add", Access::Admin, Load::Heavy),
    ("clerk_remove", Access::Admin, Load::Light),
    ("admin_pin_change", Access::Admin, Load::Heavy),
    ("audit_verify", Access::Admin, Load::Light),
    ("exit_app", Access::Admin, Load::Light),
];

/// How a command reached the kiosk: Tauri IPC from the app's own window, or HTTP from a paired browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Ipc,
    Http,
}

/// Who is calling: nobody in particular (the customer), or a signed-in clerk or admin.
#[derive(Debug, Clone)]
pub struct Caller {
    pub session: Option<Session>,
    pub token: Option<String>,
    pub transport: Transport,
}

impl Caller {
    /// The audit log's name for whoever made the call.
    pub fn actor(&self) -> String {
        self.session.as_ref().map_or_else(|| "kiosk:customer".to_string(), |s| s.actor.clone())
    }
    pub fn role(&self) -> Option<Role> {
        self.session.as_ref().map(|s| s.role)
    }
}

/// Parses a command's arguments; a mismatch is a 422 that names the problem.
/// The kiosk address that opens one case (eeID's `link`, DANAconnect's and MasStack's links alike): the
/// customer scans or types it at the kiosk, or opens it in a browser.
pub fn link(public_url: &str, id: vouch_core::CaseId) -> String {
    format!("{public_url}/kiosk/requests/{id}")
}

pub(crate) fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, ApiError> {
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    serde_json::from_value(args).map_err(|e| ApiError::invalid(format!("invalid arguments: {e}")))
}

pub(crate) fn to_value<T: serde::Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(ApiError::internal)
}

fn authorize(state: &AppState, transport: Transport, token: Option<&str>, access: Access) -> Result<Caller, ApiError> {
    let session = token.and_then(|t| state.kiosk.touch(t));
    let caller = Caller { session, token: token.map(str::to_owned), transport };
    match (access, caller.role()) {
        (Access::Anyone, _) | (Access::Clerk, Some(Role::Clerk | Role::Admin)) | (Access::Admin, Some(Role::Admin)) => {
            Ok(caller)
        }
        (_, None) => Err(ApiError::new(
            Code::Unauthorized,
            "Sign in with your PIN first (or again: sessions end after 10 idle minutes)",
        )),
        (_, Some(_)) => Err(ApiError::forbidden("This needs the admin PIN")),
    }
}

/// Runs one kiosk command. `token` is the session a PIN sign-in returned, if any. Over HTTP the caller has
/// already shown a paired bridge session ([`kiosk_command`]).
pub async fn call(
    state: &AppState,
    transport: Transport,
    token: Option<&str>,
    command: &str,
    args: Value,
) -> Result<Value, ApiError> {
    let (access, load) = COMMANDS
        .iter()
        .find(|(name, ..)| *name == command)
        .map(|(_, access, load)| (*access, *load))
        .ok_or_else(|| ApiError::not_found(format!("No kiosk command is called {command:?}")))?;
    let caller = authorize(state, transport, token, access)?;
    let _place = match load {
        Load::Heavy => Some(crate::load::place(&state.work.kiosk, "kiosk").await?),
        Load::Light => None,
    };
    match command {
        "kiosk_status" => customer::status(state, &caller).await,
        "case_open" => customer::open(state, parse_args(args)?).await,
        "step_submit" => customer::submit(state, &caller, parse_args(args)?).await,
        "camera_status" => capture::camera_status(state, parse_args(args)?).await,
        "camera_guide" => capture::camera_guide(state).await,
        "selfie_capture" => capture::selfie_capture(state, &caller, parse_args(args)?).await,
        "liveness_begin" => capture::liveness_begin(state, parse_args(args)?).await,
        "liveness_frame" => capture::liveness_frame(state, &caller, parse_args(args)?).await,
        "face_match_run" => face_match::face_match_run(state, &caller, parse_args(args)?).await,
        "document_scan_frame" => document_scan::document_scan_frame(state, &caller, parse_args(args)?).await,
        "document_scan_manual" => document_scan::document_scan_manual(state, &caller, parse_args(args)?).await,
        "signature_documents" => signature::signature_documents(state, parse_args(args)?).await,
        "signature_document" => signature::signature_document(state, &caller, parse_args(args)?).await,
        "signature_submit" => signature::signature_submit(state, &caller, parse_args(args)?).await,
        "chip_status" => chip::chip_status(state).await,
        "chip_read_begin" => chip::chip_read_begin(state, &caller, parse_args(args)?).await,
        "chip_read_progress" => chip::chip_read_progress(state, parse_args(args)?).await,
        "chip_read_cancel" => chip::chip_read_cancel(state, parse_args(args)?).await,
        "admin_setup" => staff::admin_setup(state, &caller, parse_args(args)?).await,
        "sign_in" => staff::sign_in(state, parse_args(args)?).await,
        "sign_out" => {
            if let Some(t) = &caller.token {
                state.kiosk.close(t);
            }
            Ok(Value::Object(Default::default()))
        }
        "whoami" => to_value(&caller.session),
        "queue" => staff::queue(state, parse_args(args)?).await,
        "case_detail" => staff::case_detail(state, parse_args(args)?).await,
        "evidence_image" => staff::evidence_image(state, &caller, parse_args(args)?).await,
        "case_decide" => staff::decide(state, &caller, parse_args(args)?).await,
        "exit_app" => Ok(serde_json::json!({"exit": true})),
        other => admin::call(state, &caller, other, args).await,
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(kiosk_pair)).routes(routes!(kiosk_command)).routes(routes!(camera_preview))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PairArgs {
    /// The pairing code `vouch serve` printed on its console (also in `<data dir>/bridge-pairing-code`).
    pub code: String,
}

/// Pairs a browser with the kiosk bridge: the right code sets the bridge session cookie (`HttpOnly`,
/// `SameSite=Strict`) that every `/vouch/v1/kiosk/{command}` call needs. Ten wrong codes replace the code.
#[utoipa::path(post, path = "/vouch/v1/kiosk/pair", tag = "Kiosk", request_body = PairArgs,
    responses((status = 200, body = Object), (status = 401, body = NativeError), (status = 422, body = NativeError)))]
async fn kiosk_pair(
    State(state): State<AppState>,
    JsonBody(args, ..): JsonBody<PairArgs, Native>,
) -> Result<axum::response::Response, Failure<Native>> {
    use axum::response::IntoResponse;
    if args.code.len() > 64 {
        return Err(ApiError::invalid("A pairing code is 10 letters and digits").into());
    }
    let Some(token) = state.bridge.pair(&args.code) else {
        tracing::warn!("a wrong kiosk bridge pairing code");
        return Err(ApiError::new(Code::Unauthorized, "That pairing code is not right")
            .with_vendor_code("bridge_pairing_code_wrong")
            .into());
    };
    tracing::info!("a browser paired with the kiosk bridge");
    let secure = if state.app.public_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/vouch/v1/kiosk; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        bridge::BRIDGE_COOKIE,
        bridge::BRIDGE_IDLE.as_secs()
    );
    let mut resp = Json(serde_json::json!({"paired": true})).into_response();
    let value = axum::http::HeaderValue::from_str(&cookie).map_err(ApiError::internal)?;
    resp.headers_mut().insert(axum::http::header::SET_COOKIE, value);
    resp.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[derive(serde::Deserialize)]
struct PreviewQuery {
    t: String,
}

/// The kiosk camera's live preview as an MJPEG stream (`multipart/x-mixed-replace`), for an `<img>`. The
/// token comes from the `camera_status` command, so only the kiosk UI can watch the camera.
#[utoipa::path(get, path = "/vouch/v1/kiosk/camera/preview", tag = "Kiosk",
    params(("t" = String, Query, description = "preview token from camera_status")),
    responses((status = 200, content_type = "multipart/x-mixed-replace"), (status = 403, body = NativeError),
              (status = 409, body = NativeError)))]
async fn camera_preview(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<PreviewQuery>,
) -> Result<axum::response::Response, Failure<Native>> {
    // The token says which camera to watch; it is looked up by hash, so timing says nothing about it.
    let camera = match state.bridge.preview_camera(&q.t) {
        Some(bridge::PreviewCamera::Kiosk) => &state.camera,
        Some(bridge::PreviewCamera::Document) => &state.document_camera,
        None => {
            return Err(
                ApiError::forbidden("The preview token is not valid or has expired; ask camera_status again").into()
            )
        }
    };
    let rx = camera.subscribe().map_err(capture::camera_error)?;
    // 85 % of the frame interval, so that frame timing jitter does not drop a 30 fps source to every third frame.
    let min_gap = std::time::Duration::from_secs(1) * 85 / 100 / crate::camera::PREVIEW_MAX_FPS;
    let stream = futures_util::stream::unfold((rx, None), move |(mut rx, last_sent)| async move {
        loop {
            rx.changed().await.ok()?;
            let shot = rx.borrow_and_update().clone();
            let Some(shot) = shot else { continue };
            // Frames arriving faster than the cap are skipped before they cost an encoding.
            if last_sent.is_some_and(|t: std::time::Instant| t.elapsed() < min_gap) {
                continue;
            }
            // Timed from the frame's arrival, not the end of its encoding, so the encoding does not eat the interval.
            let taken = std::time::Instant::now();
            let Ok(Some(jpeg)) = tokio::task::spawn_blocking(move || shot.preview_jpeg()).await else { continue };
            let mut part = Vec::with_capacity(jpeg.len() + 100);
            part.extend_from_slice(
                format!("--vouchframe\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n", jpeg.len())
                    .as_bytes(),
            );
            part.extend_from_slice(&jpeg);
            part.extend_from_slice(b"\r\n");
            return Some((Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(part)), (rx, Some(taken))));
        }
    });
    axum::response::Response::builder()
        .header(axum::http::header::CONTENT_TYPE, "multipart/x-mixed-replace; boundary=vouchframe")
        .header(axum::http::header::CACHE_CONTROL, "no-store")
        .body(axum::body::Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e).into())
}

/// The kiosk UI's bridge over HTTP (inside the Tauri app the same commands go over IPC). Every call needs
/// the bridge session cookie from `/vouch/v1/kiosk/pair`. Arguments are a JSON object; staff commands need
/// `Authorization: Bearer <session>` from `sign_in`. The commands and who may call them are in docs/kiosk.md.
#[utoipa::path(post, path = "/vouch/v1/kiosk/{command}", tag = "Kiosk",
    params(("command" = String, Path, description = "e.g. kiosk_status, case_open, sign_in, queue, case_decide")),
    request_body(content = Object, description = "the command's arguments"),
    responses((status = 200, body = Object), (status = 401, body = NativeError), (status = 403, body = NativeError),
              (status = 404, body = NativeError), (status = 409, body = NativeError), (status = 422, body = NativeError),
              (status = 429, body = NativeError)))]
async fn kiosk_command(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(command): Path<String>,
    JsonBody(args, ..): JsonBody<Value, Native>,
) -> Result<Json<Value>, Failure<Native>> {
    if !bridge::cookie_token(&headers).is_some_and(|t| state.bridge.is_paired(&t)) {
        return Err(ApiError::new(
            Code::Unauthorized,
            "Pair this screen with the kiosk first: enter the pairing code that vouch serve printed on its console",
        )
        .with_vendor_code("bridge_unpaired")
        .into());
    }
    let token = bearer_token(&headers).map(str::to_owned);
    Ok(Json(call(&state, Transport::Http, token.as_deref(), &command, args).await?))
}
