//! The audit log: one keyed hash chain per subject (a case id, `clients`, `settings`).
//!
//! `hash = HMAC-SHA256(audit key, prev_hash || len-prefixed(chain, seq, at, actor, action, detail))`, with
//! `prev_hash` of the first event all zeros and the audit key a subkey of the data key. `audit_heads` keeps
//! each chain's newest hash, so editing, reordering or deleting any event (the newest included) is detected
//! by [`Store::verify_audit`]; and because the hash is keyed, someone who rewrites `vouch.db` without the
//! data key cannot recompute a chain that verifies. Evidence packages carry the chain head in their signed
//! manifest, so a copy handed out earlier also shows a later rewrite.
//!
//! Chains written before the key (plain SHA-256) are re-keyed once at open, each only if it verifies as it
//! was; a chain that was already broken stays as it was and keeps failing verification.

use rusqlite::params;
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::Conn;
use crate::db_params;
use crate::error::Result;
use crate::{from_ms, to_ms, Store};

pub const CLIENTS_CHAIN: &str = "clients";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct AuditEvent {
    pub chain: String,
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

pub const AUDIT_KEY_LABEL: &str = "vouch audit-chain v1";
/// Set in `settings` once the chains are keyed.
const KEYED_MARK: &str = "audit_chain_keyed";

/// How an event's hash is made: keyed (every chain since the key), or plain SHA-256 (before it).
#[derive(Clone, Copy)]
pub(crate) enum ChainMac<'a> {
    Keyed(&'a [u8; 32]),
    Legacy,
}

/// What an event's hash covers besides the previous hash.
struct ChainedFields<'a> {
    chain: &'a str,
    seq: i64,
    at_ms: i64,
    actor: &'a str,
    action: &'a str,
    detail: &'a str,
}

/// Feeds `prev_hash` and the length-prefixed fields to `update`.
fn chain_input(mut update: impl FnMut(&[u8]), prev: &[u8], f: &ChainedFields<'_>) {
    update(prev);
    for field in [
        f.chain.as_bytes(),
        &f.seq.to_be_bytes(),
        &f.at_ms.to_be_bytes(),
        f.actor.as_bytes(),
        f.action.as_bytes(),
        f.detail.as_bytes(),
    ] {
        update(&(field.len() as u64).to_be_bytes());
        update(field);
    }
}

fn event_hash(mac: ChainMac<'_>, prev: &[u8], fields: ChainedFields<'_>) -> Vec<u8> {
    match mac {
        ChainMac::Legacy => {
            let mut h = Sha256::new();
            chain_input(|b| h.update(b), prev, &fields);
            h.finalize().to_vec()
        }
        ChainMac::Keyed(key) => {
            use hmac::Mac;
            match crate::credentials::keyed_mac(key, &[]) {
                Ok(mut h) => {
                    chain_input(|b| h.update(b), prev, &fields);
                    h.finalize().into_bytes().to_vec()
                }
                // HMAC takes any key length; an empty hash never verifies, so this cannot pass silently.
                Err(_) => Vec::new(),
            }
        }
    }
}

type StoredEvent = (i64, i64, String, String, String, Vec<u8>, Vec<u8>);
/// A chain's recorded head: its newest event's number and hash.
type ChainHead = (i64, Vec<u8>);

fn chain_rows(conn: &rusqlite::Connection, chain: &str) -> Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare(
        "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit_events WHERE chain = ?1 ORDER BY seq",
    )?;
    let rows =
        stmt.query_map([chain], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))?;
    Ok(rows.collect::<std::result::Result<_, _>>()?)
}

