//! One WebSocket session, from upgrade to close, in one task: it reads the client's frames, writes
//! what other sessions queue for it, pings it, and enforces the per-connection limits. One task
//! (rather than a reader and a writer) keeps a connection down to a few KiB.
//!
//! How a session ends decides what the room sees (see [`End`]): a close frame, an idle timeout or
//! abuse leave at once; a socket that just broke parks the member for the resume TTL.
use std::pin::pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use flotilla_signal_protocol::{close_code, ClientMessage, ErrorCode, ServerMessage};
use futures_util::SinkExt;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite;

use crate::rooms::{JoinRequest, Membership, ResumeToken};
use crate::AppState;

/// Most queued frames written before one flush: batches bursts into few syscalls without letting
/// one busy peer starve the session's reads.
const WRITE_BATCH: usize = 64;

/// How long a session that is closing waits for the client's close frame, so that the client
/// reads the explanation before the TCP connection goes away.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Why a session ended.
#[derive(Debug)]
enum End {
    /// The client sent a close frame: it leaves now.
    Closed,
    /// The socket broke without a close frame: the member is parked for the resume TTL.
    Dropped,
    /// The client was silent past the idle timeout: it leaves now.
    Idle,
    /// The server ends the session: send this error and close code, and leave.
    Refused { code: ErrorCode, close: u16, reason: &'static str },
    /// The frame was too large: tell the client and close (the stream cannot be read further).
    TooLarge,
    /// Another socket resumed this member: close this one and leave the member alone.
    Superseded,
    /// The server is shutting down.
    Shutdown,
}

/// Runs a session on an upgraded socket for room `room` until it ends.
pub(crate) async fn run(socket: WebSocket, room: String, state: Arc<AppState>) {
    state.metrics.connections_total.fetch_add(1, Relaxed);
    let open = state.metrics.connections.fetch_add(1, Relaxed);
    let conn = state.next_conn.fetch_add(1, Relaxed);
    let mut session = Session {
        socket,
        room,
        conn,
        membership: None,
        rate: RateLimit::new(state.config.limits.max_msgs_per_sec),
        last_seen: Instant::now(),
        state: Arc::clone(&state),
    };
    let end = if open >= state.config.limits.max_connections as i64 {
        End::Refused {
            code: ErrorCode::TooManyConnections,
            close: close_code::TRY_AGAIN_LATER,
            reason: "too many connections",
        }
    } else {
        session.serve().await
    };
    tracing::debug!(conn, room = %session.room, ?end, "session ended");
    // Boxed, like the parking below: the closing steps are as large as the whole loop, and would
    // otherwise make every idle session's task that much bigger for its whole life.
    let parked = Box::pin(session.finish(end)).await;
    // The socket is gone: it no longer counts against the connection limit, even while parked.
    state.metrics.connections.fetch_sub(1, Relaxed);
    if let Some(membership) = parked {
        Box::pin(park(&state, membership, conn)).await;
    }
}

/// One connection's state, owned by its task.
struct Session {
    /// The client's socket; only this task reads and writes it.
    socket: WebSocket,
    /// The room in the path (validated before the upgrade).
    room: String,
    /// Unique per socket; tells a member's current connection from a superseded one.
    conn: u64,
    /// Set once `hello` has been answered.
    membership: Option<Membership>,
    /// The per-connection message rate.
    rate: RateLimit,
    /// When the client last sent anything (pongs included).
    last_seen: Instant,
    /// Config, rooms and metrics, shared with every session.
    state: Arc<AppState>,
}

impl Session {
    /// The session's main loop; returns why it ended.
    async fn serve(&mut self) -> End {
        let config = &self.state.config;
        let mut ping =
            tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shutdown = self.state.config.shutdown.clone();
        // Made once and polled by reference: a fresh future every turn would register with the
        // token shared by all sessions, and unregister, on every frame.
        let mut shutdown = pin!(shutdown.triggered());
        // Until `hello` is answered there is no outbox to drain.
        let outbox = loop {
            if let Some(membership) = &self.membership {
                break Arc::clone(&membership.outbox);
            }
            tokio::select! {
                biased;
                () = &mut shutdown => return End::Shutdown,
                frame = self.socket.recv() => if let Some(end) = self.on_frame(frame).await {
                    return end;
                },
                _ = ping.tick() => if let Some(end) = self.on_tick().await {
                    return end;
                },
            }
        };
        // A resumed member may have frames queued whose wake-up went to its old session.
        outbox.wake();
        let mut ready = pin!(outbox.ready());
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => return End::Shutdown,
                frame = self.socket.recv() => if let Some(end) = self.on_frame(frame).await {
                    return end;
                },
                () = &mut ready => {
                    ready.set(outbox.ready());
                    if let Err(end) = self.write_queued().await {
                        return end;
                    }
                },
                _ = ping.tick() => if let Some(end) = self.on_tick().await {
                    return end;
                },
            }
        }
    }

    /// Handles what the socket gave; `Some` ends the session.
    async fn on_frame(&mut self, frame: Option<Result<Message, axum::Error>>) -> Option<End> {
        match frame {
            None => Some(End::Dropped),
            Some(Err(error)) => Some(if too_large(error) { End::TooLarge } else { End::Dropped }),
            Some(Ok(message)) => {
                self.last_seen = Instant::now();
                self.on_message(message).await
            }
        }
    }

    /// Drops a client silent past the idle timeout, and pings one that has been quiet.
    async fn on_tick(&mut self) -> Option<End> {
        let quiet = self.last_seen.elapsed();
        if quiet >= self.state.config.idle_timeout {
            return Some(End::Idle);
        }
        if quiet >= self.state.config.ping_interval {
            // Boxed like `error`: a ping goes out at most once per interval.
            return Box::pin(self.send(Message::Ping(Default::default()))).await.err();
        }
        None
    }

    /// Handles one frame from the client; `Some` ends the session.
    async fn on_message(&mut self, message: Message) -> Option<End> {
        if let Message::Close(_) = message {
            return Some(End::Closed);
        }
        // Every other frame counts, control frames included: they cost as much to handle.
        match self.rate.admit(Instant::now()) {
            Admit::Yes => {}
            Admit::DropAndWarn => {
                return self
                    .error(ErrorCode::RateLimited, "too many messages; dropped")
                    .await
                    .err();
            }
            Admit::Drop => return None,
            Admit::Abuse => {
                return Some(End::Refused {
                    code: ErrorCode::RateLimited,
                    close: close_code::POLICY_VIOLATION,
                    reason: "flooding",
                })
            }
        }
        let text = match message {
            Message::Text(text) => text,
            // A pong only proves the client is alive; tungstenite answers pings itself.
            Message::Ping(_) | Message::Pong(_) => return None,
            _ => {
                return self
                    .error(ErrorCode::MalformedJson, "expected a JSON text frame")
                    .await
                    .err()
            }
        };
        match ClientMessage::decode(&text) {
            Ok(ClientMessage::Signal { to, payload }) => {
                let Some(membership) = &self.membership else {
                    return self.error(ErrorCode::NotJoined, "send hello first").await.err();
                };
                let frame = ServerMessage::encode_signal(membership.id, &payload).into();
                match membership.room.relay(to, frame) {
                    Ok(()) => {
                        self.state.metrics.messages_relayed.fetch_add(1, Relaxed);
                        None
                    }
                    Err(code) => {
                        let message = match code {
                            ErrorCode::PeerOverloaded => format!("peer {to} is not keeping up"),
                            _ => format!("no peer {to} in this room"),
                        };
                        self.error(code, message).await.err()
                    }
                }
            }
            Ok(ClientMessage::Hello { meta, resume_token }) => {
                if self.membership.is_some() {
                    return self
                        .error(ErrorCode::AlreadyJoined, "hello was already sent")
                        .await
                        .err();
                }
                let Ok(fresh_token) = ResumeToken::generate() else {
                    return Some(End::Refused {
                        code: ErrorCode::Internal,
                        close: close_code::INTERNAL_ERROR,
                        reason: "no randomness for a resume token",
                    });
                };
                let request = JoinRequest {
                    room: &self.room,
                    meta,
                    resume: resume_token.as_deref().and_then(ResumeToken::parse),
                    conn: self.conn,
                    fresh_id: self.state.next_peer.fetch_add(1, Relaxed),
                    fresh_token,
                };
                let config = &self.state.config;
                match self.state.rooms.join(
                    request,
                    &config.limits,
                    &config.ice_servers,
                    &self.state.metrics,
                ) {
                    Ok((membership, welcome)) => {
                        tracing::debug!(
                            conn = self.conn,
                            room = %self.room,
                            id = membership.id,
                            resumed = membership.resumed,
                            "joined"
                        );
                        self.membership = Some(membership);
                        Box::pin(self.send(Message::Text(welcome))).await.err()
                    }
                    Err(code) => Some(End::Refused {
                        code,
                        close: close_code::TRY_AGAIN_LATER,
                        reason: match code {
                            ErrorCode::RoomFull => "room full",
                            _ => "too many rooms",
                        },
                    }),
                }
            }
            Err(error) => {
                let message = truncate(error.message, 200);
                self.error(error.code, message).await.err()
            }
        }
    }

    /// Writes what is queued (up to a batch), then flushes once.
    async fn write_queued(&mut self) -> Result<(), End> {
        let limit = self.state.config.idle_timeout;
        let Some(membership) = &self.membership else { return Ok(()) };
        let outbox = &membership.outbox;
        if outbox.is_retired() {
            return Err(End::Superseded);
        }
        let socket = &mut self.socket;
        let batch = async {
            let mut written = 0;
            while let Some(frame) = outbox.pop() {
                socket.feed(Message::Text(frame)).await?;
                written += 1;
                if written == WRITE_BATCH {
                    // Let the session read too; the rest is written on the next turn.
                    outbox.wake();
                    break;
                }
            }
            if written > 0 {
                socket.flush().await?;
            }
            Ok::<(), axum::Error>(())
        };
        match timeout(limit, batch).await {
            Ok(Ok(())) => Ok(()),
            // A client that stopped reading (or is gone) is treated like a broken socket.
            Ok(Err(_)) | Err(_) => Err(End::Dropped),
        }
    }

    /// Sends one frame now; a failure or a client that stops reading ends the session.
    async fn send(&mut self, message: Message) -> Result<(), End> {
        match timeout(self.state.config.idle_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) | Err(_) => Err(End::Dropped),
        }
    }

    /// Sends an `error` frame and counts it. The send is boxed: errors are rare, and their
    /// write (with its timer) would otherwise sit in every session's task.
    async fn error(&mut self, code: ErrorCode, message: impl Into<String>) -> Result<(), End> {
        self.state.metrics.error(code);
        let frame = ServerMessage::error(code, message).encode();
        Box::pin(self.send(Message::Text(frame.into()))).await
    }

    /// Closes the socket as `end` requires and updates the room. Returns the membership to park
    /// if the socket just broke.
    async fn finish(mut self, end: End) -> Option<Membership> {
        let state = Arc::clone(&self.state);
        let too_large = matches!(end, End::TooLarge);
        let (close, reason, leave) = match end {
            End::Closed => (None, "", true),
            End::Idle => (Some(close_code::GOING_AWAY), "idle timeout", true),
            End::Shutdown => (Some(close_code::GOING_AWAY), "server shutting down", false),
            End::Superseded => {
                (Some(close_code::SUPERSEDED), "resumed on another connection", false)
            }
            End::TooLarge => {
                let limit = state.config.limits.max_frame_bytes;
                let _ = self
                    .error(ErrorCode::FrameTooLarge, format!("frames are limited to {limit} bytes"))
                    .await;
                (Some(close_code::MESSAGE_TOO_BIG), "frame too large", true)
            }
            End::Refused { code, close, reason } => {
                let _ = self.error(code, reason).await;
                (Some(close), reason, true)
            }
            End::Dropped => return self.membership,
        };
        // Announce the departure before the (possibly slow) close handshake.
        if leave {
            if let Some(membership) = &self.membership {
                state.rooms.leave(&membership.room, membership.id, self.conn, &state.metrics);
            }
        }
        if let Some(code) = close {
            let frame = CloseFrame { code, reason: reason.into() };
            let _ = timeout(CLOSE_GRACE, self.socket.send(Message::Close(Some(frame)))).await;
        }
        // Wait briefly for the client's close frame so it reads ours before the TCP close: a
        // socket closed with unread input sends a reset, which can destroy what we sent last.
        let _ = timeout(CLOSE_GRACE, async {
            if too_large {
                // The rest of the oversize frame cannot be read past; just hold the socket.
                std::future::pending::<()>().await;
            }
            while let Some(Ok(message)) = self.socket.recv().await {
                if matches!(message, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
        None
    }
}

/// Parks a member whose socket broke, then removes it if it has not resumed within the TTL.
async fn park(state: &AppState, membership: Membership, conn: u64) {
    let Membership { room, id, .. } = membership;
    if !state.rooms.park(&room, id, conn, &state.metrics) {
        return;
    }
    let shutdown = state.config.shutdown.clone();
    tokio::select! {
        () = tokio::time::sleep(state.config.resume_ttl) => {
            // A resume in the meantime took the member over, and this does nothing.
            state.rooms.leave(&room, id, conn, &state.metrics);
        }
        () = shutdown.triggered() => {}
    }
}

/// Whether a read error was a frame over the size limit.
fn too_large(error: axum::Error) -> bool {
    matches!(
        error.into_inner().downcast_ref::<tungstenite::Error>(),
        Some(tungstenite::Error::Capacity(_))
    )
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

/// What to do with a frame, by the per-connection rate.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    /// Within the rate.
    Yes,
    /// Over the rate: drop it and say so (once per burst).
    DropAndWarn,
    /// Over the rate, already warned: drop it quietly.
    Drop,
    /// Over the rate by another second's worth: close the session.
    Abuse,
}

/// A token bucket holding one second's worth of frames, plus a count of frames dropped in the
/// current burst; a burst ends after a second with nothing dropped.
#[derive(Debug)]
struct RateLimit {
    /// Refill rate, and the bucket's size.
    per_sec: f64,
    /// Frames that may come now.
    tokens: f64,
    /// When `tokens` was last refilled.
    refilled: Instant,
    /// Frames dropped in the current burst.
    dropped: u32,
    /// When the last frame was dropped.
    last_drop: Instant,
}

impl RateLimit {
    fn new(per_sec: u32) -> RateLimit {
        let now = Instant::now();
        let per_sec = f64::from(per_sec.max(1));
        RateLimit { per_sec, tokens: per_sec, refilled: now, dropped: 0, last_drop: now }
    }

    fn admit(&mut self, now: Instant) -> Admit {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.per_sec);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Admit::Yes;
        }
        if now.saturating_duration_since(self.last_drop) > Duration::from_secs(1) {
            self.dropped = 0;
        }
        self.last_drop = now;
        self.dropped += 1;
        if f64::from(self.dropped) > self.per_sec {
            Admit::Abuse
        } else if self.dropped == 1 {
            Admit::DropAndWarn
        } else {
            Admit::Drop
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_warns_once_then_closes_a_flood() {
        let start = Instant::now();
        let mut rate = RateLimit::new(10);
        let verdicts: Vec<Admit> = (0..25).map(|_| rate.admit(start)).collect();
        assert!(verdicts[..10].iter().all(|v| *v == Admit::Yes));
        assert_eq!(verdicts[10], Admit::DropAndWarn);
        assert!(verdicts[11..20].iter().all(|v| *v == Admit::Drop));
        assert_eq!(verdicts[20], Admit::Abuse);
        // A client that slows down recovers: the bucket refills and the burst count resets.
        let mut rate = RateLimit::new(10);
        for _ in 0..12 {
            rate.admit(start);
        }
        let later = start + Duration::from_secs(2);
        assert_eq!(rate.admit(later), Admit::Yes);
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé".into(), 3), "é");
        assert_eq!(truncate("abc".into(), 10), "abc");
    }
}
