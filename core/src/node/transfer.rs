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
