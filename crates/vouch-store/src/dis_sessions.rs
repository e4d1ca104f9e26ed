//! DIS sessions: a client makes one (`POST /identity/api/v1/sessions {timeout}`) and hands its token to a front end,
//! which then calls DIS with `x-inn-session-token` instead of the client's bearer token. A session is good for one
//! customer: the first it makes, or none other. It ends at its timeout, when the client closes it, or when the
//! client is revoked. The token is 256 random bits; only its SHA-256 is kept, and it is looked up by that hash.

use time::OffsetDateTime;
use vouch_core::Client;

use crate::credentials::{random_token, token_hash};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{now, to_ms, Store};

/// A session that is open: its client, and the customer it is for once it made one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisSession {
    pub token_hash: Vec<u8>,
    pub client: Client,
    pub customer_id: Option<String>,
}

/// The longest timeout a session may ask, in seconds: a day.
pub const MAX_SESSION_SECS: i64 = 86_400;

impl Store {
    /// Opens a session of `client_id` for `timeout_secs` (1 to a day); its token.
    pub fn create_dis_session(&self, client_id: &str, timeout_secs: i64) -> Result<String> {
        if !(1..=MAX_SESSION_SECS).contains(&timeout_secs) {
            return Err(StoreError::Invalid(format!("timeout must be 1 to {MAX_SESSION_SECS} seconds")));
        }
        let token = random_token();
        let at = now();
        let expires = at + time::Duration::seconds(timeout_secs);
        // Sessions a day past their end are of no use to anyone: they go as new ones come.
        let stale = at - time::Duration::days(1);
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute("DELETE FROM dis_sessions WHERE expires_at < ?1", db_params![to_ms(stale)])?;
                tx.execute(
                    "INSERT INTO dis_sessions (token_hash, client_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                    db_params![token_hash(&token), client_id, to_ms(at), to_ms(expires)],
                )
            })
        })?;
        Ok(token)
    }

    /// The open session `token` names, with its client if that is not revoked; None for anything else.
    pub fn dis_session(&self, token: &str, at: OffsetDateTime) -> Result<Option<DisSession>> {
        if token.len() > 256 {
            return Ok(None);
        }
        let hash = token_hash(token);
        let row = self.with(|conn| {
            conn.query_opt(
                "SELECT client_id, customer_id FROM dis_sessions
                 WHERE token_hash = ?1 AND closed_at IS NULL AND expires_at > ?2",
                db_params![hash.clone(), to_ms(at)],
            )
        })?;
        let Some(row) = row else { return Ok(None) };
        let (client_id, customer_id): (String, Option<String>) = (row.get(0)?, row.get(1)?);
        let client = self.get_client(&client_id)?;
        if client.revoked_at.is_some() {
            return Ok(None);
        }
        Ok(Some(DisSession { token_hash: hash, client, customer_id }))
    }

    /// Makes the session the customer's; false when it already is another's (or is no longer open).
    pub fn bind_dis_session(&self, token_hash: &[u8], customer_id: &str) -> Result<bool> {
        let changed = self.with(|conn| {
            conn.execute(
                "UPDATE dis_sessions SET customer_id = ?1
                 WHERE token_hash = ?2 AND closed_at IS NULL AND (customer_id IS NULL OR customer_id = ?1)",
                db_params![customer_id, token_hash.to_vec()],
            )
        })?;
        Ok(changed == 1)
    }

    /// Closes the client's session `token`; closing one that is closed, expired, unknown or another client's
    /// changes nothing.
    pub fn close_dis_session(&self, client_id: &str, token: &str) -> Result<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE dis_sessions SET closed_at = ?1 WHERE token_hash = ?2 AND client_id = ?3 AND closed_at IS NULL",
                db_params![to_ms(now()), token_hash(token), client_id],
            )
        })?;
        Ok(())
    }
}
