//! Flotilla's signal server: browser tabs meet here, in rooms, and exchange the WebRTC offers,
//! answers and ICE candidates that let them open data channels to each other. It also serves the
//! web app, so one command runs the demo. The protocol is documented (and typed) in the
//! `flotilla-signal-protocol` crate, which the web app shares.
//!
//! # Layout
//! - [`app`] (here) builds the router: `/ws/{room}`, `/healthz`, `/metrics`, and the app's files.
//!   It is apart from `main.rs` (command line, logging, signals) so tests can serve it on port 0.
//! - `serve`: [`serve`] runs it on a listener until shutdown, with a deadline on request headers;
//!   [`runtime`] builds the tokio runtime to run it on (one thread by default).
//! - `config`: [`Config`] and [`Limits`], with their defaults.
//! - `session`: one WebSocket session in one task; rate limit, keepalive, close codes.
//! - `rooms`: rooms and members; join, resume, relay, leave. Rooms are freed with their last
//!   member.
//! - `web`: static files with compression and cache headers, or a placeholder page.
//! - `metrics`: counters, rendered in the Prometheus text format.
//! - `shutdown`: [`Shutdown`], which closes every session with "going away".
//! - `bin/signal-bench.rs`: the benchmark behind `cargo xtask bench signal`.
//!
//! # Scaling out
//! Rooms share nothing: a session only ever touches its own room. So instances scale out by
//! sharding rooms, behind any proxy that routes by path, hashing `/ws/{room}` to an instance
//! (nginx `hash $uri consistent`, HAProxy `balance uri`, Envoy's ring hash on the path). Every
//! member of a room then lands on the same instance, and no state is shared between instances.
//! Resume tokens are scoped to a room, so they keep working across a reconnect that the proxy
//! routes by the same hash. The static files can be served by any instance or a CDN.
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use flotilla_signal_protocol::valid_room_name;

mod config;
mod metrics;
mod rooms;
mod serve;
mod session;
mod shutdown;
mod web;

pub use config::{Config, Limits};
pub use serve::{runtime, serve, DEFAULT_THREADS};
pub use shutdown::Shutdown;

/// What every request and session shares.
struct AppState {
    /// Limits, timeouts, ICE servers and the shutdown handle, fixed at start.
    config: Config,
    /// Every room and its members.
    rooms: rooms::Rooms,
    /// Counters behind `/metrics`.
    metrics: metrics::Metrics,
    /// The next peer id. Ids are never reused while the server runs, so a signal addressed to a
    /// peer that left can never reach a newcomer.
    next_peer: AtomicU64,
    /// The next connection number; tells a member's current socket from one a resume superseded.
    next_conn: AtomicU64,
}

/// The whole server as a router. [`serve`] runs it; with `axum::serve` instead, set TCP_NODELAY
/// on accepted sockets, trigger `config.shutdown` to stop, and call
/// [`Shutdown::wait_for_sessions`] so the close frames go out (and there is no deadline on
/// request headers: `axum::serve` gives hyper no timer).
pub fn app(config: Config) -> Router {
    let files = web::files(config.static_dir.clone());
    let state = Arc::new(AppState {
        config,
        rooms: rooms::Rooms::default(),
        metrics: metrics::Metrics::default(),
        next_peer: AtomicU64::new(1),
        next_conn: AtomicU64::new(1),
    });
    Router::new()
        .route("/ws/{room}", get(websocket))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .with_state(state)
        .merge(files)
}

/// Upgrades `/ws/{room}` to a session, with socket buffers and frame limits from the config.
async fn websocket(
    upgrade: WebSocketUpgrade,
    Path(room): Path<String>,
    State(state): State<Arc<AppState>>,
) -> Response {
    if !valid_room_name(&room) {
        return (StatusCode::BAD_REQUEST, "room names are 1-64 of A-Z a-z 0-9 - _ .\n")
            .into_response();
    }
    let shutdown = state.config.shutdown.clone();
    if shutdown.is_triggered() {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    let buffer = state.config.socket_buffer_bytes;
    let max_frame = state.config.limits.max_frame_bytes;
    upgrade
        .read_buffer_size(buffer)
        .write_buffer_size(buffer)
        .max_frame_size(max_frame)
        .max_message_size(max_frame)
        .on_upgrade(move |socket| shutdown.track(session::run(socket, room, state)))
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}
