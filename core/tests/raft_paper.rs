//! Conformance tests named after the sections of the Raft paper ("In Search of an
//! Understandable Consensus Algorithm", extended version) they check.
mod common;

use common::{entry, log_of_terms, req, write, Cluster};
use flotilla_core::reducers::kv::{Kv, KvAction, KvOutput};
use flotilla_core::{Config, DurableState, Message, MessageBody, Node, NodeId, Output, Role, Term};
use std::collections::BTreeMap;

fn disk(term: Term, terms: &[Term], commit: u64) -> DurableState<KvAction> {
    DurableState { term, voted_for: None, commit, snapshot: None, entries: log_of_terms(terms) }
}

fn message(from: NodeId, to: NodeId, term: Term, body: MessageBody<KvAction>) -> Message<KvAction> {
    Message { from, to, term, body }
}

// ---- 5.1 Raft basics: terms ----

#[test]
fn section_5_1_a_node_that_sees_a_higher_term_adopts_it_and_follows() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.term(1);
    c.node_mut(1)
        .handle_message(0, message(2, 1, term + 5, MessageBody::HeartbeatResponse { round: 0 }));
    assert_eq!(c.role(1), Role::Follower);
    assert_eq!(c.term(1), term + 5);
}

#[test]
fn section_5_1_a_message_from_an_older_term_is_refused_with_the_newer_term() {
    let mut c = Cluster::from_disks(
        vec![1, 2],
        BTreeMap::from([(1, disk(3, &[], 0)), (2, disk(1, &[], 0))]),
        |c| c,
    );
    let stale =
        MessageBody::Append { prev_index: 0, prev_term: 0, commit: 0, entries: vec![entry(1, 1)] };
    c.node_mut(1).handle_message(0, message(2, 1, 1, stale));
    assert!(c.node(1).log().is_empty(), "the stale append was not taken");
    let reply = c.node_mut(1).poll_output();
    assert!(
        matches!(
            reply,
            Some(Output::Send(Message {
                to: 2,
                term: 3,
                body: MessageBody::HeartbeatResponse { round: 0 },
                ..
            }))
        ),
        "the stale leader is told the newer term: {reply:?}"
    );
}

#[test]
fn section_5_1_a_stale_leader_steps_down_once_it_hears_the_newer_term() {
    // Without CheckQuorum the isolated leader does not step down by itself.
    let mut c = Cluster::with_config(3, |c| Config { check_quorum: false, ..c });
    c.elect(1);
    c.isolate(1);
    c.run_for(1_000);
    let new_leader = c.leader().unwrap();
    assert_ne!(new_leader, 1);
    assert_eq!(c.role(1), Role::Leader, "still leading its old term, alone");
    c.heal();
    c.run_for(100);
    assert_eq!(c.role(1), Role::Follower);
    assert_eq!(c.term(1), c.term(new_leader));
    assert_eq!(c.node(1).status().leader, Some(new_leader));
}

// ---- 5.2 Leader election ----

#[test]
fn section_5_2_followers_that_hear_no_leader_elect_one() {
    let mut c = Cluster::new(5);
    let leader = c.run_until_leader(2_000);
    c.run_for(200);
    for id in 1..=5 {
        assert_eq!(c.node(id).status().leader, Some(leader));
        assert_eq!(c.term(id), c.term(leader));
    }
}

#[test]
fn section_5_2_a_candidate_wins_with_votes_from_a_majority() {
    let mut c = Cluster::new(5);
    c.isolate(4);
    c.isolate(5);
    c.elect(1); // votes from 1, 2, 3 of 5
    assert_eq!(c.node(2).status().leader, Some(1));
}

#[test]
fn section_5_2_a_candidate_without_a_majority_does_not_win() {
    let mut c = Cluster::with_config(5, |c| Config { pre_vote: false, ..c });
    c.isolate(3);
    c.isolate(4);
    c.isolate(5);
    c.campaign(1);
    assert_eq!(c.role(1), Role::Candidate);
    assert_eq!(c.term(1), 1);
}

