//! Leadership transfer (thesis section 3.10): the leader brings a chosen voter's log up to date,
//! then tells it to campaign at once (`TimeoutNow`). The target skips PreVote, and its vote
//! requests carry a flag that lets voters ignore their lease: the leader itself asked for this
//! election, so nobody is being disrupted.
//!
//! While a transfer is under way the leader takes no new proposals: its own are refused with
//! [`ProposalError::TransferInProgress`](crate::ProposalError::TransferInProgress) (nothing is
//! appended, so the caller may simply retry), and forwarded ones are answered as by a node that
//! is not the leader, so their proposers wait for the next leader and forward them there.
//! Keeping the log still is what lets the target catch up, and an entry appended meanwhile
//! could be lost with the old leader's term. Membership changes wait too. If the target has not
//! taken over within the maximum election timeout, the transfer is abandoned and the leader goes
//! on as before.
//!
//! # Handing off on the way out
//! A leader about to stop for good (its tab is closing) cannot wait for a target to catch up,
//! and will not answer vote requests either, so with three voters its successor would need the
//! one other voter's answer, a round trip that a busy machine can stretch to hundreds of
//! milliseconds. [`Node::hand_off`] does it all in one breath, to the voter it names: it sends
//! the entries that voter lacks (one append from its next index, whatever the flow control:
//! the appends in flight before it cover the rest, and a voter further behind than one full
//! append simply does not get the vote counted), then `TimeoutNow` carrying this leader's vote
//! for the election it asks for (the next term), and stops leading. With three voters the
//! target then holds a majority as soon as the batch arrives: a new leader with no round trip.
//!
//! The vote is conditional: it names the leader's last index `i` (its last entry is of its own
//! term `T`, the no-op at least), and the target counts it only if, as it starts campaigning,
//! its own log is at least as up to date as `(i, T)`. That is the election restriction
//! (section 5.4.1) checked by the candidate instead of the voter, against the voter's log as it
//! was when it voted; it is safe for these reasons:
//! - The leader moves to term `T + 1` and records its vote for the target before the message
//!   leaves (the runtime persists before it sends), so it votes for nobody else in that term,
//!   and it takes no proposals any more. The condition is its log as it voted: that log holds
//!   every entry committed in terms up to `T` (Leader Completeness for `T`; an entry of `T` is
//!   one it wrote).
//! - The target checks as it moves from `T` to `T + 1`, counts the vote in that election only
//!   (the one the leader voted in), and never after: a message from `T` that comes late is stale
//!   (a duplicate, or a `TimeoutNow` overtaken by another election). So the check sees the
//!   target's log at the moment the vote is used.
//! - A log at least as up to date as `(i, T)` ends with an entry of term `T` at index `i` or
//!   later; only this leader wrote entries of `T`, and it wrote none past `i`, so that entry is
//!   its entry `i`, and by Log Matching the target's log holds the leader's whole log. So the
//!   usual argument for Leader Completeness of `T + 1` goes through: every voter of the winning
//!   majority, this leader included, voted with a log no more up to date than the new leader's.
//! - If the append was lost, reordered after `TimeoutNow`, rejected (the logs differed before
//!   the next index) or too short (the voter was more than a full append behind), the check
//!   fails and the vote is simply not counted: the target campaigns as after any `TimeoutNow`,
//!   and the other voters' ordinary votes (which apply the restriction themselves) decide.
//!   Everything the condition needs travels in the one message, so no ordering between a vote
//!   and a `TimeoutNow` matters.
//! - Only a voter of the target's latest configuration counts (as for any vote); when the
//!   check passes, the target's log, and so its configuration, is the leader's, the same one
//!   the leader picked the target from. A target that needs the snapshot cannot take an append
//!   from the leader's log: the hand-off fails, the leader still leading, and the followers'
//!   election timeouts or the runtime's failure hints elect the next leader as after a crash.
//! - PreVote and CheckQuorum: the target skips PreVote and asks with the transfer flag, as after
//!   any `TimeoutNow`, so the third voter answers despite its lease and follows the new leader
//!   when it hears from it.
use super::{Node, Role};
use crate::{LogIndex, MessageBody, Millis, NodeId, Reducer, Term};
use core::fmt;

/// A transfer under way.
pub(super) struct Transfer {
    pub(super) target: NodeId,
    /// When to give up.
    pub(super) deadline: Millis,
}

/// Why a leadership transfer could not start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransferError {
    /// Only the leader hands leadership over; this is the leader it knows, if any.
    NotLeader { leader: Option<NodeId> },
    /// The target does not vote in the configuration in force, so it cannot be elected.
    NotAVoter(NodeId),
    /// Stepping down needs another voter to take over.
    NoOtherVoter,
    /// Handing off at once needs a voter the leader can send entries to; this one needs the
    /// snapshot.
    Behind(NodeId),
}

