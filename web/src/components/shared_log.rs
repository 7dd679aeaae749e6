//! The shared collaborative log: what the cluster agreed on, as a chat everyone can write to.
//! Any tab can append (its leader, or the leader it forwards to, proposes it); an entry shows
//! its author tab's name and colour, stays greyed while provisional (proposed or seen but not
//! yet committed), and a proposal that was refused or failed shows its error above the list.
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::format::wall_clock;
use super::paint::author_style;
use super::panel::Panel;
use crate::view::{Command, EntryStatus, SharedEntryView};

/// The id of the append box, which the `a` shortcut focuses.
pub const APPEND_INPUT_ID: &str = "append-input";
/// Longest text one entry may carry: a log line, not a document.
pub const MAX_TEXT: usize = 280;
/// Entries drawn at most (the newest): enough to read back a conversation.
pub const SHOWN: usize = 300;
/// Entries drawn until the reader asks for older ones: a screenful and a few scrolls. Every
/// row drawn is laid out and painted again when a new post pushes the list down, in the frame
/// that a commit on this tab may be waiting behind; 300 rows made that frame tens of
/// milliseconds long.
pub const FIRST_SHOWN: usize = 40;
/// Errors shown at most (the newest): older ones are stale news.
pub const ERRORS_SHOWN: usize = 3;

#[derive(Properties, PartialEq)]
pub struct SharedLogProps {
    /// The newest entries, oldest first as in the log; drawn newest first.
    pub entries: Vec<SharedEntryView>,
    /// How many entries the log holds in all, when `entries` is only its newest part.
    #[prop_or_default]
    pub total: usize,
    /// Refused or failed proposals, newest last.
    #[prop_or_default]
    pub errors: Vec<String>,
    pub on_command: Callback<Command>,
}

#[component]
pub fn SharedLog(props: &SharedLogProps) -> Html {
    let draft = use_state(String::new);
    let shown = use_state(|| FIRST_SHOWN);
    let show_older = {
        let shown = shown.clone();
        Callback::from(move |_: MouseEvent| shown.set(SHOWN))
    };
    let older = props.entries.len().saturating_sub(*shown);
    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            draft.set(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let onsubmit = {
        let draft = draft.clone();
        let on_command = props.on_command.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = draft.trim();
            if !text.is_empty() {
                on_command.emit(Command::Append(text.to_owned()));
                draft.set(String::new());
            }
        })
    };
    let provisional = props.entries.iter().filter(|e| e.status == EntryStatus::Provisional).count();
    let aside = html! {
        <span class="muted">
            { format!("{} entries", props.total.max(props.entries.len())) }
            if provisional > 0 { { format!(" · {provisional} pending") } }
        </span>
    };
    html! {
        <Panel title="Shared log" class="panel-shared" {aside}>
            <form class="append" {onsubmit}>
                <input id={APPEND_INPUT_ID} type="text" value={(*draft).clone()} {oninput}
                       maxlength={MAX_TEXT.to_string()} autocomplete="off"
                       placeholder="Write to the shared log…" aria-label="Text to append" />
                <button type="submit" class="primary" disabled={draft.trim().is_empty()}>
                    { "Append" }
                </button>
            </form>
            if !props.errors.is_empty() {
                <ul class="errors" role="alert">
                    { for props.errors.iter().rev().take(ERRORS_SHOWN).map(|e| html! {
                        <li class="error">{ e.clone() }</li>
                    }) }
                </ul>
            }
            if props.entries.is_empty() {
                <p class="empty-note">
                    { "Nothing yet. Say hello: every tab shows it once a majority has stored it." }
                </p>
            } else {
                <ol class="entries">
                    // A fragment of its own: beside the button, the entries would be flattened
                    // into one list with it, which Yew then diffs by position, not by key (every
                    // entry drawn anew when a post arrives).
                    <>{ for keyed(&props.entries).take(*shown).map(|(key, e)| entry(key, e)) }</>
                    if older > 0 {
                        <li class="entries-older">
                            <button type="button" onclick={show_older}>
                                { format!("Show {older} older") }
                            </button>
                        </li>
                    }
                </ol>
            }
        </Panel>
    }
}

/// The entries newest first, each with a key that stays with it from view to view: a new
/// post then inserts one row instead of rewriting every row below it (unkeyed, the newest-first
/// list shifted all of them, a DOM update per row per new post). An entry is keyed by its log
/// index once known, before that by its rank among the entries without one.
fn keyed(entries: &[SharedEntryView]) -> impl Iterator<Item = (String, &SharedEntryView)> {
    let mut unindexed = 0;
    entries.iter().rev().map(move |e| match e.index {
        Some(index) => (index.to_string(), e),
        None => {
            unindexed += 1;
            (format!("p{unindexed}"), e)
        }
    })
}

fn entry(key: String, entry: &SharedEntryView) -> Html {
    let provisional = entry.status == EntryStatus::Provisional;
    let class = classes!("entry", if provisional { "provisional" } else { "committed" });
    let index = entry.index.map_or_else(|| "·".to_owned(), |i| format!("#{i}"));
    html! {
        <li {key} {class} style={author_style(&entry.author_colour)}>
            <span class="entry-index">{ index }</span>
            <span class="entry-main">
                <span class="entry-meta">
                    <span class="author"><i class="dot" />{ entry.author.clone() }</span>
                    <time>{ wall_clock(entry.at) }</time>
                    if provisional { <span class="tag">{ "pending" }</span> }
                </span>
                <span class="entry-text">{ entry.text.clone() }</span>
            </span>
        </li>
    }
}
