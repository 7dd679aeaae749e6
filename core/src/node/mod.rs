//! The Raft node: the one type a runtime drives. It owns the log, the term and vote, the
//! replicated state machine, and every timer, and it talks to the world only through inputs
//! (`handle_*`, `propose`) and outputs (`poll_output`, `poll_timeout`).
//!
//! The work is split by concern: `election` (roles, votes, PreVote, CheckQuorum, the disconnect
//! hint), `replication` (appends, acknowledgements, commit, apply), `proposals` (proposals from
//! any node, forwarding, outcomes, the provisional state), `membership` (configuration changes,
//! joining), `snapshots` (compaction, sending and installing snapshots), `transfer` (leadership
//! transfer), `reads` (ReadIndex and lease reads) and `counters`. This file holds the public
//! surface, the output queue and the timers that tie them together.
mod counters;
mod election;
mod membership;
mod pending;
mod proposals;
mod reads;
mod replication;
mod snapshots;
mod transfer;

use crate::log::RaftLog;
use crate::machine::Machine;
use crate::membership::{Configurations, Membership};
use crate::message::ReadId;
use crate::progress::Progress;
use crate::rng::Rng;
use crate::snapshot::Reassembly;
use crate::storage::{RestoreError, Snapshot};
use crate::{
    DurableState, Entry, EntryPayload, LogIndex, Message, MessageBody, Millis, NodeId, Persist,
    Reducer, RequestId, Term,
};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use proposals::Proposals;

pub use crate::progress::ReplicationState;
pub use counters::{Counters, MessageCounts, MessageKind};
pub use reads::ReadError;
pub use transfer::TransferError;

/// Tuning of one node. Build it with [`Config::new`] and adjust fields as needed.
#[derive(Clone, Debug)]
pub struct Config {
    pub id: NodeId,
    /// Followers wait a random time in `[election_timeout_min, election_timeout_max)` without
    /// hearing from a leader before campaigning. The minimum is also the leader lease: a node
    /// that heard from a leader within it refuses to help depose that leader.
    pub election_timeout_min: Millis,
    pub election_timeout_max: Millis,
    pub heartbeat_interval: Millis,
    /// Ask for pre-votes before campaigning, so a node that cannot win does not raise terms.
    pub pre_vote: bool,
    /// A leader that has not heard from a majority within `election_timeout_min` steps down,
    /// and nodes ignore vote requests while they hear from a leader.
    pub check_quorum: bool,
    /// Cap on append messages in flight per follower in the replicate state.
    pub max_inflight_appends: usize,
    /// Cap on entries per append message.
    pub max_entries_per_append: usize,
    /// A proposal not committed within this time is answered `TimedOut`.
    pub proposal_timeout: Millis,
    /// Compact the log into a snapshot once this many applied entries follow the latest one
    /// (`None`: never because of their number).
    pub compact_after_entries: Option<u64>,
    /// Let that number grow with the state, up to this many: compact once the applied entries
    /// since the latest snapshot are as many as it covers (but at least
    /// `compact_after_entries`). A snapshot serializes the whole state, so with a fixed number
    /// each one costs more than the last while a growing one keeps the cost per entry flat;
    /// the cap bounds the log held beside the snapshot. 0: a fixed number.
    pub compact_after_entries_max: u64,
    /// Compact once the entries applied since the latest snapshot take this many bytes in
    /// postcard (`None`: never because of their size). Measuring costs a serialization per
    /// applied entry, hence off by default.
    pub compact_after_bytes: Option<u64>,
    /// Entries kept in memory below a new snapshot, so that a follower slightly behind still
    /// receives entries rather than the whole snapshot. (Storage drops them.)
    pub compact_keep_entries: u64,
    /// Serve linearizable reads from the leader's lease, without a heartbeat round, while it
    /// holds (see `node::reads`). Needs `check_quorum`; ignored without it. Off by default: it
    /// trusts clocks to run at the same rate and a restarted node to keep its lease.
    pub lease_reads: bool,
    /// Snapshot bytes per `InstallSnapshot` message. The default keeps every encoded message
    /// under 64 KiB (the safe size for a WebRTC data channel message) for any configuration of
    /// fewer than 400 members.
    pub snapshot_chunk_bytes: usize,
}

