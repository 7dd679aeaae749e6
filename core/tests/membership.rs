//! Membership changes (thesis chapter 4): bootstrap and join, learners, single-server changes
//! one at a time, a leader removing itself, configurations in force on append (and reverted
//! with a replaced suffix), recovery after a restart, and the automatic policy growing a
//! cluster from 1 to 7 nodes and back under faults.
mod common;

use common::{req, write, Cluster};
use flotilla_core::{Change, Config, Event, MembershipError, Output, Role};

/// Runs the policy until it proposes nothing more, letting each change commit.
fn run_policy(
    c: &mut Cluster,
    announced: &[u64],
    departed: &[u64],
    dead_after: u64,
) -> Vec<Change> {
    let mut changes = Vec::new();
    for _ in 0..50 {
        c.run_for(60);
        match c.policy_step(announced, departed, dead_after) {
            Some(change) => changes.push(change),
            None if c.leader().is_some() => break,
            None => {}
        }
    }
    c.run_for(60);
    changes
}

#[test]
fn section_4_bootstrap_the_first_node_leads_alone_and_others_join_through_any_member() {
    let mut c = Cluster::bootstrap(1);
    assert_eq!(c.leader(), Some(1), "a one-node cluster elects itself at once");
    assert_eq!(c.voters(1), [1]);
    c.propose(1, req(1, 1), write(1, 10)).unwrap();
    for id in [2, 3] {
        c.spawn(id);
        assert!(c.node(id).membership().voters().is_empty());
        assert_eq!(c.node(id).status().role, Role::Follower);
    }
    let now = c.now;
    c.node_mut(2).request_join(now, 1);
    c.run_for(50);
    assert_eq!(c.learners(1), [2]);
    assert_eq!(c.learners(2), [2], "the learner received the log, configuration included");
    assert_eq!(c.node(2).committed_state().values.get(&1), Some(&10));
    // Node 3 asks node 2, a learner: it forwards the request to the leader.
    c.node_mut(3).request_join(now, 2);
    c.run_for(50);
    assert_eq!(c.learners(1), [2, 3]);
    let changes = run_policy(&mut c, &[], &[], 10_000);
    assert_eq!(changes, [Change::Promote(2), Change::Promote(3)]);
    for id in 1..=3 {
        assert_eq!(c.voters(id), [1, 2, 3], "node {id}");
    }
    c.propose(3, req(3, 1), write(2, 20)).unwrap();
    c.run_for(50);
    assert_eq!(c.node(1).committed_state().values.get(&2), Some(&20));
}

#[test]
fn section_4_1_a_learner_receives_the_log_but_never_votes_nor_counts_in_a_quorum() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.spawn(4);
    let now = c.now;
    assert!(c.node_mut(1).change_membership(now, Change::AddLearner(4)).is_ok());
    c.run_for(100);
    assert_eq!(c.node(4).status().commit, c.commit(1));
    // Without voters 2 and 3, leader 1 and learner 4 are not a quorum.
    c.isolate(2);
    c.isolate(3);
    c.propose(1, req(1, 1), write(1, 1)).unwrap();
    c.settle();
    assert_eq!(c.node(4).status().last_index, c.node(1).status().last_index, "replicated");
    assert!(c.commit(1) < c.node(1).status().last_index, "but not committed");
    // The learner does not campaign, however long it waits.
    c.heal();
    c.isolate(1);
    c.run_for(2_000);
    assert_ne!(c.role(4), Role::Leader);
    assert!(c.leader().is_some_and(|l| l == 2 || l == 3));
}

#[test]
fn section_4_1_one_change_at_a_time_and_only_after_committing_in_the_term() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let now = c.now;
    // Nothing commits while the followers are unreachable: the first change stays pending.
    c.isolate(1);
    let first = c.node_mut(1).change_membership(now, Change::AddLearner(4)).unwrap();
    let second = c.node_mut(1).change_membership(now, Change::AddLearner(5));
    assert_eq!(second, Err(MembershipError::ChangeInProgress { index: first }));
    assert_eq!(
        second.unwrap_err().to_string(),
        format!("the membership change at index {first} has not committed yet")
    );
    assert_eq!(
        c.node_mut(2).change_membership(now, Change::AddLearner(5)),
        Err(MembershipError::NotLeader { leader: Some(1) })
    );
    // A new leader whose no-op has not committed yet may not change the configuration.
    c.heal();
    c.isolate(1);
    c.drop_if(Cluster::is_append);
    let leader = c.run_until_leader_among(&[2, 3], 3_000);
    let now = c.now;
    assert_eq!(
        c.node_mut(leader).change_membership(now, Change::AddLearner(5)),
        Err(MembershipError::TermNotCommitted)
    );
    c.heal();
    c.isolate(1);
    c.run_for(100);
    assert!(c.node_mut(leader).change_membership(now, Change::AddLearner(5)).is_ok());
}

