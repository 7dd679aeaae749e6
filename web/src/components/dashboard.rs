//! The whole page for one cluster view: the header, then the panels in a layout that puts the
//! ring, the log grid and the shared log in the first screen on a laptop, and stacks everything
//! in reading order on a phone. It owns the UI-only state (the help overlay) and the keyboard
//! shortcuts; everything else comes from the view and leaves as a [`Command`].
use std::rc::Rc;

use yew::prelude::*;

use super::controls::Controls;
use super::gossip::GossipTable;
use super::header::Header;
use super::help::Help;
use super::inspector::Inspector;
use super::log_grid::LogGridPanel;
use super::newest;
use super::ring::RingPanel;
use super::shared_log::{self, SharedLog};
use super::shortcuts::use_shortcuts;
use super::stats::Stats;
use super::timeline::{self, Timeline};
use crate::view::{ClusterView, Command};

#[derive(Properties, PartialEq)]
pub struct DashboardProps {
    pub view: Rc<ClusterView>,
    pub on_command: Callback<Command>,
}

#[component]
pub fn Dashboard(props: &DashboardProps) -> Html {
    let view = &props.view;
    let on_command = props.on_command.clone();
    let help = use_state(|| false);
    use_shortcuts(view.controls.paused, help.clone(), on_command.clone());
    let on_help = {
        let help = help.clone();
        Callback::from(move |()| help.set(!*help))
    };
    let on_close = {
        let help = help.clone();
        Callback::from(move |()| help.set(false))
    };
    let me = view.nodes.iter().find(|n| n.is_self).cloned();
    let class = classes!(
        "app",
        view.controls.paused.then_some("is-paused"),
        view.controls.isolated.then_some("is-isolated")
    );
    html! {
        <div {class}>
            <Header room={view.room.clone()} share_url={view.share_url.clone()} {me}
                    paused={view.controls.paused} isolated={view.controls.isolated} {on_help} />
            <main class="layout">
                <div class="col col-side">
                    <RingPanel nodes={view.nodes.clone()} in_flight={view.in_flight.clone()}
                               election_timer={view.election_timer} vote_tally={view.vote_tally} />
                    <Stats stats={view.stats.clone()} />
                    <Controls controls={view.controls.clone()} nodes={view.nodes.clone()}
                              on_command={on_command.clone()} />
                </div>
                <div class="col col-main">
                    // The first screen on a laptop: the grid, then the shared log and the timeline
                    // filling the rest of the window height.
                    <div class="screen">
                        <LogGridPanel grid={view.log_grid.clone()} nodes={view.nodes.clone()} />
                        <div class="pair pair-live">
                            <SharedLog entries={newest(&view.shared_log, shared_log::SHOWN)}
                                       total={view.shared_log.len()}
                                       errors={view.inspector.errors.clone()}
                                       on_command={on_command.clone()} />
                            <Timeline events={newest(&view.timeline, timeline::SHOWN)} />
                        </div>
                    </div>
                    <div class="pair">
                        <Inspector inspector={view.inspector.clone()} nodes={view.nodes.clone()} />
                        <GossipTable rows={view.gossip.clone()} />
                    </div>
                </div>
            </main>
            <Help open={*help} {on_close} />
        </div>
    }
}
