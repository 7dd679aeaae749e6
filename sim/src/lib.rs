//! Flotilla's deterministic fault simulator: a Jepsen-style test of `flotilla-core` in one
//! process and virtual time.
//!
//! A run is a pure function of its seed. It builds a cluster of Raft nodes with clients at every
//! node, injects a random fault schedule, then heals everything and lets the cluster settle.
//! The faults: message drop, duplication, reordering and delay spikes; partitions;
//! crash-restart losing unpersisted writes (restarting from snapshot plus log); pause-resume;
//! slow disks; nodes joining, leaving (gracefully, or closing their tab) and being removed;
//! leadership transfers to any node and step-downs; connection-closed hints, true and late.
//! Compaction thresholds are tiny, so snapshots are taken and sent in chunks all the time.
//! After every step it checks Raft's safety properties; after the heal, liveness; at the end,
//! linearizability of the key-value history, whose reads go through the log or around it
//! (ReadIndex, or the leader's lease for some seeds).
//!
//! Two scenarios share the machinery: `mixed` (a static cluster of 3, 5 or 7 voters whose
//! membership changes on the way) and `grow-shrink` (one bootstrapped node grows to seven voters
//! and shrinks back to one); one seed in eight runs the second.
//!
//! ```no_run
//! let report = flotilla_sim::run(&flotilla_sim::SimConfig::new(42));
//! assert!(report.violation.is_none(), "{}", report.config.replay_command());
//! ```
//!
//! Layout:
//! - [`mod@run`]: one seed end to end, and batches of seeds over threads.
//! - [`cluster`]: the nodes, their runtimes (durable image, output queue, membership policy)
//!   and the event loop.
//! - [`network`]: latency, link faults and partitions.
//! - [`schedule`]: the fault schedule drawn from the seed.
//! - [`workload`]: the key-value clients.
//! - [`invariants`]: Raft's safety properties, checked after every step; [`shadow`]: each
//!   node's log as the checker follows it, through what the node writes.
//! - [`history`] and [`linearizability`]: the client history and its checker.
//! - [`trace`]: the readable trace of a run.
//! - [`rng`]: the seeded random streams.
//!
//! Where new features go:
//! - a new disturbance is a [`schedule::Fault`] variant drawn by a track in [`schedule`],
//!   applied in `Cluster::apply_fault`; a fault that needs the cluster's state to pick its
//!   target (a member, the leader) draws it when it fires;
//! - a new kind of client operation is a [`workload::Step`] the cluster carries out, recorded as
//!   an [`history::Op`] of its own kind;
//! - a run with a schedule or tuning written by hand is [`plan`], adjusted, then [`execute`]
//!   (the focused tests in `sim/tests/` do this).
pub mod cluster;
pub mod history;
pub mod invariants;
pub mod linearizability;
pub mod network;
pub mod rng;
pub mod run;
pub mod schedule;
pub mod shadow;
pub mod trace;
pub mod workload;

pub use run::{execute, plan, run, run_seeds, Plan, Report, Scenario, SeedOutcome, SimConfig};
pub use trace::TraceMode;
