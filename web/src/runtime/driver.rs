//! The Raft loop of one tab: inputs in (frames, ticks, commands), outputs out, in the order the
//! core prescribes.
//!
//! # One step
//! 1. One input: a frame ([`wire`] decodes it; a bad one is logged and dropped), a tick, or a
//!    command.
//! 2. Drain `poll_output`: every `Persist` goes into the store, every `Send` is held back, every
//!    event updates what the view shows.
//! 3. Flush the store once, **then** transmit the held messages, one frame per peer:
//!    persist-before-send, at one storage write per batch. A hard state that moves only the
//!    commit index is written lazily (the core allows it). A failed flush stops the node:
//!    nothing that depended on the lost write is ever sent. The one exception is a leader's
//!    appends, which Raft lets go before the leader's own write (`sends_before_flush`).
//! 4. Arm the ticker for the earliest of the node's `poll_timeout`, the next gossip round and
//!    the next membership check.
//!
//! # Membership
//! Only the room's founder (the signal server names one: its oldest tab) bootstraps a cluster,
//! once it has been alone in the room for `BOOTSTRAP_ALONE_MS` or every other tab of the room
//! said (by gossip) that it is in no cluster; any other tab asks to join through a member it is
//! linked to. The leader runs the core's policy: linked tabs outside the configuration
//! are admitted, learners promoted once caught up, tabs that closed (a goodbye frame, or the
//! signal server saying they left the room) removed at once, silent ones after `dead_after`. A tab that reloads is removed and comes back as a learner
//! with its own log, so no configuration ever waits for a tab that may not return.
//!
//! # Failure hints
//! A leader whose page closes hands off on its way out (`page_hide`): its successor is elected
//! as soon as that frame arrives. Otherwise a goodbye frame, or a closed link, is the core's
//! fast failure hint (`handle_peer_disconnected`); on top of it
//! this loop retries a lost first campaign in turns and breaks split votes at random
//! (`disconnected`, `split_vote`), so a new leader usually follows a closed one within tens of
//! milliseconds rather than an election timeout.
//!
//! # Paused and isolated
//! Paused, the node is a frozen process: no ticks, and inputs are held, in order, as a frozen
//! process's socket buffers would hold them (up to a bound), then processed on resume. Holding
//! rather than dropping is what a DevTools freeze or a stopped process does, and it is the
//! interesting case: on resume the old leader first works through stale traffic, then meets the
//! new term and steps down. Isolated, Raft and gossip frames are dropped both ways, as in a
//! network partition; the data channels stay open.
use flotilla_core::{VecMap, VecSet};
use std::collections::VecDeque;

use flotilla_core::gossip::{self, Gossip, Key, Value};
use flotilla_core::membership::policy;
use flotilla_core::reducers::shared_log::{Post, SharedLog};
use flotilla_core::{
    Change, DurableState, Event, LogIndex, Membership, MessageBody, Node, NodeId, Output, Persist,
    RequestId, Role, Term,
};
use gloo::console;

use super::cluster::CLUSTER_KEY;
use super::names::{colour_for, name_for};
use super::net::{LinkId, NetEvent, Network, Signaling};
use super::observe::Observer;
use super::settings::{
    Timings, BOOTSTRAP_ALONE_MS, DEAD_AFTER_MS, GOSSIP_EVERY_MS, MEMBERSHIP_EVERY_MS,
    PAUSED_INBOX_FRAMES, PROPOSE_SLICE, SHARED_LOG_ROWS, STREAM_QUIET_MS,
};
use super::stats::{self, Stats};
use super::storage::DurableStore;
use super::ticker::{now, Ticker};
use super::wire::{self, Frame, RaftMessage, Reassembly};
use crate::view::{Command, MessageKind, TimelineKind};

/// What to do once a proposal of this tab settles: `Ok(index)` or the error, as text.
pub type Settle = Box<dyn FnOnce(Result<LogIndex, String>)>;

/// Everything that drives the loop.
pub enum Input {
    Net(NetEvent),
    Tick,
    Command(Command),
    /// Appends whose outcomes someone waits for (the test hook), proposed together so that a
    /// burst is one batch: one durable write and one append message per follower.
    Propose(Vec<(String, Settle)>),
    /// The page is going away: say goodbye while the channels are still open.
    PageHide,
}

/// A link to another tab.
struct Link {
    node: NodeId,
    name: String,
    colour: String,
    reassembly: Reassembly,
    /// When it came up.
    since: f64,
}

/// When to campaign again after the leader's tab closed (see `Driver::disconnected`).
struct CampaignRetry {
    next: f64,
    every: f64,
    until: f64,
}

/// A proposal of this tab, until its outcome.
pub struct Mine {
    pub at: f64,
    pub post: Post,
    settle: Option<Settle>,
}

/// Whom a tab is, as the runtime starts it.
pub struct Identity {
    pub node: NodeId,
    pub name: String,
    pub colour: String,
    pub room: String,
    /// The link that opens this room.
    pub share_url: String,
}

