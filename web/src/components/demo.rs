//! A made-up cluster for looking at the UI without a cluster (`?demo`, `?demo=election`) and for
//! tests that need a full view: five tabs, messages in flight, forty log entries, pending and
//! failed proposals. It moves with the clock and answers commands roughly as a node would, so
//! the controls and shortcuts can be tried, but it is a picture, not a simulation.
use flotilla_core::NodeId;

use crate::view::{
    ClusterView, Command, ControlsView, EntryStatus, FlightView, GossipRow, InspectorView,
    LogGridView, LogRowView, MessageKind, Millis, NodeView, PeerProgressView, RoleView,
    SharedEntryView, StatsView, TimelineEvent, TimelineKind, TimerView, VoteTally,
};

/// What the demo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DemoPhase {
    /// This tab leads term 7; one tab is partitioned away and campaigning on its own.
    Leader,
    /// The leader's tab died; this tab campaigns in term 8 with 2 of the 3 votes it needs.
    Election,
}

impl DemoPhase {
    /// `?demo` is the steady state, `?demo=election` the campaign.
    pub fn from_query(value: &str) -> Self {
        if value.eq_ignore_ascii_case("election") {
            DemoPhase::Election
        } else {
            DemoPhase::Leader
        }
    }
}

/// The tabs: id, name, author colour.
/// (Names and colours in the runtime's style: a ship and a number; a hue at 62% / 44%.)
const TABS: [(NodeId, &str, &str); 5] = [
    (4821, "Beagle 12", "hsl(212, 62%, 44%)"),
    (1377, "Calypso 4", "hsl(152, 62%, 44%)"),
    (9052, "Endeavour 17", "hsl(32, 62%, 44%)"),
    (2610, "Golden Hind 3", "hsl(330, 62%, 44%)"),
    (7743, "Nautilus 9", "hsl(268, 62%, 44%)"),
];
const ME: NodeId = 4821;
/// The log starts after a snapshot at 60; 40 entries follow, the last 3 not yet committed.
const SNAPSHOT: u64 = 60;
const LAST: u64 = 100;
const COMMIT: u64 = 97;
/// How long a proposal made in the demo stays pending.
const COMMIT_DELAY_MS: f64 = 650.0;
/// Grid window.
const WINDOW: u64 = 40;

/// The term of the entry at `index` in every log of the demo (they never diverge).
fn term_at(index: u64) -> u64 {
    match index {
        ..=66 => 3,
        67..=72 => 4,
        73..=80 => 5,
        81..=86 => 6,
        _ => 7,
    }
}

struct Proposal {
    text: String,
    at: Millis,
}

/// The demo's state: the phase, what was appended from this page, and the settings.
pub struct DemoCluster {
    phase: DemoPhase,
    /// Wall clock at the page clock's origin, to stamp entries.
    epoch_origin: f64,
    proposals: Vec<Proposal>,
    errors: Vec<String>,
    events: Vec<TimelineEvent>,
    controls: ControlsView,
}

impl DemoCluster {
    pub fn new(phase: DemoPhase, epoch_origin: f64) -> Self {
        let controls = ControlsView {
            paused: false,
            isolated: false,
            election_timeout_min_ms: 150,
            election_timeout_max_ms: 300,
            heartbeat_ms: 50,
            dead_after_ms: 10_000,
        };
        let errors = vec![
            "“deploy at 5” was dropped: leadership moved from Golden Hind 3 to Beagle 12 before it \
             committed (term 6 → 7)"
                .to_owned(),
        ];
        let event = |at, kind, text: &str| TimelineEvent { at, kind, text: text.to_owned() };
        let mut events = vec![
            event(420.0, TimelineKind::Join, "Beagle 12 (this tab) bootstrapped the cluster"),
            event(2_310.0, TimelineKind::Join, "Calypso 4 joined"),
            event(2_950.0, TimelineKind::Join, "Endeavour 17 joined"),
            event(4_100.0, TimelineKind::Join, "Golden Hind 3 joined"),
            event(5_020.0, TimelineKind::Join, "Nautilus 9 joined"),
            event(31_400.0, TimelineKind::Snapshot, "snapshot at index 60 (log compacted)"),
            event(48_210.0, TimelineKind::Leave, "Golden Hind 3 unreachable (heartbeats lost)"),
            event(48_497.0, TimelineKind::Election, "election for term 7 took 287 ms"),
            event(48_497.0, TimelineKind::LeaderChange, "Beagle 12 (this tab) leads term 7"),
            event(50_030.0, TimelineKind::Join, "Golden Hind 3 back, catching up from index 91"),
            event(
                57_800.0,
                TimelineKind::Info,
                "Nautilus 9 partitioned: it campaigns alone (term 9)",
            ),
            event(61_200.0, TimelineKind::Error, "proposal dropped at the leader change"),
        ];
        if phase == DemoPhase::Election {
            events.push(event(64_020.0, TimelineKind::Leave, "Golden Hind 3 closed"));
            events.push(event(64_190.0, TimelineKind::Election, "Beagle 12 campaigns for term 8"));
        }
        DemoCluster { phase, epoch_origin, proposals: Vec::new(), errors, events, controls }
    }

