//! Walk-in cases: a person who comes to a paired kiosk without a case made for them. The central's admin says, per
//! kiosk, whose case a walk-in becomes (an integrator client, whose webhook and APIs then see it) and which flow it
//! runs. The kiosk keeps that flow, so a clerk can start a walk-in offline too; the central makes the case, held by
//! that kiosk, before the first thing recorded on it goes up, the way a pulled case is claimed.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use vouch_core::flow::{FlowRef, FlowVersion};
use vouch_core::{Case, CaseId, Scope};

use crate::audit::{self, CLIENTS_CHAIN};
use crate::central::CENTRAL_FLOW_PREFIX;
use crate::db::Conn;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::sync::Pushed;
use crate::{now, to_ms, Store};

/// Where a kiosk's walk-ins go at the central.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalkIns {
    /// The integrator client whose cases they become.
    pub client_id: String,
    /// The flow they run (its newest version when the kiosk last synced).
    pub flow_id: String,
}

/// The API a walk-in case is presented as: an eeID identification request of the walk-in client, so its backend
/// reads it and is told of it as of any request it made.
pub const WALK_IN_API: &str = "eeid";

/// What a kiosk sends to have its walk-in made at the central.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkInCase {
    pub case_id: CaseId,
    /// The central's flow version it runs.
    pub flow: FlowRef,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// How long a walk-in made at the central late (the kiosk was offline) stays open there at least, so that what was
/// recorded on it still goes up.
const LATE_WALK_IN_GRACE: time::Duration = time::Duration::hours(1);

fn walk_ins_of(conn: &Conn<'_>, kiosk_id: &str) -> Result<(Option<WalkIns>, Option<String>)> {
    let row = conn
        .query_opt("SELECT walk_in_client, walk_in_flow, branch FROM kiosks WHERE id = ?1", db_params![kiosk_id])?
        .ok_or(StoreError::NotFound)?;
    let (client, flow, branch): (Option<String>, Option<String>, Option<String>) =
        (row.get(0)?, row.get(1)?, row.get(2)?);
    let walk_ins = match (client, flow) {
        (Some(client_id), Some(flow_id)) => Some(WalkIns { client_id, flow_id }),
        _ => None,
    };
    Ok((walk_ins, branch))
}

