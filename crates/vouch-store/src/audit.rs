//! The audit log: one hash chain per subject (a case id, or `clients`).
//!
//! `hash = SHA-256(prev_hash || len-prefixed(chain, seq, at, actor, action, detail))`, with
//! `prev_hash` of the first event all zeros. `audit_heads` keeps each chain's newest hash, so
//! editing, reordering or deleting any event (the newest included) is detected by [`verify`].

use rusqlite::{params, OptionalExtension, Transaction};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::error::Result;
use crate::{from_ms, to_ms, Store};

pub const CLIENTS_CHAIN: &str = "clients";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub chain: String,
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

fn event_hash(prev: &[u8], chain: &str, seq: i64, at_ms: i64, actor: &str, action: &str, detail: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(prev);
    for field in [
        chain.as_bytes(),
        &seq.to_be_bytes(),
        &at_ms.to_be_bytes(),
        actor.as_bytes(),
        action.as_bytes(),
        detail.as_bytes(),
    ] {
        h.update((field.len() as u64).to_be_bytes());
        h.update(field);
    }
    h.finalize().to_vec()
}

/// Appends an event inside the caller's transaction, so it commits or rolls back with the change it records.
pub(crate) fn append(
    tx: &Transaction<'_>,
    chain: &str,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    let head: Option<(i64, Vec<u8>)> = tx
        .query_row("SELECT seq, hash FROM audit_heads WHERE chain = ?1", [chain], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (prev_seq, prev_hash) = head.unwrap_or((0, vec![0u8; 32]));
    let seq = prev_seq + 1;
    let at_ms = to_ms(at);
    let detail = detail.to_string();
    let hash = event_hash(&prev_hash, chain, seq, at_ms, actor, action, &detail);
    tx.execute(
        "INSERT INTO audit_events (chain, seq, at, actor, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![chain, seq, at_ms, actor, action, detail, prev_hash, hash],
    )?;
    tx.execute(
        "INSERT INTO audit_heads (chain, seq, hash) VALUES (?1, ?2, ?3)
         ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        params![chain, seq, hash],
    )?;
    Ok(())
}

/// The first break found in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub chain: String,
    pub seq: i64,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub chains: usize,
    pub events: usize,
    pub breaks: Vec<ChainBreak>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// An event exactly as chained: the stored detail text and both hashes (hex), so that anyone holding an export
/// can recompute the chain with the formula above.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainedEvent {
    pub chain: String,
    pub seq: i64,
    /// Unix milliseconds, as hashed.
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Store {
    /// One chain with its hashes, for evidence exports.
    pub fn audit_chain(&self, chain: &str) -> Result<Vec<ChainedEvent>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT chain, seq, at, actor, action, detail, prev_hash, hash FROM audit_events WHERE chain = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([chain], |r| {
            Ok(ChainedEvent {
                chain: r.get(0)?,
                seq: r.get(1)?,
                at_ms: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                detail: r.get(5)?,
                prev_hash: hex::encode(r.get::<_, Vec<u8>>(6)?),
                hash: hex::encode(r.get::<_, Vec<u8>>(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn audit_events(&self, chain: &str) -> Result<Vec<AuditEvent>> {
        let conn = self.conn()?;
        let mut stmt = conn
            .prepare("SELECT chain, seq, at, actor, action, detail FROM audit_events WHERE chain = ?1 ORDER BY seq")?;
        let rows = stmt.query_map([chain], |r| {
            let detail: String = r.get(5)?;
            Ok(AuditEvent {
                chain: r.get(0)?,
                seq: r.get(1)?,
                at: from_ms(r.get(2)?),
                actor: r.get(3)?,
                action: r.get(4)?,
                detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Recomputes every chain (or one) from its first event and compares it with the stored hashes and head.
    pub fn verify_audit(&self, only_chain: Option<&str>) -> Result<VerifyReport> {
        let conn = self.conn()?;
        let mut chains: Vec<String> = conn
            .prepare("SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit_events ORDER BY 1")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if let Some(only) = only_chain {
            chains.retain(|c| c == only);
        }
        let mut report = VerifyReport { chains: chains.len(), events: 0, breaks: Vec::new() };
        let mut events = conn.prepare(
            "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit_events WHERE chain = ?1 ORDER BY seq",
        )?;
        for chain in chains {
            let mut expected_prev = vec![0u8; 32];
            let mut expected_seq = 1i64;
            let mut broken: Option<(i64, String)> = None;
            let rows = events.query_map([&chain], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, Vec<u8>>(6)?,
                ))
            })?;
            for row in rows {
                let (seq, at, actor, action, detail, prev, hash) = row?;
                report.events += 1;
                if broken.is_some() {
                    continue;
                }
                if seq != expected_seq {
                    broken = Some((seq, format!("expected event {expected_seq}, found {seq}: an event is missing")));
                } else if prev != expected_prev {
                    broken = Some((seq, "prev_hash does not match the previous event".into()));
                } else if event_hash(&prev, &chain, seq, at, &actor, &action, &detail) != hash {
                    broken = Some((seq, "the event's content does not match its hash: it was altered".into()));
                }
                expected_prev = hash;
                expected_seq = seq + 1;
            }
            if broken.is_none() {
                let head: Option<(i64, Vec<u8>)> = conn
                    .query_row("SELECT seq, hash FROM audit_heads WHERE chain = ?1", [&chain], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                match head {
                    Some((seq, hash)) if seq == expected_seq - 1 && hash == expected_prev => {}
                    Some((seq, _)) => {
                        broken =
                            Some((seq, "the chain head does not match its newest event: events were removed".into()))
                    }
                    None => broken = Some((expected_seq - 1, "the chain has no recorded head".into())),
                }
            }
            if let Some((seq, problem)) = broken {
                report.breaks.push(ChainBreak { chain, seq, problem });
            }
        }
        Ok(report)
    }
}
