//! WIP
pub mod history;
pub mod invariants;
pub mod linearizability;
pub mod network;
pub mod rng;
pub mod schedule;
