//! Graceful shutdown. hyper's task for a connection ends once the connection is upgraded, so
//! WebSocket sessions register here, and so do the plain HTTP connections `serve` runs: on
//! shutdown each session closes its socket with "going away", each connection finishes the request
//! in flight, and the server waits for all of them (within a grace period) before exiting.
use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A cloneable handle: trigger it once, then wait for every session to finish.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    /// Cancelled when the server starts shutting down; every session selects on it.
    token: CancellationToken,
    /// Every session task, so shutdown can wait until their close frames are sent.
    tracker: TaskTracker,
}

impl Shutdown {
    /// A handle that has not been triggered.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Starts shutting down: sessions send their close frames and end.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Whether [`Shutdown::trigger`] has been called.
    pub fn is_triggered(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Completes once shutdown has been triggered.
    pub async fn triggered(&self) {
        self.token.cancelled().await
    }

    /// Waits (at most `limit`) for every session to end; true if they all did. Call after
    /// [`Shutdown::trigger`].
    pub async fn wait_for_sessions(&self, limit: Duration) -> bool {
        self.tracker.close();
        tokio::time::timeout(limit, self.tracker.wait()).await.is_ok()
    }

    /// Wraps a session (or an HTTP connection) so that [`Shutdown::wait_for_sessions`] waits for
    /// it.
    pub(crate) fn track<F: Future>(&self, session: F) -> impl Future<Output = F::Output> {
        self.tracker.track_future(session)
    }
}
