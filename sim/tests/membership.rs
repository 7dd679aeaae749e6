//! Membership under faults: a bootstrapped node grows to seven voters and shrinks back to one,
//! mixed runs add, remove and replace nodes while partitions and crashes go on, and every run
//! ends with the configuration the leader holds.
use flotilla_sim::{run, Scenario, SimConfig, TraceMode};

fn grow_shrink(seed: u64) -> SimConfig {
    SimConfig { scenario: Some(Scenario::GrowShrink), ..SimConfig::new(seed) }
}

#[test]
fn a_cluster_grows_from_one_to_seven_voters_and_shrinks_back_to_one_under_faults() {
    for seed in 6..10 {
        let report = run(&grow_shrink(seed));
        let replay = report.config.replay_command();
        assert!(report.violation.is_none(), "{:?}: {replay}", report.violation);
        assert_eq!(report.stats.max_voters, 7, "{}", report.summary());
        assert_eq!(report.stats.final_voters, 1, "{}", report.summary());
        assert_eq!((report.stats.joined, report.stats.left), (6, 6), "{}", report.summary());
    }
}

#[test]
fn without_faults_growing_and_shrinking_answers_every_operation() {
    let report = run(&SimConfig { faults: false, ..grow_shrink(1) });
    assert!(report.violation.is_none(), "{:?}", report.violation);
    assert_eq!((report.stats.max_voters, report.stats.final_voters), (7, 1));
    assert!(report.history.len() > 100, "{}", report.summary());
}

#[test]
fn mixed_runs_change_membership_under_faults() {
    let (mut joined, mut left) = (0, 0);
    for seed in 1..13 {
        let config = SimConfig { scenario: Some(Scenario::Mixed), ..SimConfig::new(seed) };
        let report = run(&config);
        let replay = report.config.replay_command();
        assert!(report.violation.is_none(), "{:?}: {replay}", report.violation);
        assert!(report.stats.final_voters >= 1);
        joined += report.stats.joined;
        left += report.stats.left;
    }
    assert!(joined >= 12 && left >= 12, "joined {joined}, left {left}");
}

#[test]
fn a_scenario_replays_identically() {
    let config = SimConfig { trace: TraceMode::Hash, duration: 5_000, ..grow_shrink(2) };
    assert_eq!(run(&config).trace_hash, run(&config).trace_hash);
}
