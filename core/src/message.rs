//! Wire-level types: what nodes send each other. Every message carries its sender, its receiver
//! and the sender's current term; the body says what it is about. These types are plain serde
//! data, encoded by [`crate::codec`] behind a versioned header.
use crate::membership::Membership;
use crate::{LogIndex, NodeId, Term};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Identifies one client request: retries reuse it, so it is applied at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    pub client: u64,
    pub seq: u64,
}

/// Identifies one linearizable read made at a node (the application picks it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReadId(pub u64);

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryPayload<A> {
    /// The empty entry a new leader appends to commit its term.
    Noop,
    Action {
        request: RequestId,
        action: A,
    },
    /// A new configuration, in force on every node from the moment the entry is in its log.
    Membership(Membership),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<A> {
    pub term: Term,
    pub index: LogIndex,
    pub payload: EntryPayload<A>,
}

impl<A> Entry<A> {
    /// The request this entry carries, if it carries one.
    pub fn request(&self) -> Option<RequestId> {
        match &self.payload {
            EntryPayload::Action { request, .. } => Some(*request),
            EntryPayload::Noop | EntryPayload::Membership(_) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message<A> {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub body: MessageBody<A>,
}

/// What a message is about. Request/response pairs sit next to each other. `non_exhaustive`, so
/// that a new kind does not break code that only looks at some.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum MessageBody<A> {
    /// A candidate asks for a vote. For a pre-vote, `Message::term` is the term the sender
    /// *would* campaign in; its real term has not moved yet (so a pre-vote never disrupts).
    RequestVote {
        pre_vote: bool,
        last_index: LogIndex,
        last_term: Term,
        /// The candidate campaigns because the leader handed leadership over (`TimeoutNow`):
        /// voters answer even while they hear from that leader.
        transfer: bool,
    },
    /// The answer to `RequestVote`. A granted pre-vote echoes the requested term.
    VoteResponse { pre_vote: bool, granted: bool },
    /// Log replication: `entries` follow the entry at `prev_index` whose term is `prev_term`.
    /// `commit` is the leader's commit index.
    Append { prev_index: LogIndex, prev_term: Term, commit: LogIndex, entries: Vec<Entry<A>> },
    /// The follower's log now matches the leader's up to `match_index`.
    AppendAccepted { match_index: LogIndex },
    /// The follower's log has no entry `(prev_index = rejected_index, prev_term)`. The hint is
    /// the follower's last entry at or below `rejected_index` whose term is at most the
    /// leader's `prev_term`: the leader skips back over whole terms instead of one index at a
    /// time (fast backtracking, as in etcd).
    AppendRejected { rejected_index: LogIndex, hint_index: LogIndex, hint_term: Term },
    /// Leader liveness, and the commit index the follower may safely adopt (never beyond what
    /// the leader knows the follower holds). `round` numbers the leader's heartbeat rounds: a
    /// majority answering one confirms the reads that arrived before it.
    Heartbeat { commit: LogIndex, round: u64 },
    /// Echoes the heartbeat's round (0 when answering a stale leader).
    HeartbeatResponse { round: u64 },
    /// A follower forwards a proposal to the leader it knows in `Message::term`. The leader
    /// accepts it only in that very term, which keeps every copy of a request inside the terms
    /// the proposer knows about (see `node::proposals`).
    Propose { request: RequestId, action: A },
    /// The receiver is not the leader of the sender's term (the message's term is its own).
    ProposeRejected { request: RequestId },
    /// One chunk of the leader's snapshot: bytes `offset..offset + data.len()` of `total`. The
    /// snapshot covers the log up to `index` (of term `term`), with `membership` in force.
    InstallSnapshot {
        index: LogIndex,
        term: Term,
        membership: Membership,
        offset: u64,
        total: u64,
        data: Vec<u8>,
    },
    /// The follower holds the first `received` bytes of snapshot `index`. With `resend`, a chunk
    /// was missing: sending must go back to `received`. (The end of a transfer is acknowledged
    /// by `AppendAccepted` at the snapshot's index, once it is installed and written.)
    SnapshotAck { index: LogIndex, received: u64, resend: bool },
    /// A follower asks the leader for a read index for its read `id`.
    ReadIndex { id: ReadId },
    /// The read index for read `id`, confirmed by a heartbeat round; `None` if the receiver of
    /// the request is not (or no longer) the leader.
    ReadIndexResponse { id: ReadId, index: Option<LogIndex> },
    /// Leadership transfer: the leader tells a voter whose log is up to date to campaign now.
    /// A leader handing off on its way out also votes for the receiver in the term it campaigns
    /// in (the message's term + 1), on a condition the receiver checks as it starts: its own log
    /// is at least as up to date as the sender's, which ended at index `conditional_vote`, of
    /// the message's term (see `node::transfer`).
    TimeoutNow { conditional_vote: Option<LogIndex> },
    /// `node` asks to join the cluster. Any member takes it: a follower forwards it to the
    /// leader, which adds `node` as a learner. Terms play no part (the sender may know none).
    JoinRequest { node: NodeId },
}
