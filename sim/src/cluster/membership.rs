//! The runtime's side of membership, done the way the browser runtime does it: on a periodic
//! tick, every running leader asks the automatic policy ([`policy::next_change`]) for the next
//! change, given what signaling would tell it (nodes present and wanting in, nodes announced
//! gone); a node outside the configuration asks another to let it join; a departing node closes
//! its tab at once (abrupt) or once its removal has committed (graceful).
//!
//! The simulator plays a careful operator: a departure, or a removal it makes itself, happens
//! only if every departure under way can still complete (see `departures_can_complete`).
//! Safety never depends on that; liveness does, since no protocol commits anything once a
//! majority of the voters is gone for good.
//!
//! It also checks that commits follow the configuration: whenever a leader's commit index moves,
//! a majority of the voters of its configuration hold the newly committed entry durably.
use super::{Cluster, Host, SimEvent};
use crate::invariants::{holds, Violation};
use flotilla_core::membership::policy;
use flotilla_core::{Change, Membership, Millis, Node, NodeId, Role, Status};

/// How often each leader's runtime consults the policy.
const POLICY_INTERVAL: Millis = 50;

impl Cluster {
    /// The runtimes' periodic membership work.
    pub(super) fn policy_tick(&mut self) {
        self.schedule(self.now + POLICY_INTERVAL, SimEvent::PolicyTick);
        self.start_departures();
        self.close_removed();
        let (announced, departed) = self.presence();
        let leaders: Vec<NodeId> = self
            .hosts
            .iter()
            .filter(|h| {
                !h.paused && h.node.as_ref().is_some_and(|n| n.status().role == Role::Leader)
            })
            .map(|h| h.id)
            .collect();
        for id in leaders {
            self.policy_step(id, &announced, &departed);
        }
    }

    /// What signaling knows: the nodes running for a while that have not announced their
    /// departure (they want in, or stay in), and those that announced it.
    fn presence(&self) -> (Vec<NodeId>, Vec<NodeId>) {
        let announce_by = self.now.saturating_sub(self.membership.announce_delay);
        let announced = self
            .hosts
            .iter()
            .filter(|h| h.is_up() && !h.leaving && h.started <= announce_by)
            .map(|h| h.id)
            .collect();
        let departed = self.hosts.iter().filter(|h| h.leaving).map(|h| h.id).collect();
        (announced, departed)
    }

    /// One consultation of the policy by the leader `id`, and the change it proposes.
    fn policy_step(&mut self, id: NodeId, announced: &[NodeId], departed: &[NodeId]) {
        let (now, dead_after) = (self.now, self.membership.dead_after);
        let Some(node) = self.host(id).node.as_mut() else { return };
        let Some(view) = node.policy_view(announced, departed) else { return };
        let committed_voters = (!view.blocked).then(|| view.membership.voters().len());
        let change = policy::next_change(&view, now, dead_after);
        let result = change.map(|change| (change, node.change_membership(now, change)));
        if let Some(voters) = committed_voters {
            self.stats.max_voters = self.stats.max_voters.max(voters);
        }
        if let Some((change, result)) = result {
            self.trace.line(now, || format!("n{id} policy: {change}: {result:?}"));
            self.after_input(id);
        }
    }

    /// Starts the departures that can happen now, oldest first, once the cluster has grown as
    /// far as it should: each picks a running node not already leaving, while more than
    /// `min_nodes` would stay.
    fn start_departures(&mut self) {
        let grown = self.stats.max_voters >= self.membership.leaves_wait_for_voters;
        if !grown || self.now >= self.membership.quiet_at {
            return;
        }
        while let Some(&abrupt) = self.pending_leaves.front() {
            let staying = self.hosts.iter().filter(|h| !h.leaving).count();
            let candidates: Vec<NodeId> =
                self.hosts.iter().filter(|h| h.is_up() && !h.leaving).map(|h| h.id).collect();
            if staying <= self.membership.min_nodes || candidates.is_empty() {
                return;
            }
            let Some(membership) = self.committed_membership() else { return };
            let id = *self.pick_rng.pick(&candidates);
            let voters = membership.voters();
            if !self.departures_can_complete(voters, Some((id, false))) {
                return;
            }
            self.pending_leaves.pop_front();
            let closes_now = abrupt && self.departures_can_complete(voters, Some((id, true)));
            let how = if closes_now { "closes its tab" } else { "announces its departure" };
            self.trace.line(self.now, || format!("n{id} leaves: {how}"));
            self.host(id).leaving = true;
            if closes_now {
                self.close(id);
            }
        }
    }

