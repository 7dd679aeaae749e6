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
//!   default `lobby`), starts ticking and installs the test hook (`window.flotilla`, see
//!   [`test_hook`]). Commands given before that are queued and run then.
//! - `on_view` receives a complete [`ClusterView`] at most once per animation frame (~30 Hz at
//!   most), and only when something changed or moves: a burst of 10,000 entries is a handful
//!   of views, not 10,000. A hidden tab gets none (no animation frames) until shown again.
//! - [`RuntimeHandle`] is cheap to clone and compares by identity (so it can be a prop).
//!   Dropping the last clone stops the node and leaves the room.
//! - [`Runtime::start_with`] takes [`Options`] instead of reading the page: the browser tests
//!   run several runtimes in one page over an in-page [`net::Network`].
//!
//! # Modules
//! - `driver`: the Raft loop (inputs, the output order, membership, pause and isolation).
//! - `cluster`: which cluster a tab belongs to, so two clusters in one room never mix.
//! - [`net`]: the network the loop talks to, and the WebRTC mesh behind it.
//! - `wire`: Raft, gossip and goodbye frames on one data channel.
//! - `present`, `observe`, `stats`: what the view shows (built per frame, not per message).
//! - [`settings`]: every timing, in one place.
//! - [`storage`]: the node id and the durable Raft state, in sessionStorage (synchronous, so
//!   persist-before-send holds), with duplicate-tab detection.
//! - [`ticker`]: wake-ups from a dedicated Web Worker, which hidden tabs do not throttle.
//! - [`test_hook`]: `window.flotilla`, what the end-to-end suite drives.
//!
//! [`TabMeta`] is what this tab tells the others through the signal server: the transport only
//! carries it; the runtime maps signal peers to Raft node ids with it.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use flotilla_core::NodeId;
use flotilla_signal_protocol::valid_room_name;
use gloo::console;
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use yew::Callback;

use crate::transport::room_url;
use crate::view::{ClusterView, Command, TimelineEvent, TimelineKind};
use driver::{Driver, Identity, Input};
use net::{MeshNet, NetEvent, Network};
use settings::{
    VIEW_AFTER_COMMIT_MS, VIEW_COST_FACTOR, VIEW_DEFER_MAX_MS, VIEW_EVERY_MS, VIEW_SLOWEST_MS,
};
use storage::identity::{self as claim, Origin};
use storage::DurableStore;
use ticker::{now, Ticker};

mod cluster;
mod driver;
mod names;
pub mod net;
mod observe;
mod present;
pub mod settings;
mod stats;
pub mod storage;
pub mod test_hook;
pub mod ticker;
mod wire;

/// This tab's self-description in the signaling `hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TabMeta {
    /// The Raft node id (from sessionStorage).
    pub node: u64,
    /// A short display name.
    pub name: String,
    /// The CSS colour the tab is drawn in (absent from older tabs: derived from the name then).
    #[serde(default)]
    pub colour: String,
}

/// Makes the network a runtime runs on, given this tab's meta and where to report events.
pub type MakeNetwork =
    Box<dyn FnOnce(&TabMeta, Box<dyn FnMut(NetEvent)>) -> Result<Box<dyn Network>, String>>;

/// How to start a runtime; [`Options::from_page`] is what the app uses.
pub struct Options {
    /// The room, which is also the cluster: `?room=NAME`, default `lobby`.
    pub room: String,
    /// `None`: claim the tab's node id from sessionStorage (a reload is the same node). Tests
    /// running several nodes in one page give each its own.
    pub node_id: Option<NodeId>,
    /// Where the durable state lives in sessionStorage; default `flotilla/{room}/`.
    pub storage_prefix: Option<String>,
    /// `None`: the WebRTC mesh through the signal server that served the page.
    pub network: Option<MakeNetwork>,
    /// Install `window.flotilla` (see [`test_hook`]).
    pub test_hook: bool,
}

/// The room of plain new tabs, so that they form one cluster.
pub const DEFAULT_ROOM: &str = "lobby";

