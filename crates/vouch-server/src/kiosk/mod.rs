//! The kiosk bridge: every command the UI sends goes through [`call`]. Inside the Tauri app it arrives
//! over IPC; in a browser it arrives as `POST /vouch/v1/kiosk/{command}`. One function serves both, so
//! the same UI is tested in Chromium and in the real window.
//!
//! Commands need one of three levels: anyone at the terminal (the customer), a signed-in clerk (or the
//! admin), or the admin. Staff sign in with a PIN and send the session token they get back.

mod admin;
pub mod bridge;
pub mod capture;
pub mod chip;
pub mod customer;
pub mod document_scan;
mod face_match;
pub mod sessions;
pub mod signature;
pub mod staff;
pub mod typescript;

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
use vouch_app::signing::SigningSummary;
use vouch_store::audit::VerifyReport;
use vouch_store::pins::Clerk;
use vouch_store::retention::PurgeReport;
use vouch_store::settings::KioskSettings;

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

/// Runs by case and step index.
type RunsByStep<T> = std::collections::HashMap<(vouch_core::CaseId, u32), T>;

/// Work under way at the kiosk, per case and step (liveness runs, page scans, chip reads).
pub struct StepRuns<T> {
    runs: std::sync::Mutex<RunsByStep<T>>,
}

impl<T> Default for StepRuns<T> {
    fn default() -> Self {
        StepRuns { runs: std::sync::Mutex::default() }
    }
}

impl<T> StepRuns<T> {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, RunsByStep<T>>, ApiError> {
        self.runs.lock().map_err(|_| ApiError::internal("kiosk run lock poisoned"))
    }
}

/// Arguments of a command that takes none (`{}`).
#[derive(Debug, Default, serde::Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// The answer of a command that only says it is done (`{}`).
#[derive(Debug, Default, serde::Serialize, ts_rs::TS)]
pub struct Done {}

/// The kiosk's commands: each with who may send it, how heavy it is, its typed arguments and answer, and what
/// it runs. The dispatch, the access table and the UI's TypeScript types (`ui/src/generated/kiosk.ts`) all come
/// from this one list, so a command cannot be callable without its access level or typed in the UI by hand.
macro_rules! kiosk_commands {
    ($( $name:ident ($access:ident, $load:ident) |$state:ident, $caller:ident, $args:ident : $argty:ty| -> $res:ty $body:block )*) => {
        /// Every command, with who may send it and how heavy it is. Nothing else is callable.
        pub const COMMANDS: &[(&str, Access, Load)] = &[$((stringify!($name), Access::$access, Load::$load)),*];

        async fn dispatch(state: &AppState, caller: &Caller, command: &str, args: Value) -> Result<Value, ApiError> {
            match command {
                $(stringify!($name) => {
                    #[allow(unused_variables)]
                    let ($state, $caller, $args) = (state, caller, parse_args::<$argty>(args)?);
                    let answer: $res = $body;
                    to_value(answer)
                })*
                other => Err(ApiError::not_found(format!("No kiosk command is called {other:?}"))),
            }
        }

        /// Visits every command's argument and answer types, for the TypeScript the UI is typed with.
        pub fn visit_command_types(visitor: &mut impl ts_rs::TypeVisitor) {
            $( visitor.visit::<$argty>(); visitor.visit::<$res>(); )*
        }

        /// `(name, access, arguments type, answer type)` of every command, the types as TypeScript names.
        pub fn command_signatures() -> Vec<(&'static str, Access, String, String)> {
            use ts_rs::TS;
            vec![$((stringify!($name), Access::$access, <$argty>::name(), <$res>::name())),*]
        }
    };
}

/// Visits the types of what the chip and document steps record (a `StepRecord`'s `detail`), which the clerk's
/// review reads.
pub fn visit_step_detail_types(visitor: &mut impl ts_rs::TypeVisitor) {
    visitor.visit::<chip::ChipStepDetail>();
    visitor.visit::<chip::ChipUnreadableDetail>();
    visitor.visit::<document_scan::CameraScanDetail>();
    visitor.visit::<document_scan::ManualScanDetail>();
}

