//! Raft's safety properties (Figure 3 of the paper), checked after every step of the
//! simulation, plus the client-visible ones: commit indexes never go backwards, committed
//! entries never disappear, and no acknowledged write is lost. Elections are checked against the
//! durable votes: nobody votes twice in a term, and a leader holds the votes of a majority of
//! the voters of its configuration (a learner's vote counts for nothing). A leadership that a
//! crash ends before anything of its term reached the leader's disk or the wire was never seen
//! by anyone, and does not count (a lone voter wins before its vote is written). Membership adds
//! its own: each configuration in a log differs from the one before it by at most one voter (thesis
//! section 4.1), and commits are backed by a majority of the leader's configuration (checked by
//! the cluster, which sees every durable image).
//!
//! The checker keeps a global record of what it has seen (leaders per term, entries per
//! (index, term), the committed and applied entry at each index) and compares each node's new
//! state against it, so a check costs what changed, not the size of every log. It follows each
//! node's log through what the node writes (see [`crate::shadow`]), and locates entries by index
//! only, so compaction takes nothing from it: a snapshot must cover committed entries only, and
//! the states of snapshots at one index must be equal.
use crate::shadow::ShadowLog;
use flotilla_core::reducers::kv::{KvAction, KvOutput, KvState};
use flotilla_core::{
    DurableState, Entry, EntryPayload, LogIndex, Membership, Millis, NodeId, RequestId, Role,
    Status, Term,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

type Payload = EntryPayload<KvAction>;

/// A property the run broke.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// Election Safety (§5.2): at most one leader per term.
    TwoLeaders { term: Term, first: NodeId, second: NodeId },
    /// Log Matching (§5.3): entries with the same index and term hold the same command and
    /// are preceded by the same log.
    LogMismatch { node: NodeId, index: LogIndex, term: Term, detail: String },
    /// A node's durable vote in a term changed.
    VotedTwice { node: NodeId, term: Term, first: NodeId, second: NodeId },
    /// A leader without the durable votes of a majority of its configuration's voters.
    ElectedWithoutQuorum { node: NodeId, term: Term, voters: Vec<NodeId>, votes: Vec<NodeId> },
    /// Single-server changes: a configuration changes the voters of the one before it in the
    /// same log by at most one.
    ConfigJump { node: NodeId, index: LogIndex, from: Vec<NodeId>, to: Vec<NodeId> },
    /// A leader committed `index` without a majority of its configuration's voters holding it.
    CommitWithoutQuorum { node: NodeId, index: LogIndex, holders: Vec<NodeId>, voters: Vec<NodeId> },
    /// Leader Completeness (§5.4.1): a leader's log holds every entry committed in an earlier
    /// term.
    LeaderIncomplete { leader: NodeId, term: Term, index: LogIndex },
    /// State Machine Safety (§5.4.3): nodes commit and apply the same entry at each index.
    StateMachine { node: NodeId, index: LogIndex, expected: String, found: String },
    /// A snapshot covers entries the node had not committed.
    SnapshotBeyondCommit { node: NodeId, index: LogIndex, commit: LogIndex },
    /// A node's commit or applied index went backwards while it ran.
    Regressed { node: NodeId, what: &'static str, from: LogIndex, to: LogIndex },
    /// A node applied past its commit index.
    AppliedUncommitted { node: NodeId, applied: LogIndex, commit: LogIndex },
    /// A committed entry was overwritten or dropped from a log, or is missing from the durable
    /// logs of a majority.
    CommittedEntryLost { node: NodeId, index: LogIndex, detail: String },
    /// A proposal acknowledged as committed at `index` is not what was applied there (or was
    /// answered with another output).
    AckLost { request: RequestId, index: LogIndex, applied: String },
    /// Deduplication: one request applied at two indexes.
    AppliedTwice { request: RequestId, first: LogIndex, second: LogIndex },
    /// Liveness: no leader within three election timeouts after the faults healed.
    NoLeaderAfterHeal { heal_at: Millis, deadline: Millis },
    /// Liveness: the nodes did not converge by the end of the run.
    NotConverged { detail: String },
    /// The key-value history has no linearization.
    NotLinearizable { key: u64 },
    /// The simulation could not make progress in virtual time (a livelock in the node).
    Stuck { detail: String },
    /// The run panicked (in the core, or in the simulator).
    Panicked { message: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TwoLeaders { term, first, second } => {
                write!(f, "election safety: n{first} and n{second} both leaders in term {term}")
            }
            Violation::LogMismatch { node, index, term, detail } => {
                write!(f, "log matching: n{node} entry {index}@{term}: {detail}")
            }
            Violation::VotedTwice { node, term, first, second } => {
                write!(f, "n{node} voted for n{first} and then n{second} in term {term}")
            }
            Violation::ElectedWithoutQuorum { node, term, voters, votes } => write!(
                f,
                "n{node} leads term {term} with the votes of {votes:?} of voters {voters:?}"
            ),
            Violation::ConfigJump { node, index, from, to } => write!(
                f,
                "n{node} configuration at {index} changes the voters from {from:?} to {to:?}"
            ),
            Violation::CommitWithoutQuorum { node, index, holders, voters } => write!(
                f,
                "n{node} committed {index} held durably only by {holders:?} of voters {voters:?}"
            ),
            Violation::LeaderIncomplete { leader, term, index } => write!(
                f,
                "leader completeness: n{leader} leads term {term} without committed entry {index}"
            ),
            Violation::StateMachine { node, index, expected, found } => write!(
                f,
                "state machine safety: n{node} at index {index} has {found}, others {expected}"
            ),
            Violation::SnapshotBeyondCommit { node, index, commit } => {
                write!(f, "n{node} wrote a snapshot at {index} beyond its commit index {commit}")
            }
            Violation::Regressed { node, what, from, to } => {
                write!(f, "n{node} {what} index went backwards from {from} to {to}")
            }
            Violation::AppliedUncommitted { node, applied, commit } => {
                write!(f, "n{node} applied {applied} beyond its commit index {commit}")
            }
            Violation::CommittedEntryLost { node, index, detail } => {
                write!(f, "committed entry {index} lost at n{node}: {detail}")
            }
            Violation::AckLost { request, index, applied } => write!(
                f,
                "acknowledged write lost: request {}/{} acknowledged at {index}, applied there: \
                 {applied}",
                request.client, request.seq
            ),
            Violation::AppliedTwice { request, first, second } => write!(
                f,
                "request {}/{} applied twice, at {first} and {second}",
                request.client, request.seq
            ),
            Violation::NoLeaderAfterHeal { heal_at, deadline } => {
                write!(f, "liveness: no leader between heal at {heal_at}ms and {deadline}ms")
            }
            Violation::NotConverged { detail } => write!(f, "liveness: not converged: {detail}"),
            Violation::NotLinearizable { key } => {
                write!(f, "linearizability: history of key {key} has no linearization")
            }
            Violation::Stuck { detail } => write!(f, "stuck: {detail}"),
            Violation::Panicked { message } => write!(f, "panicked: {message}"),
        }
    }
}

