// Generated from the kiosk commands' Rust types (crates/vouch-app/src/kiosk/typescript.rs) by `make ts`.
// Do not edit: a test fails when this file and the Rust types differ.

export type Lang = "en" | "es" | "et";

export type AccessArgs = { case_id: string, index: number, 
/**
 * The whole MRZ, as scanned or typed.
 */
mrz?: string | null, document_number?: string | null, 
/**
 * YYMMDD.
 */
date_of_birth?: string | null, 
/**
 * YYMMDD.
 */
date_of_expiry?: string | null, 
/**
 * The 6-digit card access number.
 */
can?: string | null, };

export type Assertion = "EYE_GAZE_TOP_LEFT" | "EYE_GAZE_TOP_RIGHT" | "EYE_GAZE_BOTTOM_LEFT" | "EYE_GAZE_BOTTOM_RIGHT" | "SMILE" | "NEUTRAL" | "NONE" | "MAGNIFEYE";

export type Attempt = { attempt: number, at: string, http_status: number | null, error: string | null, duration_ms: number, success: boolean, };

export type AuditEvent = { chain: string, seq: number, at: string, actor: string, action: string, detail: JsonValue, };

export type CameraInfo = { 
/**
 * The device node, e.g. `/dev/video0`.
 */
device: string, 
/**
 * The name the driver reports, e.g. `Logitech BRIO`. Survives unplug and replug; the node may not.
 */
name: string, };

export type CameraScanDetail = { method: "camera", demo: boolean, source: SourceKind, document_type: string, mrz_format: MrzFormat, side: PageSide, turned: boolean, holder: MrzHolder, expired: boolean | null, agreeing_reads: number, corrections: number, min_confidence: number, quality: ScanQuality, failures: Array<string>, };

export type CameraStatusArgs = { 
/**
 * The camera that reads documents (the kiosk camera unless a document camera is configured).
 */
document?: boolean, };

export type CameraStatusView = { 
/**
 * The MJPEG preview, relative to the server (`server` in kiosk_status).
 */
preview_path: string | null, 
/**
 * The configured source, as `parse` reads it (`none`, `webcam:NAME`, `demo:PATH`, ...).
 */
configured: string, 
/**
 * False when no camera is configured or it failed to open; `error` says why.
 */
available: boolean, 
/**
 * False while a webcam is unplugged or not found yet: the capture thread keeps trying.
 */
connected: boolean, source?: SourceInfo, 
/**
 * True for the demo file camera and the synthetic source: the UI shows a DEMO banner.
 */
demo: boolean, error?: string, };

export type Cancelled = { cancelled: boolean, };

export type Captured = { captured: boolean, outcome?: StepOutcome, hints?: Array<Hint>, session?: CaseSession, };

export type CardReaders = { ok: boolean, readers: Array<ReaderInfo>, error?: string, };

export type Case = { id: CaseId, client_id: string, 
/**
 * The API that created the case (`eeid`, ...); it decides how the case is presented and notified.
 */
api: string, reference: string | null, status: CaseStatus, claims: Array<Claim>, reason: string | null, reason_translations: { [key in string]?: string }, created_at: string, updated_at: string, expires_at: string, 
/**
 * The flow version this case runs, pinned at creation; `None` for cases decided without a flow.
 */
flow: FlowRef | null, decision: Decision | null, 
/**
 * At a central service, the branch whose paired kiosks may run the case (the `Vouch-Branch` header of the
 * call that made it); `None`: any kiosk.
 */
branch: string | null, 
/**
 * At a central service, the one paired kiosk that may run the case (the `Vouch-Kiosk` header of the call that
 * made it); `None`: the kiosks `branch` says.
 */
for_kiosk?: string, };

export type CaseArgs = { case_id: string, };

export type CaseDetail = { session: CaseSession, case: Case, evidence: Array<Evidence>, audit: Array<AuditEvent>, };

export type CaseId = string;

export type CaseSession = { case_id: CaseId, code: string, status: CaseStatus, 
/**
 * The integrator's purpose text, per language where given (shown so people know why they are asked).
 */
purpose: string | null, purpose_translations: { [key in string]?: string }, steps: Array<Step>, done: Array<StepRecord>, next: Next, };