impl Config {
    /// Defaults that suit browser tabs on one machine or a LAN: 150–300 ms election timeouts
    /// (section 9.3 of the paper), heartbeats every 50 ms, PreVote and CheckQuorum on.
    pub fn new(id: NodeId) -> Self {
        Config {
            id,
            election_timeout_min: 150,
            election_timeout_max: 300,
            heartbeat_interval: 50,
            pre_vote: true,
            check_quorum: true,
            max_inflight_appends: 64,
            max_entries_per_append: 256,
            proposal_timeout: 3_000,
            compact_after_entries: Some(4096),
            compact_after_entries_max: 0,
            compact_after_bytes: None,
            compact_keep_entries: 512,
            lease_reads: false,
            snapshot_chunk_bytes: 60 * 1024,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub id: NodeId,
    pub term: Term,
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: LogIndex,
    pub applied: LogIndex,
    pub last_index: LogIndex,
}

/// Why a proposal did not commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalError<J> {
    /// No leader is known: nothing was sent, the proposal certainly did not happen.
    NoLeader,
    /// Dropped: the leader changed and the log moved on to a newer term without the entry, so
    /// it will never commit.
    LeaderChanged,
    /// The method refused the intent; nothing was proposed.
    Rejected(J),
    /// The leader is handing leadership over: nothing was proposed; retry once a leader
    /// (this one or the next) takes proposals again.
    TransferInProgress,
    /// No outcome within `Config::proposal_timeout` (or the request was older than the
    /// deduplication window): it may or may not take effect.
    TimedOut,
}

impl<J: fmt::Display> fmt::Display for ProposalError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLeader => write!(f, "no leader is known; the proposal was not sent"),
            Self::LeaderChanged => {
                write!(f, "the leader changed and the proposal was dropped before committing")
            }
            Self::Rejected(why) => write!(f, "the proposal was rejected: {why}"),
            Self::TransferInProgress => {
                write!(f, "a leadership transfer is in progress; the proposal was not sent")
            }
            Self::TimedOut => write!(f, "the proposal timed out; its outcome is unknown"),
        }
    }
}

#[cfg(feature = "std")]
impl<J: fmt::Debug + fmt::Display> std::error::Error for ProposalError<J> {}

#[derive(Clone, Debug)]
pub enum Event<R: Reducer> {
    /// An entry was applied to the committed state (the commit event for subscribers). No-ops
    /// and retried duplicates change nothing and produce no event.
    Applied { index: LogIndex, request: Option<RequestId>, action: R::Action, output: R::Output },
    /// The outcome of a proposal made at this node. For a retried request, the index and
    /// output are those of the copy that was applied.
    ProposalOutcome {
        request: RequestId,
        result: Result<(LogIndex, R::Output), ProposalError<R::Rejection>>,
    },
    /// This node's role or the leader it knows changed.
    RoleChanged { term: Term, role: Role, leader: Option<NodeId> },
    /// A snapshot from the leader replaced the committed state (and the log up to `index`):
    /// no `Applied` events come for the entries it covers.
    SnapshotInstalled { index: LogIndex, term: Term },
    /// A read made here is linearizable now: `committed_state()` includes everything committed
    /// when it arrived at the leader (its read index, `index`).
    ReadReady { id: ReadId, index: LogIndex },
    /// A read made here failed; it may be retried.
    ReadFailed { id: ReadId, error: ReadError },
    /// The configuration in force changed: an entry at `index` was appended to this node's log,
    /// or a replaced log suffix took one away (then `index` is that of the one back in force).
    MembershipChanged { index: LogIndex, membership: Membership },
}

#[derive(Debug)]
pub enum Output<R: Reducer> {
    /// Make this durable before transmitting any later `Send`.
    Persist(Persist<R::Action>),
    Send(Message<R::Action>),
    Event(Event<R>),
}