/// What the checker recorded about one (index, term) entry.
struct Seen {
    payload: Payload,
    /// Term of the entry before it (0 for index 1), once some log showed it.
    prev_term: Option<Term>,
}

/// A committed entry, and the term in which it was committed.
struct Committed {
    term: Term,
    payload: Payload,
    /// The term of the first node seen committing it: the leader that did, since followers
    /// learn commits from it. Leader Completeness binds the leaders of later terms only.
    commit_term: Term,
}

/// What applying one entry did.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Applied {
    request: Option<RequestId>,
    action: KvAction,
    output: KvOutput,
}

/// What the checker remembers about one node's current incarnation.
struct NodeView {
    commit: LogIndex,
    applied: LogIndex,
    log: ShadowLog,
}

/// The global record the checks compare against.
#[derive(Default)]
pub struct Invariants {
    leaders: HashMap<Term, NodeId>,
    /// Leaderships nothing outside the leader has seen yet (see `leadership_observed`): a crash
    /// takes them back.
    unobserved: HashSet<(NodeId, Term)>,
    /// (leader, term) pairs whose log was already checked for completeness.
    completeness_checked: HashSet<(NodeId, Term)>,
    entries: HashMap<(LogIndex, Term), Seen>,
    /// The committed entries, index 1 first.
    committed: Vec<Committed>,
    /// The entry applied at each index, by whichever node applied it first.
    applied: HashMap<LogIndex, Applied>,
    /// Where each request was applied: a retried request must be applied once.
    applied_requests: HashMap<RequestId, LogIndex>,
    /// Proposals acknowledged as committed, by index, with the output they were answered.
    acks: HashMap<LogIndex, (RequestId, KvOutput)>,
    nodes: BTreeMap<NodeId, NodeView>,
    /// Every durable vote: (voter, term) to candidate.
    votes: HashMap<(NodeId, Term), NodeId>,
    /// The state machine at each index some node took or installed a snapshot at.
    snapshot_states: HashMap<LogIndex, KvState>,
    /// The voters before any configuration entry (empty for a bootstrapped cluster).
    initial_voters: Vec<NodeId>,
}

impl Invariants {
    pub fn new(initial_voters: &[NodeId]) -> Self {
        Invariants { initial_voters: initial_voters.to_vec(), ..Invariants::default() }
    }

    /// The highest index any node has reported committed.
    pub fn committed_index(&self) -> LogIndex {
        self.committed.len() as LogIndex
    }

    /// The term of the entry at `index` in `node`'s log, as far as the checker knows.
    pub fn term_at(&self, node: NodeId, index: LogIndex) -> Option<Term> {
        self.nodes.get(&node)?.log.term_at(index)
    }

    /// The index of the entry that set `node`'s latest configuration, as far as the checker
    /// knows.
    pub fn config_index(&self, node: NodeId) -> LogIndex {
        self.nodes.get(&node).map_or(0, |view| view.log.config_index())
    }

    fn view(&mut self, node: NodeId) -> &mut NodeView {
        let initial = &self.initial_voters;
        self.nodes.entry(node).or_insert_with(|| NodeView {
            commit: 0,
            applied: 0,
            log: ShadowLog::new(initial),
        })
    }

    /// The node restarted with `log` after `base` (its snapshot's index, term and voters, or
    /// none): its commit and applied indexes may start lower again.
    pub fn restarted(
        &mut self,
        node: NodeId,
        base: Option<(LogIndex, Term, &[NodeId])>,
        log: &[Entry<KvAction>],
    ) {
        let (index, term, voters) = base.unwrap_or((0, 0, &self.initial_voters));
        let log = ShadowLog::restored(index, term, voters, log);
        self.nodes.insert(node, NodeView { commit: 0, applied: 0, log });
    }

