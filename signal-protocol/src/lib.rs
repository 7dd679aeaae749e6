//! The signaling protocol between Flotilla tabs and the signal server, shared by both sides (the
//! server natively, the web app in wasm) so the two cannot drift. It depends on serde and
//! serde_json only and does no I/O.
//!
//! # Transport
//! A WebSocket on `/ws/{room}`, where `room` passes [`valid_room_name`]. Every frame is one JSON
//! object in a text frame, tagged by its `"type"` field. Frames are at most
//! [`DEFAULT_MAX_FRAME_BYTES`] unless the server is configured otherwise.
//!
//! # A session
//! ```text
//! client                                   server                       other members
//!   |-- hello {meta, resume_token?} -------->|                              |
//!   |<-- welcome {id, peers, resume_token,  -|-- peer_joined {id, meta} --->|
//!   |            ice_servers, resumed,       |                              |
//!   |            founder}                    |                              |
//!   |-- signal {to, payload} --------------->|-- signal {from, payload} --->| (only `to`)
//!   |<-- error {code, message} --------------|  (bad input; the session goes on)
//!   |   ... socket closes or goes silent ... |-- peer_left {id, founder} -->|
//! ```
//! - The server assigns [`PeerId`]s; `from` is always set by the server, so no client can choose
//!   or spoof an id. Ids are never reused while the server runs.
//! - `meta` is the client's small self-description (its Raft node id, a display name): any JSON
//!   value of at most [`MAX_META_BYTES`] bytes. The server forwards it verbatim.
//! - `payload` is opaque to the server: the web app puts a [`SignalPayload`] (offer, answer, ICE
//!   candidate) there.
//! - `ice_servers` in `welcome` is the STUN/TURN configuration the server was started with, in the
//!   shape `RTCPeerConnection` takes. It is empty by default: loopback and LANs need none.
//!
//! # The founder
//! Every room has exactly one founder at a time: its oldest member (the lowest id, since ids
//! only grow), parked members included. `welcome` names it (the client itself, if `founder ==
//! id`), and so does every `peer_left`, for the room as it is after that member left; a join
//! never changes it (the newcomer is the youngest). Tabs that open together can thus agree,
//! without talking to each other first, on the single one of them that may start something new
//! for the room (Flotilla: bootstrap its Raft cluster); the others only join. The server
//! attaches no other meaning to it.
//!
//! # Resume
//! `welcome.resume_token` is a secret for this peer. If the socket drops without a close frame
//! (network loss, sleep), the server keeps the peer's place for a TTL (30 s by default) and queues
//! signals for it; a `hello` on a new socket carrying the token within that time gets the same id
//! back (`resumed: true`), the queued signals, and the other members see no leave/join. A token
//! that is unknown or expired is not an error: the client simply joins with a new id, which it
//! sees in `welcome.id`. A resume that arrives while the old socket still looks alive takes the
//! place over, and the old socket is closed with [`close_code::SUPERSEDED`].
//!
//! # Leaving
//! A close frame from the client leaves at once. A client silent for longer than the server's idle
//! timeout (the server pings it) is dropped and announced as left. Either way the others get
//! `peer_left`.
//!
//! # Errors and limits
//! Bad input gets an `error {code, message}` frame ([`ErrorCode`]) and the session goes on.
//! Abuse and capacity limits end the session with a close code from [`close_code`], sent after the
//! `error` frame that explains it.
//!
//! # Decoding
//! [`ClientMessage::decode`] and [`ServerMessage::decode`] never panic, whatever the input; their
//! error says which [`ErrorCode`] the input deserves.
use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

/// Assigned by the server, unique for the server's lifetime; a client cannot choose or spoof it.
pub type PeerId = u64;

/// Largest `meta` a client may send, in bytes of JSON text: enough for a node id and a name, small
/// enough that a full room's `welcome` stays tiny.
pub const MAX_META_BYTES: usize = 1024;

/// Longest room name, in bytes.
pub const MAX_ROOM_NAME_BYTES: usize = 64;

