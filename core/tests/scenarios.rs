//! Scenario tests for the features beyond the basic algorithm: PreVote, CheckQuorum and the
//! leader lease, proposals at any node (forwarding and outcomes), deduplication of retried
//! requests, proposal timeouts, and the durability rule.
mod common;

use common::{assert_durability_rule, req, write, Cluster, Traced};
use flotilla_core::reducers::kv::{KvAction, KvOutput};
use flotilla_core::{Config, Message, MessageBody, Persist, ProposalError, Role};

// ---- PreVote ----

#[test]
fn prevote_a_partitioned_node_does_not_raise_its_term_nor_disrupt_on_return() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.term(1);
    c.isolate(3);
    c.run_for(3_000);
    assert_eq!(c.term(3), term, "pre-votes it cannot win leave its term alone");
    assert_eq!(c.role(3), Role::PreCandidate);
    c.heal();
    c.run_for(500);
    assert_eq!(c.leader(), Some(1));
    assert_eq!(c.term(1), term, "the leader was not disturbed");
    assert_eq!(c.role(3), Role::Follower);
}

#[test]
fn without_prevote_a_partitioned_node_raises_its_term_and_deposes_the_leader_on_return() {
    let mut c = Cluster::with_config(3, |c| Config { pre_vote: false, check_quorum: false, ..c });
    c.elect(1);
    let term = c.term(1);
    c.isolate(3);
    c.run_for(3_000);
    assert!(c.term(3) > term + 3);
    c.heal();
    c.run_for(100);
    assert!(c.term(1) > term, "the contrast PreVote exists for");
}

// ---- CheckQuorum and the lease ----

#[test]
fn check_quorum_an_isolated_leader_steps_down_within_an_election_timeout() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.isolate(1);
    c.run_for(2 * Config::new(1).election_timeout_min);
    assert_eq!(c.role(1), Role::Follower);
    assert_eq!(c.propose(1, req(1, 1), write(1, 1)), Err(ProposalError::NoLeader));
}

#[test]
fn check_quorum_a_leader_that_hears_a_majority_stays() {
    let mut c = Cluster::new(5);
    c.elect(1);
    c.isolate(4);
    c.isolate(5);
    c.run_for(2_000);
    assert_eq!(c.role(1), Role::Leader);
}

#[test]
fn lease_nodes_that_hear_from_a_leader_ignore_vote_requests() {
    let mut c = Cluster::with_config(3, |c| Config { pre_vote: false, ..c });
    c.elect(1);
    let term = c.term(1);
    // 3 campaigns without PreVote, and only 2 hears it: 2 is in its lease, so it ignores it.
    c.cut(1, 3);
    c.campaign(3);
    assert_eq!(c.term(3), term + 1);
    assert_eq!(c.term(2), term, "node 2 did not even adopt the higher term");
    assert_eq!(c.role(3), Role::Candidate);
    assert_eq!(c.node(2).status().leader, Some(1));
}

// ---- Proposals at any node ----

#[test]
fn forwarding_a_proposal_at_a_follower_commits_and_reports_to_the_proposer() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    c.settle();
    let index = c.node(1).status().last_index;
    assert_eq!(c.outcome(3, req(9, 1)), Some(Ok((index, KvOutput::Written))));
    assert_eq!(c.outcome(1, req(9, 1)), None, "only the proposer hears the outcome");
    c.run_for(50);
    assert_eq!(c.node(2).committed_state().values.get(&4), Some(&40));
}

#[test]
fn forwarding_a_follower_provisional_state_follows_appends_without_counting_its_own_twice() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    // Node 3's first proposal builds its provisional state; appends then keep it current.
    c.propose(3, req(9, 1), KvAction::Cas { key: 4, from: None, to: 1 }).unwrap();
    c.propose(1, req(1, 1), write(5, 50)).unwrap();
    c.settle();
    let provisional = c.node(3).provisional_state();
    assert_eq!(provisional.values.get(&5), Some(&50), "the leader's entry, appended here");
    assert_eq!(provisional.values.get(&4), Some(&1));
    // Its own entry came back in an append and was not counted again; once everything
    // committed, the state kept current append by append is the committed one.
    c.propose(3, req(9, 2), KvAction::Cas { key: 4, from: None, to: 2 }).unwrap();
    c.run_for(50);
    assert_eq!(c.node(3).committed_state().values.get(&4), Some(&1));
    assert_eq!(c.node(3).provisional_state(), c.node(3).committed_state().clone());
}

// ---- Commit notices ----

