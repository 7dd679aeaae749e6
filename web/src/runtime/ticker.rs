//! Wake-ups for the Raft node from a dedicated Web Worker's timer.
//!
//! Chromium throttles a hidden page's main-thread timers to once a second, which would make a
//! hidden leader miss its heartbeats and every follower start an election. Timers inside a
//! dedicated Worker keep their rate while the page is hidden (shared/NOTES.md), so the deadline
//! is kept by a tiny inline worker (a Blob URL, no extra file to serve) that posts a message
//! when it is due. The worker also keeps time while the main thread is busy: a tick that falls
//! due during a long task is queued and delivered as soon as the task ends.
//!
//! The runtime asks for one deadline at a time, the core's `poll_timeout`: [`Ticker::wake_at`].
//! A later deadline than the one armed is ignored (an early tick is harmless: the runtime checks
//! the time and re-arms), so a busy runtime costs one `postMessage` per earlier deadline, not one
//! per call.
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo::events::EventListener;
use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};

/// The worker: a message `n >= 0` (re)arms a single timer for `n` ms, a negative one disarms it.
/// When the timer fires the worker posts its wall-clock time (`timeOrigin + now()`, epoch ms),
/// which lets a test see when it fired independently of the page's busy main thread.
const WORKER_SOURCE: &str = "let t;onmessage=e=>{clearTimeout(t);if(e.data>=0)\
t=setTimeout(()=>postMessage(performance.timeOrigin+performance.now()),e.data)}";

/// The shortest delay asked of the worker: a deadline already due still goes through the event
/// loop, so a tight loop of zero-delay wake-ups cannot starve the page.
pub const MIN_DELAY_MS: f64 = 1.0;

/// One wake-up.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tick {
    /// When the worker's timer fired, in epoch milliseconds (the worker's clock).
    pub fired_at_epoch_ms: f64,
}

/// Owns the worker; dropping it terminates the worker and frees its URL and listener.
pub struct Ticker {
    worker: Worker,
    url: String,
    shared: Rc<Shared>,
    _listener: EventListener,
}

struct Shared {
    /// The armed deadline, in [`now`] milliseconds.
    armed: Cell<Option<f64>>,
    paused: Cell<bool>,
    on_tick: RefCell<Box<dyn FnMut(Tick)>>,
}

impl Ticker {
    /// Starts the worker. `on_tick` runs on the main thread for each wake-up.
    pub fn new(on_tick: impl FnMut(Tick) + 'static) -> Result<Self, JsValue> {
        let options = BlobPropertyBag::new();
        options.set_type("text/javascript");
        let parts = Array::of1(&JsValue::from_str(WORKER_SOURCE));
        let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
        let url = Url::create_object_url_with_blob(&blob)?;
        let worker = match Worker::new(&url) {
            Ok(worker) => worker,
            Err(error) => {
                let _ = Url::revoke_object_url(&url);
                return Err(error);
            }
        };
        let shared = Rc::new(Shared {
            armed: Cell::new(None),
            paused: Cell::new(false),
            on_tick: RefCell::new(Box::new(on_tick)),
        });
        let weak = Rc::downgrade(&shared);
        let listener = EventListener::new(&worker, "message", move |event| {
            let Some(shared) = weak.upgrade() else { return };
            let fired_at = event.dyn_ref::<MessageEvent>().and_then(|e| e.data().as_f64());
            shared.armed.set(None);
            if shared.paused.get() {
                return;
            }
            let Some(fired_at_epoch_ms) = fired_at else { return };
            if let Ok(mut on_tick) = shared.on_tick.try_borrow_mut() {
                on_tick(Tick { fired_at_epoch_ms });
            };
        });
        Ok(Self { worker, url, shared, _listener: listener })
    }

    /// Asks for a tick at `deadline` ([`now`] milliseconds), unless an earlier one is armed.
    pub fn wake_at(&self, deadline: f64) {
        if self.shared.paused.get()
            || self.shared.armed.get().is_some_and(|armed| armed <= deadline)
        {
            return;
        }
        self.shared.armed.set(Some(deadline));
        self.post((deadline - now()).max(MIN_DELAY_MS));
    }

    /// Stops ticking (the "pause this node" control): no ticks until [`resume`](Self::resume).
    pub fn pause(&self) {
        self.shared.paused.set(true);
        self.shared.armed.set(None);
        self.post(-1.0);
    }

    /// Ticks again, starting with one right away so the runtime re-polls its deadline.
    pub fn resume(&self) {
        self.shared.paused.set(false);
        self.wake_at(now());
    }

    pub fn is_paused(&self) -> bool {
        self.shared.paused.get()
    }

    fn post(&self, delay_ms: f64) {
        // Fails only if the worker is gone, and then there is nobody to tell.
        let _ = self.worker.post_message(&JsValue::from_f64(delay_ms));
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.url);
    }
}

/// The page's monotonic clock in milliseconds (`performance.now()`), the time base of
/// [`Ticker::wake_at`] and of the runtime.
pub fn now() -> f64 {
    // The `Performance` object is looked up once: finding it through `window()` costs three
    // calls into JavaScript, and the runtime reads the clock several times per proposal and
    // per message (a burst of 10,000 spent ~5% of the leader's time there).
    thread_local! {
        static PERFORMANCE: Option<web_sys::Performance> =
            web_sys::window().and_then(|w| w.performance());
    }
    PERFORMANCE.with(|performance| performance.as_ref().map_or(0.0, |p| p.now()))
}
