//! The signaling client: one WebSocket to the signal server's `/ws/{room}`.
//!
//! It says `hello` with this tab's meta on every (re)connect, reports every server message, and
//! after a drop reconnects with exponential backoff and jitter. It presents the resume token from
//! the last `welcome`, so a dropped socket that comes back in time keeps its peer id and the
//! other tabs see no change. Data channels do not depend on this socket: while it is down,
//! established links keep working; only new negotiations wait.
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use flotilla_signal_protocol::{ClientMessage, Meta, PeerId, ServerMessage};
use gloo::console;
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::{Event, MessageEvent, WebSocket};

use super::backoff::Backoff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalingState {
    /// Opening the socket (first time, or again after a drop).
    Connecting,
    /// In the room as `id` (the server's `welcome`).
    Joined { id: PeerId },
    /// The socket dropped or could not open; the next attempt is in `retry_in_ms`.
    Disconnected { retry_in_ms: u32 },
}

/// What the client reports to its owner.
#[derive(Debug)]
pub enum SignalEvent {
    State(SignalingState),
    /// Every well-formed server message, `welcome` included (before `State(Joined)`).
    Message(ServerMessage),
}

/// A self-reconnecting signaling session. Dropping it closes the socket for good.
pub struct SignalClient {
    shared: Rc<Shared>,
}

struct Shared {
    url: String,
    meta: Meta,
    /// From the last `welcome`: lets a reconnect keep the same peer id.
    resume_token: RefCell<Option<String>>,
    socket: RefCell<Option<Socket>>,
    backoff: RefCell<Backoff>,
    retry: RefCell<Option<Timeout>>,
    /// Set by `close`: no more reconnects.
    closed: Cell<bool>,
    on_event: RefCell<Box<dyn FnMut(SignalEvent)>>,
}

/// A socket with its listeners; dropping it removes them and closes the socket.
struct Socket {
    ws: WebSocket,
    _listeners: [EventListener; 3],
}

impl Drop for Socket {
    fn drop(&mut self) {
        // Fails only for an invalid close code, and none is given.
        let _ = self.ws.close();
    }
}

impl SignalClient {
    /// Connects to `url` (see [`super::mesh::room_url`]) and keeps connecting until closed.
    /// `meta` is the small JSON self-description the server forwards to the other tabs.
    pub fn connect(url: String, meta: Meta, on_event: impl FnMut(SignalEvent) + 'static) -> Self {
        let shared = Rc::new(Shared {
            url,
            meta,
            resume_token: RefCell::new(None),
            socket: RefCell::new(None),
            backoff: RefCell::new(Backoff::default()),
            retry: RefCell::new(None),
            closed: Cell::new(false),
            on_event: RefCell::new(Box::new(on_event)),
        });
        // Opened from a timer, not here: the owner's callback must never run inside `connect`.
        Shared::schedule(&shared, 0);
        Self { shared }
    }

    /// Sends a message if the socket is open. Messages are not queued while it is down: a lost
    /// negotiation message makes that link time out and be retried, which is simpler and safer
    /// than replaying stale SDP to a server that may have restarted.
    pub fn send(&self, message: &ClientMessage) -> bool {
        let socket = self.shared.socket.borrow();
        let Some(socket) = socket.as_ref().filter(|s| s.ws.ready_state() == WebSocket::OPEN) else {
            return false;
        };
        socket.ws.send_with_str(&message.encode()).is_ok()
    }

    /// Closes the socket and stops reconnecting. The server then tells the others we left.
    pub fn close(&self) {
        self.shared.closed.set(true);
        self.shared.retry.borrow_mut().take();
        let socket = self.shared.socket.borrow_mut().take();
        drop(socket);
    }
}

impl Drop for SignalClient {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    fn open(this: &Rc<Self>) {
        if this.closed.get() {
            return;
        }
        this.emit(SignalEvent::State(SignalingState::Connecting));
        let ws = match WebSocket::new(&this.url) {
            Ok(ws) => ws,
            Err(error) => {
                console::warn!("signaling: cannot open socket", error);
                Self::schedule_retry(this);
                return;
            }
        };
        let weak = Rc::downgrade(this);
        let listeners = [
            listener(&weak, &ws, "open", |shared, _| shared.on_open()),
            listener(&weak, &ws, "message", |shared, event| shared.on_message(event)),
            // `error` is always followed by `close`, so `close` alone drives reconnection.
            listener(&weak, &ws, "close", |shared, _| Self::on_close(shared)),
        ];
        *this.socket.borrow_mut() = Some(Socket { ws, _listeners: listeners });
    }

    fn on_open(&self) {
        let hello = ClientMessage::Hello {
            meta: self.meta.clone(),
            resume_token: self.resume_token.borrow().clone(),
        };
        let socket = self.socket.borrow();
        if let Some(socket) = socket.as_ref() {
            // A failure here means the socket is closing; `close` follows and retries.
            let _ = socket.ws.send_with_str(&hello.encode());
        }
    }

    fn on_message(&self, event: &Event) {
        let text = event.dyn_ref::<MessageEvent>().and_then(|e| e.data().as_string());
        let Some(text) = text else {
            console::warn!("signaling: non-text frame dropped");
            return;
        };
        let message = match ServerMessage::decode(&text) {
            Ok(message) => message,
            Err(error) => {
                console::warn!(format!("signaling: malformed server message dropped: {error}"));
                return;
            }
        };
        let joined = match &message {
            ServerMessage::Welcome { id, resume_token, .. } => {
                *self.resume_token.borrow_mut() = Some(resume_token.clone());
                self.backoff.borrow_mut().reset();
                Some(*id)
            }
            _ => None,
        };
        self.emit(SignalEvent::Message(message));
        if let Some(id) = joined {
            self.emit(SignalEvent::State(SignalingState::Joined { id }));
        }
    }

    fn on_close(this: &Rc<Self>) {
        // Runs inside the socket's own listener; dropping it here is allowed (see peer.rs).
        let socket = this.socket.borrow_mut().take();
        drop(socket);
        Self::schedule_retry(this);
    }

    fn schedule_retry(this: &Rc<Self>) {
        if this.closed.get() {
            return;
        }
        let delay = this.backoff.borrow_mut().next_delay_ms(js_sys::Math::random());
        Self::schedule(this, delay);
        this.emit(SignalEvent::State(SignalingState::Disconnected { retry_in_ms: delay }));
    }

    fn schedule(this: &Rc<Self>, delay: u32) {
        let weak = Rc::downgrade(this);
        let timer = Timeout::new(delay, move || {
            if let Some(shared) = weak.upgrade() {
                shared.retry.borrow_mut().take();
                Self::open(&shared);
            }
        });
        *this.retry.borrow_mut() = Some(timer);
    }

    fn emit(&self, event: SignalEvent) {
        match self.on_event.try_borrow_mut() {
            Ok(mut on_event) => on_event(event),
            Err(_) => console::error!("signaling: event dropped (callback re-entered)"),
        }
    }
}

fn listener(
    weak: &Weak<Shared>,
    ws: &WebSocket,
    event_type: &'static str,
    handler: fn(&Rc<Shared>, &Event),
) -> EventListener {
    let weak = weak.clone();
    EventListener::new(ws, event_type, move |event| {
        if let Some(shared) = weak.upgrade() {
            handler(&shared, event);
        }
    })
}