#[test]
fn commit_notice_a_forwarded_proposal_reaches_its_proposer_without_waiting_for_a_heartbeat() {
    // Five voters: the proposer and the leader alone are no quorum, so it must be told.
    let mut c = Cluster::new(5);
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    // No time passes: the leader tells the proposer of the commit at once.
    c.settle();
    assert!(c.outcome(3, req(9, 1)).is_some_and(|outcome| outcome.is_ok()));
    let to_proposer = c.delivered[before..]
        .iter()
        .filter(|m| m.to == 3 && matches!(m.body, MessageBody::Heartbeat { .. }))
        .count();
    assert_eq!(to_proposer, 1, "one commit notice, to the proposer only");
    assert_eq!(c.node(2).status().commit, c.node(2).status().commit.min(1));
}

#[test]
fn commit_notice_followers_waiting_for_nothing_learn_the_commit_with_the_next_append() {
    let mut c = Cluster::new(5);
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    let kinds: Vec<&str> = c.delivered[before..]
        .iter()
        .map(|m| match m.body {
            MessageBody::Append { .. } => "append",
            MessageBody::AppendAccepted { .. } => "accepted",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, [["append"; 4], ["accepted"; 4]].concat(), "two messages per follower");
    let first = c.node(1).status().commit;
    assert!(c.node(2).status().commit < first, "not told yet");
    c.propose(1, req(1, 2), write(2, 2)).unwrap();
    c.deliver_one();
    c.deliver_one();
    assert_eq!(c.node(2).status().commit, first, "the next append carries the commit index");
    assert_eq!(c.node(3).status().commit, first);
}

#[test]
fn commit_notice_none_when_the_proposer_and_the_leader_are_a_quorum() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(100);
    let before = c.delivered.len();
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    // The proposal to the leader, then the leader's append to the proposer (node 2's is
    // queued first): the proposer knows its entry committed from the append itself.
    assert_eq!(c.deliver_one().map(|m| m.to), Some(1));
    assert_eq!(c.deliver_one().map(|m| m.to), Some(2));
    assert_eq!(c.deliver_one().map(|m| m.to), Some(3));
    assert!(c.outcome(3, req(9, 1)).is_some_and(|outcome| outcome.is_ok()));
    c.settle();
    let kinds: Vec<&str> = c.delivered[before..]
        .iter()
        .map(|m| match m.body {
            MessageBody::Propose { .. } => "propose",
            MessageBody::Append { .. } => "append",
            MessageBody::AppendAccepted { .. } => "accepted",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["propose", "append", "append", "accepted", "accepted"], "no notice");
}

#[test]
fn forwarding_a_follower_sees_its_pending_proposal_in_the_provisional_state() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.cut(1, 3);
    c.propose(3, req(9, 1), write(4, 40)).unwrap();
    assert_eq!(c.node(3).provisional_state().values.get(&4), Some(&40));
    assert_eq!(c.node(3).committed_state().values.get(&4), None);
}

#[test]
fn forwarding_without_a_known_leader_fails_at_once_with_no_leader() {
    let mut c = Cluster::new(3);
    assert_eq!(c.propose(2, req(9, 1), write(1, 1)), Err(ProposalError::NoLeader));
}

#[test]
fn forwarding_a_proposal_lost_with_its_leader_is_reported_as_leader_changed() {
    let mut c = Cluster::new(3);
    c.elect(1);
    // The leader appends 3's proposal but crashes before it reaches anyone.
    c.drop_if(|m| m.from == 1 && Cluster::is_append(m));
    c.propose(3, req(9, 1), write(1, 1)).unwrap();
    c.settle();
    c.crash(1);
    c.heal();
    c.run_until_leader(2_000);
    c.run_for(100);
    assert_eq!(c.outcome(3, req(9, 1)), Some(Err(ProposalError::LeaderChanged)));
}

#[test]
fn forwarding_a_proposal_refused_by_a_former_leader_goes_to_the_next_one() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let term = c.term(1);
    // Leader 1 learns of a newer term and steps down; node 3 does not know yet.
    let nudge = Message {
        from: 2,
        to: 1,
        term: term + 1,
        body: MessageBody::HeartbeatResponse { round: 0 },
    };
    let now = c.now;
    c.node_mut(1).handle_message(now, nudge);
    c.drain(1);
    assert_eq!(c.node(3).status().leader, Some(1));
    c.propose(3, req(9, 1), write(1, 1)).unwrap();
    c.settle();
    assert_eq!(c.outcome(3, req(9, 1)), None, "refused, now waiting for a leader");
    c.elect(1); // node 3 grants; node 2 is still in its lease of the old term
    assert_eq!(c.outcome(3, req(9, 1)).unwrap().unwrap().1, KvOutput::Written);
}

