//! The store's SQL interface and the audit chain on a real PostgreSQL (started per test): values of every kind
//! round-trip, PostgreSQL's refusals read as the store's, a transaction rolls back whole, a server restart
//! costs no more than a reconnection, instances appending to one chain at once still make one chain, and
//! instances sharing the outbox send each delivery once, and resume what a dead one had claimed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use vouch_store::audit::{append_event, verify_chain};
use vouch_store::db::Conn;
use vouch_store::outbox::{
    claim_due_deliveries, enqueue_on, next_delivery_due, record_attempt, AttemptResult, NewDelivery,
};
use vouch_store::postgres::PgDatabase;
use vouch_store::{db_params, now, StoreError};
use vouch_testkit::postgres::Postgres;

fn migrated(pg: &Postgres) -> PgDatabase {
    let db = PgDatabase::connect(&pg.url).unwrap();
    db.migrate().unwrap();
    db
}

#[test]
fn values_round_trip_and_refusals_read_as_the_stores() {
    let pg = Postgres::start();
    let db = migrated(&pg);
    db.with(|conn| {
        conn.batch("CREATE TABLE t (id BIGINT PRIMARY KEY, s TEXT, b BYTEA, n BIGINT)")?;
        let none: Option<i64> = None;
        conn.execute(
            "INSERT INTO t (id, s, b, n) VALUES (?1, ?2, ?3, ?4)",
            db_params![1i64, "één ?1", vec![0u8, 255], none],
        )?;
        let row = conn.query_one("SELECT id, s, b, n FROM t WHERE id = ?1", db_params![1i64])?;
        assert_eq!(row.get::<i64>(0)?, 1);
        assert_eq!(row.get::<String>(1)?, "één ?1");
        assert_eq!(row.get::<Vec<u8>>(2)?, vec![0u8, 255]);
        assert_eq!(row.get::<Option<i64>>(3)?, None);
        assert!(matches!(row.get::<i64>(1), Err(StoreError::Corrupt(_))));
        assert!(conn.query_opt("SELECT id FROM t WHERE id = ?1", db_params![2i64])?.is_none());
        assert!(matches!(
            conn.query_one("SELECT id FROM t WHERE id = ?1", db_params![2i64]),
            Err(StoreError::NotFound)
        ));

        let duplicate = conn.execute("INSERT INTO t (id) VALUES (?1)", db_params![1i64]);
        assert!(matches!(duplicate, Err(StoreError::Conflict(_))), "{duplicate:?}");
        let undone = conn.transaction(|tx| {
            tx.execute("INSERT INTO t (id) VALUES (?1)", db_params![2i64])?;
            tx.execute("INSERT INTO t (id) VALUES (?1)", db_params![1i64])
        });
        assert!(matches!(undone, Err(StoreError::Conflict(_))));
        assert_eq!(conn.query_one("SELECT count(*) FROM t", db_params![])?.get::<i64>(0)?, 1, "rolled back whole");
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_restarted_server_costs_a_reconnection() {
    let pg = Postgres::start();
    let db = migrated(&pg);
    db.with(|conn| conn.batch("CREATE TABLE kept (v TEXT)")).unwrap();
    db.with(|conn| conn.execute("INSERT INTO kept (v) VALUES (?1)", db_params!["committed"])).unwrap();
    pg.restart();
    // The connection the restart broke is dropped; a new one is opened for the next caller.
    let started = Instant::now();
    let read = loop {
        match db.with(|conn| conn.query_one("SELECT v FROM kept", db_params![])?.get::<String>(0)) {
            Ok(v) => break v,
            Err(e) if started.elapsed() < Duration::from_secs(10) => {
                assert!(matches!(e, StoreError::Postgres(_)), "{e:?}");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("no connection 10 s after the restart: {e}\n{}", pg.log()),
        }
    };
    assert_eq!(read, "committed", "a committed row survives an immediate stop");
}

#[test]
fn instances_appending_to_one_chain_at_once_make_one_chain() {
    let pg = Postgres::start();
    migrated(&pg);
    let key = [9u8; 32];
    // Four "instances", each with its own connections, append 25 events each to the same case's chain.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let url = pg.url.clone();
            std::thread::spawn(move || {
                let db = Arc::new(PgDatabase::connect(&url).unwrap());
                for n in 0..25 {
                    let detail = serde_json::json!({"writer": writer, "n": n});
                    db.with(|conn| {
                        conn.transaction(|tx| append_event(tx, &key, "case-1", now(), "test", "step", &detail))
                    })
                    .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let db = PgDatabase::connect(&pg.url).unwrap();
    let (events, broken) = db.with(|conn| verify_chain(conn, &key, "case-1")).unwrap();
    assert_eq!((events, broken), (100, None), "one unbroken chain of every event");
    let seqs: Vec<i64> = db
        .with(|conn| {
            conn.query("SELECT seq FROM audit_events WHERE chain = ?1 ORDER BY seq", db_params!["case-1"])?
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
        .unwrap();
    assert_eq!(seqs, (1..=100).collect::<Vec<_>>());

    // Editing an event is found, as on SQLite.
    db.with(|conn: &Conn<'_>| {
        conn.execute("UPDATE audit_events SET detail = ?1 WHERE chain = ?2 AND seq = 50", db_params!["{}", "case-1"])
    })
    .unwrap();
    let (_, broken) = db.with(|conn| verify_chain(conn, &key, "case-1")).unwrap();
    assert_eq!(broken.map(|b| b.seq), Some(50));
}

/// A client and one case for deliveries to name (their foreign keys), written as SQL.
fn client_and_case(db: &PgDatabase) -> vouch_core::CaseId {
    let case = vouch_core::CaseId::new();
    db.with(|conn| {
        conn.execute(
            "INSERT INTO clients (id, name, secret_hash, secret_sealed, scope, created_at) VALUES (?1, ?1, 'x', ?2, 'integrator', 0)",
            db_params!["bank", vec![0u8]],
        )?;
        conn.execute(
            "INSERT INTO cases (id, client_id, api, status, claims, reason_translations, created_at, updated_at, expires_at)
             VALUES (?1, 'bank', 'eeid', 'completed', '[]', '{}', 0, 0, 0)",
            db_params![case.to_string()],
        )
    })
    .unwrap();
    case
}

fn queue(db: &PgDatabase, case: vouch_core::CaseId, count: usize) {
    let delivery = NewDelivery {
        client_id: "bank".into(),
        url: "http://127.0.0.1:9/".into(),
        body: b"{}".to_vec(),
        max_attempts: 3,
    };
    db.with(|conn| {
        conn.transaction(|tx| (0..count).try_for_each(|_| enqueue_on(tx, case, &delivery, now()).map(|_| ())))
    })
    .unwrap();
}

const LEASE: Duration = Duration::from_secs(60);

#[test]
fn instances_sharing_the_outbox_send_each_delivery_once() {
    let pg = Postgres::start();
    let db = migrated(&pg);
    let case = client_and_case(&db);
    queue(&db, case, 200);
    let dispatchers: Vec<_> = (0..4)
        .map(|_| {
            let url = pg.url.clone();
            std::thread::spawn(move || {
                let db = PgDatabase::connect(&url).unwrap();
                let mut sent = Vec::new();
                loop {
                    let batch = db.with(|conn| claim_due_deliveries(conn, now(), 8, LEASE)).unwrap();
                    if batch.is_empty() {
                        return sent;
                    }
                    for delivery in batch {
                        let ok = AttemptResult {
                            at: now(),
                            http_status: Some(204),
                            error: None,
                            duration_ms: 1,
                            success: true,
                        };
                        db.with(|conn| record_attempt(conn, delivery.id, &ok, now())).unwrap();
                        sent.push(delivery.id);
                    }
                }
            })
        })
        .collect();
    let mut sent: Vec<i64> = dispatchers.into_iter().flat_map(|d| d.join().unwrap()).collect();
    sent.sort_unstable();
    let before = sent.len();
    sent.dedup();
    assert_eq!((before, sent.len()), (200, 200), "every delivery sent, none twice");
    let attempts: i64 =
        db.with(|c| c.query_one("SELECT count(*) FROM webhook_attempts", db_params![])?.get(0)).unwrap();
    assert_eq!(attempts, 200);
}

#[test]
fn a_delivery_claimed_by_an_instance_that_died_is_sent_after_its_lease() {
    let pg = Postgres::start();
    let db = migrated(&pg);
    let case = client_and_case(&db);
    queue(&db, case, 5);
    let died = db.with(|conn| claim_due_deliveries(conn, now(), 10, LEASE)).unwrap();
    assert_eq!(died.len(), 5, "the first instance claims them, then dies without sending");
    let other = PgDatabase::connect(&pg.url).unwrap();
    assert!(other.with(|conn| claim_due_deliveries(conn, now(), 10, LEASE)).unwrap().is_empty(), "leased");
    let later = now() + time::Duration::seconds(61);
    let resumed = other.with(|conn| claim_due_deliveries(conn, later, 10, LEASE)).unwrap();
    assert_eq!(resumed.iter().map(|d| d.id).collect::<Vec<_>>(), died.iter().map(|d| d.id).collect::<Vec<_>>());
    let pending = other.with(next_delivery_due).unwrap();
    assert!(pending.is_some_and(|at| at > later), "leased again until the new lease ends");
}
