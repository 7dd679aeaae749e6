//! SKELETON of the public Node API (the core helper owns and implements it).
use crate::{DurableState, LogIndex, Message, Millis, NodeId, Persist, Reducer, RequestId, Term};
use alloc::vec::Vec;

#[derive(Clone, Debug)]
pub struct Config {
    pub id: NodeId,
    pub election_timeout_min: Millis,
    pub election_timeout_max: Millis,
    pub heartbeat_interval: Millis,
    pub pre_vote: bool,
    pub check_quorum: bool,
    /// Cap on append messages in flight per follower in the replicate state.
    pub max_inflight_appends: usize,
    /// Cap on entries per append message.
    pub max_entries_per_append: usize,
    /// A proposal not committed within this time is answered `TimedOut`.
    pub proposal_timeout: Millis,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub id: NodeId,
    pub term: Term,
    pub role: Role,
    pub leader: Option<NodeId>,
    pub commit: LogIndex,
    pub applied: LogIndex,
    pub last_index: LogIndex,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProposalError<J> {
    NoLeader,
    /// Dropped: the leader changed before the entry committed.
    LeaderChanged,
    Rejected(J),
    TimedOut,
}

#[derive(Clone, Debug)]
pub enum Event<R: Reducer> {
    /// An entry was applied to the committed state (the commit event for subscribers).
    Applied {
        index: LogIndex,
        request: Option<RequestId>,
        action: R::Action,
        output: R::Output,
    },
    /// The outcome of a proposal made at this node.
    ProposalOutcome {
        request: RequestId,
        result: Result<(LogIndex, R::Output), ProposalError<R::Rejection>>,
    },
    RoleChanged {
        term: Term,
        role: Role,
        leader: Option<NodeId>,
    },
}

pub enum Output<R: Reducer> {
    /// Make this durable before transmitting any later `Send`.
    Persist(Persist<R::Action>),
    Send(Message<R::Action>),
    Event(Event<R>),
}

pub struct Node<R: Reducer> {
    _r: core::marker::PhantomData<R>,
}

impl<R: Reducer> Node<R> {
    /// A node with an empty log in a cluster whose voters are `voters` (including `config.id`).
    pub fn new(config: Config, voters: &[NodeId], seed: u64, now: Millis) -> Self {
        let _ = (config, voters, seed, now);
        todo!()
    }
    /// A node restarting from what it had persisted.
    pub fn restart(
        config: Config,
        voters: &[NodeId],
        durable: DurableState<R::Action>,
        seed: u64,
        now: Millis,
    ) -> Self {
        let _ = (config, voters, durable, seed, now);
        todo!()
    }
    pub fn handle_message(&mut self, now: Millis, message: Message<R::Action>) {
        let _ = (now, message);
        todo!()
    }
    /// Call when `now >= poll_timeout()`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let _ = now;
        todo!()
    }
    /// Proposes an intent; the outcome arrives later as `Event::ProposalOutcome`.
    /// An immediate error (e.g. rejected by the method) is returned at once.
    pub fn propose(
        &mut self,
        now: Millis,
        request: RequestId,
        intent: R::Intent,
    ) -> Result<(), ProposalError<R::Rejection>> {
        let _ = (now, request, intent);
        todo!()
    }
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output<R>> {
        todo!()
    }
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        todo!()
    }
    pub fn committed_state(&self) -> &R::State {
        todo!()
    }
    pub fn provisional_state(&self) -> R::State {
        todo!()
    }
    pub fn status(&self) -> Status {
        todo!()
    }
    pub fn log(&self) -> &[crate::Entry<R::Action>] {
        let _: Vec<u8> = Vec::new();
        todo!()
    }
}
