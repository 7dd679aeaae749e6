//! One simulated run per seed: everything about it (scenario, cluster size, node tuning, fault
//! schedule, workload) derives from the seed, then the cluster runs, heals and settles, and the
//! history is checked for linearizability.
use crate::cluster::{Cluster, HintSetup, MembershipSetup, Setup, Start, Stats};
use crate::history::{Op, OpKind, OpResult};
use crate::invariants::Violation;
use crate::linearizability::{self, Verdict};
use crate::network::{Latency, Network};
use crate::rng::Rng;
use crate::schedule::Schedule;
use crate::trace::{Trace, TraceMode};
use crate::workload::{Workload, WorkloadConfig};
use flotilla_core::{Config, Millis, NodeId};
use std::ops::Range;
use std::panic;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Default length of the fault phase, in virtual ms.
pub const DEFAULT_DURATION: Millis = 20_000;
/// Time after the heal for the cluster to elect, finish the clients' work and converge.
const SETTLE: Millis = 4_000;
/// Election timeouts of the simulated nodes (the paper's recommended range).
const ELECTION_TIMEOUT: (Millis, Millis) = (150, 300);
const PROPOSAL_TIMEOUT: Millis = 1_000;
/// One seed in this many runs the grow-shrink scenario.
const GROW_SHRINK_EVERY: f64 = 8.0;

/// What a run exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// A cluster of 3, 5 or 7 voters under every fault, with nodes joining, leaving and being
    /// removed on the way.
    Mixed,
    /// One bootstrapped node grows to a cluster of seven voters, which shrinks back to one,
    /// under the same faults.
    GrowShrink,
}

impl Scenario {
    /// The scenario a seed runs when none is asked for.
    pub fn of_seed(seed: u64) -> Self {
        if Rng::fork(seed, "scenario").chance(1.0 / GROW_SHRINK_EVERY) {
            Scenario::GrowShrink
        } else {
            Scenario::Mixed
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Mixed => "mixed",
            Scenario::GrowShrink => "grow-shrink",
        }
    }
}

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub seed: u64,
    /// `None` runs the seed's own (see [`Scenario::of_seed`]).
    pub scenario: Option<Scenario>,
    /// Cluster size (for grow-shrink, the size it grows to); `None` draws 3, 5 or 7 from the
    /// seed (grow-shrink: 7).
    pub nodes: Option<usize>,
    /// Length of the fault phase (virtual ms); every fault heals at its end.
    pub duration: Millis,
    /// `false` runs without any fault (a baseline).
    pub faults: bool,
    /// A deliberately broken runtime whose crashes also wipe the durable image: the checks
    /// must catch what that breaks (lost votes and acknowledged entries).
    pub amnesia: bool,
    pub trace: TraceMode,
}

impl SimConfig {
    pub fn new(seed: u64) -> Self {
        SimConfig {
            seed,
            scenario: None,
            nodes: None,
            duration: DEFAULT_DURATION,
            faults: true,
            amnesia: false,
            trace: TraceMode::Off,
        }
    }

    /// The command that replays this run with its trace.
    pub fn replay_command(&self) -> String {
        let mut command = format!("cargo xtask sim --seed {} --trace", self.seed);
        if let Some(scenario) = self.scenario {
            command += &format!(" --scenario {}", scenario.name());
        }
        if let Some(nodes) = self.nodes {
            command += &format!(" --nodes {nodes}");
        }
        if self.duration != DEFAULT_DURATION {
            command += &format!(" --duration {}", self.duration);
        }
        if !self.faults {
            command += " --no-faults";
        }
        if self.amnesia {
            command += " --amnesia";
        }
        command
    }
}

/// The result of one run.
#[derive(Debug)]
pub struct Report {
    pub config: SimConfig,
    pub scenario: Scenario,
    /// Nodes at the start (for grow-shrink, the size it grows to).
    pub nodes: usize,
    /// The first violation and when it happened (a failed linearizability check counts).
    pub violation: Option<(Millis, Violation)>,
    pub linearizable: bool,
    pub history: Vec<Op>,
    pub stats: Stats,
    /// Hash of the trace (unless the trace was off): equal for equal runs.
    pub trace_hash: u64,
    /// The trace's lines, kept with [`TraceMode::Collect`].
    pub trace_lines: Vec<String>,
}

