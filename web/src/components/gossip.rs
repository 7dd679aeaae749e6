//! The cluster-wide table from the gossip layer: what every tab last said about itself, first
//! or second hand. It needs no leader, so it stays live through elections and partitions, when
//! the Raft views have the least to say.
use yew::prelude::*;

use super::format::duration;
use super::paint::{author_style, term_style};
use super::panel::Panel;
use crate::view::GossipRow;

/// Rows not heard of for this long are drawn stale.
const STALE_MS: f64 = 3_000.0;

#[derive(Properties, PartialEq)]
pub struct GossipProps {
    pub rows: Vec<GossipRow>,
}

#[component]
pub fn GossipTable(props: &GossipProps) -> Html {
    let name = |id| {
        props.rows.iter().find(|r| r.id == id).map_or_else(|| format!("#{id}"), |r| r.name.clone())
    };
    let rows = props.rows.iter().map(|row| {
        let class = classes!(
            row.departed.then_some("departed"),
            (!row.departed && row.heard_ms_ago > STALE_MS).then_some("stale"),
        );
        html! {
            <tr {class} data-node={row.id.to_string()}>
                <td class="who" style={author_style(&row.colour)}><i class="dot" />{ row.name.clone() }</td>
                <td>{ if row.departed { "departed".to_owned() } else { row.role.clone() } }</td>
                <td class="num"><span class="term-dot" style={term_style(row.term)} />{ row.term }</td>
                <td>{ row.leader.map(name).unwrap_or_else(|| "–".to_owned()) }</td>
                <td class="num">{ row.commit }</td>
                <td class="num">{ row.applied }</td>
                <td class="num">{ row.last_index }</td>
                <td class="num">{ duration(row.heard_ms_ago) }</td>
            </tr>
        }
    });
    html! {
        <Panel title="Cluster (gossip)" class="panel-gossip"
               aside={html! { <span class="muted">{ "live without a leader" }</span> }}>
            if props.rows.is_empty() {
                <p class="empty-note">{ "No gossip yet: other tabs appear here as they connect." }</p>
            } else {
                <div class="table-wrap">
                    <table class="table gossip">
                        <thead><tr>
                            <th>{ "node" }</th><th>{ "role" }</th><th class="num">{ "term" }</th>
                            <th>{ "leader" }</th><th class="num">{ "commit" }</th>
                            <th class="num">{ "applied" }</th><th class="num">{ "last" }</th>
                            <th class="num">{ "heard" }</th>
                        </tr></thead>
                        <tbody>{ for rows }</tbody>
                    </table>
                </div>
            }
        </Panel>
    }
}
