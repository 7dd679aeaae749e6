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
//! Nodes come and go: a new one starts empty and asks to join, a departing one closes its tab
//! for good (see `membership`). Hosts are looked up by id and never forgotten, so a closed
//! node's id is never reused.
//!
//! Every step ends with the invariant checks on the nodes it touched; the first violation stops
//! the run.
//!
//! This file holds the event loop and the runtime of each node; beside it: `faults` (applying
//! the schedule), `membership` (the policy, joins and departures), `hints` (connection-closed
//! hints), `clients` (the workload's operations at their nodes) and `liveness` (the checks
//! after the heal).
mod clients;
mod faults;
mod hints;
mod liveness;
mod membership;

pub use hints::HintSetup;

use crate::invariants::{entry_at, Invariants, Violation};
use crate::network::{Fate, Loss, Network};
use crate::rng::Rng;
use crate::schedule::{Fault, Schedule};
use crate::trace::{describe_body, describe_persist, Trace};
use crate::workload::{ClientIndex, Workload};
use flotilla_core::reducers::kv::{Kv, KvAction, KvState};
use flotilla_core::{
    Config, DurableState, Event, LogIndex, Message, MessageBody, Millis, Node, NodeId, Output,
    Persist, ReadId, Role, Term,
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
    /// Nodes that started during the run (not counting restarts), and nodes that left for good.
    pub joined: u64,
    pub left: u64,
    /// The most voters a leader's committed configuration had.
    pub max_voters: usize,
    /// Voters in the configuration the run ended with.
    pub final_voters: usize,
    /// Leadership transfers started, and those whose target took over in time.
    pub transfers: u64,
    pub transfers_completed: u64,
    /// Leaders that handed off as they closed, those whose successor lacked part of their log,
    /// and those whose successor led the next term.
    pub hand_offs: u64,
    pub hand_offs_lagging: u64,
    pub hand_offs_elected: u64,
    /// Snapshots written (taken or installed), installed from a leader, sent chunks, and
    /// restarts that began from a snapshot.
    pub snapshots: u64,
    pub snapshots_installed: u64,
    pub snapshot_chunks: u64,
    pub snapshot_restarts: u64,
    /// Connection-closed hints handed to nodes, and those of them that came after the link was
    /// back.
    pub hints: u64,
    pub late_hints: u64,
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
    /// The runtimes' periodic membership work: the leader's policy, departures, joins.
    PolicyTick,
    /// `to`'s runtime noticed that its connection to `peer` closed.
    Hint {
        to: NodeId,
        peer: NodeId,
    },
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

/// An input that waits while its node is paused.
enum Input {
    Message(Message<KvAction>),
    /// The connection to this peer closed.
    Hint(NodeId),
}

/// One node and the runtime around it.
struct Host {
    id: NodeId,
    /// `None` while crashed or closed.
    node: Option<Node<Kv>>,
    /// The voters the node was created with: the cluster's first ones, or none for a node that
    /// bootstrapped or joined. A restart passes them on; configurations in the log override.
    initial_voters: Vec<NodeId>,
    /// The tab closed for good: the node never restarts.
    closed: bool,
    /// Announced its departure: closes once its removal has committed.
    leaving: bool,
    /// When the node last started (created or restarted): presence is announced a little later.
    started: Millis,
    /// The node's own configuration held it at its last change: losing that asks to rejoin.
    was_member: bool,
    /// The leader's commit index at its last commit-quorum check.
    checked_commit: LogIndex,
    /// What survives a crash: only writes the runtime finished.
    durable: DurableState<KvAction>,
    /// Bumped by every crash, so disk completions of a dead incarnation are ignored.
    incarnation: u32,
    paused: bool,
    /// Outputs not yet processed by the runtime, in the node's order.
    outbox: VecDeque<Output<Kv>>,
    /// How many outputs ever entered `outbox`, and how many the runtime performed: positions
    /// in the node's output stream.
    queued: u64,
    performed: u64,
    /// Reads served from the state taken when they were ready, held until the runtime has
    /// performed every output queued before (a lone voter's state counts writes still on their
    /// way to disk): (position, read, state).
    held_reads: VecDeque<(u64, ReadId, KvState)>,
    /// The node's term when it produced each `Persist::Entries` still in `outbox`, oldest first.
    entries_terms: VecDeque<Term>,
    /// The state machine at each `Persist::Snapshot` still in `outbox`, if the step that wrote
    /// it ended at the snapshot's index: compared with other nodes' once the write is durable
    /// (before, a crash may still take it back).
    snapshot_states: VecDeque<Option<KvState>>,
    /// The `Persist` at the head of `outbox` is being written.
    disk_busy: bool,
    /// Extra ms per durable write (the slow-disk fault).
    disk_extra: Millis,
    /// Messages and hints that arrived while paused, delivered on resume.
    inbox: VecDeque<Input>,
    /// Client wakes that fell while paused, replayed on resume.
    deferred_clients: Vec<(ClientIndex, u64)>,
}

impl Host {
    fn new(id: NodeId, node: Node<Kv>, initial_voters: Vec<NodeId>, now: Millis) -> Self {
        let was_member = node.membership().is_member(id);
        Host {
            id,
            node: Some(node),
            initial_voters,
            closed: false,
            leaving: false,
            started: now,
            was_member,
            checked_commit: 0,
            durable: DurableState::default(),
            incarnation: 0,
            paused: false,
            outbox: VecDeque::new(),
            queued: 0,
            performed: 0,
            held_reads: VecDeque::new(),
            entries_terms: VecDeque::new(),
            snapshot_states: VecDeque::new(),
            disk_busy: false,
            disk_extra: 0,
            inbox: VecDeque::new(),
            deferred_clients: Vec::new(),
        }
    }

    /// Running: neither crashed nor closed (it may be paused).
    fn is_up(&self) -> bool {
        self.node.is_some()
    }

    /// Takes the next output to perform.
    fn next_output(&mut self) -> Option<Output<Kv>> {
        self.performed += 1;
        self.outbox.pop_front()
    }
}

/// How the cluster begins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Start {
    /// These voters, each created with the same fixed configuration.
    Static(Vec<NodeId>),
    /// This node bootstraps a one-node cluster; every other node joins later.
    Bootstrap(NodeId),
}

