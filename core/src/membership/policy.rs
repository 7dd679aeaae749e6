//! The automatic membership policy: pure functions a runtime calls on the leader to decide the
//! next single-server change, from what the leader knows ([`View`], built by
//! `Node::policy_view`) and what the runtime learnt elsewhere (nodes that announced themselves or
//! their departure, e.g. through signaling or gossip).
//!
//! The rules, in the order they are tried (the first that yields a change wins):
//! 1. a member whose departure was announced is removed at once;
//! 2. a member the leader has not heard from for `dead_after` is removed;
//! 3. a live learner that has caught up is promoted, while there are fewer than `max_voters`;
//! 4. a node that announced itself and is not a member is added as a learner.
//!
//! A removal is proposed only if the configuration after it still has a working quorum: a
//! majority of its voters alive. Without that rule, removing a dead voter from a cluster that
//! has lost its majority would leave the change itself uncommittable, and block every later one.
//! Removals come first because they restore the ability to commit; promotions before admissions
//! because a caught-up learner adds fault tolerance at once.
//!
//! Nothing is proposed while a change is pending (the node would refuse it anyway).
use super::{Change, Membership};
use crate::{LogIndex, Millis, NodeId};
use alloc::vec::Vec;

/// What the policy looks at.
#[derive(Clone, Debug)]
pub struct View<'a> {
    /// The leader deciding (it is alive by definition).
    pub leader: NodeId,
    pub membership: Membership,
    /// A change is pending or cannot be made now (see `MembershipError`): propose nothing.
    pub blocked: bool,
    /// The leader's last log index.
    pub last_index: LogIndex,
    /// Every member but the leader.
    pub peers: Vec<PeerView>,
    /// A learner within this many entries of `last_index` counts as caught up.
    pub catch_up_lag: LogIndex,
    /// Learners are promoted only while there are fewer voters than this.
    pub max_voters: usize,
    /// Nodes that announced they want to join.
    pub announced: &'a [NodeId],
    /// Nodes whose departure was announced (their tab closed).
    pub departed: &'a [NodeId],
}

/// What the leader knows about one other member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerView {
    pub id: NodeId,
    /// Highest log index known to be on the peer.
    pub match_index: LogIndex,
    /// When the leader last received anything from the peer (or became leader, if later).
    pub last_heard: Millis,
}

/// The default for [`View::max_voters`]: 7 voters tolerate 3 failures, and every voter more
/// makes each commit wait for one more acknowledgement.
pub const MAX_VOTERS: usize = 7;

impl View<'_> {
    fn peer(&self, id: NodeId) -> Option<&PeerView> {
        self.peers.iter().find(|p| p.id == id)
    }

    /// Heard from within `dead_after`, and not announced gone.
    fn is_alive(&self, id: NodeId, now: Millis, dead_after: Millis) -> bool {
        if self.departed.contains(&id) {
            return false;
        }
        id == self.leader
            || self.peer(id).is_some_and(|p| now < p.last_heard.saturating_add(dead_after))
    }

    /// Whether removing `id` leaves a configuration whose live voters are a majority.
    fn removal_keeps_quorum(&self, id: NodeId, now: Millis, dead_after: Millis) -> bool {
        let Ok(after) = self.membership.apply(Change::Remove(id)) else { return false };
        let live = after.voters().iter().filter(|&&v| self.is_alive(v, now, dead_after)).count();
        live >= after.quorum()
    }
}

/// The next membership change the leader should make, if any. Pure: same view, same answer.
pub fn next_change(view: &View, now: Millis, dead_after: Millis) -> Option<Change> {
    if view.blocked {
        return None;
    }
    let members: Vec<NodeId> = view.membership.members().collect();
    let removable = |id: NodeId| view.removal_keeps_quorum(id, now, dead_after);
    if let Some(&gone) = view.departed.iter().find(|&&id| members.contains(&id) && removable(id)) {
        return Some(Change::Remove(gone));
    }
    let dead = |id: NodeId| !view.is_alive(id, now, dead_after);
    if let Some(&id) = members.iter().find(|&&id| dead(id) && removable(id)) {
        return Some(Change::Remove(id));
    }
    if view.membership.voters().len() < view.max_voters {
        let caught_up = view.membership.learners().iter().find(|&&id| {
            view.is_alive(id, now, dead_after)
                && view
                    .peer(id)
                    .is_some_and(|p| p.match_index + view.catch_up_lag >= view.last_index)
        });
        if let Some(&id) = caught_up {
            return Some(Change::Promote(id));
        }
    }
    let newcomer = view
        .announced
        .iter()
        .find(|&&id| id != 0 && !members.contains(&id) && !view.departed.contains(&id));
    newcomer.map(|&id| Change::AddLearner(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(voters: &[NodeId], learners: &[NodeId], heard: &[(NodeId, Millis)]) -> View<'a> {
        let mut membership = Membership::with_voters(voters);
        for &l in learners {
            membership = membership.apply(Change::AddLearner(l)).unwrap();
        }
        let peers = heard
            .iter()
            .map(|&(id, last_heard)| PeerView { id, match_index: 100, last_heard })
            .collect();
        View {
            leader: 1,
            membership,
            blocked: false,
            last_index: 100,
            peers,
            catch_up_lag: 10,
            max_voters: MAX_VOTERS,
            announced: &[],
            departed: &[],
        }
    }

    #[test]
    fn admits_then_promotes_a_newcomer() {
        let mut v = view(&[1], &[], &[]);
        v.announced = &[2];
        assert_eq!(next_change(&v, 0, 1000), Some(Change::AddLearner(2)));
        let mut v = view(&[1], &[2], &[(2, 0)]);
        v.peers[0].match_index = 50;
        assert_eq!(next_change(&v, 0, 1000), None, "not caught up yet");
        v.peers[0].match_index = 95;
        assert_eq!(next_change(&v, 0, 1000), Some(Change::Promote(2)));
        v.max_voters = 1;
        assert_eq!(next_change(&v, 0, 1000), None, "enough voters");
    }

    #[test]
    fn removes_a_dead_voter_only_if_a_working_quorum_remains() {
        let v = view(&[1, 2, 3, 4, 5], &[], &[(2, 0), (3, 0), (4, 900), (5, 900)]);
        assert_eq!(next_change(&v, 500, 1000), None, "all alive");
        assert_eq!(next_change(&v, 1200, 1000), Some(Change::Remove(2)), "3 of 4 live after");
        let v = view(&[1, 2, 3], &[], &[(2, 0), (3, 0)]);
        assert_eq!(next_change(&v, 5000, 1000), None, "1 live of 2 is no quorum");
        let v = view(&[1, 2], &[], &[(2, 0)]);
        assert_eq!(next_change(&v, 5000, 1000), Some(Change::Remove(2)), "down to one voter");
    }

    #[test]
    fn removes_an_announced_departure_at_once_and_a_blocked_view_waits() {
        let mut v = view(&[1, 2, 3], &[4], &[(2, 100), (3, 100), (4, 100)]);
        v.departed = &[3];
        assert_eq!(next_change(&v, 101, 1000), Some(Change::Remove(3)));
        v.departed = &[4];
        assert_eq!(next_change(&v, 101, 1000), Some(Change::Remove(4)), "learners too");
        v.blocked = true;
        assert_eq!(next_change(&v, 101, 1000), None);
    }
}
