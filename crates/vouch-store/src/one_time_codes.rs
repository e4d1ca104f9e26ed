//! One-time codes that prove a person holds an e-mail address or a phone number (Verifik's e-mail and phone
//! validations). Each belongs to an API record of the same id. Only the code's argon2id hash is kept. A try is
//! counted by one UPDATE before the code is checked, so parallel guesses cannot outrun the limit, and a code is
//! spent by another that only one redemption can win.

use crate::db_params;
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::api_records::{insert_row, write_in, ApiRecord, RecordKind, RecordWrite};
use crate::credentials::hash_secret;
use crate::error::{Result, StoreError};
use crate::outbox::{enqueue_record_event, RecordEvent};
use crate::{to_ms, Store};

/// A try that was counted: the hash to check the code against, and the tries made and allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTry {
    pub hash: String,
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Why a try was not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Expired,
    TooManyTries,
    Used,
}

/// A record whose code is to be kept: its id ([`crate::api_records::new_id`]), body, the code, and its limits.
pub struct NewCodeRecord<'a> {
    pub id: &'a str,
    pub body: &'a Map<String, Value>,
    pub code: &'a str,
    pub max_attempts: i64,
    pub expires_at: OffsetDateTime,
}

impl Store {
    /// Writes an API record with the hash of its code and queues the webhooks that announce it, in one
    /// transaction; the record as stored.
    pub fn create_code_record(
        &self,
        of: RecordKind<'_>,
        new: &NewCodeRecord<'_>,
        events: &[RecordEvent],
    ) -> Result<ApiRecord> {
        // argon2 runs before the connection is taken.
        let hash = hash_secret(new.code)?;
        let now = crate::now();
        self.with(|conn| {
            conn.transaction(|tx| {
                insert_row(tx, new.id, of, None, new.body, now)?;
                tx.execute(
                    "INSERT INTO one_time_codes (id, client_id, code_hash, max_attempts, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    db_params![new.id, of.client_id, hash, new.max_attempts, to_ms(new.expires_at)],
                )?;
                for event in events {
                    enqueue_record_event(tx, self.key(), event, now)?;
                }
                Ok(())
            })
        })?;
        self.api_record(of, new.id)
    }

    /// Replaces the code of record `id`, still open (unspent, unexpired, with tries left), by `code` until
    /// `expires_at`, and writes what resending it changes (`writes`, `events`: the record's new expiry, the message)
    /// in one transaction. The tries already made still count. False, and nothing written, when it is not open.
    pub fn renew_code(
        &self,
        client_id: &str,
        id: &str,
        code: &str,
        expires_at: OffsetDateTime,
        writes: &[RecordWrite],
        events: &[RecordEvent],
    ) -> Result<bool> {
        let hash = hash_secret(code)?;
        let now = crate::now();
        self.with(|conn| {
            conn.transaction(|tx| {
                let renewed = tx.execute(
                    "UPDATE one_time_codes SET code_hash = ?1, expires_at = ?2
                     WHERE id = ?3 AND client_id = ?4 AND used_at IS NULL AND attempts < max_attempts AND expires_at > ?5",
                    db_params![hash, to_ms(expires_at), id, client_id, to_ms(now)],
                )?;
                if renewed == 0 {
                    return Ok(false);
                }
                for write in writes {
                    write_in(tx, write, now)?;
                }
                for event in events {
                    enqueue_record_event(tx, self.key(), event, now)?;
                }
                Ok(true)
            })
        })
    }

    /// The client whose code record `id` is: a link names only its validation. `NotFound` when there is none.
    pub fn code_owner(&self, id: &str) -> Result<String> {
        self.with(|conn| conn.query_one("SELECT client_id FROM one_time_codes WHERE id = ?1", db_params![id])?.get(0))
    }

    /// Counts a try at the code of record `id`; `NotFound` when the client has no such code.
    pub fn take_code_try(
        &self,
        client_id: &str,
        id: &str,
        at: OffsetDateTime,
    ) -> Result<std::result::Result<CodeTry, CodeRefusal>> {
        let (counted, state) = self.with(|conn| {
            let counted = conn.query_opt(
                "UPDATE one_time_codes SET attempts = attempts + 1
                 WHERE id = ?1 AND client_id = ?2 AND used_at IS NULL AND attempts < max_attempts AND expires_at > ?3
                 RETURNING code_hash, attempts, max_attempts",
                db_params![id, client_id, to_ms(at)],
            )?;
            if counted.is_some() {
                return Ok((counted, None));
            }
            let state = conn.query_one(
                "SELECT used_at, attempts, max_attempts FROM one_time_codes WHERE id = ?1 AND client_id = ?2",
                db_params![id, client_id],
            )?;
            Ok((None, Some(state)))
        })?;
        if let Some(r) = counted {
            return Ok(Ok(CodeTry { hash: r.get(0)?, attempts: r.get(1)?, max_attempts: r.get(2)? }));
        }
        let state = state.ok_or(StoreError::NotFound)?;
        let (used, attempts, max): (Option<i64>, i64, i64) = (state.get(0)?, state.get(1)?, state.get(2)?);
        Ok(Err(if used.is_some() {
            CodeRefusal::Used
        } else if attempts >= max {
            CodeRefusal::TooManyTries
        } else {
            // Neither spent nor out of tries, so the UPDATE found it expired.
            CodeRefusal::Expired
        }))
    }

    /// Spends the code of record `id` and writes what its redemption changes (`writes`: its record's new fields,
    /// an app login) in one transaction. `Conflict` when another redemption spent it first.
    pub fn redeem_code(
        &self,
        client_id: &str,
        id: &str,
        at: OffsetDateTime,
        writes: &[RecordWrite],
        events: &[RecordEvent],
    ) -> Result<()> {
        self.with(|conn| {
            conn.transaction(|tx| {
                let spent = tx.execute(
                    "UPDATE one_time_codes SET used_at = ?1 WHERE id = ?2 AND client_id = ?3 AND used_at IS NULL",
                    db_params![to_ms(at), id, client_id],
                )?;
                if spent == 0 {
                    return Err(StoreError::Conflict("the code was used already".into()));
                }
                for write in writes {
                    write_in(tx, write, at)?;
                }
                for event in events {
                    enqueue_record_event(tx, self.key(), event, at)?;
                }
                Ok(())
            })
        })
    }
}
