//! The runtime in a real browser: several runtimes in one page, joined by an in-page network
//! (frames delivered on the next microtask, as a data channel would deliver them on a later
//! event), form a cluster, commit appends, and restart from sessionStorage as the same node.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use common::wait_for;
use flotilla_web::runtime::net::{LinkId, NetEvent, Network, Signaling};
use flotilla_web::runtime::storage::DurableStore;
use flotilla_web::runtime::test_hook::FlotillaHook;
use flotilla_web::runtime::{MakeNetwork, Options, Runtime, RuntimeHandle, TabMeta};
use flotilla_web::transport::SendError;
use flotilla_web::view::{ClusterView, Command, ControlsView};
use wasm_bindgen_futures::{spawn_local, JsFuture};
use wasm_bindgen_test::*;
use yew::Callback;

wasm_bindgen_test_configure!(run_in_browser);

type Deliver = Rc<RefCell<Box<dyn FnMut(NetEvent)>>>;

/// The in-page network: every runtime that joins is linked to every other; a link id is the
/// other end's node id.
#[derive(Default)]
struct Hub {
    members: RefCell<BTreeMap<u64, (TabMeta, Deliver)>>,
    /// Members in the order they joined: the first is the room's founder, as the signal
    /// server names its oldest member.
    joined: RefCell<Vec<u64>>,
}

impl Hub {
    fn deliver(self: &Rc<Self>, to: u64, event: NetEvent) {
        let hub = self.clone();
        spawn_local(async move {
            let target = hub.members.borrow().get(&to).map(|(_, deliver)| deliver.clone());
            if let Some(deliver) = target {
                (deliver.borrow_mut())(event);
            }
        });
    }

    fn network(self: &Rc<Self>) -> MakeNetwork {
        let hub = self.clone();
        Box::new(move |meta: &TabMeta, on_event| {
            let me = meta.node;
            let others: Vec<(u64, TabMeta)> =
                hub.members.borrow().iter().map(|(&id, (meta, _))| (id, meta.clone())).collect();
            for (id, theirs) in others {
                hub.deliver(id, NetEvent::Up { link: me, meta: meta.clone() });
                hub.deliver(me, NetEvent::Up { link: id, meta: theirs });
            }
            hub.members.borrow_mut().insert(me, (meta.clone(), Rc::new(RefCell::new(on_event))));
            hub.joined.borrow_mut().push(me);
            hub.deliver(me, NetEvent::Signaling(Signaling::Connected));
            Ok(Box::new(HubLink { hub: hub.clone(), me }) as Box<dyn Network>)
        })
    }

    /// The tab `node` closes: its links go down everywhere.
    fn leave(self: &Rc<Self>, node: u64) {
        self.members.borrow_mut().remove(&node);
        self.joined.borrow_mut().retain(|&id| id != node);
        let others: Vec<u64> = self.members.borrow().keys().copied().collect();
        for id in others {
            self.deliver(id, NetEvent::Down { link: node, departed: true });
        }
    }
}

struct HubLink {
    hub: Rc<Hub>,
    me: u64,
}

impl Network for HubLink {
    fn send(&self, link: LinkId, frame: &[u8]) -> Result<(), SendError> {
        if !self.hub.members.borrow().contains_key(&link) {
            return Err(SendError::NotOpen);
        }
        self.hub.deliver(link, NetEvent::Frame { link: self.me, bytes: frame.to_vec() });
        Ok(())
    }

    fn room_nodes(&self) -> Vec<u64> {
        self.hub.members.borrow().keys().copied().filter(|&id| id != self.me).collect()
    }

    fn is_founder(&self) -> bool {
        self.hub.joined.borrow().first() == Some(&self.me)
    }

    fn close(&self) {}
}

fn start(hub: &Rc<Hub>, node: u64, prefix: &str) -> (RuntimeHandle, FlotillaHook) {
    start_drawn(hub, node, prefix, Callback::from(|_| ()))
}

/// As [`start`], with the views the UI would draw going to `on_view`.
fn start_drawn(
    hub: &Rc<Hub>,
    node: u64,
    prefix: &str,
    on_view: Callback<ClusterView>,
) -> (RuntimeHandle, FlotillaHook) {
    let options = Options {
        room: "test".to_owned(),
        node_id: Some(node),
        storage_prefix: Some(prefix.to_owned()),
        network: Some(hub.network()),
        test_hook: false,
    };
    let handle = Runtime::start_with(options, on_view);
    let hook = handle.hook();
    (handle, hook)
}