    /// Checks a node after a step. `durable` is how far its log is on its disk: a leader that
    /// alone is a majority commits its entries once their write is queued, and a crash before
    /// the write ends loses them, unseen (every output that depends on them waits for the
    /// write), so only that far is it committed.
    pub fn check_node(&mut self, status: &Status, durable: LogIndex) -> Result<(), Violation> {
        let node = status.id;
        self.check_indexes(status)?;
        self.record_commit(node, status.term, status.commit.min(durable))?;
        if status.role == Role::Leader {
            self.check_leader(node, status.term)?;
        }
        Ok(())
    }

    /// `node` put `entries` in its log (a `Persist::Entries` it emitted): nothing changed at or
    /// below its own commit index, and configurations step by one voter. (Entries above the
    /// commit index may legitimately differ from what others committed: a follower keeps stale
    /// entries until a leader overwrites them.)
    pub fn wrote(&mut self, node: NodeId, entries: &[Entry<KvAction>]) -> Result<(), Violation> {
        let Some(first) = entries.first().map(|e| e.index) else { return Ok(()) };
        let view = self.view(node);
        let own_commit = view.commit;
        let mut voters = view.log.voters_before(first).map(<[NodeId]>::to_vec);
        view.log.write(entries);
        let committed = own_commit.min(self.committed_index());
        for entry in entries {
            if entry.index <= committed {
                let Committed { term, payload, .. } = &self.committed[entry.index as usize - 1];
                if entry.term != *term || entry.payload != *payload {
                    return Err(Violation::CommittedEntryLost {
                        node,
                        index: entry.index,
                        detail: format!(
                            "overwritten by {}@{} {:?} (committed {}@{term} {payload:?})",
                            entry.index, entry.term, entry.payload, entry.index
                        ),
                    });
                }
            }
            if let EntryPayload::Membership(membership) = &entry.payload {
                check_config_step(node, entry.index, voters.as_deref(), membership)?;
                voters = Some(membership.voters().to_vec());
            }
        }
        Ok(())
    }

    /// `node` made `entries` durable, after an entry of term `prev_term` (if its disk knows it):
    /// Log Matching against every durable copy so far. Only durable entries count: what a crash
    /// took before its write ended was never seen by anyone (no message leaves before the writes
    /// queued ahead of it), and a node may reuse its index and term (a lone voter re-elected in
    /// the term its vote never reached the disk for).
    pub fn persisted(
        &mut self,
        node: NodeId,
        mut prev_term: Option<Term>,
        entries: &[Entry<KvAction>],
    ) -> Result<(), Violation> {
        for entry in entries {
            let mismatch = |detail| Violation::LogMismatch {
                node,
                index: entry.index,
                term: entry.term,
                detail,
            };
            match self.entries.get_mut(&(entry.index, entry.term)) {
                None => {
                    let seen = Seen { payload: entry.payload.clone(), prev_term };
                    self.entries.insert((entry.index, entry.term), seen);
                }
                Some(seen) if seen.payload != entry.payload => {
                    let detail = format!("{:?}, elsewhere {:?}", entry.payload, seen.payload);
                    return Err(mismatch(detail));
                }
                Some(seen) => match (seen.prev_term, prev_term) {
                    (Some(elsewhere), Some(here)) if elsewhere != here => {
                        let detail =
                            format!("preceded by term {here}, elsewhere by term {elsewhere}");
                        return Err(mismatch(detail));
                    }
                    (None, Some(_)) => seen.prev_term = prev_term,
                    _ => {}
                },
            }
            prev_term = Some(entry.term);
        }
        Ok(())
    }

    /// `node`, whose commit index is `commit`, wrote a snapshot at `(index, term)` with `voters`
    /// in force (taken by compaction or installed from a leader): it covers committed entries
    /// only.
    pub fn snapshot_written(
        &mut self,
        node: NodeId,
        commit: LogIndex,
        (index, term, voters): (LogIndex, Term, &[NodeId]),
    ) -> Result<(), Violation> {
        if index > commit {
            return Err(Violation::SnapshotBeyondCommit { node, index, commit });
        }
        if let Some(committed) = self.committed.get(index as usize - 1) {
            if committed.term != term {
                return Err(Violation::StateMachine {
                    node,
                    index,
                    expected: format!("committed {index}@{}", committed.term),
                    found: format!("a snapshot of {index}@{term}"),
                });
            }
        }
        self.view(node).log.snapshot(index, term, voters);
        Ok(())
    }

    /// State Machine Safety on whole states: `node`'s state machine at `index`, where it wrote
    /// a snapshot to its disk, is the one every other node had there.
    pub fn state_at(
        &mut self,
        node: NodeId,
        index: LogIndex,
        state: &KvState,
    ) -> Result<(), Violation> {
        match self.snapshot_states.get(&index) {
            Some(first) if first != state => Err(Violation::StateMachine {
                node,
                index,
                expected: format!("state {first:?}"),
                found: format!("state {state:?}"),
            }),
            Some(_) => Ok(()),
            None => {
                self.snapshot_states.insert(index, state.clone());
                Ok(())
            }
        }
    }

