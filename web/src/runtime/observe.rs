//! What the runtime remembers only to show it: messages in flight, the timeline, elections with
//! their measured duration, the vote tally, proposal errors. None of it affects Raft.
use flotilla_core::VecMap;
use std::collections::VecDeque;

use flotilla_core::{NodeId, Role, Term};

use super::settings::{ERRORS_SHOWN, FLIGHT_SHOW_MS, MAX_FLIGHTS, TIMELINE_EVENTS};
use crate::view::{FlightView, MessageKind, TimelineEvent, TimelineKind};

struct Flight {
    from: NodeId,
    to: NodeId,
    kind: MessageKind,
    reply: bool,
    at: f64,
}

/// A completed election, as measured here.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Election {
    pub term: Term,
    pub leader: NodeId,
    /// From the last sign of life of the previous leader seen here (its last heartbeat or
    /// append received, or this node's own last moment as leader) to the new leader known.
    pub duration_ms: Option<f64>,
    pub at: f64,
}

#[derive(Default)]
pub struct Observer {
    flights: VecDeque<Flight>,
    pub timeline: VecDeque<TimelineEvent>,
    pub errors: VecDeque<String>,
    /// The last leader known (kept while there is none, to measure the next election from).
    last_leader: Option<NodeId>,
    /// When the last leader was last heard from (or, if it was us, last acted as leader).
    last_leader_seen: Option<f64>,
    pub last_election: Option<Election>,
    /// Votes received in the current campaign: voter → granted.
    pub votes: VecMap<NodeId, bool>,
    /// When this node's election timer was last reset, and its deadline then.
    pub election_timer: Option<(f64, f64)>,
}

impl Observer {
    pub fn flight(&mut self, at: f64, from: NodeId, to: NodeId, kind: MessageKind, reply: bool) {
        if self.flights.len() == MAX_FLIGHTS {
            self.flights.pop_front();
        }
        self.flights.push_back(Flight { from, to, kind, reply, at });
    }

    pub fn has_flights(&self) -> bool {
        !self.flights.is_empty()
    }

    pub fn flights(&mut self, now: f64) -> Vec<FlightView> {
        while self.flights.front().is_some_and(|f| now - f.at > FLIGHT_SHOW_MS) {
            self.flights.pop_front();
        }
        self.flights
            .iter()
            .map(|f| FlightView {
                from: f.from,
                to: f.to,
                kind: f.kind,
                reply: f.reply,
                progress: ((now - f.at) / FLIGHT_SHOW_MS).clamp(0.0, 1.0),
            })
            .collect()
    }

    pub fn event(&mut self, at: f64, kind: TimelineKind, text: String) {
        if self.timeline.len() == TIMELINE_EVENTS {
            self.timeline.pop_front();
        }
        self.timeline.push_back(TimelineEvent { at, kind, text });
    }

    pub fn error(&mut self, at: f64, text: String) {
        if self.errors.len() == ERRORS_SHOWN {
            self.errors.pop_front();
        }
        self.errors.push_back(text.clone());
        self.event(at, TimelineKind::Error, text);
    }

    /// A heartbeat or append from `from`, which this node follows as leader.
    pub fn leader_heard(&mut self, at: f64, from: NodeId) {
        if self.last_leader == Some(from) {
            self.last_leader_seen = Some(at);
        }
    }

    /// This node's role or leader changed. Returns the election it completes, if any.
    pub fn role_changed(
        &mut self,
        at: f64,
        me: NodeId,
        term: Term,
        role: Role,
        leader: Option<NodeId>,
        name_of: impl Fn(NodeId) -> String,
    ) -> Option<Election> {
        if matches!(role, Role::PreCandidate | Role::Candidate) {
            self.votes.clear();
            self.votes.insert(me, true);
        }
        let leader = leader?;
        let previous = self.last_leader.replace(leader);
        let seen = self.last_leader_seen.replace(at);
        if previous == Some(leader) {
            return None;
        }
        let duration_ms = previous.and(seen).map(|seen| at - seen);
        let election = Election { term, leader, duration_ms, at };
        let who = name_of(leader);
        let text = match (previous, duration_ms) {
            (Some(old), Some(ms)) => format!(
                "term {term}: {who} leads, {} ms after {} was last heard",
                crate::components::format::fixed(ms, 0),
                name_of(old)
            ),
            _ => format!("term {term}: {who} leads"),
        };
        self.event(at, TimelineKind::Election, text);
        if let Some(old) = previous {
            let text = format!("leader {} → {who}", name_of(old));
            self.event(at, TimelineKind::LeaderChange, text);
        }
        self.last_election = Some(election);
        Some(election)
    }

    /// This node is the leader and alive: an election that follows its end is timed from now.
    pub fn leading(&mut self, at: f64) {
        self.last_leader_seen = Some(at);
    }
}
