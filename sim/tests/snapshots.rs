//! Snapshots and compaction under faults: a snapshot-heavy family of runs compacts every few
//! entries and sends snapshots in tiny chunks (so lost, repeated and reordered chunks are the
//! rule), nodes restart from snapshot plus log, and every check still holds on logs that no
//! longer hold the compacted entries.
use flotilla_sim::{execute, plan, Report, SimConfig};

/// A run of `seed` that compacts every `entries` entries, keeps none below a snapshot, and
/// sends snapshots in `chunk`-byte pieces.
fn snapshot_heavy(seed: u64, entries: u64, chunk: usize) -> Report {
    let config = SimConfig { duration: 8_000, ..SimConfig::new(seed) };
    let mut plan = plan(&config);
    let node_config = &mut plan.setup.node_config;
    node_config.compact_after_entries = Some(entries);
    node_config.compact_keep_entries = 0;
    node_config.snapshot_chunk_bytes = chunk;
    execute(plan)
}

#[test]
fn snapshot_heavy_runs_keep_every_invariant() {
    let (mut installed, mut chunks, mut restarts) = (0, 0, 0);
    for seed in 0..6 {
        let report = snapshot_heavy(seed, 4, 32);
        let replay = report.config.replay_command();
        assert!(
            report.violation.is_none(),
            "{:?} ({replay} with tiny snapshots)",
            report.violation
        );
        assert!(report.linearizable);
        assert!(report.stats.snapshots > 20, "{}", report.summary());
        installed += report.stats.snapshots_installed;
        chunks += report.stats.snapshot_chunks;
        restarts += report.stats.snapshot_restarts;
    }
    let counts = format!("{installed} installed, {chunks} chunks, {restarts} restarts");
    assert!(installed >= 6 && chunks >= 20 * installed && restarts >= 6, "{counts}");
}
