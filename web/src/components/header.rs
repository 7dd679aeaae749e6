//! The top bar: the app's name, the room with a link to share it, this tab's node at a glance,
//! the paused/isolated warnings, and the help button.
use gloo::timers::callback::Timeout;
use yew::prelude::*;

use super::paint::{author_style, role_class, role_label, term_style};
use crate::view::NodeView;

/// How long "Copied" shows after copying the share link.
const COPIED_MS: u32 = 1_600;

#[derive(Properties, PartialEq)]
pub struct HeaderProps {
    pub room: AttrValue,
    pub share_url: AttrValue,
    /// This tab's node, once known.
    pub me: Option<NodeView>,
    #[prop_or_default]
    pub paused: bool,
    #[prop_or_default]
    pub isolated: bool,
    pub on_help: Callback<()>,
}

#[component]
pub fn Header(props: &HeaderProps) -> Html {
    let copied = use_state(|| false);
    let timeout = use_mut_ref(|| None::<Timeout>);
    let on_copy = {
        let url = props.share_url.to_string();
        let copied = copied.clone();
        Callback::from(move |e: MouseEvent| {
            // Without a clipboard (an insecure origin) the link itself still works.
            let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
                return;
            };
            e.prevent_default();
            let _promise = clipboard.write_text(&url);
            copied.set(true);
            let copied = copied.clone();
            *timeout.borrow_mut() = Some(Timeout::new(COPIED_MS, move || copied.set(false)));
        })
    };
    let on_help = props.on_help.reform(|_: MouseEvent| ());
    html! {
        <header class="topbar">
            <div class="brand">
                <svg class="logo" viewBox="0 0 32 32" aria-hidden="true">
                    <circle cx="16" cy="16" r="11" class="logo-orbit" />
                    <circle cx="16" cy="5" r="4" class="logo-lead" />
                    <circle cx="26.5" cy="20" r="3.2" /><circle cx="5.5" cy="20" r="3.2" />
                    <circle cx="16" cy="27" r="3.2" />
                </svg>
                <span class="brand-name">{ "Flotilla" }</span>
                <span class="brand-sub">{ "Raft across browser tabs" }</span>
            </div>
            <div class="room">
                <span class="room-label">{ "room" }</span>
                <span class="room-name">
                    { if props.room.is_empty() { "…".into() } else { props.room.clone() } }
                </span>
                <a class="share" href={props.share_url.clone()} onclick={on_copy}
                   title="Copy the link: every tab that opens it joins this cluster">
                    { if *copied { "Copied ✓" } else { "Copy invite link" } }
                </a>
            </div>
            <div class="me">
                if props.paused { <span class="flag flag-paused">{ "paused" }</span> }
                if props.isolated { <span class="flag flag-isolated">{ "isolated" }</span> }
                if let Some(me) = &props.me {
                    <span class="me-node" style={author_style(&me.colour)}>
                        <i class="dot" />{ me.name.clone() }
                    </span>
                    <span class={classes!("pill", role_class(me.role))}>{ role_label(me.role) }</span>
                    <span class="pill term-pill" style={term_style(me.term)}>{ format!("term {}", me.term) }</span>
                }
                <button class="icon-button" onclick={on_help} title="Keyboard shortcuts (?)"
                        aria-label="Keyboard shortcuts">{ "?" }</button>
            </div>
        </header>
    }
}
