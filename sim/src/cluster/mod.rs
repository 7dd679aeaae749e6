//! The simulated cluster: nodes, their runtimes (durable storage, output queue), the network
//! and the clients, driven by one event loop in virtual time.
//!
//! Each node runs the way a real runtime drives it (the core's polling order): hand it one
//! input, drain its outputs, ask when it next wants to wake. Outputs go to a per-node queue that
//! the runtime works through in order; a `Persist` takes disk time and holds back every later
//! output until it is on the durable image, so nothing that depends on a write can leave first.
//! A crash throws away the node, its queue and everything not yet written; a restart rebuilds
//! the node from its durable image only.
//!
//! Every step ends with the invariant checks on the nodes it touched; the first violation stops
//! the run.
use crate::invariants::{Invariants, Violation};
use crate::network::{Fate, LinkFaults, Loss, Network, Partition};
use crate::rng::Rng;
use crate::schedule::{Fault, Schedule, Target};
use crate::trace::{describe_body, Trace};
use crate::workload::{ClientIndex, Step, Workload};
use flotilla_core::reducers::kv::{Kv, KvAction};
use flotilla_core::{
    Config, DurableState, Event, LogIndex, Message, Millis, Node, NodeId, Output, Persist, Role,
    Term,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

/// More steps than this at one virtual millisecond means the cluster spins without time
/// moving (for instance a timer that never advances): reported instead of hanging.
const MAX_STEPS_PER_MS: u32 = 10_000;

/// Counters shown in a run's summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub steps: u64,
    pub messages_sent: u64,
    pub messages_lost: u64,
    pub leaders_elected: u64,
    pub crashes: u64,
    /// When the first leader after the heal appeared, in ms after the heal.
    pub leader_after_heal: Option<Millis>,
}

/// Something that happens at a point in virtual time.
enum SimEvent {
    Deliver(Message<KvAction>),
    /// The disk finished the node's oldest pending `Persist` (ignored after a crash).
    PersistDone {
        node: NodeId,
        incarnation: u32,
    },
    Fault(Fault),
    ClientWake {
        client: ClientIndex,
        generation: u64,
    },
    /// Three election timeouts after the heal: a leader must exist by now.
    LeaderDeadline,
}