#[test]
fn section_4_2_2_a_leader_that_removes_itself_leads_until_the_removal_commits_then_steps_down() {
    let mut c = Cluster::new(3);
    c.elect(1);
    let now = c.now;
    c.cut(1, 2);
    c.cut(1, 3);
    c.node_mut(1).change_membership(now, Change::Remove(1)).unwrap();
    c.settle();
    assert_eq!(c.role(1), Role::Leader, "the removal has not committed");
    assert_eq!(c.voters(1), [2, 3], "but is in force");
    c.heal();
    c.run_for(100);
    assert_ne!(c.role(1), Role::Leader, "stepped down once committed");
    c.run_for(1_000);
    let leader = c.leader().expect("a new leader among 2 and 3");
    assert!(leader == 2 || leader == 3);
    assert_eq!(c.voters(leader), [2, 3]);
    assert_eq!(c.voters(1), [2, 3], "the removed leader knows it was removed");
    c.propose(leader, req(1, 1), write(1, 1)).unwrap();
    c.run_for(50);
    assert_eq!(c.node(leader).committed_state().values.get(&1), Some(&1));
    c.run_for(3_000);
    assert_ne!(c.role(1), Role::Leader, "a non-member never campaigns");
}

#[test]
fn section_4_1_a_configuration_is_in_force_once_appended_and_reverts_when_its_entry_is_replaced() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.run_for(10);
    // The change reaches no one: it is in force on the leader alone, uncommitted.
    c.isolate(1);
    let now = c.now;
    c.node_mut(1).change_membership(now, Change::AddLearner(4)).unwrap();
    c.settle();
    assert_eq!(c.learners(1), [4]);
    // The others elect a leader and write; healed, node 1's entry is replaced.
    let leader = c.run_until_leader_among(&[2, 3], 3_000);
    c.propose(leader, req(1, 1), write(1, 1)).unwrap();
    c.run_for(20);
    c.heal();
    c.run_for(200);
    assert!(c.learners(1).is_empty(), "the replaced entry's configuration is gone");
    assert_eq!(c.voters(1), [1, 2, 3]);
    assert_eq!(c.node(1).committed_state().values.get(&1), Some(&1));
}

#[test]
fn membership_is_recovered_from_the_log_after_a_restart() {
    let mut c = Cluster::bootstrap(1);
    c.spawn(2);
    let now = c.now;
    c.node_mut(2).request_join(now, 1);
    run_policy(&mut c, &[], &[], 10_000);
    assert_eq!(c.voters(2), [1, 2]);
    for id in [1, 2] {
        c.crash(id);
        c.restart(id);
    }
    assert_eq!(c.voters(1), [1, 2]);
    assert_eq!(c.voters(2), [1, 2]);
    c.run_until_leader(2_000);
}

#[test]
fn a_learner_that_is_behind_is_not_promoted() {
    let mut c = Cluster::with_config(3, |c| Config { max_entries_per_append: 4, ..c });
    c.elect(1);
    c.spawn(4);
    c.isolate(4);
    let now = c.now;
    c.node_mut(1).change_membership(now, Change::AddLearner(4)).unwrap();
    for seq in 1..=20 {
        c.propose(1, req(1, seq), write(1, seq)).unwrap();
    }
    c.run_for(50);
    let refused = c.node_mut(1).change_membership(now, Change::Promote(4));
    assert!(matches!(refused, Err(MembershipError::LearnerBehind { id: 4, match_index: 0, .. })));
    c.heal();
    c.run_for(100);
    assert!(c.node_mut(1).change_membership(now, Change::Promote(4)).is_ok());
}

