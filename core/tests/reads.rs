//! Linearizable reads by ReadIndex (thesis section 6.4): the leader confirms its leadership with
//! one heartbeat round for any number of reads, a new leader first commits an entry of its term,
//! followers ask the leader and wait until they have applied that far, a deposed leader serves
//! nothing stale; lease reads only when asked for.
mod common;

use common::{req, write, Cluster};
use flotilla_core::{Change, Config, MessageBody, ReadError, ReadId};

fn heartbeats_sent(c: &Cluster, from_delivered: usize) -> usize {
    c.delivered[from_delivered..]
        .iter()
        .filter(|m| matches!(m.body, MessageBody::Heartbeat { .. }))
        .count()
}

#[test]
fn section_6_4_reads_at_the_leader_wait_for_one_heartbeat_round_shared_by_all() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 10)).unwrap();
    c.settle();
    let commit = c.commit(1);
    let delivered = c.delivered.len();
    let now = c.now;
    for id in 0..50 {
        c.node_mut(1).read(now, ReadId(id)).unwrap();
    }
    c.drain(1);
    assert_eq!(c.read_outcome(1, 0), None, "not before the round");
    c.settle();
    for id in 0..50 {
        assert_eq!(c.read_outcome(1, id), Some(Ok(commit)));
    }
    assert_eq!(heartbeats_sent(&c, delivered), 2, "one round, one heartbeat per follower");
    assert_eq!(c.node(1).committed_state().values.get(&1), Some(&10));
    // Reads that arrive while a round is under way wait for it, then share the next one.
    let delivered = c.delivered.len();
    for id in 50..100 {
        c.read(1, id).unwrap();
    }
    c.settle();
    assert!((50..100).all(|id| c.read_outcome(1, id).is_some_and(|r| r.is_ok())));
    assert_eq!(heartbeats_sent(&c, delivered), 4, "two rounds for fifty reads");
}

#[test]
fn section_6_4_a_deposed_leader_serves_no_stale_read() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.isolate(1);
    c.read(1, 7).unwrap();
    let leader = c.run_until_leader_among(&[2, 3], 3_000);
    c.propose(leader, req(1, 1), write(1, 1)).unwrap();
    c.run_for(300); // node 1 steps down (CheckQuorum)
    assert_eq!(c.read_outcome(1, 7), Some(Err(ReadError::LeaderChanged)), "never ready");
    c.heal();
    c.run_for(100);
    c.read(1, 8).unwrap();
    c.settle();
    let index = c.read_outcome(1, 8).unwrap().unwrap();
    assert!(index >= c.commit(leader), "a follower's read sees the new write");
    assert_eq!(c.node(1).committed_state().values.get(&1), Some(&1));
}

#[test]
fn section_6_4_a_new_leader_answers_reads_once_it_committed_an_entry_of_its_term() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    c.crash(1);
    c.drop_if(Cluster::is_append);
    let leader = c.run_until_leader(3_000);
    c.read(leader, 1).unwrap();
    c.run_for(100);
    assert_eq!(c.read_outcome(leader, 1), None, "its no-op has not committed");
    c.heal();
    c.run_for(100);
    let noop = c.node(leader).log().iter().rev().find(|e| e.term == c.term(leader)).unwrap().index;
    assert_eq!(c.read_outcome(leader, 1), Some(Ok(noop)));
}

#[test]
fn section_6_4_a_follower_read_asks_the_leader_then_waits_to_apply_the_read_index() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.drop_if(|m| m.to == 3 && Cluster::is_append(m));
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    c.read(3, 5).unwrap();
    c.settle();
    assert_eq!(c.read_outcome(3, 5), None, "node 3 has not applied the read index yet");
    assert_eq!(c.node(3).committed_state().values.get(&1), None);
    c.heal();
    c.run_for(100);
    assert_eq!(c.read_outcome(3, 5), Some(Ok(c.commit(1))));
    assert_eq!(c.node(3).committed_state().values.get(&1), Some(&1));
}