impl Start {
    /// The nodes that run from the start.
    pub fn nodes(&self) -> Vec<NodeId> {
        match self {
            Start::Static(voters) => voters.clone(),
            Start::Bootstrap(id) => vec![*id],
        }
    }

    /// The configuration in force before any membership entry.
    pub fn initial_voters(&self) -> Vec<NodeId> {
        match self {
            Start::Static(voters) => voters.clone(),
            Start::Bootstrap(_) => Vec::new(),
        }
    }
}

/// How the cluster's runtime handles membership (what a real one learns from signaling).
#[derive(Clone, Debug)]
pub struct MembershipSetup {
    /// The policy removes a member not heard from for this long.
    pub dead_after: Millis,
    /// A started node is announced (present, wants in) this long after it started.
    pub announce_delay: Millis,
    /// Departures wait while no more than this many nodes would stay.
    pub min_nodes: usize,
    /// Joins are skipped while this many nodes run or may come back.
    pub max_nodes: usize,
    /// Departures wait until the cluster had this many voters.
    pub leaves_wait_for_voters: usize,
    /// No departure or removal starts from here on, so the end sees a settled configuration.
    pub quiet_at: Millis,
}

/// Everything a cluster needs to run; `run` derives it from a seed.
pub struct Setup {
    pub start: Start,
    pub membership: MembershipSetup,
    /// Node configuration; `id` is set per node.
    pub node_config: Config,
    pub network: Network,
    pub schedule: Schedule,
    pub workload: Workload,
    /// Streams for disk latencies and node seeds.
    pub disk_rng: Rng,
    pub seed_rng: Rng,
    /// Draws the nodes that faults resolved when they fire pick: who leaves, whom the leader
    /// removes or hands over to, which member a joiner asks.
    pub pick_rng: Rng,
    /// Connection-closed hints; `None` turns them off.
    pub hints: Option<HintSetup>,
    /// Crashes also wipe the durable image (a deliberately broken runtime).
    pub amnesia: bool,
    pub trace: Trace,
}

