//! Case operations shared by every protocol. Rules come from vouch-core; this module sequences them
//! with the store: blobs first, then one transaction for the rows that point to them.

use std::collections::BTreeMap;

use vouch_core::{claims::validate_claims, Case, CaseId, Client, Decision, EvidenceKind, Outcome, VerifiedIdentity};
use vouch_store::cases::NewEvidence;
use vouch_store::outbox::NewDelivery;
use vouch_store::Store;

use crate::{proof, App, AppError};

/// What every protocol says, in its own error format, of a case id that names no case.
pub const NO_SUCH_CASE: &str = "No case has this id";

/// A case id from a path or an argument; one that cannot be an id names no case.
pub fn parse_case_id(id: &str) -> Result<CaseId, AppError> {
    CaseId::parse(id).ok_or_else(|| AppError::not_found(NO_SUCH_CASE))
}

/// An optional `YYYY-MM-DD` field of a decision's identity.
pub fn optional_date(field: &str, value: Option<String>) -> Result<Option<time::Date>, AppError> {
    value
        .map(|v| {
            vouch_core::claims::parse_date(&v)
                .ok_or_else(|| AppError::invalid(format!("{field} must be a date in YYYY-MM-DD format")))
        })
        .transpose()
}

pub const MAX_REFERENCE_LEN: usize = 255;
pub const MAX_PURPOSE_LEN: usize = 1000;
/// Languages eeID accepts for `reason_translations` (not the kiosk's own languages).
pub const REASON_LANGUAGES: [&str; 3] = ["en", "et", "ru"];

pub struct NewIdentification {
    pub reference: Option<String>,
    pub claims: Vec<(String, String)>,
    pub reason: Option<String>,
    pub reason_translations: BTreeMap<String, String>,
    /// Which paired kiosks may run it at a central.
    pub audience: Audience,
}

/// Which paired kiosks of a central service may run a case: the one kiosk named (`Vouch-Kiosk`), else the kiosks
/// of the branch named (`Vouch-Branch`, [`branch_label`]), else any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    pub branch: Option<String>,
    /// A paired kiosk's id, checked to be one by whoever took it.
    pub kiosk: Option<String>,
}

/// The most characters of a branch's name, as a kiosk's pairing takes it.
pub const MAX_BRANCH_LEN: usize = 100;

/// The branch an integrator names for a case (the `Vouch-Branch` header): trimmed, 1 to 100 characters, no
/// control characters; absent or blank means any kiosk.
pub fn branch_label(value: Option<&str>) -> Result<Option<String>, AppError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => required_text("Vouch-Branch", v, MAX_BRANCH_LEN).map(Some),
    }
}

fn check_len(field: &str, value: Option<&str>, max: usize) -> Result<(), AppError> {
    match value {
        Some(v) if v.chars().count() > max => {
            Err(AppError::invalid(format!("{field} must not be longer than {max} characters")))
        }
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n') => {
            Err(AppError::invalid(format!("{field} must not contain control characters")))
        }
        _ => Ok(()),
    }
}

/// A required one-line text field: trimmed, 1 to `max` characters, no control characters.
pub fn required_text(field: &str, value: &str, max: usize) -> Result<String, AppError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::invalid(format!("{field} is required")));
    }
    if v.chars().count() > max {
        return Err(AppError::invalid(format!("{field} must not be longer than {max} characters")));
    }
    if v.chars().any(char::is_control) {
        return Err(AppError::invalid(format!("{field} must not contain control characters")));
    }
    Ok(v.to_string())
}

/// A new pending case of `api` for a signer, pinned to `flow`, open for the configured case lifetime.
pub fn signing_case(
    app: &App,
    client_id: &str,
    api: &str,
    reference: Option<String>,
    flow: Option<vouch_core::flow::FlowRef>,
    audience: Audience,
) -> Case {
    let now = vouch_store::now();
    let ttl = time::Duration::try_from(app.case_ttl).unwrap_or(time::Duration::days(7));
    let (branch, for_kiosk) = (audience.branch, audience.kiosk);
    Case { reference, flow, branch, for_kiosk, ..Case::pending(client_id, api, now, now + ttl) }
}

