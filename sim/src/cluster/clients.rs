//! The clients' side: each client wakes, asks the workload what to do, and does it at its node
//! (a proposal or a read); the answers the node gives through its events go back to the
//! workload.
use super::Cluster;
use crate::workload::{ClientIndex, Step};
use flotilla_core::reducers::kv::{Kv, KvState};
use flotilla_core::{Node, NodeId, ReadError, ReadId};

impl Cluster {
    /// Node `id` answered the read `read`: ready, or failed with `error`. A ready read takes
    /// the state now and answers once the outputs queued so far are performed: the core's
    /// contract for reading `committed_state()` (a lone voter's state counts writes that are
    /// still on their way to its disk).
    pub(super) fn read_answered(&mut self, id: NodeId, read: ReadId, error: Option<ReadError>) {
        let host = self.host(id);
        let Some(node) = host.node.as_ref() else { return };
        match error {
            None => {
                let state = node.committed_state().clone();
                host.held_reads.push_back((host.queued, read, state));
                self.release_reads(id);
            }
            Some(error) => self.read_result(id, read, Err(error)),
        }
    }

    /// Answers the held reads of node `id` whose outputs before them are all performed.
    pub(super) fn release_reads(&mut self, id: NodeId) {
        loop {
            let host = self.host(id);
            if host.held_reads.front().is_none_or(|&(at, ..)| at > host.performed) {
                return;
            }
            let Some((_, read, state)) = host.held_reads.pop_front() else { return };
            self.read_result(id, read, Ok(&state));
        }
    }

    /// Tells the workload how the read `read` at node `id` ended.
    fn read_result(&mut self, id: NodeId, read: ReadId, result: Result<&KvState, ReadError>) {
        let before = self.workload.history().len();
        if let Some((client, at)) = self.workload.read_outcome(id, read, result, self.now) {
            self.schedule_client(client, at);
        }
        self.trace_finished(before);
    }

    /// The node of a live client (a client dies with its node).
    pub(super) fn running(&mut self, id: NodeId) -> &mut Node<Kv> {
        self.host(id).node.as_mut().expect("a client of a crashed node is dead")
    }

    pub(super) fn client_wake(&mut self, client: ClientIndex, generation: u64) {
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
                let answer = self.running(node).propose(now, request, action);
                if let Err(error) = &answer {
                    let text = format!("client {} refused: {error:?}", request.client);
                    self.trace.line(now, || text);
                }
                let at = self.workload.attempted(client, now, answer.is_ok());
                self.schedule_client(client, at);
                self.after_input(node);
            }
            Some(Step::Read { node, id, key }) => {
                self.trace.line(now, || format!("read {} of k{key} at n{node}", id.0));
                let answer = self.running(node).read(now, id);
                if let Err(error) = &answer {
                    self.trace.line(now, || format!("read {} refused: {error:?}", id.0));
                }
                let at = self.workload.attempted(client, now, answer.is_ok());
                self.schedule_client(client, at);
                self.after_input(node);
            }
        }
    }

    /// Traces the operations the workload finished since the history had `before` entries.
    pub(super) fn trace_finished(&mut self, before: usize) {
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
}