impl Report {
    /// A one-line summary of the run.
    pub fn summary(&self) -> String {
        let count = |result| self.history.iter().filter(|op| op.result == result).count();
        let leader =
            self.stats.leader_after_heal.map_or_else(|| "none".to_string(), |ms| format!("{ms}ms"));
        format!(
            "seed {}: {} nodes={} steps={} messages={} lost={} crashes={} leaders={} \
             joined={} left={} max_voters={} final_voters={} snapshots={} installed={} \
             transfers={}/{} hand_offs={}/{}/{} hints={} late_hints={} ops={} ok={} fail={} refused={} unknown={} \
             index_reads={} leader_after_heal={leader} linearizable={}",
            self.config.seed,
            self.scenario.name(),
            self.nodes,
            self.stats.steps,
            self.stats.messages_sent,
            self.stats.messages_lost,
            self.stats.crashes,
            self.stats.leaders_elected,
            self.stats.joined,
            self.stats.left,
            self.stats.max_voters,
            self.stats.final_voters,
            self.stats.snapshots,
            self.stats.snapshots_installed,
            self.stats.transfers_completed,
            self.stats.transfers,
            self.stats.hand_offs_elected,
            self.stats.hand_offs_lagging,
            self.stats.hand_offs,
            self.stats.hints,
            self.stats.late_hints,
            self.history.len(),
            count(OpResult::Ok),
            count(OpResult::Fail),
            count(OpResult::Refused),
            count(OpResult::Unknown),
            self.history.iter().filter(|op| op.kind == OpKind::IndexRead).count(),
            self.linearizable
        )
    }
}

/// Runs one seed.
pub fn run(config: &SimConfig) -> Report {
    execute(plan(config))
}

/// Everything a run will do, drawn from its configuration before it starts. A focused test may
/// adjust it (a schedule written by hand, every hint late) before [`execute`] runs it.
pub struct Plan {
    pub config: SimConfig,
    pub scenario: Scenario,
    /// Nodes at the start (for grow-shrink, the size it grows to).
    pub nodes: usize,
    pub setup: Setup,
    /// When the run stops (the heal plus the time to settle).
    pub end: Millis,
}

/// Draws the run of `config` from its seed.
pub fn plan(config: &SimConfig) -> Plan {
    let seed = config.seed;
    let scenario = config.scenario.unwrap_or_else(|| Scenario::of_seed(seed));
    let mut setup_rng = Rng::fork(seed, "setup");
    let nodes = match scenario {
        Scenario::Mixed => {
            config.nodes.unwrap_or_else(|| [3, 5, 7][setup_rng.weighted(&[2, 2, 1])])
        }
        Scenario::GrowShrink => config.nodes.unwrap_or(7),
    };
    let ids: Vec<NodeId> = (1..=nodes as NodeId).collect();
    // Replication tuning varies per seed: one append in flight or many, small batches or big.
    // Starting from the core's defaults keeps this building when the core adds settings.
    let mut node_config = Config::new(0);
    node_config.election_timeout_min = ELECTION_TIMEOUT.0;
    node_config.election_timeout_max = ELECTION_TIMEOUT.1;
    node_config.heartbeat_interval = 50;
    node_config.pre_vote = true;
    node_config.check_quorum = true;
    node_config.max_inflight_appends = *setup_rng.pick(&[1, 4, 32]);
    node_config.max_entries_per_append = *setup_rng.pick(&[16, 64, 256]);
    node_config.proposal_timeout = PROPOSAL_TIMEOUT;
    // Reads without the log are confirmed by a heartbeat round, or for some seeds served from
    // the leader's lease (which rests on CheckQuorum, on for every seed).
    node_config.lease_reads = setup_rng.chance(0.3);
    // Compaction thresholds so low that snapshots are taken all the time, and sent in chunks
    // small enough that a transfer takes many messages (each lost, repeated or reordered).
    node_config.compact_after_entries = Some(*setup_rng.pick(&[8, 32, 128]));
    node_config.compact_after_bytes = setup_rng.chance(0.3).then(|| setup_rng.between(300, 3000));
    node_config.compact_keep_entries = *setup_rng.pick(&[0, 4, 64]);
    // Some seeds let the interval grow with the snapshot (the web app's rule).
    node_config.compact_after_entries_max = *setup_rng.pick(&[0, 0, 64]);
    node_config.snapshot_chunk_bytes = *setup_rng.pick(&[64, 512, 60 * 1024]);
    // Most runtimes report closed connections; some seeds run without, on timeouts alone.
    let hints = setup_rng.chance(0.8);
    let heal_at = config.duration;
    let end = heal_at + SETTLE;
    let mut faults_rng = Rng::fork(seed, "faults");
    let (start, schedule) = match (scenario, config.faults) {
        (Scenario::Mixed, true) => {
            (Start::Static(ids.clone()), Schedule::random(&ids, heal_at, &mut faults_rng))
        }
        (Scenario::Mixed, false) => (Start::Static(ids.clone()), Schedule::calm(heal_at)),
        (Scenario::GrowShrink, faults) => {
            (Start::Bootstrap(1), Schedule::grow_shrink(&ids, heal_at, faults, &mut faults_rng))
        }
    };
    let (min_nodes, max_nodes, grow_to) = match scenario {
        Scenario::Mixed => (2, nodes + 2, 0),
        Scenario::GrowShrink => (1, nodes, nodes),
    };
    let membership = MembershipSetup {
        // Growing to seven voters needs the policy not to remove every node that hiccups.
        dead_after: match scenario {
            Scenario::Mixed => *setup_rng.pick(&[400, 1000, 3000]),
            Scenario::GrowShrink => *setup_rng.pick(&[1000, 3000]),
        },
        announce_delay: 300,
        min_nodes,
        max_nodes,
        leaves_wait_for_voters: grow_to,
        // A cluster that could not grow during the faults grows and shrinks after them.
        quiet_at: match scenario {
            Scenario::Mixed => heal_at + SETTLE / 2,
            Scenario::GrowShrink => heal_at + SETTLE * 3 / 4,
        },
    };
    let workload_config = WorkloadConfig {
        clients_per_node: 2,
        keys: 8,
        mix: [2, 2, 3, 3],
        think_max: 100,
        retry_backoff: (20, 80),
        attempt_timeout: PROPOSAL_TIMEOUT + 500,
        op_deadline: 3 * PROPOSAL_TIMEOUT,
        stop_at: heal_at + SETTLE / 2,
    };
    let workload = Workload::new(workload_config, &start.nodes(), Rng::fork(seed, "clients"));
    let hints = hints.then(|| HintSetup {
        rng: Rng::fork(seed, "hints"),
        detection: (1, 30),
        late_share: 0.2,
    });
    let setup = Setup {
        start,
        membership,
        node_config,
        network: Network::new(Latency::DEFAULT, Rng::fork(seed, "network")),
        schedule,
        workload,
        disk_rng: Rng::fork(seed, "disk"),
        seed_rng: Rng::fork(seed, "node seeds"),
        pick_rng: Rng::fork(seed, "picks"),
        hints,
        amnesia: config.amnesia,
        trace: Trace::new(config.trace),
    };
    Plan { config: config.clone(), scenario, nodes, setup, end }
}

