//! The full mesh: one [`PeerLink`] to every other tab in the room, set up through the signal
//! server. This is the transport API the runtime uses.
//!
//! # Who offers
//! For each pair, the tab with the lower signal peer id offers and the other answers: a
//! deterministic offerer instead of perfect negotiation. A link negotiates exactly once and only
//! carries one pre-negotiated data channel, so there is nothing to renegotiate, and with one
//! offerer there is no glare to resolve. A link that dies is replaced by a fresh one: the offerer
//! retries shortly after while the signal server still lists the peer, and an offer arriving
//! for an existing link replaces it (the other side has started over).
//!
//! # Peers and their keys
//! Peers are reported under a [`PeerKey`] that this mesh assigns and never reuses; the `meta`
//! each tab sent in its `hello` (for Flotilla, its Raft node id) says who it is. Signal peer ids
//! can change under a live link: after a signal-server restart every tab rejoins with a new id.
//! The mesh then matches the rejoined tab by its meta and keeps the link and its key, so the
//! data channels (and the Raft cluster on them) carry on while signaling recovers.
//!
//! A tab that reloads comes back as a new peer (new key) with the same meta; its old key goes
//! down first in practice, but a runtime should accept either order.
//!
//! # Fast failure detection
//! `PeerDown` is reported as soon as any of these says the peer is gone: the data channel's
//! `close` (a closing tab aborts its SCTP association), the connection state `failed`, or the
//! server's `peer_left`. When this page is hidden for good (`pagehide`) the mesh closes every
//! link and its socket itself, so the other tabs learn at once.
use flotilla_core::VecMap;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};

use flotilla_signal_protocol::{
    parse_payload, ClientMessage, DecodeError, IceServer, Meta, PeerId, PeerInfo as SignalPeer,
    ServerMessage, SignalPayload,
};
use gloo::console;
use gloo::events::EventListener;
use gloo::timers::callback::Timeout;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::peer::{CloseReason, LinkEvent, LinkState, PeerLink, Role, SendError};
use super::signaling::{SignalClient, SignalEvent, SignalingState};

/// After a link dies while the peer is still in the room, the offerer tries again this soon.
const RELINK_DELAY_MS: u32 = 500;

/// A peer as this mesh knows it; stable for the life of the peer's link(s).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerKey(u64);

impl fmt::Display for PeerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "p{}", self.0)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MeshEvent<M> {
    Signaling(SignalingState),
    /// A data channel to this peer opened; frames can be sent to it.
    PeerUp {
        peer: PeerKey,
        meta: M,
    },
    /// The peer's channel is gone (the runtime's "connection closed" hint). Frames to it fail
    /// until a later `PeerUp` for the same key.
    PeerDown {
        peer: PeerKey,
        reason: DownReason,
    },
    /// One frame from a peer that is up.
    Message {
        from: PeerKey,
        bytes: Vec<u8>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// The signal server says the tab left the room.
    Left,
    /// The link closed by itself.
    Closed(CloseReason),
    /// The other tab started a new link (after its side of the old one failed).
    Replaced,
}

/// One peer as [`Mesh::peers`] shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerInfo<M> {
    pub key: PeerKey,
    pub meta: M,
    /// Its current signal id, if the signal server lists it in this session.
    pub signal_id: Option<PeerId>,
    pub channel: LinkState,
    /// Bytes sent but not yet on the network (see [`PeerLink::backlog_bytes`]).
    pub backlog_bytes: usize,
}

#[derive(Debug)]
pub enum MeshError {
    /// The meta is not serializable to JSON, or too large for the signal server.
    Meta(DecodeError),
}

impl fmt::Display for MeshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Meta(error) => write!(f, "unusable meta: {error}"),
        }
    }
}

