//! Components render from given states: each test mounts one component with a hand-made view
//! into a fresh root, flushes Yew's scheduler and reads the DOM. The page carries the real style
//! sheet, so a test can also check what the reader sees (a dashed border), not only a class.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use flotilla_web::components::controls::{Controls, ControlsProps};
use flotilla_web::components::dashboard::{Dashboard, DashboardProps};
use flotilla_web::components::demo::{DemoCluster, DemoPhase};
use flotilla_web::components::gossip::{GossipProps, GossipTable};
use flotilla_web::components::inspector::{Inspector, InspectorProps};
use flotilla_web::components::log_grid::{LogGrid, LogGridProps};
use flotilla_web::components::paint::{safe_colour, term_colour, NEUTRAL};
use flotilla_web::components::ring::{RingPanel, RingProps};
use flotilla_web::components::shared_log::{
    SharedLog, SharedLogProps, APPEND_INPUT_ID, FIRST_SHOWN,
};
use flotilla_web::components::timeline::{Timeline, TimelineProps};
use flotilla_web::view::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit};
use yew::{AppHandle, BaseComponent, Callback};

wasm_bindgen_test_configure!(run_in_browser);

// ---------- Harness ----------

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

/// Puts the app's style sheet on the test page, once.
fn with_style_sheet() {
    let document = document();
    if document.get_element_by_id("app-style").is_none() {
        let style = document.create_element("style").expect("a style element");
        style.set_id("app-style");
        style.set_text_content(Some(include_str!("../style.css")));
        document.head().expect("a head").append_child(&style).expect("appended");
    }
}

/// A component mounted on the test page; unmounted and removed when dropped, so that tests do
/// not see each other's elements (or keyboard listeners).
struct Mounted<C: BaseComponent> {
    root: Element,
    handle: Option<AppHandle<C>>,
}

impl<C: BaseComponent> std::ops::Deref for Mounted<C> {
    type Target = Element;
    fn deref(&self) -> &Element {
        &self.root
    }
}

impl<C: BaseComponent> Drop for Mounted<C> {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.destroy();
        }
        self.root.remove();
    }
}

/// Mounts `C` with `props` into a new root on the page and lets it render.
async fn mount<C: BaseComponent>(props: C::Properties) -> Mounted<C> {
    with_style_sheet();
    let root = document().create_element("div").expect("a div");
    document().body().expect("a body").append_child(&root).expect("appended");
    let handle = yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    yew::scheduler::flush().await;
    Mounted { root, handle: Some(handle) }
}

/// `#rrggbb` as the `rgb(r, g, b)` a computed style reports.
fn rgb(hex: &str) -> String {
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex");
    format!("rgb({}, {}, {})", channel(1), channel(3), channel(5))
}

fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).expect("a valid selector");
    (0..list.length()).filter_map(|i| list.item(i)?.dyn_into::<Element>().ok()).collect()
}

fn one(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .expect("a valid selector")
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn has_class(element: &Element, class: &str) -> bool {
    element.class_list().contains(class)
}

fn text(element: &Element) -> String {
    element.text_content().unwrap_or_default()
}

/// The computed value of a CSS property, as the reader's browser resolved it.
fn computed(element: &Element, property: &str) -> String {
    web_sys::window()
        .and_then(|w| w.get_computed_style(element).ok().flatten())
        .and_then(|style| style.get_property_value(property).ok())
        .unwrap_or_default()
}

/// A command sink for the components that emit commands.
fn recorder() -> (Callback<Command>, Rc<RefCell<Vec<Command>>>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (Callback::from(move |c| sink.borrow_mut().push(c)), seen)
}

fn click(element: &Element) {
    element.dyn_ref::<HtmlElement>().expect("an HTML element").click();
}

/// Types `value` into an input as a user would: set the value, fire a bubbling `input` event.
fn type_into(input: &Element, value: &str) {
    let input = input.dyn_ref::<HtmlInputElement>().expect("an input");
    input.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).expect("an event");
    input.dispatch_event(&event).expect("dispatched");
}

fn press(target: &web_sys::EventTarget, key: &str) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("a key");
    target.dispatch_event(&event).expect("dispatched")
}