/// The server's default limit on one frame (and one message), in bytes.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024;

/// Close codes the server ends a session with (RFC 6455 section 7.4, plus one of our own).
pub mod close_code {
    /// The server is shutting down, or the client went silent past the idle timeout.
    pub const GOING_AWAY: u16 = 1001;
    /// Abuse: the client kept flooding past its message rate.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// A frame was larger than the server's frame limit.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The server could not serve the session (it hit an internal error).
    pub const INTERNAL_ERROR: u16 = 1011;
    /// A capacity limit: too many connections, too many rooms, or the room is full.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// The same peer resumed on another socket; this one is no longer its.
    pub const SUPERSEDED: u16 = 4001;
}

/// Whether `name` may name a room: 1 to [`MAX_ROOM_NAME_BYTES`] bytes of ASCII letters, digits,
/// `-`, `_` and `.`. Names are used verbatim in URL paths and logs, hence the small alphabet.
pub fn valid_room_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_ROOM_NAME_BYTES
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A message from a client to the server. Decode with [`ClientMessage::decode`]: serde's tagged
/// enums cannot hold the raw JSON of `meta` and `payload`, so there is no `Deserialize`.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Join the room of this socket's path; must come first and only once.
    Hello {
        /// The client's self-description, shown to the other members.
        meta: Meta,
        /// The token from an earlier `welcome`, to get the same id back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resume_token: Option<String>,
    },
    /// Deliver `payload` to the member `to` of the same room.
    Signal {
        /// The receiver, a member of the sender's room.
        to: PeerId,
        /// Opaque to the server; a [`SignalPayload`] in the web app.
        payload: Box<RawValue>,
    },
}

/// A message from the server to a client. Decode with [`ServerMessage::decode`] (see
/// [`ClientMessage`] for why there is no `Deserialize`).
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The answer to `hello`: who the client is and who is already there.
    Welcome {
        /// The client's id in this room.
        id: PeerId,
        /// The other members (the client is not listed).
        peers: Vec<PeerInfo>,
        /// The secret to present in a later `hello` to resume as `id`.
        resume_token: String,
        /// STUN/TURN servers to configure `RTCPeerConnection` with.
        ice_servers: Vec<IceServer>,
        /// Whether this `welcome` resumed an earlier session (same id, no `peer_joined` sent).
        resumed: bool,
        /// The room's founder (see the crate documentation): `id` itself in an empty room.
        founder: PeerId,
    },
    /// A new member joined the room.
    PeerJoined {
        /// The new member's id.
        id: PeerId,
        /// The new member's self-description.
        meta: Meta,
    },
    /// A member left (closed, or went silent, or did not resume in time).
    PeerLeft {
        /// The member that left.
        id: PeerId,
        /// The room's founder now (the member that left, if it was, has a successor).
        founder: PeerId,
    },
    /// A signal from another member.
    Signal {
        /// The sender, as the server knows it.
        from: PeerId,
        /// Exactly what the sender put in its `signal`.
        payload: Box<RawValue>,
    },
    /// The client's last frame was refused, or the session is about to be closed.
    Error {
        /// What went wrong, for programs.
        code: ErrorCode,
        /// What went wrong, for people.
        message: String,
    },
}

/// A member of a room, as listed in `welcome`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The member's id.
    pub id: PeerId,
    /// The member's self-description.
    pub meta: Meta,
}

/// An `RTCIceServer` as the browser's `RTCPeerConnection` configuration takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    /// `stun:`, `turn:` or `turns:` URLs.
    pub urls: Vec<String>,
    /// TURN user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