#[test]
fn reads_fail_without_a_leader_when_the_leader_changes_and_after_the_timeout() {
    let mut c = Cluster::new(3);
    assert_eq!(c.read(1, 1), Err(ReadError::NoLeader));
    assert_eq!(ReadError::NoLeader.to_string(), "no leader is known; the read was not sent");
    c.elect(1);
    c.cut(1, 3);
    c.read(3, 2).unwrap();
    c.settle();
    let now = c.now;
    c.node_mut(3).handle_peer_disconnected(now, 1);
    c.drain(3);
    assert_eq!(c.read_outcome(3, 2), Some(Err(ReadError::LeaderChanged)));
    c.heal();
    c.run_for(500);
    let leader = c.leader().unwrap();
    let follower = if leader == 2 { 3 } else { 2 };
    c.isolate(leader);
    c.read(follower, 3).unwrap();
    c.run_for(Config::new(1).proposal_timeout + 1);
    assert!(c.read_outcome(follower, 3).is_some_and(|r| r.is_err()));
}

#[test]
fn lease_reads_are_opt_in_and_skip_the_round_while_the_lease_holds() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(60);
    let delivered = c.delivered.len();
    c.read(1, 1).unwrap();
    c.settle();
    assert_eq!(heartbeats_sent(&c, delivered), 2, "off by default: a round");

    let mut c = Cluster::with_config(3, |c| Config { lease_reads: true, ..c });
    c.elect(1);
    c.run_for(60); // a heartbeat round gives the leader its lease
    let delivered = c.delivered.len();
    c.read(1, 1).unwrap();
    assert!(c.read_outcome(1, 1).is_some_and(|r| r.is_ok()), "served at once");
    assert_eq!(c.delivered.len(), delivered);
    // Without answers, the lease runs out after an election timeout and reads need a round.
    c.isolate(1);
    c.run_for(Config::new(1).election_timeout_min + 60);
    c.read(1, 2).ok();
    c.settle();
    assert_ne!(c.read_outcome(1, 2).map(|r| r.is_ok()), Some(true));
}

#[test]
fn lease_reads_make_the_disconnect_hint_wait_for_the_lease() {
    let mut c = Cluster::with_config(3, |c| Config { lease_reads: true, ..c });
    c.elect(1);
    c.run_for(60);
    let start = c.now;
    c.crash(1);
    c.hint_disconnected(1);
    let leader = c.run_until_leader_within(1, 2_000);
    assert_ne!(leader, 1);
    assert!(c.now - start >= Config::new(1).election_timeout_min - 60, "waited for the lease");
}

#[test]
fn section_6_4_a_one_node_cluster_serves_reads_at_once() {
    let mut c = Cluster::bootstrap(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    c.read(1, 1).unwrap();
    assert_eq!(c.read_outcome(1, 1), Some(Ok(c.commit(1))));
}

#[test]
fn section_6_4_a_read_at_the_leader_sees_a_write_a_follower_knew_committed_before_it() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    // The proposal, then the appends: node 3 completes a quorum with the leader and reports
    // its write committed before the leader has heard a single acknowledgement.
    for _ in 0..3 {
        c.deliver_one();
    }
    let (written, _) = c.outcome(3, req(9, 1)).unwrap().unwrap();
    assert!(c.commit(1) < written, "the leader does not know yet");
    c.read(1, 1).unwrap();
    c.settle();
    assert!(c.read_outcome(1, 1).unwrap().unwrap() >= written, "the read must see that write");
    assert_eq!(c.node(1).committed_state().values.get(&4), Some(&40));
}

#[test]
fn section_6_4_a_read_after_a_voter_joins_still_sees_a_write_known_committed_under_three() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.spawn(4);
    let now = c.now;
    c.node_mut(4).request_join(now, 1);
    c.run_for(100);
    assert_eq!(c.learners(1), [4]);
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    // Node 3 knows its write committed (3 voters) before the leader does; then the leader
    // promotes node 4: four voters, where a follower and the leader are no quorum.
    for _ in 0..3 {
        c.deliver_one();
    }
    let (written, _) = c.outcome(3, req(9, 1)).unwrap().unwrap();
    let now = c.now;
    c.node_mut(1).change_membership(now, Change::Promote(4)).unwrap();
    c.drain(1);
    assert_eq!(c.voters(1), [1, 2, 3, 4]);
    assert!(c.commit(1) < written, "the leader does not know yet");
    c.read(1, 1).unwrap();
    c.settle();
    assert!(c.read_outcome(1, 1).unwrap().unwrap() >= written, "the read must see that write");
}