export type CaseStatus = "pending" | "in_progress" | "completed" | "failed" | "expired" | "cancelled";

export type CentralLinkView = { url: string, kiosk_id: string, name: string, branch?: string | null, 
/**
 * The central's pinned certificate fingerprint, if the admin gave one.
 */
fingerprint?: string | null, paired_at: string, last_sync_at?: string | null, 
/**
 * Why the last sync stopped; None when it finished.
 */
last_error?: string | null, };

export type CentralPairArgs = { 
/**
 * The central's address: `https://central.example` (http only on this machine).
 */
url: string, 
/**
 * The SHA-256 fingerprint `vouch serve` printed for its generated certificate, to pin it; none: a certificate
 * the system's CAs vouch for.
 */
fingerprint?: string | null, 
/**
 * The one-time code the central's admin made for this kiosk.
 */
code: string, };

export type CentralView = { 
/**
 * None until this kiosk is paired.
 */
link?: CentralLinkView | null, 
/**
 * Steps and decisions recorded here that the central has not acknowledged yet.
 */
waiting: number, 
/**
 * Cases pulled from the central.
 */
pulled: number, 
/**
 * Cases the central refused this kiosk's work on, for a clerk or admin to look into.
 */
refused: Array<RefusedCaseView>, 
/**
 * What a sync asked for just now did, if one was asked for.
 */
round?: Round | null, 
/**
 * The name of the flow walk-ins run, when the central takes walk-ins from this kiosk.
 */
walk_in_flow?: string | null, };

export type ChainBreak = { chain: string, seq: number, problem: string, };

export type ChipAuthentication = "AUTHENTICATED" | "DENIED" | "NOT_SUPPORTED" | "NOT_PERFORMED";

export type ChipAuthenticationType = "ACTIVE_AUTHENTICATION" | "CHIP_AUTHENTICATION";

export type ChipHolder = { full_name?: string, personal_number?: string, issuing_authority?: string, date_of_issue?: string, mrz_check_digits_valid: boolean, document_code: string, issuing_state: string, document_number: string, surname: string, given_names: string, nationality: string, 
/**
 * `F` or `M`; empty where the MRZ leaves it unspecified (`<`).
 */
sex: string, 
/**
 * YYYY-MM-DD.
 */
date_of_birth: string | null, date_of_expiry: string | null, };

export type ChipReadView = { session?: CaseSession, state: RunState, demo: boolean, reader: string | null, 
/**
 * The file being read and how far.
 */
file: string | null, read: number, total: number, files_done: Array<string>, 
/**
 * Why the read started over: card_removed (lifted too soon) or read_error.
 */
retry: "card_removed" | "read_error" | null, 
/**
 * While waiting: no_reader when no reader is connected.
 */
hint: "no_reader" | null, error: RunError | null, 
/**
 * passed or failed, once recorded.
 */
outcome: StepOutcome | null, };

export type ChipStatus = { 
/**
 * pcsc, demo or none.
 */
source: "pcsc" | "demo" | "none", demo: boolean, readers: Array<ReaderInfo>, 
/**
 * Why no reader can be listed (pcscd not running, ...).
 */
problem?: string, 
/**
 * The DEMO passport's access data, shown on the DEMO screen so a clerk can type it.
 */
demo_passport?: DemoPassport, };

export type ChipStepDetail = { demo: boolean, reader: string, access_control: JsonValue, inspection: Inspection, holder: ChipHolder, expired: boolean | null, portrait: boolean, 
/**
 * The files read and their sizes.
 */
files: { [key in string]?: number }, read: ReadSummary, failures: Array<string>, };

export type ChipUnreadableDetail = { demo: boolean, reader: string, failures: Array<string>, message: string, };

export type Claim = { type: ClaimType, value: string, };

export type ClaimType = "sub" | "name" | "birthdate" | "country";

export type Clerk = { id: number, name: string, created_at: string, };

export type ClerkArgs = { name: string, pin: string, };

export type ClerkIdArgs = { clerk_id: number, };

