//! Running totals for introspection: messages in and out by kind, elections, proposals,
//! snapshots. Plain counters bumped where things happen, so reading them costs nothing and
//! keeping them costs an increment.
use crate::message::MessageBody;

/// The kinds of [`MessageBody`], for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageKind {
    PreVote,
    Vote,
    PreVoteResponse,
    VoteResponse,
    Append,
    AppendAccepted,
    AppendRejected,
    Heartbeat,
    HeartbeatResponse,
    Propose,
    ProposeRejected,
    InstallSnapshot,
    SnapshotAck,
    ReadIndex,
    ReadIndexResponse,
    TimeoutNow,
    JoinRequest,
}

impl MessageKind {
    /// Every kind, in declaration order.
    pub const ALL: [MessageKind; 17] = [
        MessageKind::PreVote,
        MessageKind::Vote,
        MessageKind::PreVoteResponse,
        MessageKind::VoteResponse,
        MessageKind::Append,
        MessageKind::AppendAccepted,
        MessageKind::AppendRejected,
        MessageKind::Heartbeat,
        MessageKind::HeartbeatResponse,
        MessageKind::Propose,
        MessageKind::ProposeRejected,
        MessageKind::InstallSnapshot,
        MessageKind::SnapshotAck,
        MessageKind::ReadIndex,
        MessageKind::ReadIndexResponse,
        MessageKind::TimeoutNow,
        MessageKind::JoinRequest,
    ];

    pub fn of<A>(body: &MessageBody<A>) -> Self {
        use MessageBody::*;
        match body {
            RequestVote { pre_vote: true, .. } => Self::PreVote,
            RequestVote { .. } => Self::Vote,
            VoteResponse { pre_vote: true, .. } => Self::PreVoteResponse,
            VoteResponse { .. } => Self::VoteResponse,
            Append { .. } => Self::Append,
            AppendAccepted { .. } => Self::AppendAccepted,
            AppendRejected { .. } => Self::AppendRejected,
            Heartbeat { .. } => Self::Heartbeat,
            HeartbeatResponse { .. } => Self::HeartbeatResponse,
            Propose { .. } => Self::Propose,
            ProposeRejected { .. } => Self::ProposeRejected,
            InstallSnapshot { .. } => Self::InstallSnapshot,
            SnapshotAck { .. } => Self::SnapshotAck,
            ReadIndex { .. } => Self::ReadIndex,
            ReadIndexResponse { .. } => Self::ReadIndexResponse,
            TimeoutNow { .. } => Self::TimeoutNow,
            JoinRequest { .. } => Self::JoinRequest,
        }
    }
}

/// A count per [`MessageKind`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts([u64; MessageKind::ALL.len()]);

impl MessageCounts {
    pub fn get(&self, kind: MessageKind) -> u64 {
        self.0[kind as usize]
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `(kind, count)` for every kind, in declaration order.
    pub fn iter(&self) -> impl Iterator<Item = (MessageKind, u64)> + '_ {
        MessageKind::ALL.iter().map(|&kind| (kind, self.get(kind)))
    }

    pub(super) fn count<A>(&mut self, body: &MessageBody<A>) {
        let slot = &mut self.0[MessageKind::of(body) as usize];
        *slot = slot.saturating_add(1);
    }
}

/// Totals since the node started (a restart starts them over).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Messages handled (addressed to this node), by kind.
    pub messages_in: MessageCounts,
    /// Messages queued for sending, by kind.
    pub messages_out: MessageCounts,
    /// Pre-vote rounds this node started.
    pub pre_votes_started: u64,
    /// Elections this node started (each in a new term).
    pub elections_started: u64,
    /// Proposals made here that committed (their outcome was `Ok`).
    pub proposals_committed: u64,
    /// Proposals made here that were accepted, then failed (leader changed, timed out, ...).
    pub proposals_dropped: u64,
    /// Snapshot transfers this node began as leader.
    pub snapshots_sent: u64,
    /// Snapshots this node installed from a leader.
    pub snapshots_installed: u64,
    /// Snapshots this node took of its own state (compactions).
    pub compactions: u64,
}
