//! The key-value clients: a few per node, each with one operation in flight, recording the
//! history the linearizability checker reads. An operation is a proposal (a write, a cas, or a
//! read through the log) or a read served by ReadIndex (or the leader's lease) without one.
//!
//! A client lives in its node's tab: it proposes only there, freezes when the node is paused,
//! and dies with it on a crash (its operation in flight becomes `unknown`; the restarted tab gets
//! fresh clients). After an error or a silent attempt it retries with the same `RequestId`, so
//! the core's deduplication is exercised, until the operation's deadline abandons it. A read
//! leaves nothing behind, so each of its attempts has a fresh id.
//!
//! The workload never touches a node itself: it answers "what now?" with a [`Step`] the cluster
//! carries out, and the cluster reports back what the node said.
use crate::history::{Op, OpKind, OpResult};
use crate::rng::Rng;
use flotilla_core::reducers::kv::{Key, KvAction, KvOutput, KvState, Value};
use flotilla_core::{LogIndex, Millis, NodeId, ProposalError, ReadError, ReadId, RequestId};
use std::convert::Infallible;

/// Index of a client in the workload.
pub type ClientIndex = usize;

/// Shape of the workload.
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    pub clients_per_node: usize,
    /// Keys are `0..keys`; fewer keys mean more contention and longer per-key histories.
    pub keys: u64,
    /// Relative weights of the operations: reads through the log, reads without it, writes,
    /// compare-and-sets.
    pub mix: [u64; 4],
    /// Pause between a client's operations: uniform in `0..=think_max` ms.
    pub think_max: Millis,
    /// Wait before retrying after an error answer (no leader, leader changed, timed out).
    pub retry_backoff: (Millis, Millis),
    /// Retry when an attempt got no answer within this long (the node should always answer,
    /// with `TimedOut` at worst; this only guards against it forgetting).
    pub attempt_timeout: Millis,
    /// Abandon an operation (as `Unknown`, or `Refused` if never submitted) after this long.
    pub op_deadline: Millis,
    /// No new operation starts at or after this time.
    pub stop_at: Millis,
}

/// What the cluster should do for a client now.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Propose `action` as `request` at `node`, then report with [`Workload::attempted`].
    Propose { node: NodeId, request: RequestId, action: KvAction },
    /// Start the read `id` of `key` at `node`, then report with [`Workload::attempted`].
    Read { node: NodeId, id: ReadId, key: Key },
    /// Wake the client again at this time.
    Sleep(Millis),
    /// The client is finished for this run.
    Done,
}

/// What an operation asks its node for.
#[derive(Clone, Debug, PartialEq)]
enum Request {
    Propose {
        request: RequestId,
        action: KvAction,
    },
    /// A read of `key` without the log; `id` is the current attempt's.
    Read {
        key: Key,
        id: ReadId,
    },
}

/// An operation in flight.
struct Pending {
    request: Request,
    call: Millis,
    call_order: u64,
    deadline: Millis,
    /// Some attempt was accepted by the node, so the operation may take effect.
    maybe_submitted: bool,
}

struct Client {
    /// The `client` part of its request ids: unique in the run.
    id: u64,
    node: NodeId,
    seq: u64,
    pending: Option<Pending>,
    /// Bumped whenever the client's next wake changes, so stale wakes are ignored.
    generation: u64,
    /// Dead with its crashed node.
    dead: bool,
}

pub struct Workload {
    config: WorkloadConfig,
    rng: Rng,
    clients: Vec<Client>,
    next_client_id: u64,
    /// Written values are unique in the run, so a read tells exactly which write it saw.
    next_value: Value,
    /// Read ids are unique in the run, one per attempt.
    next_read: u64,
    /// Values recently seen committed per key, from which a cas picks its expected value.
    recent: Vec<Vec<Value>>,
    /// Position of the next client event in real-time order.
    next_order: u64,
    history: Vec<Op>,
}

impl Workload {
    pub fn new(config: WorkloadConfig, nodes: &[NodeId], rng: Rng) -> Self {
        let recent = vec![Vec::new(); config.keys as usize];
        let mut workload = Workload {
            config,
            rng,
            clients: Vec::new(),
            next_client_id: 1,
            next_value: 1,
            next_read: 1,
            recent,
            next_order: 0,
            history: Vec::new(),
        };
        for &node in nodes {
            for _ in 0..workload.config.clients_per_node {
                let id = workload.fresh_client_id();
                workload.clients.push(Client {
                    id,
                    node,
                    seq: 0,
                    pending: None,
                    generation: 0,
                    dead: false,
                });
            }
        }
        workload
    }

    pub fn client_count(&self) -> usize {
        self.clients.len()
    }

    pub fn node_of(&self, client: ClientIndex) -> NodeId {
        self.clients[client].node
    }

