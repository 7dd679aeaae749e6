//! What a leader knows about each follower's log, and how it paces replication to it.
//!
//! A follower starts in `Probe`: one append at a time, each waiting for its answer, until the
//! leader finds where their logs match. It then moves to `Replicate`: the leader streams appends
//! optimistically (pipelining), tracking the last index of each one in flight so that at most
//! `max_inflight_appends` are outstanding. A rejection sends it back to `Probe`.
use crate::{LogIndex, Millis, NodeId};
use alloc::collections::VecDeque;

/// How a leader currently replicates to a follower (snapshot transfer will join these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplicationState {
    /// Looking for the point where the logs match; one append in flight at most.
    Probe,
    /// Logs match up to `match_index`; appends are pipelined.
    Replicate,
}

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
    /// Heard from since the last CheckQuorum round.
    pub(crate) recently_active: bool,
    /// The highest commit index this follower has been told about.
    pub(crate) commit_sent: LogIndex,
    /// When anything last arrived from this node (or when the leader started tracking it).
    pub(crate) last_heard: Millis,
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
            recently_active: false,
            commit_sent: 0,
            last_heard: now,
        }
    }

    /// Whether no further append may be sent now.
    pub(crate) fn is_paused(&self, max_inflight: usize) -> bool {
        match self.state {
            ReplicationState::Probe => self.probe_sent,
            ReplicationState::Replicate => self.inflight.len() >= max_inflight.max(1),
        }
    }

    /// Records that an append ending at `last_index` went out.
    pub(crate) fn sent(&mut self, last_index: LogIndex) {
        match self.state {
            ReplicationState::Probe => self.probe_sent = true,
            ReplicationState::Replicate => {
                self.next_index = last_index + 1;
                self.inflight.push_back(last_index);
            }
        }
    }

    /// The follower holds our log up to `index`. Returns whether that is news.
    pub(crate) fn acknowledge(&mut self, index: LogIndex) -> bool {
        self.probe_sent = false;
        while self.inflight.front().is_some_and(|&last| last <= index) {
            self.inflight.pop_front();
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
        }
    }

    /// Goes back to probing from `next_index` (never below what is known to match).
    pub(crate) fn probe_from(&mut self, next_index: LogIndex) {
        self.state = ReplicationState::Probe;
        self.probe_sent = false;
        self.inflight.clear();
        self.next_index = next_index.max(self.match_index + 1);
    }

    /// A heartbeat answer proves the follower is reachable: let a stalled probe go again, and
    /// free one slot of a full pipeline, since acknowledgements may have been lost (the answer
    /// to the next append acknowledges everything before it).
    pub(crate) fn heartbeat_answered(&mut self, max_inflight: usize) {
        self.probe_sent = false;
        if self.inflight.len() >= max_inflight.max(1) {
            self.inflight.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_sends_one_append_then_replicate_pipelines_up_to_the_cap() {
        let mut p = Progress::new(2, 11, 0);
        assert!(!p.is_paused(2));
        p.sent(10);
        assert!(p.is_paused(2));
        assert!(p.acknowledge(10));
        assert_eq!((p.state, p.next_index), (ReplicationState::Replicate, 11));
        p.sent(12);
        p.sent(14);
        assert!(p.is_paused(2));
        assert_eq!(p.next_index, 15);
        assert!(p.acknowledge(12));
        assert!(!p.is_paused(2));
        assert!(!p.acknowledge(11));
    }

    #[test]
    fn stale_rejections_are_recognised() {
        let mut p = Progress::new(2, 1, 0);
        p.acknowledge(5);
        p.sent(8);
        assert!(!p.is_current_rejection(4));
        assert!(p.is_current_rejection(6));
        p.probe_from(3);
        assert_eq!(p.next_index, 6);
        assert!(p.is_current_rejection(5));
        assert!(!p.is_current_rejection(7));
    }
}
