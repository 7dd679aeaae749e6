//! The transport: how one tab reaches the others. It carries opaque frames (the core codec's
//! bytes) and reports who is reachable; it knows nothing about Raft.
//!
//! - [`signaling`]: the WebSocket to the signal server, which introduces tabs to each other and
//!   relays their WebRTC negotiation. It reconnects with backoff and resumes its peer id.
//! - [`peer`]: one RTCPeerConnection with one negotiated, reliable, ordered data channel to one
//!   other tab, with trickle ICE and send-side backpressure.
//! - [`mesh`]: a full mesh of peer links driven by the signaling client; what the runtime uses.
//!
//! Every JS callback is owned by the Rust object it serves and is detached and dropped when that
//! object closes, so tabs can come and go all day without leaking closures.
pub mod backoff;
pub mod mesh;
pub mod peer;
pub mod signaling;

pub use flotilla_signal_protocol::PeerId;
pub use mesh::{room_url, DownReason, Mesh, MeshError, MeshEvent, PeerInfo, PeerKey};
pub use peer::{CloseReason, LinkEvent, LinkState, PeerLink, Role, SendError};
pub use signaling::SignalingState;
