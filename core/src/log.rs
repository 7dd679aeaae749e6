//! The in-memory Raft log: a `Vec` of entries that follow a base position `(base_index,
//! base_term)`. The base is `(0, 0)` for a log that starts at index 1; compaction moves it
//! forward (never past the latest snapshot), and installing a snapshot puts it at the
//! snapshot's last entry.
//!
//! The log also remembers the lowest index that changed since its entries were last handed to
//! the runtime in a `Persist`, so a node can batch many appends into one durable write.
use crate::{Entry, LogIndex, Term};
use alloc::vec::Vec;

pub(crate) struct RaftLog<A> {
    base_index: LogIndex,
    base_term: Term,
    entries: Vec<Entry<A>>,
    /// Entries at or after this index are not yet in any emitted `Persist::Entries`.
    unpersisted_from: Option<LogIndex>,
}

impl<A: Clone> RaftLog<A> {
    /// A log holding `entries` after `(base_index, base_term)`; they are already durable (a
    /// restart reads them back).
    pub(crate) fn from_durable(
        base_index: LogIndex,
        base_term: Term,
        entries: Vec<Entry<A>>,
    ) -> Self {
        RaftLog { base_index, base_term, entries, unpersisted_from: None }
    }

    /// The last index compacted away (0 if none): entries at or below it are gone.
    pub(crate) fn base_index(&self) -> LogIndex {
        self.base_index
    }

    /// Drops the entries up to `index`, which becomes the base. `index` must be in the log.
    pub(crate) fn compact_to(&mut self, index: LogIndex) {
        let Some(term) = self.term_at(index) else { return };
        let drop = (index - self.base_index) as usize;
        self.entries.drain(..drop);
        (self.base_index, self.base_term) = (index, term);
        if self.unpersisted_from.is_some_and(|from| from <= index) {
            // Compacted entries need no writing: the snapshot that covers them is written.
            self.unpersisted_from = (index < self.last_index()).then_some(index + 1);
        }
    }

    /// Drops every entry: the log starts after `(index, term)` (a snapshot it did not hold).
    pub(crate) fn reset(&mut self, index: LogIndex, term: Term) {
        self.entries.clear();
        (self.base_index, self.base_term) = (index, term);
        self.unpersisted_from = None;
    }

    pub(crate) fn entries(&self) -> &[Entry<A>] {
        &self.entries
    }

    pub(crate) fn last_index(&self) -> LogIndex {
        self.base_index + self.entries.len() as LogIndex
    }

    pub(crate) fn last_term(&self) -> Term {
        self.entries.last().map_or(self.base_term, |e| e.term)
    }

    fn position(&self, index: LogIndex) -> Option<usize> {
        let offset = index.checked_sub(self.base_index + 1)?;
        usize::try_from(offset).ok().filter(|&p| p < self.entries.len())
    }

    pub(crate) fn entry(&self, index: LogIndex) -> Option<&Entry<A>> {
        self.position(index).map(|p| &self.entries[p])
    }

