//! Cluster membership: who votes, who only listens, and how that changes one server at a time.
//!
//! # Single-server changes, not joint consensus
//!
//! A configuration is a set of voters (they elect leaders and make up quorums) and a set of
//! learners (they receive the log and never vote). It changes by one server at a time, as in
//! chapter 4 of Ongaro's thesis: add a learner, promote a learner to voter, or remove a member.
//! Adding or removing one voter changes the voter set by one, so every majority of the old set
//! overlaps every majority of the new one, and no moment exists when two leaders could be elected
//! by disjoint quorums. Joint consensus (section 4.3) allows arbitrary changes in one step, at the
//! price of two configurations in force at once, a second log entry per change and quorums
//! counted twice. Browser tabs join and leave one at a time, so one-at-a-time changes are all the
//! fleet needs, and the simpler rule is the one that stays correct.
//!
//! Two rules from the thesis make single-server changes safe:
//! - A configuration takes effect on a node as soon as its entry is in the node's log, committed
//!   or not, and a node whose log loses the entry (a conflicting suffix replaced) goes back to the
//!   configuration before it.
//! - A leader starts a change only once the previous change has committed, and only once it has
//!   committed an entry of its own term. The second rule is the fix Ongaro published in 2015: a
//!   new leader might otherwise append a change on top of a configuration that an earlier leader
//!   had appended but not committed, and two overlapping single-server steps can add up to a
//!   change of two servers.
//!
//! Learners are how a node joins: it catches up as a learner (by snapshot and log) without
//! weakening any quorum, and [`policy`] promotes it once it has. Configurations are replicated
//! state: they travel in log entries (`EntryPayload::Membership`) and snapshots, so a restart
//! recovers them from what was persisted.
pub mod policy;

use crate::{LogIndex, NodeId};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// One configuration: voters and learners, each list sorted and the two disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    voters: Vec<NodeId>,
    learners: Vec<NodeId>,
}

/// One single-server step from one configuration to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change {
    /// A node that is not a member starts receiving the log, without a vote.
    AddLearner(NodeId),
    /// A learner becomes a voter.
    Promote(NodeId),
    /// A voter or a learner leaves.
    Remove(NodeId),
}

impl Change {
    /// The node the change is about.
    pub fn node(self) -> NodeId {
        match self {
            Change::AddLearner(id) | Change::Promote(id) | Change::Remove(id) => id,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::AddLearner(id) => write!(f, "add {id} as a learner"),
            Change::Promote(id) => write!(f, "promote {id} to voter"),
            Change::Remove(id) => write!(f, "remove {id}"),
        }
    }
}

/// Why a membership change was refused. Nothing was appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MembershipError {
    /// Only the leader changes the configuration; this is the leader it knows, if any.
    NotLeader { leader: Option<NodeId> },
    /// The change appended at `index` has not committed yet: one change at a time.
    ChangeInProgress { index: LogIndex },
    /// This leader has not yet committed an entry of its own term (the thesis' 2015 fix).
    TermNotCommitted,
    /// A leadership transfer is under way; changes wait until it ends.
    TransferInProgress,
    /// The node is already a member (voter or learner).
    AlreadyMember(NodeId),
    /// The node is not a member.
    NotAMember(NodeId),
    /// The node is not a learner, so it cannot be promoted.
    NotALearner(NodeId),
    /// The learner is too far behind the leader's log to vote without stalling commits.
    LearnerBehind { id: NodeId, match_index: LogIndex, last_index: LogIndex },
    /// Removing the last voter would leave nobody to elect a leader.
    LastVoter(NodeId),
    /// 0 is not a node id (it means "none" on the wire).
    InvalidId,
}