/// The first break in a chain's events, checked with `mac`; and the newest hash.
fn first_break(mac: ChainMac<'_>, chain: &str, rows: &[StoredEvent]) -> (Option<(i64, String)>, Vec<u8>, i64) {
    let mut expected_prev = vec![0u8; 32];
    let mut expected_seq = 1i64;
    for (seq, at, actor, action, detail, prev, hash) in rows {
        if *seq != expected_seq {
            return (
                Some((*seq, format!("expected event {expected_seq}, found {seq}: an event is missing"))),
                expected_prev,
                expected_seq,
            );
        } else if *prev != expected_prev {
            return (Some((*seq, "prev_hash does not match the previous event".into())), expected_prev, expected_seq);
        } else if event_hash(mac, prev, ChainedFields { chain, seq: *seq, at_ms: *at, actor, action, detail }) != *hash
        {
            return (
                Some((*seq, "the event's content does not match its hash: it was altered".into())),
                expected_prev,
                expected_seq,
            );
        }
        expected_prev = hash.clone();
        expected_seq = seq + 1;
    }
    (None, expected_prev, expected_seq)
}

/// Once per store: every chain that verifies as plain SHA-256 is rewritten keyed, in one transaction.
/// Returns how many chains were re-keyed and how many were left as they were because they did not verify.
pub(crate) fn rekey_legacy_chains(conn: &mut rusqlite::Connection, key: &[u8; 32]) -> Result<(usize, usize)> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let done: bool =
        tx.query_row("SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?1)", [KEYED_MARK], |r| r.get(0))?;
    if done {
        return Ok((0, 0));
    }
    let chains: Vec<String> = tx
        .prepare("SELECT DISTINCT chain FROM audit_events ORDER BY 1")?
        .query_map([], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    let (mut rekeyed, mut left) = (0, 0);
    for chain in chains {
        let rows = chain_rows(&tx, &chain)?;
        if first_break(ChainMac::Legacy, &chain, &rows).0.is_some() {
            tracing::error!(chain = %chain, "an audit chain did not verify before it was keyed; it is left as it was");
            left += 1;
            continue;
        }
        let mut prev = vec![0u8; 32];
        for (seq, at, actor, action, detail, _, _) in &rows {
            let fields = ChainedFields { chain: &chain, seq: *seq, at_ms: *at, actor, action, detail };
            let hash = event_hash(ChainMac::Keyed(key), &prev, fields);
            tx.execute(
                "UPDATE audit_events SET prev_hash = ?1, hash = ?2 WHERE chain = ?3 AND seq = ?4",
                params![prev, hash, chain, seq],
            )?;
            prev = hash;
        }
        tx.execute("UPDATE audit_heads SET hash = ?1 WHERE chain = ?2", params![prev, chain])?;
        rekeyed += 1;
    }
    tx.execute("INSERT INTO settings (key, value) VALUES (?1, '1')", [KEYED_MARK])?;
    tx.commit()?;
    Ok((rekeyed, left))
}

