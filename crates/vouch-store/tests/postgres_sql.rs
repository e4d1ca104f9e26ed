//! The store's SQL interface and the audit chain on a real PostgreSQL (started per test): values of every kind
//! round-trip, PostgreSQL's refusals read as the store's, a transaction rolls back whole, a server restart
//! costs no more than a reconnection, and instances appending to one chain at once still make one chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use vouch_store::audit::{append_event, verify_chain};
use vouch_store::db::Conn;
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