struct Scheduled {
    at: Millis,
    /// Insertion order: events at the same ms happen in the order they were scheduled.
    seq: u64,
    event: SimEvent,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One node and the runtime around it.
struct Host {
    id: NodeId,
    /// `None` while crashed.
    node: Option<Node<Kv>>,
    /// What survives a crash: only writes the runtime finished.
    durable: DurableState<KvAction>,
    /// Bumped by every crash, so disk completions of a dead incarnation are ignored.
    incarnation: u32,
    paused: bool,
    /// Outputs not yet processed by the runtime, in the node's order.
    outbox: VecDeque<Output<Kv>>,
    /// The node's term when it produced each `Persist::Entries` still in `outbox`, oldest first.
    entries_terms: VecDeque<Term>,
    /// The `Persist` at the head of `outbox` is being written.
    disk_busy: bool,
    /// Extra ms per durable write (the slow-disk fault).
    disk_extra: Millis,
    /// Messages that arrived while paused, delivered on resume.
    inbox: VecDeque<Message<KvAction>>,
    /// Client wakes that fell while paused, replayed on resume.
    deferred_clients: Vec<(ClientIndex, u64)>,
}

/// Everything a cluster needs to run; `run` derives it from a seed.
pub struct Setup {
    pub voters: Vec<NodeId>,
    /// Node configuration; `id` is set per node.
    pub node_config: Config,
    pub network: Network,
    pub schedule: Schedule,
    pub workload: Workload,
    /// Streams for disk latencies and node seeds.
    pub disk_rng: Rng,
    pub seed_rng: Rng,
    /// Crashes also wipe the durable image (a deliberately broken runtime).
    pub amnesia: bool,
    pub trace: Trace,
}

pub struct Cluster {
    now: Millis,
    steps_this_ms: u32,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    /// Every node of the cluster, in id order.
    hosts: Vec<Host>,
    /// The voting members every node is started with.
    voters: Vec<NodeId>,
    node_config: Config,
    network: Network,
    disk_rng: Rng,
    seed_rng: Rng,
    amnesia: bool,
    workload: Workload,
    invariants: Invariants,
    trace: Trace,
    heal_at: Millis,
    /// Which node each leader-targeted fault hit, by tag.
    targets: HashMap<u32, NodeId>,
    leader_seen: bool,
    violation: Option<(Millis, Violation)>,
    stats: Stats,
}

impl Cluster {
    pub fn new(setup: Setup) -> Self {
        let Setup {
            voters,
            node_config,
            network,
            schedule,
            workload,
            disk_rng,
            seed_rng,
            amnesia,
            trace,
        } = setup;
        let mut cluster = Cluster {
            now: 0,
            steps_this_ms: 0,
            queue: BinaryHeap::new(),
            next_seq: 0,
            hosts: Vec::new(),
            voters: voters.clone(),
            node_config,
            network,
            disk_rng,
            seed_rng,
            amnesia,
            workload,
            invariants: Invariants::new(),
            trace,
            heal_at: schedule.heal_at,
            targets: HashMap::new(),
            leader_seen: false,
            violation: None,
            stats: Stats::default(),
        };
        for &id in &voters {
            let seed = cluster.seed_rng.next_u64();
            let node = Node::new(cluster.config_for(id), &voters, seed, 0);
            cluster.hosts.push(Host {
                id,
                node: Some(node),
                durable: DurableState::default(),
                incarnation: 0,
                paused: false,
                outbox: VecDeque::new(),
                entries_terms: VecDeque::new(),
                disk_busy: false,
                disk_extra: 0,
                inbox: VecDeque::new(),
                deferred_clients: Vec::new(),
            });
        }
        for (at, fault) in schedule.faults {
            cluster.schedule(at, SimEvent::Fault(fault));
        }
        for (client, at) in cluster.workload.start() {
            let generation = cluster.workload.generation(client);
            cluster.schedule(at, SimEvent::ClientWake { client, generation });
        }
        for &id in &voters {
            cluster.after_input(id, None);
        }
        cluster
    }

    /// Runs until virtual time `end` or the first violation.
    pub fn run_until(&mut self, end: Millis) {
        while self.violation.is_none() {
            let timer = self.next_timer();
            let event_at = self.queue.peek().map(|s| s.0.at);
            // Timers go first on a tie; either order would be deterministic.
            let (at, timer_node) = match (timer, event_at) {
                (Some((t, node)), Some(e)) if t <= e => (t, Some(node)),
                (Some((t, node)), None) => (t, Some(node)),
                (_, Some(e)) => (e, None),
                (None, None) => break,
            };
            if at > end {
                break;
            }
            self.advance_to(at);
            if self.violation.is_some() {
                break;
            }
            match timer_node {
                Some(node) => self.timeout(node),
                None => {
                    let Reverse(scheduled) = self.queue.pop().expect("peeked above");
                    self.handle(scheduled.event);
                }
            }
            self.check_leader_after_heal();
        }
        self.now = self.now.max(end);
    }

    /// Ends the run: the end-of-run liveness and durability checks. Returns the first
    /// violation of the run, if any.
    pub fn finish(mut self) -> (Option<(Millis, Violation)>, Workload, Stats, u64) {
        self.workload.finish_run(self.now);
        if self.violation.is_none() {
            if let Err(violation) = self.check_converged() {
                self.violation = Some((self.now, violation));
            }
        }
        if self.violation.is_none() {
            let durable: Vec<_> =
                self.hosts.iter().map(|h| (h.id, h.durable.entries.as_slice())).collect();
            if let Err(violation) = self.invariants.check_durable(&durable) {
                self.violation = Some((self.now, violation));
            }
        }
        if let Some((at, violation)) = &self.violation {
            self.trace.line(*at, || format!("VIOLATION {violation}"));
        }
        (self.violation, self.workload, self.stats, self.trace.hash())
    }

