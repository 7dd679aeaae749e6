//! The cluster ring, RaftScope's picture of a cluster, from this tab's point of view: every node
//! on a circle filled with its term's colour and labelled with its role; the leader crowned;
//! this tab haloed, with its election timer as an arc around it and, while it campaigns, its
//! votes as dots; the messages this node exchanges drawn along its links (each kind in its own
//! colour, replies hollow); unreachable nodes greyed. The centre says who leads, or how the
//! election is going.
use std::f64::consts::{FRAC_PI_2, PI, TAU};

use yew::prelude::*;

use super::format::fixed;
use super::paint::{kind_class, kind_label, role_class, role_label, shown_role, term_style, KINDS};
use super::panel::Panel;
use crate::view::{FlightView, MessageKind, NodeView, TimerView, VoteTally};

/// The drawing's coordinate system (the SVG scales to its box).
const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 420.0;
const CENTRE: (f64, f64) = (200.0, 204.0);
const RADIUS: f64 = 140.0;
/// Radius of a message dot.
const MESSAGE_R: f64 = 5.5;
/// An election timer past this fraction is about to fire: drawn in the warning colour.
const TIMER_LATE: f64 = 0.8;

#[derive(Properties, PartialEq)]
pub struct RingProps {
    pub nodes: Vec<NodeView>,
    #[prop_or_default]
    pub in_flight: Vec<FlightView>,
    #[prop_or_default]
    pub election_timer: Option<TimerView>,
    #[prop_or_default]
    pub vote_tally: Option<VoteTally>,
}

/// `sin` from the browser's `Math`: Rust's own (libm in compiler_builtins, with its argument
/// reduction tables) would add about 3 KB gzip to the release bundle for the ring's geometry,
/// which is drawn to a hundredth of a pixel at most. Native builds (unit tests) use Rust's.
#[cfg(target_arch = "wasm32")]
pub(crate) fn sin(x: f64) -> f64 {
    js_sys::Math::sin(x)
}