    fn check_indexes(&mut self, status: &Status) -> Result<(), Violation> {
        let node = status.id;
        let view = self.view(node);
        if status.commit < view.commit {
            let from = view.commit;
            return Err(Violation::Regressed { node, what: "commit", from, to: status.commit });
        }
        if status.applied < view.applied {
            let from = view.applied;
            return Err(Violation::Regressed { node, what: "applied", from, to: status.applied });
        }
        if status.applied > status.commit {
            let (applied, commit) = (status.applied, status.commit);
            return Err(Violation::AppliedUncommitted { node, applied, commit });
        }
        if status.last_index < status.commit {
            return Err(Violation::CommittedEntryLost {
                node,
                index: status.commit,
                detail: format!("log ends at {} below its own commit index", status.last_index),
            });
        }
        view.applied = status.applied;
        Ok(())
    }

    /// Records newly committed entries, checking them against what others committed. Entries
    /// inside a snapshot the node installed are not known one by one: the leader that
    /// committed them recorded them.
    fn record_commit(
        &mut self,
        node: NodeId,
        term: Term,
        commit: LogIndex,
    ) -> Result<(), Violation> {
        let view = self.view(node);
        let from = view.commit + 1;
        view.commit = commit;
        let terms: Vec<(LogIndex, Term)> =
            (from..=commit).filter_map(|index| Some((index, view.log.term_at(index)?))).collect();
        for (index, entry_term) in terms {
            let Some(Seen { payload: entry_payload, .. }) = self.entries.get(&(index, entry_term))
            else {
                continue;
            };
            match self.committed.get(index as usize - 1) {
                Some(Committed { term, payload, .. })
                    if entry_term != *term || entry_payload != payload =>
                {
                    return Err(Violation::StateMachine {
                        node,
                        index,
                        expected: format!("committed {index}@{term} {payload:?}"),
                        found: format!("committed {index}@{entry_term} {entry_payload:?}"),
                    });
                }
                Some(_) => {}
                None if index == self.committed_index() + 1 => {
                    let payload = entry_payload.clone();
                    self.committed.push(Committed { term: entry_term, payload, commit_term: term });
                }
                // Entries before it were never seen committed with their contents: nothing to
                // record them after.
                None => {}
            }
        }
        Ok(())
    }

    /// Election Safety: `node` claims leadership of `term` (seen in its status, or announced
    /// by a role change that may not outlive the step).
    pub fn leader_claimed(&mut self, node: NodeId, term: Term) -> Result<(), Violation> {
        match self.leaders.get(&term) {
            Some(&first) if first != node => {
                Err(Violation::TwoLeaders { term, first, second: node })
            }
            Some(_) => Ok(()),
            None => {
                self.leaders.insert(term, node);
                self.unobserved.insert((node, term));
                Ok(())
            }
        }
    }

    /// Something of `node` in `term` (or a later one) left it or reached its disk: a write
    /// carrying the term, or a message other than a pre-vote. From then on its leaderships up
    /// to `term` count even if it crashes. Commit events need no call of their own: a leader's
    /// commit in its term follows either its own write of an entry of the term (a lone voter)
    /// or acknowledgements, which answer messages of the term.
    pub fn leadership_observed(&mut self, node: NodeId, term: Term) {
        self.unobserved.retain(|&(leader, claimed)| leader != node || claimed > term);
    }

    /// `node` crashed (or closed): a leadership nobody saw ends with it, as if it never won,
    /// and the term is open again. Only a candidate that wins without asking anyone gets there
    /// (a lone voter, or one its leaving leader handed its vote, see the core's `hand_off`): its
    /// vote for itself may still be queued when it crashes, and once restarted it may vote for
    /// another candidate in that term. (Any other candidate writes its vote before it asks for
    /// votes.) Returns the terms taken back.
    pub fn crashed(&mut self, node: NodeId) -> Vec<Term> {
        let mut withdrawn: Vec<Term> = self
            .unobserved
            .iter()
            .filter(|&&(leader, _)| leader == node)
            .map(|&(_, term)| term)
            .collect();
        withdrawn.sort_unstable();
        for term in &withdrawn {
            self.unobserved.remove(&(node, *term));
            self.leaders.remove(term);
        }
        withdrawn
    }

    /// `node` made its vote for `candidate` in `term` durable: the only one it casts in the term.
    pub fn vote_written(
        &mut self,
        node: NodeId,
        term: Term,
        candidate: NodeId,
    ) -> Result<(), Violation> {
        match *self.votes.entry((node, term)).or_insert(candidate) {
            first if first != candidate => {
                Err(Violation::VotedTwice { node, term, first, second: candidate })
            }
            _ => Ok(()),
        }
    }

    /// `node` won the election of `term` in the configuration of `voters`: Election Safety,
    /// and the durable votes of a majority of `voters` (its own counts if it is one of them; a
    /// candidate writes its vote for itself before asking for any).
    pub fn leader_elected(
        &mut self,
        node: NodeId,
        term: Term,
        voters: &[NodeId],
    ) -> Result<(), Violation> {
        self.leader_claimed(node, term)?;
        let votes: Vec<NodeId> = voters
            .iter()
            .copied()
            .filter(|&v| v == node || self.votes.get(&(v, term)) == Some(&node))
            .collect();
        if votes.len() <= voters.len() / 2 {
            let voters = voters.to_vec();
            return Err(Violation::ElectedWithoutQuorum { node, term, voters, votes });
        }
        Ok(())
    }

