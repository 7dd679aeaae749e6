//! An in-memory cluster for scenario tests: nodes running the `Kv` reducer, a zero-latency
//! network that can cut links, isolate nodes and drop chosen messages, virtual time that jumps
//! from one timer to the next, and disks that keep exactly what the nodes asked to persist.
//!
//! Outputs are performed in order as the contract says: a `Persist` lands on the node's disk
//! before any later `Send` enters the network. Every `Persist` and `Send` is also kept in a
//! per-node trace, so tests can check what left a node and in what order.
#![allow(dead_code)] // each test binary uses its own part of the harness

use flotilla_core::membership::policy;
use flotilla_core::reducers::kv::{Kv, KvAction, KvOutput};
use flotilla_core::{
    Change, Config, DurableState, Entry, EntryPayload, Event, LogIndex, Message, MessageBody,
    Millis, Node, NodeId, Output, Persist, ProposalError, ReadError, ReadId, RequestId, Role, Term,
};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::convert::Infallible;

pub type Outcome = Result<(LogIndex, KvOutput), ProposalError<Infallible>>;

/// One thing a node did, in the order it did it.
#[derive(Clone, Debug)]
pub enum Traced {
    Persist(Persist<KvAction>),
    Send(Message<KvAction>),
}

type Filter = Box<dyn FnMut(&Message<KvAction>) -> bool>;

pub struct Cluster {
    pub ids: Vec<NodeId>,
    pub now: Millis,
    /// Running nodes; a crashed node is absent until restarted.
    pub nodes: BTreeMap<NodeId, Node<Kv>>,
    pub configs: BTreeMap<NodeId, Config>,
    /// The voters each node was created with (empty for nodes that bootstrapped or joined).
    initial: BTreeMap<NodeId, Vec<NodeId>>,
    pub disks: BTreeMap<NodeId, DurableState<KvAction>>,
    pub traces: BTreeMap<NodeId, Vec<Traced>>,
    /// `Event::Applied` per node: `(index, action)`, across restarts.
    pub applied: BTreeMap<NodeId, Vec<(LogIndex, KvAction)>>,
    /// `Event::ProposalOutcome` per proposing node, in arrival order.
    pub outcomes: BTreeMap<NodeId, Vec<(RequestId, Outcome)>>,
    /// Every other event, by node, in order.
    pub events: Vec<(NodeId, Event<Kv>)>,
    /// Messages delivered so far.
    pub delivered: Vec<Message<KvAction>>,
    network: VecDeque<Message<KvAction>>,
    /// Directed links that drop everything: `(from, to)`.
    cut: BTreeSet<(NodeId, NodeId)>,
    /// Drops every message for which it returns true.
    filter: Option<Filter>,
    restarts: u64,
}

/// A log entry for building logs by hand: a write of `term` as value to key 0.
pub fn entry(index: LogIndex, term: Term) -> Entry<KvAction> {
    let request = RequestId { client: 1000 + term, seq: index };
    let action = KvAction::Write { key: 0, value: term };
    Entry { term, index, payload: EntryPayload::Action { request, action } }
}

/// A log whose entry `i + 1` has term `terms[i]`.
pub fn log_of_terms(terms: &[Term]) -> Vec<Entry<KvAction>> {
    terms.iter().enumerate().map(|(i, &t)| entry(i as LogIndex + 1, t)).collect()
}

pub fn write(key: u64, value: u64) -> KvAction {
    KvAction::Write { key, value }
}

pub fn req(client: u64, seq: u64) -> RequestId {
    RequestId { client, seq }
}

impl Cluster {
    /// `n` nodes (ids 1..=n) with default configs.
    pub fn new(n: u64) -> Self {
        Self::with_config(n, |c| c)
    }

    pub fn with_config(n: u64, tune: impl Fn(Config) -> Config) -> Self {
        let ids: Vec<NodeId> = (1..=n).collect();
        let disks = ids.iter().map(|&id| (id, DurableState::default())).collect();
        Self::from_disks(ids, disks, tune)
    }