// ---------- Fixtures ----------

fn node(id: u64, term: u64, role: RoleView) -> NodeView {
    NodeView {
        id,
        name: format!("tab-{id}"),
        colour: "hsl(200 80% 60%)".to_owned(),
        term,
        role,
        is_self: false,
        is_leader: role == RoleView::Leader,
        reachable: true,
        voter: true,
    }
}

/// Three tabs: 1 (this tab) leads term 4, 2 follows, 3 is unreachable in term 3.
fn three_nodes() -> Vec<NodeView> {
    let mut nodes = vec![
        node(1, 4, RoleView::Leader),
        node(2, 4, RoleView::Follower),
        node(3, 3, RoleView::Follower),
    ];
    nodes[0].is_self = true;
    nodes[2].reachable = false;
    nodes
}

fn flight(from: u64, to: u64, kind: MessageKind, reply: bool) -> FlightView {
    FlightView { from, to, kind, reply, progress: 0.5 }
}

// ---------- Ring ----------

#[wasm_bindgen_test]
async fn ring_marks_leader_self_terms_unreachable_and_messages() {
    let root = mount::<RingPanel>(RingProps {
        nodes: three_nodes(),
        in_flight: vec![
            flight(1, 2, MessageKind::Append, false),
            flight(2, 1, MessageKind::Append, true),
            flight(1, 3, MessageKind::Heartbeat, false),
            // Unknown node: not drawn rather than drawn somewhere wrong.
            flight(1, 99, MessageKind::Append, false),
        ],
        election_timer: None,
        vote_tally: None,
    })
    .await;

    let leader = one(&root, "g.node[data-node='1']");
    assert!(has_class(&leader, "leader") && has_class(&leader, "self"));
    assert!(leader.get_attribute("style").unwrap_or_default().contains(term_colour(4)));
    assert_eq!(computed(&one(&leader, "circle.body"), "fill"), rgb(term_colour(4)), "term 4 fill");
    assert!(leader.query_selector(".crown").unwrap().is_some(), "the leader wears the crown");
    assert!(leader.query_selector(".halo").unwrap().is_some(), "this tab is haloed");
    assert!(text(&leader).contains("leader") && text(&leader).contains("you"));

    let follower = one(&root, "g.node[data-node='2']");
    assert!(!has_class(&follower, "leader") && !has_class(&follower, "self"));
    assert!(follower.query_selector(".crown").unwrap().is_none());
    let away = one(&root, "g.node[data-node='3']");
    assert!(has_class(&away, "unreachable"));
    assert!(away.get_attribute("style").unwrap_or_default().contains(term_colour(3)));

    let messages = all(&root, "circle.msg");
    assert_eq!(messages.len(), 3, "one dot per message between known nodes");
    assert_eq!(all(&root, "circle.msg.kind-append.reply").len(), 1, "the reply is hollow");
    assert_eq!(all(&root, "circle.msg.kind-heartbeat").len(), 1);
    let reply = one(&root, "circle.msg.reply");
    assert_ne!(
        computed(&reply, "fill"),
        computed(&reply, "stroke"),
        "hollow: fill is not the kind colour"
    );
    assert!(text(&one(&root, ".centre")).contains("tab-1"), "the centre names the leader");
    assert!(root.query_selector(".timer-arc").unwrap().is_none(), "a leader has no election timer");
}

#[wasm_bindgen_test]
async fn ring_shows_the_campaign_timer_and_votes() {
    let mut nodes = three_nodes();
    nodes[0].role = RoleView::Candidate;
    nodes[0].is_leader = false;
    nodes[0].term = 5;
    let root = mount::<RingPanel>(RingProps {
        nodes,
        in_flight: vec![flight(1, 2, MessageKind::Vote, false)],
        election_timer: Some(TimerView { elapsed: 0.9, timeout_ms: 300.0 }),
        vote_tally: Some(VoteTally { granted: 1, needed: 2, voters: 3 }),
    })
    .await;
    let me = one(&root, "g.node[data-node='1']");
    let arc = one(&me, "path.timer-arc");
    assert!(has_class(&arc, "late"), "a timer about to fire is drawn late");
    assert!(arc.get_attribute("d").unwrap_or_default().starts_with("M 0 "));
    assert_eq!(all(&me, "circle.vote").len(), 3, "a dot per voter");
    assert_eq!(all(&me, "circle.vote.granted").len(), 1);
    assert!(has_class(&me, "role-candidate"));
    let centre = text(&one(&root, ".centre"));
    assert!(centre.contains("1 of 2 votes") && centre.contains("term 5"), "{centre}");
    assert_eq!(all(&root, "circle.msg.kind-vote").len(), 1);
    assert!(root.query_selector(".crown").unwrap().is_none(), "no leader, no crown");
}

