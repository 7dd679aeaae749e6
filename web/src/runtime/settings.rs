//! Every timing of the runtime, in one place, with the reason for each value.
//!
//! The targets (issue 6) drive them: a new leader within 100 ms (p50) after the leader's tab
//! closes, within the maximum election timeout + 150 ms after it freezes, and no election while
//! a hidden leader keeps ticking from its Worker.
use flotilla_core::{Config, NodeId};

/// The Raft timings a user can change from the UI (`Command::SetTimings`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    /// Followers campaign after a random time in `[min, max)` without a leader. 300–600 ms
    /// (twice the paper's 150–300) leaves room for a busy main thread (a burst of thousands of
    /// entries, a Yew render) to delay a heartbeat without deposing a healthy leader; a closed
    /// leader does not wait for it at all (the transport's close hint starts an election at
    /// once), and a frozen one is replaced within `max` plus one round of votes.
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    /// Heartbeats every 50 ms: six chances per minimum election timeout, and commit indexes
    /// reach followers within 50 ms (with the next append if sooner; the core tells a follower
    /// at once only of commits it waits for, its own forwarded proposals, and in a 2- or
    /// 3-voter cluster a follower knows an entry committed as soon as it wrote it).
    pub heartbeat_ms: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings { election_timeout_min_ms: 300, election_timeout_max_ms: 600, heartbeat_ms: 50 }
    }
}

impl Timings {
    /// The nearest sensible timings: a heartbeat of 10 ms to 1 s, a minimum election timeout of
    /// at least three heartbeats (a follower must be able to miss two), and a non-empty range.
    pub fn sanitized(self) -> Timings {
        let heartbeat_ms = self.heartbeat_ms.clamp(10, 1_000);
        let election_timeout_min_ms = self.election_timeout_min_ms.clamp(3 * heartbeat_ms, 60_000);
        let election_timeout_max_ms =
            self.election_timeout_max_ms.clamp(election_timeout_min_ms + 1, 120_000);
        Timings { election_timeout_min_ms, election_timeout_max_ms, heartbeat_ms }
    }

    /// The core's configuration for node `id` with these timings.
    pub fn config(&self, id: NodeId) -> Config {
        let mut config = Config::new(id);
        config.election_timeout_min = self.election_timeout_min_ms;
        config.election_timeout_max = self.election_timeout_max_ms;
        config.heartbeat_interval = self.heartbeat_ms;
        config.max_entries_per_append = MAX_ENTRIES_PER_APPEND;
        config.max_inflight_appends = MAX_INFLIGHT_APPENDS;
        config.proposal_timeout = PROPOSAL_TIMEOUT_MS;
        config.compact_after_entries = Some(COMPACT_AFTER_ENTRIES);
        config.compact_after_entries_max = COMPACT_AFTER_ENTRIES_MAX;
        // A follower that fell behind during a burst catches up from entries kept in memory
        // rather than by the (whole-state) snapshot.
        config.compact_keep_entries = COMPACT_AFTER_ENTRIES;
        config
    }
}

/// A member not heard from (no Raft or gossip frame) for this long is removed from the
/// configuration; `Command::SetDeadAfter` changes it. 10 s outlasts a freeze demo and a reload.
pub const DEAD_AFTER_MS: u64 = 10_000;

/// How often gossip opens an exchange with every reachable peer. Telemetry (role, term,
/// indexes) is at most this stale in the cluster-wide table.
pub const GOSSIP_EVERY_MS: u64 = 200;

/// A tab alone in its room waits this long before founding a cluster. After a signal server
/// restart the room looks empty until the tabs of the running cluster reconnect (within the
/// signaling client's largest reconnection delay, 1.5 s, see `transport::backoff`); a tab
/// opened in that window must find them rather than found a second cluster. Tabs that open
/// together see each other and do not wait: the lowest id founds the cluster at once.
pub const BOOTSTRAP_ALONE_MS: f64 = 2_500.0;

/// How often the runtime re-evaluates membership (admissions, removals) as a leader.
pub const MEMBERSHIP_EVERY_MS: u64 = 100;

