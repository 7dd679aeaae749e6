//! Fast failure detection: the runtime's "connection to peer X closed" hint. When the leader's
//! tab closes, a new leader arises within a few milliseconds of virtual time, before any
//! election timeout could expire; a hint about a live leader or an old one disturbs nothing.
mod common;

use common::{req, write, Cluster};
use flotilla_core::{Config, Role};

/// Closes the leader's tab (crash + hints at every other node) and returns how long, in virtual
/// ms, the cluster took to elect another leader.
fn close_leader_and_time_reelection(c: &mut Cluster) -> u64 {
    let old = c.leader().unwrap();
    let start = c.now;
    c.crash(old);
    c.hint_disconnected(old);
    let new = c.run_until_leader_within(1, 1_000);
    assert_ne!(new, old);
    c.now - start
}

#[test]
fn hint_three_nodes_closing_the_leader_elects_a_new_one_at_once() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.run_for(20);
    let elapsed = close_leader_and_time_reelection(&mut c);
    let timeout = Config::new(1).election_timeout_min;
    assert!(elapsed < timeout / 10, "{elapsed} ms, an election timeout is {timeout} ms");
    let leader = c.leader().unwrap();
    c.propose(leader, req(1, 2), write(1, 2)).unwrap();
    c.run_for(5);
    assert_eq!(c.node(leader).committed_state().values.get(&1), Some(&2));
}

#[test]
fn hint_five_nodes_closing_leader_after_leader_elects_each_time_without_a_split_vote() {
    let mut c = Cluster::new(5);
    c.elect(3);
    for round in 0..4 {
        let old = c.leader().unwrap();
        let term = c.term(old);
        let elapsed = close_leader_and_time_reelection(&mut c);
        assert!(elapsed <= 30, "round {round}: {elapsed} ms");
        let leader = c.leader().unwrap();
        assert_eq!(c.term(leader), term + 1, "one election, no split vote");
        // The closed tab reloads and rejoins as a follower.
        c.restart(old);
        c.run_for(100);
        assert_eq!(c.leader(), Some(leader));
    }
}

#[test]
fn hint_when_the_first_in_turn_is_behind_the_next_one_takes_over_a_stagger_later() {
    let mut c = Cluster::new(3);
    c.elect(1);
    // The last entry reaches node 3 only: node 2, first in turn, cannot win.
    c.cut(1, 2);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    c.heal();
    let start = c.now;
    c.crash(1);
    c.hint_disconnected(1);
    let leader = c.run_until_leader_within(1, 1_000);
    assert_eq!(leader, 3);
    let stagger = Config::new(1).election_timeout_min / 10;
    assert!(c.now - start <= 2 * stagger, "{} ms", c.now - start);
}

#[test]
fn hint_about_a_live_leader_does_not_disturb_it() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.term(1);
    // Only the connection between 1 and 2 closed: 3 still hears from 1 and refuses 2.
    c.cut(1, 2);
    let now = c.now;
    c.node_mut(2).handle_peer_disconnected(now, 1);
    c.run_for(100);
    assert_eq!(c.leader(), Some(1));
    assert_eq!(c.term(1), term, "the leader's term did not move");
    assert_eq!(c.term(3), term);
    assert_eq!(c.role(2), Role::PreCandidate);
}

#[test]
fn hint_that_arrives_late_about_an_old_leader_is_ignored() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.crash(1);
    let new = c.run_until_leader(2_000);
    let term = c.term(new);
    c.hint_disconnected(1);
    c.run_for(100);
    assert_eq!(c.leader(), Some(new));
    assert_eq!(c.term(new), term);
}

#[test]
fn hint_a_follower_waiting_for_its_turn_gives_it_up_to_a_candidate_it_granted() {
    let mut c = Cluster::new(5);
    c.elect(1);
    c.crash(1);
    let now = c.now;
    // Node 3 (second in turn) learns first; node 2 (first in turn) a little later and
    // campaigns at once. Node 3, waiting for its turn, grants node 2's pre-vote.
    c.node_mut(3).handle_peer_disconnected(now, 1);
    c.drain(3);
    let turn = c.node(3).poll_timeout().unwrap();
    assert!(turn > now && turn <= now + Config::new(1).election_timeout_min / 10);
    for id in [2, 4, 5] {
        c.node_mut(id).handle_peer_disconnected(now, 1);
        c.drain(id);
    }
    c.settle();
    assert_eq!(c.leader(), Some(2));
    assert!(c.node(3).poll_timeout().unwrap() >= now + Config::new(1).election_timeout_min);
    assert_eq!(c.node(3).counters().pre_votes_started, 0, "node 3 never campaigned");
}