pub async fn create_identification(
    app: &App,
    client: &Client,
    api: &str,
    input: NewIdentification,
) -> Result<Case, AppError> {
    let claims = validate_claims(&input.claims)?;
    let reference = input.reference.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
    check_len("reference", reference.as_deref(), MAX_REFERENCE_LEN)?;
    check_len("reason", input.reason.as_deref(), MAX_PURPOSE_LEN)?;
    let branch = branch_label(input.audience.branch.as_deref())?;
    let for_kiosk = input.audience.kiosk;
    for (lang, text) in &input.reason_translations {
        if !REASON_LANGUAGES.contains(&lang.as_str()) {
            return Err(AppError::invalid(format!("reason_translations supports en, et and ru, not {lang:?}")));
        }
        check_len(&format!("reason_translations.{lang}"), Some(text), MAX_PURPOSE_LEN)?;
    }
    let now = vouch_store::now();
    let ttl = time::Duration::try_from(app.case_ttl).unwrap_or(time::Duration::days(7));
    let case = Case {
        reference,
        claims,
        reason: input.reason,
        reason_translations: input.reason_translations,
        branch,
        for_kiosk,
        ..Case::pending(&client.id, api, now, now + ttl)
    };
    let actor = format!("client:{}", client.id);
    let case = app
        .db(move |s| {
            let mut case = case;
            // The case pins the default flow's current version, so later edits to the flow do not affect it.
            case.flow = match s.default_flow_id()? {
                Some(id) => {
                    s.latest_flow(&id).map(|f| Some(vouch_core::flow::FlowRef { id: f.id, version: f.version }))?
                }
                None => None,
            };
            s.insert_case(&case, &actor)?;
            Ok(case)
        })
        .await?;
    tracing::info!(case_id = %case.id, client_id = %client.id, api, "case created");
    Ok(case)
}

/// Moves overdue open cases to `expired`, each with its audit event: the background sweep, and writes before they
/// act. Reads do not call it: a case reads `expired` once due ([`vouch_core::Case::as_of`]).
pub async fn expire_due(app: &App) -> Result<(), AppError> {
    let n = app.db(|s| s.expire_due_cases(vouch_store::now())).await?;
    if n > 0 {
        tracing::info!(count = n, "cases expired");
    }
    Ok(())
}

pub struct DecisionInput {
    pub outcome: Outcome,
    pub reason: String,
    pub identity: Option<VerifiedIdentity>,
}

/// Decides a case (approve = completed, reject = failed) on behalf of `actor`. An approval stores the
/// decision record and the proof-of-identity PDF as evidence, and queues the client's webhook.
pub async fn decide(app: &App, case_id: CaseId, input: DecisionInput, actor: String) -> Result<Case, AppError> {
    expire_due(app).await?;
    let issuer = app.issuer();
    let public_url = app.public_url.to_string();
    let retries = app.webhooks.retries;
    let webhooks = app.completion_webhooks.clone();
    // An approval with an identity gets a proof, sealed by the kiosk key (loaded, or made on first use, here).
    let keys = match (input.outcome, &input.identity) {
        (Outcome::Approved, Some(_)) => Some(app.signing.keys().await?),
        _ => None,
    };
    let case = app
        .db(move |s| {
            decide_blocking(s, case_id, input, actor, (&issuer, &public_url, keys.as_deref()), (retries, &webhooks))
        })
        .await?;
    app.outbox_wake.notify_one();
    tracing::info!(case_id = %case.id, status = %case.status, "case decided");
    Ok(case)
}