    /// The generation a wake scheduled now must carry to be honoured.
    pub fn generation(&self, client: ClientIndex) -> u64 {
        self.clients[client].generation
    }

    /// The finished history.
    pub fn into_history(self) -> Vec<Op> {
        self.history
    }

    pub fn history(&self) -> &[Op] {
        &self.history
    }

    /// First wake of every client: a random time within the first think period.
    pub fn start(&mut self) -> Vec<(ClientIndex, Millis)> {
        (0..self.clients.len()).map(|c| (c, self.rng.between(0, self.config.think_max))).collect()
    }

    /// The client woke up (its sleep ended, or its attempt went unanswered for too long).
    pub fn wake(&mut self, client: ClientIndex, generation: u64, now: Millis) -> Option<Step> {
        let c = &self.clients[client];
        if c.dead || generation != c.generation {
            return None;
        }
        let step = match &c.pending {
            Some(pending) if now >= pending.deadline => {
                self.give_up(client, now);
                Step::Sleep(self.sleep_then_next(client, now))
            }
            Some(pending) => match pending.request.clone() {
                Request::Propose { request, action } => {
                    Step::Propose { node: c.node, request, action }
                }
                Request::Read { key, .. } => {
                    let (node, id) = (c.node, self.fresh_read_id());
                    if let Some(pending) = &mut self.clients[client].pending {
                        pending.request = Request::Read { key, id };
                    }
                    Step::Read { node, id, key }
                }
            },
            None if now >= self.config.stop_at => Step::Done,
            None => self.begin(client, now),
        };
        Some(step)
    }

    /// Whether the node took the attempt the client just made (a proposal or a read): the
    /// next wake of the client.
    pub fn attempted(&mut self, client: ClientIndex, now: Millis, taken: bool) -> Millis {
        let c = &mut self.clients[client];
        c.generation += 1;
        match taken {
            true => {
                if let Some(pending) = &mut c.pending {
                    pending.maybe_submitted = true;
                }
                now + self.config.attempt_timeout
            }
            false => self.backoff(now),
        }
    }

    /// A node reported the outcome of a proposal made there. Returns the client it belonged to
    /// and its next wake, when a live client was waiting for it.
    pub fn outcome(
        &mut self,
        node: NodeId,
        request: RequestId,
        result: Result<(LogIndex, KvOutput), ProposalError<Infallible>>,
        now: Millis,
    ) -> Option<(ClientIndex, Millis)> {
        let client = self.clients.iter().position(|c| {
            let asked = c.pending.as_ref().map(|p| &p.request);
            !c.dead
                && c.node == node
                && matches!(asked, Some(Request::Propose { request: r, .. }) if *r == request)
        })?;
        let answer = result.ok().map(|(_, output)| match output {
            KvOutput::Read(value) => (OpResult::Ok, value),
            KvOutput::Written | KvOutput::Cas(true) => (OpResult::Ok, None),
            KvOutput::Cas(false) => (OpResult::Fail, None),
        });
        Some((client, self.answered(client, now, answer)))
    }

    /// A node answered the read `id` made there: with the state to read from, or why it could
    /// not. Returns the client it belonged to and its next wake, when a live client was
    /// waiting.
    pub fn read_outcome(
        &mut self,
        node: NodeId,
        id: ReadId,
        result: Result<&KvState, ReadError>,
        now: Millis,
    ) -> Option<(ClientIndex, Millis)> {
        let (client, key) = self.clients.iter().enumerate().find_map(|(i, c)| {
            match c.pending.as_ref().map(|p| &p.request) {
                Some(&Request::Read { key, id: asked })
                    if !c.dead && c.node == node && asked == id =>
                {
                    Some((i, key))
                }
                _ => None,
            }
        })?;
        let answer = result.ok().map(|state| (OpResult::Ok, state.values.get(&key).copied()));
        Some((client, self.answered(client, now, answer)))
    }

    /// The operation in flight got an answer (`None`: an error, so it is tried again): the
    /// client's next wake.
    fn answered(
        &mut self,
        client: ClientIndex,
        now: Millis,
        answer: Option<(OpResult, Option<Value>)>,
    ) -> Millis {
        match answer {
            Some((result, value)) => {
                self.finish(client, now, result, value);
                self.sleep_then_next(client, now)
            }
            None => {
                self.clients[client].generation += 1;
                self.backoff(now)
            }
        }
    }

    /// When to try again after an error answer.
    fn backoff(&mut self, now: Millis) -> Millis {
        now + self.rng.between(self.config.retry_backoff.0, self.config.retry_backoff.1)
    }

