//! One WebRTC link to one other tab: an RTCPeerConnection carrying exactly one data channel.
//!
//! - Negotiation: exactly one offer/answer exchange per link. The [`Role`] is decided outside
//!   (the mesh makes the lower peer id the offerer), so there is never glare and no rollback;
//!   a link that fails is replaced by a new one instead of being renegotiated.
//! - The data channel is pre-negotiated (`negotiated: true, id: 0`): both sides create it
//!   locally, so it needs no in-band DATA_CHANNEL_OPEN round trip and no `datachannel` event.
//!   It is reliable and ordered (Raft tolerates loss, but reordering and loss cost retries and
//!   latency). Frames travel as binary `ArrayBuffer`s.
//! - Trickle ICE: local candidates are signalled as they are gathered; remote candidates that
//!   arrive before the remote description is set are buffered and added right after it.
//! - Backpressure: while the channel's `bufferedAmount` is above a high-water mark, frames wait in
//!   a bounded queue here, and `bufferedamountlow` drains it.
//! - Closing: every JS event listener is owned by the link and removed when it closes, whether
//!   the owner closes it (silently) or the connection dies (reported once as
//!   [`LinkEvent::Closed`]).
//!
//! The link never calls its event callback synchronously from one of its own methods, so the
//! owner may call any method (including dropping the link) from inside that callback.
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::mem;
use std::rc::{Rc, Weak};

use flotilla_signal_protocol::{IceServer, SignalPayload};
use gloo::console;
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    Event, EventTarget, MessageEvent, RtcConfiguration, RtcDataChannel, RtcDataChannelInit,
    RtcDataChannelType, RtcIceCandidateInit, RtcIceServer, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType, RtcSessionDescriptionInit,
};

/// Both sides create the channel with this id, so no in-band negotiation is needed.
const CHANNEL_ID: u16 = 0;
const CHANNEL_LABEL: &str = "raft";
/// Chromium's SCTP maximum message size; a bigger frame would close the channel.
pub const MAX_FRAME_BYTES: usize = 256 * 1024;
/// Above this much in the browser's send buffer, frames queue here instead. Large enough to keep
/// a loopback link busy, small enough that a slow peer does not hide seconds of backlog.
const HIGH_WATER_BYTES: u32 = 1024 * 1024;
/// `bufferedamountlow` fires when the browser's buffer falls to this; then the queue drains.
const LOW_WATER_BYTES: u32 = 256 * 1024;
/// Past this, `send` refuses frames: the peer is not keeping up, and Raft will retransmit.
const MAX_QUEUED_BYTES: usize = 16 * 1024 * 1024;
/// A link that has not opened by then is given up (a lost offer, unreachable ICE candidates).
const CONNECT_TIMEOUT_MS: u32 = 10_000;
/// Remote candidates kept while waiting for the remote description; a well-behaved peer sends a
/// handful, so this only bounds what a misbehaving one can make us hold.
const MAX_EARLY_CANDIDATES: usize = 64;

/// Which side of the single offer/answer exchange this link plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Creates the offer as soon as the link exists.
    Offerer,
    /// Waits for the offer and answers it.
    Answerer,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Negotiating, or ICE/DTLS/SCTP still coming up.
    Connecting,
    /// The data channel is open: frames flow.
    Open,
    /// Closed for good; a new link is needed to talk to this peer again.
    Closed,
}

/// Why a link closed by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    /// The data channel closed: the other tab closed the link, or went away.
    ChannelClosed,
    /// The peer connection reported `failed` (ICE or DTLS gave up).
    Failed,
    /// The channel did not open within the connect timeout.
    Timeout,
    /// Offer/answer or the remote description was refused by the browser.
    Negotiation,
}

/// What a link reports to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// Negotiation data to relay to the other side's [`PeerLink::handle_signal`].
    Signal(SignalPayload),
    /// The data channel opened.
    Open,
    /// One frame, exactly as the other side passed it to [`PeerLink::send`].
    Message(Vec<u8>),
    /// The link died by itself; it is now inert. Reported once.
    Closed(CloseReason),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The channel is not open (still connecting, or closed).
    NotOpen,
    /// The frame is larger than [`MAX_FRAME_BYTES`].
    TooLarge,
    /// The peer is not draining its channel; the frame was dropped.
    QueueFull,
}

/// A WebRTC link to one other tab. Dropping it closes the connection.
pub struct PeerLink {
    shared: Rc<Shared>,
}

