//! What a node asks to be made durable ([`Persist`]), and the image of it a restart reads back
//! ([`DurableState`]). A runtime stores the writes however it likes (IndexedDB, a file, memory);
//! `DurableState::apply` is the reference for what each write means.
use crate::membership::Membership;
use crate::{Entry, LogIndex, NodeId, Term};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

/// The replicated state as of a log index: what compaction keeps of the entries up to it, and
/// what a follower too far behind receives instead of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The last entry the snapshot covers, and its term.
    pub index: LogIndex,
    pub term: Term,
    /// The configuration in force at `index`.
    pub membership: Membership,
    /// The state machine (the reducer's state and the session table), in postcard.
    pub data: Vec<u8>,
}

/// Why a node could not restart from its durable state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// The stored snapshot's data does not decode into this reducer's state.
    Snapshot(postcard::Error),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Snapshot(error) => write!(f, "the stored snapshot does not decode: {error}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RestoreError {}

/// One durable write. The runtime must make it durable before it transmits any `Output::Send`
/// that comes after it in the output queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Persist<A> {
    /// Current term and vote (and commit index, which may be persisted lazily).
    HardState { term: Term, voted_for: Option<NodeId>, commit: LogIndex },
    /// Drop every stored entry at index >= `entries[0].index`, then append `entries`.
    Entries { entries: Vec<Entry<A>> },
    /// Replace the stored snapshot. Stored entries up to `snapshot.index` are no longer needed.
    /// If the stored log does not hold the snapshot's last entry (same index and term), none of
    /// its entries are: the snapshot replaces a log that diverged or fell behind.
    Snapshot { snapshot: Snapshot },
}

/// Everything a node persisted: `Node::restart` rebuilds a node from it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DurableState<A> {
    pub term: Term,
    pub voted_for: Option<NodeId>,
    pub commit: LogIndex,
    /// The latest snapshot, if the node ever compacted or installed one.
    pub snapshot: Option<Snapshot>,
    /// The log after the snapshot (or from index 1 without one).
    pub entries: Vec<Entry<A>>,
}

/// Written by hand: the derive would needlessly require `A: Default`.
impl<A> Default for DurableState<A> {
    fn default() -> Self {
        DurableState { term: 0, voted_for: None, commit: 0, snapshot: None, entries: Vec::new() }
    }
}

impl<A: Clone> DurableState<A> {
    /// Applies one durable write to this image (what a storage backend does on disk).
    pub fn apply(&mut self, write: &Persist<A>) {
        match write {
            Persist::Entries { entries } => {
                self.truncate_for(entries);
                self.entries.extend_from_slice(entries);
            }
            _ => self.absorb(write.clone()),
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
            Persist::Snapshot { snapshot } => {
                let covered = self.entries.partition_point(|e| e.index <= snapshot.index);
                let holds_last = covered > 0 && {
                    let last = &self.entries[covered - 1];
                    (last.index, last.term) == (snapshot.index, snapshot.term)
                };
                if holds_last {
                    self.entries.drain(..covered);
                } else {
                    self.entries.clear();
                }
                self.commit = self.commit.max(snapshot.index);
                self.snapshot = Some(snapshot);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryPayload;
    use alloc::vec;

    fn entries(range: core::ops::RangeInclusive<LogIndex>, term: Term) -> Vec<Entry<()>> {
        range.map(|index| Entry { term, index, payload: EntryPayload::Noop }).collect()
    }

    fn snapshot(index: LogIndex, term: Term) -> Snapshot {
        Snapshot { index, term, membership: Membership::with_voters(&[1]), data: vec![0] }
    }

    #[test]
    fn a_snapshot_keeps_the_entries_after_it_when_the_log_holds_its_last_entry() {
        let mut disk = DurableState::default();
        disk.apply(&Persist::Entries { entries: entries(1..=10, 2) });
        disk.apply(&Persist::Snapshot { snapshot: snapshot(6, 2) });
        assert_eq!(disk.entries.first().map(|e| e.index), Some(7));
        assert_eq!((disk.entries.len(), disk.commit), (4, 6));
        // A later one, past the end of a log that diverged: nothing of the log is kept.
        disk.apply(&Persist::Snapshot { snapshot: snapshot(12, 3) });
        assert!(disk.entries.is_empty());
        disk.apply(&Persist::Entries { entries: entries(13..=14, 3) });
        assert_eq!(disk.snapshot.as_ref().map(|s| s.index), Some(12));
        assert_eq!(disk.entries.len(), 2);
    }

    #[test]
    fn a_snapshot_whose_last_entry_conflicts_drops_the_whole_log() {
        let mut disk = DurableState::default();
        disk.apply(&Persist::Entries { entries: entries(1..=10, 2) });
        disk.apply(&Persist::Snapshot { snapshot: snapshot(5, 3) });
        assert!(disk.entries.is_empty());
    }
}
