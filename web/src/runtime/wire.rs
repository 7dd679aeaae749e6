//! Frames on the one data channel between two tabs: Raft, gossip and a goodbye share it.
//!
//! A Raft frame is exactly the core codec's bytes, which begin with its magic `FL`; every other
//! frame begins with a tag byte that is never `F`. So the hot path (Raft) costs no extra byte
//! and no copy, and the codec's versioned header still guards it.
//!
//! | first byte | frame                                                              |
//! |------------|--------------------------------------------------------------------|
//! | `F`        | a Raft message (`flotilla_core::codec`)                            |
//! | 1          | a gossip message, postcard                                         |
//! | 2          | goodbye: this tab is closing (sent on `pagehide`)                  |
//! | 3, 4       | a part of a larger frame (3: more follow, 4: the last part)        |
//! | 5          | a batch: Raft messages for one peer, each a length and its bytes    |
//!
//! A data channel send costs far more than the bytes it carries, so the Raft messages of one
//! batch of node outputs that go to the same peer travel in one batch frame, and the receiver
//! hands them all to its node before draining once: a follower's burst of forwarded proposals
//! becomes one append batch at the leader instead of thousands.
//!
//! A data channel refuses messages above 256 KiB, and a big message delays everything behind it
//! on an ordered channel, so frames above [`PART_BYTES`] travel in parts and are reassembled
//! here. The channel is reliable and ordered, so parts arrive in order and complete. Decoding
//! never panics: anything unexpected is a [`WireError`].
use std::borrow::Cow;
use std::fmt;

use flotilla_core::codec::{self, DecodeError};
use flotilla_core::gossip;
use flotilla_core::reducers::shared_log::Post;
use flotilla_core::{LogIndex, Message, MessageBody, NodeId, Term};

const GOSSIP: u8 = 1;
const BYE: u8 = 2;
const PART: u8 = 3;
const LAST_PART: u8 = 4;
const BATCH: u8 = 5;

/// Frames above this size are sent in parts (tag byte included).
pub const PART_BYTES: usize = 64 * 1024;
/// A frame being reassembled may not grow beyond this: a peer cannot make us hold more.
pub const MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// The Raft message type of this app.
pub type RaftMessage = Message<Post>;

/// One decoded frame.
#[derive(Debug)]
pub enum Frame {
    Raft(RaftMessage),
    /// Several Raft messages for this node, in order.
    Batch(Vec<RaftMessage>),
    Gossip(gossip::Message),
    Bye,
}

#[derive(Debug)]
pub enum WireError {
    UnknownTag(u8),
    Raft(DecodeError),
    Gossip(postcard::Error),
    /// A reassembled frame would exceed [`MAX_FRAME_BYTES`].
    TooLarge,
    /// What no peer running this code sends: an empty frame, bytes after a goodbye, a part
    /// inside a part, a batch whose lengths do not add up.
    Malformed,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownTag(tag) => write!(f, "unknown frame tag {tag:#04x}"),
            Self::Raft(error) => write!(f, "bad Raft frame: {error}"),
            Self::Gossip(error) => write!(f, "bad gossip frame: {error}"),
            Self::TooLarge => write!(f, "reassembled frame above {MAX_FRAME_BYTES} bytes"),
            Self::Malformed => f.write_str("malformed frame"),
        }
    }
}

/// The frames that carry `messages`, all for one peer, in order: as few as possible, each a
/// batch of at most [`PART_BYTES`] (or a lone message, which may be bigger and then travels in
/// parts). Capping batches keeps each frame's work at the receiver short: a burst arrives as
/// a series of tasks between which timers and heartbeats still run.
pub fn frames(messages: &[RaftMessage], bodies: &mut Bodies) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    let mut group: Vec<Vec<u8>> = Vec::new();
    let mut group_bytes = 1;
    for message in messages {
        let bytes = bodies.encode(message);
        let cost = bytes.len() + 4;
        if !group.is_empty() && group_bytes + cost > PART_BYTES {
            frames.push(pack(std::mem::take(&mut group)));
            group_bytes = 1;
        }
        group_bytes += cost;
        group.push(bytes);
    }
    if !group.is_empty() {
        frames.push(pack(group));
    }
    frames
}

/// The bodies of the appends of one batch of node outputs, encoded once for every follower
/// they go to: a leader sends the same entries to each follower that is as far behind as the
/// others (at light load and in a burst, all of them), and encoding them is most of the cost
/// of sending them. Clear it after each batch.
#[derive(Default)]
pub struct Bodies {
    appends: Vec<(AppendKey, Vec<u8>)>,
}

