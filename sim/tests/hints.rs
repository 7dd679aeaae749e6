//! Connection-closed hints: a true one makes the followers of a crashed leader elect a new one
//! within milliseconds instead of an election timeout; late ones, arriving after the link came
//! back, break neither safety nor liveness.
use flotilla_sim::cluster::HintSetup;
use flotilla_sim::rng::Rng;
use flotilla_sim::schedule::{Fault, Schedule, Target};
use flotilla_sim::{execute, plan, Report, Scenario, SimConfig, TraceMode};

/// A calm five-node run with `faults` instead of a random schedule, hints as given.
fn run_with(seed: u64, faults: Vec<(u64, Fault)>, hints: Option<f64>) -> Report {
    let config = SimConfig {
        scenario: Some(Scenario::Mixed),
        nodes: Some(5),
        duration: 10_000,
        faults: false,
        trace: TraceMode::Collect,
        ..SimConfig::new(seed)
    };
    let mut plan = plan(&config);
    let mut faults = faults;
    faults.push((10_000, Fault::HealAll));
    plan.setup.schedule = Schedule { faults, heal_at: 10_000 };
    plan.setup.hints = hints.map(|late_share| HintSetup { rng: Rng::new(seed), late_share });
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
        vec![(3_000, Fault::Crash(Target::Leader(1))), (6_000, Fault::Restart(Target::Leader(1)))];
    for seed in 0..4 {
        let hinted = run_with(seed, crash.clone(), Some(0.0));
        let blind = run_with(seed, crash.clone(), None);
        for report in [&hinted, &blind] {
            assert!(report.violation.is_none(), "{:?}", report.violation);
        }
        assert!(hinted.stats.hints >= 4, "{}", hinted.summary());
        let (fast, slow) =
            (leaderless_after(&hinted, "FAULT crash"), leaderless_after(&blind, "FAULT crash"));
        // Without hints the followers wait out an election timeout (150-300 ms); with them, a
        // pre-vote and a vote round trip.
        assert!(fast < 100 && slow >= 150, "seed {seed}: {fast} ms with hints, {slow} ms without");
    }
}

#[test]
fn late_hints_break_neither_safety_nor_liveness() {
    // The leader is cut off for less than an election timeout, again and again; every hint of
    // it arrives after the link is back.
    let mut faults = Vec::new();
    for round in 0..20 {
        let t = 500 + round * 400;
        faults.push((t, Fault::IsolateLeader));
        faults.push((t + 60, Fault::HealPartition));
    }
    for seed in 0..4 {
        let report = run_with(seed, faults.clone(), Some(1.0));
        assert!(report.violation.is_none(), "{:?}", report.violation);
        assert!(report.stats.late_hints >= 20, "{}", report.summary());
        let answered = report.history.iter().filter(|op| op.ret < 10_000).count();
        assert!(answered > 300, "{}", report.summary());
    }
}