/// Runs a planned run and checks its history.
pub fn execute(plan: Plan) -> Report {
    let Plan { config, scenario, nodes, mut setup, end } = plan;
    let (seed, name, trace) = (config.seed, scenario.name(), &mut setup.trace);
    let hinted = match &setup.hints {
        Some(hints) => format!("hints on ({:.0}% late)", hints.late_share * 100.0),
        None => "hints off".into(),
    };
    let node_config = &setup.node_config;
    trace.line(0, || format!("seed {seed}: {name}, {nodes} nodes, {hinted}, {node_config:?}"));
    let MembershipSetup { dead_after, min_nodes, max_nodes, .. } = setup.membership;
    trace.line(0, || {
        format!("membership: dead after {dead_after}ms, {min_nodes}..={max_nodes} nodes")
    });
    for (at, fault) in &setup.schedule.faults {
        trace.line(0, || format!("schedule: at {at}ms {fault}"));
    }
    let mut cluster = Cluster::new(setup);
    cluster.run_until(end);
    let (mut violation, workload, stats, trace) = cluster.finish();
    let history = workload.into_history();
    let verdict = linearizability::check(&history);
    if let Verdict::NotLinearizable { key } = verdict {
        violation.get_or_insert((end, Violation::NotLinearizable { key }));
    }
    Report {
        config,
        scenario,
        nodes,
        violation,
        linearizable: verdict == Verdict::Linearizable,
        history,
        stats,
        trace_hash: trace.hash(),
        trace_lines: trace.into_lines(),
    }
}

/// The outcome of one seed in a batch (the history is dropped to keep memory flat).
#[derive(Debug)]
pub struct SeedOutcome {
    pub config: SimConfig,
    pub violation: Option<(Millis, Violation)>,
    pub linearizable: bool,
    pub stats: Stats,
}

/// Runs every seed in `seeds` with `template`'s other settings, on `threads` threads. The
/// outcomes come back in seed order; a seed that panics counts as a violation.
pub fn run_seeds(seeds: Range<u64>, template: &SimConfig, threads: usize) -> Vec<SeedOutcome> {
    let next = AtomicU64::new(seeds.start);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= seeds.end {
                    break;
                }
                let config = SimConfig { seed, trace: TraceMode::Off, ..template.clone() };
                // A panic is a finding like any other: report it with its seed and go on.
                let outcome = match panic::catch_unwind(|| run(&config)) {
                    Ok(report) => SeedOutcome {
                        config,
                        violation: report.violation,
                        linearizable: report.linearizable,
                        stats: report.stats,
                    },
                    Err(payload) => {
                        let message = payload
                            .downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| payload.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "(no message)".into());
                        let violation = Some((0, Violation::Panicked { message }));
                        let stats = Stats::default();
                        SeedOutcome { config, violation, linearizable: false, stats }
                    }
                };
                outcomes.lock().expect("no thread panics holding the lock").push(outcome);
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("no thread panics holding the lock");
    outcomes.sort_by_key(|o| o.config.seed);
    outcomes
}