// ---------- Log grid ----------

#[wasm_bindgen_test]
async fn log_grid_colours_terms_and_marks_commit_next_and_match() {
    let grid = LogGridView {
        first_index: 10,
        rows: vec![
            // The leader: 10..=14, committed through 12.
            LogRowView {
                node: 1,
                terms: vec![2, 2, 3, 4, 4],
                commit: 12,
                next_index: None,
                match_index: None,
            },
            // A follower two entries behind: next 13 (past its end), match 12.
            LogRowView {
                node: 2,
                terms: vec![2, 2, 3],
                commit: 12,
                next_index: Some(13),
                match_index: Some(12),
            },
            // A follower probed back inside its log: next 11.
            LogRowView {
                node: 3,
                terms: vec![2, 2, 3, 3],
                commit: 11,
                next_index: Some(11),
                match_index: Some(10),
            },
        ],
    };
    let root = mount::<LogGrid>(LogGridProps { grid, nodes: three_nodes() }).await;

    let leader = one(&root, ".lg-row[data-node='1']");
    let cells = all(&leader, ".cell:not(.empty)");
    assert_eq!(cells.len(), 5);
    assert_eq!(
        cells.iter().map(|c| has_class(c, "committed")).collect::<Vec<_>>(),
        [true, true, true, false, false],
        "committed through index 12"
    );
    let uncommitted = one(&leader, ".cell[data-index='13']");
    assert!(has_class(&uncommitted, "uncommitted"));
    assert_eq!(computed(&uncommitted, "border-top-style"), "dashed");
    let committed = one(&leader, ".cell[data-index='12']");
    assert_eq!(computed(&committed, "border-top-style"), "solid");
    assert!(committed.get_attribute("style").unwrap_or_default().contains(term_colour(3)));
    assert_eq!(text(&committed), "3", "a cell shows its term");

    let behind = one(&root, ".lg-row[data-node='2']");
    assert!(has_class(&one(&behind, ".cell[data-index='12']"), "match"));
    let next = one(&behind, ".cell[data-index='13']");
    assert!(has_class(&next, "next") && has_class(&next, "empty"), "next past the end is a slot");
    let probed = one(&root, ".lg-row[data-node='3']");
    let next = one(&probed, ".cell[data-index='11']");
    assert!(has_class(&next, "next") && has_class(&next, "committed"));
    assert!(has_class(&one(&probed, ".cell[data-index='12']"), "uncommitted"));

    assert_eq!(all(&root, ".lg-row").len(), 3);
    assert_eq!(
        all(&one(&root, ".lg-row[data-node='1']"), ".cell").len(),
        5,
        "rows share one width"
    );
    assert!(text(&one(&root, ".lg-label.self")).contains("tab-1"));
    assert!(has_class(&one(&root, ".lg-label.self"), "leader"));
    assert!(text(&one(&root, ".lg-cells .lg-head")).contains("10"), "every fifth index labelled");
}

#[wasm_bindgen_test]
async fn log_grid_keeps_each_cell_element_as_its_window_slides() {
    let grid = |first_index: u64, last: u64| LogGridView {
        first_index,
        rows: vec![LogRowView {
            node: 1,
            terms: (first_index..=last).map(|_| 2).collect(),
            commit: last,
            next_index: None,
            match_index: None,
        }],
    };
    let mut root =
        mount::<LogGrid>(LogGridProps { grid: grid(10, 14), nodes: three_nodes() }).await;
    let cell_12 = one(&root, ".cell[data-index='12']");

    // Two entries later the window starts two indexes on: index 12 is drawn by the same element
    // (a slid window rewrites no cell but the ones that come and go).
    root.handle.as_mut().unwrap().update(LogGridProps { grid: grid(12, 16), nodes: three_nodes() });
    yew::scheduler::flush().await;
    assert!(one(&root, ".cell[data-index='12']").is_same_node(Some(&cell_12)));
    assert!(cell_12.is_connected());
    assert_eq!(all(&root, ".cell").len(), 5);
}

