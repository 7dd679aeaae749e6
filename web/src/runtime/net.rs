//! What the runtime needs from a network, and the WebRTC mesh behind it.
//!
//! The runtime talks to [`Network`], not to the mesh: links are numbered [`LinkId`]s and events
//! are [`NetEvent`]s. The app plugs in [`MeshNet`] (the real WebRTC full mesh); the browser
//! tests plug in an in-page network, so that several runtimes in one page form a cluster
//! without a signal server.
use flotilla_core::VecMap;
use std::cell::RefCell;
use std::rc::Rc;

use flotilla_core::NodeId;

use crate::transport::{
    DownReason, Mesh, MeshError, MeshEvent, PeerKey, SendError, SignalingState,
};

use super::TabMeta;

/// One link to one other tab, numbered by the network, never reused.
pub type LinkId = u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetEvent {
    /// Frames can flow to and from this tab.
    Up { link: LinkId, meta: TabMeta },
    /// The link is gone. `departed`: the other tab closed or left the room (not merely a
    /// failed connection that may come back).
    Down { link: LinkId, departed: bool },
    /// One frame from a link that is up.
    Frame { link: LinkId, bytes: Vec<u8> },
    /// The connection to the signal server changed. `Connected`: this tab is in the room, and
    /// [`Network::room_nodes`] lists who else is (again after a reconnection).
    Signaling(Signaling),
}

/// The state of the connection to the signal server. Data channels do not depend on it: while
/// it is down, established links keep working; only new tabs cannot link.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signaling {
    Connecting,
    Connected,
    /// Dropped; reconnecting with backoff.
    Disconnected,
}

impl Signaling {
    pub fn as_str(self) -> &'static str {
        match self {
            Signaling::Connecting => "connecting",
            Signaling::Connected => "connected",
            Signaling::Disconnected => "disconnected",
        }
    }
}

/// Sends frames on links; events arrive on the callback given when the network was made.
pub trait Network {
    fn send(&self, link: LinkId, frame: &[u8]) -> Result<(), SendError>;
    /// The node ids of every other tab in the room, linked or not yet (the signal server's
    /// list): who might bootstrap a cluster at the same time as this tab.
    fn room_nodes(&self) -> Vec<NodeId>;
    /// Whether this tab is the room's founder, the one tab that may bootstrap a cluster (the
    /// signal server names one per room: see `flotilla_signal_protocol`).
    fn is_founder(&self) -> bool;
    /// Leaves for good: closes every link.
    fn close(&self);
}

/// The WebRTC mesh as a [`Network`]: link ids stand for the mesh's peer keys.
pub struct MeshNet {
    mesh: Mesh<TabMeta>,
    keys: Rc<RefCell<Keys>>,
}

/// Both directions of the key ↔ link numbering, shared with the mesh's event callback.
#[derive(Default)]
struct Keys {
    links: VecMap<PeerKey, LinkId>,
    peers: VecMap<LinkId, PeerKey>,
    next: LinkId,
}

impl Keys {
    fn link(&mut self, key: PeerKey) -> LinkId {
        if let Some(&link) = self.links.get(&key) {
            return link;
        }
        self.next += 1;
        self.links.insert(key, self.next);
        self.peers.insert(self.next, key);
        self.next
    }

    /// The mesh forgets a peer that left: so do we (its key is never reused).
    fn forget(&mut self, key: PeerKey) {
        if let Some(link) = self.links.remove(&key) {
            self.peers.remove(&link);
        }
    }
}

impl MeshNet {
    /// Joins the room at `url` as `meta`; events go to `on_event`.
    pub fn join(
        url: String,
        meta: &TabMeta,
        mut on_event: impl FnMut(NetEvent) + 'static,
    ) -> Result<Self, MeshError> {
        let keys: Rc<RefCell<Keys>> = Rc::default();
        let table = keys.clone();
        let mesh = Mesh::join(url, meta, move |event| {
            let event = match event {
                MeshEvent::PeerUp { peer, meta } => {
                    NetEvent::Up { link: table.borrow_mut().link(peer), meta }
                }
                MeshEvent::PeerDown { peer, reason } => {
                    let link = table.borrow_mut().link(peer);
                    // Only a tab that left the room (the server's `peer_left`) has departed here;
                    // a closing tab also says goodbye on its channels (the driver's `Bye`). A
                    // channel closed by the other side proves less: its tab may live on with a
                    // link that failed there and is being replaced, and counting that as a
                    // departure removed a live member from the cluster at once.
                    let departed = reason == DownReason::Left;
                    if reason == DownReason::Left {
                        table.borrow_mut().forget(peer);
                    }
                    NetEvent::Down { link, departed }
                }
                MeshEvent::Message { from, bytes } => {
                    NetEvent::Frame { link: table.borrow_mut().link(from), bytes }
                }
                MeshEvent::Signaling(state) => NetEvent::Signaling(match state {
                    SignalingState::Connecting => Signaling::Connecting,
                    SignalingState::Joined { .. } => Signaling::Connected,
                    SignalingState::Disconnected { .. } => Signaling::Disconnected,
                }),
            };
            on_event(event);
        })?;
        Ok(MeshNet { mesh, keys })
    }
}

impl Network for MeshNet {
    fn send(&self, link: LinkId, frame: &[u8]) -> Result<(), SendError> {
        let key = self.keys.borrow().peers.get(&link).copied();
        match key {
            Some(key) => self.mesh.send(key, frame),
            None => Err(SendError::NotOpen),
        }
    }

    fn room_nodes(&self) -> Vec<NodeId> {
        self.mesh.peers().into_iter().map(|peer| peer.meta.node).collect()
    }

    fn is_founder(&self) -> bool {
        self.mesh.is_founder()
    }

    fn close(&self) {
        self.mesh.close();
    }
}
