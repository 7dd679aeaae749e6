//! Linearizable reads without writing to the log: ReadIndex (thesis section 6.4).
//!
//! A read made at the leader records the commit index as its *read index* (its last index when a
//! follower may know of commits before it does: see `replication`), then waits until the
//! leader has confirmed that it was still leader after the read arrived: a majority of the
//! voters answered a heartbeat round started after it. Heartbeats carry a round number and
//! answers echo it, so one round confirms every read that arrived before it, however many. Once
//! the state machine has applied the read index, the read is served: `Event::ReadReady`, and the
//! application reads `committed_state()`. A new leader may not know the latest commit index yet,
//! so reads wait until it has committed an entry of its own term (its no-op).
//!
//! A read made at a follower asks the leader for a read index (`ReadIndex`), then waits until it
//! has applied that far itself.
//!
//! With `Config::lease_reads` (and CheckQuorum, which the lease rests on), the leader serves reads
//! without a round while its lease holds: a majority answered a round sent less than the minimum
//! election timeout ago, and none of them votes for anyone else until that timeout has passed
//! since they heard from it. This trusts clocks to run at the same rate and nodes to keep their
//! lease across restarts, which is why it is off by default; it is never used during a
//! leadership transfer, which deliberately cuts the leases short.
use super::{Event, Node, Role};
use crate::message::ReadId;
use crate::vec_map::VecMap;
use crate::{LogIndex, MessageBody, Millis, NodeId, Reducer};
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;