#[test]
fn section_5_2_a_node_grants_at_most_one_vote_per_term() {
    let mut node = Node::<Kv>::new(Config::new(3), &[1, 2, 3], 1, 0);
    let ask = |from| {
        message(
            from,
            3,
            1,
            MessageBody::RequestVote {
                pre_vote: false,
                last_index: 0,
                last_term: 0,
                transfer: false,
            },
        )
    };
    node.handle_message(0, ask(1));
    node.handle_message(0, ask(2));
    node.handle_message(0, ask(1)); // a duplicate of the first request is granted again
    let grants: Vec<(NodeId, bool)> = std::iter::from_fn(|| node.poll_output())
        .filter_map(|o| match o {
            Output::Send(Message {
                to, body: MessageBody::VoteResponse { granted, .. }, ..
            }) => Some((to, granted)),
            _ => None,
        })
        .collect();
    assert_eq!(grants, [(1, true), (2, false), (1, true)]);
}

#[test]
fn section_5_2_a_candidate_follows_a_leader_of_its_own_term() {
    let mut c = Cluster::with_config(3, |c| Config { pre_vote: false, ..c });
    c.isolate(2);
    c.campaign(2); // term 1, and nobody hears it
    assert_eq!((c.role(2), c.term(2)), (Role::Candidate, 1));
    c.elect(1); // term 1 too, with 3's vote
    assert_eq!(c.term(1), 1);
    c.heal();
    c.run_for(100);
    assert_eq!(c.role(2), Role::Follower);
    assert_eq!(c.node(2).status().leader, Some(1));
}

#[test]
fn section_5_2_split_votes_are_resolved_by_a_later_election() {
    let mut c = Cluster::with_config(4, |c| Config { pre_vote: false, ..c });
    // 3 only hears 1 and 4 only hears 2: two votes each, no majority of 4.
    c.cut(1, 4);
    c.cut(2, 3);
    let now = c.now;
    c.node_mut(1).campaign(now);
    c.node_mut(2).campaign(now);
    c.settle();
    assert_eq!((c.role(1), c.role(2)), (Role::Candidate, Role::Candidate));
    c.heal();
    let leader = c.run_until_leader(3_000);
    assert!(c.term(leader) >= 2);
}

#[test]
fn section_5_2_election_timeouts_are_random_but_reproducible_from_the_seed() {
    let deadline =
        |id, seed| Node::<Kv>::new(Config::new(id), &[1, 2, 3], seed, 1000).poll_timeout().unwrap();
    assert_eq!(deadline(1, 7), deadline(1, 7));
    let spread: std::collections::BTreeSet<u64> = (0..50).map(|seed| deadline(1, seed)).collect();
    assert!(spread.len() > 20, "timeouts are spread: {spread:?}");
    assert!(spread.iter().all(|t| (1150..1300).contains(t)));
}

// ---- 5.3 Log replication ----

#[test]
fn section_5_3_the_leader_replicates_commits_and_applies_a_proposal() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(7, 70)).unwrap();
    // Followers learn the commit index with the leader's next heartbeat (50 ms).
    c.run_for(50);
    for id in 1..=3 {
        assert_eq!(c.applied[&id], [(2, write(7, 70))], "node {id}");
        assert_eq!(c.node(id).committed_state().values.get(&7), Some(&70));
    }
    assert_eq!(c.outcome(1, req(1, 1)), Some(Ok((2, KvOutput::Written))));
}

#[test]
fn section_5_3_a_follower_applies_an_entry_only_once_it_learns_it_is_committed() {
    // Five voters: a follower and the leader alone are no quorum, so it must be told.
    let mut c = Cluster::new(5);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    // Deliver the four appends only.
    for _ in 0..4 {
        c.deliver_one();
    }
    assert_eq!(c.node(2).status().last_index, 2);
    assert!(c.applied[&2].is_empty());
    c.settle();
    assert!(c.applied[&2].is_empty(), "the leader's commit alone is not news to a follower");
    c.run_for(50);
    assert_eq!(c.applied[&2].len(), 1, "the next heartbeat carries the commit index");
}

#[test]
fn section_5_4_2_a_follower_that_completes_a_quorum_with_the_leader_applies_without_being_told() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    // Only the append to node 2: the leader has not even heard its acknowledgement.
    let append = c.deliver_one().unwrap();
    assert_eq!(append.to, 2);
    let index = c.node(1).status().last_index;
    assert_eq!(c.node(1).status().commit, index - 1, "the leader does not know yet");
    assert_eq!(c.node(2).status().commit, index, "leader and node 2 hold it: a quorum of 3");
    assert_eq!(c.applied[&2].last(), Some(&(index, write(1, 1))));
    common::assert_durability_rule(&c);
}

