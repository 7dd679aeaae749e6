//! The wire format: a 3-byte header (the magic `FL` and a format version) followed by the
//! message in postcard, a compact no_std serde encoding. The header lets a node tell a stray or
//! newer-format packet from a message it understands, and say which in its error. Decoding never
//! panics on arbitrary bytes: every failure is a [`DecodeError`].
use crate::{Message, MessageBody, NodeId, Term};
use alloc::vec::Vec;
use core::fmt;
use serde::{de::DeserializeOwned, Serialize};

/// The first two bytes of every Flotilla message.
pub const MAGIC: [u8; 2] = *b"FL";
/// The format version this build writes and reads. Bump it when `MessageBody` changes shape.
pub const VERSION: u8 = 3;
const HEADER_LEN: usize = MAGIC.len() + 1;

/// Why bytes could not be decoded into a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Fewer bytes than the header needs.
    TooShort { len: usize },
    /// The bytes do not start with [`MAGIC`]: not a Flotilla message.
    BadMagic { found: [u8; 2] },
    /// A Flotilla message in a format version this build does not speak.
    UnsupportedVersion { found: u8 },
    /// The header is fine but the body is not a valid message.
    Malformed(postcard::Error),
    /// A valid message followed by extra bytes.
    TrailingBytes { count: usize },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len } => {
                write!(f, "message too short: {len} bytes, the header alone is {HEADER_LEN}")
            }
            // Byte by byte in hex: `{:02x?}` of the arrays would link the Debug formatting of
            // slices and bytes into every build (0.6 KB gzip of the web app).
            Self::BadMagic { found: [a, b] } => {
                let [m, n] = MAGIC;
                write!(
                    f,
                    "not a Flotilla message: starts with {a:02x} {b:02x}, expected {m:02x} {n:02x}"
                )
            }
            Self::UnsupportedVersion { found } => {
                write!(f, "unsupported wire format version {found} (this build speaks {VERSION})")
            }
            Self::Malformed(error) => write!(f, "malformed message body: {error}"),
            Self::TrailingBytes { count } => {
                write!(f, "{count} unexpected bytes after the message")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// What postcard encoded, which it always can for our plain data types (see [`encode`]).
/// Not `expect`: that would format postcard's error with `Debug` for a panic that never comes,
/// and link the formatting into every build (0.4 KB gzip of the web app, with `Machine`'s).
pub(crate) fn encoded<T>(result: Result<T, postcard::Error>) -> T {
    match result {
        Ok(encoded) => encoded,
        Err(_) => panic!("postcard could not encode a message or state type: a bug in that type"),
    }
}

/// Encodes a message with its header.
///
/// # Panics
/// Only if the action type's `Serialize` uses a serde feature postcard cannot encode (a
/// sequence or map of unknown length): a bug in that type, never a matter of input.
pub fn encode<A: Serialize>(message: &Message<A>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(64);
    bytes.extend_from_slice(&MAGIC);
    bytes.push(VERSION);
    // Serializing plain data into a growable buffer cannot fail: postcard only reports errors
    // for unsupported serde features (e.g. unknown-length sequences), which our types avoid.
    encoded(postcard::to_extend(message, bytes))
}

/// The encoded body of a message, to send to several receivers without encoding it again: a
/// leader's append carries the same entries to every follower that is equally far behind.
/// [`encode_with_body`] makes each receiver's message from it.
///
/// # Panics
/// As [`encode`].
pub fn encode_body<A: Serialize>(body: &MessageBody<A>) -> Vec<u8> {
    encoded(postcard::to_allocvec(body))
}

/// Exactly what [`encode`] gives for `Message { from, to, term, body }`, where `body` is what
/// [`encode_body`] gave for its body: postcard writes a struct as its fields one after the
/// other, so the body's bytes follow the header and the three numbers unchanged.
pub fn encode_with_body(from: NodeId, to: NodeId, term: Term, body: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + 3 * 10 + body.len());
    bytes.extend_from_slice(&MAGIC);
    bytes.push(VERSION);
    let bytes = encoded(postcard::to_extend(&(from, to, term), bytes));
    let mut bytes = bytes;
    bytes.extend_from_slice(body);
    bytes
}

/// Decodes bytes produced by [`encode`]. Any other input yields an error, never a panic.
pub fn decode<A: DeserializeOwned>(bytes: &[u8]) -> Result<Message<A>, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::TooShort { len: bytes.len() });
    }
    let (magic, rest) = bytes.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(DecodeError::BadMagic { found: [magic[0], magic[1]] });
    }
    if rest[0] != VERSION {
        return Err(DecodeError::UnsupportedVersion { found: rest[0] });
    }
    let (message, trailing) =
        postcard::take_from_bytes(&rest[1..]).map_err(DecodeError::Malformed)?;
    if !trailing.is_empty() {
        return Err(DecodeError::TrailingBytes { count: trailing.len() });
    }
    Ok(message)
}
