//! Terms and elections: the term rules every message passes first (section 5.1), randomized
//! election timeouts, PreVote (thesis section 9.6), votes under the election restriction
//! (section 5.4.1), the role transitions, CheckQuorum with its leader lease, and fast failure
//! detection.
//!
//! # Fast failure detection
//!
//! A browser tab that closes takes its WebRTC connections with it, and the other tabs learn so
//! within milliseconds; waiting for an election timeout on top would make every re-election take
//! hundreds of them. So the runtime reports a closed connection
//! ([`Node::handle_peer_disconnected`]), and a follower whose *leader's* connection closed acts
//! on it at once:
//!
//! - It forgets its leader. That ends its lease: from now on it grants pre-votes and votes to
//!   others. This is the part that lets an election succeed quickly: the other followers lost
//!   their connection to the same closed tab, get the same hint, and forget the leader too, so a
//!   majority is ready to vote within milliseconds instead of after its lease.
//! - It campaigns, with PreVote. If the leader is in fact alive (only this one connection
//!   closed), the other followers still hear from it, stay in their lease and refuse the
//!   pre-vote: the leader is not disturbed, and this node only wasted a round of messages.
//! - Not all followers campaign at the same instant: each would vote for itself and the vote
//!   would split, costing a full election timeout. The remaining voters take turns by id: the
//!   `k`-th (from 0) waits `k` staggers of a tenth of the minimum election timeout, enough for
//!   the first candidate's pre-vote and vote rounds. A follower waiting for its turn that grants
//!   another candidate's pre-vote gives its turn up (that candidate goes first; the normal
//!   election timeout backs it up), so a slow network does not make two of them campaign. If
//!   the first is behind (the others refuse it as less up to date) the next one tries a stagger
//!   later. A hint that arrives late is harmless: a follower that refused a pre-vote while still
//!   in its lease grants the next one once its own hint has come.
//! - With lease reads on, the hint does not shorten the lease: the old leader may still be
//!   answering reads from its lease, so the follower campaigns only once the lease has run out.
use super::{Event, Node, Role};
use crate::{Entry, EntryPayload, LogIndex, MessageBody, Millis, NodeId, Reducer, Term};

impl<R: Reducer> Node<R> {
    pub(super) fn reset_election_timer(&mut self, now: Millis) {
        let (low, high) = (self.config.election_timeout_min, self.config.election_timeout_max);
        self.election_deadline = now.saturating_add(self.rng.in_range(low, high));
        self.waiting_turn = false;
    }

    /// Whether this node currently vouches for a live leader, and so refuses to help start an
    /// election. Pre-votes are always refused then (that is what PreVote is for); real votes
    /// only with CheckQuorum, whose step-down rule is what makes the lease safe to trust.
    fn in_lease(&self, now: Millis, pre_vote: bool) -> bool {
        if !(pre_vote || self.config.check_quorum) {
            return false;
        }
        match self.role {
            Role::Leader => true,
            _ => {
                self.leader.is_some()
                    && now < self.leader_contact.saturating_add(self.config.election_timeout_min)
            }
        }
    }

    /// Applies the term rules to an incoming message. Returns whether its body should be handled.
    pub(super) fn reconcile_term(
        &mut self,
        now: Millis,
        from: NodeId,
        term: Term,
        body: &MessageBody<R::Action>,
    ) -> bool {
        use MessageBody::*;
        if term > self.term {
            match body {
                RequestVote { pre_vote, transfer, .. } => {
                    if !transfer && self.in_lease(now, *pre_vote) {
                        return false;
                    }
                    // A pre-vote asks about a future term: answering it must not move ours.
                    if !pre_vote {
                        self.become_follower(now, term, None);
                    }
                }
                // A granted pre-vote echoes the term we would campaign in.
                VoteResponse { pre_vote: true, granted: true } => {}
                Append { .. } | Heartbeat { .. } | InstallSnapshot { .. } => {
                    self.become_follower(now, term, Some(from))
                }
                _ => self.become_follower(now, term, None),
            }
            true
        } else if term < self.term {
            // Answer the stale sender with our term so it catches up (a stale leader steps down).
            match body {
                Append { .. } | Heartbeat { .. } | InstallSnapshot { .. } => {
                    self.send(from, self.term, HeartbeatResponse { round: 0 })
                }
                ReadIndex { id } => {
                    self.send(from, self.term, ReadIndexResponse { id: *id, index: None })
                }
                RequestVote { pre_vote: true, .. } => {
                    self.send(from, self.term, VoteResponse { pre_vote: true, granted: false })
                }
                Propose { request, .. } => {
                    self.send(from, self.term, ProposeRejected { request: *request })
                }
                _ => {}
            }
            false
        } else {
            true
        }
    }