    /// Does what the runtime would, visibly enough to try the controls.
    pub fn apply(&mut self, command: Command, now: Millis) {
        let refused = if self.controls.paused {
            Some("this node is paused")
        } else if self.controls.isolated {
            Some("this node is isolated from the cluster")
        } else {
            None
        };
        // The made-up history runs ahead of a freshly opened page's clock: keep the order.
        let at = self.events.last().map_or(now, |last| now.max(last.at + 100.0));
        let mut note =
            |text: String| self.events.push(TimelineEvent { at, kind: TimelineKind::Info, text });
        match command {
            Command::Append(_) | Command::Burst(_) if refused.is_some() => {
                let why = format!("proposal refused: {}", refused.unwrap_or_default());
                note(why.clone());
                self.errors.push(why);
            }
            Command::Append(text) => self.proposals.push(Proposal { text, at: now }),
            Command::Burst(n) => {
                for i in 1..=n.min(200) {
                    self.proposals.push(Proposal { text: format!("burst {i}/{n}"), at: now });
                }
            }
            Command::SetPaused(paused) => {
                self.controls.paused = paused;
                note(format!("demo: node {}", if paused { "paused" } else { "resumed" }));
            }
            Command::SetIsolated(isolated) => {
                self.controls.isolated = isolated;
                note(format!("demo: node {}", if isolated { "isolated" } else { "healed" }));
            }
            Command::SetTimings {
                election_timeout_min_ms,
                election_timeout_max_ms,
                heartbeat_ms,
            } => {
                self.controls.election_timeout_min_ms = election_timeout_min_ms;
                self.controls.election_timeout_max_ms = election_timeout_max_ms;
                self.controls.heartbeat_ms = heartbeat_ms;
                note(format!(
                    "timings: election {election_timeout_min_ms}–{election_timeout_max_ms} ms, \
                     heartbeat {heartbeat_ms} ms"
                ));
            }
            Command::SetDeadAfter(ms) => {
                self.controls.dead_after_ms = ms;
                note(format!(
                    "dead tabs removed after {} s",
                    super::format::fixed(ms as f64 / 1_000.0, 1)
                ));
            }
            // Named by hand, as `{:?}` would: formatting a `Command` with Debug would link the
            // escaping `str` Debug and its Unicode tables into the release bundle for this alone.
            Command::TransferLeadership(id) => {
                note(format!("demo: TransferLeadership({id}) (no cluster to do it)"))
            }
            Command::StepDown => note("demo: StepDown (no cluster to do it)".to_owned()),
            Command::CompactNow => note("demo: CompactNow (no cluster to do it)".to_owned()),
            Command::WipeAndReload => note("demo: WipeAndReload (no cluster to do it)".to_owned()),
        }
    }