// ---------- Shared log ----------

fn entry(
    index: Option<u64>,
    author: &str,
    colour: &str,
    text: &str,
    status: EntryStatus,
) -> SharedEntryView {
    SharedEntryView {
        index,
        author: author.to_owned(),
        author_colour: colour.to_owned(),
        text: text.to_owned(),
        at: 1_700_000_000_000.0,
        status,
    }
}

#[wasm_bindgen_test]
async fn shared_log_shows_authors_pending_entries_and_errors_and_appends() {
    let (on_command, seen) = recorder();
    let root = mount::<SharedLog>(SharedLogProps {
        entries: vec![
            entry(Some(7), "tab-1", "#5b9cf5", "first", EntryStatus::Committed),
            entry(Some(8), "tab-2", "red;background:url(x)", "second", EntryStatus::Committed),
            entry(None, "tab-1", "#5b9cf5", "on its way", EntryStatus::Provisional),
        ],
        // The log holds more than the newest entries the panel was given.
        total: 10,
        errors: vec!["proposal refused: this node is isolated".to_owned()],
        on_command,
    })
    .await;

    let entries = all(&root, "li.entry");
    assert_eq!(entries.len(), 3);
    assert!(text(&entries[0]).contains("on its way"), "newest first");
    assert!(has_class(&entries[0], "provisional") && !has_class(&entries[1], "provisional"));
    assert!(text(&entries[0]).contains("pending"));
    assert!(computed(&entries[0], "opacity").parse::<f64>().unwrap() < 1.0, "greyed");
    assert!(text(&entries[2]).contains("tab-1") && text(&entries[2]).contains("#7"));
    assert!(entries[2].get_attribute("style").unwrap_or_default().contains("#5b9cf5"));
    let hostile = entries[1].get_attribute("style").unwrap_or_default();
    assert!(!hostile.contains("url") && hostile.contains(NEUTRAL), "{hostile}");
    assert!(text(&one(&root, ".errors")).contains("this node is isolated"));
    assert!(text(&one(&root, ".panel-aside")).contains("10 entries · 1 pending"));

    let input = one(&root, &format!("#{APPEND_INPUT_ID}"));
    let button = one(&root, "form.append button");
    assert!(button.has_attribute("disabled"), "nothing to append yet");
    type_into(&input, "  hello cluster  ");
    yew::scheduler::flush().await;
    assert!(!button.has_attribute("disabled"));
    click(&button);
    yew::scheduler::flush().await;
    assert_eq!(*seen.borrow(), [Command::Append("hello cluster".to_owned())]);
    assert_eq!(input.dyn_ref::<HtmlInputElement>().unwrap().value(), "", "cleared after sending");
}

#[wasm_bindgen_test]
async fn shared_log_draws_the_newest_entries_until_older_ones_are_asked_for() {
    let entries: Vec<_> = (1..=100)
        .map(|i| entry(Some(i), "tab-1", "#5b9cf5", &format!("post {i}"), EntryStatus::Committed))
        .collect();
    let (on_command, _) = recorder();
    let mut root =
        mount::<SharedLog>(SharedLogProps { entries, total: 100, errors: vec![], on_command })
            .await;

    let drawn = all(&root, "li.entry");
    assert_eq!(drawn.len(), FIRST_SHOWN);
    assert!(text(&drawn[0]).contains("post 100"), "newest first");
    let older = one(&root, ".entries-older button");
    assert_eq!(text(&older), format!("Show {} older", 100 - FIRST_SHOWN));

    // A new post adds one row: the others keep their elements.
    let post_90 = one(&root, "li.entry:nth-child(11)");
    assert!(text(&post_90).contains("post 90"));
    let entries: Vec<_> = (1..=101)
        .map(|i| entry(Some(i), "tab-1", "#5b9cf5", &format!("post {i}"), EntryStatus::Committed))
        .collect();
    let (on_command, _) = recorder();
    root.handle.as_mut().unwrap().update(SharedLogProps {
        entries,
        total: 101,
        errors: vec![],
        on_command,
    });
    yew::scheduler::flush().await;
    assert!(text(&all(&root, "li.entry")[0]).contains("post 101"));
    assert!(all(&root, "li.entry")[11].is_same_node(Some(&post_90)), "post 90 kept its row");

    click(&one(&root, ".entries-older button"));
    yew::scheduler::flush().await;
    assert_eq!(all(&root, "li.entry").len(), 101);
    assert!(root.query_selector(".entries-older").unwrap().is_none(), "nothing older left");
}