fn wipe(prefix: &str) {
    DurableStore::open(prefix).expect("sessionStorage").wipe().expect("wipe");
}

/// Waits until both tabs run and count two voters.
async fn two_voters(a: &FlotillaHook, b: &FlotillaHook) {
    wait_for("both to be voters", 10_000.0, || {
        let voters =
            |hook: &FlotillaHook| hook.ready() && js_sys::Array::from(&hook.voters()).length() == 2;
        voters(a) && voters(b)
    })
    .await;
}

async fn append(hook: &FlotillaHook, text: &str) -> u64 {
    let index = JsFuture::from(hook.append(text.to_owned())).await.expect("the append commits");
    index.as_f64().expect("an index") as u64
}

#[wasm_bindgen_test]
async fn a_new_runtime_over_the_same_storage_restarts_the_same_node_with_the_same_log() {
    let prefix = "test/runtime/restart/";
    wipe(prefix);
    let hub = Rc::new(Hub::default());
    let (first, hook) = start(&hub, 7, prefix);
    wait_for("the lone tab to bootstrap and lead", 5_000.0, || {
        hook.role().as_deref() == Some("leader")
    })
    .await;
    let one = append(&hook, "one").await;
    let two = append(&hook, "two").await;
    assert!(two > one);
    let term = hook.term().expect("a term");
    hub.leave(7);
    drop(first);

    let hub = Rc::new(Hub::default());
    let (_second, hook) = start(&hub, 7, prefix);
    wait_for("the restarted node", 5_000.0, || hook.ready()).await;
    assert_eq!(hook.node_id(), Some(7.0));
    assert_eq!(hook.committed_count(), Some(2.0), "the committed log survived");
    let posts = hook.posts(None, None);
    let texts: Vec<String> = js_sys::Array::from(&posts)
        .iter()
        .map(|p| js_sys::Reflect::get(&p, &"text".into()).unwrap().as_string().unwrap())
        .collect();
    assert_eq!(texts, ["one", "two"]);
    wait_for("it to lead again", 5_000.0, || hook.role().as_deref() == Some("leader")).await;
    assert!(hook.term().expect("a term") > term, "a new term after the restart");
    assert!(append(&hook, "three").await > two);
}

#[wasm_bindgen_test]
async fn two_runtimes_form_a_cluster_and_an_append_from_either_commits_on_both() {
    let (pa, pb) = ("test/runtime/pair/a/", "test/runtime/pair/b/");
    wipe(pa);
    wipe(pb);
    let hub = Rc::new(Hub::default());
    let (_a, a) = start(&hub, 101, pa);
    let (_b, b) = start(&hub, 102, pb);
    two_voters(&a, &b).await;
    assert!(a.leader().is_some() && a.leader() == b.leader(), "one leader for both");
    let from_b = append(&b, "from b").await;
    let from_a = append(&a, "from a").await;
    assert_ne!(from_a, from_b);
    wait_for("both posts on both", 5_000.0, || {
        a.committed_count() == Some(2.0) && b.committed_count() == Some(2.0)
    })
    .await;
    let burst = JsFuture::from(a.burst(500)).await.expect("a burst");
    let committed = js_sys::Reflect::get(&burst, &"committed".into()).unwrap().as_f64();
    assert_eq!(committed, Some(500.0));
    wait_for("the burst on b", 5_000.0, || b.committed_count() == Some(502.0)).await;
}

/// Two tabs opened together: only the one the signal server names founder (the room's oldest)
/// bootstraps, whatever their node ids, and the other joins its cluster. Each tab's own guess
/// (the lowest node id it saw) once let two of them found a cluster each.
#[wasm_bindgen_test]
async fn only_the_rooms_founder_bootstraps_and_the_other_tab_joins_it() {
    let (older, younger) = ("test/runtime/founder/older/", "test/runtime/founder/younger/");
    wipe(older);
    wipe(younger);
    let hub = Rc::new(Hub::default());
    // The older tab has the higher node id: the lowest id would have been the other one.
    let (_o, o) = start(&hub, 302, older);
    let (_y, y) = start(&hub, 301, younger);
    two_voters(&o, &y).await;
    assert_eq!(o.leader(), Some(302.0), "the founder bootstrapped the cluster, and leads it");
    assert_eq!(y.leader(), Some(302.0));
}

