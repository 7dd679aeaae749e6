//! Controls: everything the UI can ask of this tab's node, grouped by what it acts on. Each
//! control only emits a [`Command`]; what the runtime makes of it shows up in the other views.
//!
//! Settings are edited as drafts and sent with an explicit Apply, so that typing `1` on the way
//! to `150` never reaches a live node.
use flotilla_core::NodeId;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::panel::Panel;
use crate::view::{Command, ControlsView, NodeView};

/// The burst size offered at first.
const DEFAULT_BURST: u32 = 20;
/// Bursts are capped so that a slip of the finger does not flood the cluster.
pub const MAX_BURST: u32 = 1_000;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub controls: ControlsView,
    pub nodes: Vec<NodeView>,
    pub on_command: Callback<Command>,
}

/// The timing fields as typed, before they are applied.
#[derive(Clone, PartialEq)]
struct TimingDraft {
    min: String,
    max: String,
    heartbeat: String,
}

impl TimingDraft {
    fn of(c: &ControlsView) -> Self {
        TimingDraft {
            min: c.election_timeout_min_ms.to_string(),
            max: c.election_timeout_max_ms.to_string(),
            heartbeat: c.heartbeat_ms.to_string(),
        }
    }

    /// The command this draft asks for, or why it cannot be sent.
    fn command(&self) -> Result<Command, &'static str> {
        let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| "whole milliseconds only");
        let (min, max, heartbeat) = (parse(&self.min)?, parse(&self.max)?, parse(&self.heartbeat)?);
        if heartbeat == 0 || min == 0 {
            return Err("timings must be above 0");
        }
        if max <= min {
            return Err("the timeout range needs max > min");
        }
        if heartbeat >= min {
            return Err("heartbeats must be more frequent than the shortest timeout");
        }
        Ok(Command::SetTimings {
            election_timeout_min_ms: min,
            election_timeout_max_ms: max,
            heartbeat_ms: heartbeat,
        })
    }
}

/// Seconds as typed (`10`, `2.5`) to whole milliseconds; at least 500 ms, below which a slow
/// tab would be removed on every hiccup.
fn dead_after_ms(text: &str) -> Option<u64> {
    let seconds = super::format::parse_f64(text.trim())?;
    (0.5..=3_600.0).contains(&seconds).then(|| (seconds * 1_000.0).round() as u64)
}

/// A labelled number box whose every edit goes to `oninput` as text.
fn number_field(
    label: &'static str,
    unit: &'static str,
    value: String,
    oninput: Callback<String>,
) -> Html {
    let oninput =
        oninput.reform(|e: InputEvent| e.target_unchecked_into::<HtmlInputElement>().value());
    html! {
        <label class="field">
            <span class="field-label">{ label }</span>
            <span class="field-input">
                <input type="number" inputmode="decimal" min="0" {value} {oninput} />
                <span class="unit">{ unit }</span>
            </span>
        </label>
    }
}

