//! Scuttlebutt gossip for presence and telemetry. Every tab publishes a few versioned keys about
//! itself (display name, colour, Raft role, term, leader, indexes, counters) and learns everyone
//! else's by anti-entropy, so the UI can draw the whole cluster even while Raft has no leader or
//! the fleet is partitioned. It follows van Renesse et al., "Efficient Reconciliation and Flow
//! Control for Anti-Entropy Protocols" (2008), and the npm package simple-scuttle. Like the rest
//! of the core it is deterministic and sans-IO: time is an input, the caller picks the peers,
//! and messages out are values the caller sends.
//!
//! # Protocol
//! Each node owns a row of keys and is the only one to write it. Every local update gets the
//! next [`Version`] of its owner, and a node remembers only the newest record per key, so
//! superseded updates are compacted as soon as they are overwritten. A delete is a record too,
//! a tombstone, so it outranks the older value wherever it arrives. An exchange takes three
//! messages:
//!
//! 1. A sends [`Message::Digest`]: for each owner, the newest version it holds.
//! 2. B answers [`Message::Reply`]: the updates A lacks, and the digest entries B lacks.
//! 3. A answers [`Message::Deltas`]: the updates B asked for.
//!
//! Each owner's updates travel oldest first, and a message carries at most
//! [`Config::max_updates_per_message`] of them, owners with the most to catch up first
//! ("scuttle-depth" in the paper). A node that stops part-way holds a consistent prefix and the
//! next exchange continues from there.
//!
//! # Bounds
//! A row holds at most [`Config::max_history`] records, live values and tombstones alike. When
//! a new key needs room, the owner drops its tombstones by starting a new incarnation (see
//! [`Version`]) that re-stamps its live values; peers that see the new incarnation drop
//! everything older, so deletes need not have reached everyone first, and a node far behind
//! receives only current values. An owner nothing new was heard from for
//! [`Config::forget_after`] is dropped from the table by [`Gossip::tick`]. What compaction drops
//! is reported through [`Gossip::poll_compacted`].
//!
//! # Driving it
//! ```
//! use flotilla_core::gossip::{Config, Gossip, Key, Message};
//!
//! // The incarnation only has to grow across restarts of a node: the wall clock at start will do.
//! let mut a = Gossip::new(1, 1_700_000_000_000, Config::default());
//! let mut b = Gossip::new(2, 1_700_000_000_500, Config::default());
//! a.set(Key::Name, "alice".into()).unwrap();
//! b.set(Key::Name, "bob".into()).unwrap();
//!
//! // Every gossip interval: tick, then open an exchange with a peer of the caller's choosing.
//! a.tick(0);
//! let mut to_b = Some(Message::Digest(a.digest()));
//! // On every message: handle it, send the answer back, drain compaction reports.
//! while let Some(msg) = to_b {
//!     to_b = b.handle(0, 1, msg).and_then(|reply| a.handle(0, 2, reply));
//! }
//! while let Some(_report) = a.poll_compacted() {}
//!
//! assert_eq!(a.get(2, &Key::Name), Some(&"bob".into()));
//! assert_eq!(b.get(1, &Key::Name), Some(&"alice".into()));
//! ```
use crate::vec_map::VecMap;
use crate::{Millis, NodeId};
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Reverse;
use core::fmt;
use serde::{Deserialize, Serialize};

/// Tunables. Every node of a fleet must use the same `max_history`: each owner enforces it on
/// its own row only, and the others store what it sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Records (live values and tombstones, the heartbeat included) kept per owner. A node's
    /// table is at most this times the number of owners it knows.
    pub max_history: usize,
    /// Updates per message. With `max_record_bytes` it keeps a reply far below the 64 KiB a
    /// data channel message must stay under, however far behind the asker is.
    pub max_updates_per_message: usize,
    /// Bytes of key name plus value in one record; [`Gossip::set`] refuses bigger ones.
    pub max_record_bytes: usize,
    /// How often [`Gossip::tick`] bumps the heartbeat, so peers can tell an idle node from a
    /// dead one.
    pub heartbeat_every: Millis,
    /// An owner nothing new was heard from for this long (it crashed or departed) is dropped
    /// from the table, and its stale records are refused for as long again.
    pub forget_after: Millis,
}

