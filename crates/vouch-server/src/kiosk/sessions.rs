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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Admin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub role: Role,
    pub name: String,
    /// How the audit log names this person, e.g. `clerk:3:Maria Tamm` or `admin:kiosk`.
    #[serde(skip)]
    pub actor: String,
    #[serde(skip)]
    last_seen: Instant,
}

#[derive(Default)]
pub struct KioskSessions {
    sessions: Mutex<HashMap<Vec<u8>, Session>>,
    code_failures: Mutex<VecDeque<Instant>>,
}

impl KioskSessions {
    pub fn open(&self, role: Role, name: String, actor: String) -> String {
        let token = vouch_store::credentials::random_token();
        if let Ok(mut map) = self.sessions.lock() {
            map.retain(|_, s| s.last_seen.elapsed() < STAFF_IDLE);
            map.insert(
                vouch_store::credentials::token_hash(&token),
                Session { role, name, actor, last_seen: Instant::now() },
            );
        }
        token
    }

    /// The live session for a token, and marks it as used now.
    pub fn touch(&self, token: &str) -> Option<Session> {
        let mut map = self.sessions.lock().ok()?;
        let key = vouch_store::credentials::token_hash(token);
        match map.get_mut(&key) {
            Some(s) if s.last_seen.elapsed() < STAFF_IDLE => {
                s.last_seen = Instant::now();
                Some(s.clone())
            }
            Some(_) => {
                map.remove(&key);
                None
            }
            None => None,
        }
    }

    pub fn close(&self, token: &str) {
        if let Ok(mut map) = self.sessions.lock() {
            map.remove(&vouch_store::credentials::token_hash(token));
        }
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
