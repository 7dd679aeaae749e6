//! Keyboard shortcuts, in RaftScope's spirit: space pauses this node, `a` jumps to the append
//! box, `?` toggles the help overlay and Escape closes it. Keys typed into a text box, a select
//! or a content-editable element are theirs, never ours (Escape there leaves the box).
//!
//! Space pauses even while a button has the focus: after clicking "Append ×20" with the mouse,
//! the reader who presses space means "pause", not "twenty more". The button loses the focus
//! first, so the key's release does not press it as well.
use gloo::events::{EventListener, EventListenerOptions};
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, KeyboardEvent};
use yew::prelude::*;

use super::shared_log::APPEND_INPUT_ID;
use crate::view::Command;

/// What a key press asks for, once it is known to be ours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    TogglePause,
    FocusAppend,
    ToggleHelp,
    CloseHelp,
}

/// The shortcut for a key (`KeyboardEvent.key`), if any.
pub fn shortcut_for(key: &str) -> Option<Shortcut> {
    match key {
        " " | "Spacebar" => Some(Shortcut::TogglePause),
        "a" | "A" => Some(Shortcut::FocusAppend),
        "?" => Some(Shortcut::ToggleHelp),
        "Escape" | "Esc" => Some(Shortcut::CloseHelp),
        _ => None,
    }
}

/// The element that would receive the key, if it takes typing itself.
fn typing_target(event: &KeyboardEvent) -> Option<HtmlElement> {
    let element = event.target()?.dyn_into::<Element>().ok()?;
    let tag = element.tag_name().to_ascii_uppercase();
    let html = element.dyn_into::<HtmlElement>().ok()?;
    (matches!(tag.as_str(), "INPUT" | "TEXTAREA" | "SELECT") || html.is_content_editable())
        .then_some(html)
}

fn focus_append() {
    let input = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(APPEND_INPUT_ID))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok());
    if let Some(input) = input {
        let _ = input.focus();
    }
}

/// Listens for the shortcuts on the whole document while the calling component is mounted.
/// `paused` is the node's current state (space flips it); `help` is the overlay's open flag.
#[hook]
pub fn use_shortcuts(paused: bool, help: UseStateHandle<bool>, on_command: Callback<Command>) {
    let help_open = *help;
    use_effect_with((paused, help_open, on_command), move |(paused, help_open, on_command)| {
        let (paused, help_open, on_command) = (*paused, *help_open, on_command.clone());
        // Not passive: space must not scroll the page and `a` must not type an `a`.
        let options = EventListenerOptions::enable_prevent_default();
        let listener = web_sys::window().and_then(|w| w.document()).map(|document| {
            EventListener::new_with_options(&document, "keydown", options, move |event| {
                let Some(event) = event.dyn_ref::<KeyboardEvent>() else { return };
                if event.default_prevented()
                    || event.ctrl_key()
                    || event.meta_key()
                    || event.alt_key()
                {
                    return;
                }
                let Some(shortcut) = shortcut_for(&event.key()) else { return };
                if let Some(target) = typing_target(event) {
                    if shortcut == Shortcut::CloseHelp {
                        let _ = target.blur();
                    }
                    return;
                }
                match shortcut {
                    Shortcut::TogglePause => {
                        let focused = event.target().and_then(|t| t.dyn_into::<HtmlElement>().ok());
                        if let Some(focused) = focused {
                            let _ = focused.blur();
                        }
                        on_command.emit(Command::SetPaused(!paused));
                    }
                    Shortcut::FocusAppend => focus_append(),
                    Shortcut::ToggleHelp => help.set(!help_open),
                    Shortcut::CloseHelp if help_open => help.set(false),
                    Shortcut::CloseHelp => return,
                }
                event.prevent_default();
            })
        });
        move || drop(listener)
    });
}
