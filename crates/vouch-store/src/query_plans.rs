//! The hot queries' plans, as SQLite makes them on the migrated schema: each must use the index it was written
//! for, so that its cost follows what it returns, not the size of the store. `INDEXED BY` in a query makes SQLite
//! refuse to run it without that index; these tests also catch a plan that falls back to a scan or a sort.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use crate::Store;

fn plan(store: &Store, sql: &str) -> String {
    let conn = store.sqlite_conn().unwrap();
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let count = stmt.parameter_count();
    let params: Vec<rusqlite::types::Value> = (0..count).map(|_| rusqlite::types::Value::Integer(1)).collect();
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| r.get::<_, String>(3)).unwrap();
    rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
}

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("data")).unwrap();
    (dir, store)
}

#[test]
fn reading_a_case_or_a_page_of_cases_costs_what_it_returns() {
    let (_dir, store) = store();
    assert!(plan(&store, crate::cases::CASE_BY_ID).contains("USING INDEX sqlite_autoindex_cases_1 (id=?)"));
    let total = plan(&store, crate::cases::CASES_TOTAL);
    assert!(total.contains("SEARCH cases USING COVERING INDEX cases_by_client_seq (client_id=? AND api=?)"), "{total}");
    let page = plan(&store, crate::cases::CASES_PAGE);
    assert!(page.contains("USING INDEX cases_by_client_seq (client_id=? AND api=? AND seq>? AND seq<?)"), "{page}");
    assert!(!page.contains("TEMP B-TREE"), "the index gives the order: {page}");
}

#[test]
fn the_sweeps_walk_only_what_is_due() {
    let (_dir, store) = store();
    let due = plan(&store, crate::cases::DUE_CASES);
    assert!(due.contains("USING INDEX cases_open_by_expiry (expires_at<?)"), "{due}");
    let deliveries = plan(&store, crate::outbox::DUE_DELIVERIES);
    assert!(deliveries.contains("USING INDEX deliveries_due (next_attempt_at<?)"), "{deliveries}");
}