/// Why a read failed. It was not served; the caller may retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No leader is known: nothing was asked.
    NoLeader,
    /// The leader lost leadership (or the leader changed) before it confirmed the read.
    LeaderChanged,
    /// No answer within `Config::proposal_timeout`.
    TimedOut,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoLeader => write!(f, "no leader is known; the read was not sent"),
            Self::LeaderChanged => write!(f, "the leader changed before it confirmed the read"),
            Self::TimedOut => write!(f, "the read timed out"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ReadError {}

/// A read the leader confirms with a heartbeat round.
struct Confirming {
    /// The round whose answers by a majority confirm it.
    round: u64,
    /// Who asked (this node, or a follower to answer).
    from: NodeId,
    id: ReadId,
    index: LogIndex,
}

pub(super) struct Reads {
    /// Leader: the latest heartbeat round sent, and the latest a majority answered. While a
    /// round is unanswered, reads wait for it to end rather than start one each: under load
    /// that is one round per round trip, whatever the number of reads.
    pub(super) round: u64,
    confirmed: u64,
    /// Leader: rounds not yet confirmed, with when they were sent (for the lease).
    sent_at: VecDeque<(u64, Millis)>,
    /// Leader: a read waits for a round not sent yet.
    round_wanted: bool,
    /// Leader: reads waiting for their round, in round order.
    confirming: VecDeque<Confirming>,
    /// Leader: reads that arrived before it committed an entry of its term.
    before_term_commit: Vec<(NodeId, ReadId)>,
    /// Leader: until when the lease lets it answer reads at once.
    lease_until: Millis,
    /// Reads made at this node and not answered yet, with their deadline; `deadlines` holds the
    /// same in deadline order (the timeout is fixed and time never goes back).
    mine: VecMap<ReadId, Millis>,
    deadlines: VecDeque<(Millis, ReadId)>,
    /// Reads of this node with a known read index, waiting for apply, sorted by index.
    ready: VecDeque<(LogIndex, ReadId)>,
    /// Follower: reads sent to this leader, waiting for its answer.
    asked: Vec<(ReadId, NodeId)>,
    /// Scratch for the quorum's round.
    scratch: Vec<u64>,
}

impl Reads {
    pub(super) fn new() -> Self {
        Reads {
            round: 0,
            confirmed: 0,
            sent_at: VecDeque::new(),
            round_wanted: false,
            confirming: VecDeque::new(),
            before_term_commit: Vec::new(),
            lease_until: 0,
            mine: VecMap::new(),
            deadlines: VecDeque::new(),
            ready: VecDeque::new(),
            asked: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.front().map(|&(deadline, _)| deadline)
    }
}

/// Rounds kept for the lease: older unconfirmed ones are forgotten (a leader that hears from
/// nobody for that long has no lease to extend anyway).
const MAX_ROUNDS_KEPT: usize = 64;

impl<R: Reducer> Node<R> {
    /// Starts a linearizable read: `Event::ReadReady { id, index }` follows once this node has
    /// applied everything committed when the read arrived at the leader, and `committed_state()`
    /// may then be read; or `Event::ReadFailed`. Fails at once only if no leader is known.
    /// Asking again with an id still pending does nothing more.
    pub fn read(&mut self, now: Millis, id: ReadId) -> Result<(), ReadError> {
        self.now = self.now.max(now);
        let Some(leader) = self.leader else { return Err(ReadError::NoLeader) };
        if self.reads.mine.contains_key(&id) {
            return Ok(());
        }
        let deadline = now.saturating_add(self.config.proposal_timeout);
        self.reads.mine.insert(id, deadline);
        self.reads.deadlines.push_back((deadline, id));
        if leader == self.config.id {
            self.leader_read(self.config.id, id);
        } else {
            self.reads.asked.push((id, leader));
            self.send(leader, self.term, MessageBody::ReadIndex { id });
        }
        Ok(())
    }

    /// Leader: a read from `from` (this node or a follower).
    fn leader_read(&mut self, from: NodeId, id: ReadId) {
        if self.log.term_at(self.commit) != Some(self.term) {
            self.reads.before_term_commit.push((from, id));
            return;
        }
        // A follower that completes a quorum with this leader may have applied (and answered
        // its proposer for) entries this leader does not know are committed yet (see
        // `replication`), under any configuration in force since the commit index: the read
        // must see them too, so it waits for everything sent.
        let me = self.config.id;
        let inferring = (self.configs.in_force_from(self.commit))
            .any(|config| config.voters().iter().any(|&voter| config.is_quorum_pair(me, voter)));
        let index = if inferring { self.log.last_index() } else { self.commit };
        let lease = self.config.lease_reads && self.config.check_quorum && !self.transferring();
        if lease && self.now < self.reads.lease_until {
            return self.read_confirmed(from, id, index);
        }
        let round = self.reads.round + 1;
        self.reads.confirming.push_back(Confirming { round, from, id, index });
        self.reads.round_wanted = true;
        self.needs_flush = true;
    }

    pub(super) fn handle_read_index(&mut self, from: NodeId, id: ReadId) {
        if self.role == Role::Leader {
            self.leader_read(from, id);
        } else {
            self.send(from, self.term, MessageBody::ReadIndexResponse { id, index: None });
        }
    }

    pub(super) fn handle_read_index_response(
        &mut self,
        from: NodeId,
        id: ReadId,
        index: Option<LogIndex>,
    ) {
        let Some(at) = self.reads.asked.iter().position(|&(a, leader)| a == id && leader == from)
        else {
            return;
        };
        self.reads.asked.swap_remove(at);
        match index {
            Some(index) => self.read_index_known(id, index),
            None => self.fail_read(id, ReadError::LeaderChanged),
        }
    }

    /// The read index of a read is known: serve it once applied.
    fn read_confirmed(&mut self, from: NodeId, id: ReadId, index: LogIndex) {
        if from == self.config.id {
            self.read_index_known(id, index);
        } else {
            // The follower serves the read once it has applied `index`: tell it the commit.
            if let Some(peer) = self.peers.iter_mut().find(|p| p.id == from) {
                peer.commit_wanted = peer.commit_wanted.max(index);
                self.needs_flush = true;
            }
            self.send(from, self.term, MessageBody::ReadIndexResponse { id, index: Some(index) });
        }
    }

    fn read_index_known(&mut self, id: ReadId, index: LogIndex) {
        let ready = &mut self.reads.ready;
        let at = ready.partition_point(|&(i, _)| i <= index);
        ready.insert(at, (index, id));
        self.serve_reads();
    }

    /// Serves the reads whose index has been applied.
    pub(super) fn serve_reads(&mut self) {
        while let Some(&(index, id)) = self.reads.ready.front() {
            if index > self.machine.applied {
                break;
            }
            self.reads.ready.pop_front();
            if self.reads.mine.remove(&id).is_some() {
                self.emit(Event::ReadReady { id, index });
            }
        }
    }

    fn fail_read(&mut self, id: ReadId, error: ReadError) {
        if self.reads.mine.remove(&id).is_some() {
            self.emit(Event::ReadFailed { id, error });
        }
    }

    /// Leader: starts a heartbeat round if a read waits for one (at flush, so that every read
    /// made since the last poll shares it).
    pub(super) fn start_wanted_round(&mut self) {
        if self.reads.round_wanted && self.reads.confirmed >= self.reads.round {
            self.broadcast_heartbeats();
            self.heartbeat_deadline = self.now.saturating_add(self.config.heartbeat_interval);
        }
    }

    /// Leader: a new heartbeat round; returns its number.
    pub(super) fn next_round(&mut self) -> u64 {
        let reads = &mut self.reads;
        reads.round += 1;
        reads.round_wanted = false;
        if reads.sent_at.len() == MAX_ROUNDS_KEPT {
            reads.sent_at.pop_front();
        }
        reads.sent_at.push_back((reads.round, self.now));
        reads.round
    }

    /// Leader: the latest round a majority of the voters answered (this node answers its own
    /// rounds at once), then every read and lease it confirms.
    pub(super) fn confirm_reads(&mut self) {
        let config = self.configs.latest();
        let scratch = &mut self.reads.scratch;
        scratch.clear();
        if config.is_voter(self.config.id) {
            scratch.push(self.reads.round);
        }
        scratch.extend(self.peers.iter().filter(|p| config.is_voter(p.id)).map(|p| p.round_acked));
        let quorum = config.quorum();
        if scratch.len() < quorum {
            return;
        }
        // The quorum-th highest round. A sort, not `select_nth_unstable`: a handful of voters,
        // and the web app ships one sort of `u64`s (membership's) instead of another algorithm.
        scratch.sort_unstable();
        let confirmed = scratch[scratch.len() - quorum];
        self.reads.confirmed = self.reads.confirmed.max(confirmed);
        // Reads that arrived during that round wait for the next one, which may start now.
        self.needs_flush |= self.reads.round_wanted;
        while let Some(&(round, sent)) = self.reads.sent_at.front() {
            if round > confirmed {
                break;
            }
            self.reads.sent_at.pop_front();
            let until = sent.saturating_add(self.config.election_timeout_min);
            self.reads.lease_until = self.reads.lease_until.max(until);
        }
        while self.reads.confirming.front().is_some_and(|r| r.round <= confirmed) {
            let Some(read) = self.reads.confirming.pop_front() else { break };
            self.read_confirmed(read.from, read.id, read.index);
        }
    }

    /// Leader: it just committed an entry of its term: reads that waited for that go ahead.
    pub(super) fn release_reads_waiting_for_term(&mut self) {
        if self.reads.before_term_commit.is_empty()
            || self.log.term_at(self.commit) != Some(self.term)
        {
            return;
        }
        for (from, id) in core::mem::take(&mut self.reads.before_term_commit) {
            self.leader_read(from, id);
        }
    }

    /// Leader stepping down: reads it has not confirmed fail (and followers that asked are told).
    pub(super) fn drop_unconfirmed_reads(&mut self) {
        let confirming = core::mem::take(&mut self.reads.confirming);
        let waiting = core::mem::take(&mut self.reads.before_term_commit);
        let unconfirmed = confirming.into_iter().map(|r| (r.from, r.id)).chain(waiting);
        for (from, id) in unconfirmed.collect::<Vec<_>>() {
            if from == self.config.id {
                self.fail_read(id, ReadError::LeaderChanged);
            } else {
                self.send(from, self.term, MessageBody::ReadIndexResponse { id, index: None });
            }
        }
        self.reads.sent_at.clear();
        self.reads.round_wanted = false;
        self.reads.confirmed = self.reads.round;
        self.reads.lease_until = 0;
    }

    /// Follower: the leader it asked is no longer the one it knows: those reads fail.
    pub(super) fn drop_reads_asked_elsewhere(&mut self) {
        let leader = self.leader;
        let (stale, kept): (Vec<_>, Vec<_>) =
            self.reads.asked.iter().partition(|&&(_, asked)| Some(asked) != leader);
        self.reads.asked = kept;
        for (id, _) in stale {
            self.fail_read(id, ReadError::LeaderChanged);
        }
    }

    pub(super) fn expire_reads(&mut self, now: Millis) {
        while let Some(&(deadline, id)) = self.reads.deadlines.front() {
            if deadline > now {
                break;
            }
            self.reads.deadlines.pop_front();
            // The same id may have been asked again since, with a later deadline.
            if self.reads.mine.get(&id).is_some_and(|&d| d <= now) {
                self.reads.asked.retain(|&(asked, _)| asked != id);
                self.fail_read(id, ReadError::TimedOut);
            }
        }
    }
}
