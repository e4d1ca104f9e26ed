//! TLS to PostgreSQL. A server off this machine is reached over TLS only, its certificate checked against the
//! system's roots or the CA named by `sslrootcert` (in the URL, as libpq takes it, or `PGSSLROOTCERT`), and its
//! name against the host in the URL. On loopback or a unix socket TLS is used when the URL asks
//! (`sslmode=require`), checked the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Result, StoreError};

/// A URL's settings for tokio-postgres, and the CA file it names (a libpq setting tokio-postgres does not read).
pub(crate) fn split_root_cert(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else { return (url.to_string(), None) };
    let mut root = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("sslrootcert=") {
            Some(path) => {
                root = Some(PathBuf::from(path));
                false
            }
            None => true,
        })
        .collect();
    let url = if kept.is_empty() { base.to_string() } else { format!("{base}?{}", kept.join("&")) };
    (url, root)
}

fn is_local(config: &tokio_postgres::Config) -> bool {
    config.get_hosts().iter().all(|host| match host {
        Host::Unix(_) => true,
        Host::Tcp(name) => name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback()),
    })
}

/// Sets how the connection uses TLS: always off this machine (a URL that says otherwise is refused), on loopback
/// only when the URL asks.
pub(crate) fn choose_mode(config: &mut tokio_postgres::Config, url: &str) -> Result<()> {
    let asked = url.contains("sslmode=");
    if is_local(config) {
        if !asked {
            config.ssl_mode(SslMode::Disable);
        }
        return Ok(());
    }
    match (asked, config.get_ssl_mode()) {
        (false, _) => {
            config.ssl_mode(SslMode::Require);
            Ok(())
        }
        (true, SslMode::Require) => Ok(()),
        (true, _) => Err(StoreError::Invalid(
            "a PostgreSQL server off this machine is reached over TLS only: use sslmode=require or leave sslmode out"
                .into(),
        )),
    }
}

fn roots(ca_file: Option<&Path>) -> Result<rustls::RootCertStore> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|certs| certs.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| StoreError::Invalid(format!("the database CA file {}: {e}", path.display())))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Invalid(format!(
                    "the database CA file {} holds no certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
        }
    }
    Ok(roots)
}

/// The TLS connector for a database, trusting `ca_file` (else `PGSSLROOTCERT`, else the system's roots).
pub(crate) fn connector(ca_file: Option<PathBuf>) -> Result<MakeRustlsConnect> {
    let ca_file = ca_file.or_else(|| std::env::var_os("PGSSLROOTCERT").map(PathBuf::from));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Invalid(format!("TLS to PostgreSQL: {e}")))?
        .with_root_certificates(roots(ca_file.as_deref())?)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn the_ca_file_is_taken_out_of_the_url() {
        assert_eq!(split_root_cert("postgres://a@h/db"), ("postgres://a@h/db".into(), None));
        assert_eq!(
            split_root_cert("postgres://a@h/db?sslrootcert=/etc/ca.pem&sslmode=require"),
            ("postgres://a@h/db?sslmode=require".into(), Some(PathBuf::from("/etc/ca.pem")))
        );
    }

    #[test]
    fn off_this_machine_tls_is_required_and_on_loopback_it_is_asked_for() {
        let mode = |url: &str| {
            let mut config = tokio_postgres::Config::from_str(url).unwrap();
            choose_mode(&mut config, url).map(|()| config.get_ssl_mode())
        };
        assert_eq!(mode("postgres://a@db.example/x").unwrap(), SslMode::Require);
        assert_eq!(mode("postgres://a@db.example/x?sslmode=require").unwrap(), SslMode::Require);
        assert!(mode("postgres://a@db.example/x?sslmode=disable").is_err());
        assert!(mode("postgres://a@db.example/x?sslmode=prefer").is_err());
        assert!(mode("postgres://a@127.0.0.1,db.example/x").is_ok_and(|m| m == SslMode::Require), "any remote host");
        assert_eq!(mode("postgres://a@127.0.0.1/x").unwrap(), SslMode::Disable);
        assert_eq!(mode("postgres://a@localhost/x?sslmode=require").unwrap(), SslMode::Require);
    }
}
