//! Live statistics: commits per second, commit latency percentiles, messages per second by kind.
//!
//! Rates count over the last second in ten 100 ms buckets, so they react within 100 ms and cost
//! one array update per event whatever the rate. Latencies are the last
//! [`LATENCY_SAMPLES`](super::settings::LATENCY_SAMPLES) proposals of this tab, from `propose`
//! to the outcome, on the page's sub-millisecond clock.
use std::collections::VecDeque;

use flotilla_core::MessageBody;

use super::settings::LATENCY_SAMPLES;
use crate::view::{MessageKind, StatsView};

const BUCKET_MS: f64 = 100.0;
const BUCKETS: usize = 10;

/// Events per second over the last second.
#[derive(Clone, Debug, Default)]
pub struct Rate {
    counts: [u64; BUCKETS],
    /// The bucket number (time / 100 ms) that `counts[head]` holds.
    newest: u64,
    head: usize,
}

impl Rate {
    fn advance(&mut self, now: f64) {
        let bucket = (now.max(0.0) / BUCKET_MS) as u64;
        let steps = bucket.saturating_sub(self.newest).min(BUCKETS as u64);
        for _ in 0..steps {
            self.head = (self.head + 1) % BUCKETS;
            self.counts[self.head] = 0;
        }
        self.newest = self.newest.max(bucket);
    }

    pub fn add(&mut self, now: f64, n: u64) {
        self.advance(now);
        self.counts[self.head] += n;
    }

    pub fn per_second(&mut self, now: f64) -> f64 {
        self.advance(now);
        self.counts.iter().sum::<u64>() as f64 * 1_000.0 / (BUCKETS as f64 * BUCKET_MS)
    }
}

/// What the ring, the stats panel and the message counters call a message.
pub fn kind<A>(body: &MessageBody<A>) -> (MessageKind, bool) {
    use MessageBody::*;
    match body {
        RequestVote { pre_vote: true, .. } => (MessageKind::PreVote, false),
        RequestVote { .. } => (MessageKind::Vote, false),
        VoteResponse { pre_vote: true, .. } => (MessageKind::PreVote, true),
        VoteResponse { .. } => (MessageKind::Vote, true),
        Append { .. } => (MessageKind::Append, false),
        AppendAccepted { .. } | AppendRejected { .. } => (MessageKind::Append, true),
        Heartbeat { .. } => (MessageKind::Heartbeat, false),
        HeartbeatResponse { .. } => (MessageKind::Heartbeat, true),
        Propose { .. } => (MessageKind::Proposal, false),
        ProposeRejected { .. } => (MessageKind::Proposal, true),
        InstallSnapshot { .. } => (MessageKind::Snapshot, false),
        SnapshotAck { .. } => (MessageKind::Snapshot, true),
        TimeoutNow { .. } => (MessageKind::TimeoutNow, false),
        _ => (MessageKind::Other, false),
    }
}

const KINDS: [MessageKind; 10] = [
    MessageKind::PreVote,
    MessageKind::Vote,
    MessageKind::Append,
    MessageKind::Heartbeat,
    MessageKind::Snapshot,
    MessageKind::Proposal,
    MessageKind::Read,
    MessageKind::TimeoutNow,
    MessageKind::Gossip,
    MessageKind::Other,
];

fn slot(kind: MessageKind) -> usize {
    KINDS.iter().position(|&k| k == kind).unwrap_or(KINDS.len() - 1)
}

#[derive(Clone, Debug, Default)]
pub struct Stats {
    commits: Rate,
    messages: [Rate; KINDS.len()],
    latencies: VecDeque<f64>,
    /// Since the page loaded: for the test hook.
    pub total_commits: u64,
    pub total_messages_in: u64,
    pub total_messages_out: u64,
    pub dropped_frames: u64,
    pub bad_frames: u64,
}

impl Stats {
    pub fn committed(&mut self, now: f64, entries: u64) {
        self.commits.add(now, entries);
        self.total_commits += entries;
    }

    pub fn message(&mut self, now: f64, kind: MessageKind, outgoing: bool) {
        self.messages[slot(kind)].add(now, 1);
        if outgoing {
            self.total_messages_out += 1;
        } else {
            self.total_messages_in += 1;
        }
    }

    pub fn latency(&mut self, ms: f64) {
        if self.latencies.len() == LATENCY_SAMPLES {
            self.latencies.pop_front();
        }
        self.latencies.push_back(ms);
    }

    /// The `p`-th percentile (0..=100) of recent commit latencies, 0 without samples.
    pub fn percentile(&self, p: f64) -> f64 {
        // Sorted as `u64` keys that order exactly as `f64::total_cmp` does: the bundle then
        // carries one sort of `u64`s (the core's) instead of a second sort algorithm for floats.
        let mut sorted: Vec<u64> = self.latencies.iter().map(|&ms| total_order_key(ms)).collect();
        if sorted.is_empty() {
            return 0.0;
        }
        sorted.sort_unstable();
        let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
        from_total_order_key(sorted[rank.min(sorted.len() - 1)])
    }

    pub fn clear_latencies(&mut self) {
        self.latencies.clear();
    }

    pub fn view(&mut self, now: f64) -> StatsView {
        let messages_per_s = KINDS
            .iter()
            .zip(self.messages.iter_mut())
            .map(|(&kind, rate)| (kind, rate.per_second(now)))
            .filter(|&(_, rate)| rate > 0.0)
            .collect();
        StatsView {
            commits_per_s: self.commits.per_second(now),
            latency_p50_ms: self.percentile(50.0),
            latency_p99_ms: self.percentile(99.0),
            messages_per_s,
        }
    }
}

/// A `u64` whose unsigned order is `f64::total_cmp`'s order of `x` (the same bit trick).
fn total_order_key(x: f64) -> u64 {
    let bits = x.to_bits() as i64;
    ((bits ^ (((bits >> 63) as u64) >> 1) as i64) as u64) ^ (1 << 63)
}

/// The `f64` back from [`total_order_key`].
fn from_total_order_key(key: u64) -> f64 {
    let bits = (key ^ (1 << 63)) as i64;
    f64::from_bits((bits ^ (((bits >> 63) as u64) >> 1) as i64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_cover_the_last_second() {
        let mut rate = Rate::default();
        rate.add(0.0, 5);
        rate.add(950.0, 5);
        assert_eq!(rate.per_second(990.0), 10.0);
        assert_eq!(rate.per_second(1_050.0), 5.0);
        assert_eq!(rate.per_second(5_000.0), 0.0);
    }

    #[test]
    fn percentiles_of_recent_latencies() {
        let mut stats = Stats::default();
        assert_eq!(stats.percentile(50.0), 0.0);
        for ms in 1..=100 {
            stats.latency(ms as f64);
        }
        assert_eq!(stats.percentile(50.0), 51.0);
        assert_eq!(stats.percentile(99.0), 99.0);
    }

    #[test]
    fn sort_keys_order_floats_as_total_cmp() {
        let floats = [
            f64::NEG_INFINITY,
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-320,
            0.42,
            3.0,
            1e300,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        for &a in &floats {
            assert_eq!(from_total_order_key(total_order_key(a)).to_bits(), a.to_bits());
            for &b in &floats {
                assert_eq!(total_order_key(a).cmp(&total_order_key(b)), a.total_cmp(&b), "{a} {b}");
            }
        }
    }
}
