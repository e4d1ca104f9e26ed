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

#[test]
fn a_kiosks_listing_reads_only_the_cases_it_may_run_in_order() {
    let (_dir, store) = store();
    for (sql, index) in [
        (crate::sync::CASES_FOR_ANY_KIOSK, "cases_for_kiosks (branch=?)"),
        (crate::sync::CASES_FOR_A_BRANCH, "cases_for_kiosks (branch=?)"),
        (crate::sync::CASES_FOR_THIS_KIOSK, "cases_for_one_kiosk (for_kiosk=?)"),
    ] {
        let listing = plan(&store, sql);
        assert!(listing.contains(&format!("USING INDEX {index}")), "{listing}");
        assert!(!listing.contains("TEMP B-TREE"), "the index gives the order: {listing}");
    }
}

/// The same queries' plans on PostgreSQL (as the store sends them there), over enough rows that a sequential scan
/// would be chosen if the index did not serve: 20,000 cases, all but 20 of them closed, with three evidence items
/// each, and 2,000 deliveries, all but 20 of them sent.
mod postgres {
    use super::*;
    use crate::db_params;

    fn explain(store: &Store, sql: &str, values: &[&str]) -> String {
        let mut sql = crate::db::to_postgres(sql);
        for (n, value) in values.iter().enumerate().rev() {
            sql = sql.replace(&format!("${}", n + 1), value);
        }
        let rows = store.with(|conn| conn.query(&format!("EXPLAIN {sql}"), db_params![])).unwrap();
        rows.iter().map(|r| r.get::<String>(0).unwrap()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn the_hot_queries_use_their_indexes_on_postgresql() {
        let pg = vouch_testkit::postgres::Postgres::start();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_postgres(&pg.url, dir.path(), &crate::BlobLocation::DataDir).unwrap();
        let new = crate::clients::NewClient {
            name: "bank".into(),
            scope: vouch_core::Scope::Integrator,
            token_ttl_secs: None,
            webhook_url: None,
        };
        let client = store.create_client(&new, "test").unwrap().client.id;
        let fill = format!(
            "INSERT INTO cases (id, client_id, api, status, claims, reason_translations, created_at, updated_at,
                                expires_at, seq)
             SELECT 'case-' || g, '{client}', 'eeid', CASE WHEN g <= 20 THEN 'pending' ELSE 'completed' END, '[]',
                    '{{}}', g, g, g, g
             FROM generate_series(1, 20000) g;
             UPDATE cases SET at_kiosks = 1, branch = CASE WHEN seq % 2 = 0 THEN 'Tartu' END WHERE seq <= 20;
             INSERT INTO evidence (id, case_id, seq, kind, sha256, media_type, size, created_at)
             SELECT 'ev-' || g || '-' || n, 'case-' || g, n, CASE WHEN n = 1 THEN 'reference_photo' ELSE 'selfie' END,
                    'aa', 'image/jpeg', 1, g
             FROM generate_series(1, 20000) g, generate_series(1, 3) n;
             INSERT INTO webhook_deliveries (case_id, client_id, url, body, status, attempts, max_attempts,
                                             next_attempt_at, created_at)
             SELECT 'case-' || g, '{client}', 'https://example.test/hook', '\\x', CASE WHEN g <= 20 THEN 'pending' ELSE 'delivered' END,
                    0, 8, g, g
             FROM generate_series(1, 2000) g;
             ANALYZE"
        );
        store.with(|conn| conn.batch(&fill)).unwrap();
        let client = format!("'{client}'");

        let by_id = explain(&store, crate::cases::CASE_BY_ID, &["'case-777'"]);
        assert!(by_id.contains("Index Scan using cases_pkey"), "{by_id}");
        let total = explain(&store, crate::cases::CASES_TOTAL, &[&client, "'eeid'"]);
        assert!(total.contains("cases_by_client_seq") && !total.contains("Seq Scan"), "{total}");
        let page = explain(&store, crate::cases::CASES_PAGE, &[&client, "'eeid'", "10000", "10010"]);
        assert!(page.contains("cases_by_client_seq") && !page.contains("Seq Scan"), "{page}");
        assert!(!page.contains("Sort"), "the index gives the order: {page}");
        let due = explain(&store, crate::cases::DUE_CASES, &["30000"]);
        assert!(due.contains("cases_open_by_expiry") && !due.contains("Seq Scan on cases"), "{due}");
        for (sql, branch, index) in [
            (crate::sync::CASES_FOR_ANY_KIOSK, "", "cases_for_kiosks"),
            (crate::sync::CASES_FOR_A_BRANCH, "'Tartu'", "cases_for_kiosks"),
            (crate::sync::CASES_FOR_THIS_KIOSK, "", "cases_for_one_kiosk"),
        ] {
            let listing = explain(&store, sql, &["'kiosk-1'", "200", "0", branch]);
            assert!(listing.contains(index) && !listing.contains("Seq Scan on cases"), "{listing}");
            // The photo's subquery may sort one case's few evidence rows; the listing itself is never sorted.
            let (outer, photo) = listing.split_once("SubPlan").unwrap_or((&listing, ""));
            assert!(!outer.contains("Sort"), "the index gives the order: {listing}");
            assert!(photo.contains("evidence") && !photo.contains("Seq Scan"), "by its case's index: {listing}");
        }
        let deliveries = explain(&store, crate::outbox::DUE_DELIVERIES_SHARED, &["30000", "50"]);
        assert!(deliveries.contains("deliveries_due"), "{deliveries}");
    }
}