// ---------- Timeline ----------

#[wasm_bindgen_test]
async fn timeline_lists_events_newest_first_by_kind() {
    let event = |at, kind, text: &str| TimelineEvent { at, kind, text: text.to_owned() };
    let root = mount::<Timeline>(TimelineProps {
        events: vec![
            event(1_000.0, TimelineKind::Join, "tab-2 joined"),
            event(61_500.0, TimelineKind::Election, "election for term 3 took 290 ms"),
            event(61_500.0, TimelineKind::LeaderChange, "tab-2 leads term 3"),
            event(70_000.0, TimelineKind::Error, "proposal failed"),
        ],
    })
    .await;
    let events = all(&root, "li.event");
    assert_eq!(events.len(), 4);
    assert!(has_class(&events[0], "ev-error") && text(&events[0]).contains("proposal failed"));
    assert!(has_class(&events[1], "ev-leader"));
    assert!(has_class(&events[2], "ev-election") && text(&events[2]).contains("290 ms"));
    assert!(has_class(&events[3], "ev-join"));
    assert_eq!(text(&one(&events[2], "time")), "1:01.5");
    assert_eq!(text(&one(&events[3], "time")), "0:01.0");
}

// ---------- Inspector, gossip ----------

#[wasm_bindgen_test]
async fn inspector_names_the_vote_and_lists_peer_progress() {
    let inspector = InspectorView {
        term: 4,
        voted_for: Some(1),
        commit: 12,
        applied: 11,
        last_index: 14,
        snapshot_index: 5,
        peers: vec![
            PeerProgressView {
                id: 2,
                match_index: 12,
                next_index: 13,
                state: "replicate".to_owned(),
            },
            PeerProgressView { id: 3, match_index: 3, next_index: 4, state: "probe".to_owned() },
        ],
        errors: Vec::new(),
    };
    let root = mount::<Inspector>(InspectorProps { inspector, nodes: three_nodes() }).await;
    assert_eq!(text(&one(&root, ".term-chip-value")), "4");
    let facts = text(&one(&root, ".facts"));
    assert!(facts.contains("tab-1") && facts.contains("12") && facts.contains("11"), "{facts}");
    let probe = one(&root, "tr[data-node='3']");
    assert!(text(&probe).contains("tab-3") && text(&probe).contains("probe"));
    assert!(text(&one(&probe, ".lag-n")).contains("11"), "14 - 3 entries behind");
}

#[wasm_bindgen_test]
async fn gossip_table_marks_departed_and_stale_rows() {
    let row = |id, heard_ms_ago, departed| GossipRow {
        id,
        name: format!("tab-{id}"),
        colour: "#abc".to_owned(),
        role: "follower".to_owned(),
        term: 2,
        leader: Some(1),
        commit: 9,
        applied: 9,
        last_index: 9,
        heard_ms_ago,
        departed,
    };
    let root = mount::<GossipTable>(GossipProps {
        rows: vec![row(1, 0.0, false), row(2, 9_000.0, false), row(3, 100.0, true)],
    })
    .await;
    assert_eq!(all(&root, "tbody tr").len(), 3);
    assert!(has_class(&one(&root, "tr[data-node='2']"), "stale"));
    let gone = one(&root, "tr[data-node='3']");
    assert!(has_class(&gone, "departed") && text(&gone).contains("departed"));
    assert!(text(&one(&root, "tr[data-node='2']")).contains("tab-1"), "leader by name");
}

