//! Rooms and their members: joining, resuming, relaying, leaving. A room exists while it has a
//! member and is freed with its last one.
//!
//! Each member has an [`Outbox`]: a bounded queue of frames that other sessions push and the
//! member's own session drains into its socket. It belongs to the member, not the socket, so
//! while a member is parked (socket dropped, resume TTL running) signals still queue up, and are
//! delivered after a resume.
//!
//! Locking: the registry lock is taken only to join and leave, then the room's own lock; relaying
//! takes only the room's lock, so rooms never contend with each other. Neither lock is held
//! across an `.await`.
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ws::Utf8Bytes;
use flotilla_signal_protocol::{ErrorCode, IceServer, Meta, PeerId, PeerInfo, ServerMessage};
use tokio::sync::Notify;

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
    /// Frames for the member's session.
    outbox: Arc<Outbox>,
    /// The connection that currently owns this member; a session that finds another one here has
    /// been superseded by a resume and must leave the member alone.
    conn: u64,
    /// Whether the member's socket is gone and the resume TTL is running.
    parked: bool,
}

/// What a session holds once it has joined.
pub(crate) struct Membership {
    pub room: Arc<Room>,
    pub id: PeerId,
    /// Frames for this member, pushed by other sessions.
    pub outbox: Arc<Outbox>,
    /// Whether the join resumed an existing member.
    pub resumed: bool,
}

/// Frames waiting for one member's socket. A mutex around a `VecDeque` rather than a channel:
/// an idle member's outbox allocates nothing, where a tokio channel allocates a block of 32 slots
/// up front, and 10,000 idle members are the case to be small for.
pub(crate) struct Outbox {
    /// Queued frames and their total size in bytes.
    frames: Mutex<(VecDeque<Utf8Bytes>, usize)>,
    /// At most this many frames may be queued...
    capacity: usize,
    /// ...and at most this many bytes, so a parked member cannot hoard large frames.
    capacity_bytes: usize,
    /// Wakes the session when frames arrive or the outbox is retired.
    ready: Notify,
    /// Set when a resume moved the member to another socket: this outbox's session must end.
    retired: AtomicBool,
}

impl Outbox {
    fn new(limits: &Limits) -> Arc<Outbox> {
        Arc::new(Outbox {
            frames: Mutex::default(),
            capacity: limits.peer_queue,
            capacity_bytes: limits.peer_queue_bytes,
            ready: Notify::new(),
            retired: AtomicBool::new(false),
        })
    }

    /// Queues a frame, unless the queue is full.
    fn push(&self, frame: Utf8Bytes) -> Result<(), ErrorCode> {
        let mut queue = lock(&self.frames);
        let (frames, bytes) = &mut *queue;
        if frames.len() >= self.capacity || *bytes + frame.len() > self.capacity_bytes {
            return Err(ErrorCode::PeerOverloaded);
        }
        *bytes += frame.len();
        frames.push_back(frame);
        drop(queue);
        self.ready.notify_one();
        Ok(())
    }

    /// Moves everything queued here to `to`, retires this outbox and wakes its session.
    fn retire_into(&self, to: &Outbox) {
        let (frames, bytes) = std::mem::take(&mut *lock(&self.frames));
        let mut queue = lock(&to.frames);
        queue.0.extend(frames);
        queue.1 += bytes;
        drop(queue);
        self.retired.store(true, Relaxed);
        self.ready.notify_one();
    }

    /// Completes when frames may be queued or the outbox was retired.
    pub async fn ready(&self) {
        self.ready.notified().await
    }

    /// The next queued frame, if any.
    pub fn pop(&self) -> Option<Utf8Bytes> {
        let mut queue = lock(&self.frames);
        let frame = queue.0.pop_front()?;
        queue.1 -= frame.len();
        Some(frame)
    }

    /// Asks for another wake-up (the session stopped draining before the queue was empty).
    pub fn wake(&self) {
        self.ready.notify_one();
    }

