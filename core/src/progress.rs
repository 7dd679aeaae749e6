//! What a leader knows about each follower's log, and how it paces replication to it.
//!
//! A follower starts in `Probe`: one append at a time, each waiting for its answer, until the
//! leader finds where their logs match. It then moves to `Replicate`: the leader streams appends
//! optimistically (pipelining), tracking the last index of each one in flight so that at most
//! `max_inflight_appends` are outstanding. A rejection sends it back to `Probe`. A follower that
//! needs entries the leader compacted away moves to `Snapshot`: it receives the leader's snapshot
//! in chunks, a few in flight, and moves back to `Probe` once it acknowledges the snapshot's
//! last index.
use crate::{LogIndex, Millis, NodeId};
use alloc::collections::VecDeque;

/// How a leader currently replicates to a follower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationState {
    /// Looking for the point where the logs match; one append in flight at most.
    Probe,
    /// Logs match up to `match_index`; appends are pipelined.
    Replicate,
    /// The follower needs entries compacted away: a snapshot is being sent.
    Snapshot,
}

/// Snapshot chunks a leader keeps in flight to one follower.
const SNAPSHOT_WINDOW: u64 = 4;

pub(crate) struct Progress {
    pub(crate) id: NodeId,
    /// Highest index known to be replicated on the follower.
    pub(crate) match_index: LogIndex,
    /// Index of the next entry to send.
    pub(crate) next_index: LogIndex,
    pub(crate) state: ReplicationState,
    /// In `Probe`: an append was sent and its answer (or a heartbeat answer) is awaited.
    probe_sent: bool,
    /// In `Replicate`: the last index of each append in flight, oldest first.
    inflight: VecDeque<LogIndex>,
    /// In `Replicate`: the last index of the latest append that carried less than a full
    /// batch; it is in flight while `inflight` still holds it (see `has_partial_inflight`).
    partial_until: LogIndex,
    /// Heard from since the last CheckQuorum round.
    pub(crate) recently_active: bool,
    /// The highest commit index this follower has been told about.
    pub(crate) commit_sent: LogIndex,
    /// The highest index whose commit this follower waits to learn at once: the last entry it
    /// forwarded (its proposer waits for the outcome) or a read index it was given. Other
    /// commits reach it with the next append or heartbeat.
    pub(crate) commit_wanted: LogIndex,
    /// When anything last arrived from this node (or when the leader started tracking it).
    pub(crate) last_heard: Millis,
    /// The latest heartbeat round this follower answered (for reads).
    pub(crate) round_acked: u64,
    /// In `Snapshot`: the snapshot being sent (by its last index), the offset of the next byte
    /// to send, and how many bytes the follower confirmed.
    pub(crate) snapshot_index: LogIndex,
    pub(crate) snapshot_sent: u64,
    snapshot_acked: u64,
    /// When the follower last reported progress (or sending last went back): with none for a
    /// whole heartbeat interval, chunks were lost.
    snapshot_progress_at: Millis,
}

impl Progress {
    pub(crate) fn new(id: NodeId, next_index: LogIndex, now: Millis) -> Self {
        Progress {
            id,
            match_index: 0,
            next_index,
            state: ReplicationState::Probe,
            probe_sent: false,
            inflight: VecDeque::new(),
            partial_until: 0,
            recently_active: false,
            commit_sent: 0,
            commit_wanted: 0,
            last_heard: now,
            round_acked: 0,
            snapshot_index: 0,
            snapshot_sent: 0,
            snapshot_acked: 0,
            snapshot_progress_at: now,
        }
    }

    /// Whether no further append may be sent now.
    pub(crate) fn is_paused(&self, max_inflight: usize) -> bool {
        match self.state {
            ReplicationState::Probe => self.probe_sent,
            ReplicationState::Replicate => self.inflight.len() >= max_inflight.max(1),
            ReplicationState::Snapshot => true,
        }
    }

    /// Whether an append of less than a full batch to this follower awaits its answer (in
    /// `Replicate`). Appends in flight are acknowledged oldest first, so it is in flight while
    /// the oldest one in flight ends at or before it.
    pub(crate) fn has_partial_inflight(&self) -> bool {
        self.inflight.front().is_some_and(|&oldest| oldest <= self.partial_until)
    }

    /// Records that an append ending at `last_index` went out; `partial` if it carried less
    /// than a full batch.
    pub(crate) fn sent(&mut self, last_index: LogIndex, partial: bool) {
        match self.state {
            ReplicationState::Probe => self.probe_sent = true,
            ReplicationState::Replicate => {
                self.next_index = last_index + 1;
                self.inflight.push_back(last_index);
                if partial {
                    self.partial_until = last_index;
                }
            }
            ReplicationState::Snapshot => {}
        }
    }

    /// The follower holds our log up to `index`. Returns whether that is news.
    pub(crate) fn acknowledge(&mut self, index: LogIndex) -> bool {
        self.probe_sent = false;
        while self.inflight.front().is_some_and(|&last| last <= index) {
            self.inflight.pop_front();
        }
        if self.state == ReplicationState::Snapshot && index >= self.snapshot_index {
            // The snapshot is in: continue with the entries after it.
            self.state = ReplicationState::Probe;
            self.next_index = self.match_index.max(index) + 1;
        }
        if index <= self.match_index {
            return false;
        }
        self.match_index = index;
        self.next_index = self.next_index.max(index + 1);
        if self.state == ReplicationState::Probe {
            self.state = ReplicationState::Replicate;
            self.next_index = index + 1;
        }
        true
    }

