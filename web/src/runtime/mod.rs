//! The runtime around the Raft core: what a tab provides to its node.
//!
//! - [`storage`]: the node id and the durable Raft state, in sessionStorage (synchronous, so
//!   persist-before-send holds), with duplicate-tab detection.
//! - [`ticker`]: wake-ups from a dedicated Web Worker, which hidden tabs do not throttle.
//!
//! [`TabMeta`] is what this tab tells the others through the signal server: the transport only
//! carries it; the runtime maps signal peers to Raft node ids with it.
use serde::{Deserialize, Serialize};

pub mod storage;
pub mod ticker;

/// This tab's self-description in the signaling `hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TabMeta {
    /// The Raft node id (from sessionStorage).
    pub node: u64,
    /// A short display name.
    pub name: String,
}