    /// Starts an election now instead of waiting for the election timeout (with PreVote on, a
    /// pre-vote round first). Does nothing on a leader or on a node that is not a voter.
    pub fn campaign(&mut self, now: Millis) {
        self.now = self.now.max(now);
        // A term at the very top of the range (only hostile input gets there) has no successor.
        let can_campaign = self.term < Term::MAX && self.may_campaign();
        if self.role == Role::Leader || !can_campaign {
            self.reset_election_timer(now);
        } else if self.config.pre_vote {
            self.votes.clear();
            self.reset_election_timer(now);
            self.set_role(Role::PreCandidate, None);
            self.counters.pre_votes_started += 1;
            self.request_votes(now, true, false);
        } else {
            self.start_election(now, false, None);
        }
    }

    /// The runtime's hint that the connection to `peer` closed. A follower whose leader this is
    /// starts an election at once, or after a short stagger (see the module documentation).
    /// Anything else ignores it: a hint about an old leader that arrives late, or a hint
    /// at a leader (its own lease and CheckQuorum deal with lost followers).
    pub fn handle_peer_disconnected(&mut self, now: Millis, peer: NodeId) {
        self.now = self.now.max(now);
        if self.role == Role::Leader || self.leader != Some(peer) || !self.may_campaign() {
            return;
        }
        self.set_role(self.role, None);
        // With lease reads the old leader may still be serving reads from its lease, which
        // promises that this node votes for nobody else before it runs out.
        let lease_reads = self.config.lease_reads && self.config.check_quorum;
        let start = if lease_reads {
            now.max(self.leader_contact.saturating_add(self.config.election_timeout_min))
        } else {
            now
        };
        let rank = self
            .configs
            .latest()
            .voters()
            .iter()
            .filter(|&&v| v != peer)
            .position(|&v| v == self.config.id)
            .unwrap_or(0) as Millis;
        let stagger = (self.config.election_timeout_min / 10).max(1);
        self.election_deadline = start.saturating_add(rank * stagger);
        self.waiting_turn = self.election_deadline > now;
        if !self.waiting_turn {
            self.campaign(now);
        }
    }

    /// Campaigns in the next term; `transfer` when the leader asked for it (`TimeoutNow`), and
    /// with the vote it `handed` over if it did (see `node::transfer`).
    pub(super) fn start_election(&mut self, now: Millis, transfer: bool, handed: Option<NodeId>) {
        self.term += 1;
        self.voted_for = Some(self.config.id);
        self.hard_state_dirty = true;
        self.votes.clear();
        if let Some(voter) = handed {
            self.votes.push((voter, true));
        }
        self.reset_election_timer(now);
        self.set_role(Role::Candidate, None);
        self.counters.elections_started += 1;
        self.request_votes(now, false, transfer);
    }

    fn request_votes(&mut self, now: Millis, pre_vote: bool, transfer: bool) {
        let term = if pre_vote { self.term.saturating_add(1) } else { self.term };
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        for i in 0..self.configs.latest().voters().len() {
            let voter = self.configs.latest().voters()[i];
            if voter != self.config.id {
                self.send(
                    voter,
                    term,
                    MessageBody::RequestVote { pre_vote, last_index, last_term, transfer },
                );
            }
        }
        if self.is_voter() {
            self.votes.push((self.config.id, true));
        }
        self.tally(now, pre_vote);
    }

