//! Scuttlebutt gossip: convergence under loss, partitions, restarts and compaction, with a
//! seeded xorshift driving which pairs talk, what they publish and which messages are lost.
use flotilla_core::gossip::{Compacted, Config, Gossip, GossipError, Key, Message, Value, Version};
use flotilla_core::NodeId;
use std::collections::BTreeMap;

/// Marsaglia's xorshift64: enough randomness for schedules, and the same for a seed everywhere.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// The live table a node sees: owner, then key, then value.
type Table = BTreeMap<NodeId, BTreeMap<Key, Value>>;

fn table(node: &Gossip) -> Table {
    node.view()
        .map(|owner| {
            let values = owner.values().map(|(k, v)| (k.clone(), v.clone())).collect();
            (owner.id(), values)
        })
        .collect()
}

/// Runs one exchange opened by `a`, message by message, through the wire format. `deliver`
/// says whether each message arrives; the exchange stops at the first lost one.
fn exchange_with(
    a: &mut Gossip,
    b: &mut Gossip,
    now: u64,
    mut deliver: impl FnMut() -> bool,
) -> Vec<Message> {
    let mut sent = Vec::new();
    let mut next = Some(Message::Digest(a.digest()));
    let (mut from, mut to) = (a, b);
    while let Some(msg) = next {
        let bytes = postcard::to_allocvec(&msg).expect("messages serialize");
        assert!(bytes.len() < 64 * 1024, "a {}-byte message", bytes.len());
        sent.push(msg);
        if !deliver() {
            break;
        }
        next = to.handle(now, from.id(), postcard::from_bytes(&bytes).expect("and deserialize"));
        (from, to) = (to, from);
    }
    sent
}

fn exchange(a: &mut Gossip, b: &mut Gossip, now: u64) -> Vec<Message> {
    exchange_with(a, b, now, || true)
}

/// Exchanges until the replier has nothing to say, as a runtime would over a few intervals.
fn sync(a: &mut Gossip, b: &mut Gossip, now: u64) {
    for _ in 0..100 {
        if exchange(a, b, now).len() == 1 {
            return;
        }
    }
    panic!("still exchanging after 100 exchanges");
}

fn drain(node: &mut Gossip) -> Vec<Compacted> {
    core::iter::from_fn(|| node.poll_compacted()).collect()
}

/// Nodes 1..=n on a network that loses messages and splits into two sides.
struct Cluster {
    nodes: Vec<Gossip>,
    config: Config,
    rng: XorShift,
    now: u64,
    loss_percent: u64,
    side: Vec<bool>,
    compacted: Vec<Compacted>,
}

impl Cluster {
    fn new(n: usize, seed: u64, config: Config) -> Self {
        let nodes = (1..=n as NodeId).map(|id| Gossip::new(id, 0, config.clone())).collect();
        Cluster {
            nodes,
            config,
            rng: XorShift(seed),
            now: 0,
            loss_percent: 0,
            side: vec![false; n],
            compacted: Vec::new(),
        }
    }

    fn pair(&mut self, a: usize, b: usize) -> (&mut Gossip, &mut Gossip) {
        assert_ne!(a, b);
        let (low, high) = self.nodes.split_at_mut(a.max(b));
        if a < b {
            (&mut low[a], &mut high[0])
        } else {
            (&mut high[0], &mut low[b])
        }
    }

    fn exchange(&mut self, a: usize, b: usize) {
        let (now, loss, cut) = (self.now, self.loss_percent, self.side[a] != self.side[b]);
        let mut rng = XorShift(self.rng.next() | 1);
        let (x, y) = self.pair(a, b);
        exchange_with(x, y, now, || !cut && !rng.percent(loss));
        for i in [a, b] {
            self.compacted.extend(drain(&mut self.nodes[i]));
        }
    }

    fn random_exchange(&mut self) {
        let n = self.nodes.len() as u64;
        let a = self.rng.below(n) as usize;
        let b = (a + 1 + self.rng.below(n - 1) as usize) % n as usize;
        self.exchange(a, b);
    }

    /// A random local update on a random node: telemetry, counters, or churn of custom keys
    /// (sets and deletes) that fills rows with tombstones.
    fn random_update(&mut self) {
        let i = self.rng.below(self.nodes.len() as u64) as usize;
        let n = self.rng.below(1_000);
        let custom = Key::Custom(format!("k{}", self.rng.below(8)));
        let node = &mut self.nodes[i];
        let result = match self.rng.below(5) {
            0 => node.set(Key::CommitIndex, n.into()),
            1 => node.set(Key::Name, format!("tab-{n}").as_str().into()),
            2 => node.set(Key::Counter("elections".into()), n.into()),
            3 => node.set(custom, n.into()),
            _ => {
                node.delete(&custom);
                Ok(())
            }
        };
        match result {
            Err(GossipError::HistoryFull) => node.delete(&Key::Custom(format!("k{}", n % 8))),
            other => other.expect("only a full row refuses an update"),
        }
    }