impl fmt::Display for MembershipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLeader { leader: Some(leader) } => {
                write!(f, "not the leader; node {leader} is")
            }
            Self::NotLeader { leader: None } => write!(f, "not the leader, and no leader is known"),
            Self::ChangeInProgress { index } => {
                write!(f, "the membership change at index {index} has not committed yet")
            }
            Self::TermNotCommitted => {
                write!(f, "the leader has not yet committed an entry of its term")
            }
            Self::TransferInProgress => write!(f, "a leadership transfer is in progress"),
            Self::AlreadyMember(id) => write!(f, "node {id} is already a member"),
            Self::NotAMember(id) => write!(f, "node {id} is not a member"),
            Self::NotALearner(id) => write!(f, "node {id} is not a learner"),
            Self::LearnerBehind { id, match_index, last_index } => write!(
                f,
                "learner {id} holds the log up to {match_index} of {last_index}: not caught up"
            ),
            Self::LastVoter(id) => write!(f, "node {id} is the last voter"),
            Self::InvalidId => write!(f, "0 is not a node id"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MembershipError {}

impl Membership {
    /// A configuration of these voters and no learners.
    pub fn with_voters(voters: &[NodeId]) -> Self {
        let mut voters = voters.to_vec();
        voters.retain(|&id| id != 0);
        voters.sort_unstable();
        voters.dedup();
        Membership { voters, learners: Vec::new() }
    }

    pub fn voters(&self) -> &[NodeId] {
        &self.voters
    }

    pub fn learners(&self) -> &[NodeId] {
        &self.learners
    }

    /// Lists are tiny (a handful of tabs): a linear scan also stays right on a list received
    /// from a peer that did not keep it sorted.
    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.contains(&id)
    }

    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.contains(&id)
    }

    pub fn is_member(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// Voters then learners.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().chain(&self.learners).copied()
    }

    /// Votes (or acknowledgements) needed to decide: a majority of the voters.
    pub fn quorum(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    /// Whether the voters `a` and `b` alone are a quorum: then a follower that holds an entry
    /// of its leader's term knows it is committed (see `node::replication`).
    pub(crate) fn is_quorum_pair(&self, a: NodeId, b: NodeId) -> bool {
        a != b && self.quorum() <= 2 && self.is_voter(a) && self.is_voter(b)
    }

    /// The configuration after `change`, or why `change` makes no sense here.
    pub fn apply(&self, change: Change) -> Result<Membership, MembershipError> {
        let id = change.node();
        if id == 0 {
            return Err(MembershipError::InvalidId);
        }
        let mut next = self.clone();
        match change {
            Change::AddLearner(_) if self.is_member(id) => {
                return Err(MembershipError::AlreadyMember(id))
            }
            Change::AddLearner(_) => insert_sorted(&mut next.learners, id),
            Change::Promote(_) if !self.is_learner(id) => {
                return Err(MembershipError::NotALearner(id))
            }
            Change::Promote(_) => {
                next.learners.retain(|&l| l != id);
                insert_sorted(&mut next.voters, id);
            }
            Change::Remove(_) if !self.is_member(id) => {
                return Err(MembershipError::NotAMember(id))
            }
            Change::Remove(_) if self.voters == [id] => return Err(MembershipError::LastVoter(id)),
            Change::Remove(_) => {
                next.voters.retain(|&v| v != id);
                next.learners.retain(|&l| l != id);
            }
        }
        Ok(next)
    }
}

fn insert_sorted(list: &mut Vec<NodeId>, id: NodeId) {
    if let Err(at) = list.binary_search(&id) {
        list.insert(at, id);
    }
}

impl fmt::Display for Membership {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "voters {:?}, learners {:?}", self.voters, self.learners)
    }
}

/// The configurations a node's log holds, oldest first: the one in force at the log's start (from
/// the snapshot, or given at creation) and one per membership entry after it. The newest is the
/// one in force; the one at the commit index is the committed one. Never empty.
pub(crate) struct Configurations {
    history: Vec<(LogIndex, Membership)>,
}

impl Configurations {
    /// `base` in force from `index` on.
    pub(crate) fn new(index: LogIndex, base: Membership) -> Self {
        Configurations { history: alloc::vec![(index, base)] }
    }

