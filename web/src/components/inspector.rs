//! The node inspector: this node's Raft state (term, vote, commit and applied index, log
//! bounds) and, when it leads, how far each peer's log has caught up.
use yew::prelude::*;

use super::paint::{name_of, role_class, role_label, term_style};
use super::panel::Panel;
use crate::view::{InspectorView, NodeView};

#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    pub inspector: InspectorView,
    /// For names (the vote, the peers) and this node's role.
    pub nodes: Vec<NodeView>,
}

#[component]
pub fn Inspector(props: &InspectorProps) -> Html {
    let i = &props.inspector;
    let nodes = &props.nodes;
    let me = nodes.iter().find(|n| n.is_self);
    let voted_for = i.voted_for.map_or_else(|| "nobody".to_owned(), |id| name_of(nodes, id));
    let fields: [(&str, String); 6] = [
        ("voted for", voted_for),
        ("commit", i.commit.to_string()),
        ("applied", i.applied.to_string()),
        ("last index", i.last_index.to_string()),
        ("snapshot", i.snapshot_index.to_string()),
        ("uncommitted", i.last_index.saturating_sub(i.commit).to_string()),
    ];
    let aside = html! {
        if let Some(me) = me {
            <span class={classes!("pill", role_class(me.role))}>{ role_label(me.role) }</span>
        }
    };
    html! {
        <Panel title="This node" class="panel-inspector" {aside}>
            <div class="inspector-top">
                <div class="term-chip" style={term_style(i.term)}>
                    <span class="term-chip-label">{ "term" }</span>
                    <span class="term-chip-value">{ i.term }</span>
                </div>
                <dl class="facts">
                    { for fields.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
                </dl>
            </div>
            if i.peers.is_empty() {
                <p class="empty-note">{ "Peer progress appears while this node leads." }</p>
            } else {
                <table class="table progress">
                    <thead><tr>
                        <th>{ "peer" }</th><th class="num">{ "match" }</th>
                        <th class="num">{ "next" }</th><th>{ "state" }</th><th>{ "behind" }</th>
                    </tr></thead>
                    <tbody>
                        { for i.peers.iter().map(|p| {
                            let behind = i.last_index.saturating_sub(p.match_index);
                            // The bar saturates at 20 entries behind: beyond that it is just "far".
                            let width = (behind.min(20) * 5).to_string();
                            html! {
                                <tr data-node={p.id.to_string()}>
                                    <td>{ name_of(nodes, p.id) }</td>
                                    <td class="num">{ p.match_index }</td>
                                    <td class="num">{ p.next_index }</td>
                                    <td><span class={classes!("pill", format!("state-{}", p.state))}>
                                        { p.state.clone() }
                                    </span></td>
                                    <td class="lag" title={format!("{behind} entries behind")}>
                                        <span class="lag-track">
                                            <span class="lag-bar" style={format!("width:{width}%")} />
                                        </span>
                                        <span class="lag-n">{ behind }</span>
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            }
        </Panel>
    }
}
