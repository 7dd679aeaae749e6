//! The scheduled faults, applied: partitions, link faults, crashes and restarts (a restart
//! rebuilds the node from its durable image alone), pauses, slow disks, membership changes,
//! leadership transfers, and the heal that ends them all.
use super::{Cluster, Input, SimEvent};
use crate::network::{LinkFaults, Partition};
use crate::schedule::{Fault, Target};
use flotilla_core::{DurableState, Node, NodeId};

impl Cluster {
    pub(super) fn apply_fault(&mut self, fault: Fault) {
        let now = self.now;
        self.trace.line(now, || format!("FAULT {fault}"));
        match fault {
            Fault::Partition(partition) => self.set_partition(Some(partition)),
            Fault::IsolateLeader => {
                if let Some(leader) = self.current_leader() {
                    self.set_partition(Some(Partition::Isolate(leader)));
                }
            }
            Fault::HealPartition => self.set_partition(None),
            Fault::LinkFaults(faults) => self.network.set_faults(faults),
            Fault::Crash(target) => {
                if let Some(id) = self.hit(target) {
                    self.crash(id);
                }
            }
            Fault::Restart(target) => {
                if let Some(id) = self.hit(target) {
                    self.restart(id);
                }
            }
            Fault::Pause(target) => {
                if let Some(id) = self.hit(target) {
                    let host = self.host(id);
                    if host.node.is_some() {
                        host.paused = true;
                    }
                }
            }
            Fault::Resume(target) => {
                if let Some(id) = self.hit(target) {
                    self.resume(id);
                }
            }
            Fault::SlowDisk(id, extra) => {
                if let Some(host) = self.hosts.iter_mut().find(|h| h.id == id) {
                    host.disk_extra = extra;
                }
            }
            Fault::Join => self.join(),
            Fault::Leave { abrupt } => self.pending_leaves.push_back(abrupt),
            Fault::Remove => self.remove_member(),
            Fault::Transfer => self.hand_over(false),
            Fault::StepDown => self.hand_over(true),
            Fault::HealAll => {
                self.set_partition(None);
                self.network.set_faults(LinkFaults::NONE);
                let ids: Vec<NodeId> = self.hosts.iter().map(|h| h.id).collect();
                for id in ids {
                    self.host(id).disk_extra = 0;
                    self.restart(id);
                    self.resume(id);
                }
                let deadline = now + 3 * self.node_config.election_timeout_max;
                self.schedule(deadline, SimEvent::LeaderDeadline);
            }
        }
    }

    /// The node a fault on `target` hits: for a leader target, whoever leads at the fault's
    /// start, and the same node again at its end. A node that has not joined yet, or has left,
    /// is not hit.
    pub(super) fn hit(&mut self, target: Target) -> Option<NodeId> {
        let id = match target {
            Target::Node(id) => self.hosts.iter().any(|h| h.id == id && !h.closed).then_some(id),
            Target::Leader(tag) => match self.targets.get(&tag) {
                Some(&id) => Some(id),
                None => {
                    let leader = self.current_leader();
                    if let Some(id) = leader {
                        self.targets.insert(tag, id);
                    }
                    leader
                }
            },
        };
        if let (Target::Leader(tag), Some(id)) = (target, id) {
            self.trace.line(self.now, || format!("leader#{tag} is n{id}"));
        }
        id
    }

    /// The leader hands leadership to a node drawn now (any open node: a voter or not, behind,
    /// cut off or down), or steps down in favour of its most up-to-date voter.
    pub(super) fn hand_over(&mut self, step_down: bool) {
        let Some(leader) = self.current_leader() else { return };
        let open: Vec<NodeId> = self.hosts.iter().filter(|h| !h.closed).map(|h| h.id).collect();
        let (target, now) = (*self.pick_rng.pick(&open), self.now);
        let Some(node) = self.host(leader).node.as_mut() else { return };
        let result = match step_down {
            true => node.step_down(now),
            false => node.transfer_leadership(now, target).map(|()| target),
        };
        if let Ok(target) = result {
            self.stats.transfers += 1;
            self.transfer = Some((target, now + self.node_config.election_timeout_max));
        }
        self.trace.line(now, || format!("n{leader} hands over: {result:?}"));
        self.after_input(leader);
    }

    pub(super) fn crash(&mut self, id: NodeId) {
        let amnesia = self.amnesia;
        let host = self.host(id);
        if host.node.is_none() {
            return;
        }
        host.node = None;
        host.paused = false;
        host.outbox.clear();
        host.held_reads.clear();
        host.entries_terms.clear();
        host.snapshot_states.clear();
        host.inbox.clear();
        host.disk_busy = false;
        host.incarnation += 1;
        host.deferred_clients.clear();
        if amnesia {
            host.durable = DurableState::default();
        }
        self.stats.crashes += 1;
        let now = self.now;
        for term in self.invariants.crashed(id) {
            self.trace.line(now, || format!("n{id} led term {term} unseen: the crash undoes it"));
        }
        self.workload.node_crashed(id, now);
        self.hint_peers_of(id);
    }

    pub(super) fn restart(&mut self, id: NodeId) {
        let host = self.host(id);
        if host.node.is_some() || host.closed {
            return;
        }
        let (seed, config, now) = (self.seed_rng.next_u64(), self.config_for(id), self.now);
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        let host = &mut self.hosts[index];
        let (durable, voters) = (host.durable.clone(), &host.initial_voters);
        let node = Node::restart(config, voters, durable, seed, now);
        let is_member = node.membership().is_member(id);
        let snapshot = host.durable.snapshot.as_ref();
        self.stats.snapshot_restarts += u64::from(snapshot.is_some());
        let base = snapshot.map(|s| (s.index, s.term, s.membership.voters()));
        self.invariants.restarted(id, base, node.log());
        host.node = Some(node);
        host.started = now;
        host.was_member = is_member;
        let asks = !is_member && !host.leaving;
        self.after_input(id);
        if asks {
            self.ask_to_join(id);
        }
        for (client, at) in self.workload.node_started(id, now) {
            self.schedule_client(client, at);
        }
    }

    pub(super) fn resume(&mut self, id: NodeId) {
        let host = self.host(id);
        if !host.paused {
            return;
        }
        host.paused = false;
        let inbox = std::mem::take(&mut host.inbox);
        let deferred = std::mem::take(&mut host.deferred_clients);
        for input in inbox {
            match input {
                Input::Message(message) => self.receive(message),
                Input::Hint(peer) => self.hint(id, peer),
            }
        }
        self.pump(id);
        let now = self.now;
        for (client, generation) in deferred {
            self.schedule(now, SimEvent::ClientWake { client, generation });
        }
    }
}