impl Options {
    /// The page's room, its own node id, the mesh, and the test hook.
    pub fn from_page() -> Self {
        let room = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
            .and_then(|params| params.get("room"))
            .filter(|room| valid_room_name(room))
            .unwrap_or_else(|| DEFAULT_ROOM.to_owned());
        Options { room, node_id: None, storage_prefix: None, network: None, test_hook: true }
    }
}

/// This tab's Raft node with everything it runs on. Only its handle is public.
pub struct Runtime;

impl Runtime {
    /// Starts the runtime of this tab (see the module doc).
    pub fn start(on_view: Callback<ClusterView>) -> RuntimeHandle {
        Self::start_with(Options::from_page(), on_view)
    }

    /// Starts a runtime with explicit options.
    pub fn start_with(options: Options, on_view: Callback<ClusterView>) -> RuntimeHandle {
        let shared = Rc::new(Shared {
            driver: RefCell::new(None),
            inbox: RefCell::new(VecDeque::new()),
            on_view,
            frame: RefCell::new(None),
            frame_pending: Cell::new(false),
            last_view: Cell::new(f64::NEG_INFINITY),
            render_cost: Rc::new(Cell::new(0.0)),
            cost_timer: RefCell::new(None),
            frame_timer: RefCell::new(None),
            deferred: Cell::new(false),
            control_changed: Cell::new(false),
            send_microtask: RefCell::new(None),
            send_scheduled: Cell::new(false),
            pagehide: RefCell::new(None),
            identity: RefCell::new(None),
        });
        spawn_local(boot(Rc::downgrade(&shared), options));
        RuntimeHandle { shared }
    }
}

/// The UI's handle on the runtime: give it commands. Dropping the last clone stops the runtime.
#[derive(Clone)]
pub struct RuntimeHandle {
    shared: Rc<Shared>,
}

impl RuntimeHandle {
    /// Runs a command from the UI (queued until the node has started).
    pub fn command(&self, command: Command) {
        self.shared.input(Input::Command(command));
    }

    /// Reads the running driver (for tests): `None` before it started.
    pub fn node_id(&self) -> Option<NodeId> {
        self.shared.with_driver(|driver| driver.id.node)
    }

    /// The test hook's view of this runtime (for tests that run several in one page).
    pub fn hook(&self) -> test_hook::FlotillaHook {
        test_hook::FlotillaHook::new(Rc::downgrade(&self.shared))
    }
}

impl PartialEq for RuntimeHandle {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.shared, &other.shared)
    }
}

type FrameCallback = Closure<dyn FnMut(f64)>;

/// What the handle, the ticker, the network and the hook share. Every input goes through
/// [`Shared::input`], which runs the driver unless it is already running further up the stack
/// (then the input waits in the inbox and that outer run takes it): no callback can re-enter
/// the driver.
pub(crate) struct Shared {
    driver: RefCell<Option<Driver>>,
    inbox: RefCell<VecDeque<Input>>,
    on_view: Callback<ClusterView>,
    /// The animation-frame callback: one per runtime, kept for its whole life.
    frame: RefCell<Option<FrameCallback>>,
    frame_pending: Cell<bool>,
    last_view: Cell<f64>,
    /// What rendering a view costs the main thread (ms, a moving average), Yew's render and
    /// the browser's style, layout and paint.
    render_cost: Rc<Cell<f64>>,
    /// The timer that measures the last view's cost.
    cost_timer: RefCell<Option<Timeout>>,
    /// The timer that waits for the next view to be due (see `request_frame`).
    frame_timer: RefCell<Option<Timeout>>,
    /// A due view waits for the commit in flight (see `render`): the next input that finds
    /// none asks for it again.
    deferred: Cell<bool>,
    /// Pause or Isolate was just used: the next view comes at once, neither deferred nor
    /// paced, since those buttons act on the state the view shows (a second click on a view
    /// still showing "Pause" would pause again instead of resuming).
    control_changed: Cell<bool>,
    /// The microtask that transmits the driver's outbox (see `schedule_send`), and whether it
    /// is queued.
    send_microtask: RefCell<Option<Closure<dyn FnMut()>>>,
    send_scheduled: Cell<bool>,
    pagehide: RefCell<Option<EventListener>>,
    /// Answers other tabs asking whether this node id is taken, for as long as we run.
    identity: RefCell<Option<claim::Identity>>,
}