    /// The term of the entry at `index`, if the log knows it.
    pub(crate) fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.base_index {
            return Some(self.base_term);
        }
        self.entry(index).map(|e| e.term)
    }

    /// Up to `max` entries starting at `from` (empty when `from` is past the end).
    pub(crate) fn slice_from(&self, from: LogIndex, max: usize) -> &[Entry<A>] {
        match self.position(from) {
            Some(start) => &self.entries[start..self.entries.len().min(start.saturating_add(max))],
            None => &[],
        }
    }

    /// Whether a log ending at `(last_index, last_term)` is at least as up-to-date as this one
    /// (section 5.4.1: compare last terms, then lengths).
    pub(crate) fn is_up_to_date(&self, last_index: LogIndex, last_term: Term) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// The last index at or below `index` whose term is at most `term`, with that term. This is
    /// the fast-backtracking probe: both sides skip whole terms that cannot match.
    pub(crate) fn last_at_or_below(&self, index: LogIndex, term: Term) -> (LogIndex, Term) {
        let mut index = index.min(self.last_index());
        loop {
            match self.term_at(index) {
                Some(t) if t > term && index > self.base_index => index -= 1,
                Some(t) => return (index, t),
                None => return (self.base_index, self.base_term),
            }
        }
    }

    /// Appends one entry at the end (a leader's own proposal or no-op).
    pub(crate) fn push(&mut self, entry: Entry<A>) {
        debug_assert_eq!(entry.index, self.last_index() + 1);
        self.mark_unpersisted(entry.index);
        self.entries.push(entry);
    }

    /// The position in `incoming` (contiguous entries following an entry this log matches) of the
    /// first entry this log does not already hold. `incoming.len()` when it holds them all.
    pub(crate) fn first_new(&self, incoming: &[Entry<A>]) -> usize {
        if incoming.first().is_some_and(|e| e.index > self.last_index()) {
            return 0; // the common case: the entries extend the log
        }
        incoming
            .iter()
            .position(|e| self.term_at(e.index) != Some(e.term))
            .unwrap_or(incoming.len())
    }

    /// Replaces everything from `new[0].index` on by `new` (a follower taking the leader's
    /// entries after a conflict, or simply extending its log).
    pub(crate) fn replace_from(&mut self, new: impl Iterator<Item = Entry<A>>) {
        let mut new = new.peekable();
        let Some(first) = new.peek().map(|e| e.index) else { return };
        let keep = first.saturating_sub(self.base_index + 1) as usize;
        self.entries.truncate(keep);
        self.mark_unpersisted(first);
        self.entries.extend(new);
    }

    fn mark_unpersisted(&mut self, index: LogIndex) {
        self.unpersisted_from = Some(self.unpersisted_from.map_or(index, |from| from.min(index)));
    }

    /// The entries changed since the last call, to be emitted in a `Persist::Entries`.
    pub(crate) fn take_unpersisted(&mut self) -> Option<Vec<Entry<A>>> {
        let from = self.unpersisted_from.take()?;
        let entries = self.slice_from(from, usize::MAX).to_vec();
        (!entries.is_empty()).then_some(entries)
    }

    /// The last index whose entry has been handed out for persisting.
    pub(crate) fn persisted_index(&self) -> LogIndex {
        self.unpersisted_from.map_or(self.last_index(), |from| from - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EntryPayload;
    use alloc::vec;

    fn log_of_terms(terms: &[Term]) -> RaftLog<()> {
        let entries = terms
            .iter()
            .enumerate()
            .map(|(i, &term)| Entry { term, index: i as LogIndex + 1, payload: EntryPayload::Noop })
            .collect();
        RaftLog::from_durable(0, 0, entries)
    }

    #[test]
    fn term_lookup_and_bounds() {
        let log = log_of_terms(&[1, 1, 2]);
        assert_eq!((log.last_index(), log.last_term()), (3, 2));
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(3), Some(2));
        assert_eq!(log.term_at(4), None);
        assert_eq!(log.slice_from(2, 10).len(), 2);
        assert!(log.slice_from(4, 10).is_empty());
    }

    #[test]
    fn compaction_moves_the_base_and_keeps_lookups_right() {
        let mut log = log_of_terms(&[1, 1, 2, 2, 3]);
        log.compact_to(3);
        assert_eq!((log.base_index(), log.last_index(), log.entries().len()), (3, 5, 2));
        assert_eq!((log.term_at(3), log.term_at(2), log.term_at(5)), (Some(2), None, Some(3)));
        assert_eq!(log.last_at_or_below(5, 1), (3, 2), "nothing below the base");
        log.reset(9, 4);
        assert_eq!((log.last_index(), log.last_term(), log.term_at(9)), (9, 4, Some(4)));
    }

    #[test]
    fn backtracking_skips_whole_terms() {
        let log = log_of_terms(&[1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
        assert_eq!(log.last_at_or_below(10, 3), (3, 1));
        assert_eq!(log.last_at_or_below(10, 5), (7, 5));
        assert_eq!(log.last_at_or_below(20, 9), (10, 6));
        assert_eq!(log.last_at_or_below(2, 0), (0, 0));
    }

    #[test]
    fn replacing_truncates_the_conflicting_suffix_and_marks_it_unpersisted() {
        let mut log = log_of_terms(&[1, 1, 2, 2]);
        let incoming = vec![
            Entry { term: 1, index: 2, payload: EntryPayload::Noop },
            Entry { term: 3, index: 3, payload: EntryPayload::Noop },
        ];
        let new = log.first_new(&incoming);
        assert_eq!(new, 1);
        log.replace_from(incoming.into_iter().skip(new));
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.term_at(3), Some(3));
        assert_eq!(log.persisted_index(), 2);
        assert_eq!(log.take_unpersisted().map(|e| e.len()), Some(1));
        assert_eq!(log.persisted_index(), 3);
    }
}