    fn tick_all(&mut self) {
        for node in &mut self.nodes {
            node.tick(self.now);
            self.compacted.extend(drain(node));
        }
    }

    /// Node `i` loses everything and starts again under the same id, in an incarnation taken
    /// from the clock as a tab would.
    fn restart(&mut self, i: usize) {
        self.nodes[i] = Gossip::new(i as NodeId + 1, self.now, self.config.clone());
        self.nodes[i].set(Key::Name, "restarted".into()).unwrap();
    }

    fn agree(&self) -> bool {
        let first = table(&self.nodes[0]);
        self.nodes.iter().all(|node| table(node) == first)
    }

    /// Heals the network, then gossips in rounds of random pairs until every node sees the
    /// same table; returns how many rounds it took.
    fn heal_and_settle(&mut self) -> usize {
        self.loss_percent = 0;
        self.side.fill(false);
        for round in 0..200 {
            if self.agree() {
                return round;
            }
            for _ in 0..self.nodes.len() {
                self.random_exchange();
            }
        }
        panic!("no agreement after 200 rounds");
    }
}

#[test]
fn random_exchanges_converge_through_loss_partitions_restarts_and_compaction() {
    // Small rows, so tombstones overflow and compaction runs all the time; a short memory, so
    // the sides of a partition forget each other and must revive each other after the heal.
    let config = Config {
        max_history: 6,
        max_updates_per_message: 4,
        heartbeat_every: 500,
        forget_after: 3_000,
        ..Config::default()
    };
    let (mut tombstones, mut forgotten) = (0, 0);
    for seed in 1..=40u64 {
        let n = 2 + (seed % 6) as usize;
        let mut cluster = Cluster::new(n, seed, config.clone());
        cluster.loss_percent = 20;
        for step in 0..1_500u64 {
            cluster.now += 10;
            if step == 400 {
                cluster.side = (0..n).map(|_| cluster.rng.percent(50)).collect();
            }
            if step == 900 {
                cluster.side.fill(false);
            }
            if step % 250 == 125 {
                let i = cluster.rng.below(n as u64) as usize;
                cluster.restart(i);
            }
            if cluster.rng.percent(40) {
                cluster.random_update();
            }
            cluster.tick_all();
            cluster.random_exchange();
        }
        // Heartbeats are news of every node, so any that was forgotten gets revived.
        cluster.now += config.heartbeat_every;
        cluster.tick_all();
        let rounds = cluster.heal_and_settle();
        assert!(rounds < 30, "seed {seed}: {rounds} rounds to agree");
        // Agreement is on the truth: every row everywhere is what its owner publishes.
        for owner in &cluster.nodes {
            let own = &table(owner)[&owner.id()];
            for node in &cluster.nodes {
                assert_eq!(&table(node)[&owner.id()], own, "seed {seed}");
            }
        }
        for report in &cluster.compacted {
            match report {
                Compacted::Tombstones { .. } => tombstones += 1,
                Compacted::Forgotten { .. } => forgotten += 1,
            }
        }
    }
    assert!(tombstones > 100, "tombstone compaction barely ran: {tombstones}");
    assert!(forgotten > 10, "partitioned nodes barely forgot each other: {forgotten}");
}

#[test]
fn an_exchange_spreads_updates_both_ways_in_three_messages() {
    let mut a = Gossip::new(1, 0, Config::default());
    let mut b = Gossip::new(2, 0, Config::default());
    a.set(Key::Role, "leader".into()).unwrap();
    b.set(Key::Role, "follower".into()).unwrap();
    let sent = exchange(&mut a, &mut b, 0);
    assert!(matches!(sent[..], [Message::Digest(_), Message::Reply { .. }, Message::Deltas(_)]));
    assert_eq!(table(&a), table(&b));
    assert_eq!(b.get(1, &Key::Role), Some(&"leader".into()));
    // Nothing new: the replier has nothing to say.
    assert_eq!(exchange(&mut a, &mut b, 0).len(), 1);
}