    /// The node crashed: its clients die, their operations in flight become indeterminate.
    pub fn node_crashed(&mut self, node: NodeId, now: Millis) {
        for client in 0..self.clients.len() {
            if self.clients[client].node == node && !self.clients[client].dead {
                if self.clients[client].pending.is_some() {
                    self.give_up(client, now);
                }
                self.clients[client].dead = true;
            }
        }
    }

    /// The node started (joined, or restarted): a fresh set of clients in its new tab. Returns
    /// their first wakes.
    pub fn node_started(&mut self, node: NodeId, now: Millis) -> Vec<(ClientIndex, Millis)> {
        let mut wakes = Vec::new();
        for _ in 0..self.config.clients_per_node {
            let id = self.fresh_client_id();
            self.clients.push(Client {
                id,
                node,
                seq: 0,
                pending: None,
                generation: 0,
                dead: false,
            });
            wakes.push((self.clients.len() - 1, now + self.rng.between(0, self.config.think_max)));
        }
        wakes
    }

    /// Ends the run: operations still in flight become indeterminate.
    pub fn finish_run(&mut self, now: Millis) {
        for client in 0..self.clients.len() {
            if !self.clients[client].dead && self.clients[client].pending.is_some() {
                self.give_up(client, now);
            }
        }
    }

    fn fresh_client_id(&mut self) -> u64 {
        let id = self.next_client_id;
        self.next_client_id += 1;
        id
    }

    fn fresh_read_id(&mut self) -> ReadId {
        self.next_read += 1;
        ReadId(self.next_read - 1)
    }

    fn order(&mut self) -> u64 {
        self.next_order += 1;
        self.next_order
    }

    /// Starts a new random operation.
    fn begin(&mut self, client: ClientIndex, now: Millis) -> Step {
        let key = self.rng.below(self.config.keys);
        let action = match self.rng.weighted(&self.config.mix) {
            0 => KvAction::Read { key },
            1 => return self.begin_read(client, now, key),
            2 => KvAction::Write { key, value: self.fresh_value() },
            _ => {
                let recent = &self.recent[key as usize];
                // Mostly a recent value, so that many cas operations can win; sometimes an old
                // or absent one, so that some must lose.
                let from = if !recent.is_empty() && self.rng.chance(0.8) {
                    let newest = recent.len().saturating_sub(2);
                    Some(recent[self.rng.between(newest as u64, recent.len() as u64 - 1) as usize])
                } else if !recent.is_empty() && self.rng.chance(0.5) {
                    Some(*self.rng.pick(recent))
                } else {
                    None
                };
                KvAction::Cas { key, from, to: self.fresh_value() }
            }
        };
        let c = &mut self.clients[client];
        c.seq += 1;
        let request = RequestId { client: c.id, seq: c.seq };
        let node = c.node;
        self.call(client, now, Request::Propose { request, action: action.clone() });
        Step::Propose { node, request, action }
    }

    /// Starts a read of `key` without the log.
    fn begin_read(&mut self, client: ClientIndex, now: Millis, key: Key) -> Step {
        let (node, id) = (self.clients[client].node, self.fresh_read_id());
        self.call(client, now, Request::Read { key, id });
        Step::Read { node, id, key }
    }

    /// Records the call of a new operation.
    fn call(&mut self, client: ClientIndex, now: Millis, request: Request) {
        let call_order = self.order();
        self.clients[client].pending = Some(Pending {
            request,
            call: now,
            call_order,
            deadline: now + self.config.op_deadline,
            maybe_submitted: false,
        });
    }

    fn fresh_value(&mut self) -> Value {
        let value = self.next_value;
        self.next_value += 1;
        value
    }

    /// The client's next wake after a finished operation: a think time from now.
    fn sleep_then_next(&mut self, client: ClientIndex, now: Millis) -> Millis {
        self.clients[client].generation += 1;
        now + self.rng.between(0, self.config.think_max)
    }

    /// Abandons the operation in flight.
    fn give_up(&mut self, client: ClientIndex, now: Millis) {
        let submitted = self.clients[client].pending.as_ref().is_some_and(|p| p.maybe_submitted);
        let result = if submitted { OpResult::Unknown } else { OpResult::Refused };
        self.finish(client, now, result, None);
    }