pub struct Driver {
    pub id: Identity,
    pub timings: Timings,
    pub dead_after: u64,
    pub node: Node<SharedLog>,
    /// The member this node last asked to join through, while it is not a member.
    join_via: Option<NodeId>,
    /// The cluster this node belongs to (see `cluster`), once it founded or joined one.
    pub(super) cluster: Option<u64>,
    /// The configuration last reported by the node, to tell what changed.
    membership_seen: Membership,
    /// Something happened that may call for a membership change; `membership` is running.
    membership_news: bool,
    in_membership: bool,
    /// Campaigning again after the leader's tab closed, while no leader is known.
    campaign_retry: Option<CampaignRetry>,
    /// When the signal server's room list last arrived (who else is in the room is known
    /// from then on), and whether this tab said it waits before founding a cluster alone.
    room_joined_at: Option<f64>,
    waiting_alone: bool,
    pub signaling: Signaling,
    /// The index the latest snapshot covers (0: none), and what the current batch of outputs
    /// did about snapshots, for the timeline.
    pub snapshot_index: LogIndex,
    snapshot_written: Option<LogIndex>,
    snapshot_installed: bool,
    /// Nodes whose tab closed (goodbye, or gone from the room), until they are removed or return.
    departed: VecSet<NodeId>,
    pub(super) store: DurableStore,
    pub gossip: Gossip,
    net: Box<dyn Network>,
    ticker: Ticker,
    links: VecMap<LinkId, Link>,
    /// The link currently leading to each node (a reload brings a new link before or after the
    /// old one goes down).
    pub(super) by_node: VecMap<NodeId, LinkId>,
    /// When a frame last came from each node.
    pub heard: VecMap<NodeId, f64>,
    /// Request ids of this page: a random client id (a reload must not reuse sequence numbers
    /// the session table remembers) and the next sequence number.
    client: u64,
    next_seq: u64,
    /// This tab's proposals not settled yet, by sequence number: pushed at the back in the
    /// order they were made, and mostly settled in that order, from the front. Not a `VecMap`:
    /// settling each of a burst's 10,000 entries would move all the rest (quadratic: a fifth
    /// of a leader's busy time in a burst).
    pub mine: VecDeque<(u64, Mine)>,
    /// Appends waiting for their slice (`propose_queued`).
    queued: VecDeque<(String, Option<Settle>)>,
    pub voted_for: Option<NodeId>,
    /// The term and vote last written, and a newer hard state that differs from it only in
    /// its commit index, not written yet.
    stored_vote: (Term, Option<NodeId>),
    lazy_hard_state: Option<Persist<Post>>,
    pub paused: bool,
    held: VecDeque<Input>,
    pub isolated: bool,
    /// Set when durable storage failed: the node is stopped for good.
    pub failed: Option<String>,
    pub obs: Observer,
    pub stats: Stats,
    /// The log index of the newest committed posts, by position in the shared log.
    pub post_index: VecMap<usize, LogIndex>,
    /// While a restarted node re-applies its committed log: not new commits.
    replaying: bool,
    next_gossip: f64,
    next_membership: f64,
    /// Outgoing messages of the current batch, held until the store is flushed (a leader's may
    /// go before, see `drain`).
    outbox: Vec<RaftMessage>,
    /// The runtime lets `drain` transmit right away: no transmission is pending that these
    /// messages could overtake (see `Shared::pump`).
    pub(super) send_at_once: bool,
    /// The tab whose frame is being handled: its messages go out first (see `transmit_outbox`).
    reply_first: Option<NodeId>,
    /// The append bodies of the current batch, encoded once for all followers.
    bodies: wire::Bodies,
    /// This node's last log index as of its last step, and when that index last moved: a
    /// leader streaming entries to this follower waits for its acks (`commit_in_flight`).
    log_end: (LogIndex, f64),
    /// Something visible changed since the last view.
    pub dirty: bool,
}

impl Driver {
    /// Starts (or restarts, from what `store` holds) node `id.node` on `net`.
    pub fn new(
        id: Identity,
        store: DurableStore,
        net: Box<dyn Network>,
        ticker: Ticker,
    ) -> Result<Driver, String> {
        let durable: DurableState<Post> =
            store.durable_state().map_err(|error| format!("durable state unreadable: {error}"))?;
        let timings = Timings::default();
        let at = now();
        let cluster = store.cluster().map_err(|error| format!("cluster id unreadable: {error}"))?;
        let voted_for = durable.voted_for;
        let stored_vote = (durable.term, durable.voted_for);
        let snapshot_index = durable.snapshot.as_ref().map_or(0, |snapshot| snapshot.index);
        // No voters assumed: the configuration is whatever the snapshot and log hold. A node
        // with none bootstraps a cluster or joins one (`membership`).
        let node = Node::try_restart(timings.config(id.node), &[], durable, seed(), at as u64)
            .map_err(|error| format!("cannot restart the node: {error}"))?;
        // Gossip incarnations must grow across lives of this node id: the wall clock does.
        let gossip = Gossip::new(id.node, js_sys::Date::now() as u64, gossip::Config::default());
        let mut driver = Driver {
            join_via: None,
            cluster,
            membership_seen: Membership::default(),
            membership_news: false,
            in_membership: false,
            room_joined_at: None,
            waiting_alone: false,
            campaign_retry: None,
            signaling: Signaling::Connecting,
            snapshot_index,
            snapshot_written: None,
            snapshot_installed: false,
            departed: VecSet::new(),
            id,
            timings,
            dead_after: DEAD_AFTER_MS,
            node,
            store,
            gossip,
            net,
            ticker,
            links: VecMap::new(),
            by_node: VecMap::new(),
            heard: VecMap::new(),
            client: random_u53(),
            next_seq: 1,
            mine: VecDeque::new(),
            queued: VecDeque::new(),
            voted_for,
            stored_vote,
            lazy_hard_state: None,
            paused: false,
            held: VecDeque::new(),
            isolated: false,
            failed: None,
            obs: Observer::default(),
            stats: Stats::default(),
            post_index: VecMap::new(),
            replaying: true,
            next_gossip: at,
            next_membership: at,
            outbox: Vec::new(),
            send_at_once: false,
            reply_first: None,
            bodies: wire::Bodies::default(),
            log_end: (0, f64::NEG_INFINITY),
            dirty: true,
        };
        driver.publish_telemetry();
        driver.drain();
        driver.replaying = false;
        let text = format!("{} started in room {}", driver.id.name, driver.id.room);
        driver.obs.event(at, TimelineKind::Info, text);
        Ok(driver)
    }