#[test]
fn membership_changes_are_reported_as_events() {
    let mut c = Cluster::new(3);
    c.elect(1);
    c.spawn(4);
    let now = c.now;
    let index = c.node_mut(1).change_membership(now, Change::AddLearner(4)).unwrap();
    let mut seen = None;
    while let Some(output) = c.node_mut(1).poll_output() {
        if let Output::Event(Event::MembershipChanged { index, membership }) = output {
            seen = Some((index, membership.learners().to_vec()));
        }
    }
    assert_eq!(seen, Some((index, vec![4])));
}

#[test]
fn policy_grows_a_cluster_from_1_to_7_and_shrinks_it_back_to_1_under_faults() {
    let mut c = Cluster::bootstrap(1);
    let dead_after = 1_000;
    let mut seq = 0;
    let mut write_some = |c: &mut Cluster| {
        for _ in 0..5 {
            seq += 1;
            if let Some(leader) = c.leader() {
                let _ = c.propose(leader, req(1, seq), write(seq % 3, seq));
            }
        }
    };
    for id in 2..=7 {
        c.spawn(id);
        let announced = [id];
        run_policy(&mut c, &announced, &[], dead_after);
        write_some(&mut c);
        if id == 4 {
            // The leader crashes mid-growth; the others carry on, and it comes back.
            let leader = c.leader().unwrap();
            c.crash(leader);
            c.run_until_leader(3_000);
            c.restart(leader);
            run_policy(&mut c, &[], &[], dead_after);
        }
    }
    let leader = c.leader().unwrap();
    assert_eq!(c.voters(leader), [1, 2, 3, 4, 5, 6, 7]);
    // Shrink: 7 and 6 announce their departure; 5 and 4 die and are removed after dead_after.
    c.crash(7);
    c.crash(6);
    let changes = run_policy(&mut c, &[], &[6, 7], dead_after);
    assert_eq!(changes.len(), 2);
    c.crash(5);
    c.crash(4);
    // Long enough for a new leader (if the leader died) to miss them for `dead_after`.
    c.run_for(2 * dead_after);
    run_policy(&mut c, &[], &[], dead_after);
    write_some(&mut c);
    // Then down to a single node: a follower dies (a partitioned node counts as dead too),
    // then another announces its departure. (A 2-voter cluster that loses its leader cannot
    // elect another: the policy shrinks through followers.)
    let leader = c.leader().unwrap();
    let followers: Vec<u64> = c.voters(leader).into_iter().filter(|&v| v != leader).collect();
    assert_eq!(followers.len(), 2);
    c.isolate(followers[0]);
    c.run_for(dead_after + 100);
    run_policy(&mut c, &[], &[], dead_after);
    c.crash(followers[0]);
    c.heal();
    c.crash(followers[1]);
    run_policy(&mut c, &[], &[followers[1]], dead_after);
    assert_eq!(c.leader(), Some(leader));
    assert_eq!(c.voters(leader), [leader]);
    let before = c.node(leader).committed_state().clone();
    c.propose(leader, req(2, 1), write(9, 9)).unwrap();
    c.run_for(10);
    assert_eq!(c.node(leader).committed_state().values.get(&9), Some(&9));
    assert!(before.values.len() >= 3, "earlier writes survived: {before:?}");
}

#[test]
fn section_4_2_2_a_leader_that_removed_itself_and_lost_leadership_before_the_commit_finishes_it() {
    let mut c = Cluster::bootstrap(1);
    c.spawn(2);
    let now = c.now;
    c.node_mut(2).request_join(now, 1);
    run_policy(&mut c, &[], &[], 10_000);
    assert_eq!(c.voters(1), [1, 2]);
    // The removal reaches nobody, and CheckQuorum makes the leader step down.
    c.isolate(1);
    let now = c.now;
    c.node_mut(1).change_membership(now, Change::Remove(1)).unwrap();
    c.run_for(1_000);
    assert_ne!(c.role(1), Role::Leader);
    assert_eq!((c.voters(1), c.voters(2)), (vec![2], vec![1, 2]));
    // Node 2 cannot win without node 1's vote (node 1's log is longer); node 1 is not a voter
    // of its latest configuration, yet it must campaign to finish its own removal.
    c.heal();
    let leader = c.run_until_leader_among(&[2], 3_000);
    assert_eq!(c.voters(leader), [2]);
    assert_eq!(c.voters(1), [2]);
    c.run_for(3_000);
    assert_eq!(c.leader(), Some(2), "node 1 stays out");
}
