//! The page's root component. For now a transport status page: this tab's node id, the
//! signaling state, every peer with its channel state, and a button that pings every open
//! channel, so the mesh can be checked by hand with a few tabs. The Raft UI replaces it.
use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use flotilla_signal_protocol::valid_room_name;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::runtime::storage::identity::{self, Identity, Origin};
use crate::runtime::TabMeta;
use crate::transport::{room_url, Mesh, MeshEvent, PeerInfo, PeerKey, SignalingState};

/// The room of plain new tabs, so that they form one cluster.
const DEFAULT_ROOM: &str = "lobby";
/// Lines of the event log kept on screen.
const LOG_LINES: usize = 12;

/// What this page holds for as long as it lives.
struct Session {
    _identity: Identity,
    mesh: Mesh<TabMeta>,
}

#[derive(Default, PartialEq)]
struct Status {
    room: String,
    node: Option<(u64, Origin)>,
    signaling: Option<SignalingState>,
    peers: Vec<PeerInfo<TabMeta>>,
    received: BTreeMap<PeerKey, u64>,
    log: VecDeque<String>,
}

enum Action {
    Started(u64, Origin),
    Signaling(SignalingState),
    Peers(Vec<PeerInfo<TabMeta>>),
    Received(PeerKey),
    Log(String),
}

impl Reducible for Status {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = Status {
            room: self.room.clone(),
            node: self.node,
            signaling: self.signaling,
            peers: self.peers.clone(),
            received: self.received.clone(),
            log: self.log.clone(),
        };
        match action {
            Action::Started(node, origin) => next.node = Some((node, origin)),
            Action::Signaling(state) => next.signaling = Some(state),
            Action::Peers(peers) => next.peers = peers,
            Action::Received(peer) => *next.received.entry(peer).or_default() += 1,
            Action::Log(line) => {
                next.log.push_front(line);
                next.log.truncate(LOG_LINES);
            }
        }
        Rc::new(next)
    }
}

/// `?room=NAME` if it is a valid room name, else the default room.
fn room_from_page() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .and_then(|search| web_sys::UrlSearchParams::new_with_str(&search).ok())
        .and_then(|params| params.get("room"))
        .filter(|room| valid_room_name(room))
        .unwrap_or_else(|| DEFAULT_ROOM.to_owned())
}

#[component]
pub fn App() -> Html {
    let status = use_reducer(|| Status { room: room_from_page(), ..Status::default() });
    let session = use_mut_ref(|| None::<Session>);
    {
        let room = status.room.clone();
        let status = status.dispatcher();
        let session = session.clone();
        use_effect_with((), move |_| {
            spawn_local(start(room, status, session));
        });
    }
    let ping = {
        let session = session.clone();
        let status = status.dispatcher();
        Callback::from(move |_| {
            if let Some(session) = session.borrow().as_ref() {
                let peers = session.mesh.peers();
                for peer in &peers {
                    if let Err(error) = session.mesh.send(peer.key, b"ping") {
                        status.dispatch(Action::Log(format!("{}: {error:?}", peer.key)));
                    }
                }
                // Signal ids can change without an event (after a signal-server restart).
                status.dispatch(Action::Peers(peers));
            }
        })
    };
    let node = match status.node {
        Some((id, origin)) => format!("{id} ({origin:?})"),
        None => "claiming...".to_owned(),
    };
    html! {
        <main class="status">
            <h1>{ "Flotilla" }</h1>
            <p>{ format!("room {} · node {node} · signaling {:?}", status.room, status.signaling) }</p>
            <table id="peers">
                <tr><th>{ "peer" }</th><th>{ "node" }</th><th>{ "name" }</th>
                    <th>{ "signal id" }</th><th>{ "channel" }</th><th>{ "received" }</th></tr>
                { for status.peers.iter().map(|peer| html! {
                    <tr>
                        <td>{ peer.key.to_string() }</td>
                        <td>{ peer.meta.node }</td>
                        <td>{ peer.meta.name.clone() }</td>
                        <td>{ format!("{:?}", peer.signal_id) }</td>
                        <td class="channel">{ format!("{:?}", peer.channel) }</td>
                        <td>{ status.received.get(&peer.key).copied().unwrap_or(0) }</td>
                    </tr>
                }) }
            </table>
            <button id="ping" onclick={ping}>{ "Ping every peer" }</button>
            <ul id="log">{ for status.log.iter().map(|line| html! { <li>{ line.clone() }</li> }) }</ul>
        </main>
    }
}

/// Claims the node id, then joins the room's mesh and mirrors its events into `status`.
async fn start(
    room: String,
    status: UseReducerDispatcher<Status>,
    session: Rc<RefCell<Option<Session>>>,
) {
    let identity = match identity::claim().await {
        Ok(identity) => identity,
        Err(error) => {
            status.dispatch(Action::Log(format!("no node id: {error:?}")));
            return;
        }
    };
    status.dispatch(Action::Started(identity.node_id, identity.origin));
    let url = match room_url(&room) {
        Ok(url) => url,
        Err(error) => {
            status.dispatch(Action::Log(format!("no signaling URL: {error:?}")));
            return;
        }
    };
    let meta =
        TabMeta { node: identity.node_id, name: format!("tab-{}", identity.node_id % 10_000) };
    let weak = Rc::downgrade(&session);
    let events = status.clone();
    let mesh = Mesh::join(url, &meta, move |event| {
        let refresh = |events: &UseReducerDispatcher<Status>| {
            if let Some(session) = weak.upgrade() {
                if let Some(session) = session.borrow().as_ref() {
                    events.dispatch(Action::Peers(session.mesh.peers()));
                }
            }
        };
        match event {
            MeshEvent::Signaling(state) => {
                events.dispatch(Action::Signaling(state));
                refresh(&events);
            }
            MeshEvent::PeerUp { peer, meta } => {
                events.dispatch(Action::Log(format!("{peer} up: node {}", meta.node)));
                refresh(&events);
            }
            MeshEvent::PeerDown { peer, reason } => {
                events.dispatch(Action::Log(format!("{peer} down: {reason:?}")));
                refresh(&events);
            }
            MeshEvent::Message { from, .. } => events.dispatch(Action::Received(from)),
        }
    });
    match mesh {
        Ok(mesh) => *session.borrow_mut() = Some(Session { _identity: identity, mesh }),
        Err(error) => status.dispatch(Action::Log(format!("cannot join: {error}"))),
    }
}
