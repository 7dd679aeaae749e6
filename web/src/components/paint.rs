//! Colours and labels shared by every component, so that a term, a role or a message kind looks
//! the same on the ring, in the log grid, in the legends and in the tables.
//!
//! Term colours live here (a term is a number only known at run time); message-kind and role
//! colours live in the style sheet (`web/style.css`) behind the class names given here.
use flotilla_core::NodeId;

use crate::view::{MessageKind, NodeView, RoleView, TimelineKind};

/// Term colours, ordered so that consecutive terms (the ones seen side by side after an
/// election) differ in hue and lightness; vivid enough for the dark background, light enough for
/// dark digits on top.
pub const TERM_PALETTE: [&str; 10] = [
    "#5b9cf5", // blue
    "#f3a93c", // amber
    "#4fc88d", // green
    "#ee6b7c", // rose
    "#a98bf5", // violet
    "#3fc5d0", // cyan
    "#f08a4b", // orange
    "#c6d052", // lime
    "#e07fd0", // orchid
    "#8fb0d6", // steel
];

/// Term 0 (before any election) is neutral grey.
pub const TERM_ZERO: &str = "#6b768c";

/// A fallback for author colours that are missing or not a plain colour.
pub const NEUTRAL: &str = "#8793a8";

pub fn term_colour(term: u64) -> &'static str {
    match term {
        0 => TERM_ZERO,
        t => TERM_PALETTE[((t - 1) % TERM_PALETTE.len() as u64) as usize],
    }
}

/// `--term: <colour>`, the custom property the style sheet paints terms with.
pub fn term_style(term: u64) -> String {
    format!("--term:{}", term_colour(term))
}

/// `--c: <colour>` for a colour chosen by some tab, which arrives from other tabs over the
/// network: only `#hex`, `rgb(...)`/`hsl(...)` with plain numbers and named colours get into a
/// style attribute; anything else (a `url(...)`, a `;` that starts another declaration) is
/// replaced by a neutral grey.
pub fn author_style(colour: &str) -> String {
    format!("--c:{}", safe_colour(colour))
}

pub fn safe_colour(colour: &str) -> &str {
    let colour = colour.trim();
    let hex = colour.strip_prefix('#').is_some_and(|h| {
        matches!(h.len(), 3 | 4 | 6 | 8) && h.chars().all(|c| c.is_ascii_hexdigit())
    });
    let functional = ["rgb(", "rgba(", "hsl(", "hsla("].iter().any(|f| colour.starts_with(f))
        && colour.ends_with(')')
        && colour.len() <= 48
        && colour.chars().filter(|&c| c == '(' || c == ')').count() == 2
        && colour.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '(' | ')' | ',' | '.' | '%' | ' ' | '/')
        });
    // A named colour (`tomato`) is letters only, which cannot break out of the declaration.
    let named =
        !colour.is_empty() && colour.len() <= 24 && colour.chars().all(|c| c.is_ascii_alphabetic());
    if hex || functional || named {
        colour
    } else {
        NEUTRAL
    }
}

/// The role to draw for a node. The leader mark is this tab's own knowledge (it heard from that
/// leader in its current term) while a peer's role may come from older gossip, so when the two
/// disagree the mark wins: a crowned node is never badged "candidate".
pub fn shown_role(node: &NodeView) -> RoleView {
    if node.is_leader {
        RoleView::Leader
    } else {
        node.role
    }
}

pub fn role_label(role: RoleView) -> &'static str {
    match role {
        RoleView::Follower => "follower",
        RoleView::PreCandidate => "pre-candidate",
        RoleView::Candidate => "candidate",
        RoleView::Leader => "leader",
        RoleView::Learner => "learner",
        RoleView::Unknown => "unknown",
    }
}

/// The class the style sheet colours role badges by.
pub fn role_class(role: RoleView) -> &'static str {
    match role {
        RoleView::Follower => "role-follower",
        RoleView::PreCandidate => "role-precandidate",
        RoleView::Candidate => "role-candidate",
        RoleView::Leader => "role-leader",
        RoleView::Learner => "role-learner",
        RoleView::Unknown => "role-unknown",
    }
}