/// The WebSocket URL of `room` on the server that served this page.
pub fn room_url(room: &str) -> Result<String, JsValue> {
    let location = web_sys::window().ok_or("no window")?.location();
    let scheme = if location.protocol()? == "https:" { "wss" } else { "ws" };
    let room = String::from(js_sys::encode_uri_component(room));
    Ok(format!("{scheme}://{}/ws/{room}", location.host()?))
}

/// A full mesh of links to the other tabs of a room. Dropping it leaves the room.
pub struct Mesh<M> {
    inner: Rc<Inner<M>>,
}

struct Inner<M> {
    signal: RefCell<Option<SignalClient>>,
    /// Our signal id in the current session; decides which side of each pair offers.
    me: Cell<Option<PeerId>>,
    /// The room's founder as the server last named it (`welcome`, `peer_left`).
    founder: Cell<Option<PeerId>>,
    ice_servers: RefCell<Vec<IceServer>>,
    peers: RefCell<VecMap<PeerKey, Peer<M>>>,
    next_key: Cell<u64>,
    /// Numbers links, so an event from a replaced link is recognised and ignored.
    next_link: Cell<u64>,
    /// Events wait here and are delivered one at a time with no borrow held, so the callback
    /// may call back into the mesh (or drop it).
    events: RefCell<VecDeque<MeshEvent<M>>>,
    dispatching: Cell<bool>,
    on_event: RefCell<Box<dyn FnMut(MeshEvent<M>)>>,
    pagehide: RefCell<Option<EventListener>>,
}

struct Peer<M> {
    /// The meta exactly as the server relayed it: two tabs are the same tab iff these match.
    meta_raw: String,
    meta: M,
    signal_id: Option<PeerId>,
    link: Option<(u64, PeerLink)>,
    /// `PeerUp` was reported and `PeerDown` not yet.
    up: bool,
    relink: Option<Timeout>,
}

impl<M: Serialize + DeserializeOwned + Clone + 'static> Mesh<M> {
    /// Joins the room at `url` (see [`room_url`]) introducing this tab with `meta`. Events
    /// arrive on `on_event`, never from inside a call to the mesh's own methods.
    pub fn join(
        url: String,
        meta: &M,
        on_event: impl FnMut(MeshEvent<M>) + 'static,
    ) -> Result<Self, MeshError> {
        let meta = Meta::new(meta).map_err(MeshError::Meta)?;
        let inner = Rc::new(Inner {
            signal: RefCell::new(None),
            me: Cell::new(None),
            founder: Cell::new(None),
            ice_servers: RefCell::new(Vec::new()),
            peers: RefCell::new(VecMap::new()),
            next_key: Cell::new(1),
            next_link: Cell::new(1),
            events: RefCell::new(VecDeque::new()),
            dispatching: Cell::new(false),
            on_event: RefCell::new(Box::new(on_event)),
            pagehide: RefCell::new(None),
        });
        let weak = Rc::downgrade(&inner);
        let client = SignalClient::connect(url, meta, move |event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_signal(event);
                inner.dispatch();
            }
        });
        *inner.signal.borrow_mut() = Some(client);
        if let Some(window) = web_sys::window() {
            let weak = Rc::downgrade(&inner);
            let listener = EventListener::new(&window, "pagehide", move |_| {
                if let Some(inner) = weak.upgrade() {
                    inner.close();
                }
            });
            *inner.pagehide.borrow_mut() = Some(listener);
        }
        Ok(Self { inner })
    }

    /// Sends one frame to a peer that is up.
    pub fn send(&self, peer: PeerKey, frame: &[u8]) -> Result<(), SendError> {
        match self.inner.peers.borrow().get(&peer).and_then(|p| p.link.as_ref()) {
            Some((_, link)) => link.send(frame),
            None => Err(SendError::NotOpen),
        }
    }

    /// Every peer this mesh knows of, with its channel state.
    pub fn peers(&self) -> Vec<PeerInfo<M>> {
        let peers = self.inner.peers.borrow();
        peers
            .iter()
            .map(|(key, peer)| PeerInfo {
                key: *key,
                meta: peer.meta.clone(),
                signal_id: peer.signal_id,
                channel: peer.link.as_ref().map_or(LinkState::Closed, |(_, link)| link.state()),
                backlog_bytes: peer.link.as_ref().map_or(0, |(_, link)| link.backlog_bytes()),
            })
            .collect()
    }

    /// Our signal peer id in the current session, once joined.
    pub fn signal_id(&self) -> Option<PeerId> {
        self.inner.me.get()
    }

    /// Whether the signal server names this tab the room's founder (its oldest member: the one
    /// tab that may start something new for the room; see the signal protocol).
    pub fn is_founder(&self) -> bool {
        let me = self.inner.me.get();
        me.is_some() && me == self.inner.founder.get()
    }

    /// Leaves the room: closes every link and the socket, silently.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl<M> Drop for Mesh<M> {
    fn drop(&mut self) {
        self.inner.close();
    }
}

