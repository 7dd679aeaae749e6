//! SKELETON: wire-level types. Every message carries its sender, receiver and the sender's term.
use crate::{LogIndex, NodeId, Term};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Identifies one client request: retries reuse it, so it is applied at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId {
    pub client: u64,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryPayload<A> {
    /// The empty entry a new leader appends to commit its term.
    Noop,
    Action {
        request: RequestId,
        action: A,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry<A> {
    pub term: Term,
    pub index: LogIndex,
    pub payload: EntryPayload<A>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message<A> {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    pub body: MessageBody<A>,
}

/// The core helper defines the variants (PreVote, Vote, Append, AppendResponse, forwarded
/// proposals and their outcomes, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageBody<A> {
    Todo(core::marker::PhantomData<A>),
}
