//! What the checker knows of one node's log: the term of each entry and the configurations in
//! it, kept from what the node writes (`Persist::Entries`, `Persist::Snapshot`) rather than read
//! from its memory. A node may commit entries and compact them away within one step (a lone
//! voter does), so its log in memory can lose an entry before any check sees it; its writes
//! never do.
//!
//! Entries up to `base` are covered by a snapshot whose contents the checker does not know one
//! by one (one installed from a leader); compaction of entries the shadow holds forgets nothing.
use flotilla_core::{Entry, EntryPayload, LogIndex, NodeId, Term};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShadowLog {
    base: LogIndex,
    /// The term of the entry at `base` (0 for the empty prefix), if known.
    base_term: Option<Term>,
    /// The terms of the entries after `base`, in order.
    terms: Vec<Term>,
    /// The voters in force at `base`, if known.
    base_voters: Option<Vec<NodeId>>,
    /// The configuration entries after `base`: index and voters.
    configs: Vec<(LogIndex, Vec<NodeId>)>,
}

impl ShadowLog {
    /// An empty log whose configuration before any entry has `voters`.
    pub fn new(voters: &[NodeId]) -> Self {
        ShadowLog {
            base: 0,
            base_term: Some(0),
            terms: Vec::new(),
            base_voters: Some(voters.to_vec()),
            configs: Vec::new(),
        }
    }

    /// The log of a restarted node: `entries` after a base (a snapshot, or the empty prefix).
    pub fn restored<A>(
        base: LogIndex,
        base_term: Term,
        base_voters: &[NodeId],
        entries: &[Entry<A>],
    ) -> Self {
        let mut log = ShadowLog {
            base,
            base_term: Some(base_term),
            terms: Vec::new(),
            base_voters: Some(base_voters.to_vec()),
            configs: Vec::new(),
        };
        log.write(entries);
        log
    }

    /// Entries up to this index are covered by a snapshot and not known one by one (unless
    /// the log was written from there on).
    pub fn base(&self) -> LogIndex {
        self.base
    }

    pub fn last_index(&self) -> LogIndex {
        self.base + self.terms.len() as LogIndex
    }

    /// The term of the entry at `index`, if the log holds it and the checker knows it.
    pub fn term_at(&self, index: LogIndex) -> Option<Term> {
        if index == self.base {
            return self.base_term;
        }
        let position = index.checked_sub(self.base + 1)?;
        self.terms.get(usize::try_from(position).ok()?).copied()
    }

    /// The index of the entry that set the latest configuration (the base, if none after it).
    pub fn config_index(&self) -> LogIndex {
        self.configs.last().map_or(self.base, |(index, _)| *index)
    }

    /// The voters in force just before `index`, if known.
    pub fn voters_before(&self, index: LogIndex) -> Option<&[NodeId]> {
        match self.configs.iter().rev().find(|(i, _)| *i < index) {
            Some((_, voters)) => Some(voters),
            None => self.base_voters.as_deref(),
        }
    }

    /// A `Persist::Entries`: the entries from the first one's index on are replaced.
    pub fn write<A>(&mut self, entries: &[Entry<A>]) {
        let Some(first) = entries.first().map(|e| e.index) else { return };
        if first <= self.base || first > self.last_index() + 1 {
            // Not next to what the checker knows: start over from the entry before the write.
            *self = ShadowLog {
                base: first - 1,
                base_term: None,
                terms: Vec::new(),
                base_voters: None,
                configs: Vec::new(),
            };
        }
        let keep = (first - 1).min(self.last_index()) - self.base;
        self.terms.truncate(keep as usize);
        self.configs.retain(|(i, _)| *i < first);
        for entry in entries {
            self.terms.push(entry.term);
            if let EntryPayload::Membership(membership) = &entry.payload {
                self.configs.push((entry.index, membership.voters().to_vec()));
            }
        }
    }

    /// A `Persist::Snapshot` at `(index, term)` with `voters` in force. A snapshot of this very
    /// log (compaction) changes nothing the checker needs; one that replaces it (installed from
    /// a leader) leaves only what the snapshot says.
    pub fn snapshot(&mut self, index: LogIndex, term: Term, voters: &[NodeId]) {
        if self.term_at(index) == Some(term) {
            return;
        }
        *self = ShadowLog {
            base: index,
            base_term: Some(term),
            terms: Vec::new(),
            base_voters: Some(voters.to_vec()),
            configs: Vec::new(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_core::Membership;

    fn entries(range: std::ops::RangeInclusive<LogIndex>, term: Term) -> Vec<Entry<()>> {
        range.map(|index| Entry { index, term, payload: EntryPayload::Noop }).collect()
    }

    #[test]
    fn writes_replace_the_suffix() {
        let mut log = ShadowLog::new(&[1, 2, 3]);
        log.write(&entries(1..=5, 1));
        log.write(&entries(4..=6, 2));
        assert_eq!((log.last_index(), log.term_at(3), log.term_at(4)), (6, Some(1), Some(2)));
        assert_eq!((log.term_at(0), log.term_at(7)), (Some(0), None));
    }

    #[test]
    fn configurations_follow_the_writes() {
        let mut log = ShadowLog::new(&[1]);
        let config = |index, term, voters: &[NodeId]| Entry {
            index,
            term,
            payload: EntryPayload::<()>::Membership(Membership::with_voters(voters)),
        };
        log.write(&[config(1, 1, &[1, 2])]);
        log.write(&[config(2, 1, &[1, 2, 3])]);
        assert_eq!(log.voters_before(2), Some(&[1, 2][..]));
        assert_eq!(log.voters_before(1), Some(&[1][..]));
        assert_eq!(log.config_index(), 2);
        log.write(&entries(2..=2, 2));
        assert_eq!(log.voters_before(5), Some(&[1, 2][..]));
    }

    #[test]
    fn compaction_keeps_the_log_and_an_installed_snapshot_replaces_it() {
        let mut log = ShadowLog::new(&[1]);
        log.write(&entries(1..=10, 1));
        log.snapshot(8, 1, &[1]);
        assert_eq!(log.term_at(3), Some(1));
        log.snapshot(20, 3, &[1, 2]);
        assert_eq!((log.term_at(3), log.term_at(20), log.last_index()), (None, Some(3), 20));
        assert_eq!(log.voters_before(21), Some(&[1, 2][..]));
        log.write(&entries(21..=22, 3));
        assert_eq!(log.term_at(22), Some(3));
    }
}