    pub(crate) fn latest(&self) -> &Membership {
        &self.history[self.history.len() - 1].1
    }

    /// The index of the entry that set the latest configuration.
    pub(crate) fn latest_index(&self) -> LogIndex {
        self.history[self.history.len() - 1].0
    }

    /// The configuration in force at `index`.
    pub(crate) fn at(&self, index: LogIndex) -> &Membership {
        let after = self.history.partition_point(|(i, _)| *i <= index);
        &self.history[after.saturating_sub(1)].1
    }

    /// The configurations in force at `index` and after it (up to the latest), oldest first.
    pub(crate) fn in_force_from(&self, index: LogIndex) -> impl Iterator<Item = &Membership> {
        let from = self.history.partition_point(|(i, _)| *i <= index).saturating_sub(1);
        self.history[from..].iter().map(|(_, membership)| membership)
    }

    /// Whether a configuration entry lies in `(from, to]`.
    pub(crate) fn changes_within(&self, from: LogIndex, to: LogIndex) -> bool {
        self.history.iter().rev().take_while(|(i, _)| *i > from).any(|(i, _)| *i <= to)
    }

    pub(crate) fn push(&mut self, index: LogIndex, membership: Membership) {
        self.history.push((index, membership));
    }

    /// Forgets configurations from entries at or after `index` (a replaced log suffix). The
    /// base configuration always stays.
    pub(crate) fn truncate_from(&mut self, index: LogIndex) {
        let keep = self.history.partition_point(|(i, _)| *i < index).max(1);
        self.history.truncate(keep);
    }

    /// Forgets what a snapshot at `index` makes unreachable: the configuration in force at
    /// `index` becomes the base.
    pub(crate) fn compact_to(&mut self, index: LogIndex) {
        let base = self.history.partition_point(|(i, _)| *i <= index).saturating_sub(1);
        self.history.drain(..base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_server_steps_and_their_refusals() {
        let m = Membership::with_voters(&[3, 1]);
        assert_eq!(m.voters(), [1, 3]);
        let m = m.apply(Change::AddLearner(2)).unwrap();
        assert_eq!((m.voters(), m.learners()), (&[1, 3][..], &[2][..]));
        assert_eq!(m.apply(Change::AddLearner(2)), Err(MembershipError::AlreadyMember(2)));
        assert_eq!(m.apply(Change::Promote(1)), Err(MembershipError::NotALearner(1)));
        let m = m.apply(Change::Promote(2)).unwrap();
        assert_eq!((m.voters(), m.quorum()), (&[1, 2, 3][..], 2));
        let m = m.apply(Change::Remove(1)).unwrap().apply(Change::Remove(3)).unwrap();
        assert_eq!(m.apply(Change::Remove(2)), Err(MembershipError::LastVoter(2)));
        assert_eq!(m.apply(Change::Remove(9)), Err(MembershipError::NotAMember(9)));
        assert_eq!(m.apply(Change::AddLearner(0)), Err(MembershipError::InvalidId));
    }

    #[test]
    fn history_follows_truncation_and_compaction() {
        let one = Membership::with_voters(&[1]);
        let two = one.apply(Change::AddLearner(2)).unwrap();
        let three = two.apply(Change::Promote(2)).unwrap();
        let mut h = Configurations::new(0, one.clone());
        h.push(5, two.clone());
        h.push(9, three.clone());
        assert_eq!((h.latest(), h.latest_index()), (&three, 9));
        assert_eq!(h.at(4), &one);
        assert_eq!(h.at(8), &two);
        assert!(h.changes_within(8, 9) && !h.changes_within(9, 20) && !h.changes_within(5, 8));
        h.truncate_from(9);
        assert_eq!(h.latest(), &two);
        h.compact_to(7);
        assert_eq!((h.at(0), h.latest_index()), (&two, 5));
        h.truncate_from(1);
        assert_eq!(h.latest(), &two, "the base stays");
    }
}