/// Appends an event inside the caller's transaction, so that it commits or rolls back with the change it records.
/// Writers of one chain take turns ([`Conn::lock`] on the chain's name, held until the caller's transaction
/// ends), so that several instances appending at once still make one chain.
pub fn append_event(
    tx: &Conn<'_>,
    key: &[u8; 32],
    chain: &str,
    at: OffsetDateTime,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<()> {
    tx.lock(chain)?;
    let head = tx.query_opt("SELECT seq, hash FROM audit_heads WHERE chain = ?1", db_params![chain])?;
    let (prev_seq, prev_hash) = match head {
        Some(row) => (row.get::<i64>(0)?, row.get::<Vec<u8>>(1)?),
        None => (0, vec![0u8; 32]),
    };
    let seq = prev_seq + 1;
    let at_ms = to_ms(at);
    let detail = detail.to_string();
    let hash = event_hash(
        ChainMac::Keyed(key),
        &prev_hash,
        ChainedFields { chain, seq, at_ms, actor, action, detail: &detail },
    );
    tx.execute(
        "INSERT INTO audit_events (chain, seq, at, actor, action, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        db_params![chain, seq, at_ms, actor, action, detail, prev_hash, hash],
    )?;
    tx.execute(
        "INSERT INTO audit_heads (chain, seq, hash) VALUES (?1, ?2, ?3)
         ON CONFLICT(chain) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        db_params![chain, seq, hash],
    )?;
    Ok(())
}

/// Every chain's name.
pub fn chain_names(conn: &Conn<'_>) -> Result<Vec<String>> {
    conn.query("SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit_events ORDER BY 1", db_params![])?
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// One chain's events and its recorded head, read together so that an event appended meanwhile cannot split them.
fn read_chain(conn: &Conn<'_>, chain: &str) -> Result<(Vec<StoredEvent>, Option<ChainHead>)> {
    let rows = conn
        .query(
            "SELECT seq, at, actor, action, detail, prev_hash, hash FROM audit_events WHERE chain = ?1 ORDER BY seq",
            db_params![chain],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .collect::<Result<Vec<StoredEvent>>>()?;
    let head = conn
        .query_opt("SELECT seq, hash FROM audit_heads WHERE chain = ?1", db_params![chain])?
        .map(|r| Ok::<_, crate::StoreError>((r.get(0)?, r.get(1)?)))
        .transpose()?;
    Ok((rows, head))
}

/// Recomputes one chain from its first event and compares it with its stored hashes and head; returns how many
/// events it has and its first break.
pub fn verify_chain(conn: &Conn<'_>, key: &[u8; 32], chain: &str) -> Result<(usize, Option<ChainBreak>)> {
    let (rows, head) = read_chain(conn, chain)?;
    let (mut broken, newest, next_seq) = first_break(ChainMac::Keyed(key), chain, &rows);
    if broken.is_none() {
        match head {
            Some((seq, hash)) if seq == next_seq - 1 && hash == newest => {}
            Some((seq, _)) => {
                broken = Some((seq, "the chain head does not match its newest event: events were removed".into()))
            }
            None => broken = Some((next_seq - 1, "the chain has no recorded head".into())),
        }
    }
    Ok((rows.len(), broken.map(|(seq, problem)| ChainBreak { chain: chain.to_string(), seq, problem })))
}

/// The first break found in a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct ChainBreak {
    pub chain: String,
    pub seq: i64,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
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
        let rows = self.with(|conn| {
            conn.query(
                "SELECT chain, seq, at, actor, action, detail, prev_hash, hash FROM audit_events WHERE chain = ?1 ORDER BY seq",
                db_params![chain],
            )
        })?;
        rows.iter()
            .map(|r| {
                Ok(ChainedEvent {
                    chain: r.get(0)?,
                    seq: r.get(1)?,
                    at_ms: r.get(2)?,
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    detail: r.get(5)?,
                    prev_hash: hex::encode(r.get::<Vec<u8>>(6)?),
                    hash: hex::encode(r.get::<Vec<u8>>(7)?),
                })
            })
            .collect()
    }

    pub fn audit_events(&self, chain: &str) -> Result<Vec<AuditEvent>> {
        let rows = self.with(|conn| {
            conn.query(
                "SELECT chain, seq, at, actor, action, detail FROM audit_events WHERE chain = ?1 ORDER BY seq",
                db_params![chain],
            )
        })?;
        rows.iter()
            .map(|r| {
                let detail: String = r.get(5)?;
                Ok(AuditEvent {
                    chain: r.get(0)?,
                    seq: r.get(1)?,
                    at: from_ms(r.get(2)?),
                    actor: r.get(3)?,
                    action: r.get(4)?,
                    detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail)),
                })
            })
            .collect()
    }

    /// Recomputes every chain (or one) from its first event and compares it with the stored hashes and head.
    /// The store lock is taken per chain, to read it, and not held while hashing, so a long verification does
    /// not stall the kiosk.
    pub fn verify_audit(&self, only_chain: Option<&str>) -> Result<VerifyReport> {
        let key = *self.audit_key();
        let mut chains = self.with(chain_names)?;
        if let Some(only) = only_chain {
            chains.retain(|c| c == only);
        }
        let mut report = VerifyReport { chains: chains.len(), events: 0, breaks: Vec::new() };
        for chain in chains {
            let (events, broken) = self.with(|conn| verify_chain(conn, &key, &chain))?;
            report.events += events;
            report.breaks.extend(broken);
        }
        Ok(report)
    }
}
