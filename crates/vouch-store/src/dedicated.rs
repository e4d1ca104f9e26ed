//! A small tokio runtime of a store backend's own (object storage, PostgreSQL). The store's API is synchronous
//! and is called from plain threads, blocking tasks and async tasks alike: each call is spawned here and the
//! caller waits on a channel, which never nests one runtime inside another.

use std::future::Future;

pub(crate) struct Dedicated {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Dedicated {
    pub(crate) fn new(name: &str) -> Result<Dedicated, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| format!("starting the {name} runtime: {e}"))?;
        Ok(Dedicated { runtime: Some(runtime) })
    }

    /// Runs `future` here without waiting for it; it ends with the runtime at the latest.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        if let Some(runtime) = self.runtime.as_ref() {
            runtime.spawn(future);
        }
    }

    /// Runs `future` here and waits for its output.
    pub(crate) fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Result<T, String> {
        let runtime = self.runtime.as_ref().ok_or("the runtime is shut down")?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv().map_err(|_| "the runtime stopped before answering".to_string())
    }
}

/// Shut down without waiting, so that dropping a store inside an async task does not block it.
impl Drop for Dedicated {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
