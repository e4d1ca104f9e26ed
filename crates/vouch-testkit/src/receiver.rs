//! A real webhook receiver on loopback: it records what arrives and answers with scripted statuses.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

/// Where the receiver listens.
pub const PATH: &str = "/eeid/webhooks/identification_requests";

#[derive(Clone)]
pub struct Receiver {
    /// Its URL on 127.0.0.1.
    pub url: String,
    /// The statuses to answer, in order.
    pub answers: Arc<Mutex<VecDeque<u16>>>,
    /// The status answered once the scripted ones run out.
    pub otherwise: Arc<AtomicU16>,
    /// Every request's headers and body, in order.
    pub received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// The status each request got.
    pub answered: Arc<Mutex<Vec<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    r.received.lock().unwrap().push((headers, body));
    let code = r.answers.lock().unwrap().pop_front().unwrap_or_else(|| r.otherwise.load(Ordering::SeqCst));
    r.answered.lock().unwrap().push(code);
    StatusCode::from_u16(code).unwrap()
}

impl Receiver {
    /// Serves on 127.0.0.1:0, answering `answers` in order and 200 after them.
    pub async fn start(answers: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            url: format!("http://{}{PATH}", listener.local_addr().unwrap()),
            answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
            otherwise: Arc::new(AtomicU16::new(200)),
            received: Arc::default(),
            answered: Arc::default(),
        };
        let app = axum::Router::new().route(PATH, axum::routing::post(receive)).with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        receiver
    }

    /// From now on, once the scripted answers run out, answer `status`.
    pub fn answer_from_now(&self, status: u16) {
        self.otherwise.store(status, Ordering::SeqCst);
    }

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// How many requests were answered with a 2xx.
    pub fn successes(&self) -> usize {
        self.answered.lock().unwrap().iter().filter(|c| (200..300).contains(*c)).count()
    }
}
