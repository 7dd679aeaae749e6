//! The event timeline: elections (with how long the cluster went without a leader), leader
//! changes, joins, leaves, snapshots and errors, newest first, stamped with the page clock.
use yew::prelude::*;

use super::format::page_clock;
use super::paint::{timeline_class, timeline_label};
use super::panel::Panel;
use crate::view::TimelineEvent;

/// Events drawn at most: the rest of a long session is history nobody scrolls to.
pub const SHOWN: usize = 200;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    /// Oldest first; the newest [`SHOWN`] are drawn.
    pub events: Vec<TimelineEvent>,
}

#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let events = props.events.iter().rev().take(SHOWN).map(|event| {
        html! {
            <li class={classes!("event", timeline_class(event.kind))}>
                <time>{ page_clock(event.at) }</time>
                <span class="event-kind">{ timeline_label(event.kind) }</span>
                <span class="event-text">{ event.text.clone() }</span>
            </li>
        }
    });
    html! {
        <Panel title="Timeline" class="panel-timeline"
               aside={html! { <span class="muted">{ "since this tab opened" }</span> }}>
            if props.events.is_empty() {
                <p class="empty-note">{ "Elections, leader changes, joins and leaves appear here." }</p>
            } else {
                <ol class="timeline">{ for events }</ol>
            }
        </Panel>
    }
}
