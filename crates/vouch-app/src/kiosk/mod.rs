//! The kiosk's commands: every command the UI sends goes through [`call`]. Inside the Tauri app it arrives
//! over IPC; in a browser it arrives as `POST /vouch/v1/kiosk/{command}` (vouch-server's bridge). One function
//! serves both, so the same UI is tested in Chromium and in the real window.
//!
//! Commands need one of three levels: anyone at the terminal (the customer), a signed-in clerk (or the
//! admin), or the admin. Staff sign in with a PIN and send the session token they get back.

mod admin;
pub mod bridge;
pub mod capture;
pub mod central_settings;
pub mod chip;
pub mod customer;
pub mod document_scan;
mod face_match;
pub mod sessions;
pub mod signature;
pub mod staff;
pub mod typescript;
pub mod walk_ins;

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use vouch_capture::ModeRequest;
use vouch_store::audit::VerifyReport;
use vouch_store::pins::Clerk;
use vouch_store::retention::PurgeReport;
use vouch_store::settings::KioskSettings;
use vouch_store::{Store, StoreError};

use crate::camera::{CameraService, CameraSource};
use crate::chip::ChipService;
use crate::document_reader::DocumentService;
use crate::faces::FaceService;
use crate::signing::SigningSummary;
use crate::webhooks::DeliveryView;
use crate::{App, AppCode, AppError};
pub use capture::CaptureRuns;
pub use chip::{ChipReads, CHIP_DATA_MEDIA_TYPE};
pub use document_scan::{ScanRuns, AGREEING_READS};
pub use sessions::{KioskSessions, Role, Session};

/// What the kiosk's commands run on: the application, the kiosk's devices and engines, and who is signed in.
#[derive(Clone)]
pub struct Kiosk {
    pub app: App,
    /// Staff sign-ins.
    pub sessions: Arc<KioskSessions>,
    /// Pairing, setup and preview codes of the bridge over HTTP.
    pub bridge: Arc<bridge::Bridge>,
    /// The face engine, loaded on first use.
    pub faces: Arc<FaceService>,
    /// The gallery of enrolled persons, for cases opened for one and the duplicate check.
    pub recognition: Arc<crate::recognition::Recognition>,
    /// The page reader, loaded on first use.
    pub documents: Arc<DocumentService>,
    /// The kiosk camera, started on first use.
    pub camera: Arc<CameraService>,
    /// The camera the document_scan step reads pages from: the kiosk camera itself unless a document camera is
    /// configured.
    pub document_camera: Arc<CameraService>,
    /// The camera configured at startup, which an admin's choice in settings overrides, and the webcam mode.
    pub startup_camera: CameraSource,
    pub camera_mode: ModeRequest,
    /// The trust store and the kiosk's chip source.
    pub chip: Arc<ChipService>,
    /// Work under way, per case and step.
    pub scans: Arc<ScanRuns>,
    pub captures: Arc<CaptureRuns>,
    pub chip_reads: Arc<ChipReads>,
    /// Places for the heavy commands.
    pub places: Arc<Semaphore>,
    /// Reaches the central service this kiosk pairs and syncs with.
    pub central: Arc<dyn crate::central::CentralConnector>,
}

impl Kiosk {
    /// Runs blocking store work off the async workers ([`App::db`]).
    pub async fn db<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.app.db(f).await
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Anyone,
    Clerk,
    Admin,
}

