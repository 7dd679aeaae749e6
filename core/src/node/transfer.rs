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
//! milliseconds. [`Node::hand_off`] does what it can in one breath: if the voter it names already
//! has the whole log, it tells it to campaign now and, in the same batch, grants it its vote for
//! that election (the next term). That is an ordinary vote, only given before it was
//! asked for: the leader moves to the next term, records the vote durably before sending it
//! (the runtime persists before it sends), and can vote for no one else in that term; the
//! target's log is at least as up to date as its own, which is all the election restriction
//! asks (section 5.4.1). With three voters the target then holds a majority as soon as the
//! batch arrives: a new leader with no round trip at all.
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
    /// Handing off at once needs a voter with the whole log; this one is behind.
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
            Self::Behind(id) => write!(f, "node {id} does not have the whole log"),
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

    /// The leader is about to stop for good: hands leadership to `target`, another voter, at
    /// once and votes for it in the election it asks it to start (see the module documentation),
    /// then follows no one in that term. Fails, changing nothing, unless this node leads and
    /// `target` has the whole log (then the others' election timeouts, or the runtime's failure
    /// hints, elect the next leader as for a crash). The runtime names the target: it knows
    /// which tab is likely to answer first.
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
        if self.match_of(target) < self.log.last_index() {
            return Err(TransferError::Behind(target));
        }
        self.send(target, self.term, MessageBody::TimeoutNow);
        let next = self.term + 1;
        self.become_follower(now, next, None);
        self.voted_for = Some(target);
        self.hard_state_dirty = true;
        self.send(target, next, MessageBody::VoteResponse { pre_vote: false, granted: true });
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
            self.send(target, self.term, MessageBody::TimeoutNow);
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
                self.send(target, self.term, MessageBody::TimeoutNow);
            }
        }
        self.become_follower(self.now, self.term, None);
    }

    /// The leader asks this node to campaign now.
    pub(super) fn handle_timeout_now(&mut self, now: Millis, from: NodeId) {
        let can_campaign = self.term < Term::MAX && self.may_campaign();
        if self.role != Role::Leader && self.leader == Some(from) && can_campaign {
            self.start_election(now, true);
        }
    }
}
