//! The log grid: one row per node, one cell per log index, each cell in its entry's term colour;
//! committed entries solid, uncommitted ones dashed. When this tab leads, each follower's
//! `nextIndex` (the slot the leader sends next, ringed, or an arrow past the end of the log) and
//! `matchIndex` (a bar under the last cell known to match) are marked, as in RaftScope.
//!
//! The grid shows a window of the newest entries (`first_index` on). It scrolls sideways on
//! narrow screens and stays pinned to the newest entry unless the reader scrolled back.
use std::cell::RefCell;
use std::rc::Rc;

use gloo::events::EventListener;
use yew::prelude::*;

use super::paint::{author_style, name_of, term_style};
use super::panel::Panel;
use crate::view::{LogGridView, LogRowView, NodeView};

/// Index labels are shown on every fifth column.
const LABEL_EVERY: u64 = 5;

#[derive(Properties, PartialEq)]
pub struct LogGridProps {
    pub grid: LogGridView,
    /// For row labels: names, author colours, who leads and which row is this tab.
    pub nodes: Vec<NodeView>,
}

/// How many columns the grid needs: the longest log, or a `nextIndex` just past it.
fn columns(grid: &LogGridView) -> u64 {
    grid.rows
        .iter()
        .map(|row| {
            let past_next = row.next_index.map_or(0, |n| (n + 1).saturating_sub(grid.first_index));
            (row.terms.len() as u64).max(past_next)
        })
        .max()
        .unwrap_or(0)
        .max(1)
}

#[component]
pub fn LogGrid(props: &LogGridProps) -> Html {
    let grid = &props.grid;
    let columns = columns(grid);
    let first = grid.first_index;

    // Pinned to the newest entry until the reader scrolls back; pinned again once they return.
    let scroller = use_node_ref();
    let pinned = use_mut_ref(|| true);
    {
        let scroller = scroller.clone();
        let pinned = pinned.clone();
        // Only when the grid widens: reading `scrollWidth` forces a layout, and once the grid
        // has its full width every new entry only shifts the window, so a pinned grid stays
        // pinned (it cost 6-14% of a busy leader's main thread when done on every view).
        use_effect_with(columns, move |_| pin(&scroller, &pinned));
    }
    {
        // A narrower window shows fewer columns: keep the newest in view then too.
        let scroller = scroller.clone();
        let pinned = pinned.clone();
        use_effect_with((), move |_| {
            let listener = web_sys::window().map(|window| {
                EventListener::new(&window, "resize", move |_| pin(&scroller, &pinned))
            });
            move || drop(listener)
        });
    }
    let onscroll = {
        let scroller = scroller.clone();
        Callback::from(move |_: Event| {
            if let Some(el) = scroller.cast::<web_sys::Element>() {
                *pinned.borrow_mut() =
                    el.scroll_left() + el.client_width() >= el.scroll_width() - 4;
            }
        })
    };

    let labels = grid.rows.iter().map(|row| row_label(row, &props.nodes));
    // Header labels and cells are keyed by their log index: as the window slides one entry
    // on, Yew drops the oldest column and adds the newest, and every other element keeps its
    // classes and style. Unkeyed, every cell took its right neighbour's term, class and title:
    // a style recalculation of the whole grid per view.
    let header = (first..first + columns).map(|index| {
        html! { <span key={index} class="lg-index">{ if index % LABEL_EVERY == 0 { index.to_string() } else { String::new() } }</span> }
    });
    let rows = grid.rows.iter().map(|row| {
        html! {
            <div class="lg-row" data-node={row.node.to_string()}>
                { for (first..first + columns).map(|index| cell(row, first, index)) }
            </div>
        }
    });

    html! {
        <div class="log-grid" style={format!("--cols:{columns}")}>
            <div class="lg-labels">
                <div class="lg-head" />
                { for labels }
            </div>
            <div class="lg-scroll" ref={scroller} {onscroll}>
                <div class="lg-cells">
                    <div class="lg-head">{ for header }</div>
                    { for rows }
                </div>
            </div>
        </div>
    }
}

/// Scrolls the grid to its newest entry, unless the reader scrolled back.
fn pin(scroller: &NodeRef, pinned: &Rc<RefCell<bool>>) {
    if let Some(el) = scroller.cast::<web_sys::Element>() {
        if *pinned.borrow() {
            el.set_scroll_left(el.scroll_width());
        }
    }
}

fn row_label(row: &LogRowView, nodes: &[NodeView]) -> Html {
    let node = nodes.iter().find(|n| n.id == row.node);
    let class = classes!(
        "lg-label",
        node.is_some_and(|n| n.is_self).then_some("self"),
        node.is_some_and(|n| n.is_leader).then_some("leader"),
        node.is_some_and(|n| !n.reachable).then_some("unreachable"),
    );
    let colour = node.map_or("", |n| n.colour.as_str());
    html! {
        <div {class} style={author_style(colour)} title={format!("commit {}", row.commit)}>
            <i class="dot" />
            <span class="lg-name">{ name_of(nodes, row.node) }</span>
            if node.is_some_and(|n| n.is_self) { <span class="pill lg-you">{ "you" }</span> }
        </div>
    }
}

/// The cell at `index` of `row`: an entry (solid when committed, dashed when not), or an empty
/// slot past the end of this node's log; either may carry the next/match markers.
fn cell(row: &LogRowView, first: u64, index: u64) -> Html {
    let term = usize::try_from(index - first).ok().and_then(|i| row.terms.get(i)).copied();
    let marks = (
        (row.next_index == Some(index)).then_some("next"),
        (row.match_index == Some(index)).then_some("match"),
    );
    match term {
        Some(term) => {
            let committed = index <= row.commit;
            let class = classes!(
                "cell",
                if committed { "committed" } else { "uncommitted" },
                marks.0,
                marks.1
            );
            let title = format!(
                "index {index} · term {term} · {}",
                if committed { "committed" } else { "not committed" }
            );
            html! {
                <span key={index} {class} style={term_style(term)} data-index={index.to_string()} {title}>
                    { term }
                </span>
            }
        }
        None => html! {
            <span key={index} class={classes!("cell", "empty", marks.0, marks.1)} data-index={index.to_string()} />
        },
    }
}

/// The grid in its panel, with the marker legend.
#[component]
pub fn LogGridPanel(props: &LogGridProps) -> Html {
    let markers = props.grid.rows.iter().any(|r| r.next_index.is_some() || r.match_index.is_some());
    let aside = html! {
        <ul class="legend compact">
            <li><i class="swatch cell-solid" />{ "committed" }</li>
            <li><i class="swatch cell-dashed" />{ "uncommitted" }</li>
            if markers {
                <li><i class="swatch marker-next" />{ "next" }</li>
                <li><i class="swatch marker-match" />{ "match" }</li>
            }
        </ul>
    };
    html! {
        <Panel title="Replicated log" class="panel-grid" {aside}>
            if props.grid.rows.is_empty() {
                <p class="empty-note">{ "Each node's log appears here once this tab has joined." }</p>
            } else {
                <LogGrid grid={props.grid.clone()} nodes={props.nodes.clone()} />
            }
        </Panel>
    }
}
