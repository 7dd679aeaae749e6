//! Liveness: once the faults heal, a leader within three election timeouts, and at the end a
//! cluster that converged in the configuration its leader holds.
use super::Cluster;
use crate::invariants::Violation;
use flotilla_core::{Node, NodeId, Role};

impl Cluster {
    /// Liveness: from the heal on, watches for a leader no node has a higher term than.
    pub(super) fn check_leader_after_heal(&mut self) {
        if self.leader_seen || self.now < self.heal_at {
            return;
        }
        let statuses: Vec<_> =
            self.hosts.iter().filter_map(|h| h.node.as_ref().map(Node::status)).collect();
        let max_term = statuses.iter().map(|s| s.term).max().unwrap_or(0);
        if let Some(leader) = statuses.iter().find(|s| s.role == Role::Leader && s.term == max_term)
        {
            self.leader_seen = true;
            self.stats.leader_after_heal = Some(self.now - self.heal_at);
            let (now, id, after) = (self.now, leader.id, self.now - self.heal_at);
            self.trace.line(now, || format!("n{id} leads {after}ms after the heal"));
        }
    }

    /// Liveness at the end, in the configuration the leader ended with: a leader exists; every
    /// open node is up and a member (unless it is on its way out); no closed node is still a
    /// member; every member has the leader's commit index, applied all of it, and holds the
    /// same state. Returns the final voters.
    pub(super) fn check_converged(&self) -> Result<Vec<NodeId>, Violation> {
        let fail = |detail: String| Err(Violation::NotConverged { detail });
        let Some(leader) = self.current_leader() else {
            return fail("no leader at the end".into());
        };
        let reference = self.node(leader).expect("the leader runs");
        let (membership, commit) = (reference.membership(), reference.status().commit);
        for host in &self.hosts {
            let id = host.id;
            if host.closed {
                if membership.is_member(id) {
                    return fail(format!("n{id} left but is still a member ({membership})"));
                }
                continue;
            }
            let Some(node) = host.node.as_ref() else {
                return fail(format!("n{id} is still down"));
            };
            if !membership.is_member(id) {
                if host.leaving {
                    continue;
                }
                return fail(format!("n{id} runs but is not a member ({membership})"));
            }
            let status = node.status();
            if status.applied != status.commit {
                return fail(format!(
                    "n{id} applied {} of commit index {}",
                    status.applied, status.commit
                ));
            }
            if status.commit != commit {
                return fail(format!("n{leader} commit {commit}, n{id} commit {}", status.commit));
            }
            if node.committed_state() != reference.committed_state() {
                return fail(format!("n{leader} and n{id} states differ"));
            }
        }
        Ok(membership.voters().to_vec())
    }
}
