//! Case codes: eight characters a person types or scans at the kiosk to open their case, and the clerk's
//! queue that lists cases by status.

use rand::Rng;
use serde::Serialize;
use vouch_core::{Case, CaseId, CaseStatus};

use crate::db::{Conn, Dialect, Value};
use crate::db_params;
use crate::error::{Result, StoreError};
use crate::Store;

/// No 0/O, 1/I/L: nothing a person can misread off a slip of paper.
pub(crate) const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
pub const CODE_LEN: usize = 8;

fn random_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..CODE_LEN).map(|_| char::from(ALPHABET.get(rng.gen_range(0..ALPHABET.len())).copied().unwrap_or(b'A'))).collect()
}

/// `ABCD-EFGH` for people; stored without the dash.
pub fn format_code(code: &str) -> String {
    match (code.get(..4), code.get(4..)) {
        (Some(a), Some(b)) if !b.is_empty() => format!("{a}-{b}"),
        _ => code.to_string(),
    }
}

/// Accepts what people type: any case, spaces or dashes. None if it cannot be a code.
pub fn normalize_code(input: &str) -> Option<String> {
    let code: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (code.len() == CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// A fresh code that no case holds yet. Two instances drawing the same code at once is caught by the unique
/// index (a conflict) and the case's transaction fails whole, which 31^8 codes make vanishingly rare.
pub(crate) fn assign_code(tx: &Conn<'_>, case_id: CaseId) -> Result<String> {
    loop {
        let code = random_code();
        let taken: bool =
            tx.query_one("SELECT EXISTS (SELECT 1 FROM cases WHERE code = ?1)", db_params![code])?.get(0)?;
        if !taken {
            tx.execute("UPDATE cases SET code = ?1 WHERE id = ?2", db_params![code, case_id.to_string()])?;
            return Ok(code);
        }
    }
}

/// One row of the clerk's queue.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct QueueItem {
    pub case: Case,
    pub code: String,
    pub steps_done: u32,
}

#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Empty means open cases (pending and in progress).
    pub statuses: Vec<CaseStatus>,
    /// Matches the code or the integrator's reference.
    pub search: Option<String>,
    pub limit: u32,
}

impl Store {
    /// Gives every case created before codes existed a code. Runs at open; a no-op once done.
    pub(crate) fn fill_missing_case_codes(&self) -> Result<()> {
        self.with(|conn| {
            conn.transaction(|tx| {
                for row in tx.query("SELECT id FROM cases WHERE code IS NULL", db_params![])? {
                    if let Some(case_id) = CaseId::parse(&row.get::<String>(0)?) {
                        assign_code(tx, case_id)?;
                    }
                }
                Ok(())
            })
        })
    }

    pub fn case_code(&self, id: CaseId) -> Result<String> {
        self.with(|conn| conn.query_one("SELECT code FROM cases WHERE id = ?1", db_params![id.to_string()]))?
            .get::<Option<String>>(0)?
            .ok_or(StoreError::NotFound)
    }

    /// The case a typed or scanned code opens.
    pub fn case_by_code(&self, code: &str) -> Result<CaseId> {
        let code = normalize_code(code).ok_or(StoreError::NotFound)?;
        let id: String =
            self.with(|conn| conn.query_one("SELECT id FROM cases WHERE code = ?1", db_params![code]))?.get(0)?;
        CaseId::parse(&id).ok_or(StoreError::NotFound)
    }

    /// Cases for the clerk's queue, oldest activity first so nobody waits longest.
    pub fn case_queue(&self, filter: &QueueFilter) -> Result<Vec<QueueItem>> {
        let statuses: Vec<&str> = if filter.statuses.is_empty() {
            vec![CaseStatus::Pending.as_str(), CaseStatus::InProgress.as_str()]
        } else {
            filter.statuses.iter().map(|s| s.as_str()).collect()
        };
        let search = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let pattern = search.map(|s| {
            let plain: String = s.chars().filter(|c| *c != '-').collect();
            format!("%{}%", plain.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
        });
        let rows = self.with(|conn| {
            // SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE does the same.
            let like = match conn.dialect() {
                Dialect::Sqlite => "LIKE",
                Dialect::Postgres => "ILIKE",
            };
            let placeholders = (1..=statuses.len()).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "SELECT c.id, c.code, (SELECT count(*) FROM case_steps s WHERE s.case_id = c.id)
                 FROM cases c
                 WHERE c.status IN ({placeholders})
                   AND (CAST(?{p} AS TEXT) IS NULL OR c.code {like} ?{p} ESCAPE '\\' OR c.reference {like} ?{p} ESCAPE '\\')
                 ORDER BY c.updated_at ASC LIMIT ?{l}",
                p = statuses.len() + 1,
                l = statuses.len() + 2
            );
            let mut values: Vec<Value> = statuses.iter().map(|s| Value::Text((*s).to_string())).collect();
            values.push(pattern.clone().map_or(Value::Null, Value::Text));
            values.push(Value::Int(i64::from(filter.limit.clamp(1, 500))));
            let params: Vec<&dyn crate::db::ToValue> = values.iter().map(|v| v as &dyn crate::db::ToValue).collect();
            conn.query(&sql, &params)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(case_id) = CaseId::parse(&row.get::<String>(0)?) {
                let code = row.get::<Option<String>>(1)?.unwrap_or_default();
                out.push(QueueItem { case: self.get_case(case_id)?, code, steps_done: row.get(2)? });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_however_people_type_them() {
        let code = random_code();
        assert_eq!(code.len(), CODE_LEN);
        let shown = format_code(&code);
        assert_eq!(normalize_code(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(normalize_code(&format!(" {} ", shown.to_lowercase())).as_deref(), Some(code.as_str()));
        assert_eq!(normalize_code("ABCD-EFG0"), None, "0 is not in the alphabet");
        assert_eq!(normalize_code("ABC"), None);
    }
}