impl Shared {
    pub(crate) fn input(self: &Rc<Self>, input: Input) {
        if matches!(input, Input::Command(Command::SetPaused(_) | Command::SetIsolated(_))) {
            self.control_changed.set(true);
        }
        self.inbox.borrow_mut().push_back(input);
        self.pump();
    }

    fn pump(self: &Rc<Self>) {
        let Ok(mut slot) = self.driver.try_borrow_mut() else { return };
        let Some(driver) = slot.as_mut() else { return };
        // With no transmission pending, nothing sent earlier can be overtaken: a leader's
        // appends may leave before its write (`Driver::sends_before_flush`).
        driver.send_at_once = !self.send_scheduled.get();
        loop {
            let next = self.inbox.borrow_mut().pop_front();
            let Some(input) = next else { break };
            driver.input(input);
        }
        driver.send_at_once = false;
        let dirty = driver.dirty;
        let resume = self.deferred.get() && !driver.commit_in_flight();
        let send = driver.send_due();
        drop(slot);
        if send {
            self.schedule_send();
        }
        if self.control_changed.get() {
            self.frame_after(0.0);
        } else if resume {
            // The commit a view waited for is done: render soon rather than at the deadline,
            // but not at once. Bursts and closed loops come back to back: the next one's first
            // input usually arrives within `VIEW_AFTER_COMMIT_MS`, and the view then waits
            // for it too (up to `VIEW_DEFER_MAX_MS`) instead of holding the main thread for
            // tens of milliseconds just as it starts (see `VIEW_AFTER_COMMIT_MS`).
            self.deferred.set(false);
            self.frame_after(VIEW_AFTER_COMMIT_MS);
        } else if dirty {
            self.request_frame();
        }
    }

    /// Transmits the driver's outbox in a microtask: still in this task, after the promise
    /// reactions of the proposals it settled, so that what a client does on its commit (a
    /// closed loop's next append) joins this task's messages, one frame per peer. A follower's
    /// commit is known once its own write of the entry landed (`Driver::drain`, before this);
    /// its ack is for the leader, and the client need not wait for the send (0.1-0.3 ms,
    /// e2e/hops.mjs).
    ///
    /// Not a task behind the queued inputs (a `MessageChannel`), which would put messages that
    /// several inputs produce for one peer in one frame: that hop cost every commit under load
    /// more than the frames it saved. Interleaved with it, 3 rounds at load 7-10: closed loop
    /// 483/785/516 writes/s with the task, 542/865/713 without; bursts 28.4k/27.9k/21.4k vs
    /// 35.9k/28.1k/18.7k entries/s. Under a trickle of proposals the leader batches anyway
    /// (`max_inflight_appends`, the core holds less than a full append while one is in flight).
    fn schedule_send(self: &Rc<Self>) {
        if self.send_scheduled.replace(true) {
            return;
        }
        let weak = Rc::downgrade(self);
        let mut microtask = self.send_microtask.borrow_mut();
        let callback = microtask.get_or_insert_with(|| {
            Closure::new(move || {
                if let Some(shared) = weak.upgrade() {
                    shared.send_now();
                }
            })
        });
        queue_microtask(callback.as_ref().unchecked_ref());
    }

    fn send_now(&self) {
        self.send_scheduled.set(false);
        if let Ok(mut slot) = self.driver.try_borrow_mut() {
            if let Some(driver) = slot.as_mut() {
                driver.transmit_outbox();
            }
        }
    }