impl Default for Config {
    /// A worst-case message is then under 64 × (256 + 30) bytes ≈ 18 KiB plus the digest.
    fn default() -> Self {
        Config {
            max_history: 64,
            max_updates_per_message: 64,
            max_record_bytes: 256,
            heartbeat_every: 1_000,
            // Browsers throttle background tabs to about one timer a minute: stay well above.
            forget_after: 300_000,
        }
    }
}

/// Orders one owner's updates. `seq` counts updates within an incarnation; a new incarnation
/// outranks every update of the older ones and replaces them wholesale. An owner starts one
/// each time it starts (the caller supplies it, see [`Gossip::new`]), to drop its tombstones,
/// when it departs, and when it hears of a version of itself above its own.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Version {
    pub incarnation: u64,
    pub seq: u64,
}

impl Version {
    /// Knows nothing: below every real update, whose `seq` starts at 1.
    pub const ZERO: Version = Version { incarnation: 0, seq: 0 };

    fn next(self) -> Version {
        Version { seq: self.seq + 1, ..self }
    }

    fn next_incarnation(self) -> Version {
        Version { incarnation: self.incarnation + 1, seq: 0 }
    }
}

/// A key in an owner's row. The well-known keys cost one byte on the wire; `Counter` and
/// `Custom` keep the set open.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Key {
    /// Display name chosen by the user.
    Name,
    /// Colour the UI draws the node in.
    Colour,
    /// Raft role: follower, candidate, leader, learner.
    Role,
    Term,
    /// The leader this node follows, 0 for none.
    Leader,
    CommitIndex,
    AppliedIndex,
    LastLogIndex,
    /// Bumped by [`Gossip::tick`]; each bump is news that the owner is alive.
    Heartbeat,
    /// Set by [`Gossip::depart`]: the owner left for good.
    Departed,
    /// A named counter (messages in and out, elections started, ...).
    Counter(String),
    /// Anything else the runtime or the UI wants the whole fleet to see.
    Custom(String),
}

impl Key {
    fn payload_len(&self) -> usize {
        match self {
            Key::Counter(name) | Key::Custom(name) => name.len(),
            _ => 0,
        }
    }
}

/// A small enum rather than bytes, so numbers stay varints on the wire and the UI needs no
/// decoder; `Bytes` covers the rest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Value {
    Uint(u64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

impl Value {
    fn payload_len(&self) -> usize {
        match self {
            Value::Uint(_) => 8,
            Value::Bool(_) => 1,
            Value::Text(text) => text.len(),
            Value::Bytes(bytes) => bytes.len(),
        }
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Uint(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::Text(text.into())
    }
}

/// One record on the wire. `value: None` is a tombstone: the key was deleted at `version`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Update {
    pub version: Version,
    pub key: Key,
    pub value: Option<Value>,
}

/// One owner's updates above `since`, oldest first; only the oldest part of them when the
/// message budget ran out. `since` is what the sender believed the receiver held: a receiver
/// that holds less (it forgot the owner meanwhile) would be left with holes, and skips it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delta {
    pub owner: NodeId,
    pub since: Version,
    pub updates: Vec<Update>,
}

/// For each owner, the newest version a node holds; a missing owner means [`Version::ZERO`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest(pub VecMap<NodeId, Version>);

impl Digest {
    pub fn version(&self, owner: NodeId) -> Version {
        self.0.get(&owner).copied().unwrap_or(Version::ZERO)
    }
}

/// The three messages of an exchange (see the module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// Opens an exchange.
    Digest(Digest),
    /// Answers a digest: what the asker lacks, and the replier's own digest entries for the
    /// owners where the asker is ahead, so the exchange is symmetric.
    Reply { deltas: Vec<Delta>, wants: Digest },
    /// Closes an exchange with what the replier wanted.
    Deltas(Vec<Delta>),
}

