//! Kiosk PINs: one admin PIN (in settings) and one PIN per clerk, all argon2id, with a lockout after
//! repeated wrong PINs that survives a restart.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
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
const FIRST_LOCKOUT_SECS: i64 = 60;
const MAX_LOCKOUT_SECS: i64 = 3600;

#[derive(Debug, Clone, Serialize)]
pub struct Clerk {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
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

fn check_not_locked(conn: &Connection, subject: &str, at: OffsetDateTime) -> Result<()> {
    let locked_until: Option<Option<i64>> = conn
        .query_row("SELECT locked_until FROM pin_attempts WHERE subject = ?1", [subject], |r| r.get(0))
        .optional()?;
    if let Some(Some(until)) = locked_until {
        let left = until - to_ms(at);
        if left > 0 {
            return Err(StoreError::Locked { retry_after_secs: u64::try_from(left / 1000 + 1).unwrap_or(1) });
        }
    }
    Ok(())
}

fn record_result(tx: &Transaction<'_>, subject: &str, ok: bool, at: OffsetDateTime) -> Result<Option<i64>> {
    if ok {
        tx.execute("DELETE FROM pin_attempts WHERE subject = ?1", [subject])?;
        return Ok(None);
    }
    let failures: i64 = tx
        .query_row("SELECT failures FROM pin_attempts WHERE subject = ?1", [subject], |r| r.get(0))
        .optional()?
        .unwrap_or(0)
        + 1;
    let locked_until = (failures >= MAX_FAILURES).then(|| to_ms(at) + lockout_secs(failures) * 1000);
    tx.execute(
        "INSERT INTO pin_attempts (subject, failures, locked_until) VALUES (?1, ?2, ?3)
         ON CONFLICT(subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until",
        params![subject, failures, locked_until],
    )?;
    Ok(locked_until)
}

impl Store {
    pub fn admin_pin_is_set(&self) -> Result<bool> {
        Ok(self
            .conn()?
            .query_row("SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?1)", [ADMIN_PIN_KEY], |r| r.get(0))?)
    }

    /// First run only: sets the admin PIN if none is set yet (a second caller gets a conflict).
    pub fn set_first_admin_pin(&self, pin: &str, actor: &str) -> Result<()> {
        check_pin_strength(pin, 6)?;
        let hash = hash_secret(pin)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let inserted =
            tx.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?1, ?2)", params![ADMIN_PIN_KEY, hash])?;
        if inserted == 0 {
            return Err(StoreError::Conflict("the admin PIN is already set".into()));
        }
        audit::append(&tx, SETTINGS_CHAIN, now(), actor, "admin_pin_set", &serde_json::json!({}))?;
        tx.commit()?;
        Ok(())
    }

    /// Replaces the admin PIN; the caller has already proven the current one by signing in.
    pub fn change_admin_pin(&self, new_pin: &str, actor: &str) -> Result<()> {
        check_pin_strength(new_pin, 6)?;
        let hash = hash_secret(new_pin)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        tx.execute("UPDATE settings SET value = ?2 WHERE key = ?1", params![ADMIN_PIN_KEY, hash])?;
        audit::append(&tx, SETTINGS_CHAIN, now(), actor, "admin_pin_changed", &serde_json::json!({}))?;
        tx.commit()?;
        Ok(())
    }

    /// Checks a PIN for the admin (`clerk_id` None) or a clerk. Wrong PINs count towards a lockout; while
    /// locked, no PIN is even checked. Returns who signed in, or `Ok(None)` for a wrong PIN.
    pub fn check_pin(&self, clerk_id: Option<i64>, pin: &str) -> Result<Option<PinHolder>> {
        let at = now();
        let subject = clerk_id.map_or_else(|| ADMIN_SUBJECT.to_string(), |id| format!("clerk:{id}"));
        let stored: Option<(String, PinHolder)> = {
            let conn = self.conn()?;
            match clerk_id {
                None => conn
                    .query_row("SELECT value FROM settings WHERE key = ?1", [ADMIN_PIN_KEY], |r| r.get(0))
                    .optional()?
                    .map(|hash| (hash, PinHolder::Admin)),
                Some(id) => conn
                    .query_row("SELECT pin_hash, name FROM clerks WHERE id = ?1", [id], |r| {
                        Ok((r.get(0)?, PinHolder::Clerk { id, name: r.get(1)? }))
                    })
                    .optional()?,
            }
        };
        check_not_locked(&*self.conn()?, &subject, at)?;
        // argon2 runs without the connection lock held.
        let holder = match stored {
            Some((hash, holder)) => verify_secret(pin, &hash).then_some(holder),
            None => {
                burn_verification(pin);
                None
            }
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let locked = record_result(&tx, &subject, holder.is_some(), at)?;
        if let Some(until) = locked {
            audit::append(
                &tx,
                SETTINGS_CHAIN,
                at,
                "kiosk",
                "pin_locked",
                &serde_json::json!({"subject": subject, "until": to_ms(from_ms(until))}),
            )?;
        }
        tx.commit()?;
        Ok(holder)
    }

    pub fn list_clerks(&self) -> Result<Vec<Clerk>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT id, name, created_at FROM clerks ORDER BY name")?;
        let rows =
            stmt.query_map([], |r| Ok(Clerk { id: r.get(0)?, name: r.get(1)?, created_at: from_ms(r.get(2)?) }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn add_clerk(&self, name: &str, pin: &str, actor: &str) -> Result<Clerk> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid("A clerk's name is 1 to 60 characters".into()));
        }
        check_pin_strength(pin, 4)?;
        let hash = hash_secret(pin)?;
        let at = now();
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let exists: bool =
            tx.query_row("SELECT EXISTS (SELECT 1 FROM clerks WHERE name = ?1)", [name], |r| r.get(0))?;
        if exists {
            return Err(StoreError::Conflict(format!("a clerk named {name:?} already exists")));
        }
        tx.execute(
            "INSERT INTO clerks (name, pin_hash, created_at) VALUES (?1, ?2, ?3)",
            params![name, hash, to_ms(at)],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(&tx, SETTINGS_CHAIN, at, actor, "clerk_added", &serde_json::json!({"clerk": id, "name": name}))?;
        tx.commit()?;
        Ok(Clerk { id, name: name.to_string(), created_at: at })
    }

    pub fn remove_clerk(&self, id: i64, actor: &str) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        if tx.execute("DELETE FROM clerks WHERE id = ?1", [id])? == 0 {
            return Err(StoreError::NotFound);
        }
        tx.execute("DELETE FROM pin_attempts WHERE subject = ?1", [format!("clerk:{id}")])?;
        audit::append(&tx, SETTINGS_CHAIN, now(), actor, "clerk_removed", &serde_json::json!({"clerk": id}))?;
        tx.commit()?;
        Ok(())
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
