//! Rooms and their members: joining, resuming, relaying, leaving. A room exists while it has a
//! member and is freed with its last one.
//!
//! Each member owns a bounded queue of outgoing frames. Its session drains the queue into the
//! socket; other sessions push into it. While a member is parked (socket dropped, resume TTL
//! running) the queue's receiving end is kept in the room, so signals sent meanwhile are delivered
//! after a resume.
//!
//! Locking: the registry lock is taken only to join and leave, then the room's own lock; relaying
//! takes only the room's lock, so rooms never contend with each other. Neither lock is held
//! across an `.await`.
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ws::Utf8Bytes;
use flotilla_signal_protocol::{ErrorCode, IceServer, Meta, PeerId, PeerInfo, ServerMessage};
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::config::Limits;
use crate::metrics::Metrics;

/// A member's secret for resuming: 128 random bits, shown to the client as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResumeToken([u8; 16]);

impl ResumeToken {
    /// A fresh token from the OS's random source.
    pub fn generate() -> Result<ResumeToken, getrandom::Error> {
        let mut bytes = [0; 16];
        getrandom::fill(&mut bytes)?;
        Ok(ResumeToken(bytes))
    }

    /// Reads a token as [`fmt::Display`] writes it; `None` for anything else.
    pub fn parse(text: &str) -> Option<ResumeToken> {
        if text.len() != 32 {
            return None;
        }
        let mut bytes = [0; 16];
        for (byte, pair) in bytes.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(ResumeToken(bytes))
    }
}

impl fmt::Display for ResumeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Locks `mutex`, ignoring poisoning: every critical section here leaves the data consistent
/// before anything that could panic, so a poisoned lock holds nothing half-done.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Every room, by name.
#[derive(Default)]
pub(crate) struct Rooms {
    /// Rooms with at least one member.
    map: Mutex<HashMap<Arc<str>, Arc<Room>>>,
}

/// One room: its members, live or parked.
pub(crate) struct Room {
    /// The name in `/ws/{room}`.
    name: Arc<str>,
    /// At most `max_peers_per_room`, so lookups are linear scans.
    members: Mutex<Vec<Member>>,
}

struct Member {
    id: PeerId,
    meta: Meta,
    token: ResumeToken,
    /// Pushes frames to the member's session.
    queue: mpsc::Sender<Utf8Bytes>,
    /// The connection that currently owns this member; a session that finds another one here has
    /// been superseded by a resume and must leave the member alone.
    conn: u64,
    /// The queue's receiving end while the member's socket is gone.
    parked: Option<mpsc::Receiver<Utf8Bytes>>,
}

/// What a session holds once it has joined.
pub(crate) struct Membership {
    pub room: Arc<Room>,
    pub id: PeerId,
    /// Frames for this member, pushed by other sessions.
    pub queue: mpsc::Receiver<Utf8Bytes>,
    /// The encoded `welcome` to send first.
    pub welcome: Utf8Bytes,
    /// Whether the join resumed an existing member.
    pub resumed: bool,
}

/// Who is joining, and how.
pub(crate) struct JoinRequest<'a> {
    pub room: &'a str,
    pub meta: Meta,
    pub resume: Option<ResumeToken>,
    /// The joining connection (unique per socket).
    pub conn: u64,
    /// The id to give if this is not a resume.
    pub fresh_id: PeerId,
    /// The token to give if this is not a resume.
    pub fresh_token: ResumeToken,
}