impl Store {
    /// At the central: sets (or, with `None`, stops) where a kiosk's walk-ins go. The client must be an integrator
    /// that is not revoked, and the flow one a kiosk can run.
    pub fn set_kiosk_walk_ins(&self, kiosk_id: &str, walk_ins: Option<&WalkIns>, actor: &str) -> Result<()> {
        if self.kiosk(kiosk_id)?.is_none() {
            return Err(StoreError::NotFound);
        }
        if let Some(w) = walk_ins {
            let client = self.get_client(&w.client_id).map_err(|e| match e {
                StoreError::NotFound => StoreError::Invalid(format!("there is no client {:?}", w.client_id)),
                e => e,
            })?;
            if client.scope != Scope::Integrator || client.revoked_at.is_some() {
                return Err(StoreError::Invalid("walk-ins go to an integrator client that is not revoked".into()));
            }
            let flow = self.latest_flow(&w.flow_id).map_err(|e| match e {
                StoreError::NotFound => StoreError::Invalid(format!("there is no flow {:?}", w.flow_id)),
                e => e,
            })?;
            if flow.steps.iter().any(|s| s.kind() == vouch_core::flow::StepKind::Signature) {
                return Err(StoreError::Invalid(
                    "that flow has a signature step, and a walk-in has no documents to sign".into(),
                ));
            }
        }
        let at = now();
        let detail = serde_json::json!({"kiosk": kiosk_id, "walk_ins": walk_ins});
        self.with(|conn| {
            conn.transaction(|tx| {
                let changed = tx.execute(
                    "UPDATE kiosks SET walk_in_client = ?1, walk_in_flow = ?2 WHERE id = ?3",
                    db_params![walk_ins.map(|w| w.client_id.clone()), walk_ins.map(|w| w.flow_id.clone()), kiosk_id],
                )?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, at, actor, "kiosk_walk_ins_set", &detail)
            })
        })
    }

    /// At the central: where a kiosk's walk-ins go, if it takes any.
    pub fn kiosk_walk_ins(&self, kiosk_id: &str) -> Result<Option<WalkIns>> {
        Ok(self.with(|conn| walk_ins_of(conn, kiosk_id))?.0)
    }

    /// At the central: the newest version of the flow a kiosk's walk-ins run, if it takes any.
    pub fn kiosk_walk_in_flow(&self, kiosk_id: &str) -> Result<Option<FlowVersion>> {
        self.kiosk_walk_ins(kiosk_id)?.map(|w| self.latest_flow(&w.flow_id)).transpose()
    }

    /// At the central: makes a kiosk's walk-in as a case of the walk-in client, held by that kiosk, of the kiosk's
    /// branch. Done already when the kiosk made it before (a push repeated after a dropped connection); refused when
    /// the kiosk takes no walk-ins, or the flow is not its walk-in flow (the admin changed it meanwhile).
    pub fn make_walk_in_case(&self, kiosk_id: &str, walk_in: &WalkInCase) -> Result<Pushed> {
        let id = walk_in.case_id.to_string();
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.lock(&id)?;
                if tx.query_opt("SELECT 1 FROM cases WHERE id = ?1", db_params![id])?.is_some() {
                    let holder = tx.query_opt("SELECT kiosk_id FROM case_claims WHERE case_id = ?1", db_params![id])?;
                    return match holder.map(|r| r.get::<String>(0)).transpose()? {
                        Some(h) if h == kiosk_id => Ok(Pushed::AlreadyApplied),
                        _ => Err(StoreError::Conflict("a case with this id exists".into())),
                    };
                }
                let (walk_ins, branch) = walk_ins_of(tx, kiosk_id)?;
                let walk_ins = walk_ins
                    .ok_or_else(|| StoreError::Conflict("this kiosk takes no walk-ins at the central".into()))?;
                let revoked = tx.query_opt(
                    "SELECT 1 FROM clients WHERE id = ?1 AND revoked_at IS NOT NULL",
                    db_params![walk_ins.client_id],
                )?;
                if revoked.is_some() {
                    return Err(StoreError::Conflict("the client this kiosk's walk-ins go to is revoked".into()));
                }
                if walk_in.flow.id != walk_ins.flow_id {
                    return Err(StoreError::Conflict(format!(
                        "this kiosk's walk-ins now run the flow {:?}, not {:?}",
                        walk_ins.flow_id, walk_in.flow.id
                    )));
                }
                // Who the person is comes from the steps and the decision; a reference is the integrator's own.
                let expires_at = walk_in.expires_at.max(at + LATE_WALK_IN_GRACE);
                let case = Case {
                    id: walk_in.case_id,
                    updated_at: at,
                    flow: Some(walk_in.flow.clone()),
                    branch,
                    ..Case::pending(&walk_ins.client_id, WALK_IN_API, walk_in.created_at.min(at), expires_at)
                };
                let actor = format!("kiosk:{kiosk_id}");
                crate::cases::insert_case_in(tx, self.audit_key(), &case, &actor)?;
                tx.execute(
                    "INSERT INTO case_claims (case_id, kiosk_id, claimed_at) VALUES (?1, ?2, ?3)",
                    db_params![id, kiosk_id, to_ms(at)],
                )?;
                let detail = serde_json::json!({"kiosk": kiosk_id, "walk_in": true});
                audit::append_event(tx, self.audit_key(), &id, at, &actor, "case_claimed", &detail)?;
                Ok(Pushed::Applied)
            })
        })
    }

    /// At a kiosk: keeps the central's walk-in flow for this kiosk as the last sync saw it (`None`: it takes none).
    pub fn keep_walk_in_flow(&self, flow: Option<&FlowVersion>) -> Result<()> {
        self.with(|conn| {
            conn.transaction(|tx| {
                if let Some(flow) = flow {
                    crate::central::keep_central_flow(tx, flow)?;
                }
                tx.execute(
                    "UPDATE central_link SET walk_in_flow_id = ?1, walk_in_flow_version = ?2",
                    db_params![flow.map(|f| f.id.clone()), flow.map(|f| f.version)],
                )?;
                Ok(())
            })
        })
    }

    /// At a kiosk: the central's walk-in flow for it as kept here (under `central/<id>`), if it takes walk-ins.
    pub fn walk_in_flow(&self) -> Result<Option<FlowVersion>> {
        let row = self.with(|conn| {
            conn.query_opt("SELECT walk_in_flow_id, walk_in_flow_version FROM central_link", db_params![])
        })?;
        let Some(row) = row else { return Ok(None) };
        match (row.get::<Option<String>>(0)?, row.get::<Option<u32>>(1)?) {
            (Some(id), Some(version)) => Ok(Some(self.flow_version(&format!("{CENTRAL_FLOW_PREFIX}{id}"), version)?)),
            _ => Ok(None),
        }
    }

    /// At a kiosk: starts a walk-in on the central's walk-in flow, open for `ttl`. It is a case here at once (a
    /// clerk runs it as any case, online or not), and what the central needs to make it waits with it.
    pub fn open_walk_in_case(&self, ttl: time::Duration, actor: &str) -> Result<Case> {
        let link = self.central_link()?.ok_or_else(|| StoreError::Conflict("this kiosk is not paired".into()))?;
        let local = self
            .walk_in_flow()?
            .ok_or_else(|| StoreError::Conflict("the central takes no walk-ins from this kiosk".into()))?;
        let at = now();
        let central_flow = FlowRef {
            id: local.id.strip_prefix(CENTRAL_FLOW_PREFIX).unwrap_or(&local.id).to_string(),
            version: local.version,
        };
        let case = Case {
            flow: Some(FlowRef { id: local.id, version: local.version }),
            branch: link.branch,
            ..Case::pending(&link.client_id, WALK_IN_API, at, at + ttl)
        };
        let walk_in = WalkInCase { case_id: case.id, flow: central_flow, created_at: at, expires_at: case.expires_at };
        let body = serde_json::to_string(&walk_in).map_err(|e| StoreError::corrupt(e.to_string()))?;
        self.with(|conn| {
            conn.transaction(|tx| {
                crate::cases::insert_case_in(tx, self.audit_key(), &case, actor)?;
                tx.execute(
                    "INSERT INTO central_cases (case_id, pulled_at, walk_in) VALUES (?1, ?2, ?3)",
                    db_params![case.id.to_string(), to_ms(at), body],
                )?;
                Ok(())
            })
        })?;
        Ok(case)
    }

    /// At a kiosk: what the central needs to make a walk-in started here, while it has not made it yet.
    pub fn unmade_walk_in(&self, case_id: CaseId) -> Result<Option<WalkInCase>> {
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT walk_in FROM central_cases WHERE case_id = ?1 AND claimed_at IS NULL AND walk_in IS NOT NULL",
                db_params![case_id.to_string()],
            )
        })?;
        row.map(|r| {
            let text: String = r.get(0)?;
            serde_json::from_str(&text).map_err(|e| StoreError::corrupt(format!("a walk-in: {e}")))
        })
        .transpose()
    }
}