    /// Nodes restarted from the given durable images (for hand-built logs and terms).
    pub fn from_disks(
        ids: Vec<NodeId>,
        disks: BTreeMap<NodeId, DurableState<KvAction>>,
        tune: impl Fn(Config) -> Config,
    ) -> Self {
        let configs: BTreeMap<_, _> = ids.iter().map(|&id| (id, tune(Config::new(id)))).collect();
        let mut cluster = Cluster {
            ids: ids.clone(),
            now: 0,
            nodes: BTreeMap::new(),
            configs,
            initial: ids.iter().map(|&id| (id, ids.clone())).collect(),
            disks,
            traces: ids.iter().map(|&id| (id, Vec::new())).collect(),
            applied: ids.iter().map(|&id| (id, Vec::new())).collect(),
            outcomes: ids.iter().map(|&id| (id, Vec::new())).collect(),
            events: Vec::new(),
            delivered: Vec::new(),
            network: VecDeque::new(),
            cut: BTreeSet::new(),
            filter: None,
            restarts: 0,
        };
        for id in ids {
            cluster.restart(id);
        }
        cluster
    }

    /// A cluster whose node `id` bootstrapped alone (it leads at once).
    pub fn bootstrap(id: NodeId) -> Self {
        let mut cluster = Self::from_disks(Vec::new(), BTreeMap::new(), |c| c);
        cluster.add(id, Node::bootstrap);
        cluster
    }

    /// Starts node `id` with no configuration: it waits to be added.
    pub fn spawn(&mut self, id: NodeId) {
        self.spawn_with(Config::new(id));
    }

    /// [`spawn`](Self::spawn) with a given configuration.
    pub fn spawn_with(&mut self, config: Config) {
        let id = config.id;
        self.configs.insert(id, config);
        self.add(id, |config, seed, now| Node::new(config, &[], seed, now));
    }

    fn add(&mut self, id: NodeId, start: impl FnOnce(Config, u64, Millis) -> Node<Kv>) {
        assert!(!self.ids.contains(&id), "node {id} exists");
        self.ids.push(id);
        self.configs.entry(id).or_insert_with(|| Config::new(id));
        self.initial.insert(id, Vec::new());
        self.disks.insert(id, DurableState::default());
        self.traces.insert(id, Vec::new());
        self.applied.insert(id, Vec::new());
        self.outcomes.insert(id, Vec::new());
        let node = start(self.configs[&id].clone(), id * 7919, self.now);
        self.nodes.insert(id, node);
        self.drain(id);
    }

    /// Asks the leader's policy for the next membership change and makes it; returns it.
    pub fn policy_step(
        &mut self,
        announced: &[NodeId],
        departed: &[NodeId],
        dead_after: Millis,
    ) -> Option<Change> {
        let leader = self.leader()?;
        let now = self.now;
        let view = self.node(leader).policy_view(announced, departed)?;
        let change = policy::next_change(&view, now, dead_after)?;
        self.node_mut(leader).change_membership(now, change).expect("the policy's change");
        self.drain(leader);
        Some(change)
    }

    pub fn voters(&self, id: NodeId) -> Vec<NodeId> {
        self.node(id).membership().voters().to_vec()
    }

    pub fn learners(&self, id: NodeId) -> Vec<NodeId> {
        self.node(id).membership().learners().to_vec()
    }

    pub fn node(&self, id: NodeId) -> &Node<Kv> {
        &self.nodes[&id]
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node<Kv> {
        self.nodes.get_mut(&id).expect("node is running")
    }

    pub fn role(&self, id: NodeId) -> Role {
        self.node(id).status().role
    }

    pub fn term(&self, id: NodeId) -> Term {
        self.node(id).status().term
    }

    pub fn commit(&self, id: NodeId) -> LogIndex {
        self.node(id).status().commit
    }

    /// The running leader with the highest term, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.nodes
            .values()
            .map(|n| n.status())
            .filter(|s| s.role == Role::Leader)
            .max_by_key(|s| s.term)
            .map(|s| s.id)
    }

