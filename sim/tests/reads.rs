//! Reads without the log (ReadIndex, and the leader's lease where it is on) inside the
//! linearizability workload: they are recorded as their own kind and checked like any read,
//! including on a lone voter whose writes are still on their way to disk.
use flotilla_sim::history::{OpKind, OpResult};
use flotilla_sim::schedule::{Fault, Schedule, Target};
use flotilla_sim::{execute, plan, Report, Scenario, SimConfig};

/// Runs `seed` for 8 s of faults, with lease reads on or off.
fn run_reads(seed: u64, lease: bool) -> Report {
    let mut plan = plan(&SimConfig { duration: 8_000, ..SimConfig::new(seed) });
    plan.setup.node_config.lease_reads = lease;
    execute(plan)
}

fn index_reads(report: &Report) -> usize {
    let ok =
        |op: &&flotilla_sim::history::Op| op.kind == OpKind::IndexRead && op.result == OpResult::Ok;
    report.history.iter().filter(ok).count()
}

#[test]
fn reads_by_read_index_and_by_lease_are_linearizable_under_faults() {
    for lease in [false, true] {
        let mut reads = 0;
        for seed in 0..5 {
            let report = run_reads(seed, lease);
            let replay = report.config.replay_command();
            assert!(report.violation.is_none(), "{:?}: {replay} (lease {lease})", report.violation);
            assert!(report.linearizable);
            reads += index_reads(&report);
        }
        assert!(reads > 500, "{reads} reads without the log (lease {lease})");
    }
}

#[test]
fn a_lone_voter_never_serves_a_write_its_crash_undoes() {
    // One node, a slow disk, and a crash every half second: a read served while a write waits
    // for the disk must not see that write. (The runtime reads the state when the read is
    // ready, and answers once the outputs queued before are performed.)
    let mut reads = 0;
    for seed in 30..40 {
        let config = SimConfig {
            scenario: Some(Scenario::GrowShrink),
            nodes: Some(1),
            duration: 8_000,
            faults: false,
            ..SimConfig::new(seed)
        };
        let mut plan = plan(&config);
        let mut faults = vec![(0, Fault::SlowDisk(1, 40))];
        for i in 1..14 {
            faults.push((i * 500 + seed, Fault::Crash(Target::Node(1))));
            faults.push((i * 500 + 100, Fault::Restart(Target::Node(1))));
        }
        faults.push((8_000, Fault::HealAll));
        plan.setup.schedule = Schedule { faults, heal_at: 8_000 };
        let report = execute(plan);
        assert!(report.violation.is_none(), "seed {seed}: {:?}", report.violation);
        reads += index_reads(&report);
    }
    assert!(reads >= 10, "{reads} reads without the log");
}