    /// Handles one input (or holds it while paused).
    pub fn input(&mut self, input: Input) {
        if let Some(reason) = &self.failed {
            if let Input::Propose(posts) = input {
                for (_, settle) in posts {
                    settle(Err(format!("the node stopped: {reason}")));
                }
            }
            return;
        }
        if self.paused {
            match input {
                Input::Command(Command::SetPaused(false)) => self.resume(),
                Input::Command(Command::WipeAndReload) | Input::PageHide => self.handle(input),
                // A frozen process has no timers.
                Input::Tick => {}
                input => {
                    if self.held.len() == PAUSED_INBOX_FRAMES {
                        self.held.pop_front();
                        self.stats.dropped_frames += 1;
                    }
                    self.held.push_back(input);
                }
            }
            return;
        }
        self.handle(input);
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Net(NetEvent::Up { link, meta }) => self.link_up(link, meta),
            Input::Net(NetEvent::Down { link, departed }) => self.link_down(link, departed),
            Input::Net(NetEvent::Frame { link, bytes }) => self.frame(link, bytes),
            Input::Net(NetEvent::Signaling(state)) => {
                self.signaling = state;
                if state == Signaling::Connected {
                    let at = now();
                    self.room_joined_at = Some(at);
                    self.join_or_bootstrap(at);
                }
            }
            Input::Tick => self.tick(),
            Input::Command(command) => self.command(command),
            Input::Propose(posts) => {
                self.queued.extend(posts.into_iter().map(|(text, settle)| (text, Some(settle))));
                self.propose_queued();
                self.drain();
            }
            Input::PageHide => self.page_hide(),
        }
    }

    fn resume(&mut self) {
        self.paused = false;
        self.ticker.resume();
        let text = format!("{} resumed with {} held inputs", self.id.name, self.held.len());
        self.obs.event(now(), TimelineKind::Info, text);
        while let Some(input) = self.held.pop_front() {
            self.handle(input);
            if self.paused {
                return;
            }
        }
        self.tick();
    }

    fn command(&mut self, command: Command) {
        let at = now();
        match command {
            Command::Append(text) => self.propose(text, None),
            Command::Burst(count) => {
                self.queued.extend((1..=count).map(|i| (format!("burst {i}/{count}"), None)));
                self.propose_queued();
            }
            Command::SetPaused(true) => {
                self.paused = true;
                self.ticker.pause();
                self.obs.event(at, TimelineKind::Info, format!("{} paused", self.id.name));
            }
            Command::SetPaused(false) => {}
            Command::SetIsolated(isolated) => {
                self.isolated = isolated;
                let text = if isolated { "isolated from the others" } else { "healed" };
                self.obs.event(at, TimelineKind::Info, format!("{} {text}", self.id.name));
            }
            Command::SetTimings {
                election_timeout_min_ms,
                election_timeout_max_ms,
                heartbeat_ms,
            } => {
                let timings =
                    Timings { election_timeout_min_ms, election_timeout_max_ms, heartbeat_ms };
                self.timings = timings.sanitized();
                // The core takes its timings at creation: restart it from durable state, as a
                // process restarted with new settings would (a leader loses its leadership).
                self.restart_node();
            }
            Command::SetDeadAfter(ms) => self.dead_after = ms.clamp(1_000, 3_600_000),
            Command::WipeAndReload => self.wipe_and_reload(),
            Command::CompactNow => {
                if self.node.compact_now().is_none() {
                    let text = "nothing applied since the last snapshot: no compaction".to_owned();
                    self.obs.event(at, TimelineKind::Info, text);
                }
            }
            Command::TransferLeadership(target) => {
                match self.node.transfer_leadership(at as u64, target) {
                    Ok(()) => {
                        let text = format!("handing leadership to {}", self.name_of(target));
                        self.obs.event(at, TimelineKind::Info, text);
                    }
                    Err(error) => self.obs.error(at, format!("no transfer: {error}")),
                }
            }
            Command::StepDown => match self.node.step_down(at as u64) {
                Ok(target) => {
                    let text = format!("stepping down for {}", self.name_of(target));
                    self.obs.event(at, TimelineKind::Info, text);
                }
                Err(error) => self.obs.error(at, format!("cannot step down: {error}")),
            },
        }
        self.dirty = true;
        self.drain();
    }

    /// Proposes one post by this tab.
    fn propose(&mut self, text: String, settle: Option<Settle>) {
        let at = now();
        let post = Post { author: self.id.name.clone(), text, at: js_sys::Date::now() as u64 };
        let request = RequestId { client: self.client, seq: self.next_seq };
        self.next_seq += 1;
        match self.node.propose(at as u64, request, post.clone()) {
            Ok(()) => {
                self.mine.push_back((request.seq, Mine { at, post, settle }));
            }
            Err(error) => {
                let text = error.to_string();
                self.obs.error(at, format!("“{}”: {text}", short(&post.text)));
                if let Some(settle) = settle {
                    settle(Err(text));
                }
            }
        }
    }

    /// Proposes queued appends, a slice per task: a burst of 100,000 must not hold the main
    /// thread for a second, or heartbeats stop and the cluster elects a new leader. What is
    /// left goes on at the next tick, armed for at once.
    fn propose_queued(&mut self) {
        let slice = self.queued.len().min(PROPOSE_SLICE);
        for (text, settle) in self.queued.drain(..slice).collect::<Vec<_>>() {
            self.propose(text, settle);
        }
        self.dirty = true;
    }

    fn tick(&mut self) {
        let at = now();
        self.propose_queued();
        let ms = at as u64;
        if self.node.poll_timeout().is_some_and(|deadline| deadline <= ms) {
            self.node.handle_timeout(ms);
        }
        if at >= self.next_gossip {
            self.next_gossip = at + GOSSIP_EVERY_MS as f64;
            self.gossip_round(ms);
        }
        if at >= self.next_membership {
            self.next_membership = at + MEMBERSHIP_EVERY_MS as f64;
            self.membership(at);
        }
        self.retry_campaign(at);
        self.drain();
    }

    /// Drains the node's outputs: persist all, flush once, then send (see the module doc), or
    /// for a leader's appends, send then flush (see `sends_before_flush`).
    pub fn drain(&mut self) {
        let at = now();
        let mut vote_written = false;
        while let Some(output) = self.node.poll_output() {
            match output {
                Output::Persist(write) => {
                    if let Persist::HardState { term, voted_for, .. } = &write {
                        self.voted_for = *voted_for;
                        if (*term, *voted_for) == self.stored_vote {
                            // Only the commit index moved, which may be written lazily (a
                            // restart merely learns it again): one storage write less per
                            // commit, on the hot path of every append.
                            self.lazy_hard_state = Some(write);
                            continue;
                        }
                        self.stored_vote = (*term, *voted_for);
                        self.lazy_hard_state = None;
                        vote_written = true;
                    }
                    if let Persist::Snapshot { snapshot } = &write {
                        self.snapshot_index = snapshot.index;
                        self.snapshot_written = Some(snapshot.index);
                    }
                    if let Err(error) = self.store.persist(&write) {
                        return self.fail(format!("cannot record a durable write: {error}"));
                    }
                }
                Output::Send(message) => self.outbox.push(message),
                Output::Event(event) => self.event(at, event),
            }
        }
        if self.store.has_unflushed() {
            let sent_first = self.send_at_once && self.sends_before_flush(vote_written);
            if sent_first {
                self.transmit_outbox();
            }
            if let Err(error) = self.store.flush() {
                if sent_first {
                    // A follower may already count those entries committed because this
                    // leader holds them (follower-side commit, see the core's crate doc): a
                    // stored log without them must never vote again.
                    self.forget_node();
                }
                return self.fail(format!("sessionStorage write failed: {error}"));
            }
        }
        if let Some(index) = self.snapshot_written.take() {
            let text = if std::mem::take(&mut self.snapshot_installed) {
                format!("{} installed the leader's snapshot up to {index}", self.id.name)
            } else {
                format!("{} compacted its log up to {index}", self.id.name)
            };
            self.obs.event(at, TimelineKind::Snapshot, text);
        }
        // The messages wait in the outbox for `transmit_outbox`, which the runtime runs in a
        // microtask once this task's promise reactions have run (see `Shared::schedule_send`).
        self.after_step(at);
    }

    /// Whether this batch's messages may leave before its writes are flushed: a leader's, in a
    /// batch that wrote no term or vote. Raft lets a leader replicate entries before its own
    /// write of them lands (thesis §10.2.1) provided it counts itself toward their commit only
    /// once that write has landed. Here the write is a synchronous `setItem` in this same task,
    /// so no acknowledgement can be handled (acks are tasks of their own) before it finished:
    /// the flush that follows is that write. If it fails, the node stops for good, never
    /// counts itself, and forgets its id and stored state (`forget_node`): followers holding
    /// the entries are then as after a leader that crashed having sent them, which Raft allows
    /// (a later leader may commit them or not, so the proposals are reported as of unknown
    /// outcome, see `fail`), except that a follower may have taken them as committed with
    /// this leader's copy, which no log of this node that lacks them may ever contradict. A leader's other messages
    /// (heartbeats, snapshot chunks, refused votes) promise nothing a pending write holds; a
    /// new term or vote must be durable before anything of that term is said, and a follower
    /// always writes before it acknowledges, so any other batch keeps persist-before-send.
    /// Saves the `setItem` (0.1 ms or more, growing with the tail segment) on every commit's
    /// path: proposals at the leader and proposals a follower forwarded to it.
    fn sends_before_flush(&self, vote_written: bool) -> bool {
        !vote_written && self.node.status().role == Role::Leader
    }

    /// Whether messages wait for [`transmit_outbox`](Self::transmit_outbox).
    pub fn send_due(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Transmits what the node sent since the last call, all of it persisted already (but see
    /// `sends_before_flush`): one frame per peer (see `wire`), whatever number of inputs
    /// produced them, each peer's messages in their order. The tab whose frame caused them
    /// comes first: a leader's appends for a proposal a follower forwarded reach that follower,
    /// whose commit it is, before the others (each data channel send costs the main thread
    /// 0.1-0.3 ms, e2e/hops.mjs).
    ///
    /// The peers are sorted, not the messages: a stable sort of the messages linked its own
    /// sort code (2.1 KB gzip of the bundle), while `sort_unstable` of node ids is there anyway.
    pub fn transmit_outbox(&mut self) {
        let first = self.reply_first.take();
        if self.outbox.is_empty() {
            return;
        }
        let at = now();
        let mut peers: Vec<NodeId> = self.outbox.iter().map(|message| message.to).collect();
        peers.sort_unstable();
        peers.dedup();
        if let Some(slot) = peers.iter().position(|&peer| Some(peer) == first) {
            peers[..=slot].rotate_right(1);
        }
        let mut unsent = std::mem::take(&mut self.outbox);
        for peer in peers {
            let (theirs, others): (Vec<_>, Vec<_>) =
                unsent.into_iter().partition(|message| message.to == peer);
            self.transmit(at, &theirs);
            unsent = others;
        }
        self.bodies.clear();
    }

    /// Whether a commit someone waits for depends on this tab right now: its own proposals are
    /// in flight or queued, it leads and holds entries not yet committed, or it follows and
    /// its log grew within `STREAM_QUIET_MS` (a leader streaming a burst or a loop wants its
    /// next ack soon). A view rendered now would hold the main thread (tens of milliseconds of
    /// Yew, style, layout and paint; 100-270 ms at a follower in the middle of a burst on a
    /// loaded machine) between a message and its answer, so views wait for such work to finish
    /// (see `Shared::render`).
    pub fn commit_in_flight(&self) -> bool {
        if !self.mine.is_empty() || !self.queued.is_empty() {
            return true;
        }
        let status = self.node.status();
        match status.role {
            Role::Leader => status.commit < status.last_index,
            _ => now() - self.log_end.1 < STREAM_QUIET_MS,
        }
    }

    /// Keeps the election timer of the view current, and arms the ticker.
    fn after_step(&mut self, at: f64) {
        let status = self.node.status();
        if status.last_index != self.log_end.0 {
            // The end of this step, not its start: a long write must not count as quiet.
            self.log_end = (status.last_index, now());
        }
        let deadline = self.node.poll_timeout();
        if status.role == Role::Leader {
            self.obs.leading(at);
            self.obs.election_timer = None;
        } else if let Some(deadline) = deadline {
            let deadline = deadline as f64;
            if self.obs.election_timer.is_none_or(|(_, armed)| armed != deadline) {
                self.obs.election_timer = Some((at, deadline));
            }
        }
        if self.paused {
            return;
        }
        if !self.in_membership && self.membership_wanted(status.role) {
            self.in_membership = true;
            self.membership(at);
            self.in_membership = false;
        }
        let mut wake = self.next_gossip.min(self.next_membership);
        if let Some(retry) = &self.campaign_retry {
            wake = wake.min(retry.next);
        }
        if !self.queued.is_empty() {
            wake = at;
        }
        if let Some(deadline) = deadline {
            wake = wake.min(deadline as f64);
        }
        self.ticker.wake_at(wake);
    }

    /// Whether the leader should look at membership now rather than at the next periodic
    /// check: while a change is under way (each step follows the commit of the one before,
    /// and a learner is promoted as soon as it has caught up), a tab waits to be admitted, or
    /// a closed tab waits to be removed. Dead tabs are found by the periodic check.
    fn membership_wanted(&mut self, role: Role) -> bool {
        if role != Role::Leader {
            return false;
        }
        let membership = self.node.membership();
        std::mem::take(&mut self.membership_news)
            || !membership.learners().is_empty()
            || !self.departed.is_empty()
            || self.by_node.keys().any(|node| !membership.is_member(*node))
    }

    /// Writes the commit index held back by `drain`, if any.
    fn write_lazy_hard_state(&mut self) {
        let Some(write) = self.lazy_hard_state.take() else { return };
        let written = self.store.persist(&write).and_then(|()| self.store.flush());
        if let Err(error) = written {
            self.fail(format!("sessionStorage write failed: {error}"));
        }
    }

    pub(super) fn fail(&mut self, error: String) {
        console::error!(format!("flotilla: {error}; this node stops"));
        self.outbox.clear();
        self.obs.error(now(), error.clone());
        self.failed = Some(error);
        self.ticker.pause();
        self.dirty = true;
        let settles =
            std::mem::take(&mut self.mine).into_iter().filter_map(|(_, mine)| mine.settle);
        let queued = std::mem::take(&mut self.queued).into_iter().filter_map(|(_, settle)| settle);
        for settle in settles.chain(queued) {
            // A leader may have sent entries before the write that failed (see
            // `sends_before_flush`): they may still commit.
            settle(Err(
                "the node stopped (durable storage failed); the outcome is unknown".to_owned()
            ));
        }
    }

    fn event(&mut self, at: f64, event: Event<SharedLog>) {
        self.dirty = true;
        match event {
            Event::Applied { index, output, .. } => {
                if !self.replaying {
                    self.stats.committed(at, 1);
                }
                if let Ok(position) = output {
                    self.post_index.insert(position, index);
                    if self.post_index.len() > 2 * SHARED_LOG_ROWS {
                        // Pruned by halves: dropping the first of a sorted vector moves all
                        // the others, which once per applied entry of a burst adds up.
                        self.post_index.retain(|&shown, _| shown + SHARED_LOG_ROWS > position);
                    }
                }
            }
            Event::ProposalOutcome { request, result } => {
                if request.client != self.client {
                    return;
                }
                let Ok(at_seq) = self.mine.binary_search_by_key(&request.seq, |&(seq, _)| seq)
                else {
                    return;
                };
                let Some((_, mine)) = self.mine.remove(at_seq) else { return };
                let outcome = match result {
                    Ok((index, _)) => {
                        self.stats.latency(at - mine.at);
                        Ok(index)
                    }
                    Err(error) => {
                        let text = error.to_string();
                        self.obs.error(at, format!("“{}”: {text}", short(&mine.post.text)));
                        Err(text)
                    }
                };
                if let Some(settle) = mine.settle {
                    settle(outcome);
                }
            }
            Event::MembershipChanged { membership, .. } => self.membership_changed(at, membership),
            Event::RoleChanged { term, role, leader } => {
                let links = &self.links;
                let me = &self.id;
                let name_of = |node: NodeId| display_name(me, links, node);
                self.obs.role_changed(at, me.node, term, role, leader, name_of);
            }
            Event::SnapshotInstalled { .. } => {
                // The committed state was replaced: positions of posts seen before may now
                // hold other posts, and the ones it brought come with no `Applied` event.
                self.post_index.clear();
                self.snapshot_installed = true;
            }
            Event::ReadReady { .. } | Event::ReadFailed { .. } => {}
        }
    }

    /// Puts what changed between two configurations on the timeline.
    fn membership_changed(&mut self, at: f64, next: Membership) {
        self.membership_news = true;
        let previous = std::mem::replace(&mut self.membership_seen, next.clone());
        for node in next.members() {
            let text = match (previous.is_member(node), next.is_voter(node)) {
                (false, false) => format!("{} joined as a learner", self.name_of(node)),
                (false, true) => format!("{} joined as a voter", self.name_of(node)),
                (true, true) if previous.is_learner(node) => {
                    format!("{} became a voter", self.name_of(node))
                }
                _ => continue,
            };
            self.obs.event(at, TimelineKind::Join, text);
        }
        for node in previous.members().filter(|node| !next.is_member(*node)) {
            self.obs.event(at, TimelineKind::Leave, format!("{} removed", self.name_of(node)));
        }
    }

    /// Sends messages to one peer, in one frame.
    fn transmit(&mut self, at: f64, messages: &[RaftMessage]) {
        for message in messages {
            let (kind, reply) = stats::kind(&message.body);
            self.stats.message(at, kind, true);
            self.obs.flight(at, message.from, message.to, kind, reply);
        }
        if self.isolated {
            self.stats.dropped_frames += 1;
            return;
        }
        let Some(&link) = messages.first().and_then(|first| self.by_node.get(&first.to)) else {
            self.stats.dropped_frames += 1;
            return;
        };
        for frame in wire::frames(messages, &mut self.bodies) {
            self.send_frame(link, &frame);
        }
    }

    fn send_frame(&mut self, link: LinkId, frame: &[u8]) {
        for part in wire::split(frame) {
            if self.net.send(link, &part).is_err() {
                // Not open or not draining: Raft retransmits what matters.
                self.stats.dropped_frames += 1;
                return;
            }
        }
    }

    fn frame(&mut self, link: LinkId, bytes: Vec<u8>) {
        let Some(entry) = self.links.get_mut(&link) else { return };
        let from = entry.node;
        let whole = match entry.reassembly.push(bytes) {
            Ok(Some(whole)) => whole,
            Ok(None) => return,
            Err(error) => return self.bad_frame(from, &error.to_string()),
        };
        if self.isolated {
            self.stats.dropped_frames += 1;
            return;
        }
        let at = now();
        self.heard.insert(from, at);
        self.reply_first = Some(from);
        match wire::decode(&whole) {
            Ok(Frame::Raft(message)) => {
                self.raft(at, from, message);
                self.drain();
            }
            Ok(Frame::Batch(messages)) => {
                for message in messages {
                    self.raft(at, from, message);
                }
                self.drain();
            }
            Ok(Frame::Gossip(message)) => {
                self.stats.message(at, MessageKind::Gossip, false);
                if let Some(reply) = self.gossip.handle(at as u64, from, message) {
                    self.stats.message(at, MessageKind::Gossip, true);
                    self.send_frame(link, &wire::gossip(&reply));
                }
                while self.gossip.poll_compacted().is_some() {}
                self.dirty = true;
                if !self.node.membership().is_member(self.id.node) {
                    // Gossip is how a tab learns who is a member: join (or bootstrap) at once.
                    self.join_or_bootstrap(at);
                }
            }
            Ok(Frame::Bye) => {
                self.departed(at, from);
                self.disconnected(at, from);
            }
            Err(error) => self.bad_frame(from, &error.to_string()),
        }
    }

    /// Hands one message to the node (the caller drains).
    fn raft(&mut self, at: f64, from: NodeId, message: RaftMessage) {
        if self.is_foreign(from) {
            self.stats.dropped_frames += 1;
            return;
        }
        if message.from != from || message.to != self.id.node {
            let text =
                format!("Raft message {}→{} on the link of {from}", message.from, message.to);
            return self.bad_frame(from, &text);
        }
        let (kind, reply) = stats::kind(&message.body);
        self.stats.message(at, kind, false);
        self.obs.flight(at, message.from, message.to, kind, reply);
        match message.body {
            MessageBody::Append { .. } | MessageBody::Heartbeat { .. } => {
                self.obs.leader_heard(at, message.from)
            }
            MessageBody::RequestVote { .. } => {
                // Another voter is campaigning: give its election a turn to finish rather than
                // start a rival one (two voters retrying on their own clocks duel for terms).
                if let Some(retry) = self.campaign_retry.as_mut() {
                    retry.next = retry.next.max(at + retry.every);
                }
            }
            MessageBody::VoteResponse { pre_vote, granted } => {
                let status = self.node.status();
                let campaigning = if pre_vote { Role::PreCandidate } else { Role::Candidate };
                if status.role == campaigning && message.term == status.term {
                    self.obs.votes.insert(message.from, granted);
                    if !pre_vote && !granted {
                        self.split_vote(at);
                    }
                }
            }
            _ => {}
        }
        self.node.handle_message(at as u64, message);
    }

    fn bad_frame(&mut self, from: NodeId, error: &str) {
        self.stats.bad_frames += 1;
        // Logged, rate-limited: a broken peer must not flood the console.
        if self.stats.bad_frames <= 10 || self.stats.bad_frames % 1_000 == 0 {
            console::warn!(format!("flotilla: frame from node {from} dropped: {error}"));
        }
    }

    fn link_up(&mut self, link: LinkId, meta: super::TabMeta) {
        let at = now();
        let name = if meta.name.is_empty() { name_for(meta.node) } else { meta.name };
        let colour = if meta.colour.is_empty() { colour_for(&name) } else { meta.colour };
        if meta.node == self.id.node || meta.node == 0 {
            console::warn!(format!("flotilla: peer with node id {} ignored", meta.node));
            return;
        }
        self.obs.event(at, TimelineKind::Info, format!("{name} connected"));
        self.links.insert(
            link,
            Link { node: meta.node, name, colour, reassembly: Reassembly::default(), since: at },
        );
        self.by_node.insert(meta.node, link);
        self.heard.insert(meta.node, at);
        // A tab that comes back (a reload) is no longer leaving.
        self.departed.remove(&meta.node);
        // Open a gossip exchange at once: discovery (who is a member) should not wait a round.
        let digest = gossip::Message::Digest(self.gossip.digest());
        if !self.isolated {
            self.send_frame(link, &wire::gossip(&digest));
        }
        self.dirty = true;
    }

    fn link_down(&mut self, link: LinkId, departed: bool) {
        let Some(entry) = self.links.remove(&link) else { return };
        let at = now();
        if self.by_node.get(&entry.node) == Some(&link) {
            self.by_node.remove(&entry.node);
            let verb = if departed { "left" } else { "lost its connection" };
            self.obs.event(at, TimelineKind::Leave, format!("{} {verb}", entry.name));
            if departed {
                self.departed(at, entry.node);
            }
            self.disconnected(at, entry.node);
        }
        self.dirty = true;
    }

    /// The fast failure hint: a follower whose leader `node` was campaigns at once instead of
    /// waiting out its election timeout (the core staggers the remaining voters by id).
    ///
    /// The core's first round can fail: a pre-vote that reaches a voter before that voter's
    /// own hint is refused (it still holds the leader's lease), and the next campaign would wait
    /// a whole election timeout (the e2e suite saw about half of closes take ~500 ms instead of
    /// ~50). So this node campaigns again (pre-votes first, which never disturb anyone) in
    /// turns: the remaining voters take one stagger each, by id, until a leader is known or the
    /// maximum election timeout has passed. Two voters can still cross (each grants the other's
    /// pre-vote, then each votes for itself): `split_vote` breaks such a tie at random.
    fn disconnected(&mut self, at: f64, node: NodeId) {
        let was_leader = self.node.status().leader == Some(node);
        self.node.handle_peer_disconnected(at as u64, node);
        if was_leader && self.node.status().leader.is_none() {
            let voters: Vec<NodeId> =
                self.node.membership().voters().iter().copied().filter(|&v| v != node).collect();
            if let Some(rank) = voters.iter().position(|&v| v == self.id.node) {
                let stagger = (self.timings.election_timeout_min_ms / 10).max(1) as f64;
                let turn = voters.len() as f64 * stagger;
                self.campaign_retry = Some(CampaignRetry {
                    next: at + turn + rank as f64 * stagger,
                    every: turn,
                    until: at + self.timings.election_timeout_max_ms as f64,
                });
            }
        }
        self.drain();
    }

    /// A voter refused this candidate its vote. With two voters left of three that is a split
    /// vote (each voted for itself), and both would wait out a full election timeout: instead
    /// campaign again after a random one to three staggers, so one of them goes first.
    fn split_vote(&mut self, at: f64) {
        let stagger = (self.timings.election_timeout_min_ms / 10).max(1) as f64;
        let next = at + stagger * (1.0 + 2.0 * js_sys::Math::random());
        let until = at + self.timings.election_timeout_max_ms as f64;
        self.campaign_retry = Some(CampaignRetry { next, every: 3.0 * stagger, until });
    }

    /// Campaigns again if it is this node's turn (see `disconnected`).
    fn retry_campaign(&mut self, at: f64) {
        let Some(retry) = self.campaign_retry.as_mut() else { return };
        if at < retry.next {
            return;
        }
        let status = self.node.status();
        let waiting = status.leader.is_none() && status.role != Role::Leader;
        if !waiting || at >= retry.until {
            self.campaign_retry = None;
            return;
        }
        retry.next += retry.every;
        self.node.campaign(at as u64);
    }

    /// A tab closed (its goodbye, or it left the room): remove it from the configuration at
    /// once rather than after `dead_after`.
    fn departed(&mut self, at: f64, node: NodeId) {
        self.heard.remove(&node);
        if self.node.membership().is_member(node) {
            self.departed.insert(node);
            self.next_membership = at;
            self.ticker.wake_at(at);
        }
    }

    /// The page is going away for good. A leader hands off first (`Node::hand_off`: a voter
    /// gets the entries it lacks, `TimeoutNow` and this node's vote for the next term in one
    /// frame, ahead of the goodbye), so the next leader needs no round trip, even while writes
    /// go on; the e2e suite saw that round trip, between two tabs starved of CPU, stretch to
    /// 180 ms, and the followers' own campaign after the goodbye (pre-vote, then vote: two of
    /// them) past 300. If that voter needs the snapshot, the goodbye alone starts their
    /// campaigns, as before. A paused node is a frozen process: it does nothing but go.
    ///
    /// The successor is the voter linked longest: a tab opened a second ago is still compiling
    /// its wasm and rendering its first views, and the suite saw one handed the lead get the
    /// frame 120-270 ms after the goodbye reached the older tab.
    fn page_hide(&mut self) {
        if !self.paused && self.node.status().role == Role::Leader {
            let voters = self.node.membership();
            let oldest = self
                .by_node
                .iter()
                .filter(|(node, _)| voters.is_voter(**node))
                .filter_map(|(&node, link)| self.links.get(link).map(|link| (link.since, node)))
                .min_by(|a, b| a.0.total_cmp(&b.0));
            // Only a voter that needs the snapshot is refused; then the goodbye does it all.
            // No timeline event: this page is going away, nobody would read it.
            if oldest
                .is_some_and(|(_, successor)| self.node.hand_off(now() as u64, successor).is_ok())
            {
                self.drain();
            }
        }
        self.transmit_outbox();
        self.write_lazy_hard_state();
        self.gossip.depart();
        let bye = wire::bye();
        let links: Vec<LinkId> = self.links.keys().copied().collect();
        for link in links {
            self.send_frame(link, &bye);
        }
    }

    /// Every gossip round: publish telemetry, age the table, and open an exchange with every
    /// reachable peer (a handful of tabs: all of them is cheap and converges in one round).
    fn gossip_round(&mut self, ms: u64) {
        self.write_lazy_hard_state();
        self.publish_telemetry();
        self.gossip.tick(ms);
        while self.gossip.poll_compacted().is_some() {}
        if self.isolated {
            return;
        }
        let digest = wire::gossip(&gossip::Message::Digest(self.gossip.digest()));
        let links: Vec<LinkId> = self.links.keys().copied().collect();
        for link in links {
            self.stats.message(ms as f64, MessageKind::Gossip, true);
            self.send_frame(link, &digest);
        }
        self.dirty = true;
    }

    pub(super) fn publish_telemetry(&mut self) {
        let status = self.node.status();
        let membership = self.node.membership();
        let me = self.id.node;
        let role = match status.role {
            Role::Follower if !membership.is_member(me) => "none",
            Role::Follower if membership.is_learner(me) => "learner",
            Role::Follower => "follower",
            Role::PreCandidate => "precandidate",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        };
        let values: [(Key, Value); 11] = [
            (Key::Name, self.id.name.as_str().into()),
            (Key::Colour, self.id.colour.as_str().into()),
            (Key::Role, role.into()),
            (Key::Term, status.term.into()),
            (Key::Leader, status.leader.unwrap_or(0).into()),
            (Key::CommitIndex, status.commit.into()),
            (Key::AppliedIndex, status.applied.into()),
            (Key::LastLogIndex, status.last_index.into()),
            (Key::Custom(MEMBER_KEY.to_owned()), membership.is_member(me).into()),
            (Key::Custom(VOTERS_KEY.to_owned()), voters_text(membership).as_str().into()),
            (Key::Custom(CLUSTER_KEY.to_owned()), self.cluster.unwrap_or(0).into()),
        ];
        for (key, value) in values {
            // Only a full row or an oversized value fails; telemetry is best effort.
            let _ = self.gossip.set(key, value);
        }
    }

    /// Membership, every `MEMBERSHIP_EVERY_MS` (and at once when a tab departs).
    ///
    /// Outside the cluster: join through a linked member (gossip says who is one), or, if no
    /// member turned up within the discovery window, bootstrap a cluster. Two tabs opened
    /// together must not both bootstrap (two clusters with different first entries can never
    /// merge), so only the room's founder does; the others join it.
    ///
    /// As leader: the core's automatic policy decides the next single-server change. Announced
    /// are the linked tabs that are not members (new tabs, and tabs that return after they were
    /// removed, e.g. a reload), departed the tabs that closed.
    fn membership(&mut self, at: f64) {
        let me = self.id.node;
        let ms = at as u64;
        if !self.node.membership().is_member(me) {
            return self.join_or_bootstrap(at);
        }
        self.join_via = None;
        // Admitted without asking (a leader admits linked tabs): take the leader's cluster.
        if let Some(leader) = self.node.status().leader.filter(|&leader| leader != me) {
            self.adopt_cluster_of(leader);
        }
        self.yield_to_other_cluster(at);
        if self.failed.is_some() {
            return;
        }
        let membership = self.node.membership().clone();
        self.departed.retain(|node| membership.is_member(*node));
        let dead_after = self.dead_after as f64;
        let announced: Vec<NodeId> = self
            .by_node
            .keys()
            .copied()
            .filter(|node| !membership.is_member(*node) && !self.departed.contains(node))
            .filter(|node| self.heard.get(node).is_some_and(|&t| at - t < dead_after))
            .filter(|node| !self.is_foreign(*node))
            .collect();
        let departed: Vec<NodeId> = self.departed.iter().copied().collect();
        let Some(view) = self.node.policy_view(&announced, &departed) else { return };
        let Some(change) = policy::next_change(&view, ms, self.dead_after) else { return };
        match self.node.change_membership(ms, change) {
            Ok(_) => {
                let text = match change {
                    Change::AddLearner(node) => format!("admitting {}", self.name_of(node)),
                    Change::Promote(node) => format!("promoting {}", self.name_of(node)),
                    Change::Remove(node) => format!("removing {}", self.name_of(node)),
                };
                self.obs.event(at, TimelineKind::Info, text);
            }
            // The policy only proposes what the view allows; a refusal is a race, retried.
            Err(error) => console::log!(format!("flotilla: {change} refused: {error}")),
        }
        self.drain();
    }

    fn join_or_bootstrap(&mut self, at: f64) {
        let me = self.id.node;
        // Members of this tab's cluster, or of any cluster that says which it is if this tab
        // has none yet (it takes the cluster of the one it asks).
        let members: Vec<NodeId> = self
            .by_node
            .keys()
            .copied()
            .filter(|&node| self.says_member(node) && !self.is_foreign(node))
            .filter(|&node| self.cluster.is_some() || self.cluster_of(node).is_some())
            .collect();
        if self.join_via.is_some_and(|via| members.contains(&via)) {
            // Asked already, through a member still there: the core asks again at every
            // election timeout until the log arrives.
            return;
        }
        if let Some(&via) = members.first() {
            self.adopt_cluster_of(via);
            self.join_via = Some(via);
            let text = format!("{} asks to join through {}", self.id.name, self.name_of(via));
            self.obs.event(at, TimelineKind::Join, text);
            self.node.request_join(at as u64, via);
            return self.drain();
        }
        // Bootstrap only as the room's founder, and only when no other tab of the room can be a
        // member: it has been alone in the room for `BOOTSTRAP_ALONE_MS`, or every other tab
        // said (through gossip) that it is in no cluster. A tab not heard from yet blocks it: it
        // may be a member whose link is still coming up (a reload, with its durable state).
        //
        // The founder is the signal server's, not this tab's own guess (such as the lowest node
        // id among the tabs it sees): tabs opened together see each other at different moments,
        // and two of them once each took itself for the one to found (one had not seen the
        // other in the room yet, the other believed a relayed, stale "in no cluster"). The
        // server names one oldest tab per room, and names the next when it leaves.
        let status = self.node.status();
        let pristine = status.last_index == 0 && status.term == 0;
        let Some(joined_at) = self.room_joined_at.filter(|_| pristine) else { return };
        let room = self.net.room_nodes();
        if room.is_empty() && at - joined_at < BOOTSTRAP_ALONE_MS {
            // An empty room may only look empty: after a signal server restart, the members
            // of a running cluster come back one reconnection delay later. A tab that founded
            // a cluster of its own meanwhile would split the room in two.
            if !std::mem::replace(&mut self.waiting_alone, true) {
                let text = format!(
                    "no other tab in the room: {} starts a cluster in {} s unless one appears",
                    self.id.name,
                    // Not `{:.1}`: that links Rust's float formatting (components/format.rs).
                    crate::components::format::fixed(BOOTSTRAP_ALONE_MS / 1_000.0, 1)
                );
                self.obs.event(at, TimelineKind::Info, text);
            }
            return;
        }
        // Linked, not just known: gossip travels through third tabs, so an unlinked tab's "in no
        // cluster" may be stale.
        let outsiders = room.iter().all(|&node| {
            self.by_node.contains_key(&node)
                && self.gossip.get(node, &Key::Custom(MEMBER_KEY.to_owned()))
                    == Some(&Value::Bool(false))
        });
        if self.net.is_founder() && outsiders {
            let config = self.timings.config(me);
            self.node = Node::bootstrap(config, seed(), at as u64);
            self.found_cluster();
            let text = format!("{} bootstrapped a new cluster", self.id.name);
            self.obs.event(at, TimelineKind::Join, text);
            self.publish_telemetry();
            self.drain();
        }
    }

    /// Rebuilds the node from durable state (new timings): what a process restart does.
    fn restart_node(&mut self) {
        let at = now();
        self.write_lazy_hard_state();
        let durable = match self.store.durable_state() {
            Ok(durable) => durable,
            Err(error) => return self.fail(format!("durable state unreadable: {error}")),
        };
        self.snapshot_index = durable.snapshot.as_ref().map_or(0, |snapshot| snapshot.index);
        let config = self.timings.config(self.id.node);
        self.node = match Node::try_restart(config, &[], durable, seed(), at as u64) {
            Ok(node) => node,
            Err(error) => return self.fail(format!("cannot restart the node: {error}")),
        };
        self.post_index.clear();
        for (_, mine) in std::mem::take(&mut self.mine) {
            if let Some(settle) = mine.settle {
                settle(Err("the node restarted; the outcome is unknown".to_owned()));
            }
        }
        self.replaying = true;
        self.drain();
        self.replaying = false;
        let text = format!("{} restarted its node", self.id.name);
        self.obs.event(at, TimelineKind::Info, text);
        self.publish_telemetry();
    }

    pub(super) fn wipe_and_reload(&mut self) {
        self.page_hide();
        // The node stops here: nothing may write to the store between the wipe and the reload
        // (inputs keep coming until the page unloads), nor the `pagehide` that follows.
        self.lazy_hard_state = None;
        self.failed = Some("wiped; reloading".to_owned());
        self.ticker.pause();
        self.forget_node();
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    }

    /// Deletes this node's durable state and its id, so that the tab, reloaded, is a new node:
    /// under its old id it may have voted in this term.
    fn forget_node(&mut self) {
        if let Err(error) = self.store.wipe() {
            console::error!(format!("flotilla: wipe failed: {error}"));
        }
        if let Ok(storage) = super::storage::session_storage() {
            let _ = storage.remove_item(super::storage::identity::NODE_ID_KEY);
        }
    }

    /// Display name of a node as this tab knows it.
    pub fn name_of(&self, node: NodeId) -> String {
        display_name(&self.id, &self.links, node)
    }

    pub fn colour_of(&self, node: NodeId) -> String {
        if node == self.id.node {
            return self.id.colour.clone();
        }
        if let Some(link) = self.by_node.get(&node).and_then(|link| self.links.get(link)) {
            return link.colour.clone();
        }
        match self.gossip.get(node, &Key::Colour) {
            Some(Value::Text(colour)) => colour.clone(),
            _ => colour_for(&self.name_of(node)),
        }
    }

    /// Whether a data channel to `node` is up.
    pub fn linked(&self, node: NodeId) -> bool {
        self.by_node.contains_key(&node)
    }

    /// Nodes with a link, whatever their membership.
    pub fn linked_nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.by_node.keys().copied()
    }
}