    /// The terms of a node's log, in index order.
    pub fn log_terms(&self, id: NodeId) -> Vec<Term> {
        self.node(id).log().iter().map(|e| e.term).collect()
    }

    /// Performs `id`'s outputs in order: persist to its disk, send into the network, record events.
    pub fn drain(&mut self, id: NodeId) {
        let Some(node) = self.nodes.get_mut(&id) else { return };
        while let Some(output) = node.poll_output() {
            match output {
                Output::Persist(write) => {
                    self.disks.get_mut(&id).unwrap().apply(&write);
                    self.traces.get_mut(&id).unwrap().push(Traced::Persist(write));
                }
                Output::Send(message) => {
                    self.traces.get_mut(&id).unwrap().push(Traced::Send(message.clone()));
                    self.network.push_back(message);
                }
                Output::Event(Event::Applied { index, action, .. }) => {
                    self.applied.get_mut(&id).unwrap().push((index, action));
                }
                Output::Event(Event::ProposalOutcome { request, result }) => {
                    self.outcomes.get_mut(&id).unwrap().push((request, result));
                }
                Output::Event(event) => self.events.push((id, event)),
            }
        }
    }

    fn drain_all(&mut self) {
        for id in self.ids.clone() {
            self.drain(id);
        }
    }

    fn blocked(&mut self, message: &Message<KvAction>) -> bool {
        !self.nodes.contains_key(&message.to)
            || self.cut.contains(&(message.from, message.to))
            || self.filter.as_mut().is_some_and(|drop| drop(message))
    }

    /// Delivers the oldest message in flight (unless blocked); returns it.
    pub fn deliver_one(&mut self) -> Option<Message<KvAction>> {
        self.drain_all();
        let message = self.network.pop_front()?;
        if !self.blocked(&message) {
            let (to, now) = (message.to, self.now);
            self.delivered.push(message.clone());
            self.node_mut(to).handle_message(now, message.clone());
            self.drain(to);
        }
        Some(message)
    }

    /// Takes every message in flight out of the network (to deliver by hand or `inject` back).
    pub fn take_in_flight(&mut self) -> Vec<Message<KvAction>> {
        self.drain_all();
        self.network.drain(..).collect()
    }

    /// Puts a message into the network.
    pub fn inject(&mut self, message: Message<KvAction>) {
        self.network.push_back(message);
    }

    /// Delivers messages, and those they cause, until the network is quiet. No time passes.
    pub fn settle(&mut self) {
        while self.deliver_one().is_some() {}
    }

    /// Lets `ms` of virtual time pass, firing timers as they come due and settling the network
    /// after each.
    pub fn run_for(&mut self, ms: Millis) {
        let end = self.now + ms;
        self.settle();
        loop {
            let next = self.nodes.values().filter_map(|n| n.poll_timeout()).min();
            match next {
                Some(t) if t <= end => self.now = self.now.max(t),
                _ => break,
            }
            let now = self.now;
            for node in self.nodes.values_mut() {
                if node.poll_timeout().is_some_and(|t| t <= now) {
                    node.handle_timeout(now);
                }
            }
            self.settle();
        }
        self.now = end;
    }

    /// Lets `ms` of virtual time pass and fires the timers due, without delivering anything
    /// (for tests that deliver by hand).
    pub fn tick(&mut self, ms: Millis) {
        self.now += ms;
        let now = self.now;
        for node in self.nodes.values_mut() {
            if node.poll_timeout().is_some_and(|t| t <= now) {
                node.handle_timeout(now);
            }
        }
        self.drain_all();
    }

