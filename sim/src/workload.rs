//! The key-value clients: a few per node, each with one operation in flight, recording the
//! history the linearizability checker reads.
//!
//! A client lives in its node's tab: it proposes only there, freezes when the node is paused,
//! and dies with it on a crash (its operation in flight becomes `unknown`; the restarted tab gets
//! fresh clients). After an error or a silent attempt it retries with the same `RequestId`, so
//! the core's deduplication is exercised, until the operation's deadline abandons it.
//!
//! The workload never touches a node itself: it answers "what now?" with a [`Step`] the cluster
//! carries out, and the cluster reports back what the node said.
use crate::history::{Op, OpKind, OpResult};
use crate::rng::Rng;
use flotilla_core::reducers::kv::{KvAction, KvOutput, Value};
use flotilla_core::{LogIndex, Millis, NodeId, ProposalError, RequestId};
use std::convert::Infallible;

/// Index of a client in the workload.
pub type ClientIndex = usize;

/// Shape of the workload.
#[derive(Clone, Debug)]
pub struct WorkloadConfig {
    pub clients_per_node: usize,
    /// Keys are `0..keys`; fewer keys mean more contention and longer per-key histories.
    pub keys: u64,
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
    /// Propose `action` as `request` at `node`, then report with [`Workload::proposed`].
    Propose { node: NodeId, request: RequestId, action: KvAction },
    /// Wake the client again at this time.
    Sleep(Millis),
    /// The client is finished for this run.
    Done,
}

/// An operation in flight.
struct Pending {
    request: RequestId,
    action: KvAction,
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
            Some(pending) => Step::Propose {
                node: c.node,
                request: pending.request,
                action: pending.action.clone(),
            },
            None if now >= self.config.stop_at => Step::Done,
            None => self.begin(client, now),
        };
        Some(step)
    }

    /// What the node answered to `propose`: the next wake of the client.
    pub fn proposed(
        &mut self,
        client: ClientIndex,
        now: Millis,
        answer: Result<(), ProposalError<Infallible>>,
    ) -> Millis {
        let c = &mut self.clients[client];
        c.generation += 1;
        match answer {
            Ok(()) => {
                if let Some(pending) = &mut c.pending {
                    pending.maybe_submitted = true;
                }
                now + self.config.attempt_timeout
            }
            Err(_) => {
                now + self.rng.between(self.config.retry_backoff.0, self.config.retry_backoff.1)
            }
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
            !c.dead
                && c.node == node
                && c.pending.as_ref().is_some_and(|pending| pending.request == request)
        })?;
        match result {
            Ok((_, output)) => {
                let (result, value) = match output {
                    KvOutput::Read(value) => (OpResult::Ok, value),
                    KvOutput::Written => (OpResult::Ok, None),
                    KvOutput::Cas(true) => (OpResult::Ok, None),
                    KvOutput::Cas(false) => (OpResult::Fail, None),
                };
                self.finish(client, now, result, value);
                Some((client, self.sleep_then_next(client, now)))
            }
            Err(_) => {
                let c = &mut self.clients[client];
                c.generation += 1;
                let backoff =
                    self.rng.between(self.config.retry_backoff.0, self.config.retry_backoff.1);
                Some((client, now + backoff))
            }
        }
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

    fn order(&mut self) -> u64 {
        self.next_order += 1;
        self.next_order
    }

    /// Starts a new random operation.
    fn begin(&mut self, client: ClientIndex, now: Millis) -> Step {
        let key = self.rng.below(self.config.keys);
        let action = match self.rng.weighted(&[4, 3, 3]) {
            0 => KvAction::Read { key },
            1 => KvAction::Write { key, value: self.fresh_value() },
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
        let call_order = self.order();
        let c = &mut self.clients[client];
        c.seq += 1;
        let request = RequestId { client: c.id, seq: c.seq };
        c.pending = Some(Pending {
            request,
            action: action.clone(),
            call: now,
            call_order,
            deadline: now + self.config.op_deadline,
            maybe_submitted: false,
        });
        Step::Propose { node: c.node, request, action }
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
        let (kind, key, value, from) = match pending.action {
            KvAction::Read { key } => (OpKind::Read, key, read, None),
            KvAction::Write { key, value } => (OpKind::Write, key, Some(value), None),
            KvAction::Cas { key, from, to } => (OpKind::Cas, key, Some(to), from),
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

    fn workload() -> Workload {
        let config = WorkloadConfig {
            clients_per_node: 1,
            keys: 2,
            think_max: 10,
            retry_backoff: (5, 10),
            attempt_timeout: 100,
            op_deadline: 1000,
            stop_at: 5000,
        };
        Workload::new(config, &[1, 2], Rng::new(4))
    }

    fn propose(workload: &mut Workload, client: ClientIndex, now: Millis) -> RequestId {
        let generation = workload.generation(client);
        match workload.wake(client, generation, now) {
            Some(Step::Propose { request, .. }) => request,
            step => panic!("expected a proposal, got {step:?}"),
        }
    }

    #[test]
    fn a_retry_reuses_the_request_id() {
        let mut w = workload();
        let first = propose(&mut w, 0, 0);
        let wake = w.proposed(0, 0, Err(ProposalError::NoLeader));
        assert_eq!(propose(&mut w, 0, wake), first);
    }

    #[test]
    fn an_answered_operation_is_recorded() {
        let mut w = workload();
        let request = propose(&mut w, 0, 0);
        w.proposed(0, 0, Ok(()));
        let answered = w.outcome(1, request, Ok((3, KvOutput::Cas(false))), 7);
        assert_eq!(answered.map(|(client, _)| client), Some(0));
        let op = &w.history()[0];
        assert_eq!((op.call, op.ret), (0, 7));
        assert!(op.result == OpResult::Ok || op.kind != OpKind::Write);
    }

    #[test]
    fn a_crash_makes_submitted_operations_unknown() {
        let mut w = workload();
        propose(&mut w, 0, 0);
        w.proposed(0, 0, Ok(()));
        propose(&mut w, 1, 0);
        w.proposed(1, 0, Err(ProposalError::NoLeader));
        w.node_crashed(1, 50);
        w.node_crashed(2, 50);
        let results: Vec<OpResult> = w.history().iter().map(|op| op.result).collect();
        assert_eq!(results, [OpResult::Unknown, OpResult::Refused]);
        assert_eq!(w.wake(0, w.generation(0), 60), None);
        assert_eq!(w.node_started(1, 60).len(), 1);
    }

    #[test]
    fn the_deadline_abandons_an_operation() {
        let mut w = workload();
        propose(&mut w, 0, 0);
        w.proposed(0, 0, Ok(()));
        let step = w.wake(0, w.generation(0), 1000);
        assert!(matches!(step, Some(Step::Sleep(_))));
        assert_eq!(w.history()[0].result, OpResult::Unknown);
    }
}