/// A Raft node running the state machine `R`. See the crate documentation for how to drive it.
///
/// Methods by role:
/// - creation: [`new`](Self::new), [`bootstrap`](Self::bootstrap), [`restart`](Self::restart)
///   (or [`try_restart`](Self::try_restart));
/// - inputs: [`handle_message`](Self::handle_message), [`handle_timeout`](Self::handle_timeout),
///   [`handle_peer_disconnected`](Self::handle_peer_disconnected), [`propose`](Self::propose),
///   [`read`](Self::read), [`campaign`](Self::campaign);
/// - membership: [`change_membership`](Self::change_membership),
///   [`request_join`](Self::request_join), [`policy_view`](Self::policy_view);
/// - leadership: [`transfer_leadership`](Self::transfer_leadership),
///   [`step_down`](Self::step_down);
/// - storage: [`compact_now`](Self::compact_now);
/// - outputs: [`poll_output`](Self::poll_output) (drain until `None`), then
///   [`poll_timeout`](Self::poll_timeout);
/// - queries: [`committed_state`](Self::committed_state),
///   [`provisional_state`](Self::provisional_state), [`status`](Self::status),
///   [`membership`](Self::membership), [`replication`](Self::replication),
///   [`counters`](Self::counters), [`snapshot_index`](Self::snapshot_index),
///   [`transferring_to`](Self::transferring_to), [`log`](Self::log).
pub struct Node<R: Reducer> {
    config: Config,
    rng: Rng,
    /// The configurations in the log; the latest is in force (quorums are majorities of its
    /// voters), the one at the commit index is committed.
    configs: Configurations,
    /// A node asked to join through this member, and is not a member yet: ask again at each
    /// election timeout.
    join_via: Option<NodeId>,

    // Durable state (section 5, Figure 2) and what of it still has to be emitted.
    term: Term,
    voted_for: Option<NodeId>,
    log: RaftLog<R::Action>,
    /// Term or vote changed since the last `Persist::HardState`.
    hard_state_dirty: bool,
    /// The commit index in the last `Persist::HardState`.
    persisted_commit: LogIndex,

    // Volatile state.
    role: Role,
    leader: Option<NodeId>,
    commit: LogIndex,
    machine: Machine<R>,
    /// The latest snapshot, taken or installed: what a follower too far behind receives.
    snapshot: Option<Snapshot>,
    /// A snapshot being received from the leader.
    incoming: Option<Reassembly>,
    /// Bytes of the entries applied since the latest snapshot (counted only when
    /// `compact_after_bytes` is set).
    applied_bytes: u64,
    /// Votes received in the current (pre-)campaign: `(voter, granted)`.
    votes: Vec<(NodeId, bool)>,
    /// Per other voter, while leader.
    peers: Vec<Progress>,
    /// Scratch space for computing the quorum's match index without allocating.
    match_scratch: Vec<LogIndex>,
    proposals: Proposals<R>,
    /// Linearizable reads: rounds, pending reads, the lease.
    reads: reads::Reads,
    /// Leader: a leadership transfer under way.
    transfer: Option<transfer::Transfer>,

    // Timers, as absolute times in the runtime's milliseconds.
    /// The latest `now` an input brought: for work done in `poll_output`, which has no clock.
    now: Millis,
    /// Followers and candidates: when to campaign.
    election_deadline: Millis,
    /// The election deadline is this node's turn after a disconnect hint, not a timeout.
    waiting_turn: bool,
    /// Leader: when to send the next heartbeats.
    heartbeat_deadline: Millis,
    /// Leader with CheckQuorum: when to check that a majority was heard from.
    quorum_deadline: Millis,
    /// When this node last heard from the leader it follows (for the lease).
    leader_contact: Millis,

    counters: Counters,
    outputs: VecDeque<Output<R>>,
    /// Something changed that `flush` turns into outputs: log entries to persist and replicate,
    /// a commit index to persist and announce.
    needs_flush: bool,
}

impl<R: Reducer> Node<R> {
    /// A node with an empty log. With `voters` (including `config.id`), it is a member of a
    /// cluster created with that fixed configuration on every node. With no voters it has no
    /// configuration: it waits to be added (see [`request_join`](Self::request_join)).
    /// `seed` drives every random choice (election timeouts) of this node.
    pub fn new(config: Config, voters: &[NodeId], seed: u64, now: Millis) -> Self {
        Self::restart(config, voters, DurableState::default(), seed, now)
    }

    /// The first node of a new cluster: it writes a configuration entry naming itself the only
    /// voter (index 1, committed, since it alone decides) and elects itself at once. Exactly
    /// one node may bootstrap a cluster; the others start with [`new`](Self::new) and no voters,
    /// and join. Two bootstrapped clusters must never meet: both hold a different entry 1.
    pub fn bootstrap(config: Config, seed: u64, now: Millis) -> Self {
        let mut node = Self::new(config, &[], seed, now);
        let membership = Membership::with_voters(&[node.config.id]);
        node.term = 1;
        node.hard_state_dirty = true;
        let entry = Entry { term: 1, index: 1, payload: EntryPayload::Membership(membership) };
        node.append_entry(entry);
        node.advance_commit(1);
        node.campaign(now);
        node
    }