kiosk_commands! {
    kiosk_status(Anyone, Light) |state, caller, _a: NoArgs| -> customer::KioskStatus { customer::status(state, caller).await? }
    case_open(Anyone, Light) |state, caller, args: customer::OpenArgs| -> customer::CaseSession { customer::open(state, args).await? }
    step_submit(Anyone, Light) |state, caller, args: customer::StepSubmitArgs| -> customer::CaseSession { customer::submit(state, caller, args).await? }
    camera_status(Anyone, Light) |state, caller, args: capture::CameraStatusArgs| -> capture::CameraStatusView { capture::camera_status(state, args).await? }
    camera_guide(Anyone, Light) |state, caller, _a: NoArgs| -> capture::Guide { capture::camera_guide(state).await? }
    selfie_capture(Anyone, Heavy) |state, caller, args: capture::StepArgs| -> capture::Captured { capture::selfie_capture(state, caller, args).await? }
    liveness_begin(Anyone, Light) |state, caller, args: capture::StepArgs| -> capture::LivenessPlan { capture::liveness_begin(state, args).await? }
    liveness_frame(Anyone, Heavy) |state, caller, args: capture::StepArgs| -> capture::LivenessFrame { capture::liveness_frame(state, caller, args).await? }
    face_match_run(Anyone, Heavy) |state, caller, args: capture::StepArgs| -> capture::Captured { face_match::face_match_run(state, caller, args).await? }
    document_scan_frame(Anyone, Heavy) |state, caller, args: capture::StepArgs| -> document_scan::ScanView { document_scan::document_scan_frame(state, caller, args).await? }
    document_scan_manual(Clerk, Heavy) |state, caller, args: chip::AccessArgs| -> capture::Captured { document_scan::document_scan_manual(state, caller, args).await? }
    signature_documents(Anyone, Light) |state, caller, args: capture::StepArgs| -> signature::SignatureDocuments { signature::signature_documents(state, args).await? }
    signature_document(Anyone, Light) |state, caller, args: signature::DocumentArgs| -> signature::SignatureDocument { signature::signature_document(state, caller, args).await? }
    signature_submit(Anyone, Heavy) |state, caller, args: signature::SignatureSubmitArgs| -> signature::SignatureSubmitted { signature::signature_submit(state, caller, args).await? }
    chip_status(Anyone, Light) |state, caller, _a: NoArgs| -> chip::ChipStatus { chip::chip_status(state).await? }
    chip_read_begin(Anyone, Light) |state, caller, args: chip::AccessArgs| -> chip::ChipReadView { chip::chip_read_begin(state, caller, args).await? }
    chip_read_progress(Anyone, Light) |state, caller, args: capture::StepArgs| -> chip::ChipReadView { chip::chip_read_progress(state, args).await? }
    chip_read_cancel(Anyone, Light) |state, caller, args: capture::StepArgs| -> chip::Cancelled { chip::chip_read_cancel(state, args).await? }
    admin_setup(Anyone, Heavy) |state, caller, args: staff::SetupArgs| -> staff::SignedIn { staff::admin_setup(state, caller, args).await? }
    sign_in(Anyone, Heavy) |state, caller, args: staff::SignInArgs| -> staff::SignedIn { staff::sign_in(state, args).await? }
    sign_out(Anyone, Light) |state, caller, _a: NoArgs| -> Done {
        if let Some(t) = &caller.token {
            state.kiosk.close(t);
        }
        Done {}
    }
    whoami(Anyone, Light) |state, caller, _a: NoArgs| -> Option<Session> { caller.session.clone() }
    queue(Clerk, Light) |state, caller, args: staff::QueueArgs| -> Vec<staff::QueueRow> { staff::queue(state, args).await? }
    case_detail(Clerk, Light) |state, caller, args: staff::CaseArgs| -> staff::CaseDetail { staff::case_detail(state, args).await? }
    evidence_image(Clerk, Light) |state, caller, args: staff::EvidenceArgs| -> staff::EvidenceImage { staff::evidence_image(state, caller, args).await? }
    case_decide(Clerk, Light) |state, caller, args: staff::DecideArgs| -> staff::CaseDetail { staff::decide(state, caller, args).await? }
    clients_list(Admin, Light) |state, caller, _a: NoArgs| -> Vec<vouch_core::Client> { state.db(|s| s.list_clients()).await? }
    client_create(Admin, Light) |state, caller, args: admin::CreateClientArgs| -> admin::ClientCreated { admin::client_create(state, args, caller.actor()).await? }
    client_revoke(Admin, Light) |state, caller, args: admin::ClientArgs| -> vouch_core::Client {
        let actor = caller.actor();
        state.db(move |s| s.revoke_client(&args.client_id, &actor)).await?
    }
    client_set_webhook(Admin, Light) |state, caller, args: admin::WebhookArgs| -> vouch_core::Client { admin::client_set_webhook(state, args, caller.actor()).await? }
    client_rotate_secret(Admin, Light) |state, caller, args: admin::ClientArgs| -> admin::NewSecret {
        let actor = caller.actor();
        admin::NewSecret { secret: state.db(move |s| s.rotate_client_secret(&args.client_id, &actor)).await? }
    }
    deliveries(Admin, Light) |state, caller, _a: NoArgs| -> Vec<crate::native::DeliveryView> { crate::native::delivery_views(state, None, 100).await? }
    delivery_retry(Admin, Light) |state, caller, args: admin::DeliveryArgs| -> crate::native::DeliveryView { crate::native::retry(state, args.delivery_id).await? }
    flows_list(Admin, Light) |state, caller, _a: NoArgs| -> admin::FlowList { admin::flows_list(state).await? }
    flow_save(Admin, Light) |state, caller, args: admin::FlowSaveArgs| -> vouch_core::flow::FlowVersion { admin::flow_save(state, args, caller.actor()).await? }
    flow_set_default(Admin, Light) |state, caller, args: admin::FlowIdArgs| -> admin::FlowList {
        let actor = caller.actor();
        state.db(move |s| s.set_default_flow(&args.flow_id, &actor)).await?;
        admin::flows_list(state).await?
    }
    devices(Admin, Light) |state, caller, _a: NoArgs| -> admin::Devices { admin::devices(state).await? }
    settings_get(Admin, Light) |state, caller, _a: NoArgs| -> KioskSettings { state.db(|s| s.kiosk_settings()).await? }
    settings_save(Admin, Light) |state, caller, args: KioskSettings| -> KioskSettings { admin::settings_save(state, args, caller.actor()).await? }
    signing_keys(Admin, Light) |state, caller, _a: NoArgs| -> SigningSummary { state.app.signing.keys().await?.summary() }
    signing_keys_set(Admin, Light) |state, caller, args: admin::SigningKeysArgs| -> SigningSummary { admin::signing_keys_set(state, args, &caller.actor()).await? }
    purge_now(Admin, Light) |state, caller, _a: NoArgs| -> PurgeReport { vouch_app::retention::purge(&state.app, &caller.actor(), true).await? }
    clerks_list(Admin, Light) |state, caller, _a: NoArgs| -> Vec<Clerk> { state.db(|s| s.list_clerks()).await? }
    clerk_add(Admin, Heavy) |state, caller, args: admin::ClerkArgs| -> Clerk {
        let actor = caller.actor();
        state.db(move |s| s.add_clerk(&args.name, &args.pin, &actor)).await?
    }
    clerk_remove(Admin, Light) |state, caller, args: admin::ClerkIdArgs| -> Vec<Clerk> {
        let actor = caller.actor();
        state.db(move |s| s.remove_clerk(args.clerk_id, &actor)).await?;
        state.db(|s| s.list_clerks()).await?
    }
    admin_pin_change(Admin, Heavy) |state, caller, args: admin::PinArgs| -> Done {
        let actor = caller.actor();
        state.db(move |s| s.change_admin_pin(&args.pin, &actor)).await?;
        Done {}
    }
    audit_verify(Admin, Light) |state, caller, _a: NoArgs| -> VerifyReport { state.db(|s| s.verify_audit(None)).await? }
    exit_app(Admin, Light) |state, caller, _a: NoArgs| -> admin::Exit { admin::Exit { exit: true } }
}

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

/// The kiosk address that opens one case (eeID's `link`, DANAconnect's and MasStack's links alike): the
/// customer scans or types it at the kiosk, or opens it in a browser.
pub fn link(public_url: &str, id: vouch_core::CaseId) -> String {
    format!("{public_url}/kiosk/requests/{id}")
}

/// Parses a command's arguments; a mismatch is a 422 that names the problem.
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
    dispatch(state, &caller, command, args).await
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