    pub(crate) fn with_driver<T>(&self, read: impl FnOnce(&Driver) -> T) -> Option<T> {
        self.driver.try_borrow().ok()?.as_ref().map(read)
    }

    /// Asks for an animation frame to render in, once the next view is due: until then a timer
    /// waits, not a frame per vsync (each frame the browser runs its lifecycle for, ~1-5 ms of
    /// main thread on a busy tab even when no view comes out of it).
    fn request_frame(self: &Rc<Self>) {
        if self.frame_pending.replace(true) {
            return;
        }
        let wait = self.last_view.get() + self.view_every() - now();
        if wait > 1.0 {
            return self.frame_after(wait);
        }
        self.frame_pending.set(false);
        self.animation_frame();
    }

    /// Asks for an animation frame after `wait` ms, replacing any frame timer armed before (a
    /// view that waits for a commit is no longer deferred once it fires).
    fn frame_after(self: &Rc<Self>, wait: f64) {
        self.frame_pending.set(true);
        let weak = Rc::downgrade(self);
        let timer = Timeout::new(wait.ceil() as u32, move || {
            if let Some(shared) = weak.upgrade() {
                shared.deferred.set(false);
                shared.frame_pending.set(false);
                shared.animation_frame();
            }
        });
        *self.frame_timer.borrow_mut() = Some(timer);
    }

    /// How long after a view the next may come (see `VIEW_COST_FACTOR`).
    fn view_every(&self) -> f64 {
        (VIEW_COST_FACTOR * self.render_cost.get()).clamp(VIEW_EVERY_MS, VIEW_SLOWEST_MS)
    }

    fn animation_frame(self: &Rc<Self>) {
        if self.frame_pending.replace(true) {
            return;
        }
        let Some(window) = web_sys::window() else { return };
        let mut frame = self.frame.borrow_mut();
        let callback = frame.get_or_insert_with(|| {
            let weak = Rc::downgrade(self);
            Closure::new(move |_: f64| {
                if let Some(shared) = weak.upgrade() {
                    shared.render();
                }
            })
        });
        if window.request_animation_frame(callback.as_ref().unchecked_ref()).is_err() {
            self.frame_pending.set(false);
        }
    }

    /// One animation frame: emits a view if the last one is old enough, and asks for another
    /// frame while anything changes or moves.
    fn render(self: &Rc<Self>) {
        self.frame_pending.set(false);
        let at = now();
        let urgent = self.control_changed.replace(false);
        // A frame may come a little before the timer's due time: close enough.
        if !urgent && at - self.last_view.get() < self.view_every() - 4.0 {
            return self.request_frame();
        }
        let built = {
            let Ok(mut slot) = self.driver.try_borrow_mut() else { return self.request_frame() };
            let Some(driver) = slot.as_mut() else { return };
            let overdue = at - self.last_view.get() >= VIEW_DEFER_MAX_MS;
            if !overdue && !urgent && driver.commit_in_flight() {
                // Wait for the commit (`pump` asks again when it is done), or until overdue.
                self.deferred.set(true);
                self.frame_after(self.last_view.get() + VIEW_DEFER_MAX_MS - at);
                return;
            }
            self.deferred.set(false);
            let view = driver.view(at);
            driver.dirty = driver.animating();
            (view, driver.dirty)
        };
        let (view, again) = built;
        self.last_view.set(at);
        // No borrow is held: the UI may send commands from inside this call.
        self.on_view.emit(view);
        // Yew renders on a microtask queued by `emit`; the browser then recalculates style,
        // lays out and paints, in this same frame task. A timer task runs after all of it, so
        // the cost counts what the view costs the main thread, not only Yew's part (measured
        // with 3 tabs: Yew ~9 ms a view, style, layout and paint ~16 ms more).
        let cost = self.render_cost.clone();
        let timer = Timeout::new(0, move || cost.set(0.7 * cost.get() + 0.3 * (now() - at)));
        // Replacing the last view's timer frees it (it fired long ago: views are >= 33 ms apart).
        *self.cost_timer.borrow_mut() = Some(timer);
        if again {
            self.request_frame();
        }
    }

