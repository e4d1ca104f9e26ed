//! Kiosks paired with a central service. An admin of the central makes a one-time pairing code for a kiosk (its
//! name and branch); the kiosk exchanges the code, once and before it expires, for client credentials of its own
//! (scope `kiosk`), with which it reaches the sync API and nothing else.

use rand::Rng;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use vouch_core::Scope;

use crate::audit::{self, CLIENTS_CHAIN};
use crate::case_codes::ALPHABET;
use crate::clients::{CreatedClient, NewClient};
use crate::credentials::secret_mac;
use crate::db::Row;
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::{from_ms, now, to_ms, Store};

/// The API a kiosk's tokens reach, and the only one: what `Store::client_for_token` checks them against.
pub const SYNC_API: &str = "sync";

/// Characters in a pairing code: about 59 bits, typed once by an admin at the kiosk.
pub const PAIRING_CODE_LEN: usize = 12;
/// How long a pairing code can be used.
pub const PAIRING_CODE_TTL: Duration = Duration::hours(24);
const PAIRING_MAC_LABEL: &str = "vouch kiosk pairing code";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kiosk {
    /// The id of its client.
    pub id: String,
    pub name: String,
    pub branch: Option<String>,
    pub paired_at: OffsetDateTime,
    pub last_seen_at: Option<OffsetDateTime>,
    /// Where its walk-ins go, if it takes any ([`crate::walk_ins`]).
    pub walk_ins: Option<crate::walk_ins::WalkIns>,
}

/// A pairing code as shown once to the admin who made it: `ABCD-EFGH-JKLM`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairingCode {
    pub code: String,
    pub expires_at: OffsetDateTime,
}

/// A kiosk just paired, and the credentials it signs in with (the secret is shown this once).
#[derive(Debug, Clone)]
pub struct PairedKiosk {
    pub kiosk: Kiosk,
    pub credentials: CreatedClient,
}

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..PAIRING_CODE_LEN)
        .map(|_| char::from(ALPHABET.get(rng.gen_range(0..ALPHABET.len())).copied().unwrap_or(b'A')))
        .collect()
}