    fn config_for(&self, id: NodeId) -> Config {
        Config { id, ..self.node_config.clone() }
    }

    fn host(&mut self, id: NodeId) -> &mut Host {
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        &mut self.hosts[index]
    }

    fn schedule(&mut self, at: Millis, event: SimEvent) {
        self.next_seq += 1;
        self.queue.push(Reverse(Scheduled { at, seq: self.next_seq, event }));
    }

    fn schedule_client(&mut self, client: ClientIndex, at: Millis) {
        let generation = self.workload.generation(client);
        self.schedule(at, SimEvent::ClientWake { client, generation });
    }

    fn advance_to(&mut self, at: Millis) {
        self.stats.steps += 1;
        if at > self.now {
            self.now = at;
            self.steps_this_ms = 0;
        }
        self.steps_this_ms += 1;
        if self.steps_this_ms > MAX_STEPS_PER_MS {
            let detail = format!("over {MAX_STEPS_PER_MS} steps at {}ms: time stands still", at);
            self.violation = Some((self.now, Violation::Stuck { detail }));
        }
    }

    /// The earliest timer of a running node (a timer already due fires now).
    fn next_timer(&self) -> Option<(Millis, NodeId)> {
        self.hosts
            .iter()
            .filter(|h| !h.paused)
            .filter_map(|h| Some((h.node.as_ref()?.poll_timeout()?.max(self.now), h.id)))
            .min()
    }

    fn handle(&mut self, event: SimEvent) {
        match event {
            SimEvent::Deliver(message) => self.deliver(message),
            SimEvent::PersistDone { node, incarnation } => self.persist_done(node, incarnation),
            SimEvent::Fault(fault) => self.apply_fault(fault),
            SimEvent::ClientWake { client, generation } => self.client_wake(client, generation),
            SimEvent::LeaderDeadline => {
                if !self.leader_seen {
                    let (heal_at, deadline) = (self.heal_at, self.now);
                    self.violation =
                        Some((self.now, Violation::NoLeaderAfterHeal { heal_at, deadline }));
                }
            }
        }
    }

    fn timeout(&mut self, id: NodeId) {
        let now = self.now;
        self.trace.line(now, || format!("n{id} timeout"));
        if let Some(node) = self.host(id).node.as_mut() {
            node.handle_timeout(now);
        }
        self.after_input(id, None);
    }

    fn deliver(&mut self, message: Message<KvAction>) {
        let (from, to, now) = (message.from, message.to, self.now);
        if !self.network.connects(from, to) {
            self.stats.messages_lost += 1;
            self.trace.line(now, || format!("n{to} <-X- n{from} cut in flight"));
            return;
        }
        let host = self.host(to);
        if host.node.is_none() {
            self.stats.messages_lost += 1;
            self.trace.line(now, || format!("n{to} <-X- n{from} receiver down"));
            return;
        }
        if host.paused {
            host.inbox.push_back(message);
            return;
        }
        self.receive(message);
    }

    /// Hands a message to its (running) receiver.
    fn receive(&mut self, message: Message<KvAction>) {
        let (to, now) = (message.to, self.now);
        if self.trace.enabled() {
            let (from, term, body) = (message.from, message.term, describe_body(&message.body));
            self.trace.line(now, || format!("n{to} <- n{from} t{term} {body}"));
        }
        if let Some(node) = self.host(to).node.as_mut() {
            node.handle_message(now, message);
        }
        self.after_input(to, None);
    }

    /// After any input to node `id`: drain its outputs, let its runtime work, check it.
    /// `log_changed_from` forces a log check from that index (after a restart).
    fn after_input(&mut self, id: NodeId, log_changed_from: Option<LogIndex>) {
        self.drain(id, log_changed_from);
        self.pump(id);
    }

