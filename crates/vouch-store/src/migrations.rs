use rusqlite::{Connection, OptionalExtension};

use crate::error::{Result, StoreError};

/// Ordered migrations; the index + 1 is the schema version stored in `PRAGMA user_version`.
/// Append only: a released migration is never edited.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_flows.sql"),
    include_str!("../migrations/0003_kiosk.sql"),
    include_str!("../migrations/0004_faces.sql"),
    include_str!("../migrations/0005_liveness.sql"),
    include_str!("../migrations/0006_documents.sql"),
    include_str!("../migrations/0007_document_pages.sql"),
    include_str!("../migrations/0008_signing.sql"),
    include_str!("../migrations/0009_retention.sql"),
    include_str!("../migrations/0010_hardening.sql"),
    include_str!("../migrations/0011_gallery.sql"),
    include_str!("../migrations/0012_gallery_persons.sql"),
    include_str!("../migrations/0013_api_records.sql"),
    include_str!("../migrations/0014_case_subjects.sql"),
    include_str!("../migrations/0015_revoked_jwts.sql"),
    include_str!("../migrations/0016_one_time_codes.sql"),
    include_str!("../migrations/0017_record_deliveries.sql"),
    include_str!("../migrations/0018_messages.sql"),
    include_str!("../migrations/0019_case_paging.sql"),
    include_str!("../migrations/0020_kiosks.sql"),
    include_str!("../migrations/0021_case_claims.sql"),
    include_str!("../migrations/0022_central_link.sql"),
    include_str!("../migrations/0023_case_branches.sql"),
    include_str!("../migrations/0024_walk_ins.sql"),
    include_str!("../migrations/0025_kiosks_run_every_flow.sql"),
    include_str!("../migrations/0026_cases_for_one_kiosk.sql"),
    include_str!("../migrations/0027_dis_customers_at_kiosks.sql"),
    include_str!("../migrations/0028_dis_sessions.sql"),
    include_str!("../migrations/0029_trust_records.sql"),
];

pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the schema up to date, each migration in its own transaction with its version bump.
pub fn migrate(conn: &mut Connection) -> Result<i64> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > latest_version() {
        return Err(StoreError::SchemaTooNew { found: current, known: latest_version() });
    }
    // Foreign keys are off while a migration runs (a table rebuilt to change a column would otherwise have its
    // rows' children refused when the old table is dropped, as SQLite's ALTER TABLE guide says) and checked
    // before it commits; the pragma only takes effect outside a transaction.
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    let applied = apply(conn, current);
    if enforced {
        conn.pragma_update(None, "foreign_keys", "ON")?;
    }
    applied
}

