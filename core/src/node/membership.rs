//! Membership at the node: the leader appends single-server changes (see
//! [`crate::membership`] for the rules and why), every node tracks the configurations its log
//! holds, and a node outside the cluster asks to join through any member.
use super::{Event, Node, Role};
use crate::membership::policy::{PeerView, View, MAX_VOTERS};
use crate::membership::{Change, MembershipError};
use crate::progress::Progress;
use crate::{Entry, EntryPayload, LogIndex, MessageBody, Millis, NodeId, Reducer};

impl<R: Reducer> Node<R> {
    /// Starts a single-server membership change (leader only): appends the new configuration,
    /// which is in force at once, and returns its index. Refused, with nothing appended, while
    /// an earlier change has not committed, before this leader has committed an entry of its
    /// term, during a leadership transfer, for a learner not caught up yet, or if the change
    /// makes no sense for the configuration.
    pub fn change_membership(
        &mut self,
        now: Millis,
        change: Change,
    ) -> Result<LogIndex, MembershipError> {
        self.now = self.now.max(now);
        if let Some(why) = self.membership_blocked() {
            return Err(why);
        }
        let next = self.configs.latest().apply(change)?;
        if let Change::Promote(id) = change {
            let match_index = self.peers.iter().find(|p| p.id == id).map_or(0, |p| p.match_index);
            let last_index = self.log.last_index();
            if match_index.saturating_add(self.catch_up_lag()) < last_index {
                return Err(MembershipError::LearnerBehind { id, match_index, last_index });
            }
        }
        let index = self.log.last_index() + 1;
        self.append_entry(Entry {
            term: self.term,
            index,
            payload: EntryPayload::Membership(next),
        });
        Ok(index)
    }

    /// Why no membership change can start now, if none can.
    fn membership_blocked(&self) -> Option<MembershipError> {
        if self.role != Role::Leader {
            return Some(MembershipError::NotLeader { leader: self.leader });
        }
        if self.configs.latest_index() > self.commit {
            return Some(MembershipError::ChangeInProgress { index: self.configs.latest_index() });
        }
        if self.log.term_at(self.commit) != Some(self.term) {
            return Some(MembershipError::TermNotCommitted);
        }
        if self.transferring() {
            return Some(MembershipError::TransferInProgress);
        }
        None
    }

    /// A learner this close to the leader's last index has caught up: one append away.
    fn catch_up_lag(&self) -> LogIndex {
        self.config.max_entries_per_append as LogIndex
    }

    /// What the automatic policy ([`crate::membership::policy::next_change`]) needs, if this
    /// node leads. `announced` and `departed` are what the runtime learnt elsewhere: nodes
    /// asking to join, and nodes whose tab closed. Like `committed_state`, a one-voter leader's
    /// view counts a change committed once its write is queued: act on it (close a removed
    /// node's tab) after performing the outputs drained so far.
    pub fn policy_view<'a>(
        &self,
        announced: &'a [NodeId],
        departed: &'a [NodeId],
    ) -> Option<View<'a>> {
        if self.role != Role::Leader {
            return None;
        }
        let membership = self.configs.latest().clone();
        let peers = self
            .peers
            .iter()
            .filter(|p| membership.is_member(p.id))
            .map(|p| PeerView { id: p.id, match_index: p.match_index, last_heard: p.last_heard })
            .collect();
        Some(View {
            leader: self.config.id,
            membership,
            blocked: self.membership_blocked().is_some(),
            last_index: self.log.last_index(),
            peers,
            catch_up_lag: self.catch_up_lag(),
            max_voters: MAX_VOTERS,
            announced,
            departed,
        })
    }

    /// Asks to join the cluster through `via`, any member (it forwards to the leader, which
    /// adds this node as a learner). Asked again at every election timeout until this node
    /// finds itself in a configuration.
    pub fn request_join(&mut self, now: Millis, via: NodeId) {
        self.now = self.now.max(now);
        if via == 0 || via == self.config.id || self.configs.latest().is_member(self.config.id) {
            return;
        }
        self.join_via = Some(via);
        self.retry_join();
    }

    /// Sends the join request again, to the leader if one is known, if this node still waits.
    pub(super) fn retry_join(&mut self) {
        let Some(via) = self.join_via else { return };
        let node = self.config.id;
        self.send(self.leader.unwrap_or(via), self.term, MessageBody::JoinRequest { node });
    }

    /// Leader: adds `node` as a learner. Other members forward a request that comes from the
    /// joining node itself to the leader they know: one hop only, so two nodes with stale ideas
    /// of who leads cannot bounce a request between them forever.
    pub(super) fn handle_join_request(&mut self, now: Millis, from: NodeId, node: NodeId) {
        if self.role == Role::Leader {
            // A refusal (already a member, a change pending) needs no answer: the node asks
            // again until it receives the log.
            let _ = self.change_membership(now, Change::AddLearner(node));
        } else if let Some(leader) = self.leader.filter(|&l| l != node && from == node) {
            self.send(leader, self.term, MessageBody::JoinRequest { node });
        }
    }

    /// Appends an entry this node creates as leader (or at bootstrap), putting a configuration
    /// it carries in force.
    pub(super) fn append_entry(&mut self, entry: Entry<R::Action>) {
        let membership = match &entry.payload {
            EntryPayload::Membership(membership) => Some((entry.index, membership.clone())),
            _ => None,
        };
        self.log.push(entry);
        self.needs_flush = true;
        if let Some((index, membership)) = membership {
            self.configs.push(index, membership);
            self.membership_changed();
        }
    }

    /// The log's entries from `first` on were replaced: configurations they held are gone and
    /// those the new entries hold are in force.
    pub(super) fn log_replaced_from(&mut self, first: LogIndex) {
        let mut changed = self.configs.latest_index() >= first;
        if changed {
            self.configs.truncate_from(first);
        }
        for entry in self.log.slice_from(first, usize::MAX) {
            if let EntryPayload::Membership(membership) = &entry.payload {
                self.configs.push(entry.index, membership.clone());
                changed = true;
            }
        }
        if changed {
            self.membership_changed();
        }
    }

    /// Adapts to a new configuration in force.
    pub(super) fn membership_changed(&mut self) {
        let (index, membership) = (self.configs.latest_index(), self.configs.latest().clone());
        if membership.is_member(self.config.id) {
            self.join_via = None;
        }
        match self.role {
            Role::Leader => self.sync_peers(self.now, self.log.last_index()),
            Role::PreCandidate | Role::Candidate if !self.may_campaign() => {
                self.become_follower(self.now, self.term, None)
            }
            _ => {}
        }
        self.emit(Event::MembershipChanged { index, membership });
    }

    /// Leader: keeps one progress per member of the latest or the committed configuration (a
    /// removed node still receives the log until its removal commits, so it learns of it).
    /// New peers start probing at `next`.
    pub(super) fn sync_peers(&mut self, now: Millis, next: LogIndex) {
        let id = self.config.id;
        let latest = self.configs.latest();
        let committed = self.configs.at(self.commit);
        self.peers.retain(|p| latest.is_member(p.id) || committed.is_member(p.id));
        for member in latest.members().chain(committed.members()) {
            if member != id && !self.peers.iter().any(|p| p.id == member) {
                self.peers.push(Progress::new(member, next.max(1), now));
            }
        }
    }
}
