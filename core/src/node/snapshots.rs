//! Snapshots and log compaction (section 7 of the paper, chapter 5 of the thesis).
//!
//! A node compacts on its own, once enough applied entries pile up after its latest snapshot
//! (`Config::compact_after_entries`, growing with the state up to `compact_after_entries_max`,
//! or `compact_after_bytes`), or when asked
//! ([`Node::compact_now`]): the state machine (the reducer's state and the session table) and
//! the configuration in force are serialized as of the applied index, and the log up to there is
//! dropped. Storage receives `Persist::Snapshot` and drops those entries too, which is what
//! keeps a tab's durable state bounded.
//!
//! A leader whose follower needs entries it compacted away sends the snapshot instead, in chunks
//! small enough for a data channel, a few in flight (`progress`). The follower reassembles them
//! (`snapshot`), tolerating lost, repeated and reordered chunks, then installs the snapshot:
//! it keeps the log after it if its log holds the snapshot's last entry, and drops it otherwise.
//! Its acknowledgement (`AppendAccepted` at the snapshot's index) leaves only after the
//! `Persist::Snapshot` in the output queue, as the durability rule wants.
use super::{Event, Node, Output, Role};
use crate::machine::Machine;
use crate::membership::{Configurations, Membership};
use crate::progress::ReplicationState;
use crate::snapshot::{self, Received};
use crate::{
    EntryPayload, LogIndex, MessageBody, Millis, NodeId, Persist, Reducer, Snapshot, Term,
};
use alloc::vec::Vec;

impl<R: Reducer> Node<R> {
    /// Compacts the log now, whatever the thresholds: a snapshot at the applied index replaces
    /// the entries up to it. Returns the snapshot's index, or `None` if nothing was applied since
    /// the latest snapshot.
    pub fn compact_now(&mut self) -> Option<LogIndex> {
        (self.machine.applied > self.snapshot_index()).then(|| self.compact())
    }

    /// Counts an applied entry towards the byte threshold, if there is one.
    pub(super) fn count_applied_bytes(&mut self, index: LogIndex) {
        if self.config.compact_after_bytes.is_some() {
            let entry = self.log.entry(index);
            let size = entry.map_or(0, |e| postcard::experimental::serialized_size(e).unwrap_or(0));
            self.applied_bytes = self.applied_bytes.saturating_add(size as u64);
        }
    }

    /// Compacts if the entries applied since the latest snapshot passed a threshold.
    pub(super) fn maybe_compact(&mut self) {
        let since = self.machine.applied.saturating_sub(self.snapshot_index());
        let grown = self.snapshot_index().min(self.config.compact_after_entries_max);
        let by_count =
            self.config.compact_after_entries.is_some_and(|n| since >= n.max(grown).max(1));
        let by_size = self.config.compact_after_bytes.is_some_and(|b| self.applied_bytes >= b);
        if since > 0 && (by_count || by_size) {
            self.compact();
        }
    }

    fn compact(&mut self) -> LogIndex {
        let index = self.machine.applied;
        // The applied index is at or above the log's base, so its term is known.
        let term = self.log.term_at(index).unwrap_or(0);
        // Entries not yet handed out for writing go first: the snapshot write below drops them
        // from storage only if they are there.
        self.emit_log_writes();
        let membership = self.configs.at(index).clone();
        let snapshot = Snapshot { index, term, membership, data: self.machine.to_bytes() };
        let keep_from = index.saturating_sub(self.config.compact_keep_entries);
        self.log.compact_to(keep_from.max(self.log.base_index()));
        self.configs.compact_to(index);
        self.applied_bytes = 0;
        self.counters.compactions += 1;
        self.outputs.push_back(Output::Persist(Persist::Snapshot { snapshot: snapshot.clone() }));
        self.snapshot = Some(snapshot);
        index
    }

    /// Leader: `peer` needs entries that are compacted away, so it gets the snapshot.
    pub(super) fn start_snapshot(&mut self, peer: usize) {
        if let Some(index) = self.snapshot.as_ref().map(|s| s.index) {
            self.peers[peer].send_snapshot(index, self.now);
            self.counters.snapshots_sent += 1;
        }
    }

