//! Flotilla's core: a deterministic, sans-IO Raft node with a Redux-style reducer state machine.
//!
//! # The contract
//!
//! A [`Node`] never reads a clock, never draws OS randomness and never does IO. It is `no_std`
//! (with `alloc`), so it runs the same in a browser tab (wasm), on a microcontroller, or inside a
//! deterministic simulator. Time and randomness are inputs: every input carries `now` (milliseconds
//! from any origin, never going back), and the node draws every random choice from the `seed` it
//! was created with. Given the same inputs, a node produces the same outputs, always.
//!
//! Its outputs are what a runtime must do: [`Output::Persist`] (make a write durable),
//! [`Output::Send`] (transmit a message, encoded with [`codec`]) and [`Output::Event`] (tell the
//! application: an entry was applied, a proposal's outcome, a read is ready, a role or
//! membership change, a snapshot installed).
//!
//! # Features
//!
//! Raft as in the paper and Ongaro's thesis: elections with PreVote, CheckQuorum and a leader
//! lease; pipelined replication; proposals at any node (forwarded to the leader) with
//! deduplication; membership changes one server at a time, with learners ([`membership`], with
//! an automatic policy as pure functions in [`membership::policy`]); log compaction into
//! snapshots, sent in chunks to followers that fell behind; leadership transfer; linearizable
//! reads by ReadIndex (lease reads as an opt-in); a "connection closed" hint for fast failure
//! detection; counters for introspection.
//!
//! # Driving a node
//!
//! In the style of quinn-proto and str0m, one step is:
//!
//! 1. Give the node one input: [`Node::handle_message`] for a message that arrived,
//!    [`Node::handle_timeout`] when the time from `poll_timeout` has come,
//!    [`Node::handle_peer_disconnected`] when a connection closed, or [`Node::propose`],
//!    [`Node::read`] (and the other methods listed on [`Node`]) for what the application wants.
//! 2. Drain [`Node::poll_output`] until it returns `None`, performing each output **in order**.
//! 3. Ask [`Node::poll_timeout`] when to call `handle_timeout` next, and sleep until then or
//!    until the next input, whichever comes first.
//!
//! # The durability rule
//!
//! A vote, an append acknowledgement, anything that promises state, never appears in the output
//! queue before the `Persist` it depends on. The runtime keeps its half of the bargain: it
//! processes outputs in order and finishes each `Persist` before transmitting any later `Send`.
//! Events that report a commit (`Applied`, `ProposalOutcome`, `ReadReady`) are queued after the
//! writes they depend on too, and a runtime that tells anyone about them (a client, another tab)
//! delivers them after those writes: in a one-voter configuration, the leader's own write is
//! what commits its entries, so a crash before it lands loses entries that only such an early
//! event could have revealed. (A lone voter that just won queues those events after the write
//! of its term's first entry but before the write of its term and vote. That entry alone keeps
//! the term safe: [`Node::restart`] takes the larger of the stored term and the last entry's,
//! and no candidate that lacks the entry can get this node's vote.)
//! A runtime that crashes loses exactly the writes it had not finished, and [`Node::restart`]
//! rebuilds the node from the [`DurableState`] it kept.
//!
//! One relaxation is safe (Ongaro's thesis, section 10.2.1) for a runtime in which no crash
//! can fall between a send and the write after it: a leader's appends may be sent before the
//! `Persist` of the entries they carry, if that `Persist` finishes before the node gets any
//! further input. Two things lean on the leader's write: the node counts its own entries toward
//! a quorum as soon as it emits them, and in 2- and 3-voter clusters a follower takes an entry of
//! its leader's term as committed once it wrote it (`node::replication`), which holds only if
//! the leader has it too. The web runtime qualifies: its writes are synchronous `setItem` calls
//! in the same task as the sends, and a tab is stopped, frozen or reloaded only between tasks (a
//! renderer killed mid-task can lose either, in any order: storage and data channels leave it by
//! separate IPC paths). Writes of a term or vote, and everything a follower sends, keep the rule.
//!
//! # Example: a three-node cluster in one loop
//!
//! ```
//! use flotilla_core::reducers::kv::{Kv, KvAction, KvOutput};
//! use flotilla_core::{Config, DurableState, Event, Message, Node, Output, RequestId};
//! use std::collections::VecDeque;
//!
//! let ids = [1, 2, 3];
//! let mut nodes: Vec<Node<Kv>> =
//!     ids.iter().map(|&id| Node::new(Config::new(id), &ids, 42 + id, 0)).collect();
//! let mut disks = vec![DurableState::default(); 3];
//! let mut wire: VecDeque<Message<KvAction>> = VecDeque::new();
//! let mut outcome = None;
//!
//! let mut now = 0;
//! let request = RequestId { client: 7, seq: 1 };
//! while outcome.is_none() && now < 10_000 {
//!     // Deliver what is on the wire, fire due timers, then drain every node's outputs in order.
//!     while let Some(message) = wire.pop_front() {
//!         nodes[message.to as usize - 1].handle_message(now, message);
//!     }
//!     for (i, node) in nodes.iter_mut().enumerate() {
//!         if node.poll_timeout().is_some_and(|t| t <= now) {
//!             node.handle_timeout(now);
//!         }
//!         if node.status().leader == Some(node.status().id) && now % 100 == 0 {
//!             // Propose once a leader exists (a retry with the same id is applied once).
//!             node.propose(now, request, KvAction::Write { key: 1, value: 99 }).unwrap();
//!         }
//!         while let Some(output) = node.poll_output() {
//!             match output {
//!                 Output::Persist(write) => disks[i].absorb(write), // durable before any later Send
//!                 Output::Send(message) => wire.push_back(message),
//!                 Output::Event(Event::ProposalOutcome { result, .. }) => outcome = Some(result),
//!                 Output::Event(_) => {}
//!             }
//!         }
//!     }
//!     now += 1;
//! }
//! let (index, output) = outcome.unwrap().unwrap();
//! assert_eq!(output, KvOutput::Written);
//! assert!(index >= 2); // after the leader's no-op
//! ```
//!
//! # Layout
//!
//! - [`node`]: the Raft node and its public types (`Config`, `Output`, `Event`, ...).
//! - [`membership`]: configurations, single-server changes and the automatic policy.
//! - [`message`]: what nodes send each other; [`codec`]: its versioned binary encoding.
//! - [`storage`]: durable writes, snapshots, and the image a restart reads back.
//! - [`reducer`]: the state-machine trait; [`reducers`]: the two Flotilla ships.
//! - [`gossip`]: scuttlebutt presence and telemetry, independent of Raft.
//! - [`vec_map`]: the small ordered maps and sets used throughout, as sorted `Vec`s (far less
//!   code than `BTreeMap` in the web app's bundle).
//! - `log`, `progress`, `machine`, `snapshot`, `rng` (private): the log with its base,
//!   per-follower replication progress, the replicated state with its session table, the
//!   follower's reassembly of snapshot chunks, the seeded PRNG.
#![no_std]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod codec;
pub mod gossip;
mod log;
mod machine;
pub mod membership;
pub mod message;
pub mod node;
mod progress;
pub mod reducer;
pub mod reducers;
mod rng;
mod snapshot;
pub mod storage;
pub mod vec_map;

pub use machine::SESSION_WINDOW;
pub use membership::{Change, Membership, MembershipError};
pub use message::{Entry, EntryPayload, Message, MessageBody, ReadId, RequestId};
pub use node::{
    Config, Counters, Event, MessageCounts, MessageKind, Node, Output, ProposalError, ReadError,
    ReplicationState, Role, Status, TransferError,
};
pub use reducer::Reducer;
pub use storage::{DurableState, Persist, RestoreError, Snapshot};
pub use vec_map::{VecMap, VecSet};

/// Identifies a Raft node. Never 0 (0 means "none" on the wire).
pub type NodeId = u64;
/// A Raft term.
pub type Term = u64;
/// A position in the replicated log; the first entry has index 1.
pub type LogIndex = u64;
/// Time in milliseconds, from any origin the runtime chooses; it only has to be monotonic.
pub type Millis = u64;
