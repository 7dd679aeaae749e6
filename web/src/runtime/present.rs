//! Builds the [`ClusterView`] from the runtime: the node's own state first-hand, the other nodes
//! from gossip and the transport. Called at most once per animation frame.

use flotilla_core::gossip::{Key, OwnerView, Value};
use flotilla_core::{LogIndex, NodeId, Role};

use super::driver::{Driver, MEMBER_KEY};
use super::names::colour_for;
use super::settings::{LOG_GRID_COLUMNS, SHARED_LOG_ROWS, UNREACHABLE_AFTER_MS};
use crate::view::{
    ClusterView, ControlsView, EntryStatus, GossipRow, InspectorView, LogGridView, LogRowView,
    NodeView, PeerProgressView, RoleView, SharedEntryView, TimerView, VoteTally,
};

fn text<'a>(owner: &OwnerView<'a>, key: &Key) -> Option<&'a str> {
    match owner.get(key) {
        Some(Value::Text(text)) => Some(text),
        _ => None,
    }
}

fn number(owner: &OwnerView<'_>, key: &Key) -> u64 {
    match owner.get(key) {
        Some(Value::Uint(n)) => *n,
        _ => 0,
    }
}

fn role_view(role: Role) -> RoleView {
    match role {
        Role::Follower => RoleView::Follower,
        Role::PreCandidate => RoleView::PreCandidate,
        Role::Candidate => RoleView::Candidate,
        Role::Leader => RoleView::Leader,
    }
}

fn role_from_text(role: &str) -> RoleView {
    match role {
        "follower" => RoleView::Follower,
        "precandidate" => RoleView::PreCandidate,
        "candidate" => RoleView::Candidate,
        "leader" => RoleView::Leader,
        "learner" => RoleView::Learner,
        _ => RoleView::Unknown,
    }
}

impl Driver {
    /// Whether the view moves by itself (messages in flight, a running election timer), so
    /// frames should keep coming while nothing else changes.
    pub fn animating(&self) -> bool {
        !self.paused && (self.obs.has_flights() || self.obs.election_timer.is_some())
    }

    pub fn view(&mut self, now: f64) -> ClusterView {
        let status = self.node.status();
        let me = self.id.node;
        let membership = self.node.membership().clone();
        let heard_recently = |driver: &Driver, node: NodeId| {
            driver.heard.get(&node).is_some_and(|&t| now - t < UNREACHABLE_AFTER_MS)
        };

        // Every node worth drawing: members, linked tabs, and tabs gossip heard of lately.
        // Sorted and deduplicated in a Vec rather than collected into a BTreeSet: the same
        // order, and `sort_unstable` on node ids is already in the bundle (the core sorts voters),
        // while BTreeSet's collect brought its own stable sort.
        let mut ids: Vec<NodeId> = membership.members().collect();
        ids.push(me);
        ids.extend(self.linked_nodes());
        let dead_after = self.dead_after as f64;
        ids.extend(
            self.gossip
                .view()
                .filter(|owner| !owner.is_departed())
                .filter(|owner| owner.last_heard().is_some_and(|t| now - (t as f64) < dead_after))
                .map(|owner| owner.id()),
        );
        ids.sort_unstable();
        ids.dedup();
        let nodes = ids
            .iter()
            .map(|&id| {
                let owner = self.gossip.owner(id);
                let (term, role) = if id == me {
                    let role = if membership.is_learner(me) {
                        RoleView::Learner
                    } else if !membership.is_member(me) {
                        RoleView::Unknown
                    } else {
                        role_view(status.role)
                    };
                    (status.term, role)
                } else {
                    let term = owner.as_ref().map_or(0, |o| number(o, &Key::Term));
                    let role = if membership.is_learner(id) {
                        RoleView::Learner
                    } else if !membership.is_voter(id) {
                        RoleView::Unknown
                    } else {
                        owner
                            .as_ref()
                            .and_then(|o| text(o, &Key::Role))
                            .map_or(RoleView::Follower, role_from_text)
                    };
                    (term, role)
                };
                let reachable =
                    id == me || (self.linked(id) && !self.isolated && heard_recently(self, id));
                NodeView {
                    id,
                    name: self.name_of(id),
                    colour: self.colour_of(id),
                    term,
                    role,
                    is_self: id == me,
                    is_leader: status.leader == Some(id),
                    reachable,
                    voter: membership.is_voter(id),
                }
            })
            .collect();

        let election_timer = match self.obs.election_timer {
            Some((start, deadline)) if status.role != Role::Leader && membership.is_voter(me) => {
                let timeout_ms = (deadline - start).max(1.0);
                Some(TimerView {
                    elapsed: ((now - start) / timeout_ms).clamp(0.0, 1.0),
                    timeout_ms,
                })
            }
            _ => None,
        };
        let vote_tally =
            matches!(status.role, Role::PreCandidate | Role::Candidate).then(|| VoteTally {
                granted: self.obs.votes.values().filter(|&&granted| granted).count(),
                needed: membership.quorum(),
                voters: membership.voters().len(),
            });

        ClusterView {
            room: self.id.room.clone(),
            share_url: self.id.share_url.clone(),
            self_id: me,
            now,
            nodes,
            in_flight: self.obs.flights(now),
            election_timer,
            vote_tally,
            log_grid: self.log_grid(&ids),
            shared_log: self.shared_log(),
            timeline: self.obs.timeline.iter().cloned().collect(),
            inspector: self.inspector(),
            gossip: self.gossip_rows(now),
            stats: self.stats.view(now),
            controls: ControlsView {
                paused: self.paused,
                isolated: self.isolated,
                election_timeout_min_ms: self.timings.election_timeout_min_ms,
                election_timeout_max_ms: self.timings.election_timeout_max_ms,
                heartbeat_ms: self.timings.heartbeat_ms,
                dead_after_ms: self.dead_after,
            },
        }
    }

