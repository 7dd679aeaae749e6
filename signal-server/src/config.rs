//! What the server is told at start: limits, timeouts, ICE servers and where the app lives. The
//! command line (in `main.rs`) fills a [`Config`]; tests build one directly with short timeouts.
use std::path::PathBuf;
use std::time::Duration;

use flotilla_signal_protocol::{IceServer, DEFAULT_MAX_FRAME_BYTES};

use crate::shutdown::Shutdown;

/// Everything [`crate::app`] needs to serve.
#[derive(Clone, Debug)]
pub struct Config {
    /// The trunk-built web app; a placeholder page is served while it has no `index.html`.
    pub static_dir: PathBuf,
    /// Limits that protect the server and the other rooms from one client.
    pub limits: Limits,
    /// How long a peer whose socket dropped keeps its id and place for a resume.
    pub resume_ttl: Duration,
    /// How often the server pings a client that has been quiet for this long.
    pub ping_interval: Duration,
    /// A client silent for longer (no frame, not even a pong) is dropped and announced as left.
    /// Also bounds how long one write to a client that stopped reading may block.
    pub idle_timeout: Duration,
    /// How long a client may take to send a request's header (the WebSocket upgrade included),
    /// from connecting or from its previous request; then the connection is closed. Without it
    /// a client that connects and sends nothing holds a socket forever.
    pub header_read_timeout: Duration,
    /// Handed to every client in `welcome`; empty means host candidates only (LAN, loopback).
    pub ice_servers: Vec<IceServer>,
    /// Each socket's read buffer and write batch threshold, in bytes. Small on purpose: tungstenite
    /// defaults to 128 KiB of read buffer per socket, 1.3 GiB for 10,000 idle clients, while
    /// signaling frames are a few hundred bytes (a larger frame still fits: the buffer grows).
    pub socket_buffer_bytes: usize,
    /// Stops the sessions when the server shuts down, and waits for them.
    pub shutdown: Shutdown,
}

/// Configurable limits. Hitting one gets the client an `error` frame, and a close for abuse or
/// capacity (see the protocol crate's `close_code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest frame (and message) accepted; a larger one closes the session with 1009.
    pub max_frame_bytes: usize,
    /// Members per room, parked ones included.
    pub max_peers_per_room: usize,
    /// Rooms at once, across the server.
    pub max_rooms: usize,
    /// WebSocket connections at once, across the server.
    pub max_connections: usize,
    /// Frames per second per connection (a token bucket holding one second's worth). Frames past
    /// it are dropped with one `rate_limited` error; another second's worth more closes with 1008.
    pub max_msgs_per_sec: u32,
    /// Frames queued for one peer (while it writes slowly or is parked awaiting a resume); signals
    /// to a peer whose queue is full are refused with `peer_overloaded`.
    pub peer_queue: usize,
    /// Bytes queued for one peer, likewise: bounds what a parked peer holds to a fixed size,
    /// whatever the frame limit.
    pub peer_queue_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_peers_per_room: 32,
            max_rooms: 10_000,
            max_connections: 20_000,
            max_msgs_per_sec: 200,
            peer_queue: 256,
            peer_queue_bytes: 256 * 1024,
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            static_dir: PathBuf::from("dist"),
            limits: Limits::default(),
            resume_ttl: Duration::from_secs(30),
            ping_interval: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            // A browser sends its upgrade request in one packet as soon as it is connected; ten
            // seconds leave room for a slow link and stay far below the idle timeout.
            header_read_timeout: Duration::from_secs(10),
            ice_servers: Vec::new(),
            socket_buffer_bytes: 4096,
            shutdown: Shutdown::new(),
        }
    }
}
