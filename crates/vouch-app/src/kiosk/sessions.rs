//! Kiosk sign-ins. A PIN opens a session for a clerk or the admin; the token lives in memory only (a
//! restart signs everyone out) and lapses after a few idle minutes, as a walked-away-from terminal should.
//! The customer has no session: customer commands need none and can reach nothing else.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// Signed-in staff are signed out after this long without a call.
pub const STAFF_IDLE: Duration = Duration::from_secs(10 * 60);
/// Wrong case codes allowed per minute before the kiosk makes people wait (codes are 40 bits, but a
/// terminal should not be a free guessing oracle).
const CODE_FAILURES_PER_MINUTE: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Admin,
}

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct Session {
    pub role: Role,
    pub name: String,
    /// How the audit log names this person, e.g. `clerk:3:Maria Tamm` or `admin:kiosk`.
    #[serde(skip)]
    pub actor: String,
}

/// Random 256-bit tokens, kept in memory by their SHA-256 only, each with a value and a lifetime. `Idle`:
/// every use starts the lifetime again (sign-ins, paired screens); `Fixed`: it runs from issue (preview tokens).
pub struct ExpiringTokens<V> {
    tokens: Mutex<HashMap<Vec<u8>, (V, Instant)>>,
    lifetime: Duration,
    renew_on_use: bool,
}

impl<V: Clone> ExpiringTokens<V> {
    pub fn idle(lifetime: Duration) -> Self {
        ExpiringTokens { tokens: Mutex::default(), lifetime, renew_on_use: true }
    }

    pub fn fixed(lifetime: Duration) -> Self {
        ExpiringTokens { tokens: Mutex::default(), lifetime, renew_on_use: false }
    }

    /// A new token for `value`; expired ones are dropped on the way.
    pub fn issue(&self, value: V) -> String {
        let token = vouch_store::credentials::random_token();
        if let Ok(mut map) = self.tokens.lock() {
            map.retain(|_, (_, at)| at.elapsed() < self.lifetime);
            map.insert(vouch_store::credentials::token_hash(&token), (value, Instant::now()));
        }
        token
    }

    /// The live value of a token (renewing an idle one), or None for an unknown or expired token.
    pub fn get(&self, token: &str) -> Option<V> {
        let mut map = self.tokens.lock().ok()?;
        let key = vouch_store::credentials::token_hash(token);
        match map.get_mut(&key) {
            Some((value, at)) if at.elapsed() < self.lifetime => {
                if self.renew_on_use {
                    *at = Instant::now();
                }
                Some(value.clone())
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, token: &str) {
        if let Ok(mut map) = self.tokens.lock() {
            map.remove(&vouch_store::credentials::token_hash(token));
        }
    }
}

pub struct KioskSessions {
    sessions: ExpiringTokens<Session>,
    code_failures: Mutex<VecDeque<Instant>>,
}

impl Default for KioskSessions {
    fn default() -> Self {
        KioskSessions { sessions: ExpiringTokens::idle(STAFF_IDLE), code_failures: Mutex::default() }
    }
}

impl KioskSessions {
    pub fn open(&self, role: Role, name: String, actor: String) -> String {
        self.sessions.issue(Session { role, name, actor })
    }

    /// The live session for a token, and marks it as used now.
    pub fn touch(&self, token: &str) -> Option<Session> {
        self.sessions.get(token)
    }

    pub fn close(&self, token: &str) {
        self.sessions.remove(token);
    }

    /// Whether case-code lookups are paused after too many wrong codes in the last minute.
    pub fn codes_paused(&self) -> bool {
        self.code_failures.lock().is_ok_and(|mut q| {
            while q.front().is_some_and(|t| t.elapsed() > Duration::from_secs(60)) {
                q.pop_front();
            }
            q.len() >= CODE_FAILURES_PER_MINUTE
        })
    }

    pub fn note_wrong_code(&self) {
        if let Ok(mut q) = self.code_failures.lock() {
            q.push_back(Instant::now());
        }
    }
}
