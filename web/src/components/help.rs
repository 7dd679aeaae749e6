//! The help overlay: keyboard shortcuts and how to read the pictures. `?` opens it; Escape, a
//! click outside or the close button shuts it.
use yew::prelude::*;

use super::paint::term_colour;

/// Every shortcut, as shown in the overlay (the handling is in [`super::shortcuts`]).
pub const SHORTCUTS: [(&str, &str); 4] = [
    ("space", "pause or resume this node"),
    ("a", "focus the append box"),
    ("?", "show or hide this help"),
    ("Esc", "close this help, or leave the append box"),
];

#[derive(Properties, PartialEq)]
pub struct HelpProps {
    pub open: bool,
    pub on_close: Callback<()>,
}

#[component]
pub fn Help(props: &HelpProps) -> Html {
    if !props.open {
        return Html::default();
    }
    let close = props.on_close.reform(|_: MouseEvent| ());
    // Clicks inside the card must not reach the backdrop, which closes.
    let keep = Callback::from(|e: MouseEvent| e.stop_propagation());
    html! {
        <div class="overlay" onclick={close.clone()}>
            <div class="help" role="dialog" aria-modal="true" aria-labelledby="help-title" onclick={keep}>
                <header>
                    <h2 id="help-title">{ "Keyboard & legend" }</h2>
                    <button class="icon-button" onclick={close} aria-label="Close">{ "×" }</button>
                </header>
                <table class="shortcuts">
                    { for SHORTCUTS.iter().map(|(key, what)| html! {
                        <tr><td><kbd>{ *key }</kbd></td><td>{ *what }</td></tr>
                    }) }
                </table>
                <h3>{ "Reading the cluster" }</h3>
                <ul class="help-notes">
                    <li>
                        <span class="term-strip">
                            { for (1..=6).map(|t| html! { <i style={format!("background:{}", term_colour(t))} /> }) }
                        </span>
                        { "Nodes and log cells take their term's colour." }
                    </li>
                    <li>{ "Solid cells are committed; dashed ones are not yet." }</li>
                    <li>{ "Dots on the links are messages in flight; hollow dots are replies." }</li>
                    <li>{ "The arc round this tab's node is its election timer; dots above a candidate are its votes." }</li>
                    <li>{ "Greyed nodes are unreachable from this tab." }</li>
                </ul>
            </div>
        </div>
    }
}