/// What compaction dropped, reported by [`Gossip::poll_compacted`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Compacted {
    /// This node's tombstones for `keys`, dropped when it started `incarnation` to make room.
    Tombstones { incarnation: u64, keys: Vec<Key> },
    /// An owner that went silent (or departed) for [`Config::forget_after`], with its records.
    Forgotten { owner: NodeId },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GossipError {
    /// The row already holds `max_history` live values: delete one first.
    HistoryFull,
    /// Key name plus value exceed `max_record_bytes`.
    TooLarge,
    /// [`Gossip::depart`] was called: this node publishes nothing more.
    Departed,
}

impl fmt::Display for GossipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GossipError::HistoryFull => "gossip row full: delete a key first",
            GossipError::TooLarge => "gossip record larger than max_record_bytes",
            GossipError::Departed => "this node has departed",
        })
    }
}

impl core::error::Error for GossipError {}

#[derive(Clone, Debug)]
struct Record {
    version: Version,
    /// `None` is a tombstone.
    value: Option<Value>,
}

#[derive(Clone, Debug, Default)]
struct Row {
    /// Newest version applied: deltas at or below it are old news.
    known: Version,
    /// The newest record per key: superseded ones are dropped on arrival.
    records: VecMap<Key, Record>,
    /// When something new about this owner last arrived, or it last sent us a message; `None`
    /// for our own row.
    last_heard: Option<Millis>,
}

impl Row {
    fn newer(&self, since: Version) -> impl Iterator<Item = (&Key, &Record)> {
        self.records.iter().filter(move |(_, record)| record.version > since)
    }
}

#[derive(Clone, Debug)]
struct Guard {
    /// The owner's version when we forgot it: records up to it are stale news.
    version: Version,
    forgotten_at: Millis,
}

/// One node's gossip state: its own row, and what it has heard of everyone else's.
///
/// - Publish: [`set`](Self::set), [`delete`](Self::delete), [`depart`](Self::depart).
/// - Drive: [`tick`](Self::tick) every gossip interval, then send `Message::Digest(`
///   [`digest`](Self::digest)`)` to a peer; pass every message received to
///   [`handle`](Self::handle) and send its answer back; then drain
///   [`poll_compacted`](Self::poll_compacted).
/// - Read: [`view`](Self::view), [`owner`](Self::owner), [`get`](Self::get).
///
/// Node ids must be unique among live nodes: two live nodes with one id would keep outbidding
/// each other's incarnation.
#[derive(Clone, Debug)]
pub struct Gossip {
    id: NodeId,
    config: Config,
    /// Every owner's row, ours included; ours is the only one written locally.
    rows: VecMap<NodeId, Row>,
    /// Owners `tick` dropped. Their stale records are refused until `forget_after` more has
    /// passed, so a peer that has not forgotten them yet cannot bring them back.
    forgotten: VecMap<NodeId, Guard>,
    /// When `tick` next bumps the heartbeat.
    next_beat: Millis,
    /// Compaction reports not yet taken by `poll_compacted`.
    compacted: VecDeque<Compacted>,
}