    /// Closes the leaving nodes whose removal the leader has committed.
    fn close_removed(&mut self) {
        let Some(membership) = self.committed_membership() else { return };
        let removed: Vec<NodeId> = self
            .hosts
            .iter()
            .filter(|h| h.leaving && h.is_up() && !membership.is_member(h.id))
            .map(|h| h.id)
            .collect();
        for id in removed {
            self.trace.line(self.now, || format!("n{id} was removed: closes its tab"));
            self.close(id);
        }
    }

    /// The current leader's configuration, if it has committed it (no change pending) and the
    /// commit is on its disk. A lone voter commits before its write ends, and a crash then
    /// takes the commit back: closing a tab on the strength of it would lose a voter.
    fn committed_membership(&self) -> Option<Membership> {
        let host = self.hosts.iter().find(|h| Some(h.id) == self.current_leader())?;
        let view = host.node.as_ref()?.policy_view(&[], &[])?;
        let on_disk = host.durable.commit >= self.invariants.config_index(host.id);
        (!view.blocked && on_disk).then_some(view.membership)
    }

    /// Whether, in the configuration of `voters`, every departure under way (and `also`, a
    /// node about to leave, abruptly or not) can complete. The policy removes a leaving voter
    /// only while the voters staying are a majority of those that remain after it, so at least
    /// as many must stay as leave; and until then the configuration must commit, so closed
    /// voters must be a minority.
    fn departures_can_complete(&self, voters: &[NodeId], also: Option<(NodeId, bool)>) -> bool {
        let (mut leaving, mut closed) = (0, 0);
        for &voter in voters {
            let host = self.hosts.iter().find(|h| h.id == voter);
            let (leaves, closes) = match also {
                Some((id, abrupt)) if id == voter => (true, abrupt),
                _ => host.map_or((true, true), |h| (h.leaving, h.closed)),
            };
            leaving += usize::from(leaves);
            closed += usize::from(closes);
        }
        voters.len() - leaving >= leaving && closed < voters.len() - voters.len() / 2
    }

    /// The node's tab closes for good. A leader hands off on its way out, as the web runtime
    /// does on `pagehide`; whatever its disk has not written by the close is lost with the tab.
    fn close(&mut self, id: NodeId) {
        let now = self.now;
        let host = self.host(id);
        let running = !host.paused;
        let leader = host.node.as_mut().filter(|node| node.status().role == Role::Leader);
        if let Some(node) = leader.filter(|_| running) {
            let Status { term, last_index, .. } = node.status();
            let voters = node.membership().voters().to_vec();
            let successor = voters.into_iter().find(|&voter| node.hand_off(now, voter).is_ok());
            self.trace.line(now, || format!("n{id} hands off to {successor:?} as it closes"));
            self.after_input(id);
            if let Some(successor) = successor {
                let lagging =
                    self.node(successor).is_some_and(|n| n.status().last_index < last_index);
                self.stats.hand_offs += 1;
                self.stats.hand_offs_lagging += u64::from(lagging);
                self.hand_off = Some((successor, term + 1));
            }
        }
        self.crash(id);
        let host = self.host(id);
        host.closed = true;
        host.leaving = true;
        self.stats.left += 1;
    }