impl Drop for Driver {
    /// A runtime that stops (its handle dropped) writes what it held back, like a process
    /// that exits cleanly.
    fn drop(&mut self) {
        if self.failed.is_none() {
            self.write_lazy_hard_state();
        }
    }
}

/// Gossip key: this node is in a configuration (so a new tab joins rather than bootstraps).
pub const MEMBER_KEY: &str = "member";
/// Gossip key: the voters of the configuration this node has in force, as text.
pub const VOTERS_KEY: &str = "voters";

fn voters_text(membership: &Membership) -> String {
    let voters: Vec<String> = membership.voters().iter().map(|v| v.to_string()).collect();
    voters.join(",")
}

fn display_name(me: &Identity, links: &VecMap<LinkId, Link>, node: NodeId) -> String {
    if node == me.node {
        return me.name.clone();
    }
    links.values().find(|link| link.node == node).map_or_else(|| name_for(node), |l| l.name.clone())
}

/// The first 40 characters of a post, for error messages.
fn short(text: &str) -> String {
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A random number below 2^53 (it survives JavaScript numbers), never 0.
pub fn random_u53() -> u64 {
    ((js_sys::Math::random() * 9_007_199_254_740_991.0) as u64).max(1)
}

/// The node's seed for its election timeouts: different on every start.
fn seed() -> u64 {
    random_u53() ^ (js_sys::Date::now() as u64).rotate_left(32)
}