impl Rooms {
    /// Joins (or resumes into) a room, creating it if needed. Tells the other members about a
    /// new one. Fails with the code to report when a limit stands in the way.
    pub fn join(
        &self,
        request: JoinRequest<'_>,
        limits: &Limits,
        ice_servers: &[IceServer],
        metrics: &Metrics,
    ) -> Result<Membership, ErrorCode> {
        let mut map = lock(&self.map);
        let room = match map.get(request.room) {
            Some(room) => Arc::clone(room),
            None if map.len() >= limits.max_rooms => return Err(ErrorCode::TooManyRooms),
            None => {
                let name: Arc<str> = request.room.into();
                let room = Arc::new(Room { name: name.clone(), members: Mutex::default() });
                map.insert(name, Arc::clone(&room));
                metrics.rooms.fetch_add(1, Relaxed);
                room
            }
        };
        let mut members = lock(&room.members);
        let resumed = request
            .resume
            .and_then(|token| members.iter().position(|member| member.token == token));
        let (id, token, queue) = match resumed {
            Some(i) => {
                let member = &mut members[i];
                member.conn = request.conn;
                let queue = match member.parked.take() {
                    Some(queue) => {
                        metrics.parked.fetch_sub(1, Relaxed);
                        queue
                    }
                    // The old socket still looks alive: replacing the sender ends its session
                    // (its queue closes) and the new socket takes over.
                    None => {
                        let (sender, queue) = mpsc::channel(limits.peer_queue);
                        member.queue = sender;
                        queue
                    }
                };
                metrics.resumes.fetch_add(1, Relaxed);
                (member.id, member.token, queue)
            }
            None => {
                if members.len() >= limits.max_peers_per_room {
                    // Only an existing room can be full, so no empty room is left behind.
                    return Err(ErrorCode::RoomFull);
                }
                let notice: Utf8Bytes =
                    ServerMessage::PeerJoined { id: request.fresh_id, meta: request.meta.clone() }
                        .encode()
                        .into();
                broadcast(&members, &notice, metrics);
                let (sender, queue) = mpsc::channel(limits.peer_queue);
                members.push(Member {
                    id: request.fresh_id,
                    meta: request.meta,
                    token: request.fresh_token,
                    queue: sender,
                    conn: request.conn,
                    parked: None,
                });
                metrics.peers.fetch_add(1, Relaxed);
                (request.fresh_id, request.fresh_token, queue)
            }
        };
        let welcome = ServerMessage::Welcome {
            id,
            peers: members
                .iter()
                .filter(|member| member.id != id)
                .map(|member| PeerInfo { id: member.id, meta: member.meta.clone() })
                .collect(),
            resume_token: token.to_string(),
            ice_servers: ice_servers.to_vec(),
            resumed: resumed.is_some(),
        }
        .encode()
        .into();
        drop(members);
        Ok(Membership { room, id, queue, welcome, resumed: resumed.is_some() })
    }

