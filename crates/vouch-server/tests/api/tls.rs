//! https: the generated certificate and its pinned fingerprint, a configured certificate, and what a client
//! that does not hold the right fingerprint, or does not speak TLS, gets.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use vouch_server::tls::{remote_client, Fingerprint, TlsSetting};

use vouch_testkit::server::Kit;

fn host_port(base: &str) -> String {
    base.split_once("://").unwrap().1.to_string()
}

#[tokio::test]
async fn the_generated_certificate_serves_https_to_a_client_holding_its_fingerprint() {
    let kit = Kit::start_with(|cfg| cfg.tls = TlsSetting::SelfSigned).await;
    assert!(kit.base.starts_with("https://127.0.0.1:"), "{}", kit.base);
    assert!(kit.running.tls_self_signed);
    let fingerprint = kit.running.tls_fingerprint.unwrap();
    let pem = std::fs::read(kit.dir.path().join("data/tls/cert.pem")).unwrap();
    let der = rustls_pem_der(&pem);
    assert_eq!(Fingerprint::of(&der), fingerprint, "the printed fingerprint is the served certificate's");

    // The kit's client is pinned to that fingerprint: the kiosk's remote mode, end to end.
    let resp = kit.http.get(kit.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let status = kit.kiosk_ok(None, "kiosk_status", json!({})).await;
    assert!(status.is_object(), "{status}");

    let paired = kit
        .http
        .post(kit.url("/vouch/v1/kiosk/pair"))
        .json(&json!({"code": kit.running.state.kiosk.bridge.pairing_code()}))
        .send()
        .await
        .unwrap();
    let cookie = paired.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "the bridge cookie never leaves over plain HTTP: {cookie}");
}

#[tokio::test]
async fn a_wrong_fingerprint_an_unpinned_client_and_plain_http_get_nothing() {
    let kit = Kit::start_with(|cfg| cfg.tls = TlsSetting::SelfSigned).await;
    let other = Fingerprint::of(b"some other certificate").to_string();
    let impostor_check = remote_client(&kit.base, Some(&other), false, Duration::from_secs(10)).unwrap();
    let err = impostor_check.get(kit.url("/healthz")).send().await.unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");

    let public_roots = remote_client(&kit.base, None, false, Duration::from_secs(10)).unwrap();
    assert!(public_roots.get(kit.url("/healthz")).send().await.is_err(), "no public CA vouches for it");

    let plain = format!("http://{}/healthz", host_port(&kit.base));
    let answer = reqwest::Client::new().get(plain).send().await;
    assert!(answer.is_err() || answer.unwrap().status() != StatusCode::OK, "plain HTTP is not served");

    // The server is still fine.
    assert_eq!(kit.http.get(kit.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

/// A client that opens a connection and never finishes its TLS handshake is dropped after the header timeout,
/// and holds nobody else up meanwhile.
#[tokio::test]
async fn stalled_handshakes_are_dropped_after_the_header_timeout() {
    use tokio::io::AsyncWriteExt;
    let kit = Kit::start_with(|cfg| {
        cfg.tls = TlsSetting::SelfSigned;
        cfg.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let addr = host_port(&kit.base);
    let mut stalled = Vec::new();
    for _ in 0..16 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // The first bytes of a ClientHello record, and then nothing.
        stream.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
        stalled.push(stream);
    }
    assert_eq!(kit.http.get(kit.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
    for stream in stalled {
        assert!(
            vouch_testkit::server::closed_within(stream, Duration::from_secs(15)).await,
            "a stalled handshake was held open"
        );
    }
}

#[tokio::test]
async fn a_configured_certificate_is_served_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["kiosk.branch.example".to_string(), "127.0.0.1".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let kit =
        Kit::start_with(|cfg| cfg.tls = TlsSetting::Files { cert: cert_path.clone(), key: key_path.clone() }).await;
    assert_eq!(kit.running.tls_fingerprint, Some(Fingerprint::of(cert.der())));
    assert!(!kit.running.tls_self_signed);
    assert!(!kit.dir.path().join("data/tls").exists(), "nothing is generated when a certificate is given");
    assert_eq!(kit.http.get(kit.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn a_key_that_does_not_fit_its_certificate_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let other_key = rcgen::KeyPair::generate().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, other_key.serialize_pem()).unwrap();
    let store = vouch_store::Store::open(&dir.path().join("data")).unwrap();
    let mut cfg = vouch_testkit::server::fast_config();
    cfg.tls = TlsSetting::Files { cert: cert_path, key: key_path };
    let err = vouch_server::start(cfg, store).await.err().expect("a mismatched key must not start");
    assert!(format!("{err:#}").contains("does not fit"), "{err:#}");
}

fn rustls_pem_der(pem: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}
