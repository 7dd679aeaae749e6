//! The view model: everything the UI draws, as plain data, and every command the UI can give.
//!
//! The runtime (`runtime/`) fills a [`ClusterView`] from its node, its transport and the gossip
//! table; components (`components/`) render from one and emit [`Command`]s. Keeping the boundary
//! in plain data is what lets the browser tests render components from given states, and lets
//! the two sides change without touching each other.
use flotilla_core::NodeId;

/// Milliseconds on the page's clock (`performance.now()` origin).
pub type Millis = f64;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterView {
    /// The room (from `?room=`, default `lobby`) and the link that opens it.
    pub room: String,
    pub share_url: String,
    /// This tab's node.
    pub self_id: NodeId,
    pub now: Millis,
    pub nodes: Vec<NodeView>,
    /// Messages this node recently sent or received, for drawing in flight on the ring.
    pub in_flight: Vec<FlightView>,
    /// This node's election timer, when it is not leader.
    pub election_timer: Option<TimerView>,
    /// Votes while this node campaigns.
    pub vote_tally: Option<VoteTally>,
    pub log_grid: LogGridView,
    pub shared_log: Vec<SharedEntryView>,
    pub timeline: Vec<TimelineEvent>,
    pub inspector: InspectorView,
    /// The cluster-wide table from the gossip layer (live even without a leader).
    pub gossip: Vec<GossipRow>,
    pub stats: StatsView,
    pub controls: ControlsView,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleView {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
    Learner,
    /// Known from gossip or the transport only (not yet in the configuration, or left).
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub id: NodeId,
    pub name: String,
    /// CSS colour chosen by the tab (its author colour in the shared log).
    pub colour: String,
    pub term: u64,
    pub role: RoleView,
    pub is_self: bool,
    pub is_leader: bool,
    /// Greyed on the ring: no open data channel, or not heard from recently.
    pub reachable: bool,
    pub voter: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    PreVote,
    Vote,
    Append,
    Heartbeat,
    Snapshot,
    Proposal,
    Read,
    TimeoutNow,
    Gossip,
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FlightView {
    pub from: NodeId,
    pub to: NodeId,
    pub kind: MessageKind,
    /// Replies are drawn hollow, as in RaftScope.
    pub reply: bool,
    /// Progress along the link, 0.0 at the sender to 1.0 at the receiver.
    pub progress: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimerView {
    /// Fraction of the election timeout already elapsed, 0.0..=1.0.
    pub elapsed: f64,
    pub timeout_ms: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoteTally {
    pub granted: usize,
    pub needed: usize,
    pub voters: usize,
}

/// One row per node of the log grid; cells are coloured by term.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogGridView {
    /// The first index shown (the grid shows a window of the newest entries).
    pub first_index: u64,
    pub rows: Vec<LogRowView>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogRowView {
    pub node: NodeId,
    /// Terms of the entries from `first_index` on, as far as this node's log is known.
    pub terms: Vec<u64>,
    pub commit: u64,
    /// When this tab leads: the follower's next and match index markers.
    pub next_index: Option<u64>,
    pub match_index: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryStatus {
    Committed,
    /// Proposed here or seen in the log, not yet committed: drawn greyed.
    Provisional,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SharedEntryView {
    /// Log index once known.
    pub index: Option<u64>,
    pub author: String,
    pub author_colour: String,
    pub text: String,
    /// Author's clock, ms since the Unix epoch.
    pub at: f64,
    pub status: EntryStatus,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimelineEvent {
    pub at: Millis,
    pub kind: TimelineKind,
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimelineKind {
    Election,
    LeaderChange,
    Join,
    Leave,
    Snapshot,
    Error,
    Info,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct InspectorView {
    pub term: u64,
    pub voted_for: Option<NodeId>,
    pub commit: u64,
    pub applied: u64,
    pub last_index: u64,
    pub snapshot_index: u64,
    pub peers: Vec<PeerProgressView>,
    /// Proposal errors to show near the append box (refused or failed).
    pub errors: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PeerProgressView {
    pub id: NodeId,
    pub match_index: u64,
    pub next_index: u64,
    /// "probe", "replicate" or "snapshot".
    pub state: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GossipRow {
    pub id: NodeId,
    pub name: String,
    pub colour: String,
    pub role: String,
    pub term: u64,
    pub leader: Option<NodeId>,
    pub commit: u64,
    pub applied: u64,
    pub last_index: u64,
    /// How long ago this node was last heard of, first or second hand.
    pub heard_ms_ago: f64,
    pub departed: bool,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsView {
    pub commits_per_s: f64,
    pub latency_p50_ms: f64,
    pub latency_p99_ms: f64,
    /// Messages per second by kind, in and out together.
    pub messages_per_s: Vec<(MessageKind, f64)>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ControlsView {
    pub paused: bool,
    pub isolated: bool,
    pub election_timeout_min_ms: u64,
    pub election_timeout_max_ms: u64,
    pub heartbeat_ms: u64,
    pub dead_after_ms: u64,
}

/// Everything the UI can ask of the runtime.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Append(String),
    Burst(u32),
    TransferLeadership(NodeId),
    StepDown,
    SetPaused(bool),
    SetIsolated(bool),
    CompactNow,
    WipeAndReload,
    SetTimings { election_timeout_min_ms: u64, election_timeout_max_ms: u64, heartbeat_ms: u64 },
    SetDeadAfter(u64),
}