/// Entries per append message. A big batch makes a burst cheap (one message, one durable write
/// per follower per batch); frames above the data channel's limit are split by `wire`.
pub const MAX_ENTRIES_PER_APPEND: usize = 512;
/// Appends proposed per task: a bigger burst continues at the next tick (right away), so
/// that timers, heartbeats and the followers' acknowledgements run between slices. A slice is
/// proposed, written and sent in one task; 4,096 made that task last 140 ms on a loaded
/// machine, which with a view rendered just before it left followers without a word from the
/// leader past the 300 ms election timeout (e2e/profile.mjs, PROFILE_TRACE_BURST). Each slice
/// waits for a tick (a round trip through the ticker's Worker), so not much smaller.
pub const PROPOSE_SLICE: usize = 2_048;
/// Appends in flight per follower: enough to keep a loopback link busy during a burst.
pub const MAX_INFLIGHT_APPENDS: usize = 64;
/// Compact the log once the entries applied since the last snapshot are as many as the entries
/// it covers, but at least `COMPACT_AFTER_ENTRIES` and at most `COMPACT_AFTER_ENTRIES_MAX`. A
/// snapshot holds the whole shared log (every post), so taking one costs in proportion to the
/// state, not to the entries it replaces: with a fixed interval each snapshot of a long run
/// cost more than the last (a follower's storage writes of a 10,000-entry burst: 441,000
/// characters in the burst that took the snapshot at 8,192, 795,000 in the one at 24,576),
/// and an interval that grows with the state keeps that cost per entry flat. A tab joining
/// after 10,000 entries still catches up by snapshot. The cap bounds what storage and memory
/// hold beside the snapshot to 32,768 entries, so the sessionStorage quota still goes mostly
/// to the shared log itself.
pub const COMPACT_AFTER_ENTRIES: u64 = 8_192;
pub const COMPACT_AFTER_ENTRIES_MAX: u64 = 32_768;
/// A proposal not committed within 3 s is reported timed out (its outcome unknown).
pub const PROPOSAL_TIMEOUT_MS: u64 = 3_000;

/// The ring draws a message for this long after it was sent or received.
pub const FLIGHT_SHOW_MS: f64 = 300.0;
/// At most this many messages are drawn at once (a burst sends thousands a second).
pub const MAX_FLIGHTS: usize = 48;
/// Views are rebuilt on animation frames, at most this often (~30 Hz): a burst of 10,000
/// entries costs a handful of renders.
pub const VIEW_EVERY_MS: f64 = 33.0;
/// ... and no more often than this many times what rendering the last ones took, up to
/// `VIEW_SLOWEST_MS`: the UI may use an eighth of the main thread, and Raft keeps the rest.
/// Measured with 3 tabs on 2 busy cores, rendering at a fixed 30 Hz cut closed-loop writes
/// from ~400/s to ~60/s. The cost counts the browser's style, layout and paint after Yew's
/// render (a trace showed them at twice Yew's time), so the eighth is the real one.
pub const VIEW_COST_FACTOR: f64 = 8.0;
pub const VIEW_SLOWEST_MS: f64 = 500.0;
/// A view that falls due while a commit depends on this tab (`Driver::commit_in_flight`) waits
/// until that work is done, up to this long after the last view: a view costs tens of
/// milliseconds of main thread, and rendered between an append and its ack it adds all of it
/// to that commit (measured: most commits above 20 ms at light load waited for a view). Under
/// continuous load (a closed loop, a burst) views come this often.
pub const VIEW_DEFER_MAX_MS: f64 = 1_000.0;
/// A view that waited for a commit comes this long after it, not at once: the next burst or
/// write of a loop that goes on arrives sooner (the e2e harness's next burst, a few ms), and the
/// view waits for it as well. Rendered at once, it was the leader's longest task (150-260 ms
/// with the machine loaded) right as the next burst began, and with that burst's first slice
/// it left followers without a word from the leader past the 300 ms election timeout.
pub const VIEW_AFTER_COMMIT_MS: f64 = 30.0;
/// A follower whose log grew this recently is in the middle of a stream of entries (a burst, a
/// closed loop) and defers its views like a leader with entries in flight
/// (`Driver::commit_in_flight`). Longer than the leader's longest tasks between two appends
/// under load (50-90 ms measured mid-burst: applying a batch, proposing a slice), so that the
/// gaps of a stream do not let a view in. The view comes at the first input after the
/// stream stopped (a heartbeat, at most 50 ms later), `VIEW_AFTER_COMMIT_MS` after it.
pub const STREAM_QUIET_MS: f64 = 100.0;

/// A peer not heard from for this long is drawn greyed.
pub const UNREACHABLE_AFTER_MS: f64 = 2_000.0;

/// Rows of the shared log in the view (the newest ones) and columns of the log grid.
pub const SHARED_LOG_ROWS: usize = 200;
pub const LOG_GRID_COLUMNS: u64 = 32;
/// Entries kept on the timeline and errors kept for the inspector.
pub const TIMELINE_EVENTS: usize = 200;
pub const ERRORS_SHOWN: usize = 5;
/// Commit latencies kept for the percentiles.
pub const LATENCY_SAMPLES: usize = 2_000;

/// Frames a paused node holds for when it resumes, as a frozen process's socket buffers would;
/// past this the oldest are dropped (a real buffer would overflow too, and Raft retransmits).
pub const PAUSED_INBOX_FRAMES: usize = 50_000;
