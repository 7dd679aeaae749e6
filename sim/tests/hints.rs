//! Connection-closed hints: true ones, noticed at about the same time by every peer, make the
//! followers of a crashed leader elect a new one within milliseconds instead of an election
//! timeout; late ones, arriving after the link came back, break neither safety nor liveness.
use flotilla_sim::cluster::HintSetup;
use flotilla_sim::rng::Rng;
use flotilla_sim::schedule::{Fault, Schedule, Target};
use flotilla_sim::{execute, plan, Report, Scenario, SimConfig, TraceMode};

/// When the runs below heal (they stop 4 s later).
const HEAL: u64 = 5_000;

/// A calm five-node run with `faults` instead of a random schedule, and hints (noticed within
/// 1-5 ms, this share of them late) or none.
fn run_with(seed: u64, faults: Vec<(u64, Fault)>, hints: Option<f64>) -> Report {
    let config = SimConfig {
        scenario: Some(Scenario::Mixed),
        nodes: Some(5),
        duration: HEAL,
        faults: false,
        trace: TraceMode::Collect,
        ..SimConfig::new(seed)
    };
    let mut plan = plan(&config);
    let mut faults = faults;
    faults.push((HEAL, Fault::HealAll));
    plan.setup.schedule = Schedule { faults, heal_at: HEAL };
    // With lease reads, followers wait out the old leader's lease before campaigning.
    plan.setup.node_config.lease_reads = false;
    plan.setup.hints =
        hints.map(|late_share| HintSetup { rng: Rng::new(seed), detection: (1, 5), late_share });
    execute(plan)
}

/// The virtual ms a trace line was written at.
fn at(line: &str) -> u64 {
    line.trim_start().split("ms").next().and_then(|ms| ms.parse().ok()).expect("a time stamp")
}

/// How long after the first line containing `fault` a node became leader.
fn leaderless_after(report: &Report, fault: &str) -> u64 {
    let lines = &report.trace_lines;
    let start = lines.iter().position(|l| l.contains(fault)).expect("the fault fired");
    let elected = lines[start..].iter().find(|l| l.contains("becomes Leader")).expect("a leader");
    at(elected) - at(&lines[start])
}

#[test]
fn true_hints_replace_a_crashed_leader_within_milliseconds() {
    let crash =
        vec![(1_500, Fault::Crash(Target::Leader(1))), (3_000, Fault::Restart(Target::Leader(1)))];
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for seed in 0..8 {
        let hinted = run_with(seed, crash.clone(), Some(0.0));
        let blind = run_with(seed, crash.clone(), None);
        for report in [&hinted, &blind] {
            assert!(report.violation.is_none(), "{:?}", report.violation);
        }
        assert!(hinted.stats.hints >= 4, "{}", hinted.summary());
        fast.push(leaderless_after(&hinted, "FAULT crash"));
        slow.push(leaderless_after(&blind, "FAULT crash"));
    }
    // Without hints the followers wait out an election timeout (150-300 ms); with them, a
    // pre-vote and a vote round trip, unless two followers campaign at once and split the vote
    // (then it takes an election timeout too).
    let quick = fast.iter().filter(|&&ms| ms < 100).count();
    assert!(quick >= 6 && slow.iter().all(|&ms| ms >= 150), "with {fast:?}, without {slow:?}");
}

#[test]
fn late_hints_break_neither_safety_nor_liveness() {
    // The leader is cut off for less than an election timeout, again and again; every hint of
    // it arrives after the link is back.
    let mut faults = Vec::new();
    for round in 0..10 {
        let t = 500 + round * 400;
        faults.push((t, Fault::IsolateLeader));
        faults.push((t + 60, Fault::HealPartition));
    }
    for seed in 0..4 {
        let report = run_with(seed, faults.clone(), Some(1.0));
        assert!(report.violation.is_none(), "{:?}", report.violation);
        assert!(report.stats.late_hints >= 10, "{}", report.summary());
        let answered = report.history.iter().filter(|op| op.ret < HEAL).count();
        assert!(answered > 150, "{}", report.summary());
    }
}