    pub(super) fn handle_request_vote(
        &mut self,
        now: Millis,
        from: NodeId,
        term: Term,
        pre_vote: bool,
        last_index: LogIndex,
        last_term: Term,
    ) {
        let can_vote = self.voted_for == Some(from)
            || (self.voted_for.is_none() && self.leader.is_none())
            || (pre_vote && term > self.term);
        let granted = can_vote && self.log.is_up_to_date(last_index, last_term);
        if granted && !pre_vote {
            self.voted_for = Some(from);
            self.hard_state_dirty = true;
        }
        if granted && (!pre_vote || self.waiting_turn) {
            self.reset_election_timer(now);
        }
        let reply_term = if granted { term } else { self.term };
        self.send(from, reply_term, MessageBody::VoteResponse { pre_vote, granted });
    }

    pub(super) fn handle_vote_response(
        &mut self,
        now: Millis,
        from: NodeId,
        pre_vote: bool,
        granted: bool,
    ) {
        let campaigning = if pre_vote { Role::PreCandidate } else { Role::Candidate };
        if self.role != campaigning
            || !self.configs.latest().is_voter(from)
            || self.votes.iter().any(|&(voter, _)| voter == from)
        {
            return;
        }
        self.votes.push((from, granted));
        self.tally(now, pre_vote);
    }

    fn tally(&mut self, now: Millis, pre_vote: bool) {
        let granted = self.votes.iter().filter(|&&(_, yes)| yes).count();
        let refused = self.votes.len() - granted;
        if granted >= self.quorum() {
            if pre_vote {
                self.start_election(now, false, None);
            } else {
                self.become_leader(now);
            }
        } else if refused >= self.quorum() {
            self.become_follower(now, self.term, None);
        }
    }

    pub(super) fn become_follower(&mut self, now: Millis, term: Term, leader: Option<NodeId>) {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.hard_state_dirty = true;
        }
        if self.role == Role::Leader {
            self.drop_unconfirmed_reads();
        }
        self.votes.clear();
        self.peers.clear();
        self.transfer = None;
        self.reset_election_timer(now);
        if leader.is_some() {
            self.leader_contact = now;
        }
        self.set_role(Role::Follower, leader);
    }

    /// Records contact from the leader of the current term (an append or heartbeat).
    pub(super) fn follow(&mut self, now: Millis, leader: NodeId) {
        if self.role != Role::Follower || self.leader != Some(leader) {
            self.become_follower(now, self.term, Some(leader));
        }
        self.leader_contact = now;
        self.reset_election_timer(now);
    }

    fn become_leader(&mut self, now: Millis) {
        let next = self.log.last_index() + 1;
        self.peers.clear();
        self.sync_peers(now, next);
        self.heartbeat_deadline = now.saturating_add(self.config.heartbeat_interval);
        self.quorum_deadline = now.saturating_add(self.config.election_timeout_min);
        // Section 5.4.2: a leader commits entries of earlier terms only through an entry of its
        // own, so it appends one at once.
        self.log.push(Entry { term: self.term, index: next, payload: EntryPayload::Noop });
        self.needs_flush = true;
        self.set_role(Role::Leader, Some(self.config.id));
    }

    fn set_role(&mut self, role: Role, leader: Option<NodeId>) {
        if role == self.role && leader == self.leader {
            return;
        }
        self.role = role;
        self.leader = leader;
        self.emit(Event::RoleChanged { term: self.term, role, leader });
        self.drop_reads_asked_elsewhere();
        if leader.is_some() {
            self.forward_awaiting_proposals();
        }
    }

    /// CheckQuorum: a leader that has not heard from a majority since the last check steps down,
    /// so a partitioned leader stops accepting proposals it can never commit.
    pub(super) fn check_quorum(&mut self, now: Millis) {
        let config = self.configs.latest();
        let voters = self.peers.iter().filter(|p| config.is_voter(p.id));
        let heard = usize::from(self.is_voter()) + voters.filter(|p| p.recently_active).count();
        for peer in &mut self.peers {
            peer.recently_active = false;
        }
        if heard >= self.quorum() {
            self.quorum_deadline = now.saturating_add(self.config.election_timeout_min);
        } else {
            self.become_follower(now, self.term, None);
        }
    }
}