/// Two clusters that meet in one room (as after a signaling outage) stay apart: neither leader
/// admits the other's tab, Raft traffic between them is dropped, and each goes on committing
/// its own log. Both hold posts, so neither gives its cluster up (see `runtime::cluster`).
#[wasm_bindgen_test]
async fn two_clusters_in_one_room_never_mix() {
    let (pa, pb) = ("test/runtime/apart/a/", "test/runtime/apart/b/");
    wipe(pa);
    wipe(pb);
    // Each founds a cluster alone (after the lone-tab grace) and commits a post in it.
    let mut founders = Vec::new();
    for (node, prefix, text) in [(201, pa, "a's own"), (202, pb, "b's own")] {
        let hub = Rc::new(Hub::default());
        let (handle, hook) = start(&hub, node, prefix);
        wait_for("a lone tab to found its cluster", 6_000.0, || {
            hook.role().as_deref() == Some("leader")
        })
        .await;
        append(&hook, text).await;
        hub.leave(node);
        founders.push(handle);
    }
    drop(founders);
    // Both restart from their storage in one room.
    let hub = Rc::new(Hub::default());
    let (_a, a) = start(&hub, 201, pa);
    let (_b, b) = start(&hub, 202, pb);
    wait_for("both to lead their own cluster again", 6_000.0, || {
        a.role().as_deref() == Some("leader") && b.role().as_deref() == Some("leader")
    })
    .await;
    append(&a, "a again").await;
    append(&b, "b again").await;
    // Several membership checks and heartbeats later, still apart.
    common::sleep(1_000).await;
    for (hook, other) in [(&a, 202.0), (&b, 201.0)] {
        let members = js_sys::Array::from(&hook.members());
        assert!(!members.includes(&other.into(), 0), "{other} was admitted to the other cluster");
        assert_eq!(hook.role().as_deref(), Some("leader"), "neither leader was deposed");
        assert_eq!(hook.committed_count(), Some(2.0), "each log holds its own two posts");
    }
}

/// The Pause button acts on what the view shows (it sends `SetPaused(!shown)`), so the view must
/// show a pause at once, even while a commit is in flight, when views otherwise wait for the
/// commit (up to a second). A view that still showed "Pause" made the next click, meant as
/// Resume, pause again.
#[wasm_bindgen_test]
async fn a_pause_while_a_commit_is_in_flight_shows_at_once_and_the_next_click_resumes() {
    let (pa, pb) = ("test/runtime/pause/a/", "test/runtime/pause/b/");
    wipe(pa);
    wipe(pb);
    let hub = Rc::new(Hub::default());
    let shown: Rc<RefCell<Option<ControlsView>>> = Rc::default();
    let views = Rc::new(Cell::new(0_u32));
    let on_view = {
        let (shown, views) = (shown.clone(), views.clone());
        Callback::from(move |view: ClusterView| {
            *shown.borrow_mut() = Some(view.controls);
            views.set(views.get() + 1);
        })
    };
    let (a_handle, a) = start_drawn(&hub, 401, pa, on_view);
    let (_b, b) = start(&hub, 402, pb);
    two_voters(&a, &b).await;
    assert_eq!(a.leader(), Some(401.0), "the founder leads");
    // With its only follower frozen, the leader's append cannot commit: it stays in flight.
    b.pause();
    let in_flight = a.append("waits for b".to_owned());
    wait_for("the append in flight", 1_000.0, || a.last_index() > a.commit()).await;
    // Right after a view, a view deferred behind the commit would wait almost a second.
    let seen = views.get();
    wait_for("a view", 2_000.0, || views.get() > seen).await;

    let click = |shown: &RefCell<Option<ControlsView>>| {
        let paused = shown.borrow().as_ref().expect("a view").paused;
        a_handle.command(Command::SetPaused(!paused));
    };
    click(&shown);
    assert!(a.paused(), "the click paused the node");
    wait_for("the view to show the pause", 500.0, || {
        shown.borrow().as_ref().is_some_and(|controls| controls.paused)
    })
    .await;
    click(&shown);
    assert!(!a.paused(), "the next click resumed the node");

    b.resume();
    let index = JsFuture::from(in_flight).await.expect("the append commits once b is back");
    assert!(index.as_f64().is_some());
}

