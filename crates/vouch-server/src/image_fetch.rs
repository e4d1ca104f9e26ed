//! DIS `image.url`: fetching an image an integrator names is off unless an admin turns it on, and then
//! reaches only `https` hosts on the admin's allowlist whose addresses are public. The check runs after DNS
//! resolution, the connection goes to exactly the address that was checked (a second lookup cannot swap
//! in another), and every redirect is checked again. Size and time are capped; errors never echo what the
//! other server sent.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::error::ApiError;
use crate::state::AppState;

/// `[image_url]` in `vouch.toml`.
#[derive(Debug, Clone, Default)]
pub struct ImageUrlConfig {
    pub enabled: bool,
    /// Host names (exact, case-insensitive) that images may be fetched from.
    pub allowed_hosts: Vec<String>,
}

/// Which resolved addresses a fetch may connect to, and which extra certificate it trusts. The server uses
/// [`Reach::public`]; tests stand a loopback address in for "public" to drive real redirects.
struct Reach {
    allowed: Box<dyn Fn(SocketAddr) -> bool + Send + Sync>,
    extra_root: Option<reqwest::Certificate>,
}

impl Reach {
    fn public() -> Reach {
        Reach { allowed: Box::new(|a: SocketAddr| is_public(a.ip())), extra_root: None }
    }
}

const MAX_REDIRECTS: usize = 3;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

fn refused(why: impl Into<String>) -> ApiError {
    ApiError::invalid(format!("The image URL is refused: {}", why.into())).with_vendor_code("DATA_DOWNLOAD_ERROR")
}

fn failed(why: impl Into<String>) -> ApiError {
    ApiError::invalid(format!("The image could not be downloaded: {}", why.into()))
        .with_vendor_code("DATA_DOWNLOAD_ERROR")
}

/// Whether an address is on the public internet: not loopback, private, link-local, multicast, unspecified,
/// shared (CGNAT), documentation, benchmarking or reserved, in IPv4 or IPv6 (IPv4-mapped included).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments().first().copied().unwrap_or(0);
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments().get(1).is_some_and(|s| *s == 0x0db8)
                || first == 0x0064)
        }
    }
}

/// The checked target of one hop: its host, and the public addresses it resolved to.
async fn check_target(
    config: &ImageUrlConfig,
    reach: &Reach,
    url: &reqwest::Url,
) -> Result<(String, Vec<SocketAddr>), ApiError> {
    if url.scheme() != "https" {
        return Err(refused("only https:// URLs are fetched"));
    }
    let host = url.host_str().ok_or_else(|| refused("it has no host"))?.to_ascii_lowercase();
    let host_bare = host.trim_start_matches('[').trim_end_matches(']').to_string();
    if !config.allowed_hosts.iter().any(|h| h.eq_ignore_ascii_case(&host_bare)) {
        return Err(refused("its host is not on the allowlist ([image_url] allowed_hosts)"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match host_bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host_bare.as_str(), port))
            .await
            .map_err(|_| failed("its host name does not resolve"))?
            .collect(),
    };
    if addrs.is_empty() {
        return Err(failed("its host name does not resolve"));
    }
    if addrs.iter().any(|a| !(reach.allowed)(*a)) {
        return Err(refused("it resolves to a loopback, private, link-local or otherwise non-public address"));
    }
    Ok((host_bare, addrs))
}

/// Fetches the image at `url` under the rules above, at most `max` bytes.
pub async fn fetch(state: &AppState, url: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    fetch_within(&state.config.image_url, &Reach::public(), url, max).await
}