/// The message kinds in legend order: the Raft RPCs first, then the rest.
pub const KINDS: [MessageKind; 10] = [
    MessageKind::Append,
    MessageKind::Heartbeat,
    MessageKind::Vote,
    MessageKind::PreVote,
    MessageKind::Snapshot,
    MessageKind::TimeoutNow,
    MessageKind::Proposal,
    MessageKind::Read,
    MessageKind::Gossip,
    MessageKind::Other,
];

/// The class the style sheet colours a message kind by (`--kind`).
pub fn kind_class(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::PreVote => "kind-prevote",
        MessageKind::Vote => "kind-vote",
        MessageKind::Append => "kind-append",
        MessageKind::Heartbeat => "kind-heartbeat",
        MessageKind::Snapshot => "kind-snapshot",
        MessageKind::Proposal => "kind-proposal",
        MessageKind::Read => "kind-read",
        MessageKind::TimeoutNow => "kind-timeoutnow",
        MessageKind::Gossip => "kind-gossip",
        MessageKind::Other => "kind-other",
    }
}

/// Short names, as in the Raft paper where there is one.
pub fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::PreVote => "PreVote",
        MessageKind::Vote => "RequestVote",
        MessageKind::Append => "AppendEntries",
        MessageKind::Heartbeat => "Heartbeat",
        MessageKind::Snapshot => "InstallSnapshot",
        MessageKind::Proposal => "Proposal",
        MessageKind::Read => "ReadIndex",
        MessageKind::TimeoutNow => "TimeoutNow",
        MessageKind::Gossip => "Gossip",
        MessageKind::Other => "Other",
    }
}

pub fn timeline_class(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::Election => "ev-election",
        TimelineKind::LeaderChange => "ev-leader",
        TimelineKind::Join => "ev-join",
        TimelineKind::Leave => "ev-leave",
        TimelineKind::Snapshot => "ev-snapshot",
        TimelineKind::Error => "ev-error",
        TimelineKind::Info => "ev-info",
    }
}

pub fn timeline_label(kind: TimelineKind) -> &'static str {
    match kind {
        TimelineKind::Election => "election",
        TimelineKind::LeaderChange => "leader",
        TimelineKind::Join => "join",
        TimelineKind::Leave => "leave",
        TimelineKind::Snapshot => "snapshot",
        TimelineKind::Error => "error",
        TimelineKind::Info => "info",
    }
}

/// A node's display name, or `#id` for a node the view has no row for (a vote for a tab that
/// has since gone, a peer known only by id).
pub fn name_of(nodes: &[NodeView], id: NodeId) -> String {
    nodes.iter().find(|n| n.id == id).map_or_else(|| format!("#{id}"), |n| n.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_terms_differ() {
        for t in 1..40 {
            assert_ne!(term_colour(t), term_colour(t + 1));
        }
        assert_eq!(term_colour(0), TERM_ZERO);
    }

    #[test]
    fn the_leader_mark_wins_over_a_stale_role() {
        let mut node = NodeView {
            id: 1,
            name: "Juno 1".to_owned(),
            colour: String::new(),
            term: 3,
            role: RoleView::Candidate,
            is_self: false,
            is_leader: true,
            reachable: true,
            voter: true,
        };
        assert_eq!(shown_role(&node), RoleView::Leader);
        node.is_leader = false;
        assert_eq!(shown_role(&node), RoleView::Candidate);
    }

    #[test]
    fn only_plain_colours_reach_a_style_attribute() {
        for ok in
            ["tomato", "#abc", "#A1B2C3", "#a1b2c3d4", "hsl(210, 80%, 60%)", "rgb(1 2 3 / 50%)"]
        {
            assert_eq!(safe_colour(ok), ok);
        }
        for bad in ["red;background:url(x)", "url(http://x)", "#ggg", "hsl(1,2,3);x", "", "#12345"]
        {
            assert_eq!(safe_colour(bad), NEUTRAL, "{bad}");
        }
    }
}