/// Whether a command decodes frames, runs models, signs PDFs or checks a PIN with argon2: heavy commands
/// take one of the kiosk's places ([`crate::work`]).
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
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, RunsByStep<T>>, AppError> {
        self.runs.lock().map_err(|_| AppError::internal("kiosk run lock poisoned"))
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

        async fn dispatch(state: &Kiosk, caller: &Caller, command: &str, args: Value) -> Result<Value, AppError> {
            match command {
                $(stringify!($name) => {
                    #[allow(unused_variables)]
                    let ($state, $caller, $args) = (state, caller, parse_args::<$argty>(args)?);
                    let answer: $res = $body;
                    to_value(answer)
                })*
                other => Err(AppError::not_found(format!("No kiosk command is called {other:?}"))),
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
    duplicate_check_run(Anyone, Heavy) |state, caller, args: capture::StepArgs| -> capture::Captured { face_match::duplicate_check_run(state, caller, args).await? }
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
            state.sessions.close(t);
        }
        Done {}
    }
    whoami(Anyone, Light) |state, caller, _a: NoArgs| -> Option<Session> { caller.session.clone() }
    queue(Clerk, Light) |state, caller, args: staff::QueueArgs| -> Vec<staff::QueueRow> { staff::queue(state, args).await? }
    case_detail(Clerk, Light) |state, caller, args: staff::CaseArgs| -> staff::CaseDetail { staff::case_detail(state, args).await? }
    evidence_image(Clerk, Light) |state, caller, args: staff::EvidenceArgs| -> staff::EvidenceImage { staff::evidence_image(state, caller, args).await? }
    walk_ins(Clerk, Light) |state, caller, _a: NoArgs| -> walk_ins::WalkInsView { walk_ins::walk_ins(state).await? }
    walk_in_open(Clerk, Light) |state, caller, _a: NoArgs| -> customer::CaseSession { walk_ins::walk_in_open(state, caller.actor()).await? }
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
    deliveries(Admin, Light) |state, caller, _a: NoArgs| -> Vec<DeliveryView> { crate::webhooks::delivery_views(&state.app, None, 100).await? }
    delivery_retry(Admin, Light) |state, caller, args: admin::DeliveryArgs| -> DeliveryView { crate::webhooks::retry(&state.app, args.delivery_id).await? }
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
    purge_now(Admin, Light) |state, caller, _a: NoArgs| -> PurgeReport { crate::retention::purge(&state.app, &caller.actor(), true).await? }
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
    central_status(Admin, Light) |state, caller, _a: NoArgs| -> central_settings::CentralView { central_settings::central_status(state).await? }
    central_pair(Admin, Light) |state, caller, args: central_settings::CentralPairArgs| -> central_settings::CentralView { central_settings::central_pair(state, args, &caller.actor()).await? }
    central_unpair(Admin, Light) |state, caller, _a: NoArgs| -> central_settings::CentralView { central_settings::central_unpair(state, &caller.actor()).await? }
    central_sync_now(Admin, Light) |state, caller, _a: NoArgs| -> central_settings::CentralView { central_settings::central_sync_now(state).await? }
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
pub(crate) fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, AppError> {
    let args = if args.is_null() { Value::Object(Default::default()) } else { args };
    serde_json::from_value(args).map_err(|e| AppError::invalid(format!("invalid arguments: {e}")))
}

pub(crate) fn to_value<T: serde::Serialize>(v: T) -> Result<Value, AppError> {
    serde_json::to_value(v).map_err(AppError::internal)
}

fn authorize(state: &Kiosk, transport: Transport, token: Option<&str>, access: Access) -> Result<Caller, AppError> {
    let session = token.and_then(|t| state.sessions.touch(t));
    let caller = Caller { session, token: token.map(str::to_owned), transport };
    match (access, caller.role()) {
        (Access::Anyone, _) | (Access::Clerk, Some(Role::Clerk | Role::Admin)) | (Access::Admin, Some(Role::Admin)) => {
            Ok(caller)
        }
        (_, None) => Err(AppError::new(
            AppCode::Unauthorized,
            "Sign in with your PIN first (or again: sessions end after 10 idle minutes)",
        )),
        (_, Some(_)) => Err(AppError::forbidden("This needs the admin PIN")),
    }
}

/// Runs one kiosk command. `token` is the session a PIN sign-in returned, if any. Over HTTP the caller has
/// already shown a paired bridge session (vouch-server checks it).
pub async fn call(
    state: &Kiosk,
    transport: Transport,
    token: Option<&str>,
    command: &str,
    args: Value,
) -> Result<Value, AppError> {
    let (access, load) = COMMANDS
        .iter()
        .find(|(name, ..)| *name == command)
        .map(|(_, access, load)| (*access, *load))
        .ok_or_else(|| AppError::not_found(format!("No kiosk command is called {command:?}")))?;
    let caller = authorize(state, transport, token, access)?;
    let _place = match load {
        Load::Heavy => Some(crate::work::place(&state.places, "kiosk").await?),
        Load::Light => None,
    };
    dispatch(state, &caller, command, args).await
}