    /// A new node starts with an empty log and asks a member to let it in.
    pub(super) fn join(&mut self) {
        let staying = self.hosts.iter().filter(|h| !h.leaving).count();
        if staying >= self.membership.max_nodes {
            return;
        }
        let id = self.hosts.iter().map(|h| h.id).max().unwrap_or(0) + 1;
        let (seed, now) = (self.seed_rng.next_u64(), self.now);
        let node = Node::new(self.config_for(id), &[], seed, now);
        self.hosts.push(Host::new(id, node, Vec::new(), now));
        self.stats.joined += 1;
        self.trace.line(now, || format!("n{id} starts"));
        self.after_input(id);
        self.ask_to_join(id);
        for (client, at) in self.workload.node_started(id, now) {
            self.schedule_client(client, at);
        }
    }

    /// The leader removes a member drawn now (itself included), when the configuration after
    /// the removal keeps a working quorum.
    pub(super) fn remove_member(&mut self) {
        if self.now >= self.membership.quiet_at {
            return;
        }
        let Some(leader) = self.current_leader() else { return };
        let Some(membership) = self.node(leader).map(|n| n.membership().clone()) else { return };
        let members: Vec<NodeId> = membership.members().collect();
        let target = *self.pick_rng.pick(&members);
        let Ok(after) = membership.apply(Change::Remove(target)) else { return };
        if !self.departures_can_complete(after.voters(), None) {
            return;
        }
        let now = self.now;
        let Some(node) = self.host(leader).node.as_mut() else { return };
        let result = node.change_membership(now, Change::Remove(target));
        self.trace.line(now, || format!("n{leader} removes n{target}: {result:?}"));
        self.after_input(leader);
    }

    /// The node saw its configuration change: one that no longer holds it, while it means to
    /// stay, sends it asking to join again.
    pub(super) fn membership_seen(&mut self, id: NodeId, is_member: bool) {
        let host = self.host(id);
        let lost = host.was_member && !is_member && !host.leaving;
        host.was_member = is_member;
        if lost {
            self.ask_to_join(id);
        }
    }

    /// The node (outside the configuration) asks another open node, drawn now, to let it in.
    pub(super) fn ask_to_join(&mut self, id: NodeId) {
        let others: Vec<NodeId> =
            self.hosts.iter().filter(|h| h.id != id && !h.closed).map(|h| h.id).collect();
        if others.is_empty() {
            return;
        }
        let (via, now) = (*self.pick_rng.pick(&others), self.now);
        self.trace.line(now, || format!("n{id} asks n{via} to join"));
        if let Some(node) = self.host(id).node.as_mut() {
            node.request_join(now, via);
        }
        self.after_input(id);
    }

    /// Commits follow the configuration: when a leader's commit index moves, a majority of the
    /// voters of its configuration hold the newly committed entry durably. The leader itself
    /// counts once the write is queued, as the core counts it.
    pub(super) fn check_commit_quorum(&mut self, id: NodeId) {
        let Some(host) = self.hosts.iter().find(|h| h.id == id) else { return };
        let Some(node) = host.node.as_ref() else { return };
        let status = node.status();
        let moved = status.commit > host.checked_commit;
        if status.role != Role::Leader || !moved || self.violation.is_some() {
            self.host(id).checked_commit = status.commit;
            return;
        }
        let index = status.commit;
        let term = self.invariants.term_at(id, index);
        let voters = node.membership().voters().to_vec();
        let on_disk = |voter: NodeId| {
            voter == id
                || self.hosts.iter().any(|h| {
                    h.id == voter && term.is_some_and(|term| holds(&h.durable, index, term))
                })
        };
        let holders: Vec<NodeId> = voters.iter().copied().filter(|&v| on_disk(v)).collect();
        if term.is_some() && holders.len() <= voters.len() / 2 {
            let violation = Violation::CommitWithoutQuorum { node: id, index, holders, voters };
            self.violation = Some((self.now, violation));
        }
        self.host(id).checked_commit = status.commit;
    }
}
