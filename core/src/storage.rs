//! What a node asks to be made durable ([`Persist`]), and the image of it a restart reads back
//! ([`DurableState`]). A runtime stores the writes however it likes (IndexedDB, a file, memory);
//! `DurableState::apply` is the reference for what each write means.
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableState<A> {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub commit: LogIndex,
    pub entries: Vec<Entry<A>>,
}

/// Written by hand: the derive would needlessly require `A: Default`.
impl<A> Default for DurableState<A> {
    fn default() -> Self {
        DurableState { term: 0, voted_for: None, commit: 0, entries: Vec::new() }
    }
}

impl<A: Clone> DurableState<A> {
    /// Applies one durable write to this image (what a storage backend does on disk).
    pub fn apply(&mut self, write: &Persist<A>) {
        match write {
            Persist::HardState { .. } => self.absorb(write.clone()),
            Persist::Entries { entries } => {
                self.truncate_for(entries);
                self.entries.extend_from_slice(entries);
            }
        }
    }

    /// Like [`apply`](Self::apply), but takes the write by value and so copies no entries.
    pub fn absorb(&mut self, write: Persist<A>) {
        match write {
            Persist::HardState { term, voted_for, commit } => {
                self.term = term;
                self.voted_for = voted_for;
                self.commit = commit;
            }
            Persist::Entries { mut entries } => {
                self.truncate_for(&entries);
                self.entries.append(&mut entries);
            }
        }
    }

    /// Drops the stored entries that `incoming` replaces (those at or after its first index).
    fn truncate_for(&mut self, incoming: &[Entry<A>]) {
        let Some(first) = incoming.first() else { return };
        if self.entries.last().is_none_or(|last| last.index < first.index) {
            return; // the common case: appending after the end
        }
        let keep = self.entries.partition_point(|e| e.index < first.index);
        self.entries.truncate(keep);
    }
}