#[test]
fn a_tombstone_beats_the_older_value_wherever_it_is() {
    let mut a = Gossip::new(1, 0, Config::default());
    let mut b = Gossip::new(2, 0, Config::default());
    let mut c = Gossip::new(3, 0, Config::default());
    a.set(Key::Custom("busy".into()), true.into()).unwrap();
    exchange(&mut a, &mut b, 0);
    exchange(&mut b, &mut c, 0);
    assert_eq!(c.get(1, &Key::Custom("busy".into())), Some(&true.into()));

    // C is cut off while A deletes; B carries the tombstone.
    a.delete(&Key::Custom("busy".into()));
    exchange(&mut a, &mut b, 1);
    assert_eq!(b.get(1, &Key::Custom("busy".into())), None);
    // C still has the old value, and opens the exchange: it must lose, not spread.
    exchange(&mut c, &mut b, 2);
    assert_eq!(c.get(1, &Key::Custom("busy".into())), None);
    assert_eq!(b.get(1, &Key::Custom("busy".into())), None);
    assert_eq!(table(&a), table(&c));
}

#[test]
fn a_far_behind_node_gets_current_values_not_history() {
    let config = Config { max_history: 8, ..Config::default() };
    let mut a = Gossip::new(1, 0, config.clone());
    for i in 0..10_000u64 {
        let key = Key::Custom(format!("k{}", i % 20));
        if a.set(key.clone(), i.into()).is_err() {
            a.delete(&Key::Custom(format!("k{}", (i + 7) % 20)));
        }
    }
    assert!(drain(&mut a).iter().any(|c| matches!(c, Compacted::Tombstones { .. })));
    let mut late = Gossip::new(2, 0, config);
    let sent = exchange(&mut late, &mut a, 0);
    let Message::Reply { deltas, .. } = &sent[1] else { panic!("expected a reply") };
    let updates: usize = deltas.iter().map(|delta| delta.updates.len()).sum();
    assert!(updates <= 8, "{updates} updates for an owner that keeps 8 records");
    assert_eq!(table(&late), table(&a));
}

#[test]
fn replies_are_capped_oldest_first_and_most_behind_owner_first() {
    let config = Config { max_updates_per_message: 5, ..Config::default() };
    let mut busy = Gossip::new(1, 0, config.clone());
    let mut quiet = Gossip::new(2, 0, config.clone());
    let mut hub = Gossip::new(3, 0, config.clone());
    for i in 0..12u64 {
        busy.set(Key::Custom(format!("k{i}")), i.into()).unwrap();
    }
    quiet.set(Key::Name, "quiet".into()).unwrap();
    sync(&mut busy, &mut hub, 0);
    sync(&mut quiet, &mut hub, 0);

    let mut late = Gossip::new(4, 0, config);
    let sent = exchange(&mut late, &mut hub, 0);
    let Message::Reply { deltas, .. } = &sent[1] else { panic!("expected a reply") };
    assert_eq!(deltas[0].owner, 1, "the owner the asker lacks most goes first");
    assert_eq!(deltas.iter().map(|delta| delta.updates.len()).sum::<usize>(), 5);
    let versions: Vec<Version> = deltas[0].updates.iter().map(|u| u.version).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "oldest first: {versions:?}");

    let mut exchanges = 1;
    while table(&late) != table(&hub) {
        assert!(exchanges < 10, "no progress");
        exchange(&mut late, &mut hub, 0);
        exchanges += 1;
    }
    assert_eq!(exchanges, 4, "16 records (3 heartbeats, 13 keys) at 5 a message");
}

#[test]
fn a_full_reply_stays_far_below_64_kib() {
    let config = Config::default();
    let mut nodes: Vec<Gossip> = (1..=7).map(|id| Gossip::new(id, 0, config.clone())).collect();
    for node in &mut nodes {
        // Fill the row: the heartbeat plus the largest records allowed.
        for i in 0..config.max_history - 1 {
            let key = format!("{i:03}");
            let value = Value::Bytes(vec![0xAB; config.max_record_bytes - key.len()]);
            node.set(Key::Custom(key), value).unwrap();
        }
    }
    let (first, rest) = nodes.split_at_mut(1);
    for node in rest.iter_mut() {
        sync(node, &mut first[0], 0);
    }
    let mut late = Gossip::new(8, 0, config.clone());
    let sent = exchange(&mut late, &mut first[0], 0);
    let reply = postcard::to_allocvec(&sent[1]).unwrap();
    assert!(reply.len() < 24 * 1024, "reply of {} bytes", reply.len());
}