/// What identifies an append's body within one batch: the leader and its term, the entry it
/// follows, its commit index, and its last entry. A leader never rewrites its own log, so two
/// appends of one term that follow the same entry and end at the same one carry the same
/// entries (Raft's log matching).
type AppendKey = (NodeId, Term, LogIndex, Term, LogIndex, LogIndex, Term);

impl Bodies {
    fn encode(&mut self, message: &RaftMessage) -> Vec<u8> {
        let MessageBody::Append { prev_index, prev_term, commit, entries } = &message.body else {
            return codec::encode(message);
        };
        let Some(last) = entries.last() else { return codec::encode(message) };
        let key =
            (message.from, message.term, *prev_index, *prev_term, *commit, last.index, last.term);
        let at = match self.appends.iter().position(|(known, _)| *known == key) {
            Some(at) => at,
            None => {
                self.appends.push((key, codec::encode_body(&message.body)));
                self.appends.len() - 1
            }
        };
        codec::encode_with_body(message.from, message.to, message.term, &self.appends[at].1)
    }

    pub fn clear(&mut self) {
        self.appends.clear();
    }
}

/// A lone message as itself, several as a batch.
fn pack(mut group: Vec<Vec<u8>>) -> Vec<u8> {
    if group.len() == 1 {
        return group.pop().unwrap_or_default();
    }
    let mut frame = vec![BATCH];
    for bytes in group {
        write_varint(&mut frame, bytes.len());
        frame.extend_from_slice(&bytes);
    }
    frame
}

fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A LEB128 length and how many bytes it took; `None` if truncated or too long.
fn read_varint(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value = 0usize;
    for (i, &byte) in bytes.iter().enumerate().take(4) {
        value |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn decode_batch(mut rest: &[u8]) -> Result<Frame, WireError> {
    let mut messages = Vec::new();
    while !rest.is_empty() {
        let (len, header) = read_varint(rest).ok_or(WireError::Malformed)?;
        let end = header.checked_add(len).filter(|&end| end <= rest.len());
        let end = end.ok_or(WireError::Malformed)?;
        messages.push(codec::decode(&rest[header..end]).map_err(WireError::Raft)?);
        rest = &rest[end..];
    }
    Ok(Frame::Batch(messages))
}

pub fn gossip(message: &gossip::Message) -> Vec<u8> {
    // Gossip types are plain data (no unknown-length sequences), which postcard always encodes.
    // Not `expect`, which would link the Debug formatting of postcard's error (as the core's
    // `codec::encoded`).
    match postcard::to_extend(message, vec![GOSSIP]) {
        Ok(frame) => frame,
        Err(_) => unreachable!("gossip messages are postcard-serializable"),
    }
}

pub fn bye() -> Vec<u8> {
    vec![BYE]
}

/// The frames to transmit for `frame`: itself if small enough, else its parts.
pub fn split(frame: &[u8]) -> impl Iterator<Item = Cow<'_, [u8]>> {
    let whole = (frame.len() <= PART_BYTES).then_some(Cow::Borrowed(frame));
    let chunks = frame.chunks(PART_BYTES - 1);
    let count = chunks.len();
    let parts = chunks.enumerate().map(move |(i, chunk)| {
        let mut part = Vec::with_capacity(chunk.len() + 1);
        part.push(if i + 1 == count { LAST_PART } else { PART });
        part.extend_from_slice(chunk);
        Cow::Owned(part)
    });
    let parts = if whole.is_some() { None } else { Some(parts) };
    whole.into_iter().chain(parts.into_iter().flatten())
}

/// Reassembles the parts of big frames from one peer.
#[derive(Default)]
pub struct Reassembly {
    buffer: Vec<u8>,
}

impl Reassembly {
    /// Takes one received frame; returns a whole frame when one is complete.
    pub fn push(&mut self, bytes: Vec<u8>) -> Result<Option<Vec<u8>>, WireError> {
        match bytes.first() {
            Some(&tag @ (PART | LAST_PART)) => {
                if self.buffer.is_empty() && matches!(bytes.get(1).copied(), Some(PART | LAST_PART))
                {
                    return Err(WireError::Malformed);
                }
                if self.buffer.len() + bytes.len() > MAX_FRAME_BYTES {
                    self.buffer = Vec::new();
                    return Err(WireError::TooLarge);
                }
                self.buffer.extend_from_slice(&bytes[1..]);
                Ok((tag == LAST_PART).then(|| std::mem::take(&mut self.buffer)))
            }
            // A whole frame in the middle of a split one cannot happen on an ordered channel
            // unless the peer started over (a new link): the partial frame is stale.
            _ => {
                self.buffer.clear();
                Ok(Some(bytes))
            }
        }
    }
}

/// Decodes a whole frame.
pub fn decode(frame: &[u8]) -> Result<Frame, WireError> {
    match frame.first() {
        None => Err(WireError::Malformed),
        Some(&b) if b == codec::MAGIC[0] => {
            codec::decode(frame).map(Frame::Raft).map_err(WireError::Raft)
        }
        Some(&GOSSIP) => {
            postcard::from_bytes(&frame[1..]).map(Frame::Gossip).map_err(WireError::Gossip)
        }
        Some(&BATCH) => decode_batch(&frame[1..]),
        Some(&BYE) if frame.len() == 1 => Ok(Frame::Bye),
        Some(&BYE) => Err(WireError::Malformed),
        Some(&PART | &LAST_PART) => Err(WireError::Malformed),
        Some(&tag) => Err(WireError::UnknownTag(tag)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_core::reducers::shared_log::Post;
    use flotilla_core::{Entry, EntryPayload, RequestId};

    #[test]
    fn big_frames_travel_in_parts_and_come_back_whole() {
        let big: Vec<u8> = (0..(3 * PART_BYTES + 17)).map(|i| i as u8).collect();
        let parts: Vec<Vec<u8>> = split(&big).map(Cow::into_owned).collect();
        assert_eq!(parts.len(), 4);
        assert!(parts.iter().all(|p| p.len() <= PART_BYTES));
        let mut reassembly = Reassembly::default();
        let mut whole = None;
        for part in parts {
            whole = reassembly.push(part).unwrap();
        }
        assert_eq!(whole, Some(big));
        let small = vec![BYE];
        assert_eq!(split(&small).count(), 1);
        assert_eq!(reassembly.push(small).unwrap(), Some(vec![BYE]));
    }

    #[test]
    fn batches_stay_under_a_part() {
        let heartbeat = |term| RaftMessage {
            from: 1,
            to: 2,
            term,
            body: MessageBody::AppendAccepted { match_index: 9 },
        };
        let many: Vec<RaftMessage> = (0..20_000).map(heartbeat).collect();
        let frames = frames(&many, &mut Bodies::default());
        assert!(frames.len() > 1 && frames.iter().all(|f| f.len() <= PART_BYTES));
        let mut terms = Vec::new();
        for frame in &frames {
            match decode(frame) {
                Ok(Frame::Batch(messages)) => terms.extend(messages.iter().map(|m| m.term)),
                other => panic!("not a batch: {other:?}"),
            }
        }
        assert_eq!(terms, (0..20_000).collect::<Vec<_>>());
    }

    #[test]
    fn followers_get_the_same_append_encoded_once() {
        let entries: Vec<Entry<Post>> = (5..8)
            .map(|index| Entry {
                term: 2,
                index,
                payload: EntryPayload::Action {
                    request: RequestId { client: 1, seq: index },
                    action: Post { author: "a".into(), text: format!("post {index}"), at: index },
                },
            })
            .collect();
        let append = |to, commit| RaftMessage {
            from: 1,
            to,
            term: 2,
            body: MessageBody::Append {
                prev_index: 4,
                prev_term: 1,
                commit,
                entries: entries.clone(),
            },
        };
        let mut bodies = Bodies::default();
        for message in [append(2, 4), append(3, 4), append(3, 5)] {
            let frames = frames(std::slice::from_ref(&message), &mut bodies);
            assert_eq!(frames, [codec::encode(&message)]);
        }
        assert_eq!(bodies.appends.len(), 2);
    }

    #[test]
    fn frames_round_trip_and_garbage_is_an_error() {
        let message = RaftMessage {
            from: 1,
            to: 2,
            term: 3,
            body: MessageBody::AppendAccepted { match_index: 0 },
        };
        assert!(matches!(decode(&codec::encode(&message)), Ok(Frame::Raft(m)) if m == message));
        let digest = gossip::Message::Digest(gossip::Digest::default());
        assert!(matches!(decode(&gossip(&digest)), Ok(Frame::Gossip(m)) if m == digest));
        assert!(matches!(decode(&bye()), Ok(Frame::Bye)));
        let two = [message.clone(), RaftMessage { term: 4, ..message.clone() }];
        let frames = frames(&two, &mut Bodies::default());
        assert!(
            matches!(&frames[..], [one] if matches!(decode(one), Ok(Frame::Batch(m)) if m == two))
        );
        let mut cut = frames[0].clone();
        cut.pop();
        assert!(decode(&cut).is_err());
        assert!(
            matches!(decode(&super::frames(&two[..1], &mut Bodies::default())[0]), Ok(Frame::Raft(m)) if m == message)
        );
        for garbage in
            [&[][..], &[9], &[GOSSIP, 0xff, 0xff], &[b'F', b'L', 99], &[BYE, 0], &[BATCH, 9, 1]]
        {
            assert!(decode(garbage).is_err());
        }
    }
}
