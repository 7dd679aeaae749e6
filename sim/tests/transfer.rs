//! Leadership transfers and step-downs: to targets drawn among all nodes (learners, nodes
//! behind, cut off or down included), in a calm cluster where most of them succeed and under
//! faults where many cannot, without breaking any check.
use flotilla_sim::schedule::{Fault, Schedule};
use flotilla_sim::{execute, plan, run, Scenario, SimConfig};

#[test]
fn in_a_calm_cluster_most_transfers_hand_over_leadership() {
    for seed in 0..3 {
        let config = SimConfig {
            scenario: Some(Scenario::Mixed),
            nodes: Some(5),
            duration: 6_000,
            faults: false,
            ..SimConfig::new(seed)
        };
        let mut plan = plan(&config);
        let mut faults: Vec<(u64, Fault)> = (1..20)
            .map(|i| (i * 300, if i % 4 == 0 { Fault::StepDown } else { Fault::Transfer }))
            .collect();
        faults.push((6_000, Fault::HealAll));
        plan.setup.schedule = Schedule { faults, heal_at: 6_000 };
        let report = execute(plan);
        assert!(report.violation.is_none(), "{:?}", report.violation);
        assert!(report.linearizable);
        let (done, started) = (report.stats.transfers_completed, report.stats.transfers);
        // A transfer to the leader itself succeeds without a new leader; one to a voter that is
        // up to date hands over within an election timeout.
        assert!(started >= 15 && done >= 8, "{}", report.summary());
    }
}

#[test]
fn transfers_under_faults_keep_every_invariant() {
    let (mut started, mut done) = (0, 0);
    for seed in 0..8 {
        let report = run(&SimConfig { duration: 8_000, ..SimConfig::new(seed) });
        let replay = report.config.replay_command();
        assert!(report.violation.is_none(), "{:?}: {replay}", report.violation);
        started += report.stats.transfers;
        done += report.stats.transfers_completed;
    }
    assert!(started >= 8 && done >= 3, "{done} of {started} transfers completed");
}