    /// Proposes `count` writes at the leader, settling every `batch`; returns the next seq.
    pub fn write_many(&mut self, client: u64, first_seq: u64, count: u64, batch: u64) -> u64 {
        for seq in first_seq..first_seq + count {
            let leader = self.leader().expect("a leader");
            self.propose(leader, req(client, seq), write(seq, seq)).expect("the leader accepts");
            if (seq - first_seq + 1) % batch.max(1) == 0 {
                self.settle();
            }
        }
        self.settle();
        first_seq + count
    }

    /// Runs until some node leads, for at most `limit` ms; returns it.
    pub fn run_until_leader(&mut self, limit: Millis) -> NodeId {
        let end = self.now + limit;
        while self.now < end {
            if let Some(leader) = self.leader() {
                return leader;
            }
            self.run_for(10);
        }
        self.leader().expect("a leader within the limit")
    }

    /// Runs in steps of `step` ms until some node leads, for at most `limit` ms; returns it.
    pub fn run_until_leader_within(&mut self, step: Millis, limit: Millis) -> NodeId {
        let end = self.now + limit;
        loop {
            if let Some(leader) = self.leader() {
                return leader;
            }
            assert!(self.now < end, "no leader within {limit} ms");
            self.run_for(step);
        }
    }

    /// Runs until one of `ids` leads, for at most `limit` ms; returns it.
    pub fn run_until_leader_among(&mut self, ids: &[NodeId], limit: Millis) -> NodeId {
        let end = self.now + limit;
        loop {
            let leader = ids.iter().copied().find(|&id| self.role(id) == Role::Leader);
            if let Some(leader) = leader {
                return leader;
            }
            assert!(self.now < end, "no leader among {ids:?} within the limit");
            self.run_for(10);
        }
    }

    /// Makes `id` campaign now and settles the network.
    pub fn campaign(&mut self, id: NodeId) {
        let now = self.now;
        self.node_mut(id).campaign(now);
        self.settle();
    }

    /// Elects `id` (campaign and settle), asserting it won.
    pub fn elect(&mut self, id: NodeId) {
        self.campaign(id);
        assert_eq!(self.role(id), Role::Leader, "node {id} should have won");
    }

    pub fn propose(
        &mut self,
        id: NodeId,
        request: RequestId,
        action: KvAction,
    ) -> Result<(), ProposalError<Infallible>> {
        let now = self.now;
        let result = self.node_mut(id).propose(now, request, action);
        self.drain(id);
        result
    }

    /// The outcome `id` reported for `request`, if any.
    pub fn outcome(&self, id: NodeId, request: RequestId) -> Option<Outcome> {
        self.outcomes[&id].iter().find(|(r, _)| *r == request).map(|(_, o)| o.clone())
    }

    pub fn cut(&mut self, a: NodeId, b: NodeId) {
        self.cut.insert((a, b));
        self.cut.insert((b, a));
    }

    /// Cuts every link to and from `id`.
    pub fn isolate(&mut self, id: NodeId) {
        for other in self.ids.clone() {
            if other != id {
                self.cut(id, other);
            }
        }
    }

    /// Drops every message for which `drop` returns true, until `heal`.
    pub fn drop_if(&mut self, drop: impl FnMut(&Message<KvAction>) -> bool + 'static) {
        self.filter = Some(Box::new(drop));
    }

    /// Restores every link and removes the filter.
    pub fn heal(&mut self) {
        self.cut.clear();
        self.filter = None;
    }

    /// Stops `id`: whatever it had not persisted is lost, and so are messages to it.
    pub fn crash(&mut self, id: NodeId) {
        self.drain(id);
        self.nodes.remove(&id);
    }

    /// Stops `id` without performing its pending outputs: they are lost, as in a crash
    /// between two writes.
    pub fn crash_now(&mut self, id: NodeId) {
        self.nodes.remove(&id);
    }

    /// Tells every running node that its connection to `peer` closed.
    pub fn hint_disconnected(&mut self, peer: NodeId) {
        let now = self.now;
        for (&id, node) in self.nodes.iter_mut() {
            if id != peer {
                node.handle_peer_disconnected(now, peer);
            }
        }
    }