struct Shared {
    pc: RtcPeerConnection,
    dc: RtcDataChannel,
    role: Role,
    state: Cell<LinkState>,
    /// A remote description has been received (later ones are refused: one exchange per link).
    description_received: Cell<bool>,
    /// The remote description is set, so remote candidates can be added directly.
    remote_description_set: Cell<bool>,
    early_candidates: RefCell<Vec<RtcIceCandidateInit>>,
    /// Frames waiting for the browser's send buffer to drain, and their total size.
    queue: RefCell<VecDeque<Vec<u8>>>,
    queued_bytes: Cell<usize>,
    /// Every JS listener of this link; cleared (so removed from the JS objects) on close.
    listeners: RefCell<Vec<EventListener>>,
    connect_timeout: RefCell<Option<Timeout>>,
    on_event: RefCell<Box<dyn FnMut(LinkEvent)>>,
}

impl PeerLink {
    /// Creates the connection and its channel. An offerer starts negotiating at once: its first
    /// events are [`LinkEvent::Signal`]s to relay.
    pub fn new(
        role: Role,
        ice_servers: &[IceServer],
        on_event: impl FnMut(LinkEvent) + 'static,
    ) -> Result<Self, JsValue> {
        let config = RtcConfiguration::new();
        config.set_ice_servers(&ice_server_array(ice_servers));
        let pc = RtcPeerConnection::new_with_configuration(&config)?;
        let init = RtcDataChannelInit::new();
        init.set_negotiated(true);
        init.set_id(CHANNEL_ID);
        init.set_ordered(true);
        let dc = pc.create_data_channel_with_data_channel_dict(CHANNEL_LABEL, &init);
        dc.set_binary_type(RtcDataChannelType::Arraybuffer);
        dc.set_buffered_amount_low_threshold(LOW_WATER_BYTES);
        let shared = Rc::new(Shared {
            pc,
            dc,
            role,
            state: Cell::new(LinkState::Connecting),
            description_received: Cell::new(false),
            remote_description_set: Cell::new(false),
            early_candidates: RefCell::new(Vec::new()),
            queue: RefCell::new(VecDeque::new()),
            queued_bytes: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            connect_timeout: RefCell::new(None),
            on_event: RefCell::new(Box::new(on_event)),
        });
        Shared::listen(&shared);
        let weak = Rc::downgrade(&shared);
        let timeout = Timeout::new(CONNECT_TIMEOUT_MS, move || {
            if let Some(shared) = weak.upgrade() {
                shared.fail(CloseReason::Timeout);
            }
        });
        *shared.connect_timeout.borrow_mut() = Some(timeout);
        if role == Role::Offerer {
            spawn_local(make_offer(Rc::downgrade(&shared), shared.pc.clone()));
        }
        Ok(Self { shared })
    }

    /// Feeds negotiation data relayed from the other side. Bad or out-of-place data is logged
    /// and dropped (a bad description closes the link, since it cannot be renegotiated).
    pub fn handle_signal(&self, payload: SignalPayload) {
        let shared = &self.shared;
        if shared.state.get() == LinkState::Closed {
            return;
        }
        match payload {
            SignalPayload::Description { sdp_type, sdp } => {
                let kind = match (sdp_type.as_str(), shared.role) {
                    ("offer", Role::Answerer) => RtcSdpType::Offer,
                    ("answer", Role::Offerer) => RtcSdpType::Answer,
                    _ => {
                        console::warn!(format!("peer link: unexpected {sdp_type} description"));
                        return;
                    }
                };
                if shared.description_received.replace(true) {
                    console::warn!("peer link: second remote description ignored");
                    return;
                }
                let weak = Rc::downgrade(shared);
                spawn_local(accept_description(weak, shared.pc.clone(), kind, sdp));
            }
            SignalPayload::Candidate { candidate, sdp_mid, sdp_m_line_index } => {
                let init = RtcIceCandidateInit::new(&candidate);
                init.set_sdp_mid(sdp_mid.as_deref());
                init.set_sdp_m_line_index(sdp_m_line_index);
                if shared.remote_description_set.get() {
                    spawn_local(add_candidate(shared.pc.clone(), init));
                } else {
                    let mut early = shared.early_candidates.borrow_mut();
                    if early.len() < MAX_EARLY_CANDIDATES {
                        early.push(init);
                    } else {
                        console::warn!("peer link: too many early ICE candidates, dropped one");
                    }
                }
            }
        }
    }