#[test]
fn figure_8_a_follower_completing_a_quorum_infers_no_commit_from_an_older_term_entry() {
    // Node 1 holds 2@2 alone, wins term 3, and its append of 2@2 reaches node 2 before its
    // term-3 entry does: 2@2 is then on a quorum but, from an older term, not committed.
    let disks =
        BTreeMap::from([(1, disk(2, &[1, 2], 1)), (2, disk(2, &[1], 1)), (3, disk(2, &[1], 1))]);
    let mut c = Cluster::from_disks(vec![1, 2, 3], disks, |c| c);
    c.drop_if(Cluster::is_append);
    c.elect(1);
    c.heal();
    c.take_in_flight();
    let append =
        MessageBody::Append { prev_index: 1, prev_term: 1, commit: 1, entries: vec![entry(2, 2)] };
    c.inject(message(1, 2, 3, append));
    c.deliver_one();
    assert_eq!(c.log_terms(2), [1, 2]);
    assert_eq!(c.commit(2), 1, "2@2 alone proves nothing");
    c.run_for(100);
    assert_eq!(c.commit(2), 3, "the term-3 entry commits 2@2 with it");
}

/// The follower logs of Figure 7, each facing the leader of term 8 whose log is
/// `1 1 1 4 4 5 5 6 6 6`: every one ends up with exactly the leader's log.
#[test]
fn section_5_3_figure_7_every_follower_log_is_brought_in_line_with_the_leader() {
    let leader: &[Term] = &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    let followers: [(&str, &[Term]); 6] = [
        ("a", &[1, 1, 1, 4, 4, 5, 5, 6, 6]),
        ("b", &[1, 1, 1, 4]),
        ("c", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
        ("d", &[1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
        ("e", &[1, 1, 1, 4, 4, 4, 4]),
        ("f", &[1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
    ];
    for (name, follower) in followers {
        // Node 3 holds the leader's log, so 1 can win term 8 whatever the follower thinks.
        let follower_term = *follower.last().unwrap();
        let disks = BTreeMap::from([
            (1, disk(7, leader, 0)),
            (2, disk(follower_term, follower, 0)),
            (3, disk(7, leader, 0)),
        ]);
        let mut c = Cluster::from_disks(vec![1, 2, 3], disks, |c| c);
        c.elect(1);
        assert_eq!(c.term(1), 8, "case {name}");
        c.run_for(100);
        let mut expected = leader.to_vec();
        expected.push(8);
        assert_eq!(c.log_terms(2), expected, "case ({name})");
        assert_eq!(c.commit(2), 11, "case ({name})");
        let rejections = c
            .delivered
            .iter()
            .filter(|m| matches!(m.body, MessageBody::AppendRejected { .. }))
            .count();
        assert!(
            rejections <= 2,
            "case ({name}): backtracking by term needs few round trips, took {rejections}"
        );
    }
}

#[test]
fn section_5_3_many_proposals_travel_in_one_append_per_follower() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    for seq in 1..=100 {
        let now = c.now;
        c.node_mut(1).propose(now, req(1, seq), write(seq, seq)).unwrap();
    }
    c.settle();
    let appends: Vec<usize> = c.delivered[before..]
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::Append { entries, .. } if !entries.is_empty() => Some(entries.len()),
            _ => None,
        })
        .collect();
    assert_eq!(appends, [100, 100]);
    c.run_for(50);
    assert_eq!(c.applied[&3].len(), 100);
}

/// How many entries each non-empty append to `to` delivered since `c.delivered[since]` carried.
fn entries_per_append(c: &Cluster, since: usize, to: NodeId) -> Vec<usize> {
    c.delivered[since..]
        .iter()
        .filter(|m| m.to == to)
        .filter_map(|m| match &m.body {
            MessageBody::Append { entries, .. } if !entries.is_empty() => Some(entries.len()),
            _ => None,
        })
        .collect()
}

#[test]
fn section_5_3_proposals_made_while_an_append_is_in_flight_go_with_its_answer() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    let now = c.now;
    c.node_mut(1).propose(now, req(1, 1), write(1, 1)).unwrap();
    c.drain(1);
    // Two more proposals, one at a time, while the first append is still on its way.
    for seq in 2..=3 {
        c.node_mut(1).propose(now, req(1, seq), write(seq, seq)).unwrap();
        c.drain(1);
    }
    c.settle();
    let to_3 = entries_per_append(&c, before, 3);
    assert_eq!(to_3, [1, 2], "the two later entries wait for the first append's answer");
    c.run_for(50);
    assert_eq!(c.applied[&3].len(), 3);
}

#[test]
fn section_5_3_a_bursts_last_partial_append_does_not_wait_behind_full_ones() {
    let mut c = Cluster::with_config(3, |c| Config { max_entries_per_append: 4, ..c });
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    let now = c.now;
    for seq in 1..=10 {
        c.node_mut(1).propose(now, req(1, seq), write(seq, seq)).unwrap();
    }
    c.drain(1);
    // A lone proposal while the burst is on its way: it waits for the burst's partial append.
    c.node_mut(1).propose(now, req(1, 11), write(11, 11)).unwrap();
    c.drain(1);
    c.settle();
    let to_3 = entries_per_append(&c, before, 3);
    assert_eq!(to_3, [4, 4, 2, 1], "the burst's tail goes with it; the lone proposal waits");
    c.run_for(50);
    assert_eq!(c.applied[&3].len(), 11);
}

#[test]
fn section_5_3_appends_in_flight_to_a_follower_are_capped() {
    let mut c = Cluster::with_config(3, |c| Config {
        max_inflight_appends: 2,
        max_entries_per_append: 1,
        ..c
    });
    c.elect(1);
    c.run_for(100);
    // Follower 3 stops acknowledging: the leader may only have two appends outstanding to it.
    c.drop_if(|m| m.from == 3 && matches!(m.body, MessageBody::AppendAccepted { .. }));
    let before = c.delivered.len();
    for seq in 1..=10 {
        let now = c.now;
        c.node_mut(1).propose(now, req(1, seq), write(seq, seq)).unwrap();
        c.settle();
    }
    let to_3 = c.delivered[before..].iter().filter(|m| m.to == 3 && Cluster::is_append(m)).count();
    assert_eq!(to_3, 2);
    assert_eq!(c.applied[&1].len(), 10, "node 2 keeps the majority going");
    c.heal();
    c.run_for(200);
    assert_eq!(c.applied[&3].len(), 10, "node 3 catches up once it answers again");
}

#[test]
fn section_5_3_a_restarted_follower_catches_up() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.crash(3);
    for seq in 1..=5 {
        c.propose(1, req(1, seq), write(seq, seq)).unwrap();
        c.settle();
    }
    c.restart(3);
    c.run_for(200);
    assert_eq!(c.node(3).committed_state(), c.node(1).committed_state());
    assert_eq!(c.commit(3), c.commit(1));
}