    /// Moves the node's outputs to its runtime queue, checking what they reveal on the way.
    fn drain(&mut self, id: NodeId, mut changed_from: Option<LogIndex>) {
        let now = self.now;
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        let Cluster { hosts, invariants, trace, stats, violation, .. } = self;
        let host = &mut hosts[index];
        let Some(node) = host.node.as_mut() else { return };
        let mut event_violation = None;
        // One input moves a node's term at most once, before it writes anything.
        let term = node.status().term;
        while let Some(output) = node.poll_output() {
            let found = match &output {
                Output::Persist(Persist::Entries { entries }) => {
                    host.entries_terms.push_back(term);
                    if let Some(first) = entries.first() {
                        changed_from =
                            Some(changed_from.map_or(first.index, |c| c.min(first.index)));
                    }
                    Ok(())
                }
                Output::Event(Event::Applied { index, request, action, output }) => {
                    invariants.applied(id, *index, *request, action, output)
                }
                Output::Event(Event::ProposalOutcome { request, result: Ok((index, output)) }) => {
                    invariants.acknowledged(*request, *index, output)
                }
                Output::Event(Event::RoleChanged { term, role, leader }) => {
                    trace.line(now, || {
                        format!("n{id} becomes {role:?} in term {term}, leader {leader:?}")
                    });
                    if *role == Role::Leader {
                        stats.leaders_elected += 1;
                        invariants.leader_claimed(id, *term)
                    } else {
                        Ok(())
                    }
                }
                // Hard states, messages, failed outcomes: nothing to check until processed.
                _ => Ok(()),
            };
            host.outbox.push_back(output);
            if let Err(found) = found {
                event_violation.get_or_insert(found);
            }
        }
        // The node's log and indexes are checked even after an event broke a rule: what its log
        // shows usually explains the event better.
        if violation.is_none() {
            let checked = invariants.check_node(&node.status(), node.log(), changed_from);
            if let Some(found) = checked.err().or(event_violation) {
                *violation = Some((now, found));
            }
        }
    }

    /// Works through the node's runtime queue in order, until it is empty or a durable write
    /// is in progress.
    fn pump(&mut self, id: NodeId) {
        let now = self.now;
        loop {
            let host = self.host(id);
            if host.paused || host.node.is_none() || host.disk_busy {
                return;
            }
            match host.outbox.front() {
                None => return,
                Some(Output::Persist(_)) => {
                    // Half the writes are instant (a write cache); the rest take 1-3 ms, plus
                    // whatever the slow-disk fault adds.
                    let extra = host.disk_extra;
                    let latency = match self.disk_rng.below(2) {
                        0 => extra,
                        _ => self.disk_rng.between(1, 3) + extra,
                    };
                    if latency == 0 {
                        self.persist_front(id);
                    } else {
                        let host = self.host(id);
                        host.disk_busy = true;
                        let incarnation = host.incarnation;
                        self.schedule(
                            now + latency,
                            SimEvent::PersistDone { node: id, incarnation },
                        );
                        return;
                    }
                }
                Some(Output::Send(_)) => {
                    let Some(Output::Send(message)) = host.outbox.pop_front() else {
                        unreachable!()
                    };
                    self.transmit(message);
                }
                Some(Output::Event(_)) => {
                    let Some(Output::Event(event)) = host.outbox.pop_front() else {
                        unreachable!()
                    };
                    self.runtime_event(id, event);
                }
            }
        }
    }

    fn persist_done(&mut self, id: NodeId, incarnation: u32) {
        let host = self.host(id);
        if host.incarnation != incarnation || !host.disk_busy {
            return;
        }
        host.disk_busy = false;
        self.persist_front(id);
        self.pump(id);
    }

