//! Graceful shutdown. Upgraded WebSockets are not tracked by `axum::serve`, which stops waiting
//! for a connection once it has been upgraded, so sessions register here: on shutdown each one
//! closes its socket with "going away" and the server waits for them before exiting.
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

    /// Wraps a session so that [`Shutdown::wait_for_sessions`] waits for it.
    pub(crate) fn track<F: Future>(&self, session: F) -> impl Future<Output = F::Output> {
        self.tracker.track_future(session)
    }
}