/// Why the server refused a frame or ended a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame is not JSON (or not text).
    MalformedJson,
    /// The frame is JSON but not a message: not an object, or a field is missing or mistyped.
    InvalidMessage,
    /// The `type` is not one this server knows.
    UnknownType,
    /// `signal.to` is not a member of the sender's room.
    UnknownPeer,
    /// The receiver's queue is full (it is not reading); the signal was dropped.
    PeerOverloaded,
    /// The frame was over the frame limit; the session is closed.
    FrameTooLarge,
    /// The client sent faster than its message rate; frames are dropped, and a flood is closed.
    RateLimited,
    /// The room already has the most members allowed; the session is closed.
    RoomFull,
    /// The server has the most rooms allowed; the session is closed.
    TooManyRooms,
    /// The server has the most connections allowed; the session is closed.
    TooManyConnections,
    /// `hello.meta` was over [`MAX_META_BYTES`].
    MetaTooLarge,
    /// A `signal` came before `hello`.
    NotJoined,
    /// A second `hello` on the same socket.
    AlreadyJoined,
    /// The server failed; the session is closed.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order (for metrics).
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::MalformedJson,
        ErrorCode::InvalidMessage,
        ErrorCode::UnknownType,
        ErrorCode::UnknownPeer,
        ErrorCode::PeerOverloaded,
        ErrorCode::FrameTooLarge,
        ErrorCode::RateLimited,
        ErrorCode::RoomFull,
        ErrorCode::TooManyRooms,
        ErrorCode::TooManyConnections,
        ErrorCode::MetaTooLarge,
        ErrorCode::NotJoined,
        ErrorCode::AlreadyJoined,
        ErrorCode::Internal,
    ];

    /// The code as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidMessage => "invalid_message",
            ErrorCode::UnknownType => "unknown_type",
            ErrorCode::UnknownPeer => "unknown_peer",
            ErrorCode::PeerOverloaded => "peer_overloaded",
            ErrorCode::FrameTooLarge => "frame_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::RoomFull => "room_full",
            ErrorCode::TooManyRooms => "too_many_rooms",
            ErrorCode::TooManyConnections => "too_many_connections",
            ErrorCode::MetaTooLarge => "meta_too_large",
            ErrorCode::NotJoined => "not_joined",
            ErrorCode::AlreadyJoined => "already_joined",
            ErrorCode::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The payload the web app puts in `signal`: WebRTC negotiation (the server never reads it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SignalPayload {
    /// An SDP offer or answer (`sdp_type` is `"offer"` or `"answer"`).
    Description {
        /// `RTCSessionDescription.type`.
        sdp_type: String,
        /// `RTCSessionDescription.sdp`.
        sdp: String,
    },
    /// A trickled ICE candidate.
    Candidate {
        /// `RTCIceCandidate.candidate`.
        candidate: String,
        /// `RTCIceCandidate.sdpMid`.
        sdp_mid: Option<String>,
        /// `RTCIceCandidate.sdpMLineIndex`.
        sdp_m_line_index: Option<u16>,
    },
}

/// A peer's self-description: any JSON value of at most [`MAX_META_BYTES`] bytes, kept as the
/// sender wrote it so the server forwards it without re-encoding.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Meta(Box<RawValue>);

impl Meta {
    /// Encodes `value` as meta, or says why it cannot be.
    pub fn new(value: &impl Serialize) -> Result<Meta, DecodeError> {
        let raw = serde_json::value::to_raw_value(value)
            .map_err(|e| DecodeError::new(ErrorCode::InvalidMessage, e.to_string()))?;
        Meta::from_raw(raw)
    }

    /// Meta from already-encoded JSON, if it is within [`MAX_META_BYTES`].
    pub fn from_raw(raw: Box<RawValue>) -> Result<Meta, DecodeError> {
        if raw.get().len() > MAX_META_BYTES {
            return Err(DecodeError::new(
                ErrorCode::MetaTooLarge,
                format!("meta is {} bytes, at most {MAX_META_BYTES} allowed", raw.get().len()),
            ));
        }
        Ok(Meta(raw))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        self.0.get()
    }

    /// Decodes the meta as a `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }
}

impl PartialEq for Meta {
    fn eq(&self, other: &Meta) -> bool {
        self.get() == other.get()
    }
}

impl<'de> Deserialize<'de> for Meta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Meta, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        Meta::from_raw(raw).map_err(|e| D::Error::custom(e.message))
    }
}

