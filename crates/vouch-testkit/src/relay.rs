//! A TCP relay on loopback whose link can be cut and restored: the network between a kiosk and its central
//! service, for tests of a kiosk that goes offline. Cut, it drops the connections it carries and closes new ones
//! at once, as a pulled cable or a dead uplink looks to the kiosk.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct Relay {
    /// `http://127.0.0.1:PORT`: where the kiosk is told the central is.
    pub url: String,
    target: Arc<Mutex<Option<SocketAddr>>>,
    cut: Arc<AtomicBool>,
    carried: Arc<Mutex<Vec<AbortHandle>>>,
    accepting: tokio::task::JoinHandle<()>,
}

impl Relay {
    /// A relay on a free loopback port, relaying nowhere until [`Relay::forward_to`]: a server can be told its
    /// address (a Host it answers to) before it starts.
    pub async fn bind() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let cut = Arc::new(AtomicBool::new(false));
        let carried: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let accepting = {
            let (cut, carried, target) = (cut.clone(), carried.clone(), target.clone());
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let Some(target) = *target.lock().unwrap() else { continue };
                    if cut.load(Ordering::SeqCst) {
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    carried.lock().unwrap().push(task.abort_handle());
                }
            })
        };
        Relay { url, target, cut, carried, accepting }
    }

    /// `HOST:PORT` of the relay, as a Host header names it.
    pub fn authority(&self) -> String {
        self.url.trim_start_matches("http://").to_string()
    }

    /// Relays to a server's `http://HOST:PORT` address from now on.
    pub fn forward_to(&self, target: &str) {
        let target: SocketAddr = target.trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
        *self.target.lock().unwrap() = Some(target);
    }

    /// Drops every connection it carries and closes new ones until [`Relay::restore`].
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for task in self.carried.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accepting.abort();
    }
}