    /// Leader: sends `peer` the snapshot chunks its window allows. Returns whether any went.
    pub(super) fn send_snapshot_chunks(&mut self, peer: usize) -> bool {
        let Some(snapshot) = self.snapshot.as_ref() else { return false };
        let progress = &mut self.peers[peer];
        if progress.snapshot_index != snapshot.index {
            // Compacted again since the transfer began: send the newer one.
            progress.send_snapshot(snapshot.index, self.now);
            self.counters.snapshots_sent += 1;
        }
        let (total, chunk) = (snapshot.data.len() as u64, self.config.snapshot_chunk_bytes as u64);
        let mut chunks = Vec::new();
        while let Some((offset, end)) = progress.next_chunk(total, chunk) {
            chunks.push(MessageBody::InstallSnapshot {
                index: snapshot.index,
                term: snapshot.term,
                membership: snapshot.membership.clone(),
                offset,
                total,
                data: snapshot.data[offset as usize..end as usize].to_vec(),
            });
        }
        let (to, sent) = (progress.id, !chunks.is_empty());
        for body in chunks {
            self.send(to, self.term, body);
        }
        sent
    }

    /// Leader: a follower reports how much of a snapshot it holds.
    pub(super) fn handle_snapshot_ack(
        &mut self,
        from: NodeId,
        index: LogIndex,
        received: u64,
        resend: bool,
    ) {
        if self.role != Role::Leader {
            return;
        }
        if let Some(peer) = self.peers.iter_mut().find(|p| p.id == from) {
            peer.snapshot_acknowledged(index, received, resend, self.now);
            self.needs_flush = peer.state == ReplicationState::Snapshot || self.needs_flush;
        }
    }

    /// Follower: one chunk of the leader's snapshot.
    pub(super) fn handle_install_snapshot(
        &mut self,
        now: Millis,
        from: NodeId,
        (index, term, membership): (LogIndex, Term, Membership),
        offset: u64,
        total: u64,
        data: Vec<u8>,
    ) {
        if self.role == Role::Leader {
            return;
        }
        self.follow(now, from);
        if index <= self.commit {
            // Already there (our log matches the leader's up to our commit index): tell the
            // leader, which then goes on with entries.
            self.incoming = None;
            self.send(from, self.term, MessageBody::AppendAccepted { match_index: index });
            return;
        }
        match snapshot::receive(&mut self.incoming, self.term, (index, term, total), offset, data) {
            Received::Complete(data) => {
                self.install(from, Snapshot { index, term, membership, data })
            }
            Received::Progress(received) => {
                let body = MessageBody::SnapshotAck { index, received, resend: false };
                self.send(from, self.term, body);
            }
            Received::Gap(received) => {
                let body = MessageBody::SnapshotAck { index, received, resend: true };
                self.send(from, self.term, body);
            }
            Received::Ignored => {}
        }
    }

    /// Follower: replaces the state machine and the log up to the snapshot's index.
    fn install(&mut self, from: NodeId, snapshot: Snapshot) {
        let Ok(machine) = Machine::from_bytes(&snapshot.data, snapshot.index) else {
            return; // not this reducer's state: nothing sane to do but keep ours
        };
        let (index, term) = (snapshot.index, snapshot.term);
        // Writes already queued stay ahead of the snapshot's (which may drop what they wrote).
        self.emit_log_writes();
        if self.log.term_at(index) == Some(term) {
            self.log.compact_to(index);
        } else {
            self.log.reset(index, term);
        }
        self.machine = machine;
        self.commit = index;
        self.applied_bytes = 0;
        let before = (self.configs.latest_index(), self.configs.latest().clone());
        self.configs = Configurations::new(index, snapshot.membership.clone());
        for entry in self.log.entries() {
            if let EntryPayload::Membership(membership) = &entry.payload {
                self.configs.push(entry.index, membership.clone());
            }
        }
        self.outputs.push_back(Output::Persist(Persist::Snapshot { snapshot: snapshot.clone() }));
        self.snapshot = Some(snapshot);
        self.counters.snapshots_installed += 1;
        self.emit(Event::SnapshotInstalled { index, term });
        if (self.configs.latest_index(), self.configs.latest()) != (before.0, &before.1) {
            self.membership_changed();
        }
        self.settle_proposals_after_snapshot(term);
        self.needs_flush = true;
        self.send(from, self.term, MessageBody::AppendAccepted { match_index: index });
    }
}