    /// Whether a resume moved the member to another socket.
    pub fn is_retired(&self) -> bool {
        self.retired.load(Relaxed)
    }
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
    /// Joins (or resumes into) a room, creating it if needed, and returns the membership with
    /// the encoded `welcome` to send. Tells the other members about a new one. Fails with the
    /// code to report when a limit stands in the way.
    pub fn join(
        &self,
        request: JoinRequest<'_>,
        limits: &Limits,
        ice_servers: &[IceServer],
        metrics: &Metrics,
    ) -> Result<(Membership, Utf8Bytes), ErrorCode> {
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
        let (id, token, outbox) = match resumed {
            Some(i) => {
                let member = &mut members[i];
                member.conn = request.conn;
                if member.parked {
                    member.parked = false;
                    metrics.parked.fetch_sub(1, Relaxed);
                } else {
                    // The old socket still looks alive: its session is retired, and the new one
                    // takes over what was queued.
                    let outbox = Outbox::new(limits);
                    member.outbox.retire_into(&outbox);
                    member.outbox = outbox;
                }
                metrics.resumes.fetch_add(1, Relaxed);
                (member.id, member.token, Arc::clone(&member.outbox))
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
                let outbox = Outbox::new(limits);
                members.push(Member {
                    id: request.fresh_id,
                    meta: request.meta,
                    token: request.fresh_token,
                    outbox: Arc::clone(&outbox),
                    conn: request.conn,
                    parked: false,
                });
                metrics.peers.fetch_add(1, Relaxed);
                (request.fresh_id, request.fresh_token, outbox)
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
            founder: founder(&members).unwrap_or(id),
        }
        .encode()
        .into();
        drop(members);
        Ok((Membership { room, id, outbox, resumed: resumed.is_some() }, welcome))
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
        if member.parked {
            metrics.parked.fetch_sub(1, Relaxed);
        }
        if let Some(founder) = founder(&members) {
            let notice: Utf8Bytes = ServerMessage::PeerLeft { id, founder }.encode().into();
            broadcast(&members, &notice, metrics);
        }
        if members.is_empty() {
            // Remove only this room: a room of the same name created later is another `Arc`.
            if map.get(&room.name).is_some_and(|current| Arc::ptr_eq(current, room)) {
                map.remove(&room.name);
                metrics.rooms.fetch_sub(1, Relaxed);
            }
        }
    }

    /// Keeps member `id`'s place and outbox for a resume, if connection `conn` still owns it.
    /// Returns whether it did (if not, the member was resumed elsewhere or has left).
    pub fn park(&self, room: &Room, id: PeerId, conn: u64, metrics: &Metrics) -> bool {
        let mut members = lock(&room.members);
        match members.iter_mut().find(|m| m.id == id && m.conn == conn) {
            Some(member) => {
                member.parked = true;
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
        member.outbox.push(frame)
    }
}

/// The room's founder: its oldest member, parked ones included (ids only grow, so the lowest;
/// `members` is not kept in join order). A parked founder stays one: it may resume, and the
/// others see no change while it might.
fn founder(members: &[Member]) -> Option<PeerId> {
    members.iter().map(|member| member.id).min()
}

/// Queues a membership notice for every member. A member whose queue is full is not reading; it
/// misses the notice (counted) rather than stalling the room.
fn broadcast(members: &[Member], notice: &Utf8Bytes, metrics: &Metrics) {
    for member in members {
        if member.outbox.push(notice.clone()).is_err() {
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

    #[test]
    fn outboxes_are_bounded_by_frames_and_bytes() {
        let limits = Limits { peer_queue: 3, peer_queue_bytes: 10, ..Limits::default() };
        let outbox = Outbox::new(&limits);
        outbox.push("1234".into()).unwrap();
        outbox.push("1234".into()).unwrap();
        assert_eq!(outbox.push("123".into()), Err(ErrorCode::PeerOverloaded));
        outbox.push("12".into()).unwrap();
        assert_eq!(outbox.push("".into()), Err(ErrorCode::PeerOverloaded));
        assert_eq!(outbox.pop().unwrap().as_str(), "1234");
        outbox.push("123".into()).unwrap();
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
        let (a, _) = rooms.join(request("r", 1, None), &limits, &[], &metrics).unwrap();
        let (b, welcome) = rooms.join(request("r", 2, None), &limits, &[], &metrics).unwrap();
        assert_eq!(rooms.len(), 1);
        assert_eq!(a.outbox.pop().unwrap().as_str(), r#"{"type":"peer_joined","id":2,"meta":2}"#);
        // `b` drops and resumes on connection 3: same id, queue kept.
        let token = match ServerMessage::decode(&welcome).unwrap() {
            ServerMessage::Welcome { resume_token, .. } => ResumeToken::parse(&resume_token),
            other => panic!("{other:?}"),
        };
        assert!(rooms.park(&b.room, b.id, 2, &metrics));
        a.room.relay(b.id, "queued".into()).unwrap();
        let (b2, _) = rooms.join(request("r", 3, token), &limits, &[], &metrics).unwrap();
        assert!(b2.resumed);
        assert_eq!(b2.id, b.id);
        assert_eq!(b2.outbox.pop().unwrap().as_str(), "queued");
        // A resume while connection 3 still looks alive retires its outbox.
        a.room.relay(b.id, "moved".into()).unwrap();
        let (b3, _) = rooms.join(request("r", 4, token), &limits, &[], &metrics).unwrap();
        assert!(b2.outbox.is_retired());
        assert_eq!(b3.outbox.pop().unwrap().as_str(), "moved");
        // The superseded connections cannot remove the member any more.
        rooms.leave(&b.room, b.id, 2, &metrics);
        rooms.leave(&b2.room, b2.id, 3, &metrics);
        assert!(a.room.relay(b.id, "still here".into()).is_ok());
        rooms.leave(&b3.room, b3.id, 4, &metrics);
        rooms.leave(&a.room, a.id, 1, &metrics);
        assert_eq!(rooms.len(), 0);
        assert_eq!(metrics.rooms.load(Relaxed), 0);
        assert_eq!(metrics.peers.load(Relaxed), 0);
        assert_eq!(metrics.parked.load(Relaxed), 0);
    }
}
