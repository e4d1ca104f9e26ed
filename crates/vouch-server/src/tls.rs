//! TLS for a server that other machines reach, and the pinned client that reaches it.
//!
//! Off loopback Vouch serves https only: with the certificate an operator configures, or with a self-signed one it
//! generates once in `<data dir>/tls/` and whose SHA-256 fingerprint it prints at every start. The admin confirms
//! that fingerprint (in the browser's certificate dialog, or as the kiosk app's `VOUCH_REMOTE_FINGERPRINT`), so a
//! machine in the middle cannot stand in for the server. Plain HTTP off loopback needs `--insecure-no-tls`, and says
//! so at every start.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// Where the server's certificate comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsSetting {
    /// https off loopback (a generated self-signed certificate), plain HTTP on loopback.
    #[default]
    Auto,
    /// https everywhere, with the generated self-signed certificate.
    SelfSigned,
    /// https everywhere, with this PEM certificate chain and PEM private key.
    Files { cert: PathBuf, key: PathBuf },
}

/// What the server does on its address, decided from the setting and the bind address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Plain,
    /// Plain HTTP off loopback because the operator said `--insecure-no-tls`: warned about at every start.
    PlainInsecure,
    SelfSigned,
    Files {
        cert: PathBuf,
        key: PathBuf,
    },
}

/// Decides whether `bind` gets TLS. `insecure_no_tls` only ever turns TLS off where it would be on by default;
/// combined with an explicit certificate it is a contradiction, refused.
pub fn decide(bind: SocketAddr, setting: &TlsSetting, insecure_no_tls: bool) -> anyhow::Result<Decision> {
    match (setting, insecure_no_tls) {
        (TlsSetting::Files { .. } | TlsSetting::SelfSigned, true) => {
            anyhow::bail!("--insecure-no-tls contradicts a configured TLS certificate (--tls or [tls]); pick one")
        }
        (TlsSetting::Files { cert, key }, false) => Ok(Decision::Files { cert: cert.clone(), key: key.clone() }),
        (TlsSetting::SelfSigned, false) => Ok(Decision::SelfSigned),
        (TlsSetting::Auto, _) if bind.ip().is_loopback() => Ok(Decision::Plain),
        (TlsSetting::Auto, true) => Ok(Decision::PlainInsecure),
        (TlsSetting::Auto, false) => Ok(Decision::SelfSigned),
    }
}