/// Why a frame could not be decoded, with the [`ErrorCode`] it deserves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// The code to answer with.
    pub code: ErrorCode,
    /// A short explanation for people.
    pub message: String,
}

impl DecodeError {
    fn new(code: ErrorCode, message: impl Into<String>) -> DecodeError {
        DecodeError { code, message: message.into() }
    }

    fn from_json(error: serde_json::Error) -> DecodeError {
        use serde_json::error::Category;
        let code = match error.classify() {
            Category::Syntax | Category::Eof | Category::Io => ErrorCode::MalformedJson,
            Category::Data => ErrorCode::InvalidMessage,
        };
        DecodeError::new(code, error.to_string())
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DecodeError {}

/// Any frame, read in one pass with every field optional and borrowed, so that the decoders can
/// tell a bad type from a bad field without parsing twice.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "present")]
    to: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    from: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    payload: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    meta: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    resume_token: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    peers: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    ice_servers: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    resumed: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    founder: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    code: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    message: Option<&'a RawValue>,
}

impl<'a> Envelope<'a> {
    fn parse(text: &'a str) -> Result<Envelope<'a>, DecodeError> {
        serde_json::from_str(text).map_err(DecodeError::from_json)
    }

    fn unknown_type(&self) -> DecodeError {
        let shown: String = self.kind.chars().take(32).collect();
        DecodeError::new(ErrorCode::UnknownType, format!("unknown message type `{shown}`"))
    }
}

/// A field that is present, even as `null` (plain `Option` would read `null` as absent, and
/// `null` is a valid `meta` or `payload`).
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(deserializer).map(Some)
}

fn required<'a>(field: Option<&'a RawValue>, name: &str) -> Result<&'a RawValue, DecodeError> {
    field.ok_or_else(|| DecodeError::new(ErrorCode::InvalidMessage, format!("missing `{name}`")))
}

/// Field `name`, required, decoded as a `T`.
fn typed<T: DeserializeOwned>(field: Option<&RawValue>, name: &str) -> Result<T, DecodeError> {
    serde_json::from_str(required(field, name)?.get())
        .map_err(|e| DecodeError::new(ErrorCode::InvalidMessage, format!("bad `{name}`: {e}")))
}

/// Field `name`, optional (absent or `null`), decoded as a `T`.
fn optional<T: DeserializeOwned>(
    field: Option<&RawValue>,
    name: &str,
) -> Result<Option<T>, DecodeError> {
    match field {
        Some(_) => typed::<Option<T>>(field, name),
        None => Ok(None),
    }
}

impl ClientMessage {
    /// Decodes one text frame. Never panics; the error carries the code to answer with.
    pub fn decode(text: &str) -> Result<ClientMessage, DecodeError> {
        let envelope = Envelope::parse(text)?;
        match &*envelope.kind {
            "hello" => Ok(ClientMessage::Hello {
                meta: Meta::from_raw(required(envelope.meta, "meta")?.to_owned())?,
                resume_token: optional(envelope.resume_token, "resume_token")?,
            }),
            "signal" => Ok(ClientMessage::Signal {
                to: typed(envelope.to, "to")?,
                payload: required(envelope.payload, "payload")?.to_owned(),
            }),
            _ => Err(envelope.unknown_type()),
        }
    }

    /// A `signal` to `to` carrying `payload` (usually a [`SignalPayload`]).
    pub fn signal(
        to: PeerId,
        payload: &impl Serialize,
    ) -> Result<ClientMessage, serde_json::Error> {
        Ok(ClientMessage::Signal { to, payload: serde_json::value::to_raw_value(payload)? })
    }

    /// The JSON text frame for this message.
    pub fn encode(&self) -> String {
        encode(self)
    }
}