async fn fetch_within(config: &ImageUrlConfig, reach: &Reach, url: &str, max: usize) -> Result<Vec<u8>, ApiError> {
    let mut url =
        reqwest::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https")).ok_or_else(|| {
            ApiError::invalid("The image URL is not a valid http(s) URL").with_vendor_code("MALFORMED_URL")
        })?;
    if !config.enabled {
        return Err(refused(
            "fetching images from URLs is off on this Vouch; send image.data, or an admin enables [image_url]",
        ));
    }
    for _ in 0..=MAX_REDIRECTS {
        let (host, addrs) = check_target(config, reach, &url).await?;
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve_to_addrs(&host, &addrs)
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("Vouch/", env!("CARGO_PKG_VERSION")));
        if let Some(root) = &reach.extra_root {
            client = client.add_root_certificate(root.clone());
        }
        let client = client.build().map_err(ApiError::internal)?;
        let mut resp = client.get(url.clone()).send().await.map_err(|e| failed(e.without_url().to_string()))?;
        if resp.status().is_redirection() {
            let location = resp
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .ok_or_else(|| failed("a redirect without a location"))?;
            url = url.join(location).map_err(|_| failed("a redirect to an invalid URL"))?;
            continue;
        }
        if !resp.status().is_success() {
            return Err(failed(format!("the server answered {}", resp.status().as_u16())));
        }
        if resp.content_length().is_some_and(|n| n > max as u64) {
            return Err(failed(format!("the image is larger than {max} bytes")));
        }
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| failed(e.without_url().to_string()))? {
            if out.len() + chunk.len() > max {
                return Err(failed(format!("the image is larger than {max} bytes")));
            }
            out.extend_from_slice(&chunk);
        }
        return Ok(out);
    }
    Err(failed(format!("more than {MAX_REDIRECTS} redirects")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "ff02::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn redirect_targets_are_checked_like_the_first_url() {
        let config = ImageUrlConfig { enabled: true, allowed_hosts: vec!["localhost".into(), "127.0.0.1".into()] };
        for url in
            ["https://127.0.0.1/a.png", "https://localhost/a.png", "http://localhost/a.png", "https://example.com/"]
        {
            let url = reqwest::Url::parse(url).unwrap();
            assert!(check_target(&config, &Reach::public(), &url).await.is_err(), "{url}");
        }
    }

    /// An https server on loopback that answers every request with `response`, counting requests.
    async fn https_server(
        cert: &rcgen::CertifiedKey<rcgen::KeyPair>,
        response: String,
    ) -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let config =
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![CertificateDer::from(cert.cert.der().to_vec())], key)
                .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = hits.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(mut tls) = acceptor.accept(tcp).await else { continue };
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut head = [0u8; 4096];
                let _ = tls.read(&mut head).await;
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            }
        });
        (addr, hits)
    }

    /// A real redirect from an allowed address to a loopback one is refused before anything is sent there;
    /// the same harness fetches an image when the redirect stays on the allowed address.
    #[tokio::test]
    async fn a_real_redirect_to_loopback_is_refused() {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let image = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nPNG!";
        let (inner, inner_hits) = https_server(&cert, image.into()).await;
        let redirect_to = |target: SocketAddr| {
            format!("HTTP/1.1 302 Found\r\nLocation: https://{target}/x.png\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        };
        let (outer, _) = https_server(&cert, redirect_to(inner)).await;
        let config = ImageUrlConfig { enabled: true, allowed_hosts: vec!["127.0.0.1".into()] };
        let root = reqwest::Certificate::from_der(cert.cert.der()).unwrap();
        // Only the outer server stands in for a public address; the inner one is loopback, as it really is.
        let only_outer = Reach { allowed: Box::new(move |a| a == outer), extra_root: Some(root.clone()) };
        let err = fetch_within(&config, &only_outer, &format!("https://{outer}/a.png"), 1024).await.unwrap_err();
        assert!(err.message.contains("non-public"), "{}", err.message);
        assert!(!err.message.contains("127.0.0.1"), "the error does not echo where it was sent: {}", err.message);
        assert_eq!(inner_hits.load(std::sync::atomic::Ordering::SeqCst), 0, "nothing reached the loopback server");

        // Control: with both addresses allowed, the same redirect is followed and the image arrives.
        let both = Reach { allowed: Box::new(move |a| a == outer || a == inner), extra_root: Some(root) };
        let bytes = fetch_within(&config, &both, &format!("https://{outer}/a.png"), 1024).await.unwrap();
        assert_eq!(bytes, b"PNG!");
        assert_eq!(inner_hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    }
}