pub struct Cluster {
    now: Millis,
    steps_this_ms: u32,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_seq: u64,
    /// Every node that ever ran, in id order (closed ones too).
    hosts: Vec<Host>,
    node_config: Config,
    membership: MembershipSetup,
    /// Departures waiting for a moment when they can happen (`abrupt` each).
    pending_leaves: VecDeque<bool>,
    network: Network,
    disk_rng: Rng,
    seed_rng: Rng,
    pick_rng: Rng,
    hints: Option<HintSetup>,
    /// When the latest message scheduled on each link (from, to) arrives.
    last_arrival: HashMap<(NodeId, NodeId), Millis>,
    amnesia: bool,
    workload: Workload,
    invariants: Invariants,
    trace: Trace,
    heal_at: Millis,
    /// Which node each leader-targeted fault hit, by tag.
    targets: HashMap<u32, NodeId>,
    /// The latest leadership transfer: its target, and when the leader gives up on it.
    transfer: Option<(NodeId, Millis)>,
    /// The latest hand-off by a closing leader: its successor, and the term it was handed.
    hand_off: Option<(NodeId, Term)>,
    leader_seen: bool,
    violation: Option<(Millis, Violation)>,
    stats: Stats,
}

impl Cluster {
    pub fn new(setup: Setup) -> Self {
        let Setup {
            start,
            membership,
            node_config,
            network,
            schedule,
            workload,
            disk_rng,
            seed_rng,
            pick_rng,
            hints,
            amnesia,
            trace,
        } = setup;
        let mut cluster = Cluster {
            now: 0,
            steps_this_ms: 0,
            queue: BinaryHeap::new(),
            next_seq: 0,
            hosts: Vec::new(),
            node_config,
            membership,
            pending_leaves: VecDeque::new(),
            network,
            disk_rng,
            seed_rng,
            pick_rng,
            hints,
            last_arrival: HashMap::new(),
            amnesia,
            workload,
            invariants: Invariants::new(&start.initial_voters()),
            trace,
            heal_at: schedule.heal_at,
            targets: HashMap::new(),
            transfer: None,
            hand_off: None,
            leader_seen: false,
            violation: None,
            stats: Stats::default(),
        };
        match &start {
            Start::Static(voters) => {
                for &id in voters {
                    let seed = cluster.seed_rng.next_u64();
                    let node = Node::new(cluster.config_for(id), voters, seed, 0);
                    cluster.hosts.push(Host::new(id, node, voters.clone(), 0));
                }
            }
            Start::Bootstrap(id) => {
                let seed = cluster.seed_rng.next_u64();
                let node = Node::bootstrap(cluster.config_for(*id), seed, 0);
                cluster.hosts.push(Host::new(*id, node, Vec::new(), 0));
            }
        }
        for (at, fault) in schedule.faults {
            cluster.schedule(at, SimEvent::Fault(fault));
        }
        for (client, at) in cluster.workload.start() {
            let generation = cluster.workload.generation(client);
            cluster.schedule(at, SimEvent::ClientWake { client, generation });
        }
        for id in start.nodes() {
            cluster.after_input(id);
        }
        cluster.schedule(0, SimEvent::PolicyTick);
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
    pub fn finish(mut self) -> (Option<(Millis, Violation)>, Workload, Stats, Trace) {
        self.workload.finish_run(self.now);
        if self.violation.is_none() {
            match self.check_converged() {
                Ok(voters) => {
                    self.stats.final_voters = voters.len();
                    let durable: Vec<_> = self
                        .hosts
                        .iter()
                        .filter(|h| voters.contains(&h.id))
                        .map(|h| (h.id, &h.durable))
                        .collect();
                    if let Err(violation) = self.invariants.check_durable(&durable) {
                        self.violation = Some((self.now, violation));
                    }
                }
                Err(violation) => self.violation = Some((self.now, violation)),
            }
        }
        if let Some((at, violation)) = &self.violation {
            self.trace.line(*at, || format!("VIOLATION {violation}"));
        }
        (self.violation, self.workload, self.stats, self.trace)
    }

    fn config_for(&self, id: NodeId) -> Config {
        Config { id, ..self.node_config.clone() }
    }

    fn host(&mut self, id: NodeId) -> &mut Host {
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        &mut self.hosts[index]
    }

    /// The node `id`, if it runs.
    fn node(&self, id: NodeId) -> Option<&Node<Kv>> {
        self.hosts.iter().find(|h| h.id == id)?.node.as_ref()
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
            SimEvent::PolicyTick => self.policy_tick(),
            SimEvent::Hint { to, peer } => self.deliver_hint(to, peer),
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
        self.after_input(id);
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
            host.inbox.push_back(Input::Message(message));
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
        self.after_input(to);
    }

    /// After any input to node `id`: drain its outputs, let its runtime work, check it.
    fn after_input(&mut self, id: NodeId) {
        self.drain(id);
        self.check_commit_quorum(id);
        self.pump(id);
    }

    /// Moves the node's outputs to its runtime queue, checking what they reveal on the way.
    fn drain(&mut self, id: NodeId) {
        let now = self.now;
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        let Cluster { hosts, invariants, trace, stats, violation, transfer, hand_off, .. } = self;
        let host = &mut hosts[index];
        let Some(node) = host.node.as_mut() else { return };
        let mut event_violation = None;
        // Where the node took or installed a snapshot: its state there is kept at the end.
        let mut snapshots = Vec::new();
        // One input moves a node's term at most once, before it writes anything.
        let term = node.status().term;
        while let Some(output) = node.poll_output() {
            let found = match &output {
                Output::Persist(Persist::Entries { entries }) => {
                    host.entries_terms.push_back(term);
                    invariants.wrote(id, entries)
                }
                Output::Persist(Persist::Snapshot { snapshot }) => {
                    stats.snapshots += 1;
                    snapshots.push(snapshot.index);
                    let at = (snapshot.index, snapshot.term, snapshot.membership.voters());
                    invariants.snapshot_written(id, node.status().commit, at)
                }
                Output::Event(Event::SnapshotInstalled { index, term }) => {
                    trace.line(now, || format!("n{id} installed the snapshot at {index}@{term}"));
                    stats.snapshots_installed += 1;
                    Ok(())
                }
                Output::Event(Event::RoleChanged { term, role, leader }) => {
                    trace.line(now, || {
                        format!("n{id} becomes {role:?} in term {term}, leader {leader:?}")
                    });
                    if *role == Role::Leader {
                        stats.leaders_elected += 1;
                        if transfer.take_if(|(to, by)| *to == id && now <= *by).is_some() {
                            stats.transfers_completed += 1;
                        }
                        if hand_off.take_if(|handed| *handed == (id, *term)).is_some() {
                            stats.hand_offs_elected += 1;
                        }
                        invariants.leader_elected(id, *term, node.membership().voters())
                    } else {
                        Ok(())
                    }
                }
                Output::Event(Event::MembershipChanged { index, membership }) => {
                    trace.line(now, || format!("n{id} configuration {index}: {membership}"));
                    Ok(())
                }
                // Writes, messages, applied entries and outcomes: checked once the runtime
                // processes them, which is when anything outside the node can see them.
                _ => Ok(()),
            };
            host.outbox.push_back(output);
            host.queued += 1;
            if let Err(found) = found {
                event_violation.get_or_insert(found);
            }
        }
        let status = node.status();
        for index in snapshots {
            let state = (index == status.applied).then(|| node.committed_state().clone());
            host.snapshot_states.push_back(state);
        }
        // The node's log and indexes are checked even after an event broke a rule: what its log
        // shows usually explains the event better.
        if violation.is_none() {
            let durable = on_disk(&host.durable, |index| invariants.term_at(id, index));
            let checked = invariants.check_node(&status, durable);
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
            self.release_reads(id);
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
                    let Some(Output::Send(message)) = host.next_output() else { unreachable!() };
                    self.transmit(message);
                }
                Some(Output::Event(_)) => {
                    let Some(Output::Event(event)) = host.next_output() else { unreachable!() };
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
        let Some(Output::Persist(write)) = host.next_output() else {
            unreachable!("persist_front is called with a Persist at the head")
        };
        if self.trace.enabled() {
            let what = describe_persist(&write);
            self.trace.line(now, || format!("n{id} persisted {what}"));
        }
        let index = self.hosts.iter().position(|h| h.id == id).expect("a known node");
        let written_term = match &write {
            Persist::HardState { term, .. } => Some(*term),
            Persist::Entries { entries } => entries.iter().map(|e| e.term).max(),
            Persist::Snapshot { snapshot } => Some(snapshot.term),
        };
        if let Some(term) = written_term {
            self.invariants.leadership_observed(id, term);
        }
        if let Persist::HardState { term, voted_for: Some(candidate), .. } = &write {
            if let Err(violation) = self.invariants.vote_written(id, *term, *candidate) {
                self.violation.get_or_insert((now, violation));
            }
        }
        if let Persist::Snapshot { snapshot } = &write {
            let state = self.hosts[index].snapshot_states.pop_front().expect("one per write");
            if let Some(state) = state {
                if let Err(violation) = self.invariants.state_at(id, snapshot.index, &state) {
                    self.violation.get_or_insert((now, violation));
                }
            }
        }
        if let Persist::Entries { entries } = &write {
            let host = &mut self.hosts[index];
            let term = host.entries_terms.pop_front().expect("one term per queued write");
            let disk = &host.durable;
            let found = self.invariants.check_durable_write(id, term, &disk.entries, entries);
            let prev_term = entries.first().and_then(|e| term_on(disk, e.index - 1));
            let found = found.and_then(|()| self.invariants.persisted(id, prev_term, entries));
            if let Err(violation) = found {
                self.violation.get_or_insert((now, violation));
            }
        }
        self.hosts[index].durable.absorb(write);
    }

    fn transmit(&mut self, message: Message<KvAction>) {
        let (from, to, now) = (message.from, message.to, self.now);
        self.stats.messages_sent += 1;
        // A pre-vote carries the term it would start, not one the sender is in.
        let pre_vote = matches!(
            message.body,
            MessageBody::RequestVote { pre_vote: true, .. }
                | MessageBody::VoteResponse { pre_vote: true, .. }
        );
        if !pre_vote {
            self.invariants.leadership_observed(from, message.term);
        }
        if matches!(message.body, MessageBody::InstallSnapshot { .. }) {
            self.stats.snapshot_chunks += 1;
        }
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
        let arrival = match fate {
            Fate::Lost(_) => 0,
            Fate::Delivered(at) => at,
            Fate::Duplicated(first, second) => first.max(second),
        };
        let last = self.last_arrival.entry((from, to)).or_default();
        *last = (*last).max(arrival);
        match fate {
            Fate::Lost(_) => self.stats.messages_lost += 1,
            Fate::Delivered(at) => self.schedule(at, SimEvent::Deliver(message)),
            Fate::Duplicated(first, second) => {
                self.schedule(first, SimEvent::Deliver(message.clone()));
                self.schedule(second, SimEvent::Deliver(message));
            }
        }
    }

    /// The runtime hands a node event to the application: outcomes go to the clients, and a
    /// node that finds itself outside the configuration asks to join again.
    fn runtime_event(&mut self, id: NodeId, event: Event<Kv>) {
        let checked = match &event {
            Event::Applied { index, request, action, output } => {
                self.invariants.applied(id, *index, *request, action, output)
            }
            Event::ProposalOutcome { request, result: Ok((index, output)) } => {
                self.invariants.acknowledged(*request, *index, output)
            }
            _ => Ok(()),
        };
        if let Err(violation) = checked {
            self.violation.get_or_insert((self.now, violation));
        }
        match event {
            Event::ProposalOutcome { request, result } => {
                let before = self.workload.history().len();
                if let Some((client, at)) = self.workload.outcome(id, request, result, self.now) {
                    self.schedule_client(client, at);
                }
                self.trace_finished(before);
            }
            Event::MembershipChanged { membership, .. } => {
                self.membership_seen(id, membership.is_member(id))
            }
            Event::ReadReady { id: read, .. } => self.read_answered(id, read, None),
            Event::ReadFailed { id: read, error } => self.read_answered(id, read, Some(error)),
            _ => {}
        }
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
}

/// The term of the entry at `index` on `disk` (0 before the first), if the disk knows it.
fn term_on(disk: &DurableState<KvAction>, index: LogIndex) -> Option<Term> {
    match &disk.snapshot {
        _ if index == 0 => Some(0),
        Some(snapshot) if snapshot.index == index => Some(snapshot.term),
        _ => entry_at(&disk.entries, index).map(|e| e.term),
    }
}

/// The index up to which the node's log is on `disk`: its snapshot, and after it the longest
/// prefix of its entries on which the disk and the log the node wrote (`term_at`) agree (by Log
/// Matching, agreeing on an entry's term means agreeing on everything before it).
fn on_disk(disk: &DurableState<KvAction>, term_at: impl Fn(LogIndex) -> Option<Term>) -> LogIndex {
    let snapshot = disk.snapshot.as_ref().map_or(0, |s| s.index);
    let agree = |index| {
        let written = term_at(index);
        written.is_some() && entry_at(&disk.entries, index).map(|e| e.term) == written
    };
    let (Some(first), Some(last)) = (disk.entries.first(), disk.entries.last()) else {
        return snapshot;
    };
    let (mut low, mut high) = (first.index, last.index);
    if !agree(low) {
        return snapshot;
    }
    // Invariant: `agree(low)`; find the last index that agrees.
    while low < high {
        let middle = low + (high - low).div_ceil(2);
        if agree(middle) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    low
}
