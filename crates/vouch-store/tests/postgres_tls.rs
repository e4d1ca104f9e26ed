//! TLS to PostgreSQL on a real server with a certificate of its own CA: the connection is encrypted and the
//! certificate checked (another CA's is refused), a server without TLS is refused when TLS is asked for, and a
//! store opened over TLS works, the connection that hears other instances included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use vouch_store::postgres::PgDatabase;
use vouch_store::{BlobLocation, Store, StoreError};
use vouch_testkit::postgres::Postgres;

fn tls_url(pg: &Postgres, host: &str, ca: &std::path::Path) -> String {
    format!("postgres://vouch:{}@{host}:{}/vouch?sslmode=require&sslrootcert={}", pg.password, pg.port, ca.display())
}

fn encrypted(db: &PgDatabase) -> bool {
    let rows = db.text_rows("SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()").unwrap();
    rows[0][0].as_deref() == Some("true")
}

#[test]
fn tls_is_used_and_the_certificate_checked() {
    let pg = Postgres::start_tls();
    let ca = pg.ca_file.clone().unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let db = PgDatabase::connect(&tls_url(&pg, host, &ca)).unwrap();
        assert!(encrypted(&db), "over TLS to {host}");
    }
    let plain = PgDatabase::connect(&pg.url).unwrap();
    assert!(!encrypted(&plain), "on loopback, TLS only when asked for");

    let other = Postgres::start_tls();
    let wrong_ca = PgDatabase::connect(&tls_url(&pg, "localhost", other.ca_file.as_ref().unwrap()));
    assert!(matches!(&wrong_ca, Err(StoreError::Postgres(m)) if m.contains("certificate")), "{:?}", wrong_ca.err());

    let without_tls = Postgres::start();
    let refused = PgDatabase::connect(&tls_url(&without_tls, "localhost", &ca));
    assert!(refused.is_err(), "TLS was asked for and the server has none");

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_postgres(&tls_url(&pg, "localhost", &ca), dir.path(), &BlobLocation::DataDir).unwrap();
    store.ping().unwrap();
    assert_eq!(store.schema_version().unwrap(), vouch_store::postgres::latest_version());
}