    /// Shows why the runtime could not start.
    fn failed(&self, room: &str, error: &str) {
        console::error!(format!("flotilla: the runtime could not start: {error}"));
        let event = TimelineEvent {
            at: now(),
            kind: TimelineKind::Error,
            text: format!("could not start: {error}"),
        };
        self.on_view.emit(ClusterView {
            room: room.to_owned(),
            timeline: vec![event],
            ..ClusterView::default()
        });
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// The global `queueMicrotask`: runs `callback` once the current task's script is done.
    #[wasm_bindgen(js_name = queueMicrotask)]
    fn queue_microtask(callback: &js_sys::Function);
}

/// Claims the node id, opens the store, joins the network, and starts the driver.
async fn boot(weak: Weak<Shared>, options: Options) {
    let room = options.room.clone();
    if let Err(error) = try_boot(weak.clone(), options).await {
        if let Some(shared) = weak.upgrade() {
            shared.failed(&room, &error);
        }
    }
}

async fn try_boot(weak: Weak<Shared>, options: Options) -> Result<(), String> {
    let Options { room, node_id, storage_prefix, network, test_hook } = options;
    let (node, origin, identity) = match node_id {
        Some(node) => (node, Origin::Restarted, None),
        None => {
            let identity = claim::claim().await.map_err(|e| format!("no node id: {e:?}"))?;
            (identity.node_id, identity.origin, Some(identity))
        }
    };
    let prefix = storage_prefix.unwrap_or_else(|| format!("flotilla/{room}/"));
    let mut store = DurableStore::open(&prefix).map_err(|e| e.to_string())?;
    if origin != Origin::Restarted {
        // A new node id: whatever is stored (copied from the tab this one duplicates) is not
        // this node's, and must not be taken for it.
        store.wipe().map_err(|e| e.to_string())?;
    }
    let name = names::name_for(node);
    let colour = names::colour_for(&name);
    let meta = TabMeta { node, name: name.clone(), colour: colour.clone() };

    let Some(shared) = weak.upgrade() else { return Ok(()) };
    *shared.identity.borrow_mut() = identity;
    let ticker_weak = weak.clone();
    let ticker = Ticker::new(move |_| {
        if let Some(shared) = ticker_weak.upgrade() {
            shared.input(Input::Tick);
        }
    })
    .map_err(|e| format!("no ticker worker: {e:?}"))?;
    // Registered before the mesh joins, so it runs before the mesh's own `pagehide` closes the
    // links: the goodbye still goes out on them.
    if let Some(window) = web_sys::window() {
        let hide_weak = weak.clone();
        let listener = EventListener::new(&window, "pagehide", move |_| {
            if let Some(shared) = hide_weak.upgrade() {
                shared.input(Input::PageHide);
            }
        });
        *shared.pagehide.borrow_mut() = Some(listener);
    }
    let net_weak = weak.clone();
    let on_event: Box<dyn FnMut(NetEvent)> = Box::new(move |event| {
        if let Some(shared) = net_weak.upgrade() {
            shared.input(Input::Net(event));
        }
    });
    let net: Box<dyn Network> = match network {
        Some(make) => make(&meta, on_event)?,
        None => {
            let url = room_url(&room).map_err(|e| format!("no signaling URL: {e:?}"))?;
            Box::new(MeshNet::join(url, &meta, on_event).map_err(|e| e.to_string())?)
        }
    };
    let share_url = share_url(&room);
    let id = Identity { node, name, colour, room, share_url };
    let driver = Driver::new(id, store, net, ticker)?;
    *shared.driver.borrow_mut() = Some(driver);
    if test_hook {
        test_hook::install(Rc::downgrade(&shared));
    }
    shared.pump();
    Ok(())
}

/// The link that opens `room` on this server.
fn share_url(room: &str) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else { return String::new() };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}?room={}", String::from(js_sys::encode_uri_component(room)))
}