    pub fn view(&self, now: Millis) -> ClusterView {
        let leading = self.phase == DemoPhase::Leader;
        let cut_off = self.controls.isolated;
        let appended = self.proposals.len() as u64;
        let committed_here =
            self.proposals.iter().filter(|p| now - p.at >= COMMIT_DELAY_MS).count() as u64;
        let last = LAST + appended;
        let commit = COMMIT + committed_here.min(appended);
        let term = if leading { 7 } else { 8 };

        let nodes: Vec<NodeView> = TABS
            .iter()
            .map(|&(id, name, colour)| {
                let (role, term, reachable) = match (self.phase, id) {
                    (_, ME) if leading => (RoleView::Leader, 7, true),
                    (_, ME) => (RoleView::Candidate, 8, true),
                    (DemoPhase::Leader, 7743) => (RoleView::Candidate, 9, false),
                    (DemoPhase::Leader, _) => (RoleView::Follower, 7, true),
                    (DemoPhase::Election, 2610) => (RoleView::Leader, 7, false),
                    (DemoPhase::Election, 1377) => (RoleView::Follower, 8, true),
                    (DemoPhase::Election, 7743) => (RoleView::PreCandidate, 7, true),
                    (DemoPhase::Election, _) => (RoleView::Follower, 7, true),
                };
                NodeView {
                    id,
                    name: name.to_owned(),
                    colour: colour.to_owned(),
                    term,
                    role,
                    is_self: id == ME,
                    is_leader: role == RoleView::Leader,
                    reachable: reachable && (id == ME || !cut_off),
                    voter: true,
                }
            })
            .collect();

        // Each follower's log end and commit as this tab knows them.
        let follower = |id: NodeId| -> (u64, u64) {
            match id {
                9052 => (93, 93),
                2610 => (last - 1, commit),
                7743 => (86, 80),
                _ => (last, commit),
            }
        };
        let first = last.saturating_sub(WINDOW - 1).max(SNAPSHOT + 1);
        let rows = TABS
            .iter()
            .map(|&(id, ..)| {
                let (end, row_commit) = if id == ME { (last, commit) } else { follower(id) };
                let progress = (leading && id != ME && id != 7743).then(|| (end + 1, end));
                LogRowView {
                    node: id,
                    terms: (first..=end).map(term_at).collect(),
                    commit: row_commit,
                    next_index: progress.map(|p| p.0),
                    match_index: progress.map(|p| p.1),
                }
            })
            .collect();

        let in_flight =
            if cut_off || self.controls.paused { Vec::new() } else { self.flights(now) };
        let election_timer = (!leading)
            .then(|| TimerView { elapsed: (now % 2_200.0) / 2_200.0, timeout_ms: 2_200.0 });
        let vote_tally = (!leading).then_some(VoteTally { granted: 2, needed: 3, voters: 5 });

        let peers = if leading {
            TABS.iter()
                .filter(|t| t.0 != ME)
                .map(|&(id, ..)| {
                    let (end, _) = follower(id);
                    PeerProgressView {
                        id,
                        match_index: end,
                        next_index: end + 1,
                        state: match id {
                            7743 => "probe",
                            9052 => "snapshot",
                            _ => "replicate",
                        }
                        .to_owned(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };

        let gossip = TABS
            .iter()
            .zip(&nodes)
            .map(|(&(id, name, colour), node)| {
                let (end, row_commit) = if id == ME { (last, commit) } else { follower(id) };
                let heard = match id {
                    ME => 0.0,
                    7743 if leading => 6_400.0 + now % 1_000.0,
                    2610 if !leading => 1_900.0 + now % 1_000.0,
                    _ => (now + id as f64) % 420.0,
                };
                GossipRow {
                    id,
                    name: name.to_owned(),
                    colour: colour.to_owned(),
                    role: super::paint::role_label(node.role).to_owned(),
                    term: node.term,
                    leader: if leading { Some(ME) } else { None }.filter(|_| id != 7743),
                    commit: row_commit,
                    applied: row_commit,
                    last_index: end,
                    heard_ms_ago: heard,
                    departed: false,
                }
            })
            .collect();

        let wobble = super::ring::sin(now / 700.0);
        ClusterView {
            room: "lobby".to_owned(),
            share_url: "http://localhost:8080/?room=lobby".to_owned(),
            self_id: ME,
            now,
            nodes,
            in_flight,
            election_timer,
            vote_tally,
            log_grid: LogGridView { first_index: first, rows },
            shared_log: self.shared_log(now),
            timeline: self.events.clone(),
            inspector: InspectorView {
                term,
                voted_for: Some(ME),
                commit,
                applied: commit,
                last_index: last,
                snapshot_index: SNAPSHOT,
                peers,
                errors: self.errors.clone(),
            },
            gossip,
            stats: StatsView {
                commits_per_s: if leading { 412.0 + 30.0 * wobble } else { 0.0 },
                latency_p50_ms: 1.6,
                latency_p99_ms: 7.4 + wobble,
                messages_per_s: vec![
                    (MessageKind::Append, if leading { 1_236.0 } else { 0.0 }),
                    (MessageKind::Heartbeat, if leading { 80.0 } else { 0.0 }),
                    (MessageKind::Vote, if leading { 0.0 } else { 8.0 }),
                    (MessageKind::PreVote, 2.0),
                    (MessageKind::Gossip, 24.0),
                    (MessageKind::Proposal, 61.0),
                ],
            },
            controls: self.controls.clone(),
        }
    }

    /// Round trips on this node's links: a request out for the first half of each cycle, its
    /// reply back for the second, the links out of step so something is always moving.
    fn flights(&self, now: Millis) -> Vec<FlightView> {
        let (period, kinds): (f64, &[(NodeId, MessageKind)]) = match self.phase {
            DemoPhase::Leader => (
                1_300.0,
                &[
                    (1377, MessageKind::Append),
                    (9052, MessageKind::Snapshot),
                    (2610, MessageKind::Append),
                    (1377, MessageKind::Heartbeat),
                ],
            ),
            DemoPhase::Election => (
                1_600.0,
                &[(1377, MessageKind::Vote), (9052, MessageKind::Vote), (7743, MessageKind::Vote)],
            ),
        };
        kinds
            .iter()
            .enumerate()
            .map(|(i, &(peer, kind))| {
                let t = ((now + i as f64 * period * 0.37) % period) / period;
                let (from, to, reply, progress) = if t < 0.5 {
                    (ME, peer, false, t * 2.0)
                } else {
                    (peer, ME, true, t * 2.0 - 1.0)
                };
                FlightView { from, to, kind, reply, progress }
            })
            .collect()
    }

    fn shared_log(&self, now: Millis) -> Vec<SharedEntryView> {
        const SAID: [(usize, &str); 12] = [
            (1, "hello from the second tab"),
            (2, "three tabs, one log"),
            (0, "closing the leader's tab in 3, 2, 1…"),
            (3, "new leader in under a second, nice"),
            (1, "does a reload keep my node id?"),
            (0, "yes: sessionStorage keeps the id, term and log"),
            (4, "isolating myself to watch the partition"),
            (2, "burst of 200 incoming"),
            (3, "p99 stays under 10 ms with five tabs"),
            (1, "compacted at 60, the grid starts at 61"),
            (0, "anyone want to try wiping their state?"),
            (2, "on it"),
        ];
        let epoch = self.epoch_origin;
        let mut entries: Vec<SharedEntryView> = SAID
            .iter()
            .enumerate()
            .map(|(i, &(tab, text))| {
                let (_, name, colour) = TABS[tab];
                let index = 88 + i as u64;
                SharedEntryView {
                    index: Some(index),
                    author: name.to_owned(),
                    author_colour: colour.to_owned(),
                    text: text.to_owned(),
                    // Older further up, the newest a couple of seconds before the pending one.
                    at: epoch + now - 2_000.0 - (SAID.len() - i) as f64 * 4_700.0,
                    status: if index <= COMMIT {
                        EntryStatus::Committed
                    } else {
                        EntryStatus::Provisional
                    },
                }
            })
            .collect();
        entries.push(SharedEntryView {
            index: None,
            author: TABS[3].1.to_owned(),
            author_colour: TABS[3].2.to_owned(),
            text: "sent just now, waiting for a majority".to_owned(),
            at: epoch + now - 300.0,
            status: EntryStatus::Provisional,
        });
        let (_, name, colour) = TABS[0];
        entries.extend(self.proposals.iter().enumerate().map(|(i, p)| {
            let committed = now - p.at >= COMMIT_DELAY_MS;
            SharedEntryView {
                index: committed.then_some(LAST + 1 + i as u64),
                author: name.to_owned(),
                author_colour: colour.to_owned(),
                text: p.text.clone(),
                at: epoch + p.at,
                status: if committed { EntryStatus::Committed } else { EntryStatus::Provisional },
            }
        }));
        entries
    }
}