    /// Sends one frame. It goes straight to the channel unless the browser's buffer is above the
    /// high-water mark, in which case it waits here (bounded) to keep frames in order.
    pub fn send(&self, frame: &[u8]) -> Result<(), SendError> {
        let shared = &self.shared;
        if shared.state.get() != LinkState::Open {
            return Err(SendError::NotOpen);
        }
        if frame.len() > MAX_FRAME_BYTES {
            return Err(SendError::TooLarge);
        }
        let mut queue = shared.queue.borrow_mut();
        if queue.is_empty() && shared.dc.buffered_amount() < HIGH_WATER_BYTES {
            // Throws only if the channel is closing; its `close` event follows.
            return shared.dc.send_with_u8_array(frame).map_err(|_| SendError::NotOpen);
        }
        let queued = shared.queued_bytes.get() + frame.len();
        if queued > MAX_QUEUED_BYTES {
            return Err(SendError::QueueFull);
        }
        shared.queued_bytes.set(queued);
        queue.push_back(frame.to_vec());
        Ok(())
    }

    pub fn state(&self) -> LinkState {
        self.shared.state.get()
    }

    pub fn role(&self) -> Role {
        self.shared.role
    }

    /// Bytes accepted by [`send`](Self::send) but not yet handed to the network: the browser's
    /// buffer plus this link's queue. A runtime can use it to slow down a slow follower.
    pub fn backlog_bytes(&self) -> usize {
        self.shared.queued_bytes.get() + self.shared.dc.buffered_amount() as usize
    }

    /// Closes the link without reporting [`LinkEvent::Closed`] (the caller knows).
    pub fn close(&self) {
        self.shared.state.set(LinkState::Closed);
        self.shared.detach();
    }
}

impl Drop for PeerLink {
    fn drop(&mut self) {
        self.close();
    }
}

impl Shared {
    fn listen(this: &Rc<Self>) {
        let pc: &EventTarget = &this.pc;
        let dc: &EventTarget = &this.dc;
        let listeners = vec![
            listener(this, pc, "icecandidate", Self::on_ice_candidate),
            listener(this, pc, "connectionstatechange", Self::on_connection_state),
            listener(this, dc, "open", Self::on_open),
            listener(this, dc, "close", Self::on_close),
            listener(this, dc, "message", Self::on_message),
            listener(this, dc, "bufferedamountlow", Self::on_buffered_amount_low),
        ];
        *this.listeners.borrow_mut() = listeners;
    }

    fn on_ice_candidate(&self, event: &Event) {
        let candidate = event.dyn_ref::<RtcPeerConnectionIceEvent>().and_then(|e| e.candidate());
        // `None` (or an empty candidate) marks the end of gathering; nothing to relay.
        let Some(candidate) = candidate.filter(|c| !c.candidate().is_empty()) else {
            return;
        };
        self.emit(LinkEvent::Signal(SignalPayload::Candidate {
            candidate: candidate.candidate(),
            sdp_mid: candidate.sdp_mid(),
            sdp_m_line_index: candidate.sdp_m_line_index(),
        }));
    }

    fn on_connection_state(&self, _: &Event) {
        // `disconnected` may recover on its own; `failed` and `closed` do not.
        match self.pc.connection_state() {
            RtcPeerConnectionState::Failed | RtcPeerConnectionState::Closed => {
                self.fail(CloseReason::Failed)
            }
            _ => {}
        }
    }

    fn on_open(&self, _: &Event) {
        if self.state.get() == LinkState::Connecting {
            self.state.set(LinkState::Open);
            self.connect_timeout.borrow_mut().take();
            self.emit(LinkEvent::Open);
        }
    }

    fn on_close(&self, _: &Event) {
        self.fail(CloseReason::ChannelClosed);
    }

    fn on_message(&self, event: &Event) {
        let data = event.dyn_ref::<MessageEvent>().map(MessageEvent::data);
        match data.and_then(|d| d.dyn_into::<ArrayBuffer>().ok()) {
            Some(buffer) => self.emit(LinkEvent::Message(Uint8Array::new(&buffer).to_vec())),
            None => console::warn!("peer link: non-binary frame dropped"),
        }
    }

    fn on_buffered_amount_low(&self, _: &Event) {
        let mut queue = self.queue.borrow_mut();
        while self.dc.buffered_amount() < HIGH_WATER_BYTES {
            let Some(frame) = queue.pop_front() else { break };
            self.queued_bytes.set(self.queued_bytes.get() - frame.len());
            if self.dc.send_with_u8_array(&frame).is_err() {
                break;
            }
        }
    }

    /// Sends the local description once it is set (the offer, or the answer).
    fn signal_local_description(&self) {
        let Some(description) = self.pc.local_description() else { return };
        let sdp_type = match description.type_() {
            RtcSdpType::Offer => "offer",
            RtcSdpType::Answer => "answer",
            _ => return,
        };
        self.emit(LinkEvent::Signal(SignalPayload::Description {
            sdp_type: sdp_type.to_owned(),
            sdp: description.sdp(),
        }));
    }