#[test]
fn a_proposal_rejected_by_the_method_is_refused_at_once() {
    use flotilla_core::reducers::shared_log::{Post, SharedLog, SharedLogRejection};
    use flotilla_core::Node;
    let mut node = Node::<SharedLog>::new(Config::new(1), &[1], 7, 0);
    node.campaign(0);
    while node.poll_output().is_some() {}
    let empty = Post { author: "ada".into(), text: " ".into(), at: 0 };
    let result = node.propose(0, req(1, 1), empty);
    assert_eq!(result, Err(ProposalError::Rejected(SharedLogRejection::EmptyText)));
    assert_eq!(result.unwrap_err().to_string(), "the proposal was rejected: the post has no text");
}

#[test]
fn a_proposal_without_an_outcome_times_out() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.cut(1, 2);
    c.cut(1, 3);
    c.propose(1, req(9, 1), write(1, 1)).unwrap();
    c.run_for(Config::new(1).proposal_timeout + 10);
    assert_eq!(c.outcome(1, req(9, 1)), Some(Err(ProposalError::TimedOut)));
}

// ---- Deduplication ----

#[test]
fn dedup_a_request_retried_at_another_node_is_applied_once_with_one_outcome() {
    let mut c = Cluster::new(3);
    c.elect(1);
    // The same compare-and-set twice: applied twice, the second would fail.
    let cas = KvAction::Cas { key: 5, from: None, to: 1 };
    c.propose(1, req(9, 1), cas.clone()).unwrap();
    c.propose(3, req(9, 1), cas.clone()).unwrap();
    c.settle();
    let first = c.outcome(1, req(9, 1)).unwrap().unwrap();
    assert_eq!(first.1, KvOutput::Cas(true));
    assert_eq!(
        c.outcome(3, req(9, 1)),
        Some(Ok(first.clone())),
        "the retry gets the original outcome"
    );
    // The other follower learns the commit with the next heartbeat.
    c.run_for(50);
    for id in 1..=3 {
        let applied = c.applied[&id].iter().filter(|(_, a)| *a == cas).count();
        assert_eq!(applied, 1, "node {id} applied it once");
    }
    // A retry after the fact is answered from the session table.
    c.propose(2, req(9, 1), cas).unwrap();
    assert_eq!(c.outcome(2, req(9, 1)), Some(Ok(first)));
}

#[test]
fn dedup_survives_a_restart_because_the_log_is_replayed() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let cas = KvAction::Cas { key: 5, from: None, to: 1 };
    c.propose(1, req(9, 1), cas.clone()).unwrap();
    c.settle();
    let first = c.outcome(1, req(9, 1)).unwrap();
    c.crash(2);
    c.restart(2);
    c.run_for(100);
    c.propose(2, req(9, 1), cas).unwrap();
    assert_eq!(c.outcome(2, req(9, 1)), Some(first));
}

// ---- The durability rule ----

#[test]
fn durability_votes_and_acknowledgements_follow_the_writes_they_depend_on() {
    let mut c = Cluster::new(5);
    let mut seq = 0;
    for round in 0..8u64 {
        let leader = c.run_until_leader(3_000);
        for _ in 0..10 {
            seq += 1;
            let _ = c.propose(leader, req(1, seq), write(seq % 4, seq));
        }
        c.run_for(30);
        if round % 2 == 0 {
            c.crash(leader);
            c.run_for(400);
            c.restart(leader);
        }
    }
    c.run_for(500);
    assert!(c.node(1).committed_state().values.len() == 4);
    assert_durability_rule(&c);
}

#[test]
fn durability_the_acknowledgement_comes_after_the_entries_in_the_output_queue() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.deliver_one(); // the append to 2
    let trace = &c.traces[&2];
    let ack = trace.iter().rposition(
        |t| matches!(t, Traced::Send(m) if matches!(m.body, MessageBody::AppendAccepted { .. })),
    );
    let write = trace.iter().rposition(|t| matches!(t, Traced::Persist(Persist::Entries { .. })));
    assert!(write.unwrap() < ack.unwrap());
}

#[test]
fn durability_a_crash_before_persisting_sends_nothing_that_promised_it() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    // Node 2 handles the append, then dies before performing any output: its ack never
    // leaves, and after a restart it has nothing it acknowledged, so nothing is lost.
    for message in c.take_in_flight() {
        if message.to == 2 {
            let now = c.now;
            c.node_mut(2).handle_message(now, message);
        } else {
            c.inject(message);
        }
    }
    c.crash_now(2);
    assert!(c.disks[&2].entries.len() < 2, "the entry never reached node 2's disk");
    c.settle();
    c.restart(2);
    c.run_for(200);
    assert_eq!(c.node(2).committed_state().values.get(&1), Some(&1));
    assert_durability_rule(&c);
}
