//! Kiosk PINs: one admin PIN (in settings) and one PIN per clerk, all argon2id, with a lockout after
//! repeated wrong PINs that survives a restart.

use crate::db::{Conn, Dialect};
use crate::db_params;
use serde::Serialize;
use time::OffsetDateTime;

use crate::audit;
use crate::credentials::{burn_verification, hash_secret, verify_secret};
use crate::error::{Result, StoreError};
use crate::flows::SETTINGS_CHAIN;
use crate::{from_ms, now, to_ms, Store};

const ADMIN_PIN_KEY: &str = "admin_pin";
const ADMIN_SUBJECT: &str = "admin";
/// Wrong PINs in a row before a lockout.
pub const MAX_FAILURES: i64 = 5;
/// Wrong PINs over every subject together per window before all PIN sign-ins wait for the window's end.
pub const GLOBAL_FAILURES_PER_WINDOW: i64 = 30;
const GLOBAL_WINDOW_SECS: i64 = 15 * 60;
/// A day after a subject's last wrong PIN its count starts again: lockouts grow, then decay.
const FAILURE_DECAY_SECS: i64 = 24 * 3600;
/// Admin and clerk PINs alike: 6 digits at least (a 4-digit PIN is 10,000 guesses).
pub const ADMIN_PIN_DIGITS: usize = 6;
pub const CLERK_PIN_DIGITS: usize = 6;
const FIRST_LOCKOUT_SECS: i64 = 60;
const MAX_LOCKOUT_SECS: i64 = 3600;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Clerk {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
}

/// Who signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinHolder {
    Admin,
    Clerk { id: i64, name: String },
}

/// Refuses PINs a bystander guesses first: too short, one repeated digit, or a straight run.
pub fn check_pin_strength(pin: &str, min_len: usize) -> Result<()> {
    if pin.len() < min_len || pin.len() > 12 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StoreError::Invalid(format!("A PIN is {min_len} to 12 digits")));
    }
    let digits: Vec<i16> = pin.bytes().map(|b| i16::from(b - b'0')).collect();
    let steps: Vec<i16> = digits.windows(2).filter_map(|w| Some(w.get(1)? - w.first()?)).collect();
    if steps.iter().all(|d| *d == 0) || steps.iter().all(|d| *d == 1) || steps.iter().all(|d| *d == -1) {
        return Err(StoreError::Invalid(
            "This PIN is too easy to guess: avoid repeated digits and runs like 123456".into(),
        ));
    }
    Ok(())
}

fn lockout_secs(failures: i64) -> i64 {
    let over = (failures - MAX_FAILURES).clamp(0, 10);
    (FIRST_LOCKOUT_SECS << over).min(MAX_LOCKOUT_SECS)
}

fn secs_until(until_ms: i64, at: OffsetDateTime) -> Option<u64> {
    let left = until_ms - to_ms(at);
    (left > 0).then(|| u64::try_from(left / 1000 + 1).unwrap_or(1))
}

/// What a reservation changed, so that a right PIN can give it back.
struct Reservation {
    subject: String,
    /// The reservation itself locked the subject: if the PIN is wrong, that lock is audited.
    locks: Option<i64>,
}

/// Taken by every PIN reservation on PostgreSQL, so that instances count one another's attempts (SQLite's
/// immediate transaction does the same on one machine).
const PIN_LOCK: i64 = 0x766f_7563_6802; // "vouch" and 2

/// Counts an attempt as a failure before the PIN is checked, in one write transaction: a subject that is
/// locked, or a spent global budget, refuses the attempt without checking anything. Parallel attempts (on any
/// instance) see each other's reservations, so at most [`MAX_FAILURES`] are ever evaluated in a row.
fn reserve_attempt(conn: &Conn<'_>, subject: &str, at: OffsetDateTime) -> Result<Reservation> {
    conn.transaction(|tx| {
        if tx.dialect() == Dialect::Postgres {
            tx.execute("SELECT pg_advisory_xact_lock(?1)", db_params![PIN_LOCK])?;
        }
        reserve_in(tx, subject, at)
    })
}

