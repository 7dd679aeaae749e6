//! Log compaction and snapshots (section 7 of the paper, thesis chapter 5): compaction by entry
//! count and by size and on demand, storage bounded by it, a restart from snapshot plus log, a
//! follower or a new learner behind the compaction point catching up by InstallSnapshot in
//! chunks of at most 64 KiB, a transfer surviving lost, repeated and reordered chunks, and the
//! durability rule for the install's acknowledgement.
mod common;

use common::{assert_durability_rule, req, write, Cluster};
use flotilla_core::reducers::kv::{KvAction, KvOutput};
use flotilla_core::{codec, Change, Config, Event, MessageBody, ReplicationState};

fn compacting(after: u64, keep: u64) -> impl Fn(Config) -> Config {
    move |c| Config { compact_after_entries: Some(after), compact_keep_entries: keep, ..c }
}

fn is_chunk(m: &flotilla_core::Message<KvAction>) -> bool {
    matches!(m.body, MessageBody::InstallSnapshot { .. })
}

#[test]
fn section_7_compaction_past_the_threshold_bounds_the_log_in_memory_and_in_storage() {
    let mut c = Cluster::with_config(3, compacting(50, 10));
    c.elect(1);
    c.write_many(1, 1, 300, 20);
    // Followers learn the last commit with the next heartbeat.
    c.run_for(50);
    for id in 1..=3 {
        let node = c.node(id);
        assert_eq!(node.status().commit, 301);
        assert!(node.log().len() <= 60, "node {id} holds {} entries", node.log().len());
        let disk = &c.disks[&id];
        let snapshot = disk.snapshot.as_ref().expect("a snapshot on disk");
        assert!(snapshot.index >= 250, "node {id}: snapshot at {}", snapshot.index);
        assert!(disk.entries.len() <= 50, "node {id} stores {} entries", disk.entries.len());
        assert_eq!(node.committed_state().values.len(), 300);
    }
    assert_durability_rule(&c);
}

/// A snapshot serializes the whole state: with `compact_after_entries_max` the interval between
/// snapshots grows with the entries the last one covers, from `compact_after_entries` up to
/// the cap (a fixed interval would compact at 8, 16, 24, 32, ...).
#[test]
fn section_7_the_compaction_interval_grows_with_the_state_up_to_its_cap() {
    let growing = |c| Config {
        compact_after_entries: Some(8),
        compact_after_entries_max: 32,
        compact_keep_entries: 0,
        ..c
    };
    let mut c = Cluster::with_config(3, growing);
    c.elect(1);
    let mut snapshots = Vec::new();
    for seq in 1..=130 {
        c.write_many(1, seq, 1, 1);
        let index = c.disks[&2].snapshot.as_ref().map(|s| s.index);
        if index.is_some() && snapshots.last() != index.as_ref() {
            snapshots.extend(index);
        }
    }
    assert_eq!(snapshots, [8, 16, 32, 64, 96, 128]);
    assert_durability_rule(&c);
}

#[test]
fn section_7_compaction_by_size_and_on_demand() {
    let by_size = |c| Config { compact_after_entries: None, compact_after_bytes: Some(500), ..c };
    let mut c = Cluster::with_config(3, by_size);
    c.elect(1);
    c.write_many(1, 1, 100, 10);
    let disk = &c.disks[&2];
    let snapshot_index = disk.snapshot.as_ref().map_or(0, |s| s.index);
    assert!(snapshot_index > 0, "about 10 bytes an entry: compacted by size");
    assert!(disk.entries.len() < 100);
    let mut c = Cluster::with_config(3, |c| Config { compact_after_entries: None, ..c });
    c.elect(1);
    c.write_many(1, 1, 20, 10);
    assert!(c.disks[&1].snapshot.is_none(), "no threshold, no snapshot");
    let index = c.node_mut(1).compact_now();
    c.drain(1);
    assert_eq!(index, Some(21));
    assert_eq!(c.disks[&1].snapshot.as_ref().map(|s| s.index), Some(21));
    assert!(c.disks[&1].entries.is_empty());
    assert_eq!(c.node_mut(1).compact_now(), None, "nothing new applied");
}