/// A certificate's SHA-256 over its DER, as browsers show it (`AB:CD:...`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// Reads 64 hex digits, with or without `:` or spaces between the bytes, in either case.
    pub fn parse(text: &str) -> anyhow::Result<Fingerprint> {
        let digits: String = text.chars().filter(|c| !matches!(c, ':' | ' ' | '-')).collect();
        let bytes = hex::decode(digits.trim_start_matches("sha256/").trim_start_matches("SHA256/"))
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .context(
                "a certificate fingerprint is 32 bytes of SHA-256 in hex (AB:CD:... as `vouch serve` prints it)",
            )?;
        Ok(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&parts.join(":"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// The server side, ready to accept connections.
pub struct ServerTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Of the leaf certificate: what the admin confirms.
    pub fingerprint: Fingerprint,
    /// True for the certificate Vouch generated (no CA vouches for it).
    pub self_signed: bool,
    /// Where the certificate is, for the start-up message.
    pub cert_path: PathBuf,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The folder of the generated certificate.
pub fn generated_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tls")
}

/// Builds the acceptor for `decision` (None for plain HTTP). `names` go into a newly generated certificate's
/// subject alternative names; an existing generated certificate is kept as it is, so its fingerprint, once
/// confirmed, stays valid.
pub fn server_tls(decision: &Decision, data_dir: &Path, names: &[String]) -> anyhow::Result<Option<ServerTls>> {
    let (cert_path, key_path, self_signed) = match decision {
        Decision::Plain | Decision::PlainInsecure => return Ok(None),
        Decision::Files { cert, key } => (cert.clone(), key.clone(), false),
        Decision::SelfSigned => {
            let dir = generated_dir(data_dir);
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            if !cert.is_file() || !key.is_file() {
                generate(&dir, names).context("generating the self-signed TLS certificate")?;
                tracing::info!(dir = %dir.display(), "generated a self-signed TLS certificate");
            }
            (cert, key, true)
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(Iterator::collect)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("reading the TLS certificate {}", cert_path.display()))?;
    let leaf = chain.first().with_context(|| format!("{} holds no certificate", cert_path.display()))?;
    let fingerprint = Fingerprint::of(leaf);
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .with_context(|| format!("reading the TLS private key {}", key_path.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .with_context(|| format!("the TLS key {} does not fit its certificate", key_path.display()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(ServerTls {
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        fingerprint,
        self_signed,
        cert_path,
    }))
}

/// This machine's host name, as the kernel has it.
pub fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    Some(name.trim().to_string()).filter(|n| !n.is_empty())
}

/// The names a generated certificate covers: loopback, this machine's host name, the bound address, and the
/// hosts of the public URL and `allowed_hosts`.
pub fn certificate_names(bind: SocketAddr, public_url: Option<&str>, allowed_hosts: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if !bind.ip().is_unspecified() {
        names.push(bind.ip().to_string());
    }
    names.extend(host_name());
    let authority_host = |authority: &str| -> String {
        let authority = authority.split('/').next().unwrap_or_default();
        match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default().to_string(),
            None => authority.rsplit_once(':').map_or(authority, |(h, _)| h).to_string(),
        }
    };
    if let Some(rest) = public_url.and_then(|u| u.split_once("://")).map(|(_, rest)| rest) {
        names.push(authority_host(rest));
    }
    names.extend(allowed_hosts.iter().map(|h| authority_host(h.trim())));
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    names
}

fn generate(dir: &Path, names: &[String]) -> anyhow::Result<()> {
    let key = rcgen::KeyPair::generate()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    for name in names {
        let san = match name.parse::<IpAddr>() {
            Ok(ip) => rcgen::SanType::IpAddress(ip),
            Err(_) => rcgen::SanType::DnsName(name.clone().try_into()?),
        };
        params.subject_alt_names.push(san);
    }
    params.distinguished_name.push(rcgen::DnType::CommonName, "Vouch kiosk (self-signed)");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    // Long-lived on purpose: kiosks pin this certificate, and an expiry would cut them off without warning.
    params.not_after = now + time::Duration::days(3650);
    let cert = params.self_signed(&key)?;
    std::fs::create_dir_all(dir)?;
    write_private(&dir.join("key.pem"), key.serialize_pem().as_bytes())?;
    write_private(&dir.join("cert.pem"), cert.pem().as_bytes())?;
    Ok(())
}

/// Writes `bytes` to `path` readable by the owner only, through a temporary file, fsynced, then renamed, so a
/// crash leaves the old file or the new one.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Accepts exactly the server certificate with this fingerprint, whoever signed it; the handshake's signatures
/// are still checked, so only the holder of that certificate's key gets through.
#[derive(Debug)]
struct PinnedCertificate {
    pin: Fingerprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = Fingerprint::of(end_entity);
        if bool::from(subtle::ConstantTimeEq::ct_eq(&seen.0[..], &self.pin.0[..])) {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::warn!(seen = %seen, expected = %self.pin, "the server's TLS certificate is not the pinned one");
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// A client configuration that trusts only the certificate with fingerprint `pin`.
pub fn pinned_client_config(pin: Fingerprint) -> anyhow::Result<rustls::ClientConfig> {
    let provider = provider();
    let verifier = Arc::new(PinnedCertificate { pin, provider: provider.clone() });
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// How a client (the kiosk app in remote mode) reaches a Vouch server at `base`:
/// - `https` with `fingerprint`: that certificate only (a generated one, confirmed by the admin);
/// - `https` without: certificates that public CAs vouch for;
/// - `http`: only to loopback, unless `insecure_no_tls`, which is warned about here, at every start.
pub fn remote_client(
    base: &str,
    fingerprint: Option<&str>,
    insecure_no_tls: bool,
    timeout: std::time::Duration,
) -> anyhow::Result<reqwest::Client> {
    let url = reqwest::Url::parse(base).with_context(|| format!("the remote Vouch URL {base} is not a URL"))?;
    let builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    match url.scheme() {
        "https" => {
            let builder = match fingerprint.filter(|f| !f.trim().is_empty()) {
                Some(pin) => builder.use_preconfigured_tls(pinned_client_config(Fingerprint::parse(pin)?)?),
                None => builder,
            };
            Ok(builder.build()?)
        }
        "http" => {
            let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
            let loopback =
                host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
            if !loopback && !insecure_no_tls {
                anyhow::bail!(
                    "refusing to send kiosk data to {base} over plain HTTP: use its https address (and \
                     VOUCH_REMOTE_FINGERPRINT with the fingerprint `vouch serve` printed), or set \
                     VOUCH_INSECURE_NO_TLS=1 to accept the risk"
                );
            }
            if !loopback {
                tracing::warn!(
                    remote = %base,
                    "INSECURE: kiosk data goes to the remote server over plain HTTP (insecure_no_tls); anyone on \
                     the network can read and change it"
                );
            }
            Ok(builder.build()?)
        }
        other => anyhow::bail!("the remote Vouch URL must be https (or http on loopback), not {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn tls_is_on_off_loopback_unless_refused_out_loud() {
        let auto = TlsSetting::Auto;
        assert_eq!(decide(addr("127.0.0.1:8270"), &auto, false).unwrap(), Decision::Plain);
        assert_eq!(decide(addr("[::1]:8270"), &auto, false).unwrap(), Decision::Plain);
        assert_eq!(decide(addr("0.0.0.0:8270"), &auto, false).unwrap(), Decision::SelfSigned);
        assert_eq!(decide(addr("192.168.1.20:8270"), &auto, false).unwrap(), Decision::SelfSigned);
        assert_eq!(decide(addr("0.0.0.0:8270"), &auto, true).unwrap(), Decision::PlainInsecure);
        assert_eq!(decide(addr("127.0.0.1:8270"), &TlsSetting::SelfSigned, false).unwrap(), Decision::SelfSigned);
        assert!(decide(addr("0.0.0.0:1"), &TlsSetting::SelfSigned, true).is_err());
    }

    #[test]
    fn fingerprints_read_as_printed_and_in_bare_hex() {
        let fp = Fingerprint::of(b"certificate");
        let printed = fp.to_string();
        assert_eq!(printed.len(), 32 * 3 - 1);
        assert_eq!(Fingerprint::parse(&printed).unwrap(), fp);
        assert_eq!(Fingerprint::parse(&printed.replace(':', "").to_lowercase()).unwrap(), fp);
        assert!(Fingerprint::parse("AB:CD").is_err());
        assert!(Fingerprint::parse(&printed.replace('A', "G")).is_err() || !printed.contains('A'));
    }

    #[test]
    fn plain_http_to_another_machine_needs_the_insecure_flag() {
        let t = std::time::Duration::from_secs(1);
        assert!(remote_client("http://10.0.0.5:8270", None, false, t).is_err());
        assert!(remote_client("http://10.0.0.5:8270", None, true, t).is_ok());
        assert!(remote_client("http://127.0.0.1:8270", None, false, t).is_ok());
        assert!(remote_client("http://localhost:8270", None, false, t).is_ok());
        assert!(remote_client("https://kiosk.example", Some("nonsense"), false, t).is_err());
        assert!(remote_client("ftp://kiosk.example", None, false, t).is_err());
    }

    #[test]
    fn names_cover_loopback_the_bind_and_the_public_host() {
        let names = certificate_names(
            addr("192.168.1.20:8270"),
            Some("https://kiosk-12.branch.example:8443/"),
            &["proxy.example:443".into(), "[fd00::1]:8443".into()],
        );
        for n in ["localhost", "127.0.0.1", "192.168.1.20", "kiosk-12.branch.example", "proxy.example", "fd00::1"] {
            assert!(names.contains(&n.to_string()), "{n} missing from {names:?}");
        }
    }

    #[test]
    fn a_generated_certificate_is_kept_and_its_key_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let names = certificate_names(addr("127.0.0.1:0"), None, &[]);
        let first = server_tls(&Decision::SelfSigned, dir.path(), &names).unwrap().unwrap();
        let again = server_tls(&Decision::SelfSigned, dir.path(), &names).unwrap().unwrap();
        assert_eq!(first.fingerprint, again.fingerprint, "a confirmed fingerprint stays valid across restarts");
        let mode = std::fs::metadata(dir.path().join("tls/key.pem")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(first.self_signed);
    }
}
