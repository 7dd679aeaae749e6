//! Whole simulated runs: determinism, a fault-free baseline, and the history file.
use flotilla_sim::history::{write_json_lines, OpResult};
use flotilla_sim::{run, Scenario, SimConfig, TraceMode};

fn config(seed: u64) -> SimConfig {
    SimConfig { duration: 3_000, trace: TraceMode::Hash, ..SimConfig::new(seed) }
}

#[test]
fn a_seed_replays_identically() {
    for seed in [1, 2] {
        let first = run(&config(seed));
        let second = run(&config(seed));
        assert_eq!(first.trace_hash, second.trace_hash, "seed {seed}");
        assert_eq!(first.history, second.history, "seed {seed}");
        assert_eq!(first.stats, second.stats, "seed {seed}");
    }
    assert_ne!(run(&config(1)).trace_hash, run(&config(2)).trace_hash);
}

#[test]
fn a_run_without_faults_answers_every_operation() {
    for nodes in [3, 5, 7] {
        let scenario = Some(Scenario::Mixed);
        let config = SimConfig { scenario, nodes: Some(nodes), faults: false, ..config(7) };
        let report = run(&config);
        assert!(report.violation.is_none(), "{:?}", report.violation);
        assert!(report.linearizable);
        assert!(report.history.len() > 100, "{}", report.summary());
        assert!(report.history.iter().all(|op| op.result != OpResult::Unknown));
    }
}

#[test]
fn faulty_seeds_keep_every_invariant() {
    for seed in 0..20 {
        let report = run(&SimConfig { trace: TraceMode::Off, ..config(seed) });
        assert!(
            report.violation.is_none(),
            "{:?}: {}",
            report.violation,
            report.config.replay_command()
        );
    }
}

#[test]
fn the_history_is_one_json_object_per_line() {
    let report = run(&config(3));
    let mut out = Vec::new();
    write_json_lines(&report.history, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), report.history.len());
    for line in text.lines() {
        assert!(line.starts_with("{\"client\":") && line.ends_with('}'), "{line}");
        assert!(line.contains("\"call\":") && line.contains("\"return\":"), "{line}");
    }
}

#[test]
fn a_runtime_that_forgets_its_disk_is_caught() {
    // Wiping the durable image on a crash lets a node vote twice in a term and lose entries it
    // acknowledged: some seeds must report a violation.
    // About a third of the seeds of the default length catch it.
    let caught = (0..16)
        .filter(|&seed| {
            let config = SimConfig { amnesia: true, ..SimConfig::new(seed) };
            run(&config).violation.is_some()
        })
        .count();
    assert!(caught > 0, "no violation in 16 seeds of a runtime that forgets its writes");
}