impl fmt::Display for TransferError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLeader { leader: Some(leader) } => {
                write!(f, "not the leader; node {leader} is")
            }
            Self::NotLeader { leader: None } => write!(f, "not the leader, and no leader is known"),
            Self::NotAVoter(id) => write!(f, "node {id} is not a voter"),
            Self::NoOtherVoter => write!(f, "no other voter can take over"),
            Self::Behind(id) => write!(f, "node {id} needs the snapshot"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for TransferError {}

impl<R: Reducer> Node<R> {
    /// Hands leadership to `target`, a voter: once its log matches the leader's, it is told to
    /// campaign at once. Proposals here are refused until the transfer ends (`RoleChanged`
    /// reports the new leader), or until it is abandoned after the maximum election timeout.
    /// A transfer to this node itself, the leader, has nothing to do; a new transfer replaces
    /// one under way.
    pub fn transfer_leadership(
        &mut self,
        now: Millis,
        target: NodeId,
    ) -> Result<(), TransferError> {
        self.now = self.now.max(now);
        if self.role != Role::Leader {
            return Err(TransferError::NotLeader { leader: self.leader });
        }
        if target == self.config.id {
            self.transfer = None;
            return Ok(());
        }
        if !self.configs.latest().is_voter(target) {
            return Err(TransferError::NotAVoter(target));
        }
        let deadline = now.saturating_add(self.config.election_timeout_max);
        self.transfer = Some(Transfer { target, deadline });
        self.send_timeout_now_if_ready();
        self.needs_flush = true;
        Ok(())
    }

    /// Steps down in favour of the most up-to-date other voter (see
    /// [`transfer_leadership`](Self::transfer_leadership)); returns which one.
    pub fn step_down(&mut self, now: Millis) -> Result<NodeId, TransferError> {
        if self.role != Role::Leader {
            return Err(TransferError::NotLeader { leader: self.leader });
        }
        let target = self.best_successor().ok_or(TransferError::NoOtherVoter)?;
        self.transfer_leadership(now, target)?;
        Ok(target)
    }

    /// The leader is about to stop for good: sends `target`, another voter, the entries it
    /// lacks and tells it to campaign at once, with this node's vote for that election on the
    /// condition that its log then holds them all (see the module documentation); then follows
    /// no one in that term. Fails, still leading, unless this node leads and can send `target`
    /// entries (not a snapshot, which it then starts sending as it would anyway); then the
    /// others' election timeouts, or the runtime's failure hints, elect the next leader as for
    /// a crash. The runtime names the target: it knows which tab is likely to answer first.
    pub fn hand_off(&mut self, now: Millis, target: NodeId) -> Result<(), TransferError> {
        self.now = self.now.max(now);
        if self.role != Role::Leader || self.term == Term::MAX {
            return Err(TransferError::NotLeader { leader: self.leader });
        }
        if target == self.config.id {
            return Err(TransferError::NoOtherVoter);
        }
        if !self.configs.latest().is_voter(target) {
            return Err(TransferError::NotAVoter(target));
        }
        let Some(peer) = self.peers.iter().position(|p| p.id == target) else {
            return Err(TransferError::Behind(target));
        };
        let last_index = self.log.last_index();
        // One append at most: whatever it leaves out, the vote does not count for.
        if self.peers[peer].next_index <= last_index && !self.send_append(peer) {
            return Err(TransferError::Behind(target));
        }
        let term = self.term;
        self.become_follower(now, term + 1, None);
        self.voted_for = Some(target);
        self.hard_state_dirty = true;
        // Sent after the vote is recorded: `send` has it written first.
        let vote = MessageBody::TimeoutNow { conditional_vote: Some(last_index) };
        self.send(target, term, vote);
        Ok(())
    }

    /// The other voter with the longest matching log (the lowest id among equals).
    fn best_successor(&self) -> Option<NodeId> {
        let config = self.configs.latest();
        self.peers
            .iter()
            .filter(|p| config.is_voter(p.id))
            .max_by_key(|p| (p.match_index, core::cmp::Reverse(p.id)))
            .map(|p| p.id)
    }

    /// Whether a transfer is under way (proposals and membership changes wait).
    pub(super) fn transferring(&self) -> bool {
        self.transfer.is_some()
    }

    /// Sends `TimeoutNow` to the transfer's target if its log has caught up.
    pub(super) fn send_timeout_now_if_ready(&mut self) {
        let Some(target) = self.transfer.as_ref().map(|t| t.target) else { return };
        if self.match_of(target) >= self.log.last_index() {
            self.send(target, self.term, MessageBody::TimeoutNow { conditional_vote: None });
        }
    }

    fn match_of(&self, id: NodeId) -> LogIndex {
        self.peers.iter().find(|p| p.id == id).map_or(0, |p| p.match_index)
    }

    /// Abandons a transfer whose time is up.
    pub(super) fn expire_transfer(&mut self, now: Millis) {
        if self.transfer.as_ref().is_some_and(|t| now >= t.deadline) {
            self.transfer = None;
        }
    }

    /// A leader that committed its own removal hands over to the best voter, if that one is
    /// up to date (otherwise the others' election timeouts will do), and steps down.
    pub(super) fn hand_over(&mut self) {
        if let Some(target) = self.best_successor() {
            if self.match_of(target) >= self.log.last_index() {
                self.send(target, self.term, MessageBody::TimeoutNow { conditional_vote: None });
            }
        }
        self.become_follower(self.now, self.term, None);
    }

    /// The leader asks this node to campaign now, perhaps with its vote for that election,
    /// which counts only if this log holds the leader's, ending at `conditional_vote` in this
    /// term (see the module documentation).
    pub(super) fn handle_timeout_now(
        &mut self,
        now: Millis,
        from: NodeId,
        conditional_vote: Option<LogIndex>,
    ) {
        let can_campaign = self.term < Term::MAX && self.may_campaign();
        if self.role != Role::Leader && self.leader == Some(from) && can_campaign {
            let last = (self.log.last_term(), self.log.last_index());
            let counts = |&index: &LogIndex| last >= (self.term, index);
            let counts =
                conditional_vote.filter(counts).is_some() && self.configs.latest().is_voter(from);
            self.start_election(now, true, counts.then_some(from));
        }
    }
}