impl ServerMessage {
    /// Decodes one text frame from the server. Never panics.
    pub fn decode(text: &str) -> Result<ServerMessage, DecodeError> {
        let envelope = Envelope::parse(text)?;
        match &*envelope.kind {
            "welcome" => Ok(ServerMessage::Welcome {
                id: typed(envelope.id, "id")?,
                peers: typed(envelope.peers, "peers")?,
                resume_token: typed(envelope.resume_token, "resume_token")?,
                ice_servers: optional(envelope.ice_servers, "ice_servers")?.unwrap_or_default(),
                resumed: optional(envelope.resumed, "resumed")?.unwrap_or(false),
                founder: typed(envelope.founder, "founder")?,
            }),
            "peer_joined" => Ok(ServerMessage::PeerJoined {
                id: typed(envelope.id, "id")?,
                meta: Meta::from_raw(required(envelope.meta, "meta")?.to_owned())?,
            }),
            "peer_left" => Ok(ServerMessage::PeerLeft {
                id: typed(envelope.id, "id")?,
                founder: typed(envelope.founder, "founder")?,
            }),
            "signal" => Ok(ServerMessage::Signal {
                from: typed(envelope.from, "from")?,
                payload: required(envelope.payload, "payload")?.to_owned(),
            }),
            "error" => Ok(ServerMessage::Error {
                code: typed(envelope.code, "code")?,
                message: typed(envelope.message, "message")?,
            }),
            _ => Err(envelope.unknown_type()),
        }
    }

    /// The JSON text frame for this message.
    pub fn encode(&self) -> String {
        encode(self)
    }

    /// The `signal` frame delivering `payload` from `from`, built without copying `payload` into
    /// an owned message first (the server's hot path).
    pub fn encode_signal(from: PeerId, payload: &RawValue) -> String {
        #[derive(Serialize)]
        #[serde(tag = "type", rename = "signal")]
        struct SignalRef<'a> {
            from: PeerId,
            payload: &'a RawValue,
        }
        encode(&SignalRef { from, payload })
    }

    /// An `error` frame.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error { code, message: message.into() }
    }
}

/// Decodes a received `signal` payload, e.g. as a [`SignalPayload`].
pub fn parse_payload<T: DeserializeOwned>(payload: &RawValue) -> Result<T, serde_json::Error> {
    serde_json::from_str(payload.get())
}