#[test]
fn a_node_restarted_empty_catches_up_and_replaces_its_old_row() {
    let mut a = Gossip::new(1, 0, Config::default());
    let mut b = Gossip::new(2, 0, Config::default());
    a.set(Key::Name, "before".into()).unwrap();
    a.set(Key::Custom("draft".into()), "unsaved".into()).unwrap();
    b.set(Key::Name, "b".into()).unwrap();
    sync(&mut a, &mut b, 0);

    // It publishes more than its old life did before it hears from anyone: only the new
    // incarnation tells peers these updates are not the old ones.
    let mut a = Gossip::new(1, 1, Config::default());
    a.set(Key::Name, "after".into()).unwrap();
    a.set(Key::Role, "learner".into()).unwrap();
    a.set(Key::Term, 3u64.into()).unwrap();
    sync(&mut a, &mut b, 1);
    assert_eq!(table(&a), table(&b));
    assert_eq!(b.get(1, &Key::Name), Some(&"after".into()));
    assert_eq!(b.get(1, &Key::Custom("draft".into())), None, "the old row is gone");
    assert_eq!(a.get(2, &Key::Name), Some(&"b".into()));
}

#[test]
fn a_restart_that_reuses_its_incarnation_is_outbid() {
    for publish_again in [true, false] {
        let mut a = Gossip::new(1, 0, Config::default());
        let mut b = Gossip::new(2, 0, Config::default());
        a.set(Key::Name, "before".into()).unwrap();
        a.set(Key::Custom("draft".into()), "unsaved".into()).unwrap();
        sync(&mut a, &mut b, 0);

        let mut a = Gossip::new(1, 0, Config::default());
        // Even a row holding only its heartbeat must replace the old one at peers.
        if publish_again {
            a.set(Key::Name, "after".into()).unwrap();
        }
        assert!(a.owner(1).unwrap().version() < b.owner(1).unwrap().version());
        sync(&mut a, &mut b, 1);
        assert_eq!(a.owner(1).unwrap().version().incarnation, 1);
        assert_eq!(table(&a), table(&b));
        assert_eq!(b.get(1, &Key::Custom("draft".into())), None, "the old row is gone");
    }
}

#[test]
fn memory_stays_bounded_after_many_updates() {
    let config = Config { max_history: 16, ..Config::default() };
    let mut rng = XorShift(7);
    let mut nodes: Vec<Gossip> = (1..=3).map(|id| Gossip::new(id, 0, config.clone())).collect();
    for step in 0..30_000u64 {
        let node = &mut nodes[rng.below(3) as usize];
        let key = Key::Custom(format!("key-{}", rng.below(500)));
        if rng.percent(50) || node.set(key.clone(), step.into()).is_err() {
            let victim = node.owner(node.id()).unwrap().values().last().map(|(k, _)| k.clone());
            if let Some(victim) = victim {
                node.delete(&victim);
            }
        }
        if step % 10 == 0 {
            let (a, b) = (rng.below(3) as usize, rng.below(2) as usize);
            let (x, y) = if a <= b { (b + 1, a) } else { (a, b) };
            let (low, high) = nodes.split_at_mut(x);
            exchange(&mut high[0], &mut low[y], step);
        }
        for node in &nodes {
            assert!(node.view().all(|owner| owner.retained() <= 16));
        }
    }
}

#[test]
fn departed_and_silent_owners_are_forgotten_and_not_brought_back() {
    let config = Config { forget_after: 1_000, ..Config::default() };
    let mut a = Gossip::new(1, 0, config.clone());
    let mut b = Gossip::new(2, 0, config.clone());
    let mut c = Gossip::new(3, 0, config.clone());
    a.set(Key::Name, "leaving".into()).unwrap();
    exchange(&mut a, &mut b, 0);
    exchange(&mut a, &mut c, 0);

    a.depart();
    assert_eq!(a.set(Key::Name, "again".into()), Err(GossipError::Departed));
    exchange(&mut a, &mut b, 10);
    let gone = b.owner(1).unwrap();
    assert!(gone.is_departed());
    assert_eq!(gone.values().count(), 1, "departure replaces the whole row");

    // B forgets A (and C, silent as long); C, which never heard of the departure nor forgot
    // A, cannot bring it back.
    b.tick(1_010);
    assert!(drain(&mut b).contains(&Compacted::Forgotten { owner: 1 }));
    assert!(b.owner(1).is_none());
    exchange(&mut c, &mut b, 1_020);
    exchange(&mut b, &mut c, 1_030);
    assert!(b.owner(1).is_none());

    // Once C forgets A too, nothing remains of it anywhere.
    c.tick(1_030);
    b.tick(2_020);
    assert!(b.owner(1).is_none() && c.owner(1).is_none());
    assert!(!b.digest().0.contains_key(&1), "the guard expired as well");
}

