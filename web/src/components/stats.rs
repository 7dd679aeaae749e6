//! Live stats: commits per second, commit latency (p50 and p99), and messages per second by
//! kind as bars in the kinds' ring colours.
use yew::prelude::*;

use super::format::{duration, fixed, quantity};
use super::paint::{kind_class, kind_label};
use super::panel::Panel;
use crate::view::StatsView;

#[derive(Properties, PartialEq)]
pub struct StatsProps {
    pub stats: StatsView,
}

#[component]
pub fn Stats(props: &StatsProps) -> Html {
    let s = &props.stats;
    // A latency of zero means nothing was committed to measure.
    let latency = |ms: f64| if ms > 0.0 { duration(ms) } else { "–".to_owned() };
    let figures = [
        ("commits/s", quantity(s.commits_per_s)),
        ("latency p50", latency(s.latency_p50_ms)),
        ("latency p99", latency(s.latency_p99_ms)),
    ];
    let mut kinds: Vec<_> = s.messages_per_s.iter().filter(|(_, rate)| *rate > 0.0).collect();
    // Busiest first, ties in their order: an insertion sort by hand, as `sort_by` would order
    // them. A slice sort is instantiated per element type and comparator, about 1 KB gzip of
    // the release bundle for this list of at most a dozen kinds.
    for i in 1..kinds.len() {
        let mut j = i;
        while j > 0 && kinds[j - 1].1.total_cmp(&kinds[j].1).is_lt() {
            kinds.swap(j - 1, j);
            j -= 1;
        }
    }
    let top = kinds.first().map_or(1.0, |(_, rate)| *rate);
    let total: f64 = kinds.iter().map(|(_, rate)| rate).sum();
    html! {
        <Panel title="Live" class="panel-stats"
               aside={html! { <span class="muted">{ format!("{} msgs/s", quantity(total)) }</span> }}>
            <div class="figures">
                { for figures.into_iter().map(|(label, value)| html! {
                    <div class="figure"><span class="figure-value">{ value }</span>
                        <span class="figure-label">{ label }</span></div>
                }) }
            </div>
            <ul class="rates">
                { for kinds.iter().map(|(kind, rate)| html! {
                    <li class={kind_class(*kind)}>
                        <span class="rate-label">{ kind_label(*kind) }</span>
                        <span class="rate-bar"><i style={format!("width:{}%", fixed(rate / top * 100.0, 1))} /></span>
                        <span class="rate-value">{ quantity(*rate) }</span>
                    </li>
                }) }
            </ul>
        </Panel>
    }
}
