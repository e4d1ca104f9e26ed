//! Staff commands: the first-run admin PIN, PIN sign-in, and the clerk's queue, case review and decision.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use vouch_core::{CaseId, CaseStatus, Outcome, VerifiedIdentity};
use vouch_store::case_codes::{format_code, QueueFilter};
use vouch_store::pins::PinHolder;

use super::customer::CaseSession;
use super::Kiosk;
use super::{Caller, Role};
use crate::cases::DecisionInput;
use crate::cases::{optional_date as date, parse_case_id, NO_SUCH_CASE};
use crate::{AppCode, AppError};

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct SetupArgs {
    pub pin: String,
    /// Over HTTP: the one-time setup code `vouch serve` printed on its console. Not needed over IPC.
    pub setup_code: Option<String>,
}

/// First run: sets the admin PIN and signs the admin in. Refused once a PIN exists, and over HTTP without
/// the setup code, so that whoever reaches the bridge first does not choose the admin PIN.
pub async fn admin_setup(state: &Kiosk, caller: &Caller, args: SetupArgs) -> Result<SignedIn, AppError> {
    if caller.transport == super::Transport::Http && !state.bridge.setup_code_ok(args.setup_code.as_deref()) {
        let already = state.db(|s| s.admin_pin_is_set()).await?;
        if already {
            return Err(AppError::new(AppCode::Conflict, "The admin PIN is already set"));
        }
        tracing::warn!("first-run setup over HTTP without the right setup code");
        return Err(AppError::new(
            AppCode::SetupCodeWrong,
            "Enter the setup code that vouch serve printed on its console",
        ));
    }
    state.db(move |s| s.set_first_admin_pin(&args.pin, "kiosk:first-run")).await?;
    state.bridge.setup_done();
    tracing::info!("admin PIN set on first run");
    let token = state.sessions.open(Role::Admin, "Admin".into(), "admin:kiosk".into());
    Ok(SignedIn { session: token, role: Role::Admin, name: "Admin".into() })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct SignInArgs {
    pub role: Role,
    /// Which clerk (from `kiosk_status`); absent for the admin.
    pub clerk_id: Option<i64>,
    pub pin: String,
}

/// A staff sign-in: the session token to send with staff commands, and who signed in.
#[derive(Serialize, TS)]
pub struct SignedIn {
    pub session: String,
    pub role: Role,
    pub name: String,
}

pub async fn sign_in(state: &Kiosk, args: SignInArgs) -> Result<SignedIn, AppError> {
    if args.pin.len() > 64 {
        return Err(AppError::invalid("A PIN is at most 12 digits"));
    }
    let clerk_id = match args.role {
        Role::Admin => None,
        Role::Clerk => Some(args.clerk_id.ok_or_else(|| AppError::invalid("Choose your name first"))?),
    };
    let holder = state.db(move |s| s.check_pin(clerk_id, &args.pin)).await?;
    let (role, name, actor) = match holder {
        Some(PinHolder::Admin) => (Role::Admin, "Admin".to_string(), "admin:kiosk".to_string()),
        Some(PinHolder::Clerk { id, name }) => (Role::Clerk, name.clone(), format!("clerk:{id}:{name}")),
        None => {
            tracing::warn!(role = ?args.role, "wrong kiosk PIN");
            return Err(AppError::new(AppCode::Unauthorized, "That PIN is not right. Try again."));
        }
    };
    tracing::info!(?role, "signed in at the kiosk");
    let token = state.sessions.open(role, name.clone(), actor);
    Ok(SignedIn { session: token, role, name })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct QueueArgs {
    /// Statuses to show; empty or absent means open cases (pending, in progress).
    #[serde(default)]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub statuses: Vec<String>,
    /// Part of a case code or of the integrator's reference.
    pub search: Option<String>,
    pub limit: Option<u32>,
}

/// One case in the clerk's queue.
#[derive(Serialize, TS)]
pub struct QueueRow {
    pub case_id: CaseId,
    pub code: String,
    pub status: CaseStatus,
    pub api: String,
    pub reference: Option<String>,
    pub purpose: Option<String>,
    pub steps_done: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub updated_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub expires_at: time::OffsetDateTime,
}

pub async fn queue(state: &Kiosk, args: QueueArgs) -> Result<Vec<QueueRow>, AppError> {
    let statuses = args
        .statuses
        .iter()
        .map(|s| CaseStatus::parse(s).ok_or_else(|| AppError::invalid(format!("{s:?} is not a case status"))))
        .collect::<Result<Vec<_>, _>>()?;
    crate::cases::expire_due(&state.app).await?;
    let filter = QueueFilter { statuses, search: args.search, limit: args.limit.unwrap_or(100) };
    let items = state.db(move |s| s.case_queue(&filter)).await?;
    let rows: Vec<QueueRow> = items
        .into_iter()
        .map(|i| QueueRow {
            case_id: i.case.id,
            code: format_code(&i.code),
            status: i.case.status,
            api: i.case.api,
            reference: i.case.reference,
            purpose: i.case.reason,
            steps_done: i.steps_done,
            created_at: i.case.created_at,
            updated_at: i.case.updated_at,
            expires_at: i.case.expires_at,
        })
        .collect();
    Ok(rows)
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct CaseArgs {
    pub case_id: String,
}

/// Everything a clerk reviews: the case with its claims, the flow position, evidence and audit trail.
/// A case as the clerk reviews it: where it is in its flow, the case itself, its evidence and its audit trail.
#[derive(Serialize, TS)]
pub struct CaseDetail {
    pub session: CaseSession,
    pub case: vouch_core::Case,
    pub evidence: Vec<vouch_core::Evidence>,
    pub audit: Vec<vouch_store::audit::AuditEvent>,
}

pub async fn case_detail(state: &Kiosk, args: CaseArgs) -> Result<CaseDetail, AppError> {
    let case_id = parse_case_id(&args.case_id)?;
    crate::cases::expire_due(&state.app).await?;
    let session = crate::steps::case_session(&state.app, case_id).await.map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    let (case, evidence, audit) = state
        .db(move |s| Ok((s.get_case(case_id)?, s.case_evidence(case_id)?, s.audit_events(&case_id.to_string())?)))
        .await?;
    Ok(CaseDetail { session, case, evidence, audit })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct EvidenceArgs {
    pub case_id: String,
    pub sha256: String,
}

/// Evidence kinds a clerk may look at on screen: the photos and the scanned page, so the selfie can be compared
/// with the document by eye. Each viewing is an audit event.
const VIEWABLE: [vouch_core::EvidenceKind; 4] = [
    vouch_core::EvidenceKind::Selfie,
    vouch_core::EvidenceKind::ReferencePhoto,
    vouch_core::EvidenceKind::ChipData,
    vouch_core::EvidenceKind::DocumentPage,
];

/// One photo of a case, as a data URL for an `<img>`.
/// A photo of the case's evidence as a `data:` URL for an `<img>`.
#[derive(Serialize, TS)]
pub struct EvidenceImage {
    pub src: String,
}

pub async fn evidence_image(
    state: &Kiosk,
    caller: &super::Caller,
    args: EvidenceArgs,
) -> Result<EvidenceImage, AppError> {
    let case_id = parse_case_id(&args.case_id)?;
    let actor = caller.actor();
    let (media_type, bytes) = state
        .db(move |s| {
            let item = s
                .case_evidence(case_id)?
                .into_iter()
                .find(|e| e.sha256 == args.sha256 && VIEWABLE.contains(&e.kind) && e.purged_at.is_none())
                .ok_or_else(|| vouch_store::StoreError::NotFound)?;
            let bytes = s.blobs().get(&item.sha256)?;
            s.audit_evidence_viewed(case_id, &item, &actor)?;
            Ok((item.media_type, bytes))
        })
        .await
        .map_err(|e| e.with_not_found("The case has no such photo (or it was purged)"))?;
    // Chip data is shown as its portrait, re-encoded as JPEG: browsers do not show JPEG 2000.
    let (media_type, bytes) = if media_type == super::CHIP_DATA_MEDIA_TYPE {
        let limits = state.faces.limits;
        let jpeg = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            let portrait = super::face_match::chip_portrait(&bytes).ok_or("the chip data holds no portrait")?;
            let img = vouch_vision::image_io::decode(&portrait, limits).map_err(|e| e.to_string())?;
            vouch_vision::image_io::encode_jpeg(&img, 90).map_err(|e| e.to_string())
        })
        .await
        .map_err(AppError::internal)?
        .map_err(|e| AppError::not_found(format!("The chip portrait cannot be shown: {e}")))?;
        ("image/jpeg".to_string(), jpeg)
    } else {
        (media_type, bytes)
    };
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(EvidenceImage { src: format!("data:{media_type};base64,{data}") })
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct IdentityArgs {
    pub sub: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: Option<String>,
    pub country: Option<String>,
    /// What the clerk checked: PASSPORT, ID_CARD, RESIDENCE_PERMIT, ...
    pub document_type: String,
    pub document_expires: Option<String>,
}

#[derive(Deserialize, TS)]
#[ts(optional_fields = nullable)]
#[serde(deny_unknown_fields)]
pub struct DecideArgs {
    pub case_id: String,
    pub outcome: Outcome,
    /// Mandatory: why the clerk approves or rejects. Goes into the audit log.
    pub reason: String,
    /// The person as the clerk verified them; required to approve.
    pub identity: Option<IdentityArgs>,
}

fn blank_to_none(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// The clerk's approve/reject: the same decision call as the admin API, recorded under the clerk's name.
pub async fn decide(state: &Kiosk, caller: &Caller, args: DecideArgs) -> Result<CaseDetail, AppError> {
    let case_id = parse_case_id(&args.case_id)?;
    let identity = match args.identity {
        None => None,
        Some(i) => Some(VerifiedIdentity {
            sub: blank_to_none(i.sub),
            given_name: i.given_name.trim().to_string(),
            family_name: i.family_name.trim().to_string(),
            date_of_birth: date("date_of_birth", blank_to_none(i.date_of_birth))?,
            country: blank_to_none(i.country).map(|c| c.to_uppercase()),
            document_expires: date("document_expires", blank_to_none(i.document_expires))?,
            // eeID's method is the document looked at; the decision's actor records that a clerk did it.
            authentication_type: i.document_type.trim().to_uppercase(),
            acr: "substantial".into(),
        }),
    };
    let input = DecisionInput { outcome: args.outcome, reason: args.reason, identity };
    crate::cases::decide(&state.app, case_id, input, caller.actor())
        .await
        .map_err(|e| e.with_not_found(NO_SUCH_CASE))?;
    case_detail(state, CaseArgs { case_id: case_id.to_string() }).await
}