    /// The newest entries as a grid: this node's terms first-hand; other nodes' rows as far as
    /// their gossiped last index goes, with this node's terms for those indexes.
    fn log_grid(&self, ids: &[NodeId]) -> LogGridView {
        let me = self.id.node;
        let status = self.node.status();
        let log = self.node.log();
        let base = log.first().map_or(status.last_index + 1, |entry| entry.index);
        let term_at = |index: LogIndex| {
            let offset = index.checked_sub(base)?;
            log.get(usize::try_from(offset).ok()?).map(|entry| entry.term)
        };
        let gossiped = |node: NodeId, key: &Key| {
            self.gossip.owner(node).map_or(0, |owner| number(&owner, key))
        };
        let newest = ids
            .iter()
            .map(|&id| if id == me { status.last_index } else { gossiped(id, &Key::LastLogIndex) })
            .max()
            .unwrap_or(0);
        let first_index = newest.saturating_sub(LOG_GRID_COLUMNS - 1).max(1);
        let terms_until = |last: LogIndex| -> Vec<u64> {
            (first_index..=last.min(status.last_index)).map(|i| term_at(i).unwrap_or(0)).collect()
        };
        let progress: Vec<_> = self.node.replication().collect();
        let mut rows = vec![LogRowView {
            node: me,
            terms: terms_until(status.last_index),
            commit: status.commit,
            next_index: None,
            match_index: None,
        }];
        for &id in ids.iter().filter(|&&id| id != me) {
            let peer = progress.iter().find(|p| p.0 == id);
            rows.push(LogRowView {
                node: id,
                terms: terms_until(gossiped(id, &Key::LastLogIndex)),
                commit: gossiped(id, &Key::CommitIndex),
                next_index: peer.map(|p| p.2),
                match_index: peer.map(|p| p.1),
            });
        }
        LogGridView { first_index, rows }
    }

    /// The newest committed posts, then this tab's proposals still in flight, greyed.
    fn shared_log(&self) -> Vec<SharedEntryView> {
        let posts = &self.node.committed_state().posts;
        let start = posts.len().saturating_sub(SHARED_LOG_ROWS);
        let committed = posts[start..].iter().enumerate().map(|(offset, post)| SharedEntryView {
            index: self.post_index.get(&(start + offset)).copied(),
            author: post.author.clone(),
            author_colour: colour_for(&post.author),
            text: post.text.clone(),
            at: post.at as f64,
            status: EntryStatus::Committed,
        });
        let pending = self.mine.len().saturating_sub(SHARED_LOG_ROWS);
        let provisional = self.mine.iter().skip(pending).map(|(_, mine)| SharedEntryView {
            index: None,
            author: mine.post.author.clone(),
            author_colour: self.id.colour.clone(),
            text: mine.post.text.clone(),
            at: mine.post.at as f64,
            status: EntryStatus::Provisional,
        });
        committed.chain(provisional).collect()
    }

    fn inspector(&self) -> InspectorView {
        let status = self.node.status();
        InspectorView {
            term: status.term,
            voted_for: self.voted_for,
            commit: status.commit,
            applied: status.applied,
            last_index: status.last_index,
            snapshot_index: self.snapshot_index,
            peers: self
                .node
                .replication()
                .map(|(id, match_index, next_index, state)| PeerProgressView {
                    id,
                    match_index,
                    next_index,
                    // ASCII variant names: `to_lowercase` would give the same text but link
                    // std's Unicode case tables and code: 10.9 KB gzip of the release bundle.
                    state: format!("{state:?}").to_ascii_lowercase(),
                })
                .collect(),
            errors: self.obs.errors.iter().cloned().collect(),
        }
    }

    fn gossip_rows(&self, now: f64) -> Vec<GossipRow> {
        self.gossip
            .view()
            .map(|owner| {
                let name = text(&owner, &Key::Name)
                    .map_or_else(|| self.name_of(owner.id()), str::to_owned);
                GossipRow {
                    id: owner.id(),
                    colour: text(&owner, &Key::Colour)
                        .map_or_else(|| colour_for(&name), str::to_owned),
                    name,
                    role: text(&owner, &Key::Role).unwrap_or("?").to_owned(),
                    term: number(&owner, &Key::Term),
                    leader: Some(number(&owner, &Key::Leader)).filter(|&leader| leader != 0),
                    commit: number(&owner, &Key::CommitIndex),
                    applied: number(&owner, &Key::AppliedIndex),
                    last_index: number(&owner, &Key::LastLogIndex),
                    heard_ms_ago: owner.last_heard().map_or(0.0, |t| (now - t as f64).max(0.0)),
                    departed: owner.is_departed(),
                }
            })
            .collect()
    }

    /// Whether `node` says (through gossip) that it is in a configuration.
    pub fn says_member(&self, node: NodeId) -> bool {
        self.gossip.get(node, &Key::Custom(MEMBER_KEY.to_owned())) == Some(&Value::Bool(true))
    }
}