    /// A node restarting from what it had persisted: its snapshot, then the log after it.
    /// Committed entries after the snapshot are applied again (and reported as
    /// `Event::Applied`), rebuilding the state machine. Entries that do not continue the log
    /// contiguously are ignored. The configuration comes from the snapshot and the log;
    /// `voters` is the one to assume if they hold none (as given to `new`).
    ///
    /// # Panics
    /// If the stored snapshot does not decode: storage was corrupted.
    /// [`try_restart`](Self::try_restart) reports that as an error instead.
    pub fn restart(
        config: Config,
        voters: &[NodeId],
        durable: DurableState<R::Action>,
        seed: u64,
        now: Millis,
    ) -> Self {
        match Self::try_restart(config, voters, durable, seed, now) {
            Ok(node) => node,
            Err(error) => panic!("cannot restart: {error}"),
        }
    }

    /// [`restart`](Self::restart), reporting a snapshot that does not decode as an error (the
    /// runtime may then wipe its storage and join again).
    pub fn try_restart(
        config: Config,
        voters: &[NodeId],
        durable: DurableState<R::Action>,
        seed: u64,
        now: Millis,
    ) -> Result<Self, RestoreError> {
        let (machine, mut configs, base) = match &durable.snapshot {
            Some(snapshot) => (
                Machine::from_bytes(&snapshot.data, snapshot.index)
                    .map_err(RestoreError::Snapshot)?,
                Configurations::new(snapshot.index, snapshot.membership.clone()),
                (snapshot.index, snapshot.term),
            ),
            None => {
                (Machine::new(), Configurations::new(0, Membership::with_voters(voters)), (0, 0))
            }
        };
        let mut entries = durable.entries;
        entries.retain(|e| e.index > base.0);
        let mut previous = base;
        let contiguous = entries
            .iter()
            .position(|e| {
                let breaks = e.index != previous.0 + 1 || e.term < previous.1;
                previous = (e.index, e.term);
                breaks
            })
            .unwrap_or(entries.len());
        entries.truncate(contiguous);
        let log = RaftLog::from_durable(base.0, base.1, entries);
        for entry in log.entries() {
            if let EntryPayload::Membership(membership) = &entry.payload {
                configs.push(entry.index, membership.clone());
            }
        }
        let commit = durable.commit.max(base.0).min(log.last_index());
        // Entries are written before the hard state, so a crash in between can leave entries
        // of a newer term than the one recorded: the recorded vote is then from an older term
        // and must not count in this one.
        let term = durable.term.max(log.last_term());
        let voted_for = if term == durable.term { durable.voted_for } else { None };
        let mut node = Node {
            rng: Rng::new(seed, config.id),
            config,
            configs,
            join_via: None,
            term,
            voted_for,
            log,
            hard_state_dirty: false,
            persisted_commit: commit,
            role: Role::Follower,
            leader: None,
            commit: base.0,
            machine,
            snapshot: durable.snapshot,
            incoming: None,
            applied_bytes: 0,
            votes: Vec::new(),
            peers: Vec::new(),
            match_scratch: Vec::new(),
            proposals: Proposals::new(),
            reads: reads::Reads::new(),
            transfer: None,
            now,
            election_deadline: 0,
            waiting_turn: false,
            heartbeat_deadline: 0,
            quorum_deadline: 0,
            leader_contact: 0,
            counters: Counters::default(),
            outputs: VecDeque::new(),
            needs_flush: false,
        };
        node.reset_election_timer(now);
        node.advance_commit(commit);
        Ok(node)
    }