// ---- 5.4 Safety ----

#[test]
fn section_5_4_1_a_voter_refuses_a_candidate_whose_log_is_less_up_to_date() {
    let disks = BTreeMap::from([
        (1, disk(2, &[1, 1], 0)),
        (2, disk(2, &[1, 2], 0)),
        (3, disk(2, &[1, 1, 1], 0)),
    ]);
    let mut c = Cluster::from_disks(vec![1, 2, 3], disks, |c| Config { pre_vote: false, ..c });
    c.campaign(1); // 2 has a newer last term, 3 a longer log: both refuse
    assert_eq!(c.role(1), Role::Follower);
    c.elect(2); // 2's last term is highest: 3 grants
}

#[test]
fn section_5_4_leader_completeness_committed_entries_survive_the_leader() {
    let mut c = Cluster::new(5);
    c.elect(1);
    for seq in 1..=3 {
        c.propose(1, req(1, seq), write(seq, seq)).unwrap();
    }
    c.settle();
    let committed = c.commit(1) as usize;
    let before = c.node(1).log()[..committed].to_vec();
    c.crash(1);
    let leader = c.run_until_leader(2_000);
    assert_eq!(c.node(leader).log()[..committed], before[..]);
}

#[test]
fn section_5_4_3_state_machine_safety_every_node_applies_the_same_sequence() {
    let mut c = Cluster::new(5);
    let mut seq = 0;
    for round in 0..6u64 {
        let leader = c.run_until_leader(3_000);
        for _ in 0..5 {
            seq += 1;
            let _ = c.propose(leader, req(1, seq), write(seq % 3, seq));
        }
        c.run_for(50);
        // Crash a different node each round, and bring back the previous one.
        let victim = round % 5 + 1;
        let previous = (round + 4) % 5 + 1;
        if !c.nodes.contains_key(&previous) {
            c.restart(previous);
        }
        c.crash(victim);
        c.run_for(400);
    }
    for id in 1..=5 {
        if !c.nodes.contains_key(&id) {
            c.restart(id);
        }
    }
    c.run_for(1_000);
    let reference = c.node(1).committed_state().clone();
    for id in 1..=5 {
        assert_eq!(c.node(id).committed_state(), &reference, "node {id}");
        // Each node's applied history, across restarts, is a replay of one and the same log.
        for (index, action) in &c.applied[&id] {
            let expected = c.applied[&1].iter().find(|(i, _)| i == index).map(|(_, a)| a);
            if let Some(expected) = expected {
                assert_eq!(action, expected, "node {id} index {index}");
            }
        }
    }
    assert!(reference.values.len() == 3, "progress was made: {reference:?}");
}