    /// Election Safety, and Leader Completeness the first time a node is seen leading a term.
    /// (Entries inside a snapshot the leader installed are not known one by one; the snapshot
    /// itself was checked to cover committed entries.)
    fn check_leader(&mut self, node: NodeId, term: Term) -> Result<(), Violation> {
        self.leader_claimed(node, term)?;
        if self.completeness_checked.insert((node, term)) {
            let log = &self.view(node).log;
            let (base, last) = (log.base(), log.last_index());
            for (position, committed) in self.committed.iter().enumerate() {
                let index = position as LogIndex + 1;
                if index <= base || committed.commit_term >= term {
                    continue;
                }
                let log = &self.nodes[&node].log;
                if index > last || log.term_at(index).is_some_and(|t| t != committed.term) {
                    return Err(Violation::LeaderIncomplete { leader: node, term, index });
                }
            }
        }
        Ok(())
    }

    /// State Machine Safety for one applied entry, at-most-once application of a request, and
    /// the acknowledgement at its index.
    pub fn applied(
        &mut self,
        node: NodeId,
        index: LogIndex,
        request: Option<RequestId>,
        action: &KvAction,
        output: &KvOutput,
    ) -> Result<(), Violation> {
        let this = Applied { request, action: action.clone(), output: output.clone() };
        match self.applied.get(&index) {
            Some(first) if *first != this => {
                return Err(Violation::StateMachine {
                    node,
                    index,
                    expected: format!("applied {first:?}"),
                    found: format!("applied {this:?}"),
                });
            }
            Some(_) => {}
            None => {
                if let Some(request) = request {
                    if let Some(&first) = self.applied_requests.get(&request) {
                        return Err(Violation::AppliedTwice { request, first, second: index });
                    }
                    self.applied_requests.insert(request, index);
                }
                self.applied.insert(index, this.clone());
            }
        }
        match self.acks.get(&index) {
            Some(acked) => check_ack(acked.0, index, &acked.1, &this),
            None => Ok(()),
        }
    }

    /// A proposal was acknowledged as committed at `index`, with `output`.
    pub fn acknowledged(
        &mut self,
        request: RequestId,
        index: LogIndex,
        output: &KvOutput,
    ) -> Result<(), Violation> {
        if let Some((previous, _)) = self.acks.get(&index) {
            if *previous != request {
                return Err(Violation::AckLost {
                    request,
                    index,
                    applied: format!("also acknowledged for {previous:?}"),
                });
            }
        }
        self.acks.insert(index, (request, output.clone()));
        match self.applied.get(&index) {
            Some(applied) => check_ack(request, index, output, applied),
            None => Ok(()),
        }
    }

    /// Before `write`, produced by `node` in term `term`, reaches its durable log: it must not
    /// replace or drop a durable copy of an entry committed in a term up to `term`. Every leader
    /// of such a term holds the entry (Leader Completeness), so no append in it can conflict.
    /// A node still in an older term may legitimately overwrite it, following an older leader.
    pub fn check_durable_write(
        &self,
        node: NodeId,
        term: Term,
        durable: &[Entry<KvAction>],
        write: &[Entry<KvAction>],
    ) -> Result<(), Violation> {
        let Some(first) = write.first().map(|e| e.index) else { return Ok(()) };
        let start = durable.partition_point(|e| e.index < first);
        for old in &durable[start..] {
            let Some(committed) = self.committed.get(old.index as usize - 1) else { break };
            if old.term != committed.term || committed.commit_term > term {
                continue;
            }
            let replacement = entry_at(write, old.index);
            if replacement.is_none_or(|new| new.term != committed.term) {
                let detail = match replacement {
                    Some(new) => format!("durable copy overwritten by term {}", new.term),
                    None => "durable copy truncated".to_string(),
                };
                return Err(Violation::CommittedEntryLost { node, index: old.index, detail });
            }
        }
        Ok(())
    }

    /// At the end: every committed entry is on the disk of a majority of `disks` (in its log,
    /// or covered by its snapshot).
    pub fn check_durable(
        &self,
        disks: &[(NodeId, &DurableState<KvAction>)],
    ) -> Result<(), Violation> {
        let majority = disks.len() / 2 + 1;
        for (position, Committed { term, .. }) in self.committed.iter().enumerate() {
            let index = position as LogIndex + 1;
            let holders = disks.iter().filter(|(_, disk)| holds(disk, index, *term)).count();
            if holders < majority {
                let node = disks.first().map_or(0, |(node, _)| *node);
                return Err(Violation::CommittedEntryLost {
                    node,
                    index,
                    detail: format!("durable on {holders} of {} nodes", disks.len()),
                });
            }
        }
        Ok(())
    }
}

/// Whether `disk` holds the entry `index@term`, in its log or under its snapshot (which covers
/// committed entries only).
pub fn holds(disk: &DurableState<KvAction>, index: LogIndex, term: Term) -> bool {
    disk.snapshot.as_ref().is_some_and(|s| s.index >= index)
        || entry_at(&disk.entries, index).is_some_and(|e| e.term == term)
}

/// An acknowledgement must name the request applied at its index, with the same output.
fn check_ack(
    request: RequestId,
    index: LogIndex,
    output: &KvOutput,
    applied: &Applied,
) -> Result<(), Violation> {
    if applied.request != Some(request) || applied.output != *output {
        let applied = format!("{applied:?}, acknowledged with {output:?}");
        return Err(Violation::AckLost { request, index, applied });
    }
    Ok(())
}