#[component]
pub fn Controls(props: &ControlsProps) -> Html {
    let c = &props.controls;
    let emit = |command: Command| {
        let on_command = props.on_command.clone();
        Callback::from(move |_: MouseEvent| on_command.emit(command.clone()))
    };
    let leading = props.nodes.iter().any(|n| n.is_self && n.is_leader);

    // Burst.
    let burst = use_state(|| DEFAULT_BURST.to_string());
    let burst_n = burst.trim().parse::<u32>().ok().filter(|n| (1..=MAX_BURST).contains(n));
    let on_burst_input = {
        let burst = burst.clone();
        Callback::from(move |text| burst.set(text))
    };

    // Leadership transfer: any other reachable voter.
    let candidates: Vec<&NodeView> =
        props.nodes.iter().filter(|n| !n.is_self && n.voter && n.reachable).collect();
    let target = use_state(|| None::<NodeId>);
    let chosen = target
        .filter(|id| candidates.iter().any(|n| n.id == *id))
        .or(candidates.first().map(|n| n.id));
    let on_target = {
        let target = target.clone();
        Callback::from(move |e: Event| {
            target.set(e.target_unchecked_into::<HtmlSelectElement>().value().parse().ok())
        })
    };

    // Wipe needs a second click.
    let wipe_armed = use_state(|| false);
    let on_wipe = {
        let wipe_armed = wipe_armed.clone();
        let on_command = props.on_command.clone();
        Callback::from(move |_: MouseEvent| {
            if *wipe_armed {
                on_command.emit(Command::WipeAndReload);
            }
            wipe_armed.set(!*wipe_armed);
        })
    };
    let on_wipe_cancel = {
        let wipe_armed = wipe_armed.clone();
        Callback::from(move |_: MouseEvent| wipe_armed.set(false))
    };

    // Timings and dead_after, as drafts over the live values.
    let timing = use_state(|| None::<TimingDraft>);
    let shown = (*timing).clone().unwrap_or_else(|| TimingDraft::of(c));
    let timing_field = |pick: fn(&mut TimingDraft) -> &mut String| {
        let timing = timing.clone();
        let base = shown.clone();
        Callback::from(move |text: String| {
            let mut draft = (*timing).clone().unwrap_or_else(|| base.clone());
            *pick(&mut draft) = text;
            timing.set(Some(draft));
        })
    };
    let timing_result = shown.command();
    let on_timing_apply = {
        let timing = timing.clone();
        let on_command = props.on_command.clone();
        let result = timing_result.clone();
        Callback::from(move |_: MouseEvent| {
            if let Ok(command) = &result {
                on_command.emit(command.clone());
                timing.set(None);
            }
        })
    };
    let dead = use_state(|| None::<String>);
    let dead_text = (*dead).clone().unwrap_or_else(|| super::format::seconds(c.dead_after_ms));
    let dead_ms = dead_after_ms(&dead_text);
    let on_dead_input = {
        let dead = dead.clone();
        Callback::from(move |text| dead.set(Some(text)))
    };
    let on_dead_apply = {
        let dead = dead.clone();
        let on_command = props.on_command.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(ms) = dead_ms {
                on_command.emit(Command::SetDeadAfter(ms));
                dead.set(None);
            }
        })
    };

    html! {
        <Panel title="Controls" class="panel-controls">
            <div class="control-group">
                <h3>{ "This node" }</h3>
                <div class="buttons">
                    <button class={classes!("toggle", c.paused.then_some("on"))} id="pause"
                            onclick={emit(Command::SetPaused(!c.paused))}
                            title="Stop ticking and processing, like a frozen process (space)">
                        { if c.paused { "Resume" } else { "Pause" } }<kbd>{ "space" }</kbd>
                    </button>
                    <button class={classes!("toggle", c.isolated.then_some("on"))} id="isolate"
                            onclick={emit(Command::SetIsolated(!c.isolated))}
                            title="Drop this tab's Raft traffic, like a network partition">
                        { if c.isolated { "Heal" } else { "Isolate" } }
                    </button>
                    <button onclick={emit(Command::CompactNow)} title="Snapshot the state and trim the log">
                        { "Compact now" }
                    </button>
                </div>
            </div>
            <div class="control-group">
                <h3>{ "Load" }</h3>
                <div class="inline">
                    { number_field("burst", "entries", (*burst).clone(), on_burst_input) }
                    <button disabled={burst_n.is_none()}
                            onclick={emit(Command::Burst(burst_n.unwrap_or(DEFAULT_BURST)))}>
                        { format!("Append ×{}", burst_n.map_or_else(|| "?".to_owned(), |n| n.to_string())) }
                    </button>
                </div>
            </div>
            <div class="control-group">
                <h3>{ "Leadership" }</h3>
                <div class="inline">
                    <select aria-label="Transfer leadership to" onchange={on_target} disabled={candidates.is_empty()}>
                        { for candidates.iter().map(|n| html! {
                            <option value={n.id.to_string()} selected={chosen == Some(n.id)}>{ n.name.clone() }</option>
                        }) }
                        if candidates.is_empty() { <option>{ "no other voter" }</option> }
                    </select>
                    <button disabled={!leading || chosen.is_none()}
                            onclick={emit(chosen.map_or(Command::StepDown, Command::TransferLeadership))}>
                        { "Transfer" }
                    </button>
                    <button disabled={!leading} onclick={emit(Command::StepDown)}>{ "Step down" }</button>
                </div>
                if !leading { <p class="hint">{ "Only the leader can hand over leadership." }</p> }
            </div>
            <div class="control-group">
                <h3>{ "Timing" }</h3>
                <div class="fields">
                    { number_field("election min", "ms", shown.min.clone(), timing_field(|d| &mut d.min)) }
                    { number_field("election max", "ms", shown.max.clone(), timing_field(|d| &mut d.max)) }
                    { number_field("heartbeat", "ms", shown.heartbeat.clone(), timing_field(|d| &mut d.heartbeat)) }
                </div>
                <div class="inline">
                    <button disabled={timing_result.is_err() || timing.is_none()} onclick={on_timing_apply}>
                        { "Apply timings" }
                    </button>
                    // Only about what the reader typed, not about values before the first view.
                    if let (Err(why), true) = (timing_result, timing.is_some()) {
                        <span class="hint error-text">{ why }</span>
                    }
                </div>
                <div class="inline">
                    { number_field("remove dead tabs after", "s", dead_text, on_dead_input) }
                    <button disabled={dead_ms.is_none() || dead.is_none()} onclick={on_dead_apply}>
                        { "Apply" }
                    </button>
                </div>
            </div>
            <div class="control-group danger-zone">
                <h3>{ "Danger" }</h3>
                <div class="inline">
                    <button class={classes!("danger", wipe_armed.then_some("armed"))} onclick={on_wipe}
                            title="Forget this tab's term, vote and log, then reload: a disk failure">
                        { if *wipe_armed { "Click again to wipe" } else { "Wipe state & reload" } }
                    </button>
                    if *wipe_armed { <button onclick={on_wipe_cancel}>{ "Cancel" }</button> }
                </div>
            </div>
        </Panel>
    }
}