    /// Whether a rejection of the append that followed `rejected_index` is about the current
    /// state, rather than a late answer to an append we already gave up on.
    pub(crate) fn is_current_rejection(&self, rejected_index: LogIndex) -> bool {
        match self.state {
            ReplicationState::Replicate => rejected_index > self.match_index,
            ReplicationState::Probe => rejected_index.checked_add(1) == Some(self.next_index),
            ReplicationState::Snapshot => false,
        }
    }

    /// Goes back to probing from `next_index` (never below what is known to match).
    pub(crate) fn probe_from(&mut self, next_index: LogIndex) {
        self.state = ReplicationState::Probe;
        self.probe_sent = false;
        self.inflight.clear();
        self.partial_until = 0;
        self.next_index = next_index.max(self.match_index + 1);
    }

    /// A heartbeat answer proves the follower is reachable: let a stalled probe go again, and
    /// free one slot of the pipeline, since acknowledgements may have been lost (the answer
    /// to the next append acknowledges everything before it). Not only a full pipeline: a
    /// partial append waits while another is in flight (`Node::replicate_to`).
    /// While sending a snapshot, a follower that answers heartbeats but reported no progress
    /// for `interval` lost chunks: sending goes back to what it holds.
    pub(crate) fn heartbeat_answered(&mut self, now: Millis, interval: Millis) {
        self.probe_sent = false;
        if !self.inflight.is_empty() {
            self.inflight.pop_front();
        }
        let stalled = now >= self.snapshot_progress_at.saturating_add(interval);
        if self.state == ReplicationState::Snapshot && stalled {
            self.snapshot_sent = self.snapshot_acked;
            self.snapshot_progress_at = now;
        }
    }

    /// Starts sending the snapshot whose last index is `index`, from its first byte.
    pub(crate) fn send_snapshot(&mut self, index: LogIndex, now: Millis) {
        self.state = ReplicationState::Snapshot;
        self.snapshot_index = index;
        (self.snapshot_sent, self.snapshot_acked, self.snapshot_progress_at) = (0, 0, now);
        self.probe_sent = false;
        self.inflight.clear();
        self.partial_until = 0;
    }

    /// The bytes of the next chunk to send, out of a snapshot of `total` bytes, if the window
    /// allows one now; records it as sent.
    pub(crate) fn next_chunk(&mut self, total: u64, chunk: u64) -> Option<(u64, u64)> {
        let (sent, chunk) = (self.snapshot_sent, chunk.max(1));
        if sent >= total || sent - self.snapshot_acked.min(sent) >= chunk * SNAPSHOT_WINDOW {
            return None;
        }
        let end = total.min(sent + chunk);
        self.snapshot_sent = end;
        Some((sent, end))
    }

    /// The follower holds the first `received` bytes of snapshot `index` (perhaps more than
    /// this leader sent: it may have received them from an earlier leader); with `resend`, it
    /// missed what came next, so sending starts again from there.
    pub(crate) fn snapshot_acknowledged(
        &mut self,
        index: LogIndex,
        received: u64,
        resend: bool,
        now: Millis,
    ) {
        if self.state != ReplicationState::Snapshot || index != self.snapshot_index {
            return;
        }
        if received > self.snapshot_acked {
            self.snapshot_acked = received;
            self.snapshot_progress_at = now;
        }
        self.snapshot_sent = if resend { received } else { self.snapshot_sent.max(received) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn probe_sends_one_append_then_replicate_pipelines_up_to_the_cap() {
        let mut p = Progress::new(2, 11, 0);
        assert!(!p.is_paused(2));
        p.sent(10, false);
        assert!(p.is_paused(2));
        assert!(p.acknowledge(10));
        assert_eq!((p.state, p.next_index), (ReplicationState::Replicate, 11));
        p.sent(12, false);
        p.sent(14, false);
        assert!(p.is_paused(2));
        assert_eq!(p.next_index, 15);
        assert!(p.acknowledge(12));
        assert!(!p.is_paused(2));
        assert!(!p.acknowledge(11));
    }

    #[test]
    fn snapshot_chunks_go_out_in_a_window_and_go_back_on_a_gap_or_silence() {
        let mut p = Progress::new(2, 1, 0);
        p.send_snapshot(100, 0);
        let chunks: Vec<_> = core::iter::from_fn(|| p.next_chunk(1000, 100)).collect();
        assert_eq!(chunks, [(0, 100), (100, 200), (200, 300), (300, 400)]);
        p.snapshot_acknowledged(100, 200, false, 1);
        assert_eq!(p.next_chunk(1000, 100), Some((400, 500)));
        p.snapshot_acknowledged(100, 200, true, 2);
        assert_eq!(p.next_chunk(1000, 100), Some((200, 300)), "the follower missed 200..");
        p.heartbeat_answered(20, 50);
        assert_eq!(p.next_chunk(1000, 100), Some((300, 400)), "not silent for long yet");
        p.heartbeat_answered(60, 50);
        assert_eq!(p.next_chunk(1000, 100), Some((200, 300)), "silence: from what it holds");
        p.snapshot_acknowledged(100, 900, false, 61);
        assert_eq!(p.next_chunk(1000, 100), Some((900, 1000)), "it held more than we knew");
        assert!(p.is_paused(8));
        p.acknowledge(100);
        assert_eq!((p.state, p.next_index, p.match_index), (ReplicationState::Replicate, 101, 100));
    }

    #[test]
    fn stale_rejections_are_recognised() {
        let mut p = Progress::new(2, 1, 0);
        p.acknowledge(5);
        p.sent(8, false);
        assert!(!p.is_current_rejection(4));
        assert!(p.is_current_rejection(6));
        p.probe_from(3);
        assert_eq!(p.next_index, 6);
        assert!(p.is_current_rejection(5));
        assert!(!p.is_current_rejection(7));
    }
}
