//! The signaling protocol: JSON text frames on `/ws/{room}`, shared by the signal server and the
//! web app so the two cannot drift. (SKELETON: the signal-server helper owns and finishes it.)
//!
//! A session: the client connects and sends `hello {meta, resume_token?}`; the server answers
//! `welcome {id, peers, resume_token, ice_servers}` and tells the others `peer_joined {id, meta}`.
//! Then `signal {to, payload}` from a client arrives at `to` as `signal {from, payload}`. The
//! server never interprets `payload`.
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Assigned by the server, unique within a room; a client cannot choose or spoof it.
pub type PeerId = u64;

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    Hello {
        /// The client's small self-description (e.g. Raft node id, display name), bounded in size.
        meta: Box<RawValue>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_token: Option<String>,
    },
    Signal {
        to: PeerId,
        payload: Box<RawValue>,
    },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome { id: PeerId, peers: Vec<PeerInfo>, resume_token: String, ice_servers: Vec<IceServer> },
    PeerJoined { id: PeerId, meta: Box<RawValue> },
    PeerLeft { id: PeerId },
    Signal { from: PeerId, payload: Box<RawValue> },
    Error { code: ErrorCode, message: String },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PeerInfo {
    pub id: PeerId,
    pub meta: Box<RawValue>,
}

/// An RTCIceServer as the browser's RTCPeerConnection config takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    UnknownType,
    UnknownPeer,
    FrameTooLarge,
    RateLimited,
    RoomFull,
    TooManyRooms,
    TooManyConnections,
    MetaTooLarge,
    NotJoined,
    AlreadyJoined,
}

/// The payload the web app puts in `signal`: WebRTC negotiation (the server never reads it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignalPayload {
    Description { sdp_type: String, sdp: String },
    Candidate { candidate: String, sdp_mid: Option<String>, sdp_m_line_index: Option<u16> },
}