    /// The remote description is set: candidates that came early can be added now.
    fn remote_description_applied(&self) {
        self.remote_description_set.set(true);
        for candidate in self.early_candidates.take() {
            spawn_local(add_candidate(self.pc.clone(), candidate));
        }
    }

    /// The link died by itself: report it once.
    fn fail(&self, reason: CloseReason) {
        if self.state.replace(LinkState::Closed) == LinkState::Closed {
            return;
        }
        self.detach();
        self.emit(LinkEvent::Closed(reason));
    }

    /// Removes every listener, stops the timer and closes the JS objects.
    fn detach(&self) {
        // Taken out first, dropped after the borrow ends: one of them may be running right now,
        // which wasm-bindgen allows (the JS function is released when it returns).
        let listeners = mem::take(&mut *self.listeners.borrow_mut());
        drop(listeners);
        self.connect_timeout.borrow_mut().take();
        self.queue.borrow_mut().clear();
        self.queued_bytes.set(0);
        self.early_candidates.borrow_mut().clear();
        self.dc.close();
        self.pc.close();
    }

    fn emit(&self, event: LinkEvent) {
        match self.on_event.try_borrow_mut() {
            Ok(mut on_event) => on_event(event),
            // Cannot happen while the owner follows the contract; dropping beats a panic.
            Err(_) => console::error!("peer link: event dropped (callback re-entered)"),
        }
    }
}

/// A listener that holds the link weakly, so the link (not the JS object) owns its lifetime.
fn listener(
    shared: &Rc<Shared>,
    target: &EventTarget,
    event_type: &'static str,
    handler: fn(&Shared, &Event),
) -> EventListener {
    let weak: Weak<Shared> = Rc::downgrade(shared);
    EventListener::new(target, event_type, move |event| {
        if let Some(shared) = weak.upgrade() {
            handler(&shared, event);
        }
    })
}

fn ice_server_array(servers: &[IceServer]) -> Array {
    servers
        .iter()
        .map(|server| {
            let entry = RtcIceServer::new();
            let urls: Array = server.urls.iter().map(|url| JsValue::from_str(url)).collect();
            entry.set_urls(&urls);
            if let Some(username) = &server.username {
                entry.set_username(username);
            }
            if let Some(credential) = &server.credential {
                entry.set_credential(credential);
            }
            JsValue::from(entry)
        })
        .collect()
}

// The negotiation steps below hold the link only weakly across their awaits: a link dropped
// mid-negotiation is closed, and its pending steps find nothing to report to.

async fn make_offer(weak: Weak<Shared>, pc: RtcPeerConnection) {
    let result = async {
        let offer = JsFuture::from(pc.create_offer()).await?;
        JsFuture::from(pc.set_local_description(offer.unchecked_ref())).await
    }
    .await;
    if let Some(shared) = weak.upgrade() {
        match result {
            Ok(_) => shared.signal_local_description(),
            Err(error) => negotiation_failed(&shared, &error),
        }
    }
}

async fn accept_description(
    weak: Weak<Shared>,
    pc: RtcPeerConnection,
    kind: RtcSdpType,
    sdp: String,
) {
    let description = RtcSessionDescriptionInit::new(kind);
    description.set_sdp(&sdp);
    let result = async {
        JsFuture::from(pc.set_remote_description(&description)).await?;
        if let Some(shared) = weak.upgrade() {
            shared.remote_description_applied();
        }
        if kind == RtcSdpType::Offer {
            let answer = JsFuture::from(pc.create_answer()).await?;
            JsFuture::from(pc.set_local_description(answer.unchecked_ref())).await?;
        }
        Ok::<(), JsValue>(())
    }
    .await;
    if let Some(shared) = weak.upgrade() {
        match result {
            Ok(()) if kind == RtcSdpType::Offer => shared.signal_local_description(),
            Ok(()) => {}
            Err(error) => negotiation_failed(&shared, &error),
        }
    }
}

async fn add_candidate(pc: RtcPeerConnection, candidate: RtcIceCandidateInit) {
    let added = pc.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&candidate));
    // A candidate the browser refuses is one path fewer, not a broken link.
    if let Err(error) = JsFuture::from(added).await {
        console::warn!("peer link: remote ICE candidate refused", error);
    }
}

fn negotiation_failed(shared: &Shared, error: &JsValue) {
    if shared.state.get() != LinkState::Closed {
        console::warn!("peer link: negotiation failed", error.clone());
        shared.fail(CloseReason::Negotiation);
    }
}
