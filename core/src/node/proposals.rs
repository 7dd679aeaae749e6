//! Proposals at any node, and how their proposer learns the outcome.
//!
//! The proposer validates the intent against its provisional state, then appends the action
//! (leader) or forwards it to the leader it knows (follower). It learns the outcome by applying
//! the log itself: the entry carrying its request id gives the index and the output.
//!
//! Knowing that a proposal was *dropped* rests on one rule: a leader accepts a forwarded
//! proposal only if it is leader of the very term the proposer was in when it forwarded (the
//! message's term). So every copy of a request sits in an entry whose term is one of the terms
//! the proposer forwarded in, the latest being `forward_term`. Committed entries never go back in
//! term, so once the proposer applies an entry of a newer term without having seen its request,
//! no copy can commit any more: the proposal is reported `LeaderChanged`. A leader that refuses
//! (it is no longer leader) makes the proposer wait for a leader of a newer term and forward
//! again; retries are safe because the session table applies a request once.
use super::pending::PendingTable;
use super::{Event, Node, Role};
use crate::machine::Earlier;
use crate::{
    Entry, EntryPayload, LogIndex, MessageBody, Millis, NodeId, ProposalError, Reducer, RequestId,
    Term,
};
use alloc::collections::VecDeque;
use alloc::vec::Vec;

type Outcome<R> =
    Result<(LogIndex, <R as Reducer>::Output), ProposalError<<R as Reducer>::Rejection>>;

struct Pending<A> {
    action: A,
    /// The latest term this request was appended or forwarded in.
    forward_term: Term,
    deadline: Millis,
    /// A node refused it as not the leader: forward again once a newer leader is known.
    awaiting_leader: bool,
}

pub(super) struct Proposals<R: Reducer> {
    pending: PendingTable<Pending<R::Action>>,
    /// `(deadline, request)` in proposal order, hence in deadline order (the timeout is fixed
    /// and time never goes back). Entries of settled proposals are skipped lazily.
    deadlines: VecDeque<(Millis, RequestId)>,
    /// The term of the last entry applied.
    applied_term: Term,
    /// Committed state + log entries not yet applied + pending actions not in the log yet,
    /// when `provisional_valid`. Kept up to date cheaply while only appends happen, so a busy
    /// leader validates each proposal without copying the state.
    provisional: R::State,
    provisional_valid: bool,
}

impl<R: Reducer> Proposals<R> {
    pub(super) fn new() -> Self {
        Proposals {
            pending: PendingTable::new(),
            deadlines: VecDeque::new(),
            applied_term: 0,
            provisional: R::State::default(),
            provisional_valid: false,
        }
    }

    pub(super) fn next_deadline(&self) -> Option<Millis> {
        self.deadlines.front().map(|&(deadline, _)| deadline)
    }

    pub(super) fn invalidate_provisional(&mut self) {
        self.provisional_valid = false;
    }

    fn fold_into_provisional(&mut self, action: &R::Action) {
        if self.provisional_valid {
            R::reduce(&mut self.provisional, action);
        }
    }
}

impl<R: Reducer> Node<R> {
    /// Proposes an intent; the outcome arrives later as `Event::ProposalOutcome`.
    /// An immediate error (no leader known, rejected by the method) is returned at once, and
    /// nothing was proposed. Proposing a request id that is still pending does nothing more;
    /// one that was already applied reports the original outcome again.
    pub fn propose(
        &mut self,
        now: Millis,
        request: RequestId,
        intent: R::Intent,
    ) -> Result<(), ProposalError<R::Rejection>> {
        self.now = self.now.max(now);
        if let Earlier::Applied(index, output) = self.machine.earlier_result(request) {
            let result = Ok((index, output.clone()));
            self.emit(Event::ProposalOutcome { request, result });
            return Ok(());
        }
        let Some(leader) = self.leader else { return Err(ProposalError::NoLeader) };
        if self.transferring() {
            return Err(ProposalError::TransferInProgress);
        }
        self.refresh_provisional();
        let proposals = &mut self.proposals;
        if proposals.pending.contains(request) {
            return Ok(()); // still pending: the one outcome will answer this call too
        }
        let action = R::method(&proposals.provisional, intent).map_err(ProposalError::Rejected)?;
        R::reduce(&mut proposals.provisional, &action);
        let deadline = now.saturating_add(self.config.proposal_timeout);
        let forward_term = self.term;
        let pending =
            Pending { action: action.clone(), forward_term, deadline, awaiting_leader: false };
        proposals.pending.insert(request, pending);
        proposals.deadlines.push_back((deadline, request));
        self.submit(leader, request, action);
        Ok(())
    }

    /// The state a new proposal is validated against: the committed state, then every entry
    /// not yet applied, then this node's proposals that have not reached its log. A retried
    /// request may be counted twice here until it commits.
    pub fn provisional_state(&self) -> R::State {
        if self.proposals.provisional_valid {
            self.proposals.provisional.clone()
        } else {
            self.compute_provisional()
        }
    }

    fn compute_provisional(&self) -> R::State {
        let mut state = self.machine.state.clone();
        let unapplied = self.log.slice_from(self.machine.applied + 1, usize::MAX);
        for entry in unapplied {
            if let EntryPayload::Action { action, .. } = &entry.payload {
                R::reduce(&mut state, action);
            }
        }
        for (request, pending) in self.proposals.pending.iter() {
            if !unapplied.iter().any(|e| e.request() == Some(request)) {
                R::reduce(&mut state, &pending.action);
            }
        }
        state
    }