// ---------- Controls ----------

fn controls_view() -> ControlsView {
    ControlsView {
        paused: false,
        isolated: true,
        election_timeout_min_ms: 150,
        election_timeout_max_ms: 300,
        heartbeat_ms: 50,
        dead_after_ms: 10_000,
    }
}

#[wasm_bindgen_test]
async fn controls_emit_commands_and_guard_wipe_and_timings() {
    let (on_command, seen) = recorder();
    let root = mount::<Controls>(ControlsProps {
        controls: controls_view(),
        nodes: three_nodes(),
        on_command,
    })
    .await;
    click(&one(&root, "#pause"));
    click(&one(&root, "#isolate"));
    yew::scheduler::flush().await;
    assert_eq!(*seen.borrow(), [Command::SetPaused(true), Command::SetIsolated(false)]);
    assert_eq!(text(&one(&root, "#isolate")), "Heal", "an isolated node offers to heal");

    // Leadership goes to a reachable voter: tab-2, not the unreachable tab-3.
    let transfer =
        all(&root, "button").into_iter().find(|b| text(b) == "Transfer").expect("Transfer");
    click(&transfer);
    yew::scheduler::flush().await;
    assert_eq!(seen.borrow().last(), Some(&Command::TransferLeadership(2)));

    // Wipe asks twice.
    seen.borrow_mut().clear();
    click(&one(&root, "button.danger"));
    yew::scheduler::flush().await;
    assert!(seen.borrow().is_empty(), "one click only arms it");
    click(&one(&root, "button.danger"));
    yew::scheduler::flush().await;
    assert_eq!(*seen.borrow(), [Command::WipeAndReload]);

    // A timeout range upside down is not sent.
    seen.borrow_mut().clear();
    let inputs = all(&root, ".fields input");
    type_into(&inputs[0], "400");
    yew::scheduler::flush().await;
    let apply =
        all(&root, "button").into_iter().find(|b| text(b) == "Apply timings").expect("Apply");
    assert!(apply.has_attribute("disabled"));
    assert!(text(&root).contains("max > min"));
    type_into(&inputs[1], "800");
    yew::scheduler::flush().await;
    click(&apply);
    yew::scheduler::flush().await;
    assert_eq!(
        *seen.borrow(),
        [Command::SetTimings {
            election_timeout_min_ms: 400,
            election_timeout_max_ms: 800,
            heartbeat_ms: 50
        }]
    );
}

// ---------- The whole page ----------

#[wasm_bindgen_test]
async fn dashboard_renders_the_demo_and_answers_shortcuts() {
    let (on_command, seen) = recorder();
    let view = Rc::new(DemoCluster::new(DemoPhase::Leader, 0.0).view(12_345.0));
    let root = mount::<Dashboard>(DashboardProps { view, on_command }).await;
    for panel in ["ring", "grid", "shared", "timeline", "inspector", "gossip", "stats", "controls"]
    {
        assert!(
            root.query_selector(&format!(".panel-{panel}")).unwrap().is_some(),
            "{panel} panel"
        );
    }
    assert_eq!(all(&root, "g.node").len(), 5);
    assert_eq!(all(&root, ".lg-row").len(), 5);
    assert!(all(&root, "li.entry.provisional").len() >= 2);
    assert!(!all(&root, "li.error").is_empty());
    assert!(!all(&root, ".cell.next").is_empty() && !all(&root, ".cell.match").is_empty());

    let document = document();
    assert!(!press(&document, " "), "space is taken (no page scroll)");
    yew::scheduler::flush().await;
    assert_eq!(*seen.borrow(), [Command::SetPaused(true)]);

    // Space on a focused button still pauses, and takes the focus off the button (whose
    // activation on the key's release would otherwise press it too).
    let pause = one(&root, "#pause");
    pause.dyn_ref::<HtmlElement>().unwrap().focus().unwrap();
    assert!(!press(&pause, " "));
    yew::scheduler::flush().await;
    assert_eq!(seen.borrow().len(), 2, "paused again (the view still says running)");
    assert_ne!(document.active_element().map(|e| e.id()), Some("pause".to_owned()));

    press(&document, "?");
    yew::scheduler::flush().await;
    assert!(root.query_selector(".help").unwrap().is_some(), "? opens the help");
    assert!(text(&root).contains("pause or resume this node"));
    press(&document, "Escape");
    yew::scheduler::flush().await;
    assert!(root.query_selector(".help").unwrap().is_none(), "Escape closes it");

    press(&document, "a");
    let active = document.active_element().expect("something focused");
    assert_eq!(active.id(), APPEND_INPUT_ID, "a focuses the append box");
    // Typing in the box is the box's: space there does not pause.
    seen.borrow_mut().clear();
    assert!(press(&active, " "), "not prevented: the space is typed");
    press(&active, "?");
    yew::scheduler::flush().await;
    assert!(seen.borrow().is_empty());
    assert!(root.query_selector(".help").unwrap().is_none());
    press(&active, "Escape");
    assert_ne!(
        document.active_element().map(|e| e.id()),
        Some(APPEND_INPUT_ID.to_owned()),
        "Escape leaves the box"
    );
}

