//! Introspection: status, per-peer replication state (probe, replicate, snapshot) and the
//! counters a UI shows — messages by kind, elections, proposals committed and dropped,
//! snapshots sent, installed and taken.
mod common;

use common::{req, write, Cluster};
use flotilla_core::{Config, MessageBody, MessageKind, ReplicationState, Role};

#[test]
fn status_and_counters_follow_an_election_and_some_proposals() {
    let mut c = Cluster::new(3);
    c.elect(1);
    for seq in 1..=5 {
        c.propose(2, req(1, seq), write(1, seq)).unwrap();
    }
    c.settle();
    let status = c.node(1).status();
    assert_eq!(
        (status.role, status.leader, status.commit, status.applied),
        (Role::Leader, Some(1), 6, 6)
    );
    let leader = c.node(1).counters();
    assert_eq!((leader.pre_votes_started, leader.elections_started), (1, 1));
    assert_eq!(leader.messages_out.get(MessageKind::PreVote), 2);
    assert_eq!(leader.messages_in.get(MessageKind::Propose), 5);
    let follower = c.node(2).counters();
    assert_eq!(follower.proposals_committed, 5);
    assert_eq!(follower.messages_out.get(MessageKind::Propose), 5);
    let appends_to_2 = c.delivered.iter().filter(|m| m.to == 2 && Cluster::is_append(m)).count();
    assert_eq!(follower.messages_in.get(MessageKind::Append), appends_to_2 as u64);
    assert_eq!(
        follower.messages_in.total(),
        c.delivered.iter().filter(|m| m.to == 2).count() as u64
    );
    assert!(follower
        .messages_out
        .iter()
        .any(|(kind, n)| kind == MessageKind::AppendAccepted && n > 0));
}

#[test]
fn counters_count_dropped_proposals() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.drop_if(|m| m.from == 1 && Cluster::is_append(m));
    c.propose(3, req(9, 1), write(1, 1)).unwrap();
    c.settle();
    c.crash(1);
    c.heal();
    c.run_until_leader(2_000);
    c.run_for(100);
    assert_eq!(c.node(3).counters().proposals_dropped, 1);
}

#[test]
fn replication_reports_probe_replicate_and_snapshot_per_peer() {
    let tune = |c| Config { compact_after_entries: Some(20), compact_keep_entries: 0, ..c };
    let mut c = Cluster::with_config(3, tune);
    c.elect(1);
    c.settle();
    let states: Vec<_> = c.node(1).replication().map(|(id, _, _, state)| (id, state)).collect();
    assert_eq!(states, [(2, ReplicationState::Replicate), (3, ReplicationState::Replicate)]);
    c.isolate(3);
    c.write_many(1, 1, 60, 10);
    // Node 3 comes back but its snapshot acknowledgements are lost: it stays in Snapshot.
    c.heal();
    c.drop_if(|m| {
        m.from == 3
            && matches!(
                m.body,
                MessageBody::SnapshotAck { .. } | MessageBody::AppendAccepted { .. }
            )
    });
    c.run_for(100);
    let (_, matched, _, state) = c.node(1).replication().find(|p| p.0 == 3).unwrap();
    assert_eq!(state, ReplicationState::Snapshot);
    assert!(matched < c.node(1).snapshot_index());
    assert!(c.node(1).counters().snapshots_sent >= 1);
    assert!(c.node(1).counters().compactions >= 2);
    c.heal();
    c.run_for(100);
    let (_, matched, next, state) = c.node(1).replication().find(|p| p.0 == 3).unwrap();
    assert_eq!((state, matched + 1), (ReplicationState::Replicate, next));
    assert_eq!(c.node(3).counters().snapshots_installed, 1);
}