fn apply(conn: &mut Connection, current: i64) -> Result<i64> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let version = index as i64 + 1;
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
        if let Some(table) = broken {
            return Err(StoreError::corrupt(format!("migration {version} leaves a row of {table} without its parent")));
        }
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(latest_version())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn rebuilding_the_deliveries_keeps_their_rows_ids_and_attempts() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        // The schema as it was before the rebuild (0017), with a delivery that was tried.
        for sql in MIGRATIONS.iter().take(16) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 16).unwrap();
        conn.execute_batch(
            "INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at)
                 VALUES ('c1', 'n', 'h', x'00', 'integrator', 0);
             INSERT INTO cases (id, client_id, api, status, claims, reason_translations, created_at, updated_at, expires_at)
                 VALUES ('k1', 'c1', 'eeid', 'pending', '[]', '{}', 0, 0, 0);
             INSERT INTO webhook_deliveries (id, case_id, client_id, url, body, status, attempts, max_attempts, next_attempt_at, created_at)
                 VALUES (7, 'k1', 'c1', 'http://x', x'7b7d', 'failed', 3, 3, 0, 0);
             INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, success) VALUES (7, 1, 0, 5, 0);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();

        let kept: (String, String, i64) = conn
            .query_row("SELECT case_id, status, attempts FROM webhook_deliveries WHERE id = 7", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(kept, ("k1".to_string(), "failed".to_string(), 3));
        let tried: i64 =
            conn.query_row("SELECT count(*) FROM webhook_attempts WHERE delivery_id = 7", [], |r| r.get(0)).unwrap();
        assert_eq!(tried, 1);
        // A record's delivery needs no case and takes the next id; one of neither a case nor a record is refused.
        let insert = "INSERT INTO webhook_deliveries (record_id, record_api, client_id, url, body, status, max_attempts, next_attempt_at, created_at)
                      VALUES (?1, ?2, 'c1', 'http://x', x'7b7d', 'pending', 3, 0, 0)";
        conn.execute(insert, rusqlite::params!["r1", "verifik"]).unwrap();
        assert!(conn.last_insert_rowid() > 7);
        assert!(conn.execute(insert, rusqlite::params![None::<String>, None::<String>]).is_err());
        // Foreign keys hold again: an attempt of no delivery is refused.
        let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(enforced);
        let orphan =
            "INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, success) VALUES (999, 1, 0, 5, 0)";
        assert!(conn.execute(orphan, []).is_err());
    }

    #[test]
    fn existing_cases_are_numbered_per_client_and_api_in_the_order_they_were_made() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in MIGRATIONS.iter().take(18) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 18).unwrap();
        let case = "INSERT INTO cases (id, client_id, api, status, claims, reason_translations, created_at, updated_at, expires_at)
                    VALUES (?1, ?2, ?3, 'pending', '[]', '{}', ?4, 0, 0)";
        conn.execute_batch("INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at) VALUES ('c1', 'n', 'h', x'00', 'integrator', 0), ('c2', 'n', 'h', x'00', 'integrator', 0);").unwrap();
        for (id, client, api, at) in [
            ("b", "c1", "eeid", 20),
            ("a", "c1", "eeid", 10),
            ("c", "c1", "verifik", 5),
            ("d", "c2", "eeid", 1),
            ("e", "c1", "eeid", 20),
        ] {
            conn.execute(case, rusqlite::params![id, client, api, at]).unwrap();
        }
        migrate(&mut conn).unwrap();
        let numbered: Vec<(String, i64)> = conn
            .prepare("SELECT id, seq FROM cases ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let want = [("a", 1), ("b", 2), ("c", 1), ("d", 1), ("e", 3)];
        assert_eq!(numbered, want.map(|(id, n)| (id.to_string(), n)));
    }

    #[test]
    fn rebuilding_the_clients_for_the_kiosk_scope_keeps_them_and_what_names_them() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        for sql in MIGRATIONS.iter().take(19) {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 19).unwrap();
        conn.execute_batch(
            "INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at, token_generation)
                 VALUES ('c1', 'bank', 'h', x'00', 'integrator', 5, 3);
             INSERT INTO tokens (token_hash, client_id, issued_at, expires_at) VALUES (x'01', 'c1', 0, 9);
             INSERT INTO cases (id, client_id, api, status, claims, reason_translations, created_at, updated_at, expires_at, seq)
                 VALUES ('k1', 'c1', 'eeid', 'pending', '[]', '{}', 0, 0, 0, 1);",
        )
        .unwrap();
        assert!(conn.execute("UPDATE clients SET scope = 'kiosk'", []).is_err(), "not a scope before 0020");
        migrate(&mut conn).unwrap();

        let kept: (String, i64, i64) = conn
            .query_row("SELECT name, created_at, token_generation FROM clients WHERE id = 'c1'", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!(kept, ("bank".to_string(), 5, 3));
        let named: i64 = conn
            .query_row(
                "SELECT (SELECT count(*) FROM tokens) + (SELECT count(*) FROM cases WHERE client_id = 'c1')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(named, 2);
        conn.execute("INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at) VALUES ('k', 'kiosk: a', 'h', x'00', 'kiosk', 0)", []).unwrap();
        assert!(conn.execute("UPDATE clients SET scope = 'root' WHERE id = 'k'", []).is_err(), "the check holds");
        // The children still point at the rebuilt table: a token of no client is refused.
        assert!(conn
            .execute(
                "INSERT INTO tokens (token_hash, client_id, issued_at, expires_at) VALUES (x'02', 'nobody', 0, 9)",
                []
            )
            .is_err());
    }
}