    /// Records the operation in flight as answered with `result`; `read` is a read's value.
    fn finish(&mut self, client: ClientIndex, now: Millis, result: OpResult, read: Option<Value>) {
        let ret_order = self.order();
        let c = &mut self.clients[client];
        let Some(pending) = c.pending.take() else { return };
        let (kind, key, value, from) = match pending.request {
            Request::Propose { action: KvAction::Read { key }, .. } => {
                (OpKind::Read, key, read, None)
            }
            Request::Propose { action: KvAction::Write { key, value }, .. } => {
                (OpKind::Write, key, Some(value), None)
            }
            Request::Propose { action: KvAction::Cas { key, from, to }, .. } => {
                (OpKind::Cas, key, Some(to), from)
            }
            Request::Read { key, .. } => (OpKind::IndexRead, key, read, None),
        };
        if result == OpResult::Ok {
            // What the client now knows the key held: a cas picks its expected value here.
            if let Some(seen) = value {
                let recent = &mut self.recent[key as usize];
                recent.push(seen);
                if recent.len() > 8 {
                    recent.remove(0);
                }
            }
        }
        self.history.push(Op {
            client: c.id,
            kind,
            key,
            value,
            from,
            result,
            call: pending.call,
            ret: now,
            call_order: pending.call_order,
            ret_order,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workload of two clients, one at node 1 and one at node 2, doing only operations of
    /// the `mix`.
    fn workload(mix: [u64; 4]) -> Workload {
        let config = WorkloadConfig {
            clients_per_node: 1,
            keys: 2,
            mix,
            think_max: 10,
            retry_backoff: (5, 10),
            attempt_timeout: 100,
            op_deadline: 1000,
            stop_at: 5000,
        };
        Workload::new(config, &[1, 2], Rng::new(4))
    }

    const PROPOSALS: [u64; 4] = [1, 0, 1, 1];
    const READS: [u64; 4] = [0, 1, 0, 0];

    fn propose(workload: &mut Workload, client: ClientIndex, now: Millis) -> RequestId {
        let generation = workload.generation(client);
        match workload.wake(client, generation, now) {
            Some(Step::Propose { request, .. }) => request,
            step => panic!("expected a proposal, got {step:?}"),
        }
    }

    fn read(workload: &mut Workload, client: ClientIndex, now: Millis) -> (ReadId, Key) {
        let generation = workload.generation(client);
        match workload.wake(client, generation, now) {
            Some(Step::Read { id, key, .. }) => (id, key),
            step => panic!("expected a read, got {step:?}"),
        }
    }

    #[test]
    fn a_retry_reuses_the_request_id_but_not_the_read_id() {
        let mut w = workload(PROPOSALS);
        let first = propose(&mut w, 0, 0);
        let wake = w.attempted(0, 0, false);
        assert_eq!(propose(&mut w, 0, wake), first);
        let mut w = workload(READS);
        let (first, key) = read(&mut w, 0, 0);
        w.attempted(0, 0, true);
        let wake = w.read_outcome(1, first, Err(ReadError::LeaderChanged), 3).unwrap().1;
        assert_ne!(read(&mut w, 0, wake), (first, key));
    }

    #[test]
    fn an_answered_operation_is_recorded() {
        let mut w = workload(PROPOSALS);
        let request = propose(&mut w, 0, 0);
        w.attempted(0, 0, true);
        let answered = w.outcome(1, request, Ok((3, KvOutput::Cas(false))), 7);
        assert_eq!(answered.map(|(client, _)| client), Some(0));
        let op = &w.history()[0];
        assert_eq!((op.call, op.ret), (0, 7));
        assert!(op.result == OpResult::Ok || op.kind != OpKind::Write);
    }

    #[test]
    fn a_read_without_the_log_is_recorded_as_its_own_kind() {
        let mut w = workload(READS);
        let (id, key) = read(&mut w, 1, 0);
        w.attempted(1, 0, true);
        let mut state = KvState::default();
        state.values.insert(key, 9);
        assert_eq!(w.read_outcome(1, id, Ok(&state), 4), None, "asked at node 2");
        assert!(w.read_outcome(2, id, Ok(&state), 4).is_some());
        let op = &w.history()[0];
        assert_eq!(
            (op.kind, op.key, op.value, op.result),
            (OpKind::IndexRead, key, Some(9), OpResult::Ok)
        );
    }

    #[test]
    fn a_crash_makes_submitted_operations_unknown() {
        let mut w = workload(PROPOSALS);
        propose(&mut w, 0, 0);
        w.attempted(0, 0, true);
        propose(&mut w, 1, 0);
        w.attempted(1, 0, false);
        w.node_crashed(1, 50);
        w.node_crashed(2, 50);
        let results: Vec<OpResult> = w.history().iter().map(|op| op.result).collect();
        assert_eq!(results, [OpResult::Unknown, OpResult::Refused]);
        assert_eq!(w.wake(0, w.generation(0), 60), None);
        assert_eq!(w.node_started(1, 60).len(), 1);
    }

    #[test]
    fn the_deadline_abandons_an_operation() {
        let mut w = workload(PROPOSALS);
        propose(&mut w, 0, 0);
        w.attempted(0, 0, true);
        let step = w.wake(0, w.generation(0), 1000);
        assert!(matches!(step, Some(Step::Sleep(_))));
        assert_eq!(w.history()[0].result, OpResult::Unknown);
    }
}