impl<M> Inner<M> {
    fn close(&self) {
        if let Some(signal) = self.signal.borrow_mut().take() {
            signal.close();
        }
        // Dropping the peers drops their links (closing them) and relink timers.
        let peers = std::mem::take(&mut *self.peers.borrow_mut());
        drop(peers);
        self.pagehide.borrow_mut().take();
    }
}

impl<M: Serialize + DeserializeOwned + Clone + 'static> Inner<M> {
    fn on_signal(self: &Rc<Self>, event: SignalEvent) {
        match event {
            SignalEvent::State(state) => self.queue(MeshEvent::Signaling(state)),
            SignalEvent::Message(ServerMessage::Welcome {
                id,
                peers,
                ice_servers,
                founder,
                ..
            }) => {
                self.founder.set(Some(founder));
                self.welcome(id, peers, ice_servers)
            }
            SignalEvent::Message(ServerMessage::PeerJoined { id, meta }) => {
                self.peer_joined(id, meta.get())
            }
            SignalEvent::Message(ServerMessage::PeerLeft { id, founder }) => {
                self.founder.set(Some(founder));
                self.peer_left(id)
            }
            SignalEvent::Message(ServerMessage::Signal { from, payload }) => {
                match parse_payload::<SignalPayload>(&payload) {
                    Ok(payload) => self.signal_from(from, payload),
                    Err(error) => console::warn!(format!("mesh: bad signal from {from}: {error}")),
                }
            }
            SignalEvent::Message(ServerMessage::Error { code, message }) => {
                console::warn!(format!("mesh: signal server error {code:?}: {message}"))
            }
        }
    }

    /// A (re)join: the server's list is the truth about who is in the room now.
    fn welcome(self: &Rc<Self>, me: PeerId, listed: Vec<SignalPeer>, ice_servers: Vec<IceServer>) {
        self.me.set(Some(me));
        *self.ice_servers.borrow_mut() = ice_servers;
        {
            let mut peers = self.peers.borrow_mut();
            for peer in peers.values_mut() {
                peer.signal_id = None;
            }
        }
        for entry in listed {
            self.peer_joined(entry.id, entry.meta.get());
        }
        // Peers the server no longer lists: a working link is kept (the server may simply have
        // restarted and that tab not rejoined yet); anything else is forgotten.
        let gone: Vec<PeerKey> = self
            .peers
            .borrow()
            .iter()
            .filter(|(_, p)| p.signal_id.is_none() && !p.is_open())
            .map(|(key, _)| *key)
            .collect();
        for key in gone {
            self.remove(key, DownReason::Left);
        }
    }

    fn peer_joined(self: &Rc<Self>, id: PeerId, meta_raw: &str) {
        // The server may have reassigned `id` (after a restart): whoever had it is stale.
        let stale = self.key_of(id).filter(|key| self.meta_of(*key).as_deref() != Some(meta_raw));
        if let Some(key) = stale {
            self.detach_signal_id(key);
        }
        // The same tab under a new id: keep a working link, replace a dead one.
        if let Some(key) = self.key_of_meta(meta_raw) {
            let open = self.peers.borrow().get(&key).is_some_and(Peer::is_open);
            if open {
                if let Some(peer) = self.peers.borrow_mut().get_mut(&key) {
                    peer.signal_id = Some(id);
                }
                return;
            }
            self.remove(key, DownReason::Left);
        }
        let meta = match serde_json::from_str::<M>(meta_raw) {
            Ok(meta) => meta,
            Err(error) => {
                console::warn!(format!("mesh: peer {id} ignored, unreadable meta: {error}"));
                return;
            }
        };
        let key = PeerKey(self.next_key.replace(self.next_key.get() + 1));
        let peer = Peer {
            meta_raw: meta_raw.to_owned(),
            meta,
            signal_id: Some(id),
            link: None,
            up: false,
            relink: None,
        };
        self.peers.borrow_mut().insert(key, peer);
        if self.offers_to(id) {
            self.start_link(key, Role::Offerer);
        }
    }

    fn peer_left(self: &Rc<Self>, id: PeerId) {
        if let Some(key) = self.key_of(id) {
            self.remove(key, DownReason::Left);
        }
    }

    fn signal_from(self: &Rc<Self>, from: PeerId, payload: SignalPayload) {
        let Some(key) = self.key_of(from) else {
            console::warn!(format!("mesh: signal from unknown peer {from} dropped"));
            return;
        };
        if matches!(&payload, SignalPayload::Description { sdp_type, .. } if sdp_type == "offer") {
            if self.offers_to(from) {
                console::warn!(format!("mesh: offer from {from}, which should answer, dropped"));
                return;
            }
            // A new offer means the other side started over: so do we.
            self.drop_link(key, DownReason::Replaced);
            self.start_link(key, Role::Answerer);
        }
        if let Some((_, link)) = self.peers.borrow().get(&key).and_then(|p| p.link.as_ref()) {
            link.handle_signal(payload);
        }
    }

    fn start_link(self: &Rc<Self>, key: PeerKey, role: Role) {
        let serial = self.next_link.replace(self.next_link.get() + 1);
        let weak: Weak<Self> = Rc::downgrade(self);
        let ice_servers = self.ice_servers.borrow().clone();
        let link = PeerLink::new(role, &ice_servers, move |event| {
            if let Some(inner) = weak.upgrade() {
                inner.on_link(key, serial, event);
                inner.dispatch();
            }
        });
        match link {
            Ok(link) => {
                if let Some(peer) = self.peers.borrow_mut().get_mut(&key) {
                    peer.link = Some((serial, link));
                    peer.relink = None;
                }
            }
            Err(error) => console::error!("mesh: cannot create a peer connection", error),
        }
    }

    fn on_link(self: &Rc<Self>, key: PeerKey, serial: u64, event: LinkEvent) {
        let mut peers = self.peers.borrow_mut();
        let Some(peer) = peers.get_mut(&key).filter(|p| p.link_serial() == Some(serial)) else {
            return;
        };
        match event {
            LinkEvent::Signal(payload) => {
                let Some(to) = peer.signal_id else { return };
                drop(peers);
                let Ok(message) = ClientMessage::signal(to, &payload) else { return };
                if let Some(signal) = self.signal.borrow().as_ref() {
                    signal.send(&message);
                }
            }
            LinkEvent::Open => {
                peer.up = true;
                let meta = peer.meta.clone();
                drop(peers);
                self.queue(MeshEvent::PeerUp { peer: key, meta });
            }
            LinkEvent::Message(bytes) => {
                drop(peers);
                self.queue(MeshEvent::Message { from: key, bytes });
            }
            LinkEvent::Closed(reason) => {
                let link = peer.link.take();
                let was_up = std::mem::replace(&mut peer.up, false);
                let relink = peer.signal_id.filter(|id| self.offers_to(*id));
                let listed = peer.signal_id.is_some();
                drop(peers);
                drop(link);
                if was_up {
                    self.queue(MeshEvent::PeerDown {
                        peer: key,
                        reason: DownReason::Closed(reason),
                    });
                }
                if relink.is_some() {
                    self.schedule_relink(key);
                } else if !listed {
                    self.remove(key, DownReason::Closed(reason));
                }
            }
        }
    }

    fn schedule_relink(self: &Rc<Self>, key: PeerKey) {
        let weak = Rc::downgrade(self);
        let timer = Timeout::new(RELINK_DELAY_MS, move || {
            let Some(inner) = weak.upgrade() else { return };
            let wanted = inner.peers.borrow().get(&key).is_some_and(|p| {
                p.link.is_none() && p.signal_id.is_some_and(|id| inner.offers_to(id))
            });
            if wanted {
                inner.start_link(key, Role::Offerer);
            }
        });
        if let Some(peer) = self.peers.borrow_mut().get_mut(&key) {
            peer.relink = Some(timer);
        }
    }

    /// Closes a peer's link (silently) and reports it down if it was up.
    fn drop_link(&self, key: PeerKey, reason: DownReason) {
        let mut peers = self.peers.borrow_mut();
        let Some(peer) = peers.get_mut(&key) else { return };
        let link = peer.link.take();
        let was_up = std::mem::replace(&mut peer.up, false);
        drop(peers);
        drop(link);
        if was_up {
            self.queue(MeshEvent::PeerDown { peer: key, reason });
        }
    }

    fn remove(&self, key: PeerKey, reason: DownReason) {
        self.drop_link(key, reason);
        let peer = self.peers.borrow_mut().remove(&key);
        drop(peer);
    }

    /// The peer no longer holds its signal id; without a working link it is forgotten.
    fn detach_signal_id(&self, key: PeerKey) {
        let open = {
            let mut peers = self.peers.borrow_mut();
            let Some(peer) = peers.get_mut(&key) else { return };
            peer.signal_id = None;
            peer.is_open()
        };
        if !open {
            self.remove(key, DownReason::Left);
        }
    }

    fn offers_to(&self, other: PeerId) -> bool {
        self.me.get().is_some_and(|me| me < other)
    }

    fn key_of(&self, id: PeerId) -> Option<PeerKey> {
        let peers = self.peers.borrow();
        peers.iter().find(|(_, p)| p.signal_id == Some(id)).map(|(key, _)| *key)
    }

    fn key_of_meta(&self, meta_raw: &str) -> Option<PeerKey> {
        let peers = self.peers.borrow();
        peers.iter().find(|(_, p)| p.meta_raw == meta_raw).map(|(key, _)| *key)
    }

    fn meta_of(&self, key: PeerKey) -> Option<String> {
        self.peers.borrow().get(&key).map(|p| p.meta_raw.clone())
    }

    fn queue(&self, event: MeshEvent<M>) {
        self.events.borrow_mut().push_back(event);
    }

    /// Delivers queued events, unless a delivery further up the stack is already doing so.
    fn dispatch(&self) {
        if self.dispatching.replace(true) {
            return;
        }
        loop {
            let Some(event) = self.events.borrow_mut().pop_front() else { break };
            match self.on_event.try_borrow_mut() {
                Ok(mut on_event) => on_event(event),
                Err(_) => console::error!("mesh: event dropped (callback re-entered)"),
            }
        }
        self.dispatching.set(false);
    }
}

impl<M> Peer<M> {
    fn is_open(&self) -> bool {
        self.link.as_ref().is_some_and(|(_, link)| link.state() == LinkState::Open)
    }

    fn link_serial(&self) -> Option<u64> {
        self.link.as_ref().map(|(serial, _)| *serial)
    }
}