/// Fills this page's sessionStorage until it refuses a write; returns the keys to remove.
fn fill_session_storage() -> Vec<String> {
    let storage = flotilla_web::runtime::storage::session_storage().expect("sessionStorage");
    let mut keys = Vec::new();
    let mut chars = 1 << 20;
    while chars > 0 {
        let key = format!("test/filler/{}", keys.len());
        if storage.set_item(&key, &"x".repeat(chars)).is_ok() {
            keys.push(key);
        } else {
            chars /= 2;
        }
    }
    keys
}

/// A leader sends its appends before its own write of them (`Driver::sends_before_flush`), and
/// in a 3-voter cluster a follower may count an entry committed from the leader's copy. When
/// that write then fails (quota full), the leader may not keep a stored log without the entry:
/// a reload would be the same node, and could vote for a log that contradicts the follower.
/// So it stops, reports the outcome as unknown, and forgets its id and stored state.
#[wasm_bindgen_test]
async fn a_leader_whose_write_fails_after_its_appends_left_forgets_its_stored_state() {
    let (pa, pb) = ("test/runtime/quota/a/", "test/runtime/quota/b/");
    wipe(pa);
    wipe(pb);
    let hub = Rc::new(Hub::default());
    let (_a, a) = start(&hub, 501, pa);
    let (_b, b) = start(&hub, 502, pb);
    two_voters(&a, &b).await;
    assert_eq!(a.leader(), Some(501.0), "the founder leads");
    append(&a, "stored").await;
    let stored = DurableStore::open(pa).expect("a's store").log_bounds();
    assert!(stored.is_some(), "the leader stored its log");
    let before = b.last_index().expect("b's log");

    // The quota is full just for the leader's write: the append is handled in this call (the
    // runtime is idle), and the follower's own write, later, finds the room freed again.
    let filler = fill_session_storage();
    let outcome = JsFuture::from(a.append("sent, never stored".to_owned()));
    let storage = flotilla_web::runtime::storage::session_storage().expect("sessionStorage");
    for key in filler {
        storage.remove_item(&key).expect("removing the filler");
    }
    let error = outcome.await.expect_err("the append cannot be reported committed");
    let error = error.as_string().expect("a message");
    assert!(error.contains("outcome is unknown"), "{error}");

    wait_for("the follower to hold the entry that left first", 5_000.0, || {
        b.last_index() == Some(before + 1.0)
    })
    .await;
    let left: Vec<String> = (0..storage.length().expect("length"))
        .filter_map(|i| storage.key(i).ok().flatten())
        .filter(|key| key.starts_with(pa))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "the leader's log, term and vote are gone");
}

/// A follower that entries stream into (a burst, a closed loop at the leader) renders no view
/// until the stream stops, at most one a second (`VIEW_DEFER_MAX_MS`): there a view holds the
/// main thread between an append and its ack, tens to hundreds of milliseconds that the leader
/// waits for. Before, a follower rendered at the view rate (here, where a view costs little,
/// about one per append of this loop).
#[wasm_bindgen_test]
async fn a_follower_renders_no_view_while_entries_stream_into_it() {
    let (pl, pf) = ("test/runtime/stream/leader/", "test/runtime/stream/follower/");
    wipe(pl);
    wipe(pf);
    let hub = Rc::new(Hub::default());
    let (_l, leader) = start(&hub, 502, pl);
    let views = Rc::new(Cell::new(0u32));
    let counted = views.clone();
    let on_view = Callback::from(move |_| counted.set(counted.get() + 1));
    let (_f, follower) = start_drawn(&hub, 501, pf, on_view);
    two_voters(&leader, &follower).await;
    assert_eq!(follower.leader(), Some(502.0), "the founder leads");
    let (before, started) = (views.get(), js_sys::Date::now());
    for i in 0..40 {
        append(&leader, &format!("stream {i}")).await;
        common::sleep(10).await;
    }
    let (during, ms) = (views.get() - before, js_sys::Date::now() - started);
    assert!(f64::from(during) <= 1.0 + ms / 1_000.0, "{during} follower views in {ms} ms");
}