    /// Handles one message addressed to this node. Messages for another node, or that make no
    /// sense, are ignored. Messages from nodes outside the configuration are handled: a new
    /// voter or a leader may be in a configuration this node has not received yet (thesis
    /// section 4.1); PreVote and the lease keep removed nodes from disrupting.
    pub fn handle_message(&mut self, now: Millis, message: Message<R::Action>) {
        self.now = self.now.max(now);
        let Message { from, to, term, body } = message;
        if to != self.config.id || from == self.config.id || from == 0 {
            return;
        }
        self.counters.messages_in.count(&body);
        if let MessageBody::JoinRequest { node } = body {
            return self.handle_join_request(now, from, node);
        }
        if !self.reconcile_term(now, from, term, &body) {
            return;
        }
        if self.role == Role::Leader {
            if let Some(peer) = self.peers.iter_mut().find(|p| p.id == from) {
                peer.recently_active = true;
                peer.last_heard = now;
            }
        }
        match body {
            MessageBody::RequestVote { pre_vote, last_index, last_term, .. } => {
                self.handle_request_vote(now, from, term, pre_vote, last_index, last_term)
            }
            MessageBody::VoteResponse { pre_vote, granted } => {
                self.handle_vote_response(now, from, pre_vote, granted)
            }
            MessageBody::Append { prev_index, prev_term, commit, entries } => {
                self.handle_append(now, from, prev_index, prev_term, commit, entries)
            }
            MessageBody::AppendAccepted { match_index } => {
                self.handle_append_accepted(from, match_index)
            }
            MessageBody::AppendRejected { rejected_index, hint_index, hint_term } => {
                self.handle_append_rejected(from, rejected_index, hint_index, hint_term)
            }
            MessageBody::Heartbeat { commit, round } => {
                self.handle_heartbeat(now, from, commit, round)
            }
            MessageBody::HeartbeatResponse { round } => self.handle_heartbeat_response(from, round),
            MessageBody::ReadIndex { id } => self.handle_read_index(from, id),
            MessageBody::ReadIndexResponse { id, index } => {
                self.handle_read_index_response(from, id, index)
            }
            MessageBody::Propose { request, action } => {
                self.handle_propose(from, term, request, action)
            }
            MessageBody::ProposeRejected { request } => self.handle_propose_rejected(request),
            MessageBody::InstallSnapshot { index, term, membership, offset, total, data } => {
                let snapshot = (index, term, membership);
                self.handle_install_snapshot(now, from, snapshot, offset, total, data)
            }
            MessageBody::SnapshotAck { index, received, resend } => {
                self.handle_snapshot_ack(from, index, received, resend)
            }
            MessageBody::TimeoutNow { conditional_vote } => {
                self.handle_timeout_now(now, from, conditional_vote)
            }
            MessageBody::JoinRequest { .. } => {}
        }
    }

