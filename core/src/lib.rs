//! SKELETON (API contract agreed between the core and the simulator; the core helper owns
//! this crate and replaces this doc with the real crate doc: contract, polling order, example).
#![no_std]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod message;
pub mod node;
pub mod reducer;
pub mod reducers;
pub mod storage;

pub use message::{Entry, EntryPayload, Message, MessageBody, RequestId};
pub use node::{Config, Event, Node, Output, ProposalError, Role, Status};
pub use reducer::Reducer;
pub use storage::{DurableState, Persist};

/// Identifies a Raft node. Never 0 (0 means "none" on the wire).
pub type NodeId = u64;
/// A Raft term.
pub type Term = u64;
/// A position in the replicated log; the first entry has index 1.
pub type LogIndex = u64;
/// Time in milliseconds, from any origin the runtime chooses; it only has to be monotonic.
pub type Millis = u64;
