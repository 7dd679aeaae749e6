//! Terms and elections: the term rules every message passes first (section 5.1), randomized
//! election timeouts, PreVote (thesis section 9.6), votes under the election restriction
//! (section 5.4.1), the role transitions, and CheckQuorum with its leader lease.
use super::{Event, Node, Role};
use crate::{Entry, EntryPayload, LogIndex, MessageBody, Millis, NodeId, Reducer, Term};

impl<R: Reducer> Node<R> {
    pub(super) fn reset_election_timer(&mut self, now: Millis) {
        let (low, high) = (self.config.election_timeout_min, self.config.election_timeout_max);
        self.election_deadline = now.saturating_add(self.rng.in_range(low, high));
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
                RequestVote { pre_vote, .. } => {
                    if self.in_lease(now, *pre_vote) {
                        return false;
                    }
                    // A pre-vote asks about a future term: answering it must not move ours.
                    if !pre_vote {
                        self.become_follower(now, term, None);
                    }
                }
                // A granted pre-vote echoes the term we would campaign in.
                VoteResponse { pre_vote: true, granted: true } => {}
                Append { .. } | Heartbeat { .. } => self.become_follower(now, term, Some(from)),
                _ => self.become_follower(now, term, None),
            }
            true
        } else if term < self.term {
            // Answer the stale sender with our term so it catches up (a stale leader steps down).
            match body {
                Append { .. } | Heartbeat { .. } => self.send(from, self.term, HeartbeatResponse),
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
        let can_campaign = self.term < Term::MAX && self.is_voter();
        if self.role == Role::Leader || !can_campaign {
            self.reset_election_timer(now);
        } else if self.config.pre_vote {
            self.votes.clear();
            self.reset_election_timer(now);
            self.set_role(Role::PreCandidate, None);
            self.request_votes(now, true);
        } else {
            self.start_election(now);
        }
    }

    fn start_election(&mut self, now: Millis) {
        self.term += 1;
        self.voted_for = Some(self.config.id);
        self.hard_state_dirty = true;
        self.votes.clear();
        self.reset_election_timer(now);
        self.set_role(Role::Candidate, None);
        self.request_votes(now, false);
    }

    fn request_votes(&mut self, now: Millis, pre_vote: bool) {
        let term = if pre_vote { self.term.saturating_add(1) } else { self.term };
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        for i in 0..self.configs.latest().voters().len() {
            let voter = self.configs.latest().voters()[i];
            if voter != self.config.id {
                self.send(
                    voter,
                    term,
                    MessageBody::RequestVote { pre_vote, last_index, last_term },
                );
            }
        }
        self.votes.push((self.config.id, true));
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
                self.start_election(now);
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
        self.votes.clear();
        self.peers.clear();
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