fn reserve_in(tx: &Conn<'_>, subject: &str, at: OffsetDateTime) -> Result<Reservation> {
    let now_ms = to_ms(at);
    let row = tx.query_opt(
        "SELECT failures, locked_until, last_failure_at FROM pin_attempts WHERE subject = ?1",
        db_params![subject],
    )?;
    let (mut failures, locked_until, last_failure): (i64, Option<i64>, Option<i64>) = match row {
        Some(r) => (r.get(0)?, r.get(1)?, r.get(2)?),
        None => (0, None, None),
    };
    if let Some(retry_after_secs) = locked_until.and_then(|u| secs_until(u, at)) {
        return Err(StoreError::Locked { retry_after_secs });
    }
    if last_failure.is_some_and(|t| now_ms - t >= FAILURE_DECAY_SECS * 1000) {
        failures = 0;
    }
    let budget = tx.query_opt("SELECT window_start, used FROM pin_budget WHERE id = 1", db_params![])?;
    let budget: Option<(i64, i64)> = budget.map(|r| Ok::<_, StoreError>((r.get(0)?, r.get(1)?))).transpose()?;
    let (window_start, used) = match budget {
        Some((start, used)) if now_ms - start < GLOBAL_WINDOW_SECS * 1000 => (start, used),
        _ => (now_ms, 0),
    };
    if used >= GLOBAL_FAILURES_PER_WINDOW {
        let retry_after_secs = secs_until(window_start + GLOBAL_WINDOW_SECS * 1000, at).unwrap_or(1);
        return Err(StoreError::Locked { retry_after_secs });
    }
    failures += 1;
    let locks = (failures >= MAX_FAILURES).then(|| now_ms + lockout_secs(failures) * 1000);
    tx.execute(
        "INSERT INTO pin_attempts (subject, failures, locked_until, last_failure_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
             last_failure_at = excluded.last_failure_at",
        db_params![subject, failures, locks, now_ms],
    )?;
    tx.execute(
        "INSERT INTO pin_budget (id, window_start, used) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET window_start = excluded.window_start, used = excluded.used",
        db_params![window_start, used + 1],
    )?;
    Ok(Reservation { subject: subject.to_string(), locks })
}

/// A right PIN: the subject's count starts again and its reservation goes back to the global budget.
fn refund(tx: &Conn<'_>, reservation: &Reservation) -> Result<()> {
    tx.execute("DELETE FROM pin_attempts WHERE subject = ?1", db_params![reservation.subject])?;
    tx.execute("UPDATE pin_budget SET used = used - 1 WHERE id = 1 AND used > 0", db_params![])?;
    Ok(())
}

/// The stored hash of the admin's PIN or a clerk's, with who it belongs to.
fn stored_pin(conn: &Conn<'_>, clerk_id: Option<i64>) -> Result<Option<(String, PinHolder)>> {
    match clerk_id {
        None => conn
            .query_opt("SELECT value FROM settings WHERE key = ?1", db_params![ADMIN_PIN_KEY])?
            .map(|r| Ok((r.get(0)?, PinHolder::Admin)))
            .transpose(),
        Some(id) => conn
            .query_opt("SELECT pin_hash, name FROM clerks WHERE id = ?1", db_params![id])?
            .map(|r| Ok((r.get(0)?, PinHolder::Clerk { id, name: r.get(1)? })))
            .transpose(),
    }
}

impl Store {
    pub fn admin_pin_is_set(&self) -> Result<bool> {
        self.with(|conn| {
            Ok(conn.query_opt("SELECT 1 FROM settings WHERE key = ?1", db_params![ADMIN_PIN_KEY])?.is_some())
        })
    }