    /// Removes member `id` if connection `conn` still owns it, tells the others, and frees the
    /// room if it is now empty. Does nothing for a member that another connection resumed.
    pub fn leave(&self, room: &Arc<Room>, id: PeerId, conn: u64, metrics: &Metrics) {
        let mut map = lock(&self.map);
        let mut members = lock(&room.members);
        let Some(i) = members.iter().position(|m| m.id == id && m.conn == conn) else {
            return;
        };
        let member = members.swap_remove(i);
        metrics.peers.fetch_sub(1, Relaxed);
        if member.parked.is_some() {
            metrics.parked.fetch_sub(1, Relaxed);
        }
        let notice: Utf8Bytes = ServerMessage::PeerLeft { id }.encode().into();
        broadcast(&members, &notice, metrics);
        if members.is_empty() {
            // Remove only this room: a room of the same name created later is another `Arc`.
            if map.get(&room.name).is_some_and(|current| Arc::ptr_eq(current, room)) {
                map.remove(&room.name);
                metrics.rooms.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Keeps member `id`'s place and queue for a resume, if connection `conn` still owns it.
    /// Returns whether it did (if not, the member was resumed elsewhere or has left).
    pub fn park(
        &self,
        room: &Room,
        id: PeerId,
        conn: u64,
        queue: mpsc::Receiver<Utf8Bytes>,
        metrics: &Metrics,
    ) -> bool {
        let mut members = lock(&room.members);
        match members.iter_mut().find(|m| m.id == id && m.conn == conn) {
            Some(member) => {
                member.parked = Some(queue);
                metrics.parked.fetch_add(1, Relaxed);
                true
            }
            None => false,
        }
    }

    /// Number of rooms (for tests of churn).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

impl Room {
    /// Queues `frame` for member `to`. Fails with `unknown_peer` if `to` is not a member of this
    /// room, or `peer_overloaded` if its queue is full.
    pub fn relay(&self, to: PeerId, frame: Utf8Bytes) -> Result<(), ErrorCode> {
        let members = lock(&self.members);
        let member = members.iter().find(|m| m.id == to).ok_or(ErrorCode::UnknownPeer)?;
        member.queue.try_send(frame).map_err(|error| match error {
            TrySendError::Full(_) => ErrorCode::PeerOverloaded,
            // The member's session just ended and has not left yet.
            TrySendError::Closed(_) => ErrorCode::UnknownPeer,
        })
    }
}

/// Queues a membership notice for every member. A member whose queue is full is not reading; it
/// misses the notice (counted) rather than stalling the room.
fn broadcast(members: &[Member], notice: &Utf8Bytes, metrics: &Metrics) {
    for member in members {
        if member.queue.try_send(notice.clone()).is_err() {
            metrics.notices_dropped.fetch_add(1, Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_print_and_parse_back() {
        let token = ResumeToken::generate().unwrap();
        let text = token.to_string();
        assert_eq!(text.len(), 32);
        assert!(ResumeToken::parse(&text) == Some(token));
        assert!(ResumeToken::parse("zz").is_none());
        assert!(ResumeToken::parse(&"g".repeat(32)).is_none());
        assert!(ResumeToken::parse(&"é".repeat(16)).is_none());
    }

    fn request(room: &str, conn: u64, resume: Option<ResumeToken>) -> JoinRequest<'_> {
        JoinRequest {
            room,
            meta: Meta::new(&conn).unwrap(),
            resume,
            conn,
            fresh_id: conn,
            fresh_token: ResumeToken::generate().unwrap(),
        }
    }

    #[test]
    fn rooms_are_freed_with_their_last_member_and_resume_keeps_the_id() {
        let (rooms, metrics, limits) = (Rooms::default(), Metrics::default(), Limits::default());
        let a = rooms.join(request("r", 1, None), &limits, &[], &metrics).unwrap();
        let b = rooms.join(request("r", 2, None), &limits, &[], &metrics).unwrap();
        assert_eq!(rooms.len(), 1);
        // `b` drops and resumes on connection 3: same id, queue kept.
        let token = ResumeToken::parse(
            ServerMessage::decode(&b.welcome)
                .ok()
                .and_then(|m| match m {
                    ServerMessage::Welcome { resume_token, .. } => Some(resume_token),
                    _ => None,
                })
                .as_deref()
                .unwrap(),
        );
        assert!(rooms.park(&b.room, b.id, 2, b.queue, &metrics));
        a.room.relay(b.id, "queued".into()).unwrap();
        let mut b2 = rooms.join(request("r", 3, token), &limits, &[], &metrics).unwrap();
        assert!(b2.resumed);
        assert_eq!(b2.id, b.id);
        assert_eq!(b2.queue.try_recv().unwrap().as_str(), "queued");
        // The superseded connection 2 cannot remove the member any more.
        rooms.leave(&b2.room, b2.id, 2, &metrics);
        assert!(a.room.relay(b.id, "still here".into()).is_ok());
        rooms.leave(&b2.room, b2.id, 3, &metrics);
        rooms.leave(&a.room, a.id, 1, &metrics);
        assert_eq!(rooms.len(), 0);
        assert_eq!(metrics.rooms.load(Relaxed), 0);
        assert_eq!(metrics.peers.load(Relaxed), 0);
        assert_eq!(metrics.parked.load(Relaxed), 0);
    }
}