export type ClerkName = { id: number, name: string, };

export type Client = { id: string, name: string, scope: Scope, 
/**
 * Token lifetime for this client; `None` uses each token endpoint's vendor default.
 */
token_ttl_secs: number | null, webhook_url: string | null, created_at: string, revoked_at: string | null, };

export type ClientArgs = { client_id: string, };

export type ClientCreated = { client: Client, secret: string, };

export type CreateClientArgs = { name: string, admin?: boolean, webhook_url?: string | null, token_ttl_secs?: number | null, };

export type DataAuthentication = "AUTHENTICATED" | "DENIED" | "INVALID_SOD_FILE" | "INVALID_COM_FILE" | "AUTHORITY_CERTIFICATES_NOT_PROVIDED";

export type DecideArgs = { case_id: string, outcome: Outcome, 
/**
 * Mandatory: why the clerk approves or rejects. Goes into the audit log.
 */
reason: string, 
/**
 * The person as the clerk verified them; required to approve.
 */
identity?: IdentityArgs | null, };

export type Decision = { outcome: Outcome, 
/**
 * `admin:<client id>`, `clerk:<name>` or `kiosk`.
 */
actor: string, reason: string, decided_at: string, identity: VerifiedIdentity | null, };

export type Delivery = { id: number, case_id: string, client_id: string, url: string, status: DeliveryStatus, attempts: number, max_attempts: number, next_attempt_at: string, last_error: string | null, created_at: string, delivered_at: string | null, 
/**
 * A message to a person through the operator's relay, not an event to an integrator.
 */
message: boolean, };

export type DeliveryArgs = { delivery_id: number, };

export type DeliveryStatus = "pending" | "delivered" | "failed";

export type DeliveryView = { delivery: Delivery, attempts: Array<Attempt>, };

export type DemoPassport = { can: string, document_number: string | null, date_of_birth: string | null, date_of_expiry: string | null, };

export type Devices = { cameras: Array<CameraInfo>, card_readers: CardReaders, startup_camera: string, };

export type DisLivenessType = "PASSIVE_LIVENESS" | "EYE_GAZE_LIVENESS" | "SMILE_LIVENESS" | "MAGNIFEYE_LIVENESS";

export type DocumentArgs = { case_id: string, index: number, position: number, };

export type DocumentEntry = { position: number, name: string, size: number, pages: number, };

export type Done = Record<string, never>;

export type Evidence = { id: string, case_id: CaseId, kind: EvidenceKind, 
/**
 * SHA-256 of the plaintext, hex. Also the blob's name in the store.
 */
sha256: string, media_type: string, size: number, created_at: string, 
/**
 * Set once retention deleted the blob; the row and its hash stay for the audit trail.
 */
purged_at: string | null, };

export type EvidenceArgs = { case_id: string, sha256: string, };

export type EvidenceImage = { src: string, };

export type EvidenceKind = "selfie" | "liveness_frames" | "document_page" | "chip_data" | "signature_data" | "signature_image" | "signed_document" | "decision" | "proof_of_identity" | "step_outcome" | "reference_photo" | "document_reading";

export type Exit = { exit: boolean, };

export type FaceReference = "uploaded" | "document" | "enrolled";

export type FlowIdArgs = { flow_id: string, };

export type FlowList = { flows: Array<FlowVersion>, default: string | null, step_kinds: Array<StepKindInfo>, };

export type FlowRef = { id: string, version: number, };

export type FlowSaveArgs = { flow_id: string, name: string, steps: Array<Step>, 
/**
 * True to create; false to save the next version of an existing flow.
 */
create?: boolean, };

export type FlowVersion = { id: string, version: number, name: string, steps: Array<Step>, created_at: string, created_by: string, };

export type Guide = { seq: number, demo: boolean, 
/**
 * The face box as fractions of the frame (x0, y0, x1, y1).
 */
face: [number, number, number, number] | null, hints: Array<Hint>, ready: boolean, };

export type Hint = "no_face" | "one_person" | "move_closer" | "move_back" | "center" | "more_light" | "less_light" | "hold_still";