// ---- Figure 8: a leader cannot commit an older term's entry by counting replicas ----

/// The state of Figure 8 (c), about to happen: S1 (term 3 after hearing of S5's term) holds
/// `1@1 2@2`, S2 holds the same, S3 and S4 only `1@1`, S5 holds `1@1 2@3`.
fn figure_8_cluster() -> Cluster {
    let disks = BTreeMap::from([
        (1, disk(3, &[1, 2], 1)),
        (2, disk(2, &[1, 2], 1)),
        (3, disk(3, &[1], 1)),
        (4, disk(3, &[1], 1)),
        (5, disk(3, &[1, 3], 1)),
    ]);
    Cluster::from_disks(vec![1, 2, 3, 4, 5], disks, |c| Config { max_entries_per_append: 1, ..c })
}

/// (c): S1 wins term 4 and copies `2@2` to S3 (after S3 refuses the first probe), but S3
/// never gets S1's own entry `3@4`; S2, which already had `2@2`, takes `3@4`; S4 and S5 hear
/// nothing. Now `2@2` is on a majority (S1, S2, S3), and the leader knows it.
fn figure_8_c(c: &mut Cluster) {
    let mut first_probe_of_3 = true;
    c.drop_if(move |m| {
        let MessageBody::Append { entries, .. } = &m.body else { return false };
        match m.to {
            4 | 5 => true,
            3 if entries.iter().any(|e| e.term == 4) => !std::mem::take(&mut first_probe_of_3),
            _ => false,
        }
    });
    c.elect(1);
    assert_eq!(c.term(1), 4);
    assert_eq!(c.log_terms(2), [1, 2, 4]);
    assert_eq!(c.log_terms(3), [1, 2]);
}

#[test]
fn figure_8_an_older_term_entry_on_a_majority_is_not_committed_and_may_be_overwritten() {
    let mut c = figure_8_cluster();
    figure_8_c(&mut c);
    assert_eq!(c.commit(1), 1, "2@2 is on a majority but from an older term: not committed");
    // (d): S1 crashes and S2 is cut off; S5 (last term 3) can win with S3 and S4, and does.
    c.crash(1);
    c.heal();
    c.isolate(2);
    assert_eq!(c.run_until_leader(3_000), 5);
    c.heal();
    c.run_for(100);
    for id in 2..=5 {
        assert_eq!(c.log_terms(id)[..2], [1, 3], "node {id}");
        assert!(
            c.applied[&id].iter().all(|(_, a)| *a != write(0, 2)),
            "2@2 was never applied on {id}"
        );
    }
}

#[test]
fn figure_8_an_entry_of_the_leaders_term_commits_the_older_ones_with_it() {
    let mut c = figure_8_cluster();
    figure_8_c(&mut c);
    // (e): S1 gets its own term's entry to S2 and S3 as well: index 3 commits, and 2@2 with it.
    c.heal();
    c.isolate(4);
    c.isolate(5);
    c.run_for(100);
    assert_eq!(c.commit(1), 3);
    assert!(c.applied[&1].contains(&(2, write(0, 2))));
    // S5 can no longer win: a majority holds an entry of a newer term than its last.
    c.crash(1);
    c.heal();
    c.campaign(5);
    assert_ne!(c.role(5), Role::Leader);
}
