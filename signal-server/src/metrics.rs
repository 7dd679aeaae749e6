//! Counters behind `/metrics`, rendered in the Prometheus text format. Plain atomics: the relay
//! path bumps one counter per message, and nothing here takes a lock.
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use flotilla_signal_protocol::ErrorCode;

/// The server's counters and gauges.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Open WebSocket connections (gauge).
    pub connections: AtomicI64,
    /// WebSocket connections accepted since start, refused ones included.
    pub connections_total: AtomicU64,
    /// Rooms with at least one member (gauge).
    pub rooms: AtomicI64,
    /// Room members, parked ones included (gauge).
    pub peers: AtomicI64,
    /// Members whose socket dropped and who may still resume (gauge).
    pub parked: AtomicI64,
    /// Signals delivered into a receiver's queue.
    pub messages_relayed: AtomicU64,
    /// Successful resumes.
    pub resumes: AtomicU64,
    /// Membership notices (`peer_joined`, `peer_left`) dropped because a queue was full.
    pub notices_dropped: AtomicU64,
    /// `error` frames sent, by code (indexed like `ErrorCode::ALL`).
    pub errors: [AtomicU64; ErrorCode::ALL.len()],
}

impl Metrics {
    /// Counts one `error` frame.
    pub fn error(&self, code: ErrorCode) {
        if let Some(i) = ErrorCode::ALL.iter().position(|&c| c == code) {
            self.errors[i].fetch_add(1, Relaxed);
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
        };
        metric(
            "signal_connections",
            "gauge",
            "Open WebSocket connections.",
            self.connections.load(Relaxed).to_string(),
        );
        metric(
            "signal_connections_total",
            "counter",
            "WebSocket connections accepted, refused ones included.",
            self.connections_total.load(Relaxed).to_string(),
        );
        metric(
            "signal_rooms",
            "gauge",
            "Rooms with at least one member.",
            self.rooms.load(Relaxed).to_string(),
        );
        metric(
            "signal_peers",
            "gauge",
            "Room members, including parked ones awaiting a resume.",
            self.peers.load(Relaxed).to_string(),
        );
        metric(
            "signal_parked_peers",
            "gauge",
            "Members whose socket dropped and who may still resume.",
            self.parked.load(Relaxed).to_string(),
        );
        metric(
            "signal_messages_relayed_total",
            "counter",
            "Signals delivered into a receiver's queue.",
            self.messages_relayed.load(Relaxed).to_string(),
        );
        metric(
            "signal_resumes_total",
            "counter",
            "Sessions resumed with a resume token.",
            self.resumes.load(Relaxed).to_string(),
        );
        metric(
            "signal_notices_dropped_total",
            "counter",
            "peer_joined/peer_left notices dropped because the member's queue was full.",
            self.notices_dropped.load(Relaxed).to_string(),
        );
        out.push_str("# HELP signal_errors_total Error frames sent to clients, by code.\n");
        out.push_str("# TYPE signal_errors_total counter\n");
        for (code, count) in ErrorCode::ALL.iter().zip(&self.errors) {
            let _ = writeln!(out, "signal_errors_total{{code=\"{code}\"}} {}", count.load(Relaxed));
        }
        out
    }
}
