//! This tab's Raft node id, kept in sessionStorage so a reload is the same node restarting.
//!
//! "Duplicate tab" copies sessionStorage, which would give two live tabs the same node id (and
//! the same log): two nodes with one id break Raft's safety. So a tab that finds a stored id
//! first asks the tabs of this browser, over a `BroadcastChannel`, whether one of them holds it.
//! Every tab keeps answering for its own id while its [`Identity`] lives. If someone answers,
//! this tab is a duplicate: it takes a fresh id, and the caller wipes the copied durable state.
//!
//! Limitation: two tabs that start within the answer window with the same stored id (a duplicate
//! made while its original is reloading) cannot see each other; both keep the id.
use std::cell::Cell;
use std::rc::Rc;

use gloo::events::EventListener;
use js_sys::Promise;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::{BroadcastChannel, MessageEvent};

use super::session_storage;

/// Where the node id lives in sessionStorage (one per tab, whatever the room).
pub const NODE_ID_KEY: &str = "flotilla/node-id";
const CHANNEL_NAME: &str = "flotilla/node-ids";
/// How long a tab waits for another to say it holds the id. Tabs of one browser answer within a
/// few milliseconds; a reload pays this once.
const ANSWER_WINDOW_MS: i32 = 60;
/// Node ids are drawn below 2^53 so they survive a trip through JavaScript numbers and JSON.
const MAX_NODE_ID: f64 = 9_007_199_254_740_991.0;

/// How this tab came by its node id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// No id was stored: a new tab, a new node.
    Fresh,
    /// The stored id is ours: this is a reload, the node restarts from its durable state.
    Restarted,
    /// The stored id belongs to another live tab (this one is a duplicate): a fresh id was
    /// drawn, and the durable state copied with it must be wiped.
    Duplicated,
}

/// The claimed node id. Keep it alive as long as the node runs: it answers other tabs' queries.
pub struct Identity {
    pub node_id: u64,
    pub origin: Origin,
    _guard: Guard,
}

/// Answers "who holds id N?" for our id.
struct Guard {
    channel: BroadcastChannel,
    _listener: EventListener,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.channel.close();
    }
}

/// Claims this tab's node id (waits up to [`ANSWER_WINDOW_MS`] if one was stored).
pub async fn claim() -> Result<Identity, JsValue> {
    let storage = session_storage()?;
    let channel = BroadcastChannel::new(CHANNEL_NAME)?;
    let stored = storage
        .get_item(NODE_ID_KEY)?
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|id| *id != 0);
    let (node_id, origin) = match stored {
        Some(id) => {
            let taken = Rc::new(Cell::new(false));
            let answer = format!("taken:{id}");
            let seen = taken.clone();
            let _listener = EventListener::new(&channel, "message", move |event| {
                if message_text(event).as_deref() == Some(answer.as_str()) {
                    seen.set(true);
                }
            });
            channel.post_message(&JsValue::from_str(&format!("query:{id}")))?;
            sleep(ANSWER_WINDOW_MS).await?;
            if taken.get() {
                (fresh_id(), Origin::Duplicated)
            } else {
                (id, Origin::Restarted)
            }
        }
        None => (fresh_id(), Origin::Fresh),
    };
    storage.set_item(NODE_ID_KEY, &node_id.to_string())?;
    let query = format!("query:{node_id}");
    let answer = JsValue::from_str(&format!("taken:{node_id}"));
    let responder = channel.clone();
    let listener = EventListener::new(&channel, "message", move |event| {
        if message_text(event).as_deref() == Some(query.as_str()) {
            // Posting fails only once the channel is closed, when nobody needs the answer.
            let _ = responder.post_message(&answer);
        }
    });
    Ok(Identity { node_id, origin, _guard: Guard { channel, _listener: listener } })
}

fn message_text(event: &web_sys::Event) -> Option<String> {
    use wasm_bindgen::JsCast;
    event.dyn_ref::<MessageEvent>().and_then(|e| e.data().as_string())
}

fn fresh_id() -> u64 {
    ((js_sys::Math::random() * MAX_NODE_ID) as u64).max(1)
}

/// Resolves after `ms` milliseconds (a main-thread timer: fine for a one-off wait).
async fn sleep(ms: i32) -> Result<(), JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let mut scheduled = Ok(0);
    let promise = Promise::new(&mut |resolve, _| {
        scheduled = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
    });
    scheduled?;
    JsFuture::from(promise).await.map(drop)
}