/// `cos` from the browser's `Math`, as [`sin`].
#[cfg(target_arch = "wasm32")]
pub(crate) fn cos(x: f64) -> f64 {
    js_sys::Math::cos(x)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn sin(x: f64) -> f64 {
    x.sin()
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn cos(x: f64) -> f64 {
    x.cos()
}

/// Where each node sits: evenly round the circle, the first at the top, clockwise.
fn position(slot: usize, count: usize) -> (f64, f64) {
    let angle = slot as f64 / count.max(1) as f64 * TAU - FRAC_PI_2;
    (CENTRE.0 + RADIUS * cos(angle), CENTRE.1 + RADIUS * sin(angle))
}

/// Node radius: as large as looks good, smaller when many nodes crowd the circle.
fn node_radius(count: usize) -> f64 {
    if count < 2 {
        return 30.0;
    }
    let chord = 2.0 * RADIUS * sin(PI / count as f64);
    (chord * 0.3).clamp(13.0, 30.0)
}

/// An arc of radius `r` round the origin, from 12 o'clock clockwise through `fraction` of the
/// circle (a full circle is one path segment short of closing, which SVG cannot draw).
pub fn arc_path(r: f64, fraction: f64) -> String {
    let fraction = fraction.clamp(0.0, 0.9999);
    let angle = fraction * TAU - FRAC_PI_2;
    let large = u8::from(fraction > 0.5);
    let r2 = fixed(r, 2);
    format!(
        "M 0 {} A {r2} {r2} 0 {large} 1 {} {}",
        fixed(-r, 2),
        fixed(r * cos(angle), 2),
        fixed(r * sin(angle), 2)
    )
}

/// The drawing. Plain functions, not components, like the ring's other parts: `RingPanel`
/// re-renders when its props change, which are the ring's, and the legend is a few static
/// elements; as components the two cost 0.9 KB gzip of the bundle.
fn ring(props: &RingProps) -> Html {
    let count = props.nodes.len();
    let r = node_radius(count);
    let at = |slot: usize| position(slot, count);
    let slot_of = |id| props.nodes.iter().position(|n| n.id == id);
    let me = props.nodes.iter().position(|n| n.is_self);

    // The full mesh, faint; this node's own links stronger (its messages travel on them).
    let links = (0..count).flat_map(|a| (a + 1..count).map(move |b| (a, b))).map(|(a, b)| {
        let ((x1, y1), (x2, y2)) = (at(a), at(b));
        let mine = me == Some(a) || me == Some(b);
        let down = !props.nodes[a].reachable || !props.nodes[b].reachable;
        let class = classes!("link", mine.then_some("mine"), (mine && down).then_some("down"));
        html! { <line {class} x1={f(x1)} y1={f(y1)} x2={f(x2)} y2={f(y2)} /> }
    });

    let messages = props.in_flight.iter().filter_map(|m| {
        let ((x1, y1), (x2, y2)) = (at(slot_of(m.from)?), at(slot_of(m.to)?));
        let length = (x2 - x1).hypot(y2 - y1);
        if length <= 2.0 * r {
            return None;
        }
        // Travel from rim to rim, not centre to centre.
        let trim = r / length;
        let t = trim + (1.0 - 2.0 * trim) * m.progress.clamp(0.0, 1.0);
        let class = classes!("msg", kind_class(m.kind), m.reply.then_some("reply"));
        let title = format!("{}{}", kind_label(m.kind), if m.reply { " reply" } else { "" });
        Some(html! {
            <circle {class} cx={f(x1 + (x2 - x1) * t)} cy={f(y1 + (y2 - y1) * t)} r={f(MESSAGE_R)}>
                <title>{ title }</title>
            </circle>
        })
    });

    let nodes = props.nodes.iter().enumerate().map(|(slot, node)| {
        let (x, y) = at(slot);
        let timer = node.is_self.then_some(props.election_timer).flatten();
        let tally = node.is_self.then_some(props.vote_tally).flatten();
        node_glyph(node, x, y, r, timer, tally)
    });

    html! {
        <svg class="ring" viewBox={format!("0 0 {} {}", f(WIDTH), f(HEIGHT))} role="img"
             aria-label="Cluster ring: every node, its term and role, and messages in flight">
            <circle class="orbit" cx={f(CENTRE.0)} cy={f(CENTRE.1)} r={f(RADIUS)} />
            <g class="links">{ for links }</g>
            { centre_status(&props.nodes, props.vote_tally) }
            <g class="messages">{ for messages }</g>
            <g class="nodes">{ for nodes }</g>
        </svg>
    }
}

/// One node: body in its term colour with the term inside, crown, halo, timer arc, vote dots,
/// name and role badge.
fn node_glyph(
    node: &NodeView,
    x: f64,
    y: f64,
    r: f64,
    timer: Option<TimerView>,
    tally: Option<VoteTally>,
) -> Html {
    let class = classes!(
        "node",
        role_class(shown_role(node)),
        node.is_self.then_some("self"),
        node.is_leader.then_some("leader"),
        (!node.reachable).then_some("unreachable"),
        (!node.voter).then_some("non-voter"),
    );
    let title = format!(
        "{} · {} · term {}{}",
        node.name,
        role_label(shown_role(node)),
        node.term,
        if node.reachable { "" } else { " · unreachable" }
    );
    let timer = timer.map(|t| {
        let class = classes!("timer-arc", (t.elapsed >= TIMER_LATE).then_some("late"));
        html! {
            <g class="timer">
                <circle class="timer-track" r={f(r + 6.0)} />
                <path {class} d={arc_path(r + 6.0, t.elapsed)} />
            </g>
        }
    });
    let votes = tally.map(|t| vote_dots(t, r + 17.0));
    html! {
        <g {class} transform={format!("translate({} {})", f(x), f(y))} style={term_style(node.term)}
           data-node={node.id.to_string()}>
            <title>{ title }</title>
            if node.is_self { <circle class="halo" r={f(r + 11.0)} /> }
            { for timer }
            <circle class="body" r={f(r)} />
            <text class="term" dy="0.35em" font-size={f(r * 0.66)}>{ node.term }</text>
            if node.is_leader {
                <path class="crown" transform={format!("translate(0 {})", f(-r - 13.0))}
                      d="M -11 5 L -13 -6 L -5.5 -0.5 L 0 -9 L 5.5 -0.5 L 13 -6 L 11 5 Z" />
            }
            { for votes }
            <text class="name" y={f(r + 19.0)}>{ node.name.clone() }</text>
            <g class="badges" transform={format!("translate(0 {})", f(r + 34.0))}>
                { badges(node) }
            </g>
        </g>
    }
}

/// The role badge, and a `you` badge beside it on this tab's node; centred as a pair.
fn badges(node: &NodeView) -> Html {
    // Width from the text: the SVG has no layout, so estimate (the font is small and even).
    let width = |text: &str| text.len() as f64 * 6.2 + 12.0;
    let role = shown_role(node);
    let mut pills = vec![(role_label(role), classes!("badge", role_class(role)))];
    if node.is_self {
        pills.push(("you", classes!("badge", "badge-you")));
    }
    let total: f64 =
        pills.iter().map(|(t, _)| width(t)).sum::<f64>() + 4.0 * (pills.len() - 1) as f64;
    let mut x = -total / 2.0;
    let pills = pills.into_iter().map(|(text, class)| {
        let w = width(text);
        let pill = html! {
            <g {class} transform={format!("translate({} 0)", f(x + w / 2.0))}>
                <rect x={f(-w / 2.0)} y="-8" width={f(w)} height="16" rx="8" />
                <text dy="0.35em">{ text }</text>
            </g>
        };
        x += w + 4.0;
        pill
    });
    pills.collect::<Html>()
}

/// One dot per voter on an arc above the campaigning node: granted votes filled.
fn vote_dots(tally: VoteTally, radius: f64) -> Html {
    let voters = tally.voters.max(1);
    let spread = (voters as f64 * 0.32).min(PI * 0.9);
    let dots = (0..voters).map(|i| {
        let step = if voters > 1 { i as f64 / (voters - 1) as f64 } else { 0.5 };
        let angle = -FRAC_PI_2 - spread / 2.0 + spread * step;
        let class = classes!("vote", (i < tally.granted).then_some("granted"));
        html! { <circle {class} cx={f(radius * cos(angle))} cy={f(radius * sin(angle))} r="3.6" /> }
    });
    html! { <g class="votes">{ for dots }</g> }
}

/// Who leads, or how this node's campaign stands, in the middle of the ring.
fn centre_status(nodes: &[NodeView], tally: Option<VoteTally>) -> Html {
    let (cx, cy) = CENTRE;
    let me = nodes.iter().find(|n| n.is_self);
    let leader = nodes.iter().find(|n| n.is_leader);
    let (kicker, headline, detail, class) = match (tally, leader) {
        (Some(t), _) => (
            "election",
            format!("{} of {} votes", t.granted, t.needed),
            format!("term {} · {} voters", me.map_or(0, |m| m.term), t.voters),
            "centre campaigning",
        ),
        (None, Some(l)) => {
            // This tab follows that leader in its own current term; the leader's own entry may
            // still carry an older term from gossip.
            let term = me.map_or(l.term, |m| m.term.max(l.term));
            let reach = if l.reachable { "" } else { " · unreachable" };
            ("leader", l.name.clone(), format!("term {term}{reach}"), "centre led")
        }
        (None, None) if nodes.is_empty() => {
            ("cluster", "joining…".to_owned(), "finding the room".to_owned(), "centre")
        }
        (None, None) => {
            ("no leader", "waiting".to_owned(), "for an election".to_owned(), "centre leaderless")
        }
    };
    html! {
        <g {class} transform={format!("translate({} {})", f(cx), f(cy))}>
            <circle class="hub" r="62" />
            <text class="kicker" y="-18">{ kicker }</text>
            <text class="headline" y="4">{ headline }</text>
            <text class="detail" y="24">{ detail }</text>
        </g>
    }
}

/// The legend under the ring: message kinds that are drawn on it, and the reply convention.
fn ring_legend() -> Html {
    let drawn = KINDS.iter().copied().filter(|k| {
        matches!(
            k,
            MessageKind::Append
                | MessageKind::Heartbeat
                | MessageKind::Vote
                | MessageKind::PreVote
                | MessageKind::Snapshot
                | MessageKind::TimeoutNow
        )
    });
    html! {
        <ul class="legend">
            { for drawn.map(|k| html! {
                <li class={kind_class(k)}><i class="swatch" />{ kind_label(k) }</li>
            }) }
            <li class="kind-other"><i class="swatch hollow" />{ "reply" }</li>
        </ul>
    }
}

/// The ring in its panel, with the legend.
#[component]
pub fn RingPanel(props: &RingProps) -> Html {
    html! {
        <Panel title="Cluster" class="panel-ring" aside={html! {
            <span class="muted">{ format!("{} nodes", props.nodes.len()) }</span>
        }}>
            { ring(props) }
            { ring_legend() }
        </Panel>
    }
}

/// Coordinates with one decimal: enough for the screen, short in the DOM.
fn f(v: f64) -> String {
    fixed(v, 1)
}
