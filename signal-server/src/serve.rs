//! The accept loop: what `axum::serve` does, plus a deadline on reading each request's header.
//!
//! `axum::serve` gives hyper no timer, so hyper's `header_read_timeout` never runs there: a
//! client that connects and sends nothing, or half a request line, holds its socket (a file
//! descriptor, and a task) for as long as it likes, and a few thousand of them exhaust the
//! process's descriptors without ever reaching the WebSocket connection limit, which counts
//! upgraded sessions only. Here each connection is served by hyper's HTTP/1 builder with a tokio
//! timer and `header_read_timeout`, the standard guard against such slow or silent clients: the
//! whole header must arrive within the deadline, which runs from the moment hyper waits for a
//! request, so it also closes keep-alive connections that stay idle that long. Once a socket is
//! upgraded to a WebSocket, hyper is out of the way and the session's own keepalive takes over.
use std::time::Duration;

use axum::serve::Listener;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::config::Config;

/// Worker threads by default: one (see [`runtime`]).
pub const DEFAULT_THREADS: usize = 1;

/// The tokio runtime to run [`serve`] on, with `threads` worker threads: with one (the default),
/// a current-thread runtime that runs every session, and polls every socket, on the calling
/// thread; with more, tokio's work-stealing multi-thread runtime.
///
/// One thread is the default because relaying a signal is a few microseconds of work (one thread
/// relayed up to 90,000 a second in the benchmark's closed loop, sharing two cores with the load
/// generator) and every hand-off between threads costs latency on a busy machine. On the
/// multi-thread runtime the workers take turns at the I/O driver: the worker woken from
/// `epoll_wait` runs the tasks while the others sleep on a condition variable, so when it is
/// preempted, the tasks it queued and every socket event wait for it to run again. At a fixed
/// 5,000 msg/s on the 2-core development machine under load, two workers had a median p99 of
/// 2.7 ms and one thread 1.1 ms (20 and 29 runs; see the README). More threads pay off when one
/// core is not enough, or for heavy static-file traffic: files are compressed on the fly, and on
/// one thread a page load holds up signaling while that runs (about 40 ms for a 300 KB file).
/// Signaling itself scales out by room (see the crate docs).
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(threads);
        builder
    };
    builder.enable_all().build()
}

/// Serves [`crate::app`] on `listener` until `config.shutdown` is triggered, then waits (at most
/// `grace`) for requests in flight to be answered and every session to send its close frame.
/// Returns whether all of them did.
pub async fn serve(
    mut listener: TcpListener,
    config: Config,
    grace: Duration,
) -> std::io::Result<bool> {
    let shutdown = config.shutdown.clone();
    let header_read_timeout = config.header_read_timeout;
    let app = crate::app(config);
    loop {
        // axum's `Listener::accept` retries what a busy server can hit (out of descriptors:
        // it waits a second, as `axum::serve` does) instead of failing the whole server.
        let (stream, _) = tokio::select! {
            () = shutdown.triggered() => break,
            accepted = Listener::accept(&mut listener) => accepted,
        };
        // Signaling frames are small and latency-bound: Nagle's algorithm would hold a frame
        // written right after another (an error then a close, a relayed offer then its first
        // candidate) until the client's delayed ACK, tens of milliseconds later.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {error}");
        }
        let service = TowerToHyperService::new(app.clone());
        let stop = shutdown.clone();
        // Tracked like the sessions, so shutdown waits for a response being written.
        tokio::spawn(shutdown.track(async move {
            let mut builder = http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(header_read_timeout);
            let connection = builder.serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection.with_upgrades());
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = stop.triggered() => {
                    // Finish the request in flight, if any, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                // A header timeout, a malformed request or a client gone mid-request.
                tracing::debug!("connection ended: {error}");
            }
        }));
    }
    drop(listener);
    Ok(shutdown.wait_for_sessions(grace).await)
}
