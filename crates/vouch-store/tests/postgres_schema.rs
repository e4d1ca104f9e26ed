//! Vouch's PostgreSQL schema on a real PostgreSQL (Debian's, started per test): it migrates, twice and from two
//! instances at once without harm, it matches SQLite's schema table by table, column by column and index by
//! index, and a newer schema, a wrong password or a database off the machine without TLS is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;

use vouch_store::postgres::{latest_version, PgDatabase};
use vouch_store::{Store, StoreError, DB_FILE};
use vouch_testkit::postgres::Postgres;

/// table -> column -> not null (a primary key counts as not null: SQLite allows NULL in a TEXT primary key of a
/// rowid table, PostgreSQL never does, and Vouch never writes one).
type Columns = BTreeMap<String, BTreeMap<String, bool>>;

fn sqlite_schema() -> (Columns, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(&dir.path().join("data")).unwrap());
    let db = rusqlite::Connection::open(dir.path().join("data").join(DB_FILE)).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut columns = Columns::new();
    for table in tables {
        let info: Vec<(String, bool, i64)> = db
            .prepare(&format!("SELECT name, \"notnull\", pk FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        columns.insert(table, info.into_iter().map(|(c, not_null, pk)| (c, not_null || pk > 0)).collect());
    }
    let indexes = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (columns, indexes)
}

fn postgres_schema(db: &PgDatabase) -> (Columns, Vec<String>) {
    let mut columns = Columns::new();
    let rows = db
        .text_rows(
            "SELECT table_name::text, column_name::text, is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name <> 'vouch_schema' ORDER BY table_name, column_name",
        )
        .unwrap();
    for row in rows {
        let [Some(table), Some(column), Some(nullable)] = [&row[0], &row[1], &row[2]] else { panic!("{row:?}") };
        // A `rowid` column stands for SQLite's implicit one (migration 0003), which pragma_table_info omits.
        if column == "rowid" {
            continue;
        }
        columns.entry(table.clone()).or_default().insert(column.clone(), nullable == "NO");
    }
    // Indexes created by name; those PostgreSQL makes for PRIMARY KEY and UNIQUE constraints end in _pkey/_key.
    let indexes = db
        .text_rows(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' \
             AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key' ORDER BY indexname",
        )
        .unwrap()
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    (columns, indexes)
}

#[test]
fn the_schema_migrates_once_and_matches_sqlites() {
    let pg = Postgres::start();
    let db = PgDatabase::connect(&pg.url).unwrap();
    assert_eq!(db.schema_version().unwrap(), 0);
    assert_eq!(db.migrate().unwrap(), latest_version());
    assert_eq!(db.migrate().unwrap(), latest_version(), "a second run changes nothing");
    assert_eq!(db.schema_version().unwrap(), latest_version());

    let (sqlite_columns, sqlite_indexes) = sqlite_schema();
    let (pg_columns, pg_indexes) = postgres_schema(&db);
    assert_eq!(pg_columns.keys().collect::<Vec<_>>(), sqlite_columns.keys().collect::<Vec<_>>(), "the same tables");
    for (table, columns) in &sqlite_columns {
        assert_eq!(&pg_columns[table], columns, "the columns of {table} and whether they may be NULL");
    }
    assert_eq!(pg_indexes, sqlite_indexes, "the same named indexes");
}

#[test]
fn instances_starting_together_migrate_the_database_once() {
    let pg = Postgres::start();
    let url = pg.url.clone();
    let migrators: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgDatabase::connect(&url).unwrap().migrate())
        })
        .collect();
    for migrator in migrators {
        assert_eq!(migrator.join().unwrap().unwrap(), latest_version());
    }
    let db = PgDatabase::connect(&pg.url).unwrap();
    assert_eq!(db.text_rows("SELECT count(*)::text FROM vouch_schema").unwrap(), vec![vec![Some("1".to_string())]]);
}

#[test]
fn a_newer_schema_a_wrong_password_and_a_remote_server_are_refused() {
    let pg = Postgres::start();
    let db = PgDatabase::connect(&pg.url).unwrap();
    db.migrate().unwrap();
    db.text_rows("UPDATE vouch_schema SET version = version + 1 RETURNING version::text").unwrap();
    assert!(matches!(db.migrate(), Err(StoreError::SchemaTooNew { .. })));

    let wrong = pg.url.replacen("vouch:", "vouch:not-", 1);
    match PgDatabase::connect(&wrong) {
        Err(StoreError::Postgres(message)) => assert!(message.contains("password"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Refused before any packet leaves: a server off this machine without TLS.
    let remote = PgDatabase::connect("postgres://vouch:secret@192.0.2.10:5432/vouch?sslmode=disable");
    assert!(matches!(remote, Err(StoreError::Invalid(ref m)) if m.contains("TLS")), "{remote:?}");
}