    /// Fires every timer due at `now`. Call when `now >= poll_timeout()`; an early call does
    /// nothing harmful.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.now = self.now.max(now);
        if self.role == Role::Leader {
            if self.config.check_quorum && now >= self.quorum_deadline {
                self.check_quorum(now);
            }
            if self.role == Role::Leader && now >= self.heartbeat_deadline {
                self.broadcast_heartbeats();
                self.heartbeat_deadline = now.saturating_add(self.config.heartbeat_interval);
            }
            self.expire_transfer(now);
        } else if now >= self.election_deadline {
            self.retry_join();
            self.campaign(now);
        }
        self.expire_proposals(now);
        self.expire_reads(now);
    }

    /// The next output, or `None` when there is nothing more to do for now. Drain it after
    /// every input, in order: a `Persist` must be durable before any later `Send` goes out.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<R>> {
        if self.outputs.is_empty() && self.needs_flush {
            self.flush();
        }
        self.outputs.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) next (an absolute time).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        let role_timer = match self.role {
            Role::Leader if self.config.check_quorum => {
                self.heartbeat_deadline.min(self.quorum_deadline)
            }
            Role::Leader => self.heartbeat_deadline,
            _ => self.election_deadline,
        };
        let role_timer = self.transfer.as_ref().map_or(role_timer, |t| t.deadline.min(role_timer));
        let deadlines = [self.proposals.next_deadline(), self.reads.next_deadline()];
        Some(deadlines.into_iter().flatten().fold(role_timer, Millis::min))
    }

    /// The state after every committed entry was applied. A leader that alone is a majority
    /// commits its entries once their write is queued, not once it is done: until the outputs
    /// before this call are performed, a crash can take such commits back (events, which leave
    /// after the writes, never report them early).
    pub fn committed_state(&self) -> &R::State {
        &self.machine.state
    }

    pub fn status(&self) -> Status {
        Status {
            id: self.config.id,
            term: self.term,
            role: self.role,
            leader: self.leader,
            commit: self.commit,
            applied: self.machine.applied,
            last_index: self.log.last_index(),
        }
    }

    /// The configuration in force (the latest in the log, committed or not).
    pub fn membership(&self) -> &Membership {
        self.configs.latest()
    }

    /// The log entries this node holds in memory.
    pub fn log(&self) -> &[Entry<R::Action>] {
        self.log.entries()
    }

    /// Running totals: messages by kind, elections, proposals, snapshots.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The index of the latest snapshot, taken or installed (0 if none): the log before it is
    /// gone.
    pub fn snapshot_index(&self) -> LogIndex {
        self.snapshot.as_ref().map_or(0, |s| s.index)
    }

    /// Leader: the node a leadership transfer under way hands over to.
    pub fn transferring_to(&self) -> Option<NodeId> {
        self.transfer.as_ref().map(|t| t.target)
    }

    /// Per other member while leader: `(id, match index, next index, replication state)`.
    pub fn replication(
        &self,
    ) -> impl Iterator<Item = (NodeId, LogIndex, LogIndex, ReplicationState)> + '_ {
        self.peers.iter().map(|p| (p.id, p.match_index, p.next_index, p.state))
    }

    fn quorum(&self) -> usize {
        self.configs.latest().quorum()
    }

    fn is_voter(&self) -> bool {
        self.configs.latest().is_voter(self.config.id)
    }

    /// Whether this node may start an election: it votes in the configuration in force, or it
    /// voted in the committed one and its removal has not committed yet. The second case is the
    /// leader that removed itself and lost leadership before the removal committed: the others
    /// may lack the removal entry, so none of them can win without its vote, and it alone can
    /// finish the change (it counts only the votes of the configuration in force, as any
    /// candidate does, then steps down once the removal commits).
    fn may_campaign(&self) -> bool {
        self.is_voter() || self.configs.at(self.commit).is_voter(self.config.id)
    }

    /// Queues a message. Every durable change not yet emitted is emitted first: this is the one
    /// place the durability rule is enforced, so no vote, acknowledgement or term can leave
    /// before the write it depends on.
    fn send(&mut self, to: NodeId, term: Term, body: MessageBody<R::Action>) {
        self.emit_persist();
        self.counters.messages_out.count(&body);
        let message = Message { from: self.config.id, to, term, body };
        self.outputs.push_back(Output::Send(message));
    }

    fn emit(&mut self, event: Event<R>) {
        self.outputs.push_back(Output::Event(event));
    }

    /// Emits every durable change not yet handed out, entries first: the commit index in a hard
    /// state must only ever cover entries already written, or a crash between the two writes
    /// would leave a disk claiming that stale entries it still holds are committed. (A crash the
    /// other way round leaves entries newer than the recorded term; `restart` handles that.)
    fn emit_persist(&mut self) {
        self.emit_log_writes();
        self.emit_hard_state();
    }

    fn emit_log_writes(&mut self) {
        if let Some(entries) = self.log.take_unpersisted() {
            self.outputs.push_back(Output::Persist(Persist::Entries { entries }));
        }
    }

    fn emit_hard_state(&mut self) {
        if self.hard_state_dirty || self.commit > self.persisted_commit {
            let (term, voted_for, commit) = (self.term, self.voted_for, self.commit);
            self.outputs.push_back(Output::Persist(Persist::HardState { term, voted_for, commit }));
            self.hard_state_dirty = false;
            self.persisted_commit = commit;
        }
    }

    /// Turns accumulated changes into outputs. Deferring this to `poll_output` is what batches
    /// every proposal made between two polls into one durable write and one append per follower.
    fn flush(&mut self) {
        self.emit_log_writes();
        if self.role == Role::Leader {
            // The leader's own entries count towards a quorum once emitted for persisting; in a
            // one-node cluster that alone commits them.
            self.maybe_commit();
        }
        self.emit_hard_state();
        if self.role == Role::Leader {
            for i in 0..self.peers.len() {
                self.replicate_to(i);
            }
            self.start_wanted_round();
            // Now that followers have the latest commit index, a leader that committed its own
            // removal hands over (thesis section 4.2.2).
            if !self.is_voter() && self.configs.latest_index() <= self.commit {
                self.hand_over();
            }
        }
        self.needs_flush = false;
    }
}