    /// First run only: sets the admin PIN if none is set yet (a second caller gets a conflict).
    pub fn set_first_admin_pin(&self, pin: &str, actor: &str) -> Result<()> {
        check_pin_strength(pin, ADMIN_PIN_DIGITS)?;
        let hash = hash_secret(pin)?;
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                let inserted = tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                    db_params![ADMIN_PIN_KEY, hash],
                )?;
                if inserted == 0 {
                    return Err(StoreError::Conflict("the admin PIN is already set".into()));
                }
                audit::append_event(tx, key, SETTINGS_CHAIN, now(), actor, "admin_pin_set", &serde_json::json!({}))
            })
        })
    }

    /// Replaces the admin PIN; the caller has already proven the current one by signing in.
    pub fn change_admin_pin(&self, new_pin: &str, actor: &str) -> Result<()> {
        check_pin_strength(new_pin, ADMIN_PIN_DIGITS)?;
        let hash = hash_secret(new_pin)?;
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute("UPDATE settings SET value = ?2 WHERE key = ?1", db_params![ADMIN_PIN_KEY, hash])?;
                audit::append_event(tx, key, SETTINGS_CHAIN, now(), actor, "admin_pin_changed", &serde_json::json!({}))
            })
        })
    }

    /// Checks a PIN for the admin (`clerk_id` None) or a clerk. The attempt is counted before the PIN is
    /// checked (see [`reserve_attempt`]); while locked, no PIN is even checked. Returns who signed in, or
    /// `Ok(None)` for a wrong PIN.
    pub fn check_pin(&self, clerk_id: Option<i64>, pin: &str) -> Result<Option<PinHolder>> {
        let at = now();
        let subject = clerk_id.map_or_else(|| ADMIN_SUBJECT.to_string(), |id| format!("clerk:{id}"));
        let (stored, reservation) = self.with(|conn| {
            let reservation = reserve_attempt(conn, &subject, at)?;
            Ok((stored_pin(conn, clerk_id)?, reservation))
        })?;
        // argon2 runs without the connection lock held.
        let holder = match stored {
            Some((hash, holder)) => verify_secret(pin, &hash).then_some(holder),
            None => {
                burn_verification(pin);
                None
            }
        };
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| match (&holder, reservation.locks) {
                (Some(_), _) => refund(tx, &reservation),
                (None, Some(until)) => {
                    let detail = serde_json::json!({"subject": subject, "until": to_ms(from_ms(until))});
                    audit::append_event(tx, key, SETTINGS_CHAIN, at, "kiosk", "pin_locked", &detail)
                }
                (None, None) => Ok(()),
            })
        })?;
        Ok(holder)
    }

    /// For a person with access to the data directory (`vouch admin unlock`): ends every PIN lockout and
    /// empties the global budget. Returns how many subjects were locked or counting.
    pub fn unlock_pins(&self, actor: &str) -> Result<usize> {
        let key = self.audit_key();
        let cleared = self.with(|conn| {
            conn.transaction(|tx| {
                let cleared = tx.execute("DELETE FROM pin_attempts", db_params![])?;
                tx.execute("DELETE FROM pin_budget", db_params![])?;
                let detail = serde_json::json!({"subjects": cleared});
                audit::append_event(tx, key, SETTINGS_CHAIN, now(), actor, "pins_unlocked", &detail)?;
                Ok(cleared)
            })
        })?;
        Ok(usize::try_from(cleared).unwrap_or(usize::MAX))
    }

    /// For a person with access to the data directory (`vouch admin reset-pin`): sets the admin PIN whether
    /// or not one is set, and ends the admin's lockout.
    pub fn reset_admin_pin(&self, new_pin: &str, actor: &str) -> Result<()> {
        check_pin_strength(new_pin, ADMIN_PIN_DIGITS)?;
        let hash = hash_secret(new_pin)?;
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    db_params![ADMIN_PIN_KEY, hash],
                )?;
                tx.execute("DELETE FROM pin_attempts WHERE subject = ?1", db_params![ADMIN_SUBJECT])?;
                audit::append_event(tx, key, SETTINGS_CHAIN, now(), actor, "admin_pin_reset", &serde_json::json!({}))
            })
        })
    }

    pub fn list_clerks(&self) -> Result<Vec<Clerk>> {
        let rows =
            self.with(|conn| conn.query("SELECT id, name, created_at FROM clerks ORDER BY name", db_params![]))?;
        rows.iter().map(|r| Ok(Clerk { id: r.get(0)?, name: r.get(1)?, created_at: from_ms(r.get(2)?) })).collect()
    }

    pub fn add_clerk(&self, name: &str, pin: &str, actor: &str) -> Result<Clerk> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid("A clerk's name is 1 to 60 characters".into()));
        }
        check_pin_strength(pin, CLERK_PIN_DIGITS)?;
        let hash = hash_secret(pin)?;
        let at = now();
        let key = self.audit_key();
        let id = self.with(|conn| {
            conn.transaction(|tx| {
                if tx.query_opt("SELECT 1 FROM clerks WHERE name = ?1", db_params![name])?.is_some() {
                    return Err(StoreError::Conflict(format!("a clerk named {name:?} already exists")));
                }
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO clerks (name, pin_hash, created_at) VALUES (?1, ?2, ?3) RETURNING id",
                        db_params![name, hash, to_ms(at)],
                    )?
                    .get(0)?;
                let detail = serde_json::json!({"clerk": id, "name": name});
                audit::append_event(tx, key, SETTINGS_CHAIN, at, actor, "clerk_added", &detail)?;
                Ok(id)
            })
        })?;
        Ok(Clerk { id, name: name.to_string(), created_at: at })
    }

    pub fn remove_clerk(&self, id: i64, actor: &str) -> Result<()> {
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                if tx.execute("DELETE FROM clerks WHERE id = ?1", db_params![id])? == 0 {
                    return Err(StoreError::NotFound);
                }
                tx.execute("DELETE FROM pin_attempts WHERE subject = ?1", db_params![format!("clerk:{id}")])?;
                audit::append_event(
                    tx,
                    key,
                    SETTINGS_CHAIN,
                    now(),
                    actor,
                    "clerk_removed",
                    &serde_json::json!({"clerk": id}),
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_pins_are_refused() {
        for pin in ["12345", "111111", "123456", "987654", "12a456", "1234567890123"] {
            assert!(check_pin_strength(pin, 6).is_err(), "{pin}");
        }
        assert!(check_pin_strength("482913", 6).is_ok());
        assert!(check_pin_strength("4829", 4).is_ok());
    }

    #[test]
    fn lockout_grows_and_is_capped() {
        assert_eq!(lockout_secs(5), 60);
        assert_eq!(lockout_secs(6), 120);
        assert_eq!(lockout_secs(50), 3600);
    }
}