    /// Entries were appended to the log (nothing replaced): the provisional state gains their
    /// actions, except this node's pending proposals, which it holds already. (A request
    /// retried into the log twice counts once here and twice in a rebuild; both are estimates
    /// until it commits, see `provisional_state`.)
    pub(super) fn fold_appended_into_provisional(&mut self, entries: &[Entry<R::Action>]) {
        if !self.proposals.provisional_valid {
            return;
        }
        for entry in entries {
            if let EntryPayload::Action { request, action } = &entry.payload {
                if !self.proposals.pending.contains(*request) {
                    R::reduce(&mut self.proposals.provisional, action);
                }
            }
        }
    }

    fn refresh_provisional(&mut self) {
        if !self.proposals.provisional_valid {
            self.proposals.provisional = self.compute_provisional();
            self.proposals.provisional_valid = true;
        }
    }

    /// Appends the action (when `leader` is us) or forwards it to `leader`.
    fn submit(&mut self, leader: NodeId, request: RequestId, action: R::Action) {
        if leader == self.config.id {
            self.append_action(request, action);
        } else {
            self.send(leader, self.term, MessageBody::Propose { request, action });
        }
    }

    fn append_action(&mut self, request: RequestId, action: R::Action) {
        let index = self.log.last_index() + 1;
        let payload = EntryPayload::Action { request, action };
        self.log.push(Entry { term: self.term, index, payload });
        self.needs_flush = true;
    }

    pub(super) fn handle_propose(
        &mut self,
        from: NodeId,
        term: Term,
        request: RequestId,
        action: R::Action,
    ) {
        if self.role == Role::Leader && term == self.term && !self.transferring() {
            self.proposals.fold_into_provisional(&action);
            self.append_action(request, action);
            // The proposer waits for this entry's commit: tell it as soon as it commits.
            let index = self.log.last_index();
            if let Some(peer) = self.peers.iter_mut().find(|p| p.id == from) {
                peer.commit_wanted = peer.commit_wanted.max(index);
            }
        } else {
            self.send(from, self.term, MessageBody::ProposeRejected { request });
        }
    }

    pub(super) fn handle_propose_rejected(&mut self, request: RequestId) {
        if let Some(pending) = self.proposals.pending.get_mut(request) {
            pending.awaiting_leader = true;
            self.forward_awaiting_proposals();
        }
    }

    /// Forwards again the refused proposals, if a leader of a newer term than their last
    /// forward is known.
    pub(super) fn forward_awaiting_proposals(&mut self) {
        let Some(leader) = self.leader else { return };
        let term = self.term;
        let ready: Vec<(RequestId, R::Action)> = self
            .proposals
            .pending
            .iter_mut()
            .filter(|(_, p)| p.awaiting_leader && p.forward_term < term)
            .map(|(request, p)| {
                p.awaiting_leader = false;
                p.forward_term = term;
                (request, p.action.clone())
            })
            .collect();
        for (request, action) in ready {
            self.proposals.fold_into_provisional(&action);
            self.submit(leader, request, action);
        }
    }

    /// Reports the outcome of `request` if it was proposed here.
    pub(super) fn settle_proposal(&mut self, request: RequestId, result: Outcome<R>) {
        if self.proposals.pending.remove(request).is_none() {
            return;
        }
        if result.is_ok() {
            self.counters.proposals_committed += 1;
        } else {
            self.counters.proposals_dropped += 1;
            self.proposals.invalidate_provisional();
        }
        self.emit(Event::ProposalOutcome { request, result });
        // Proposals mostly settle in the order they were made: drop the deadline at once then.
        // Others stay in the queue until their deadline passes (`expire_proposals`).
        if self.proposals.deadlines.front().is_some_and(|&(_, front)| front == request) {
            self.proposals.deadlines.pop_front();
        }
    }

    /// An entry of `term` was applied: proposals last forwarded in an older term can no longer
    /// commit (see the module doc).
    pub(super) fn settle_proposals_older_than(&mut self, term: Term) {
        if term <= self.proposals.applied_term {
            return;
        }
        self.proposals.applied_term = term;
        if self.proposals.pending.is_empty() {
            return;
        }
        let dropped: Vec<RequestId> = self
            .proposals
            .pending
            .iter()
            .filter(|(_, p)| p.forward_term < term)
            .map(|(request, _)| request)
            .collect();
        for request in dropped {
            self.settle_proposal(request, Err(ProposalError::LeaderChanged));
        }
    }

    /// A snapshot up to an entry of `term` replaced the state: the session table tells which
    /// pending proposals it applied, and those forwarded before `term` can no longer commit.
    pub(super) fn settle_proposals_after_snapshot(&mut self, term: Term) {
        self.proposals.invalidate_provisional();
        let known: Vec<(RequestId, Outcome<R>)> = self
            .proposals
            .pending
            .iter()
            .filter_map(|(request, _)| match self.machine.earlier_result(request) {
                Earlier::Applied(index, output) => Some((request, Ok((index, output.clone())))),
                Earlier::TooOld => Some((request, Err(ProposalError::TimedOut))),
                Earlier::Unknown => None,
            })
            .collect();
        for (request, result) in known {
            self.settle_proposal(request, result);
        }
        self.settle_proposals_older_than(term);
    }

    pub(super) fn expire_proposals(&mut self, now: Millis) {
        while let Some(&(deadline, request)) = self.proposals.deadlines.front() {
            if deadline > now {
                break;
            }
            self.proposals.deadlines.pop_front();
            // The same request id may have been proposed again since, with a later deadline.
            if self.proposals.pending.get_mut(request).is_some_and(|p| p.deadline <= now) {
                self.settle_proposal(request, Err(ProposalError::TimedOut));
            }
        }
    }
}