#[test]
fn a_forgotten_owner_that_speaks_again_is_fetched_afresh() {
    let config = Config { forget_after: 1_000, ..Config::default() };
    let mut a = Gossip::new(1, 0, config.clone());
    let mut b = Gossip::new(2, 0, config.clone());
    a.set(Key::Name, "sleepy".into()).unwrap();
    exchange(&mut a, &mut b, 0);
    b.tick(1_000);
    assert!(b.owner(1).is_none());

    // A background tab wakes up: its news revives it, and the next exchange fetches it whole.
    a.set(Key::Term, 4u64.into()).unwrap();
    exchange(&mut a, &mut b, 1_100);
    exchange(&mut a, &mut b, 1_200);
    assert_eq!(table(&a), table(&b));
    assert_eq!(b.get(1, &Key::Name), Some(&"sleepy".into()));
    assert_eq!(b.owner(1).unwrap().last_heard(), Some(1_200));
}

#[test]
fn a_reply_delayed_past_a_forget_does_not_leave_holes() {
    let config = Config { forget_after: 1_000, ..Config::default() };
    let mut a = Gossip::new(1, 0, config.clone());
    let mut b = Gossip::new(2, 0, config.clone());
    let mut c = Gossip::new(3, 0, config);
    a.set(Key::Name, "a".into()).unwrap();
    sync(&mut a, &mut b, 0);
    sync(&mut a, &mut c, 0);
    a.set(Key::Term, 2u64.into()).unwrap();
    sync(&mut a, &mut c, 0);

    // B asks C; C's reply holds only A's new term, as B held the rest. It is delayed.
    let late = c.handle(0, 2, Message::Digest(b.digest())).expect("C has news of A");
    // Meanwhile B forgets A, then A's digest revives it (B's answer is lost).
    b.tick(1_000);
    assert!(b.owner(1).is_none());
    let _ = b.handle(1_100, 1, Message::Digest(a.digest()));
    // The late reply assumed records B no longer holds: it must not pass for A's whole row.
    let _ = b.handle(1_200, 3, late);
    sync(&mut b, &mut a, 1_300);
    assert_eq!(table(&a), table(&b));
    assert_eq!(b.get(1, &Key::Name), Some(&"a".into()));
}

#[test]
fn last_heard_follows_news_of_an_owner_even_second_hand() {
    let config = Config { heartbeat_every: 100, ..Config::default() };
    let mut a = Gossip::new(1, 0, config.clone());
    let mut b = Gossip::new(2, 0, config.clone());
    let mut c = Gossip::new(3, 0, config);
    a.tick(0);
    exchange(&mut a, &mut b, 5);
    exchange(&mut b, &mut c, 20);
    assert_eq!(b.owner(1).unwrap().last_heard(), Some(5));
    assert_eq!(c.owner(1).unwrap().last_heard(), Some(20));
    assert_eq!(a.owner(1).unwrap().last_heard(), None);

    // No news, no refresh; the heartbeat is news when due.
    exchange(&mut b, &mut c, 40);
    assert_eq!(c.owner(1).unwrap().last_heard(), Some(20));
    let before = a.owner(1).unwrap().version();
    a.tick(50);
    assert_eq!(a.owner(1).unwrap().version(), before, "not due yet");
    a.tick(100);
    exchange(&mut a, &mut b, 100);
    exchange(&mut b, &mut c, 120);
    assert_eq!(c.owner(1).unwrap().last_heard(), Some(120));
}

#[test]
fn set_refuses_what_would_break_the_bounds_and_ignores_no_ops() {
    let config = Config { max_history: 3, max_record_bytes: 10, ..Config::default() };
    let mut a = Gossip::new(1, 0, config);
    assert_eq!(a.set(Key::Name, "far too long".into()), Err(GossipError::TooLarge));
    a.set(Key::Name, "short".into()).unwrap();
    let version = a.owner(1).unwrap().version();
    a.set(Key::Name, "short".into()).unwrap();
    assert_eq!(a.owner(1).unwrap().version(), version, "an unchanged value is not news");

    a.set(Key::Role, "leader".into()).unwrap();
    assert_eq!(a.set(Key::Term, 1u64.into()), Err(GossipError::HistoryFull));
    a.delete(&Key::Heartbeat);
    assert!(a.get(1, &Key::Heartbeat).is_some(), "the heartbeat belongs to tick");
    a.delete(&Key::Role);
    a.set(Key::Term, 1u64.into()).unwrap();
    assert_eq!(drain(&mut a), [Compacted::Tombstones { incarnation: 1, keys: vec![Key::Role] }]);
    assert_eq!(a.owner(1).unwrap().retained(), 3);
}