impl Gossip {
    /// Starts node `id` with an empty row in `incarnation`, which must be above every
    /// incarnation of this id's previous lives, so that the row it publishes now replaces the
    /// one peers may still hold from before a restart: the wall clock in ms at start, or a boot
    /// counter kept in durable storage. (A new incarnation per compaction adds 1, so the wall
    /// clock stays ahead unless a life compacted more than once per millisecond.) A node that
    /// hears of a version of itself above its own still outbids it, but cannot tell its new
    /// updates from old ones of the same version.
    pub fn new(id: NodeId, incarnation: u64, config: Config) -> Self {
        let own = Row { known: Version { incarnation, seq: 0 }, ..Row::default() };
        let mut gossip = Gossip {
            id,
            config,
            rows: VecMap::from([(id, own)]),
            forgotten: VecMap::new(),
            next_beat: 0,
            compacted: VecDeque::new(),
        };
        // A first record, so peers list this node before it publishes anything.
        gossip.beat();
        gossip
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Publishes `key = value` in this node's row. Setting the value a key already has is a
    /// no-op, so the runtime can publish its telemetry every tick without flooding gossip.
    pub fn set(&mut self, key: Key, value: Value) -> Result<(), GossipError> {
        if self.has_departed() {
            return Err(GossipError::Departed);
        }
        if key.payload_len() + value.payload_len() > self.config.max_record_bytes {
            return Err(GossipError::TooLarge);
        }
        match self.own().records.get(&key) {
            Some(record) if record.value.as_ref() == Some(&value) => return Ok(()),
            // Overwriting a value or a tombstone takes no more room.
            Some(_) => {}
            None => self.make_room()?,
        }
        self.write(key, Some(value));
        Ok(())
    }

    /// Deletes `key` from this node's row with a tombstone; a no-op if it is not set. The
    /// heartbeat stays: it belongs to `tick`, and it keeps every incarnation of the row from
    /// being empty, which peers could not tell from no news.
    pub fn delete(&mut self, key: &Key) {
        let live = self.own().records.get(key).is_some_and(|record| record.value.is_some());
        if live && *key != Key::Heartbeat && !self.has_departed() {
            self.write(key.clone(), None);
        }
    }

    /// Announces that this node leaves for good (its tab is closing): a new incarnation holding
    /// only [`Key::Departed`] replaces its row everywhere in one small update.
    pub fn depart(&mut self) {
        if !self.has_departed() {
            self.begin_incarnation(self.own().known);
            self.write(Key::Departed, Some(Value::Bool(true)));
        }
    }

    /// Bumps the heartbeat when due and forgets owners silent for `forget_after`.
    pub fn tick(&mut self, now: Millis) {
        if now >= self.next_beat && !self.has_departed() {
            self.beat();
            self.next_beat = now.saturating_add(self.config.heartbeat_every);
        }
        let forget_after = self.config.forget_after;
        let silent =
            |row: &Row| row.last_heard.is_some_and(|t| now.saturating_sub(t) >= forget_after);
        let expired: Vec<NodeId> =
            self.rows.iter().filter(|(_, row)| silent(row)).map(|(&owner, _)| owner).collect();
        for owner in expired {
            if let Some(row) = self.rows.remove(&owner) {
                self.forgotten.insert(owner, Guard { version: row.known, forgotten_at: now });
                self.compacted.push_back(Compacted::Forgotten { owner });
            }
        }
        self.forgotten.retain(|_, guard| now.saturating_sub(guard.forgotten_at) < forget_after);
    }

    /// What this node holds, to open an exchange with `Message::Digest`. Forgotten owners are
    /// listed at the version they were forgotten at, so peers do not resend their stale records.
    pub fn digest(&self) -> Digest {
        let rows = self.rows.iter().map(|(&owner, row)| (owner, row.known));
        let guards = self.forgotten.iter().map(|(&owner, guard)| (owner, guard.version));
        Digest(rows.chain(guards).collect())
    }

    /// Handles a message from peer `from` at time `now`, and returns the answer to send back.
    #[must_use]
    pub fn handle(&mut self, now: Millis, from: NodeId, msg: Message) -> Option<Message> {
        if from != self.id {
            if let Some(row) = self.rows.get_mut(&from) {
                row.last_heard = Some(now);
            }
        }
        match msg {
            Message::Digest(theirs) => {
                let wants = self.wants(&theirs);
                let deltas =
                    self.deltas_for(self.rows.keys().map(|&owner| (owner, theirs.version(owner))));
                (!deltas.is_empty() || !wants.0.is_empty())
                    .then_some(Message::Reply { deltas, wants })
            }
            Message::Reply { deltas, wants } => {
                self.apply(now, deltas);
                let deltas = self.deltas_for(wants.0);
                (!deltas.is_empty()).then_some(Message::Deltas(deltas))
            }
            Message::Deltas(deltas) => {
                self.apply(now, deltas);
                None
            }
        }
    }

    /// The next compaction report, oldest first. Drain after every call that changes state.
    #[must_use]
    pub fn poll_compacted(&mut self) -> Option<Compacted> {
        self.compacted.pop_front()
    }

    /// Every owner this node knows, itself included, by id.
    pub fn view(&self) -> impl Iterator<Item = OwnerView<'_>> {
        self.rows.iter().map(|(&id, row)| OwnerView { id, row })
    }