    /// The `Persist` at the head of the node's queue is now on its durable image.
    fn persist_front(&mut self, id: NodeId) {
        let now = self.now;
        let host = self.host(id);
        let Some(Output::Persist(write)) = host.outbox.pop_front() else {
            unreachable!("persist_front is called with a Persist at the head")
        };
        if self.trace.enabled() {
            let what = match &write {
                Persist::HardState { term, voted_for, commit } => {
                    format!("hard state term {term} vote {voted_for:?} commit {commit}")
                }
                Persist::Entries { entries } => match (entries.first(), entries.last()) {
                    (Some(first), Some(last)) => {
                        format!("entries {}..={}", first.index, last.index)
                    }
                    _ => "no entries".into(),
                },
            };
            self.trace.line(now, || format!("n{id} persisted {what}"));
        }
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        if let Persist::Entries { entries } = &write {
            let host = &mut self.hosts[index];
            let term = host.entries_terms.pop_front().expect("one term per queued write");
            let found =
                self.invariants.check_durable_write(id, term, &host.durable.entries, entries);
            if let Err(violation) = found {
                self.violation.get_or_insert((now, violation));
            }
        }
        self.hosts[index].durable.absorb(write);
    }

    fn transmit(&mut self, message: Message<KvAction>) {
        let (from, to, now) = (message.from, message.to, self.now);
        self.stats.messages_sent += 1;
        let fate = self.network.route(now, from, to);
        if self.trace.enabled() {
            let fate = match fate {
                Fate::Lost(Loss::Dropped) => "dropped".to_string(),
                Fate::Lost(Loss::Partitioned) => "partitioned".to_string(),
                Fate::Delivered(at) => format!("+{}ms", at - now),
                Fate::Duplicated(a, b) => format!("+{}ms and duplicate +{}ms", a - now, b - now),
            };
            let (term, body) = (message.term, describe_body(&message.body));
            self.trace.line(now, || format!("n{from} -> n{to} t{term} {body} ({fate})"));
        }
        match fate {
            Fate::Lost(_) => self.stats.messages_lost += 1,
            Fate::Delivered(at) => self.schedule(at, SimEvent::Deliver(message)),
            Fate::Duplicated(first, second) => {
                self.schedule(first, SimEvent::Deliver(message.clone()));
                self.schedule(second, SimEvent::Deliver(message));
            }
        }
    }

    /// The runtime hands a node event to the application: outcomes go to the clients.
    fn runtime_event(&mut self, id: NodeId, event: Event<Kv>) {
        if let Event::ProposalOutcome { request, result } = event {
            let before = self.workload.history().len();
            if let Some((client, at)) = self.workload.outcome(id, request, result, self.now) {
                self.schedule_client(client, at);
            }
            self.trace_finished(before);
        }
    }

    fn client_wake(&mut self, client: ClientIndex, generation: u64) {
        let (node, now) = (self.workload.node_of(client), self.now);
        let host = self.host(node);
        if host.paused {
            host.deferred_clients.push((client, generation));
            return;
        }
        let before = self.workload.history().len();
        let step = self.workload.wake(client, generation, now);
        self.trace_finished(before);
        match step {
            None | Some(Step::Done) => {}
            Some(Step::Sleep(at)) => self.schedule_client(client, at),
            Some(Step::Propose { node, request, action }) => {
                if self.trace.enabled() {
                    let text = format!("client {} propose {action:?} at n{node}", request.client);
                    self.trace.line(now, || format!("{text} (seq {})", request.seq));
                }
                let answer = match self.host(node).node.as_mut() {
                    Some(n) => n.propose(now, request, action),
                    None => unreachable!("a client of a crashed node is dead"),
                };
                if let Err(error) = &answer {
                    let text = format!("client {} refused: {error:?}", request.client);
                    self.trace.line(now, || text);
                }
                let at = self.workload.proposed(client, now, answer);
                self.schedule_client(client, at);
                self.after_input(node, None);
            }
        }
    }

    /// Traces the operations the workload finished since the history had `before` entries.
    fn trace_finished(&mut self, before: usize) {
        if !self.trace.enabled() {
            return;
        }
        let now = self.now;
        let lines: Vec<String> = self.workload.history()[before..]
            .iter()
            .map(|op| format!("client {} done {}", op.client, op.json()))
            .collect();
        for line in lines {
            self.trace.line(now, || line);
        }
    }

