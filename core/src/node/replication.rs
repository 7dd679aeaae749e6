//! Log replication (section 5.3) and commitment (section 5.4.2): what a leader sends each
//! follower, how a follower merges appends, how acknowledgements and rejections move a follower's
//! progress, and how the commit index advances and committed entries are applied.
//!
//! A follower learns the commit index with the next append or heartbeat, as in the paper; the
//! leader tells it at once (a heartbeat) only when it waits for that commit: an entry it
//! forwarded, a read index it was given, or the latest configuration. So a follower applies up
//! to a heartbeat interval after the leader, and a commit costs two messages per follower.
//!
//! One exception saves the notice and its hop where it matters most, in the common 2- and
//! 3-voter clusters: when the leader and this follower alone are a quorum, a follower that
//! persisted an entry of the leader's term knows it is committed (section 5.4.2 counts replicas,
//! not the leader's knowledge of them). The leader wrote the entry before sending it (the
//! durability rule, or its one relaxation in the crate doc, which keeps this true), the append proved both logs equal up to it, so a quorum holds it: every
//! later leader has it. Any quorum of the next configuration, one server away, still meets those
//! two (section 4.1), so a change in flight does not break the argument.
use super::{Event, Node, Output, Role};
use crate::machine::Applied;
use crate::progress::ReplicationState;
use crate::{
    Entry, EntryPayload, LogIndex, MessageBody, Millis, NodeId, ProposalError, Reducer, Term,
};
use alloc::vec::Vec;

/// Whether an append's entries could have come from a leader of `term`: consecutive indices right
/// after `prev_index`, terms never decreasing, none newer than the leader's term.
fn is_well_formed<A>(
    prev_index: LogIndex,
    prev_term: Term,
    term: Term,
    entries: &[Entry<A>],
) -> bool {
    let mut expected = (prev_index, prev_term);
    entries.iter().all(|e| {
        let ok =
            expected.0.checked_add(1) == Some(e.index) && e.term >= expected.1 && e.term <= term;
        expected = (e.index, e.term);
        ok
    })
}

impl<R: Reducer> Node<R> {
    /// Sends `peer` whatever it lacks, as far as its replication state allows; if there is
    /// nothing to send but the peer waits for a commit (`commit_notice_due`), tells it with a
    /// heartbeat.
    ///
    /// Less than a full append waits while another such append to `peer` is in flight, and
    /// goes with the answer to it (Nagle's algorithm, with Minshall's refinement: only small
    /// appends hold small appends back). Proposals that trickle in (clients that each wait for
    /// their last write) then share appends instead of costing each follower a message, a
    /// durable write and an answer apiece; a lone proposal finds nothing in flight and goes at
    /// once; a burst streams full appends up to `max_inflight_appends`, and its last, partial
    /// one does not wait for the full ones before it to be answered.
    pub(super) fn replicate_to(&mut self, peer: usize) {
        let mut sent = false;
        while !self.peers[peer].is_paused(self.config.max_inflight_appends)
            && self.peers[peer].next_index <= self.log.last_index()
            && (!self.peers[peer].has_partial_inflight() || !self.is_partial_append(peer))
            && self.send_append(peer)
        {
            sent = true;
        }
        if self.peers[peer].state == ReplicationState::Snapshot {
            sent |= self.send_snapshot_chunks(peer);
        }
        if !sent && self.commit_notice_due(peer) {
            self.send_heartbeat(peer);
        }
    }

    /// Whether `peer` should learn the commit index now rather than with the next append or
    /// heartbeat: it forwarded a proposal (or was given a read index) that is now committed,
    /// or the latest configuration is. Telling every follower of every commit at once would
    /// cost a heartbeat and its answer per follower per commit (twice the messages of the
    /// append itself) that nobody waits for: a follower's commit index only decides when it
    /// applies, and the proposer is the one waiting for that.
    fn commit_notice_due(&self, peer: usize) -> bool {
        let progress = &self.peers[peer];
        let known = self.commit.min(progress.match_index);
        if known <= progress.commit_sent.max(self.commit_inferred_by(peer)) {
            return false;
        }
        let config = self.configs.latest_index();
        let proposer = progress.commit_wanted > progress.commit_sent;
        (proposer && progress.commit_wanted <= known)
            || config > progress.commit_sent && config <= known
    }

    /// The commit index `peer` worked out by itself: all it acknowledged, if it and this leader
    /// alone are a quorum of the configuration it then had and the entry is of this term (see
    /// the module doc).
    fn commit_inferred_by(&self, peer: usize) -> LogIndex {
        let progress = &self.peers[peer];
        let of_this_term = self.log.term_at(progress.match_index) == Some(self.term);
        let config = self.configs.at(progress.match_index);
        if of_this_term && config.is_quorum_pair(self.config.id, progress.id) {
            progress.match_index
        } else {
            0
        }
    }