fn shown(code: &str) -> String {
    code.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// What people type, as stored: any case, spaces or dashes; `None` when it cannot be a code.
fn normalize(input: &str) -> Option<String> {
    let code: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == PAIRING_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

fn check_label(what: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() || value.chars().count() > 100 || value.chars().any(char::is_control) {
        return Err(StoreError::Invalid(format!("A kiosk's {what} is 1 to 100 characters")));
    }
    Ok(())
}

fn kiosk_from_row(r: &Row) -> Result<Kiosk> {
    Ok(Kiosk {
        id: r.get(0)?,
        name: r.get(1)?,
        branch: r.get(2)?,
        paired_at: from_ms(r.get(3)?),
        last_seen_at: r.get::<Option<i64>>(4)?.map(from_ms),
        walk_ins: match (r.get::<Option<String>>(5)?, r.get::<Option<String>>(6)?) {
            (Some(client_id), Some(flow_id)) => Some(crate::walk_ins::WalkIns { client_id, flow_id }),
            _ => None,
        },
    })
}

const KIOSK_COLUMNS: &str = "id, name, branch, paired_at, last_seen_at, walk_in_client, walk_in_flow";

impl Store {
    fn pairing_mac(&self, code: &str) -> Result<String> {
        secret_mac(&self.key().subkey(PAIRING_MAC_LABEL)?, code)
    }

    /// A one-time code with which a kiosk named `name` (of `branch`) pairs within [`PAIRING_CODE_TTL`]. Only its
    /// keyed hash is kept.
    pub fn create_pairing_code(&self, name: &str, branch: Option<&str>, actor: &str) -> Result<PairingCode> {
        check_label("name", name)?;
        if let Some(branch) = branch {
            check_label("branch", branch)?;
        }
        let code = new_code();
        let (at, expires_at) = (now(), now() + PAIRING_CODE_TTL);
        let hash = self.pairing_mac(&code)?;
        let detail = serde_json::json!({"name": name, "branch": branch, "expires_at": to_ms(expires_at)});
        self.with(|conn| {
            conn.transaction(|tx| {
                tx.execute(
                    "INSERT INTO kiosk_pairing_codes (code_hash, name, branch, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    db_params![hash, name, branch, to_ms(at), to_ms(expires_at)],
                )?;
                audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, at, actor, "kiosk_pairing_code_made", &detail)
            })
        })?;
        Ok(PairingCode { code: shown(&code), expires_at })
    }

    /// Pairs the kiosk a code was made for: the code is used up, and the kiosk's client is made, in one
    /// transaction. A code that is unknown, used or expired is `NotFound`, whichever it is.
    pub fn pair_kiosk(&self, code: &str) -> Result<PairedKiosk> {
        let code = normalize(code).ok_or(StoreError::NotFound)?;
        let hash = self.pairing_mac(&code)?;
        let at = now();
        self.with(|conn| {
            conn.transaction(|tx| {
                // Whoever uses the code first takes it: the update is the claim.
                let row = tx
                    .query_opt(
                        "UPDATE kiosk_pairing_codes SET used_at = ?2
                         WHERE code_hash = ?1 AND used_at IS NULL AND expires_at > ?2
                         RETURNING name, branch",
                        db_params![hash, to_ms(at)],
                    )?
                    .ok_or(StoreError::NotFound)?;
                let (name, branch): (String, Option<String>) = (row.get(0)?, row.get(1)?);
                let new = NewClient {
                    name: format!("kiosk: {name}"),
                    scope: Scope::Kiosk,
                    token_ttl_secs: None,
                    webhook_url: None,
                };
                let credentials = self.create_client_in(tx, &new, "kiosk pairing")?;
                let id = credentials.client.id.clone();
                tx.execute(
                    "INSERT INTO kiosks (id, name, branch, paired_at) VALUES (?1, ?2, ?3, ?4)",
                    db_params![id, name, branch, to_ms(at)],
                )?;
                tx.execute("UPDATE kiosk_pairing_codes SET kiosk_id = ?1 WHERE code_hash = ?2", db_params![id, hash])?;
                let detail = serde_json::json!({"kiosk": id, "name": name, "branch": branch});
                audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, at, "kiosk pairing", "kiosk_paired", &detail)?;
                let kiosk = Kiosk { id, name, branch, paired_at: at, last_seen_at: None, walk_ins: None };
                Ok(PairedKiosk { kiosk, credentials })
            })
        })
    }

    /// Every paired kiosk, oldest first.
    pub fn kiosks(&self) -> Result<Vec<Kiosk>> {
        let sql = format!("SELECT {KIOSK_COLUMNS} FROM kiosks ORDER BY paired_at, id");
        self.with(|conn| conn.query(&sql, db_params![]))?.iter().map(kiosk_from_row).collect()
    }

    /// The kiosk a client is, if it is one.
    pub fn kiosk(&self, client_id: &str) -> Result<Option<Kiosk>> {
        let sql = format!("SELECT {KIOSK_COLUMNS} FROM kiosks WHERE id = ?1");
        let row = self.with(|conn| conn.query_opt(&sql, db_params![client_id]))?;
        row.as_ref().map(kiosk_from_row).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_however_people_type_them() {
        let code = new_code();
        assert_eq!(normalize(&shown(&code)).as_deref(), Some(code.as_str()));
        assert_eq!(normalize(&shown(&code).to_lowercase().replace('-', " ")).as_deref(), Some(code.as_str()));
        assert_eq!(shown("ABCDEFGHJKMN"), "ABCD-EFGH-JKMN");
        assert_eq!(normalize("ABCD-EFGH-JKM0"), None, "0 is not in the alphabet");
        assert_eq!(normalize("ABCD"), None);
    }
}
