//! The accept loop: HTTP/1.1, over TLS when configured, with a header-read timeout (a client that trickles its
//! headers, or its TLS handshake, is cut off, so half-sent requests cannot hold the server), a cap on open
//! connections, and a graceful stop that lets requests in flight finish.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Semaphore};
use tokio_rustls::TlsAcceptor;

/// Connection limits, from [`crate::ServerConfig`].
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this long of the connection being ready for them.
    pub header_read_timeout: Duration,
    /// Open connections at once; further ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// On stop, requests in flight get this long to finish.
    pub drain: Duration,
}

/// Serves `router` on `listener` (https when `tls` is given) until `stop` fires, then drains.
pub async fn run(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    limits: ConnectionLimits,
    stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let (router, watcher, tls) = (router.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, router, limits, watcher).await,
                Some(acceptor) => {
                    // The handshake counts against the header timeout: a client that stalls in it is dropped.
                    match tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => serve_connection(stream, router, limits, watcher).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "a TLS handshake failed"),
                        Err(_) => tracing::debug!("a TLS handshake did not finish within the header timeout"),
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    drain(graceful, limits.drain).await;
}

async fn serve_connection<S>(stream: S, router: Router, limits: ConnectionLimits, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout).keep_alive(true);
    if let Err(e) = watcher.watch(http.serve_connection(TokioIo::new(stream), service)).await {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

async fn drain(graceful: GracefulShutdown, limit: Duration) {
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("every request in flight finished"),
        () = tokio::time::sleep(limit) => tracing::warn!("stopped with requests still in flight after the drain time"),
    }
}
