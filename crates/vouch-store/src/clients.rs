//! API clients and their bearer tokens.

use crate::db::{Conn, Row};
use crate::db_params;
use time::OffsetDateTime;
use vouch_core::{Client, Scope};

use crate::audit::{self, CLIENTS_CHAIN};
use crate::credentials::{random_token, secret_mac, verify_secret_mac, SECRET_MAC_LABEL};
use crate::error::{Result, StoreError};
use crate::{from_ms, now, to_ms, Store};

#[derive(Debug, Clone)]
pub struct NewClient {
    pub name: String,
    pub scope: Scope,
    pub token_ttl_secs: Option<u32>,
    pub webhook_url: Option<String>,
}

/// A freshly created client with its secret: the only moment the secret exists in clear.
#[derive(Debug, Clone)]
pub struct CreatedClient {
    pub client: Client,
    pub secret: String,
}

#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_at: OffsetDateTime,
    pub ttl_secs: u32,
}

/// Why authentication failed. Callers answer every variant the same way to the outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    UnknownClient,
    WrongSecret,
    Revoked,
}

pub(crate) const CLIENT_COLUMNS: &str = "id, name, scope, token_ttl_secs, webhook_url, created_at, revoked_at";

pub(crate) fn client_from_row(r: &Row) -> Result<Client> {
    let scope: String = r.get(2)?;
    Ok(Client {
        id: r.get(0)?,
        name: r.get(1)?,
        scope: Scope::parse(&scope).unwrap_or(Scope::Integrator),
        token_ttl_secs: r.get(3)?,
        webhook_url: r.get(4)?,
        created_at: from_ms(r.get(5)?),
        revoked_at: r.get::<Option<i64>>(6)?.map(from_ms),
    })
}

/// Webhooks go to http(s) URLs only, of a sane length.
pub fn check_webhook_url(url: &str) -> Result<()> {
    let ok = (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 2000
        && url.len() > "http://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid("The webhook URL must be an http:// or https:// address".into()))
    }
}

fn sealed_secret_aad(client_id: &str) -> Vec<u8> {
    format!("client-secret:{client_id}").into_bytes()
}

fn webhook_secret_aad(client_id: &str) -> Vec<u8> {
    format!("webhook-secret:{client_id}").into_bytes()
}

/// A Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn new_webhook_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

impl Store {
    pub fn create_client(&self, new: &NewClient, actor: &str) -> Result<CreatedClient> {
        self.with(|conn| conn.transaction(|tx| self.create_client_in(tx, new, actor)))
    }