#[wasm_bindgen_test]
fn only_plain_colours_pass() {
    assert_eq!(safe_colour("#a1b2c3"), "#a1b2c3");
    assert_eq!(safe_colour("hsl(1 2% 3%)"), "hsl(1 2% 3%)");
    assert_eq!(safe_colour("x;y:url(z)"), NEUTRAL);
}

// ---------- Number parsing ----------

#[wasm_bindgen_test]
fn parse_f64_reads_what_rusts_parser_reads() {
    use flotilla_web::components::format::parse_f64;
    let cases = [
        "0",
        "10",
        "2.5",
        "5.",
        ".5",
        "+7",
        "-0.5",
        "007",
        "1e3",
        "1E+3",
        "2.5e-3",
        "-.5e1",
        "3600",
        "0.1",
        "123456789.123456789",
        "inf",
        "-Infinity",
        "+INF",
        "NaN",
        "-nan",
        "",
        ".",
        "+",
        "-",
        "e5",
        "1e",
        "1e+",
        "1.2.3",
        "1-2",
        "0x10",
        "0b1",
        "Infinity1",
        " 1",
        "1 ",
        "1_000",
        "1,5",
        "--1",
        "+-1",
        "1e5.5",
        "١",
    ];
    for case in cases {
        let expected = case.parse::<f64>().ok();
        let got = parse_f64(case);
        let same = match (expected, got) {
            (Some(a), Some(b)) => a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
            (None, None) => true,
            _ => false,
        };
        assert!(same, "{case:?}: Rust reads {expected:?}, parse_f64 {got:?}");
    }
}

#[wasm_bindgen_test]
fn fixed_writes_what_rusts_formatting_writes() {
    use flotilla_web::components::format::fixed;
    let mut values = vec![
        0.0,
        -0.0,
        0.5,
        1.5,
        2.5,
        -2.5,
        0.25,
        0.35,
        0.125,
        0.375,
        1.005,
        2.675,
        9.95,
        9.995,
        99.95,
        0.05,
        0.045,
        123.456,
        -123.456,
        0.1 + 0.2,
        1e-7,
        -1e-7,
        4e-15,
        1e-300,
        5e-324,
        999.5,
        1e20,
        1e21,
        1.5e21,
        123456789012345680000000.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        3600.0,
        2.2,
        16.7,
        204.0,
        31.4159,
        -13.0,
        1_234.567_8,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    // Pseudo-random values across magnitudes, and exact ties at each number of decimals.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..400 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let unit = (seed >> 11) as f64 / (1u64 << 53) as f64;
        let scale = 10f64.powi((seed % 12) as i32 - 4);
        values.push(unit * scale);
        values.push((seed % 20_000) as f64 / 8.0 - 1_000.0);
    }
    for x in values {
        for digits in 0..4 {
            assert_eq!(fixed(x, digits), format!("{x:.digits$}"), "{x:e} to {digits} decimals");
        }
    }
}