    /// Starts `id` again from its disk.
    pub fn restart(&mut self, id: NodeId) {
        self.restarts += 1;
        let config = self.configs[&id].clone();
        let seed = id * 7919 + self.restarts;
        let voters = &self.initial[&id];
        let node = Node::restart(config, voters, self.disks[&id].clone(), seed, self.now);
        self.nodes.insert(id, node);
        self.drain(id);
    }

    /// Starts read `id` at node `at`.
    pub fn read(&mut self, at: NodeId, id: u64) -> Result<(), ReadError> {
        let now = self.now;
        let result = self.node_mut(at).read(now, ReadId(id));
        self.drain(at);
        result
    }

    /// What became of read `id` at node `at`: `Some(Ok(index))` once ready, `Some(Err(_))` if it
    /// failed, `None` while pending.
    pub fn read_outcome(&self, at: NodeId, id: u64) -> Option<Result<LogIndex, ReadError>> {
        self.events.iter().find_map(|(node, event)| match event {
            Event::ReadReady { id: r, index } if *node == at && *r == ReadId(id) => {
                Some(Ok(*index))
            }
            Event::ReadFailed { id: r, error } if *node == at && *r == ReadId(id) => {
                Some(Err(*error))
            }
            _ => None,
        })
    }

    /// Whether a message is an append (used by drop filters).
    pub fn is_append(message: &Message<KvAction>) -> bool {
        matches!(message.body, MessageBody::Append { .. })
    }
}

/// The last index a durable image holds, in its log or its snapshot.
pub fn durable_last_index(disk: &DurableState<KvAction>) -> LogIndex {
    let snapshot = disk.snapshot.as_ref().map_or(0, |s| s.index);
    disk.entries.last().map_or(snapshot, |e| e.index.max(snapshot))
}

/// Replays each node's trace: every vote granted, every append or snapshot acknowledged and
/// every term a message carries must already be on the node's disk when the message is queued;
/// and every commit index written must cover only entries already on disk (or in its snapshot),
/// and the right ones (those the cluster committed in the end).
pub fn assert_durability_rule(c: &Cluster) {
    let committed: BTreeMap<LogIndex, Entry<KvAction>> = c
        .nodes
        .values()
        .max_by_key(|n| n.status().commit)
        .map(|n| {
            let commit = n.status().commit;
            n.log().iter().filter(|e| e.index <= commit).map(|e| (e.index, e.clone())).collect()
        })
        .unwrap_or_default();
    for (id, trace) in &c.traces {
        let mut disk = DurableState::<KvAction>::default();
        for item in trace {
            match item {
                Traced::Persist(write) => {
                    disk.apply(write);
                    if let Persist::HardState { commit, .. } = write {
                        assert!(
                            *commit <= durable_last_index(&disk),
                            "node {id}: commit {commit} written before its entries"
                        );
                        for entry in disk.entries.iter().take_while(|e| e.index <= *commit) {
                            if let Some(expected) = committed.get(&entry.index) {
                                assert_eq!(
                                    entry, expected,
                                    "node {id}: commit {commit} covers other entries"
                                );
                            }
                        }
                    }
                }
                Traced::Send(m) => {
                    if let MessageBody::VoteResponse { pre_vote: false, granted: true } = m.body {
                        assert_eq!(
                            (disk.term, disk.voted_for),
                            (m.term, Some(m.to)),
                            "node {id}: vote before its write"
                        );
                    }
                    if let MessageBody::AppendAccepted { match_index } = m.body {
                        assert!(
                            durable_last_index(&disk) >= match_index,
                            "node {id}: ack of {match_index} before its entries or snapshot"
                        );
                    }
                    if !matches!(
                        m.body,
                        MessageBody::RequestVote { pre_vote: true, .. }
                            | MessageBody::VoteResponse { pre_vote: true, .. }
                    ) {
                        assert!(
                            m.term <= disk.term,
                            "node {id}: term {} sent before it was written",
                            m.term
                        );
                    }
                }
            }
        }
    }
}
