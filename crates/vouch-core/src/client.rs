use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// What a client's tokens may do. Integrators call the vendor APIs; admins may also decide cases; a kiosk paired
/// with a central service reaches its sync API and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Integrator,
    Admin,
    Kiosk,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Integrator => "integrator",
            Scope::Admin => "admin",
            Scope::Kiosk => "kiosk",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        match s {
            "integrator" => Some(Scope::Integrator),
            "admin" => Some(Scope::Admin),
            "kiosk" => Some(Scope::Kiosk),
            _ => None,
        }
    }
}

/// An API client: an integrator's backend or an admin tool. Its secret lives only as a hash in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub scope: Scope,
    /// Token lifetime for this client; `None` uses each token endpoint's vendor default.
    pub token_ttl_secs: Option<u32>,
    pub webhook_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[ts(type = "string")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[ts(type = "string | null")]
    pub revoked_at: Option<OffsetDateTime>,
}

impl Client {
    pub fn is_active(&self) -> bool {
        self.revoked_at.is_none()
    }

    pub fn is_admin(&self) -> bool {
        self.scope == Scope::Admin
    }

    pub fn is_kiosk(&self) -> bool {
        self.scope == Scope::Kiosk
    }
}