    /// A heartbeat carries the commit index only as far as the follower is known to match, so
    /// the follower can adopt it whatever else its log holds.
    fn send_heartbeat(&mut self, peer: usize) {
        let progress = &mut self.peers[peer];
        let commit = self.commit.min(progress.match_index);
        progress.commit_sent = progress.commit_sent.max(commit);
        let to = progress.id;
        let round = self.reads.round;
        self.send(to, self.term, MessageBody::Heartbeat { commit, round });
    }

    /// Whether the next append to `peer` would carry less than a full batch.
    fn is_partial_append(&self, peer: usize) -> bool {
        let waiting = self.log.last_index() + 1 - self.peers[peer].next_index;
        waiting < self.config.max_entries_per_append as LogIndex
    }

    /// Sends `peer` one append starting at its next index, possibly with no entries (then it
    /// probes whether the follower really holds everything before). If the log no longer
    /// knows the entry before the next index, switches `peer` to the snapshot and returns false.
    pub(super) fn send_append(&mut self, peer: usize) -> bool {
        let progress = &self.peers[peer];
        let prev_index = progress.next_index - 1;
        let Some(prev_term) = self.log.term_at(prev_index) else {
            self.start_snapshot(peer);
            return false;
        };
        let entries = self.log.slice_from(progress.next_index, self.config.max_entries_per_append);
        let last = prev_index + entries.len() as LogIndex;
        let body = MessageBody::Append {
            prev_index,
            prev_term,
            commit: self.commit,
            entries: entries.to_vec(),
        };
        let partial = entries.len() < self.config.max_entries_per_append;
        let progress = &mut self.peers[peer];
        progress.sent(last, partial);
        progress.commit_sent = progress.commit_sent.max(self.commit.min(last));
        let to = progress.id;
        self.send(to, self.term, body);
        true
    }

    /// Starts a heartbeat round (which this node, if it votes, answers at once: in a one-voter
    /// cluster that alone confirms it).
    pub(super) fn broadcast_heartbeats(&mut self) {
        self.next_round();
        for peer in 0..self.peers.len() {
            self.send_heartbeat(peer);
        }
        self.confirm_reads();
    }

    pub(super) fn handle_append(
        &mut self,
        now: Millis,
        from: NodeId,
        prev_index: LogIndex,
        prev_term: Term,
        leader_commit: LogIndex,
        mut entries: Vec<Entry<R::Action>>,
    ) {
        if self.role == Role::Leader || !is_well_formed(prev_index, prev_term, self.term, &entries)
        {
            return;
        }
        self.follow(now, from);
        // Committed entries are in every later leader's log (Leader Completeness), so a
        // `prev_index` at or below our commit index matches whatever its term.
        if prev_index > self.commit && self.log.term_at(prev_index) != Some(prev_term) {
            let (hint_index, hint_term) = self.log.last_at_or_below(prev_index, prev_term);
            let body =
                MessageBody::AppendRejected { rejected_index: prev_index, hint_index, hint_term };
            self.send(from, self.term, body);
            return;
        }
        let last_new = prev_index + entries.len() as LogIndex;
        // Entries up to our commit index match for the same reason; skipping them also spares
        // looking up entries a snapshot may have compacted away.
        let committed = self.commit.saturating_sub(prev_index).min(entries.len() as LogIndex);
        let first_new = committed as usize + self.log.first_new(&entries[committed as usize..]);
        if let Some(first) = entries.get(first_new).map(|e| e.index) {
            if first == self.log.last_index() + 1 {
                // Only appended: fold the new entries into the provisional state rather than
                // rebuild it (a copy of the whole state) at this follower's next proposal.
                self.fold_appended_into_provisional(&entries[first_new..]);
            } else {
                self.proposals.invalidate_provisional();
            }
            self.log.replace_from(entries.drain(first_new..));
            self.log_replaced_from(first);
        }
        let commit = leader_commit.min(last_new);
        if commit > self.commit {
            self.advance_commit(commit);
        }
        // `send` emits the new entries for persisting first: the acknowledgement promises them.
        self.send(from, self.term, MessageBody::AppendAccepted { match_index: last_new });
        // Only now, after that write: it is what makes this node count towards the quorum.
        let of_this_term = self.log.term_at(last_new) == Some(self.term);
        if of_this_term
            && last_new > self.commit
            && self.configs.latest().is_quorum_pair(from, self.config.id)
        {
            self.advance_commit(last_new);
        }
    }

    pub(super) fn handle_append_accepted(&mut self, from: NodeId, match_index: LogIndex) {
        if self.role != Role::Leader || match_index > self.log.last_index() {
            return;
        }
        let Some(peer) = self.peers.iter_mut().find(|p| p.id == from) else { return };
        if peer.acknowledge(match_index) {
            self.maybe_commit();
            if self.transfer.as_ref().is_some_and(|t| t.target == from) {
                self.send_timeout_now_if_ready();
            }
        }
        self.needs_flush = true;
    }