    pub fn owner(&self, id: NodeId) -> Option<OwnerView<'_>> {
        self.rows.get(&id).map(|row| OwnerView { id, row })
    }

    /// The live value of `key` in `owner`'s row.
    pub fn get(&self, owner: NodeId, key: &Key) -> Option<&Value> {
        self.owner(owner)?.get(key)
    }

    fn own(&self) -> &Row {
        &self.rows[&self.id]
    }

    fn own_mut(&mut self) -> &mut Row {
        self.rows.get_mut(&self.id).expect("own row is never removed")
    }

    fn has_departed(&self) -> bool {
        self.get(self.id, &Key::Departed).is_some()
    }

    fn write(&mut self, key: Key, value: Option<Value>) {
        let row = self.own_mut();
        row.known = row.known.next();
        row.records.insert(key, Record { version: row.known, value });
    }

    fn beat(&mut self) {
        let beats = match self.get(self.id, &Key::Heartbeat) {
            Some(Value::Uint(n)) => n + 1,
            _ => 0,
        };
        self.write(Key::Heartbeat, Some(Value::Uint(beats)));
    }

    /// Makes room for one more key, dropping tombstones if the row is full.
    fn make_room(&mut self) -> Result<(), GossipError> {
        let records = &self.own().records;
        if records.len() < self.config.max_history {
            return Ok(());
        }
        if records.values().filter(|record| record.value.is_some()).count()
            >= self.config.max_history
        {
            return Err(GossipError::HistoryFull);
        }
        self.reincarnate(self.own().known);
        Ok(())
    }

    /// Starts an incarnation above `above` and returns the records of the old one.
    fn begin_incarnation(&mut self, above: Version) -> VecMap<Key, Record> {
        let row = self.own_mut();
        row.known = above.max(row.known).next_incarnation();
        core::mem::take(&mut row.records)
    }

    /// Starts an incarnation above `above` holding the live values, without the tombstones.
    /// Peers replace the whole row when they see it, which deletes the keys just as well.
    fn reincarnate(&mut self, above: Version) {
        let mut tombstones = Vec::new();
        for (key, record) in self.begin_incarnation(above) {
            match record.value {
                Some(value) => self.write(key, Some(value)),
                None => tombstones.push(key),
            }
        }
        if !tombstones.is_empty() {
            let incarnation = self.own().known.incarnation;
            self.compacted.push_back(Compacted::Tombstones { incarnation, keys: tombstones });
        }
    }

    /// Someone holds a version of us newer than ours: we restarted in an incarnation already
    /// used. Outbid it, so our current row replaces the one from before the restart.
    fn refute(&mut self, theirs: Version) {
        if theirs > self.own().known {
            self.reincarnate(theirs);
        }
    }

    /// Someone holds a version of `owner` newer than the one we forgot it at: it is alive, so
    /// stop refusing its records and fetch its row afresh.
    fn revive(&mut self, owner: NodeId, theirs: Version) {
        if self.forgotten.get(&owner).is_some_and(|guard| theirs > guard.version) {
            self.forgotten.remove(&owner);
        }
    }

    /// Our digest entries for the owners where `theirs` is ahead of us. On the way, outbids a
    /// newer version of ourselves and revives forgotten owners it shows alive.
    fn wants(&mut self, theirs: &Digest) -> Digest {
        let mut wants = VecMap::new();
        for (&owner, &version) in &theirs.0 {
            if owner == self.id {
                self.refute(version);
                continue;
            }
            self.revive(owner, version);
            if self.forgotten.contains_key(&owner) {
                continue;
            }
            let known = self.rows.get(&owner).map_or(Version::ZERO, |row| row.known);
            if version > known {
                wants.insert(owner, known);
            }
        }
        Digest(wants)
    }

    /// The updates a peer lacks, given the version it holds of each owner it may lack, within
    /// the message budget.
    fn deltas_for(&self, held: impl IntoIterator<Item = (NodeId, Version)>) -> Vec<Delta> {
        let mut behind: Vec<(usize, NodeId, Version)> = held
            .into_iter()
            .filter_map(|(owner, since)| {
                let pending = self.rows.get(&owner)?.newer(since).count();
                (pending > 0).then_some((pending, owner, since))
            })
            .collect();
        // Scuttle-depth: the owner the peer is furthest behind on goes first.
        sort_small_by_key(&mut behind, |&(pending, owner, _)| (Reverse(pending), owner));
        let mut budget = self.config.max_updates_per_message;
        let mut deltas = Vec::new();
        for (_, owner, since) in behind {
            if budget == 0 {
                break;
            }
            // A prefix in version order: the peer then holds all of ours up to its last update.
            let mut updates: Vec<(&Key, &Record)> = self.rows[&owner].newer(since).collect();
            sort_small_by_key(&mut updates, |(_, record)| record.version);
            updates.truncate(budget);
            budget -= updates.len();
            let updates = updates
                .into_iter()
                .map(|(key, record)| Update {
                    version: record.version,
                    key: key.clone(),
                    value: record.value.clone(),
                })
                .collect();
            deltas.push(Delta { owner, since, updates });
        }
        deltas
    }

    fn apply(&mut self, now: Millis, deltas: Vec<Delta>) {
        for Delta { owner, since, updates } in deltas {
            let Some(newest) = updates.iter().map(|update| update.version).max() else {
                continue;
            };
            if owner == self.id {
                self.refute(newest);
                continue;
            }
            self.revive(owner, newest);
            let known = self.rows.get(&owner).map_or(Version::ZERO, |row| row.known);
            if self.forgotten.contains_key(&owner) || since > known {
                continue;
            }
            let row = self.rows.entry(owner).or_default();
            for Update { version, key, value } in updates {
                if version <= row.known {
                    continue;
                }
                if version.incarnation > row.known.incarnation {
                    row.records.clear();
                }
                row.known = version;
                row.records.insert(key, Record { version, value });
                row.last_heard = Some(now);
            }
        }
    }
}