#[test]
fn section_7_a_restarted_node_recovers_from_snapshot_plus_log() {
    let mut c = Cluster::with_config(3, compacting(40, 5));
    c.elect(1);
    let cas = KvAction::Cas { key: 7, from: None, to: 1 };
    c.propose(1, req(9, 1), cas.clone()).unwrap();
    c.settle();
    let first = c.outcome(1, req(9, 1)).unwrap();
    c.write_many(1, 1, 100, 10);
    for id in [2, 1] {
        let state = c.node(id).committed_state().clone();
        c.crash(id);
        c.restart(id);
        assert!(c.disks[&id].snapshot.is_some());
        assert_eq!(c.node(id).committed_state(), &state, "node {id}");
    }
    c.run_until_leader(2_000);
    c.run_for(100);
    // The session table came back with the snapshot: the retry gets the original outcome.
    c.propose(2, req(9, 1), cas).unwrap();
    assert_eq!(c.outcome(2, req(9, 1)), Some(first));
    assert_durability_rule(&c);
}

#[test]
fn section_7_a_follower_behind_the_compaction_point_gets_the_snapshot_in_small_chunks() {
    let tune = |c| Config { snapshot_chunk_bytes: 100, ..compacting(50, 10)(c) };
    let mut c = Cluster::with_config(3, tune);
    c.elect(1);
    c.isolate(3);
    c.write_many(1, 1, 300, 20);
    assert!(c.node(3).status().commit < 10);
    c.heal();
    let delivered = c.delivered.len();
    c.run_for(200);
    let chunks = c.delivered[delivered..].iter().filter(|m| is_chunk(m)).count();
    assert!(chunks >= 10, "{chunks} chunks of 100 bytes");
    assert_eq!(c.node(3).committed_state(), c.node(1).committed_state());
    assert_eq!(c.node(3).status().commit, c.commit(1));
    let peer = c.node(1).replication().find(|p| p.0 == 3).unwrap();
    assert_eq!(peer.3, ReplicationState::Replicate, "back to entries");
    c.propose(1, req(2, 1), write(1, 1)).unwrap();
    c.settle();
    assert_eq!(c.node(3).committed_state().values.get(&1), Some(&1));
    assert_durability_rule(&c);
}

#[test]
fn section_7_every_snapshot_message_encodes_in_at_most_64_kib() {
    let mut c = Cluster::with_config(3, compacting(1_000, 0));
    c.elect(1);
    c.isolate(3);
    for seq in 1..=6_000u64 {
        // 10-byte values make a state well over 64 KiB.
        c.propose(1, req(1, seq), write(seq, u64::MAX - seq)).unwrap();
        if seq % 250 == 0 {
            c.settle();
        }
    }
    c.settle();
    c.heal();
    let delivered = c.delivered.len();
    c.run_for(300);
    let sizes: Vec<usize> = c.delivered[delivered..]
        .iter()
        .filter(|m| is_chunk(m))
        .map(|m| codec::encode(m).len())
        .collect();
    assert!(sizes.len() >= 2, "a state this big takes several chunks: {sizes:?}");
    assert!(sizes.iter().all(|&s| s <= 64 * 1024), "{sizes:?}");
    assert_eq!(c.node(3).committed_state(), c.node(1).committed_state());
}

/// xorshift64: a fixed-seed source of network chaos.
struct Chaos(u64);