export type IdentityArgs = { sub?: string | null, given_name: string, family_name: string, date_of_birth?: string | null, country?: string | null, 
/**
 * What the clerk checked: PASSPORT, ID_CARD, RESIDENCE_PERMIT, ...
 */
document_type: string, document_expires?: string | null, };

export type Inspection = { data_authentication: DataAuthentication, chip_authentication: ChipAuthentication, chip_authentication_type?: ChipAuthenticationType, 
/**
 * `BAC` or `PACE`, as the reader declared it.
 */
access_control_protocol_type?: string, 
/**
 * Why a check did not pass, in words.
 */
problems: Array<string>, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;

export type KioskSettings = { 
/**
 * Days evidence of a closed case is kept before the purge job deletes it.
 */
retention_days: number, 
/**
 * The language the welcome screen starts in.
 */
default_language: Lang, 
/**
 * Seconds without a touch before the customer screens return to the start and forget what was shown.
 */
idle_timeout_secs: number, 
/**
 * The kiosk camera an admin chose: empty to use the one configured at startup (vouch.toml, `--camera`),
 * `none`, `webcam` for the first webcam, or `webcam:NAME`. Demo sources are startup-only, so a demo cannot
 * be switched on at a terminal by accident.
 */
camera: string, };

export type KioskStatus = { 
/**
 * No admin PIN yet: the kiosk asks for one before anything else.
 */
first_run: boolean, 
/**
 * First run over HTTP: the setup screen also asks for the setup code `vouch serve` printed.
 */
setup_code_required: boolean, languages: Array<Lang>, default_language: Lang, idle_timeout_secs: number, version: string, clerks: Array<ClerkName>, 
/**
 * Where this UI's API lives; the kiosk app reports "embedded" or the remote server's URL.
 */
server: string, };

export type LivenessFrame = { done: boolean, next?: Assertion, captured?: boolean, passed?: boolean, attempts_left?: number, session?: CaseSession, };

export type LivenessPlan = { liveness_type: DisLivenessType, 
/**
 * What to show, in order; the UI prompts each and calls `liveness_frame` when the customer is there.
 */
plan: Array<Assertion>, attempts_left: number, };

export type LivenessType = "passive" | "eye_gaze" | "smile" | "magnifeye";

export type ManualScanDetail = { method: "manual", entered_by: string, 
/**
 * What was typed: `mrz`, `mrz_fields` or `can`.
 */
typed: string, document_type: string | null, holder: MrzHolder | null, expired: boolean | null, failures: Array<string>, };

export type MrzFormat = "TD1" | "TD2" | "TD3" | "MRV-A" | "MRV-B" | "FRA-ID";

export type MrzHolder = { document_code: string, issuing_state: string, document_number: string, surname: string, given_names: string, nationality: string, 
/**
 * `F` or `M`; empty where the MRZ leaves it unspecified (`<`).
 */
sex: string, 
/**
 * YYYY-MM-DD.
 */
date_of_birth: string | null, date_of_expiry: string | null, };

export type NewSecret = { secret: string, };

export type Next = { "state": "step", index: number, step: Step, } | { "state": "awaiting_decision", all_passed: boolean, };

export type NoArgs = Record<string, never>;

export type OpenArgs = { 
/**
 * A case code (`ABCD-EFGH`), an eeID `link`, or a case id: whatever was typed or scanned.
 */
code: string, };

export type Outcome = "approved" | "rejected";

export type Pad = { 
/**
 * CSS pixels.
 */
width: number, height: number, 
/**
 * CSS pixels per millimetre of the physical surface (3.78 at the nominal 96 dpi).
 */
px_per_mm: number, pointer: PointerKind, };

export type PageSide = "front" | "back";

export type PenSample = { 
/**
 * CSS pixels from the pad's top-left corner.
 */
x: number, y: number, 
/**
 * Milliseconds since the first sample.
 */
t: number, 
/**
 * 0..1. A mouse reports 0.5 while its button is down and 0 otherwise.
 */
pressure: number, 
/**
 * Whether the tip touched the pad (the ISO S channel).
 */
down: boolean, 
/**
 * Degrees, −90..90, where the pen reports them.
 */
tilt_x?: number, tilt_y?: number, };

export type PinArgs = { pin: string, };

export type PointerKind = "pen" | "touch" | "mouse";

export type PurgeReport = { 
/**
 * Closed cases purged in this run.
 */
cases: number, 
/**
 * Their evidence items.
 */
evidence: number, 
/**
 * Signers whose name, e-mail and NIF were erased.
 */
signers: number, 
/**
 * Sign processes whose documents were deleted, and how many documents.
 */
sign_processes: number, sign_documents: number, 
/**
 * DIS customers and stand-alone DIS faces deleted.
 */
dis_customers: number, dis_faces: number, 
/**
 * DIS Trust Platform records whose bytes were deleted.
 */
trust_records: number, 
/**
 * Encrypted files removed from disk.
 */
blobs_deleted: number, };

export type QualityIssue = "BRIGHTNESS_HIGH" | "BRIGHTNESS_LOW" | "HOTSPOTS_SCORE_HIGH" | "SHARPNESS_LOW" | "DOCUMENT_SMALL" | "DOCUMENT_OUT_OF_IMAGE";

export type QualityWarning = "DOCUMENT_CLOSE_TO_IMAGE_BORDER";

export type QueueArgs = { 
/**
 * Statuses to show; empty or absent means open cases (pending, in progress).
 */
statuses?: Array<string>, 
/**
 * Part of a case code or of the integrator's reference.
 */
search?: string | null, limit?: number | null, };

export type QueueRow = { case_id: CaseId, code: string, status: CaseStatus, api: string, reference: string | null, purpose: string | null, steps_done: number, created_at: string, updated_at: string, expires_at: string, };

export type ReadSummary = { apdus: number, bytes: number, ms: number, extended_length: boolean, };

export type ReaderInfo = { name: string, 
/**
 * Whether a card is in the reader right now.
 */
card_present: boolean, };

export type RefusedCaseView = { case_id: string, reason: string, };

export type Role = "clerk" | "admin";

export type Round = { 
/**
 * Items the central applied.
 */
pushed: number, 
/**
 * Cases the central refused this kiosk's work on (another kiosk holds them, or they were closed there).
 */
refused: number, 
/**
 * New cases kept here.
 */
pulled: number, 
/**
 * Pulled cases the central no longer offers (another kiosk took them, or they closed there), withdrawn here.
 */
withdrawn: number, };

export type RunError = { 
/**
 * access_denied, no_pcsc, no_card, read_failed, cancelled, internal.
 */
code: "access_denied" | "no_pcsc" | "no_card" | "read_failed" | "cancelled" | "internal", message: string, };

export type RunState = "waiting_for_card" | "reading" | "checking" | "done" | "failed";

export type ScanHint = "show_document" | "turn_over" | "hold_still" | "tilt_for_glare" | "more_light" | "less_light" | "move_closer" | "fit_in_frame" | "reading";

export type ScanQuality = { fine: boolean, issues: Array<QualityIssue>, warnings: Array<QualityWarning>, brightness: number, sharpness: number, hotspots: number, px_per_mm: number, };

export type ScanView = { seq: number, demo: boolean, 
/**
 * The page's corners as fractions of the frame (x, y), clockwise; none when no page is in view.
 */
outline: [[number, number], [number, number], [number, number], [number, number]] | null, hints: Array<ScanHint>, 
/**
 * Frames in a row that read the same valid MRZ, of `needed`.
 */
agreeing: number, needed: number, captured: boolean, outcome?: StepOutcome, session?: CaseSession, };

export type Scope = "integrator" | "admin" | "kiosk";

export type Session = { role: Role, name: string, };

export type SetupArgs = { pin: string, 
/**
 * Over HTTP: the one-time setup code `vouch serve` printed on its console. Not needed over IPC.
 */
setup_code?: string | null, };

export type SignInArgs = { role: Role, 
/**
 * Which clerk (from `kiosk_status`); absent for the admin.
 */
clerk_id?: number | null, pin: string, };

export type SignMethod = "biometric" | "simple";

export type SignatureDocument = { position: number, name: string, pdf: string, };

export type SignatureDocuments = { documents: Array<DocumentEntry>, method: SignMethod, signed: boolean, };

export type SignatureSubmitArgs = { case_id: string, index: number, pad: Pad, samples: Array<PenSample>, 
/**
 * The customer ticked "I have read the documents and sign them"; without it nothing is signed.
 */
agreed: boolean, };

export type SignatureSubmitted = { signed: SigningOutcome, session: CaseSession, };

export type SignedIn = { session: string, role: Role, name: string, };

export type SigningKeysArgs = { 
/**
 * The PKCS#12 file, base64.
 */
pkcs12?: string | null, password?: string, 
/**
 * The escrow holder's certificate, PEM.
 */
escrow_certificate?: string | null, };

export type SigningOutcome = { documents: number, pointer: string, ink: JsonValue, 
/**
 * The drawing was taken here for a case of the central, which adds it to the documents with its keys.
 */
for_central: boolean, };

export type SigningSummary = { subject: string, self_signed: boolean, fingerprint_sha256: string, not_after: string, source: string, escrow_subject: string, escrow_source: string, };

export type SourceInfo = { name: string, kind: SourceKind, width: number, height: number, fps: number, };

export type SourceKind = "webcam" | "demo_file" | "synthetic";

export type Step = { "kind": "consent", text: { [key in string]?: string }, } | { "kind": "document_chip", } | { "kind": "document_scan", } | { "kind": "selfie", } | { "kind": "liveness", liveness_type: LivenessType, } | { "kind": "face_match", threshold: number, reference: FaceReference, } | { "kind": "signature", } | { "kind": "duplicate_check", threshold: number, collection?: string, } | { "kind": "clerk_review", } | { "kind": "result", };

export type StepArgs = { case_id: string, index: number, };

export type StepKind = "consent" | "document_chip" | "document_scan" | "selfie" | "liveness" | "face_match" | "duplicate_check" | "signature" | "clerk_review" | "result";

export type StepKindInfo = { kind: string, 
/**
 * Why the step cannot be added yet, if it cannot.
 */
missing: string | null, };

export type StepOutcome = "passed" | "failed";

export type StepRecord = { index: number, kind: StepKind, outcome: StepOutcome, 
/**
 * What the step observed (e.g. the consent language and text version); never raw biometrics.
 */
detail: JsonValue, at: string, };

export type StepSubmitArgs = { case_id: string, index: number, kind: StepKind, outcome: StepOutcome, detail?: JsonValue, };

export type VerifiedIdentity = { sub: string | null, given_name: string, family_name: string, date_of_birth: [number, number] | null, country: string | null, 
/**
 * Validity end of the document or certificate used.
 */
document_expires: [number, number] | null, 
/**
 * How the identity was established, e.g. PASSPORT, ID_CARD, CLERK_REVIEW.
 */
authentication_type: string, 
/**
 * eIDAS level of assurance: low, substantial or high.
 */
acr: string, };

export type VerifyReport = { chains: number, events: number, breaks: Array<ChainBreak>, };

export type WalkInsView = { 
/**
 * The name of the flow a walk-in runs; None when this kiosk takes no walk-ins (not paired with a central, or
 * the central's admin has not set them up for it).
 */
flow_name?: string | null, };

export type WebhookArgs = { client_id: string, url?: string | null, };

/** Every kiosk command: who may send it, its arguments and its answer. */
export interface KioskCommands {
  kiosk_status: { access: "anyone"; args: NoArgs; result: KioskStatus; };
  case_open: { access: "anyone"; args: OpenArgs; result: CaseSession; };
  step_submit: { access: "anyone"; args: StepSubmitArgs; result: CaseSession; };
  camera_status: { access: "anyone"; args: CameraStatusArgs; result: CameraStatusView; };
  camera_guide: { access: "anyone"; args: NoArgs; result: Guide; };
  selfie_capture: { access: "anyone"; args: StepArgs; result: Captured; };
  liveness_begin: { access: "anyone"; args: StepArgs; result: LivenessPlan; };
  liveness_frame: { access: "anyone"; args: StepArgs; result: LivenessFrame; };
  face_match_run: { access: "anyone"; args: StepArgs; result: Captured; };
  duplicate_check_run: { access: "anyone"; args: StepArgs; result: Captured; };
  document_scan_frame: { access: "anyone"; args: StepArgs; result: ScanView; };
  document_scan_manual: { access: "clerk"; args: AccessArgs; result: Captured; };
  signature_documents: { access: "anyone"; args: StepArgs; result: SignatureDocuments; };
  signature_document: { access: "anyone"; args: DocumentArgs; result: SignatureDocument; };
  signature_submit: { access: "anyone"; args: SignatureSubmitArgs; result: SignatureSubmitted; };
  chip_status: { access: "anyone"; args: NoArgs; result: ChipStatus; };
  chip_read_begin: { access: "anyone"; args: AccessArgs; result: ChipReadView; };
  chip_read_progress: { access: "anyone"; args: StepArgs; result: ChipReadView; };
  chip_read_cancel: { access: "anyone"; args: StepArgs; result: Cancelled; };
  admin_setup: { access: "anyone"; args: SetupArgs; result: SignedIn; };
  sign_in: { access: "anyone"; args: SignInArgs; result: SignedIn; };
  sign_out: { access: "anyone"; args: NoArgs; result: Done; };
  whoami: { access: "anyone"; args: NoArgs; result: Session | null; };
  queue: { access: "clerk"; args: QueueArgs; result: Array<QueueRow>; };
  case_detail: { access: "clerk"; args: CaseArgs; result: CaseDetail; };
  evidence_image: { access: "clerk"; args: EvidenceArgs; result: EvidenceImage; };
  walk_ins: { access: "clerk"; args: NoArgs; result: WalkInsView; };
  walk_in_open: { access: "clerk"; args: NoArgs; result: CaseSession; };
  case_decide: { access: "clerk"; args: DecideArgs; result: CaseDetail; };
  clients_list: { access: "admin"; args: NoArgs; result: Array<Client>; };
  client_create: { access: "admin"; args: CreateClientArgs; result: ClientCreated; };
  client_revoke: { access: "admin"; args: ClientArgs; result: Client; };
  client_set_webhook: { access: "admin"; args: WebhookArgs; result: Client; };
  client_rotate_secret: { access: "admin"; args: ClientArgs; result: NewSecret; };
  deliveries: { access: "admin"; args: NoArgs; result: Array<DeliveryView>; };
  delivery_retry: { access: "admin"; args: DeliveryArgs; result: DeliveryView; };
  flows_list: { access: "admin"; args: NoArgs; result: FlowList; };
  flow_save: { access: "admin"; args: FlowSaveArgs; result: FlowVersion; };
  flow_set_default: { access: "admin"; args: FlowIdArgs; result: FlowList; };
  devices: { access: "admin"; args: NoArgs; result: Devices; };
  settings_get: { access: "admin"; args: NoArgs; result: KioskSettings; };
  settings_save: { access: "admin"; args: KioskSettings; result: KioskSettings; };
  signing_keys: { access: "admin"; args: NoArgs; result: SigningSummary; };
  signing_keys_set: { access: "admin"; args: SigningKeysArgs; result: SigningSummary; };
  purge_now: { access: "admin"; args: NoArgs; result: PurgeReport; };
  clerks_list: { access: "admin"; args: NoArgs; result: Array<Clerk>; };
  clerk_add: { access: "admin"; args: ClerkArgs; result: Clerk; };
  clerk_remove: { access: "admin"; args: ClerkIdArgs; result: Array<Clerk>; };
  admin_pin_change: { access: "admin"; args: PinArgs; result: Done; };
  central_status: { access: "admin"; args: NoArgs; result: CentralView; };
  central_pair: { access: "admin"; args: CentralPairArgs; result: CentralView; };
  central_unpair: { access: "admin"; args: NoArgs; result: CentralView; };
  central_sync_now: { access: "admin"; args: NoArgs; result: CentralView; };
  audit_verify: { access: "admin"; args: NoArgs; result: VerifyReport; };
  exit_app: { access: "admin"; args: NoArgs; result: Exit; };
}