/// One owner's row as this node knows it.
#[derive(Clone, Copy, Debug)]
pub struct OwnerView<'a> {
    id: NodeId,
    row: &'a Row,
}

impl<'a> OwnerView<'a> {
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The newest version of this owner we hold.
    pub fn version(&self) -> Version {
        self.row.known
    }

    /// When something new about this owner last arrived, or it last sent us a message; `None`
    /// for this node itself. The UI greys owners not heard from for a while.
    pub fn last_heard(&self) -> Option<Millis> {
        self.row.last_heard
    }

    pub fn is_departed(&self) -> bool {
        self.get(&Key::Departed).is_some()
    }

    pub fn get(&self, key: &Key) -> Option<&'a Value> {
        self.row.records.get(key)?.value.as_ref()
    }

    /// Live values, by key.
    pub fn values(&self) -> impl Iterator<Item = (&'a Key, &'a Value)> {
        self.row.records.iter().filter_map(|(key, record)| Some((key, record.value.as_ref()?)))
    }

    /// Records held for this owner, tombstones included: at most `max_history`.
    pub fn retained(&self) -> usize {
        self.row.records.len()
    }
}

/// Insertion sort, stable: for the short lists here (owners, one owner's `max_history`
/// records). The standard sorts are large generic code, compiled again for every element type
/// and key in the web app's bundle; this is a few instructions.
fn sort_small_by_key<T, K: Ord>(list: &mut [T], key: impl Fn(&T) -> K) {
    for end in 1..list.len() {
        let mut at = end;
        while at > 0 && key(&list[at - 1]) > key(&list[at]) {
            list.swap(at - 1, at);
            at -= 1;
        }
    }
}