fn decide_blocking(
    store: &Store,
    case_id: CaseId,
    input: DecisionInput,
    actor: String,
    (issuer, public_url, keys): (&str, &str, Option<&crate::signing::SigningKeys>),
    (retries, webhooks): (u32, &CompletionWebhooks),
) -> Result<Case, vouch_store::StoreError> {
    let mut case = store.get_case(case_id)?;
    let previous = case.status;
    let decision = Decision {
        outcome: input.outcome,
        actor,
        reason: input.reason.trim().to_string(),
        decided_at: vouch_store::now(),
        identity: input.identity,
    };
    case.decide(decision.clone())?;
    // A signing case completes only with its documents signed: the evidence package is built from them.
    if decision.outcome == Outcome::Approved && store.signer(case.id)?.is_some_and(|s| s.signed_at.is_none()) {
        return Err(vouch_store::StoreError::Conflict(
            "the signer has not signed the documents yet; a signing case is approved after its signature step".into(),
        ));
    }

    let record = serde_json::to_vec(&serde_json::json!({
        "case_id": case.id, "outcome": decision.outcome, "actor": decision.actor, "reason": decision.reason,
        "decided_at": decision.decided_at.unix_timestamp(), "identity": decision.identity,
    }))
    .map_err(|e| vouch_store::StoreError::Corrupt(e.to_string()))?;
    let record_sha = store.blobs().put(&record)?;
    let mut evidence = vec![NewEvidence {
        kind: EvidenceKind::Decision,
        sha256: record_sha,
        media_type: "application/json".into(),
        size: record.len() as u64,
    }];

    if let (Outcome::Approved, Some(identity), Some(keys)) = (decision.outcome, decision.identity.as_ref(), keys) {
        let mut items = proof::evidence_items(&store.case_evidence(case.id)?);
        items.extend(evidence.iter().map(|e| (e.kind, e.sha256.clone())));
        let digest = proof::manifest_digest(&items);
        let unsigned = proof::render(&proof::ProofInput {
            case: &case,
            decision: &decision,
            identity,
            evidence: &items,
            evidence_digest: &digest,
            issuer,
            public_url,
        })
        .map_err(|e| vouch_store::StoreError::Corrupt(format!("proof of identity: {e}")))?;
        let qr = proof::qr_png(&proof::check_url(public_url, &case.id.to_string()))
            .map_err(|e| vouch_store::StoreError::Corrupt(format!("proof of identity QR code: {e}")))?;
        let pdf = proof::seal(&unsigned, &case, issuer, &qr, &keys.identity)
            .map_err(|e| vouch_store::StoreError::Crypto(format!("sealing the proof of identity: {e}")))?;
        let pdf_sha = store.blobs().put(&pdf)?;
        evidence.push(NewEvidence {
            kind: EvidenceKind::ProofOfIdentity,
            sha256: pdf_sha,
            media_type: "application/pdf".into(),
            size: pdf.len() as u64,
        });
    }
    let client = store.get_client(&case.client_id)?;
    let effects = webhooks.effects(store, &case, &client)?;
    let deliveries: Vec<NewDelivery> = effects
        .deliveries
        .into_iter()
        .map(|(url, body)| NewDelivery { client_id: client.id.clone(), url, body, max_attempts: retries + 1 })
        .collect();
    store.record_decision(&case, previous, &evidence, &deliveries, &effects.records)?;
    Ok(case)
}

/// The webhooks an API sends when one of its cases is decided.
#[derive(Clone, Copy)]
pub enum CompletionWebhook {
    /// On an approval with a verified identity, one body to the client's webhook URL.
    OnApproval {
        /// The body, in the API's words.
        body: fn(&Case) -> Vec<u8>,
        /// Whether the API also signs it with the client's own secret (eeID's `X-HMAC-Signature`), beside the
        /// standard `webhook-signature` every delivery carries.
        signed_with_client_secret: bool,
    },
    /// On every decision, the (URL, body) deliveries the API's own records of the case name (Verifik's events),
    /// and the records of its own the decision writes (Verifik's app logins, and an app registration's progress).
    OnDecision(DecisionWebhooks),
}

/// What a decision makes for the case's API, written in the decision's transaction.
#[derive(Debug, Default)]
pub struct DecisionEffects {
    /// (URL, body) webhook deliveries.
    pub deliveries: Vec<(String, Vec<u8>)>,
    pub records: Vec<vouch_store::api_records::RecordWrite>,
}

/// The effects of a decided case, read from the store before the decision is written.
pub type DecisionWebhooks = fn(&Store, &Case, &Client) -> Result<DecisionEffects, vouch_store::StoreError>;

/// The completion webhooks by API name. The adapters that send one name theirs where the server is put
/// together (`adapters::completion_webhooks`), so neither deciding a case nor delivering its webhook names an
/// adapter.
#[derive(Clone, Default)]
pub struct CompletionWebhooks(std::sync::Arc<BTreeMap<&'static str, CompletionWebhook>>);

impl CompletionWebhooks {
    pub fn new(by_api: impl IntoIterator<Item = (&'static str, CompletionWebhook)>) -> CompletionWebhooks {
        CompletionWebhooks(std::sync::Arc::new(by_api.into_iter().collect()))
    }

    /// The deliveries that announce `case`'s decision and the records it makes, if its API has any.
    fn effects(&self, store: &Store, case: &Case, client: &Client) -> Result<DecisionEffects, vouch_store::StoreError> {
        match self.0.get(case.api.as_str()) {
            Some(CompletionWebhook::OnApproval { body, .. }) => {
                let approved =
                    case.decision.as_ref().is_some_and(|d| d.outcome == Outcome::Approved && d.identity.is_some());
                let deliveries = match (&client.webhook_url, approved) {
                    (Some(url), true) => vec![(url.clone(), body(case))],
                    _ => Vec::new(),
                };
                Ok(DecisionEffects { deliveries, records: Vec::new() })
            }
            Some(CompletionWebhook::OnDecision(effects)) => effects(store, case, client),
            None => Ok(DecisionEffects::default()),
        }
    }

    /// Whether `api`'s deliveries are also signed with the client's own secret.
    pub fn signed_with_client_secret(&self, api: &str) -> bool {
        matches!(self.0.get(api), Some(CompletionWebhook::OnApproval { signed_with_client_secret: true, .. }))
    }
}