    pub(super) fn handle_append_rejected(
        &mut self,
        from: NodeId,
        rejected_index: LogIndex,
        hint_index: LogIndex,
        hint_term: Term,
    ) {
        if self.role != Role::Leader {
            return;
        }
        let Some(peer) = self.peers.iter().position(|p| p.id == from) else { return };
        if !self.peers[peer].is_current_rejection(rejected_index) {
            return;
        }
        let hint_index = hint_index.min(rejected_index);
        let matching = if hint_index < self.log.base_index() {
            hint_index // behind the compacted part: the next append turns into the snapshot
        } else {
            self.log.last_at_or_below(hint_index, hint_term).0
        };
        self.peers[peer].probe_from((matching + 1).min(rejected_index.max(1)));
        self.needs_flush = true;
    }

    pub(super) fn handle_heartbeat(
        &mut self,
        now: Millis,
        from: NodeId,
        commit: LogIndex,
        round: u64,
    ) {
        if self.role == Role::Leader {
            return;
        }
        self.follow(now, from);
        let commit = commit.min(self.log.last_index());
        if commit > self.commit {
            self.advance_commit(commit);
        }
        self.send(from, self.term, MessageBody::HeartbeatResponse { round });
    }

    pub(super) fn handle_heartbeat_response(&mut self, from: NodeId, round: u64) {
        if self.role != Role::Leader {
            return;
        }
        let Some(peer) = self.peers.iter().position(|p| p.id == from) else { return };
        let progress = &mut self.peers[peer];
        if round > progress.round_acked {
            progress.round_acked = round;
            self.confirm_reads();
        }
        let progress = &mut self.peers[peer];
        let interval = self.config.heartbeat_interval;
        progress.heartbeat_answered(self.now, interval);
        let last_index = self.log.last_index();
        let lost = progress.match_index < last_index && progress.next_index > last_index;
        if lost && progress.state != ReplicationState::Snapshot {
            // Everything was sent, yet the follower is behind: an append was lost. An empty
            // append makes the follower say where it stands (a rejection starts a probe).
            self.send_append(peer);
        }
        self.needs_flush = true;
    }

    /// Commits the highest index a majority holds, if it is from the current term (Figure 8:
    /// counting replicas of an older term's entry is not enough).
    pub(super) fn maybe_commit(&mut self) {
        let own = self.log.persisted_index();
        self.match_scratch.clear();
        for &voter in self.configs.latest().voters() {
            let matched = if voter == self.config.id {
                own
            } else {
                self.peers.iter().find(|p| p.id == voter).map_or(0, |p| p.match_index)
            };
            self.match_scratch.push(matched);
        }
        let quorum = self.quorum();
        if self.match_scratch.len() < quorum {
            return; // no voters at all: only a corrupt configuration gets here
        }
        // The quorum-th highest match (sorted, as reads.rs does: one algorithm in the bundle).
        self.match_scratch.sort_unstable();
        let majority = self.match_scratch[self.match_scratch.len() - quorum];
        if majority > self.commit && self.log.term_at(majority) == Some(self.term) {
            self.advance_commit(majority);
        }
    }

    /// Moves the commit index forward and applies every newly committed entry, reporting each
    /// as an event and settling the proposals it decides.
    pub(super) fn advance_commit(&mut self, commit: LogIndex) {
        let old_commit = core::mem::replace(&mut self.commit, commit);
        if self.role == Role::Leader && self.configs.changes_within(old_commit, commit) {
            // Peers that only the previously committed configuration had are gone for good.
            self.sync_peers(self.now, self.log.last_index() + 1);
        }
        self.needs_flush = true;
        while self.machine.applied < self.commit {
            self.count_applied_bytes(self.machine.applied + 1);
            let Some(entry) = self.log.entry(self.machine.applied + 1) else { break };
            let applied = self.machine.apply(entry);
            let request = entry.request();
            let outcome = match applied {
                Applied::Noop => None,
                Applied::Fresh(output) => {
                    if let EntryPayload::Action { action, .. } = &entry.payload {
                        let event = Event::Applied {
                            index: entry.index,
                            request,
                            action: action.clone(),
                            output: output.clone(),
                        };
                        self.outputs.push_back(Output::Event(event));
                    }
                    Some(Ok((entry.index, output)))
                }
                Applied::Duplicate { index, output } => Some(Ok((index, output))),
                Applied::Expired => Some(Err(ProposalError::TimedOut)),
            };
            let term = entry.term;
            if let (Some(request), Some(result)) = (request, outcome) {
                self.settle_proposal(request, result);
            }
            self.settle_proposals_older_than(term);
        }
        self.serve_reads();
        if self.role == Role::Leader {
            self.release_reads_waiting_for_term();
        }
        self.maybe_compact();
    }
}