fn encode(message: &impl Serialize) -> String {
    // These types hold only strings, integers, raw JSON and string-keyed structs, which
    // serde_json always serializes; an error here would be a bug in this crate, not bad input.
    // Not `expect`: its message would format the error with `Debug`, which links serde_json's
    // error and string escaping code into the web app (0.6 KB gzip) for a panic that never comes.
    match serde_json::to_string(message) {
        Ok(text) => text,
        Err(_) => unreachable!("protocol messages always serialize"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_hello_and_signal() {
        let hello =
            ClientMessage::decode(r#"{"type":"hello","meta":{"node":3,"name":"tab"}}"#).unwrap();
        match hello {
            ClientMessage::Hello { meta, resume_token } => {
                assert_eq!(meta.get(), r#"{"node":3,"name":"tab"}"#);
                assert_eq!(resume_token, None);
            }
            other => panic!("{other:?}"),
        }
        let signal = ClientMessage::decode(r#"{"type":"signal","to":7,"payload":[1,2]}"#).unwrap();
        match signal {
            ClientMessage::Signal { to, payload } => {
                assert_eq!(to, 7);
                assert_eq!(payload.get(), "[1,2]");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn classifies_bad_frames() {
        let code = |text: &str| ClientMessage::decode(text).unwrap_err().code;
        assert_eq!(code("{"), ErrorCode::MalformedJson);
        assert_eq!(code("not json"), ErrorCode::MalformedJson);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"to":1}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"dance"}"#), ErrorCode::UnknownType);
        assert_eq!(code(r#"{"type":"signal","to":"x","payload":1}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"signal","to":-1,"payload":1}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"signal","to":1}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"hello"}"#), ErrorCode::InvalidMessage);
        assert_eq!(
            code(r#"{"type":"hello","meta":1,"resume_token":5}"#),
            ErrorCode::InvalidMessage
        );
        let big = format!(r#"{{"type":"hello","meta":"{}"}}"#, "x".repeat(MAX_META_BYTES));
        assert_eq!(code(&big), ErrorCode::MetaTooLarge);
    }

    #[test]
    fn accepts_escaped_type_and_extra_fields() {
        let message = ClientMessage::decode(r#"{"type":"hell\u006f","meta":null,"v":2}"#).unwrap();
        assert!(matches!(message, ClientMessage::Hello { .. }));
    }

    #[test]
    fn decodes_every_server_message() {
        let meta = Meta::new(&serde_json::json!({"node": 1})).unwrap();
        let messages = [
            ServerMessage::Welcome {
                id: 1,
                peers: vec![PeerInfo { id: 2, meta: meta.clone() }],
                resume_token: "t".into(),
                ice_servers: vec![IceServer {
                    urls: vec!["stun:127.0.0.1:3478".into()],
                    username: None,
                    credential: None,
                }],
                resumed: true,
                founder: 2,
            },
            ServerMessage::PeerJoined { id: 3, meta },
            ServerMessage::PeerLeft { id: 3, founder: 1 },
            ServerMessage::Signal {
                from: 4,
                payload: RawValue::from_string("null".into()).unwrap(),
            },
            ServerMessage::error(ErrorCode::RoomFull, "full"),
        ];
        for message in messages {
            let text = message.encode();
            assert_eq!(ServerMessage::decode(&text).unwrap().encode(), text);
        }
        let code = |text: &str| ServerMessage::decode(text).unwrap_err().code;
        assert_eq!(code(r#"{"type":"peer_left"}"#), ErrorCode::InvalidMessage);
        assert_eq!(code(r#"{"type":"peer_left","id":3}"#), ErrorCode::InvalidMessage);
        assert_eq!(
            code(r#"{"type":"welcome","id":1,"peers":[],"resume_token":"t"}"#),
            ErrorCode::InvalidMessage,
            "a welcome names the founder"
        );
        assert_eq!(
            code(r#"{"type":"error","code":"nope","message":""}"#),
            ErrorCode::InvalidMessage
        );
        assert_eq!(code(r#"{"type":"party"}"#), ErrorCode::UnknownType);
    }

    #[test]
    fn encode_signal_matches_the_owned_message() {
        let payload = RawValue::from_string(r#"{"kind":"candidate"}"#.into()).unwrap();
        let owned = ServerMessage::Signal { from: 9, payload: payload.clone() }.encode();
        assert_eq!(ServerMessage::encode_signal(9, &payload), owned);
        assert_eq!(owned, r#"{"type":"signal","from":9,"payload":{"kind":"candidate"}}"#);
    }

    #[test]
    fn error_codes_are_listed_once_with_their_wire_names() {
        for code in ErrorCode::ALL {
            let wire = serde_json::to_string(&code).unwrap();
            assert_eq!(wire, format!("\"{}\"", code.as_str()));
        }
        let unique: std::collections::HashSet<_> = ErrorCode::ALL.iter().collect();
        assert_eq!(unique.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn room_names() {
        assert!(valid_room_name("demo-1_a.b"));
        assert!(!valid_room_name(""));
        assert!(!valid_room_name("a/b"));
        assert!(!valid_room_name("é"));
        assert!(!valid_room_name(&"a".repeat(MAX_ROOM_NAME_BYTES + 1)));
    }

    #[test]
    fn signal_payload_round_trips_through_a_signal() {
        let candidate = SignalPayload::Candidate {
            candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        let text = ClientMessage::signal(4, &candidate).unwrap().encode();
        let ClientMessage::Signal { to, payload } = ClientMessage::decode(&text).unwrap() else {
            panic!("not a signal")
        };
        assert_eq!(to, 4);
        assert_eq!(parse_payload::<SignalPayload>(&payload).unwrap(), candidate);
    }
}