/// The entry at `index` in a log that may start after index 1.
pub fn entry_at<A>(log: &[Entry<A>], index: LogIndex) -> Option<&Entry<A>> {
    let first = log.first()?.index;
    let position = index.checked_sub(first)?;
    log.get(usize::try_from(position).ok()?)
}

/// The configuration at `index` against the voters before it in the same log (`None`: not
/// known, compacted away): at most one voter added or removed.
fn check_config_step(
    node: NodeId,
    index: LogIndex,
    before: Option<&[NodeId]>,
    membership: &Membership,
) -> Result<(), Violation> {
    let Some(from) = before else { return Ok(()) };
    let to = membership.voters();
    let changed = from.iter().filter(|v| !to.contains(v)).count()
        + to.iter().filter(|v| !from.contains(v)).count();
    if changed > 1 {
        let (from, to) = (from.to_vec(), to.to_vec());
        return Err(Violation::ConfigJump { node, index, from, to });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flotilla_core::Snapshot;

    /// For `check_node`: the whole log is on disk.
    const ON_DISK: LogIndex = LogIndex::MAX;

    /// `node` writes `entries` and they reach its disk.
    fn write(
        checker: &mut Invariants,
        node: NodeId,
        entries: &[Entry<KvAction>],
    ) -> Result<(), Violation> {
        checker.wrote(node, entries)?;
        let prev_term = (entries[0].index == 1).then_some(0);
        checker.persisted(node, prev_term, entries)
    }

    /// One step of a node whose log is now `log`, having written it from `from` on.
    fn step(
        checker: &mut Invariants,
        status: &Status,
        log: &[Entry<KvAction>],
        from: Option<LogIndex>,
    ) -> Result<(), Violation> {
        if let Some(from) = from {
            let start = log.partition_point(|e| e.index < from);
            let prev_term = match start {
                0 => (log[0].index == 1).then_some(0),
                _ => Some(log[start - 1].term),
            };
            checker.wrote(status.id, &log[start..])?;
            checker.persisted(status.id, prev_term, &log[start..])?;
        }
        checker.check_node(status, ON_DISK)
    }

    fn entry(index: LogIndex, term: Term, key: u64) -> Entry<KvAction> {
        let action = KvAction::Write { key, value: index };
        let request = RequestId { client: 1, seq: index };
        Entry { index, term, payload: EntryPayload::Action { request, action } }
    }

    fn status(id: NodeId, term: Term, role: Role, commit: LogIndex, last: LogIndex) -> Status {
        Status { id, term, role, leader: None, commit, applied: commit, last_index: last }
    }

    #[test]
    fn two_leaders_in_one_term_are_caught() {
        let mut checker = Invariants::new(&[]);
        step(&mut checker, &status(1, 3, Role::Leader, 0, 0), &[], None).unwrap();
        let err = step(&mut checker, &status(2, 3, Role::Leader, 0, 0), &[], None).unwrap_err();
        assert_eq!(err, Violation::TwoLeaders { term: 3, first: 1, second: 2 });
    }

    #[test]
    fn a_second_vote_in_a_term_is_caught() {
        let mut checker = Invariants::new(&[]);
        checker.vote_written(1, 4, 2).unwrap();
        checker.vote_written(1, 4, 2).unwrap();
        checker.vote_written(1, 5, 3).unwrap();
        let err = checker.vote_written(1, 4, 3);
        assert_eq!(err, Err(Violation::VotedTwice { node: 1, term: 4, first: 2, second: 3 }));
    }

    #[test]
    fn a_leader_needs_the_votes_of_a_majority_of_its_voters() {
        let mut checker = Invariants::new(&[]);
        checker.vote_written(2, 3, 1).unwrap();
        checker.leader_elected(1, 3, &[1, 2, 3]).unwrap();
        // A learner's vote (4) counts for nothing, nor does the candidate's own if it is not a
        // voter.
        checker.vote_written(4, 6, 5).unwrap();
        checker.vote_written(2, 6, 5).unwrap();
        let err = checker.leader_elected(5, 6, &[1, 2, 3]);
        let (voters, votes) = (vec![1, 2, 3], vec![2]);
        assert_eq!(err, Err(Violation::ElectedWithoutQuorum { node: 5, term: 6, voters, votes }));
    }

    #[test]
    fn a_lone_voter_that_crashes_before_its_vote_is_written_leaves_the_term_open() {
        // Seed 10840: n2, alone a voter, wins term 2 and crashes before writing its vote;
        // restarted in term 1, it votes for n1 in term 2, and n1 wins the term.
        let mut checker = Invariants::new(&[]);
        checker.leader_elected(2, 2, &[2]).unwrap();
        assert_eq!(checker.crashed(2), vec![2]);
        checker.vote_written(2, 2, 1).unwrap();
        checker.leader_elected(1, 2, &[2]).unwrap();
    }

    #[test]
    fn a_leadership_that_reached_the_disk_or_the_wire_outlives_the_crash() {
        let mut checker = Invariants::new(&[]);
        checker.leader_elected(2, 2, &[2]).unwrap();
        checker.leader_elected(2, 3, &[2]).unwrap();
        // The vote for term 2 is on the disk (a write of term 1 would not have shown it);
        // term 3 is left unseen.
        checker.leadership_observed(2, 1);
        checker.leadership_observed(2, 2);
        assert_eq!(checker.crashed(2), vec![3]);
        let err = checker.leader_elected(1, 2, &[1]);
        assert_eq!(err, Err(Violation::TwoLeaders { term: 2, first: 2, second: 1 }));
        checker.leader_elected(1, 3, &[1]).unwrap();
    }

    #[test]
    fn log_mismatch_is_caught() {
        let mut checker = Invariants::new(&[]);
        let a = [entry(1, 1, 0), entry(2, 2, 0)];
        step(&mut checker, &status(1, 2, Role::Follower, 0, 2), &a, Some(1)).unwrap();
        let b = [entry(1, 1, 0), entry(2, 2, 9)];
        let err = step(&mut checker, &status(2, 2, Role::Follower, 0, 2), &b, Some(1));
        assert!(matches!(err, Err(Violation::LogMismatch { index: 2, .. })));
    }

    #[test]
    fn leader_missing_a_committed_entry_is_caught() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0), entry(2, 1, 0)];
        step(&mut checker, &status(1, 1, Role::Leader, 2, 2), &log, Some(1)).unwrap();
        let short = [entry(1, 1, 0)];
        let err = step(&mut checker, &status(2, 2, Role::Leader, 1, 1), &short, Some(1));
        assert_eq!(err, Err(Violation::LeaderIncomplete { leader: 2, term: 2, index: 2 }));
    }

    #[test]
    fn a_stale_leader_need_not_hold_entries_committed_in_later_terms() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 3, 0)];
        step(&mut checker, &status(1, 3, Role::Leader, 1, 1), &log, Some(1)).unwrap();
        // A candidate of term 2 that slept through term 3 may still win term 2.
        step(&mut checker, &status(2, 2, Role::Leader, 0, 0), &[], None).unwrap();
    }

    #[test]
    fn a_configuration_changing_two_voters_at_once_is_caught() {
        let mut checker = Invariants::new(&[1, 2, 3]);
        let config = |index, voters: &[NodeId]| {
            let payload = EntryPayload::Membership(Membership::with_voters(voters));
            Entry { index, term: 1, payload }
        };
        let grown = [entry(1, 1, 0), config(2, &[1, 2, 3, 4])];
        step(&mut checker, &status(1, 1, Role::Leader, 0, 2), &grown, Some(1)).unwrap();
        let jump = [grown[0].clone(), grown[1].clone(), config(3, &[1, 2])];
        let err = step(&mut checker, &status(1, 1, Role::Leader, 0, 3), &jump, Some(3));
        let (from, to) = (vec![1, 2, 3, 4], vec![1, 2]);
        assert_eq!(err, Err(Violation::ConfigJump { node: 1, index: 3, from, to }));
    }

    #[test]
    fn a_commit_not_on_disk_yet_is_not_recorded() {
        let mut checker = Invariants::new(&[]);
        // A lone leader commits entry 2 before writing it, then crashes: it never happened.
        let log = [entry(1, 1, 0), entry(2, 1, 0)];
        write(&mut checker, 1, &log).unwrap();
        checker.check_node(&status(1, 1, Role::Leader, 2, 2), 1).unwrap();
        checker.restarted(1, None, &log[..1]);
        let rewritten = [entry(2, 2, 5)];
        write(&mut checker, 1, &rewritten).unwrap();
        checker.check_node(&status(1, 2, Role::Leader, 2, 2), 2).unwrap();
        assert_eq!(checker.committed_index(), 2);
    }

    #[test]
    fn entries_compacted_in_the_step_that_committed_them_are_recorded() {
        let mut checker = Invariants::new(&[]);
        write(&mut checker, 1, &[entry(1, 1, 0), entry(2, 1, 0)]).unwrap();
        checker.snapshot_written(1, 2, (2, 1, &[1])).unwrap();
        checker.check_node(&status(1, 1, Role::Leader, 2, 2), ON_DISK).unwrap();
        assert_eq!(checker.committed_index(), 2);
        // Another node's conflicting commit at 2 is caught though no log holds entry 2 now.
        write(&mut checker, 2, &[entry(1, 1, 0), entry(2, 2, 0)]).unwrap();
        let err = checker.check_node(&status(2, 2, Role::Follower, 2, 2), ON_DISK);
        assert!(matches!(err, Err(Violation::StateMachine { index: 2, .. })));
    }

    #[test]
    fn a_snapshot_of_uncommitted_entries_is_caught() {
        let mut checker = Invariants::new(&[]);
        write(&mut checker, 1, &[entry(1, 1, 0), entry(2, 1, 0)]).unwrap();
        checker.check_node(&status(1, 1, Role::Leader, 1, 2), ON_DISK).unwrap();
        let err = checker.snapshot_written(1, 1, (2, 1, &[1]));
        assert_eq!(err, Err(Violation::SnapshotBeyondCommit { node: 1, index: 2, commit: 1 }));
        let err = checker.snapshot_written(2, 5, (1, 3, &[1]));
        assert!(matches!(err, Err(Violation::StateMachine { index: 1, .. })));
    }

    #[test]
    fn snapshots_at_one_index_hold_one_state() {
        let mut checker = Invariants::new(&[]);
        let state = KvState::default();
        checker.state_at(1, 5, &state).unwrap();
        checker.state_at(2, 5, &state).unwrap();
        let mut other = KvState::default();
        other.values.insert(1, 1);
        assert!(checker.state_at(3, 5, &other).is_err());
    }

    #[test]
    fn commit_going_back_is_caught_but_not_across_restarts() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0), entry(2, 1, 0)];
        step(&mut checker, &status(1, 1, Role::Follower, 2, 2), &log, Some(1)).unwrap();
        let err = step(&mut checker, &status(1, 1, Role::Follower, 1, 2), &log, None);
        assert!(matches!(err, Err(Violation::Regressed { what: "commit", .. })));
        checker.restarted(1, None, &log);
        step(&mut checker, &status(1, 1, Role::Follower, 1, 2), &log, None).unwrap();
    }

    #[test]
    fn overwriting_an_entry_below_the_own_commit_index_is_caught() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0), entry(2, 1, 0)];
        step(&mut checker, &status(1, 1, Role::Follower, 2, 2), &log, Some(1)).unwrap();
        // Another node may hold a stale entry at a committed index: it has not committed it.
        let stale = [entry(1, 1, 0), entry(2, 3, 0)];
        step(&mut checker, &status(2, 3, Role::Follower, 1, 2), &stale, Some(2)).unwrap();
        let err = step(&mut checker, &status(1, 3, Role::Follower, 2, 2), &stale, Some(2));
        assert!(matches!(err, Err(Violation::CommittedEntryLost { index: 2, .. })));
    }

    #[test]
    fn dropping_a_durable_committed_entry_is_caught() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0), entry(2, 1, 0)];
        step(&mut checker, &status(1, 1, Role::Leader, 2, 2), &log, Some(1)).unwrap();
        let (extend, overwrite) = ([entry(2, 1, 0), entry(3, 1, 0)], [entry(2, 2, 0)]);
        assert!(checker.check_durable_write(2, 1, &log, &extend).is_ok());
        assert!(checker.check_durable_write(2, 2, &log, &overwrite).is_err());
        assert!(checker.check_durable_write(2, 2, &log[..1], &overwrite).is_ok());
    }

    #[test]
    fn lost_acknowledgement_is_caught() {
        let mut checker = Invariants::new(&[]);
        let acked = RequestId { client: 1, seq: 1 };
        checker.acknowledged(acked, 5, &KvOutput::Written).unwrap();
        let other = RequestId { client: 2, seq: 1 };
        let read = KvAction::Read { key: 0 };
        let err = checker.applied(3, 5, Some(other), &read, &KvOutput::Read(None));
        assert!(matches!(err, Err(Violation::AckLost { index: 5, .. })));
    }

    #[test]
    fn a_wrong_acknowledged_output_is_caught() {
        let mut checker = Invariants::new(&[]);
        let request = RequestId { client: 1, seq: 1 };
        let read = KvAction::Read { key: 0 };
        checker.applied(1, 2, Some(request), &read, &KvOutput::Read(Some(4))).unwrap();
        let err = checker.acknowledged(request, 2, &KvOutput::Read(None));
        assert!(matches!(err, Err(Violation::AckLost { index: 2, .. })));
    }

    #[test]
    fn a_request_applied_twice_is_caught() {
        let mut checker = Invariants::new(&[]);
        let request = RequestId { client: 1, seq: 1 };
        let write = KvAction::Write { key: 0, value: 1 };
        checker.applied(1, 2, Some(request), &write, &KvOutput::Written).unwrap();
        checker.applied(2, 2, Some(request), &write, &KvOutput::Written).unwrap();
        let err = checker.applied(1, 3, Some(request), &write, &KvOutput::Written);
        assert_eq!(err, Err(Violation::AppliedTwice { request, first: 2, second: 3 }));
    }

    #[test]
    fn a_node_behind_may_overwrite_an_entry_committed_in_a_later_term() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0)];
        // Committed in term 3 (by the leader of term 3), though written in term 1.
        step(&mut checker, &status(1, 3, Role::Leader, 1, 1), &log, Some(1)).unwrap();
        // A node that has only heard of term 2 follows its leader over it ...
        assert!(checker.check_durable_write(2, 2, &log, &[entry(1, 2, 0)]).is_ok());
        // ... but not once it knows term 3.
        assert!(checker.check_durable_write(2, 3, &log, &[entry(1, 2, 0)]).is_err());
    }

    #[test]
    fn entries_missing_from_durable_majority_are_caught() {
        let mut checker = Invariants::new(&[]);
        let log = [entry(1, 1, 0)];
        step(&mut checker, &status(1, 1, Role::Leader, 1, 1), &log, Some(1)).unwrap();
        let (full, empty) = (disk(&log, None), disk(&[], None));
        let compacted = disk(&[], Some(1));
        assert!(checker.check_durable(&[(1, &full), (2, &compacted), (3, &empty)]).is_ok());
        assert!(checker.check_durable(&[(1, &full), (2, &empty), (3, &empty)]).is_err());
    }

    /// A disk with `entries`, after a snapshot at `snapshot` (term 1) if any.
    fn disk(entries: &[Entry<KvAction>], snapshot: Option<LogIndex>) -> DurableState<KvAction> {
        let snapshot = snapshot.map(|index| Snapshot {
            index,
            term: 1,
            membership: Membership::with_voters(&[1]),
            data: Vec::new(),
        });
        DurableState { snapshot, entries: entries.to_vec(), ..DurableState::default() }
    }
}