    fn apply_fault(&mut self, fault: Fault) {
        let now = self.now;
        self.trace.line(now, || format!("FAULT {fault}"));
        match fault {
            Fault::Partition(partition) => self.network.set_partition(Some(partition)),
            Fault::IsolateLeader => {
                if let Some(leader) = self.current_leader() {
                    self.network.set_partition(Some(Partition::Isolate(leader)));
                }
            }
            Fault::HealPartition => self.network.set_partition(None),
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
            Fault::SlowDisk(id, extra) => self.host(id).disk_extra = extra,
            Fault::HealAll => {
                self.network.set_partition(None);
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
    /// start, and the same node again at its end.
    fn hit(&mut self, target: Target) -> Option<NodeId> {
        let id = match target {
            Target::Node(id) => Some(id),
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

    /// The running, unpaused leader of the highest term, if any.
    fn current_leader(&self) -> Option<NodeId> {
        self.hosts
            .iter()
            .filter(|h| !h.paused)
            .filter_map(|h| h.node.as_ref().map(Node::status))
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.term)
            .map(|s| s.id)
    }

    fn crash(&mut self, id: NodeId) {
        let amnesia = self.amnesia;
        let host = self.host(id);
        if host.node.is_none() {
            return;
        }
        host.node = None;
        host.paused = false;
        host.outbox.clear();
        host.entries_terms.clear();
        host.inbox.clear();
        host.disk_busy = false;
        host.incarnation += 1;
        host.deferred_clients.clear();
        if amnesia {
            host.durable = DurableState::default();
        }
        self.stats.crashes += 1;
        self.workload.node_crashed(id, self.now);
    }

    fn restart(&mut self, id: NodeId) {
        if self.host(id).node.is_some() {
            return;
        }
        let (seed, config, now) = (self.seed_rng.next_u64(), self.config_for(id), self.now);
        let durable = self.host(id).durable.clone();
        self.host(id).node = Some(Node::restart(config, &self.voters, durable, seed, now));
        self.invariants.restarted(id);
        self.after_input(id, Some(1));
        for (client, at) in self.workload.node_restarted(id, now) {
            self.schedule_client(client, at);
        }
    }

    fn resume(&mut self, id: NodeId) {
        let host = self.host(id);
        if !host.paused {
            return;
        }
        host.paused = false;
        let inbox = std::mem::take(&mut host.inbox);
        let deferred = std::mem::take(&mut host.deferred_clients);
        for message in inbox {
            self.receive(message);
        }
        self.pump(id);
        let now = self.now;
        for (client, generation) in deferred {
            self.schedule(now, SimEvent::ClientWake { client, generation });
        }
    }

    /// Liveness: from the heal on, watches for a leader no node has a higher term than.
    fn check_leader_after_heal(&mut self) {
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

    /// Liveness at the end: every node up, same commit index, applied all of it, same state.
    fn check_converged(&self) -> Result<(), Violation> {
        let mut reference: Option<(NodeId, LogIndex, &<Kv as flotilla_core::Reducer>::State)> =
            None;
        for host in &self.hosts {
            let Some(node) = host.node.as_ref() else {
                let detail = format!("n{} is still down", host.id);
                return Err(Violation::NotConverged { detail });
            };
            let status = node.status();
            if status.applied != status.commit {
                let detail = format!(
                    "n{} applied {} of commit index {}",
                    host.id, status.applied, status.commit
                );
                return Err(Violation::NotConverged { detail });
            }
            match reference {
                None => reference = Some((host.id, status.commit, node.committed_state())),
                Some((first, commit, state)) => {
                    if status.commit != commit {
                        let detail = format!(
                            "n{first} commit {commit}, n{} commit {}",
                            host.id, status.commit
                        );
                        return Err(Violation::NotConverged { detail });
                    }
                    if node.committed_state() != state {
                        let detail = format!("n{first} and n{} states differ", host.id);
                        return Err(Violation::NotConverged { detail });
                    }
                }
            }
        }
        Ok(())
    }
}