    /// [`Store::create_client`] inside the caller's transaction.
    pub(crate) fn create_client_in(&self, tx: &Conn<'_>, new: &NewClient, actor: &str) -> Result<CreatedClient> {
        let name_ok = !new.name.trim().is_empty() && new.name.chars().count() <= 100;
        if !name_ok || new.name.chars().any(char::is_control) {
            return Err(StoreError::Invalid("A client's name is 1 to 100 characters".into()));
        }
        if let Some(url) = &new.webhook_url {
            check_webhook_url(url)?;
        }
        let id = format!("vouch-{}", uuid::Uuid::new_v4());
        let secret = random_token();
        let secret_hash = secret_mac(&self.secret_mac_key()?, &secret)?;
        let sealed = self.key().seal(secret.as_bytes(), &sealed_secret_aad(&id))?;
        let created_at = now();
        let detail = serde_json::json!({
            "client_id": id, "name": new.name, "scope": new.scope.as_str(),
            "token_ttl_secs": new.token_ttl_secs, "webhook_url": new.webhook_url,
        });
        tx.execute(
            "INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, token_ttl_secs, webhook_url, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            db_params![
                id,
                new.name,
                secret_hash,
                sealed,
                new.scope.as_str(),
                new.token_ttl_secs,
                new.webhook_url,
                to_ms(created_at)
            ],
        )?;
        audit::append_event(tx, self.audit_key(), CLIENTS_CHAIN, created_at, actor, "client_created", &detail)?;
        let client = Client {
            id,
            name: new.name.clone(),
            scope: new.scope,
            token_ttl_secs: new.token_ttl_secs,
            webhook_url: new.webhook_url.clone(),
            created_at,
            revoked_at: None,
        };
        Ok(CreatedClient { client, secret })
    }

    pub fn list_clients(&self) -> Result<Vec<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, id");
        self.with(|conn| conn.query(&sql, db_params![]))?.iter().map(client_from_row).collect()
    }

    pub fn get_client(&self, id: &str) -> Result<Client> {
        self.with(|conn| get_client(conn, id))
    }

    /// Revokes a client and deletes its tokens in one transaction, so they stop working at once.
    pub fn revoke_client(&self, id: &str, actor: &str) -> Result<Client> {
        let (at, key) = (now(), self.audit_key());
        self.with(|conn| {
            conn.transaction(|tx| {
                let changed = tx.execute(
                    "UPDATE clients SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                    db_params![to_ms(at), id],
                )?;
                if changed == 0 {
                    return Err(match get_client(tx, id) {
                        Ok(_) => StoreError::Conflict("the client is already revoked".into()),
                        Err(e) => e,
                    });
                }
                // Its tokens name a revoked client from now on, so they stop working at once.
                // A revoked client gets nothing more: its queued webhooks stop with the reason.
                let webhooks = tx.execute(
                    "UPDATE webhook_deliveries SET status = 'failed', last_error = 'the client was revoked',
                            body = CASE WHEN message = 1 THEN ?2 ELSE body END
                     WHERE client_id = ?1 AND status = 'pending'",
                    db_params![id, Vec::<u8>::new()],
                )?;
                let detail = serde_json::json!({"client_id": id, "tokens_ended": true, "webhooks_stopped": webhooks});
                audit::append_event(tx, key, CLIENTS_CHAIN, at, actor, "client_revoked", &detail)?;
                get_client(tx, id)
            })
        })
    }

    /// Sets or clears (None) where the client's completion webhooks go.
    pub fn set_client_webhook(&self, id: &str, url: Option<&str>, actor: &str) -> Result<Client> {
        if let Some(u) = url {
            check_webhook_url(u)?;
        }
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                if tx.execute("UPDATE clients SET webhook_url = ?1 WHERE id = ?2", db_params![url, id])? == 0 {
                    return Err(StoreError::NotFound);
                }
                let detail = serde_json::json!({"client_id": id, "webhook_url": url});
                audit::append_event(tx, key, CLIENTS_CHAIN, now(), actor, "client_webhook_set", &detail)?;
                get_client(tx, id)
            })
        })
    }

    /// Replaces a client's secret (which also signs its webhooks) and ends its tokens. Returns the new
    /// secret: the only moment it exists in clear.
    pub fn rotate_client_secret(&self, id: &str, actor: &str) -> Result<String> {
        let secret = random_token();
        let secret_hash = secret_mac(&self.secret_mac_key()?, &secret)?;
        let sealed = self.key().seal(secret.as_bytes(), &sealed_secret_aad(id))?;
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                // A new generation ends every token signed for the old one.
                let changed = tx.execute(
                    "UPDATE clients SET secret_hash = ?1, secret_sealed = ?2, token_generation = token_generation + 1
                     WHERE id = ?3 AND revoked_at IS NULL",
                    db_params![secret_hash, sealed, id],
                )?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                let detail = serde_json::json!({"client_id": id, "tokens_ended": true});
                audit::append_event(tx, key, CLIENTS_CHAIN, now(), actor, "client_secret_rotated", &detail)
            })
        })?;
        Ok(secret)
    }

    pub(crate) fn secret_mac_key(&self) -> Result<[u8; 32]> {
        self.key().subkey(SECRET_MAC_LABEL)
    }

    /// Checks a client id and secret: one HMAC-SHA256 and a constant-time comparison. An unknown client
    /// costs the same MAC, so timing does not tell it from a wrong secret.
    pub fn authenticate_client(&self, id: &str, secret: &str) -> Result<Result<Client, AuthFailure>> {
        let sql = format!("SELECT {CLIENT_COLUMNS}, secret_hash FROM clients WHERE id = ?1");
        let row = self.with(|conn| conn.query_opt(&sql, db_params![id]))?;
        let row: Option<(Client, String)> =
            row.map(|r| Ok::<_, StoreError>((client_from_row(&r)?, r.get(7)?))).transpose()?;
        let key = self.secret_mac_key()?;
        let Some((client, stored)) = row else {
            let _ = verify_secret_mac(&key, secret, &secret_mac(&key, "")?);
            return Ok(Err(AuthFailure::UnknownClient));
        };
        let secret_ok = verify_secret_mac(&key, secret, &stored);
        Ok(match (secret_ok, client.is_active()) {
            (false, _) => Err(AuthFailure::WrongSecret),
            (true, false) => Err(AuthFailure::Revoked),
            (true, true) => Ok(client),
        })
    }

    /// Clients created before secrets were MACs (argon2id hashes): their sealed secret gives the MAC, so
    /// each is rewritten once, at open, and every client authenticates the same way. Returns how many.
    pub(crate) fn upgrade_secret_hashes(&self) -> Result<usize> {
        let key = self.secret_mac_key()?;
        self.with(|conn| {
            conn.transaction(|tx| {
                let legacy = tx.query(
                    "SELECT id, secret_sealed FROM clients WHERE secret_hash NOT LIKE 'hmac-sha256$%'",
                    db_params![],
                )?;
                for row in &legacy {
                    let (id, sealed): (String, Vec<u8>) = (row.get(0)?, row.get(1)?);
                    let secret = self.key().open(&sealed, &sealed_secret_aad(&id))?;
                    let secret = String::from_utf8(secret)
                        .map_err(|_| StoreError::Crypto("a sealed secret is not text".into()))?;
                    tx.execute(
                        "UPDATE clients SET secret_hash = ?1 WHERE id = ?2",
                        db_params![secret_mac(&key, &secret)?, id],
                    )?;
                }
                Ok(legacy.len())
            })
        })
    }

    /// The client's Standard Webhooks secret (`whsec_...`), made and sealed on first use.
    pub fn client_webhook_secret(&self, id: &str) -> Result<String> {
        // Made once: the first to write it wins (`IS NULL`), and whoever lost reads the winner's.
        let fresh = new_webhook_secret();
        let sealed_fresh = self.key().seal(fresh.as_bytes(), &webhook_secret_aad(id))?;
        let sealed: Option<Vec<u8>> = self.with(|conn| {
            conn.execute(
                "UPDATE clients SET webhook_secret_sealed = ?1 WHERE id = ?2 AND webhook_secret_sealed IS NULL",
                db_params![sealed_fresh, id],
            )?;
            conn.query_one("SELECT webhook_secret_sealed FROM clients WHERE id = ?1", db_params![id])?.get(0)
        })?;
        let sealed = sealed.ok_or_else(|| StoreError::corrupt("a client's webhook secret was not kept"))?;
        String::from_utf8(self.key().open(&sealed, &webhook_secret_aad(id))?)
            .map_err(|_| StoreError::Crypto("a sealed webhook secret is not text".into()))
    }

    /// Replaces the client's webhook secret (its OAuth secret and tokens stay). Returns the new one: the
    /// only moment it is shown.
    pub fn rotate_webhook_secret(&self, id: &str, actor: &str) -> Result<String> {
        let secret = new_webhook_secret();
        let sealed = self.key().seal(secret.as_bytes(), &webhook_secret_aad(id))?;
        let key = self.audit_key();
        self.with(|conn| {
            conn.transaction(|tx| {
                let changed = tx.execute(
                    "UPDATE clients SET webhook_secret_sealed = ?1 WHERE id = ?2 AND revoked_at IS NULL",
                    db_params![sealed, id],
                )?;
                if changed == 0 {
                    return Err(StoreError::NotFound);
                }
                let detail = serde_json::json!({"client_id": id});
                audit::append_event(tx, key, CLIENTS_CHAIN, now(), actor, "client_webhook_secret_rotated", &detail)
            })
        })?;
        Ok(secret)
    }

    /// The client's secret in clear, for signing its webhooks.
    pub fn client_signing_secret(&self, id: &str) -> Result<Vec<u8>> {
        let sealed: Vec<u8> = self
            .with(|conn| conn.query_one("SELECT secret_sealed FROM clients WHERE id = ?1", db_params![id])?.get(0))?;
        self.key().open(&sealed, &sealed_secret_aad(id))
    }

    /// An active client's token generation (rotating its secret moves it on, ending older tokens).
    pub(crate) fn token_generation(&self, client_id: &str) -> Result<i64> {
        self.with(|conn| {
            conn.query_one(
                "SELECT token_generation FROM clients WHERE id = ?1 AND revoked_at IS NULL",
                db_params![client_id],
            )?
            .get(0)
        })
    }

    /// `audience`: the API the token is for (`eeid`, `danaconnect`), or None for any. The token is signed,
    /// not stored (see [`crate::tokens`]): issuing one reads the client's generation and writes nothing.
    pub fn issue_token(&self, client_id: &str, ttl_secs: u32, audience: Option<&str>) -> Result<IssuedToken> {
        let generation = self.token_generation(client_id)?;
        let expires_at = now() + time::Duration::seconds(i64::from(ttl_secs));
        let claims = crate::tokens::Claims {
            client_id: client_id.to_string(),
            expires_ms: to_ms(expires_at),
            audience: audience.map(str::to_owned),
            generation,
        };
        let token = crate::tokens::sign(&self.key().subkey(crate::tokens::TOKEN_MAC_LABEL)?, &claims)?;
        Ok(IssuedToken { token, expires_at, ttl_secs })
    }

    /// The active client a bearer token belongs to, or `None` for a forged, expired or revoked one, one from
    /// before the client's secret was rotated, or one issued for another vendor's API. `api` is where it is
    /// used; Vouch's own API (`vouch`) takes every vendor's tokens, since its routes (reference photos, flows)
    /// extend each vendor's.
    pub fn client_for_token(&self, token: &str, api: &str) -> Result<Option<Client>> {
        let key = self.key().subkey(crate::tokens::TOKEN_MAC_LABEL)?;
        let Some(claims) = crate::tokens::verify(&key, token) else { return Ok(None) };
        let audience_ok = claims.audience.as_deref().is_none_or(|a| a == api) || api == "vouch";
        if claims.expires_ms <= to_ms(now()) || !audience_ok {
            return Ok(None);
        }
        let client = self.with(|conn| active_client(conn, &claims.client_id, claims.generation))?;
        // A kiosk's client reaches the sync API only, and only a kiosk's client reaches it.
        Ok(client.filter(|c| c.is_kiosk() == (api == crate::kiosks::SYNC_API)))
    }
}

fn get_client(conn: &Conn<'_>, id: &str) -> Result<Client> {
    client_from_row(&conn.query_one(&format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"), db_params![id])?)
}

/// The client of a token of `generation`, if it is still active and the generation still current.
pub(crate) fn active_client(conn: &Conn<'_>, id: &str, generation: i64) -> Result<Option<Client>> {
    let sql =
        format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1 AND revoked_at IS NULL AND token_generation = ?2");
    conn.query_opt(&sql, db_params![id, generation])?.map(|r| client_from_row(&r)).transpose()
}