impl Chaos {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn section_7_a_snapshot_transfer_survives_lost_repeated_and_reordered_chunks() {
    let tune = |c| Config { snapshot_chunk_bytes: 64, ..compacting(50, 0)(c) };
    for seed in 1..=8u64 {
        let mut c = Cluster::with_config(3, tune);
        c.elect(1);
        c.isolate(3);
        c.write_many(1, 1, 200, 25);
        c.heal();
        let mut chaos = Chaos(seed * 0x9E37_79B9);
        for _ in 0..2_000 {
            if c.node(3).status().commit == c.commit(1) {
                break;
            }
            let mut flight = Vec::new();
            for m in c.take_in_flight() {
                let snapshot_traffic =
                    is_chunk(&m) || matches!(m.body, MessageBody::SnapshotAck { .. });
                match chaos.next() % 10 {
                    0 | 1 if snapshot_traffic => {}                             // lost
                    2 | 3 if snapshot_traffic => flight.extend([m.clone(), m]), // repeated
                    _ => flight.push(m),
                }
            }
            for i in (1..flight.len()).rev() {
                flight.swap(i, (chaos.next() % (i as u64 + 1)) as usize); // reordered
            }
            let count = flight.len();
            for m in flight {
                c.inject(m);
            }
            for _ in 0..count {
                c.deliver_one();
            }
            c.tick(5);
        }
        assert_eq!(c.node(3).status().commit, c.commit(1), "seed {seed}");
        assert_eq!(c.node(3).committed_state(), c.node(1).committed_state(), "seed {seed}");
        assert_durability_rule(&c);
    }
}

#[test]
fn section_7_a_new_learner_joining_after_10000_entries_catches_up_by_snapshot() {
    let mut c = Cluster::with_config(3, compacting(4096, 512));
    c.elect(1);
    c.write_many(1, 1, 10_000, 250);
    c.spawn(4);
    let now = c.now;
    c.node_mut(4).request_join(now, 2);
    let delivered = c.delivered.len();
    c.run_for(100);
    let chunks = c.delivered[delivered..].iter().filter(|m| m.to == 4 && is_chunk(m)).count();
    assert!(chunks >= 1);
    assert_eq!(c.node(4).status().commit, c.commit(1));
    assert_eq!(c.node(4).committed_state().values.len(), 10_000);
    assert_eq!(c.learners(4), [4]);
    assert!(c.node(4).log().len() < 10_000 - 4096, "it did not receive the compacted entries");
    let now = c.now;
    assert!(c.node_mut(1).change_membership(now, Change::Promote(4)).is_ok());
}

#[test]
fn section_7_install_reports_an_event_and_settles_the_proposals_it_covers() {
    let mut c = Cluster::with_config(3, compacting(20, 0));
    c.elect(1);
    // Node 3 forwards a proposal, then loses touch before hearing how it went.
    c.propose(3, req(5, 1), write(5, 5)).unwrap();
    c.deliver_one();
    c.isolate(3);
    c.write_many(1, 1, 60, 10);
    c.heal();
    c.run_for(200);
    let installed = c.events.iter().any(|(id, event)| {
        *id == 3 && matches!(event, Event::SnapshotInstalled { index, .. } if *index > 20)
    });
    assert!(installed);
    let outcome = c.outcome(3, req(5, 1)).expect("settled by the session table");
    assert_eq!(outcome.unwrap().1, KvOutput::Written);
}

#[test]
fn section_7_a_new_leader_resumes_a_transfer_where_the_follower_stands() {
    let tune = |c| Config { snapshot_chunk_bytes: 64, ..compacting(50, 0)(c) };
    let mut c = Cluster::with_config(3, tune);
    c.elect(1);
    c.isolate(3);
    c.write_many(1, 1, 120, 20);
    c.heal();
    // Node 3 gets every chunk but the last from leader 1, which then dies.
    c.drop_if(|m| match &m.body {
        MessageBody::InstallSnapshot { offset, total, data, .. } => {
            offset + data.len() as u64 == *total
        }
        _ => false,
    });
    c.run_for(100);
    assert!(c.node(3).status().commit < c.commit(1));
    c.heal();
    c.crash(1);
    let leader = c.run_until_leader(3_000);
    c.run_for(200);
    assert_eq!(c.node(3).status().commit, c.commit(leader));
    assert_eq!(c.node(3).committed_state(), c.node(leader).committed_state());
    assert_durability_rule(&c);
}

#[test]
fn section_7_a_snapshot_that_does_not_decode_is_an_error_at_restart() {
    use flotilla_core::reducers::kv::Kv;
    use flotilla_core::{DurableState, Membership, Node, RestoreError, Snapshot};
    let membership = Membership::with_voters(&[1]);
    let snapshot = Snapshot { index: 5, term: 1, membership, data: vec![0xff; 3] };
    let disk = DurableState::<KvAction> { snapshot: Some(snapshot), ..DurableState::default() };
    let error = Node::<Kv>::try_restart(Config::new(1), &[], disk, 1, 0).err().unwrap();
    assert!(matches!(error, RestoreError::Snapshot(_)));
    assert!(error.to_string().starts_with("the stored snapshot does not decode"));
}
