//! SKELETON: what a node asks to be made durable, and the image of it a restart reads back.
use crate::{Entry, LogIndex, NodeId, Term};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// One durable write. The runtime must make it durable before it transmits any `Output::Send`
/// that comes after it in the output queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Persist<A> {
    /// Current term and vote (and commit index, which may be persisted lazily).
    HardState { term: Term, voted_for: Option<NodeId>, commit: LogIndex },
    /// Drop every stored entry at index >= `entries[0].index`, then append `entries`.
    Entries { entries: Vec<Entry<A>> },
}

/// Everything a node persisted: `Node::restart` rebuilds a node from it.
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DurableState<A> {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub commit: LogIndex,
    pub entries: Vec<Entry<A>>,
}

impl<A: Clone> DurableState<A> {
    /// Applies one durable write to this image (what a storage backend does on disk).
    pub fn apply(&mut self, write: &Persist<A>) {
        let _ = write;
        todo!()
    }
}
